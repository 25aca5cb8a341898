"""Checks M01-M12 of GB 45438 §6.1 (spec/gb45438.md §6.1) and the C2PA (C01-C02) and
consistency (K01-K03, functions in consistency.py) checks, one function each.

Ids are append-only: never renumber, never reuse. Each check returns one :class:`CheckResult`;
the table :data:`CHECKS` documents the question, severity and clause of every id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..carriers import Found
from ..label import (
    FIELDS,
    LABEL_VALUES,
    REQUIRED_NONEMPTY,
    charset_problems,
    check_provider_code,
    has_control_chars,
)
from ..visible.wording import wording_problem
from ..xmp import TC260_NS
from .report import CheckResult, Outcome

if TYPE_CHECKING:
    from ..visible.inspect import CaptionEvidence


@dataclass(frozen=True)
class CheckSpec:
    id: str
    severity: str
    clause: str
    question: str


CHECKS: dict[str, CheckSpec] = {
    s.id: s
    for s in (
        CheckSpec(
            "M01",
            "-",
            "GB 45438 §6.1; Annex E",
            "Is the container recognised by its magic bytes and well-formed?",
        ),
        CheckSpec(
            "M02",
            "-",
            "TC260 practice guides (label locations)",
            "Were all label locations of the format scanned?",
        ),
        CheckSpec(
            "M03",
            "E",
            "Measures Art. 5; GB 45438 §6.1",
            "Does the file carry an AIGC metadata label?",
        ),
        CheckSpec(
            "M04",
            "E",
            "GB 45438 Annex E b)",
            "Is every label value JSON (wrapped or bare) without duplicate keys?",
        ),
        CheckSpec(
            "M05",
            "E",
            "GB 45438 Annex E a)",
            "Does the field name contain 'AIGC' (XMP: TC260 namespace)?",
        ),
        CheckSpec(
            "M06",
            "E",
            "GB 45438 Annex E c)-i)",
            "Are all seven keys present, exact case, required ones non-empty?",
        ),
        CheckSpec("M07", "E", "GB 45438 Annex E c)", 'Is Label one of the strings "1", "2", "3"?'),
        CheckSpec(
            "M08", "E", "GB 45438 Annex E j)", "Are the values within the Annex E character set?"
        ),
        CheckSpec("M09", "E", "GB 45438 §6.1 c)", "Is there exactly one label in the file?"),
        CheckSpec(
            "M10", "W", "TC260-PG-20252A", "Are ContentProducer/ContentPropagator PG-20252A codes?"
        ),
        CheckSpec(
            "M11",
            "W",
            "GB 45438 Annex E Note 1",
            "On first write, do the propagation elements equal the production ones?",
        ),
        CheckSpec(
            "X-I1",
            "E",
            "GB 45438 §5.2; Measures Art. 4(3)",
            "Is the explicit label (AI + generation elements) in the pixels: the caption "
            "aigc-tag declared, or, without a declaration, one that OCR reads?",
        ),
        CheckSpec(
            "X-I2",
            "W",
            "GB 45438 §5.2 (边或角)",
            "Does the caption sit at an edge or corner of the picture?",
        ),
        CheckSpec(
            "X-I3",
            "E",
            "GB 45438 §5.2",
            "Is the caption's glyph height at least 5 % of the shortest side?",
        ),
        CheckSpec(
            "X-I4",
            "W",
            "GB 45438 §5.2 (字型清晰可辨)",
            "Is the caption legible (glyph/box contrast at least 4.5:1)?",
        ),
        CheckSpec(
            "X-A1",
            "E",
            "GB 45438 §5.3; Measures Art. 4(2)",
            "Does the audio carry an audible label (voice prompt or the short-long-short-short "
            "rhythm), and is a declared one still there?",
        ),
        CheckSpec(
            "X-A2",
            "W",
            "GB 45438 §5.3 (起始、末尾或中间适当位置)",
            "Is the audible label at the start, the end or a suitable middle position?",
        ),
        CheckSpec(
            "X-T1",
            "E",
            "GB 45438 §5.1; Measures Art. 4(1)",
            "Does the text carry an explicit label (AI + generation elements) at its start or "
            "end?",
        ),
        CheckSpec(
            "X-T2",
            "W",
            "TC260-PG-20258A (plain text: sidecar label)",
            "Does the plain text's sidecar label describe these bytes (SHA-256)?",
        ),
        CheckSpec(
            "W-T1",
            "I",
            "Measures Art. 5 ¶2 (encouraged)",
            "Does the text carry aigc-tag's invisible mark, and does it agree with the label?",
        ),
        CheckSpec(
            "W-T2",
            "I",
            "Measures Art. 5 ¶2 (encouraged)",
            "Does the text carry the generation-time statistical watermark (green-list z >= 4, "
            "exact p <= 3e-5) for the given key and tokenizer?",
        ),
        CheckSpec(
            "W01",
            "I",
            "Measures Art. 5 ¶2 (encouraged); EU AI Act Art. 50(2)",
            "Does the content carry an invisible watermark (FPR <= 1e-6, CRC valid)?",
        ),
        CheckSpec(
            "W02",
            "W",
            "GB 45438 §6.1 c) (one consistent label); EU CoP 1.1",
            "Does the watermark payload agree with the metadata label (producer, ProduceID)?",
        ),
        CheckSpec(
            "M12",
            "W",
            "Measures Art. 6",
            "If Label is 2 or 3, are the propagation elements filled?",
        ),
        CheckSpec(
            "C01",
            "E",
            "EU AI Act Art. 50(2); EU CoP 1.1 (signed metadata)",
            "Is the C2PA manifest intact (no integrity finding), and is its signer trusted?",
        ),
        CheckSpec(
            "C02",
            "I",
            "EU AI Act Art. 50(2); C2PA digitalSourceType",
            "Does the C2PA manifest declare AI generation (trainedAlgorithmicMedia and kin)?",
        ),
        CheckSpec(
            "K01",
            "W",
            "EU CoP 1.1 (layers agree); Measures Art. 10",
            "Do the C2PA manifest and the other metadata agree on AI-generated vs captured?",
        ),
        CheckSpec(
            "K02",
            "W",
            "GB 45438 §6.1 c) (one consistent label); IPTC DigitalSourceType",
            "Does the IPTC DigitalSourceType in XMP agree with the AIGC label?",
        ),
        CheckSpec(
            "K03",
            "I",
            "Measures Art. 5; GB 45438 §6.1",
            "When C2PA or IPTC declare AI, does the file also carry the GB Annex E label?",
        ),
        CheckSpec(
            "X-V1",
            "E",
            "GB 45438 §5.4 (起始画面, 不少于2 s)",
            "Does the video's explicit label (read by OCR) stay on screen from the first frame "
            "for at least 2 s?",
        ),
    )
}


def result(
    check_id: str, outcome: Outcome, message: str, *, severity: str | None = None
) -> CheckResult:
    spec = CHECKS[check_id]
    return CheckResult(check_id, outcome, severity or spec.severity, spec.clause, message)


def _where(found: Found) -> str:
    return f"{found.location} ({found.key})"


def check_carrier(fmt: str | None, error: str | None) -> CheckResult:
    if error:
        return result("M01", Outcome.ERROR, error)
    return result("M01", Outcome.PASS, f"recognised as {fmt} by magic bytes")


def check_scanned(places: list[str], error: str | None) -> CheckResult:
    if error:
        return result("M02", Outcome.ERROR, f"scan stopped: {error}")
    return result("M02", Outcome.PASS, "scanned: " + ", ".join(places))


def check_present(found: list[Found], *, require_label: bool) -> CheckResult:
    if found:
        unreadable = sum(1 for f in found if f.error)
        extra = f" ({unreadable} unreadable, see M04)" if unreadable else ""
        return result("M03", Outcome.PASS, f"{len(found)} label value(s) found{extra}")
    if require_label:
        return result("M03", Outcome.FAIL, "no AIGC metadata label in the file")
    return result("M03", Outcome.SKIP, "no AIGC metadata label in the file")


def check_json(found: list[Found]) -> CheckResult:
    """M04; an unreadable site (truncated stream) is an error: its value is unknown, so the file
    can be neither passed nor failed. Site warnings (a bad chunk CRC) make a pass a warning."""
    unreadable = [f"{_where(f)}: {f.error}" for f in found if f.error]
    problems, notes = [], [f"{_where(f)}: {n}" for f in found for n in f.notes]
    for f in found:
        if f.error:
            continue
        if f.parsed.error:
            problems.append(f"{_where(f)}: {f.parsed.error}")
        elif f.parsed.duplicate_keys:
            problems.append(f"{_where(f)}: duplicate keys {', '.join(f.parsed.duplicate_keys)}")
    if unreadable:
        message = "label site unreadable, its value is unknown: " + "; ".join(unreadable + problems)
        return result("M04", Outcome.ERROR, message)
    if problems:
        return result("M04", Outcome.FAIL, "; ".join(problems + notes))
    forms = ", ".join(sorted({f.parsed.form for f in found}))
    if notes:
        message = f"JSON parses ({forms} form), but: " + "; ".join(notes)
        return result("M04", Outcome.WARN, message, severity="W")
    return result("M04", Outcome.PASS, f"JSON parses ({forms} form)")


def check_key_name(found: list[Found]) -> CheckResult:
    fails, warns = [], []
    readable = [f for f in found if not f.error]
    if not readable:
        return _not_decoded("M05", "field names")
    for f in readable:
        if "AIGC" not in _field_name(f):
            fails.append(f"{_where(f)}: field name lacks 'AIGC'")
        elif f.carrier == "xmp" and f.namespace != TC260_NS:
            warns.append(
                f"{_where(f)}: XMP namespace {f.namespace or 'unknown'!r} is not {TC260_NS}"
            )
    if fails:
        return result("M05", Outcome.FAIL, "; ".join(fails))
    if warns:
        return result("M05", Outcome.WARN, "; ".join(warns), severity="W")
    names = ", ".join(sorted({f.key for f in readable}))
    return result("M05", Outcome.PASS, f"field names: {names}")


def _not_decoded(check_id: str, what: str) -> CheckResult:
    """The honest outcome of a field check when no label value decoded: M04 already failed
    (or errored), and there is nothing here to check."""
    return result(check_id, Outcome.SKIP, f"no label value decoded (see M04): {what} not checked")


def check_keys(found: list[Found]) -> CheckResult:
    fails, warns = [], []
    if not _decoded(found):
        return _not_decoded("M06", "keys")
    for f in _decoded(found):
        fields = f.parsed.fields or {}
        renamed = [n for n in f.parsed.notes if n.startswith("key ")]
        fails += [f"{_where(f)}: {n} (keys are case-sensitive)" for n in renamed]
        for key in REQUIRED_NONEMPTY:
            if not fields.get(key):
                fails.append(f"{_where(f)}: {key} missing or empty")
        missing = [k for k in FIELDS if k not in fields and k not in REQUIRED_NONEMPTY]
        if missing:
            warns.append(f"{_where(f)}: keys missing: {', '.join(missing)}")
        if f.parsed.extra_keys:
            warns.append(f"{_where(f)}: unknown keys: {', '.join(f.parsed.extra_keys)}")
    if fails:
        return result("M06", Outcome.FAIL, "; ".join(fails + warns))
    if warns:
        return result("M06", Outcome.WARN, "; ".join(warns), severity="W")
    return result("M06", Outcome.PASS, "all seven Annex E keys present")


def _field_name(found: Found) -> str:
    """The name Annex E a) asks about: the key, or, for carriers without one (EXIF UserComment,
    loose blobs), the JSON wrapper key that names the value."""
    if found.carrier in ("exif-usercomment", "blob"):
        return (
            "AIGC"
            if found.parsed.form == "wrapped" or found.raw.lstrip().startswith("AIGC")
            else ""
        )
    return found.key.rsplit(":", 1)[-1].rsplit("}", 1)[-1]


def check_label_value(found: list[Found]) -> CheckResult:
    fails, warns = [], []
    if not _decoded(found):
        return _not_decoded("M07", "Label")
    for f in _decoded(found):
        value = (f.parsed.fields or {}).get("Label", "")
        if value not in LABEL_VALUES:
            fails.append(f"{_where(f)}: Label is {value!r}, not 1, 2 or 3")
        elif f.parsed.numeric_label:
            warns.append(f"{_where(f)}: Label is the number {value}, Annex E wants the string")
    if fails:
        return result("M07", Outcome.FAIL, "; ".join(fails))
    if warns:
        return result("M07", Outcome.WARN, "; ".join(warns), severity="W")
    values = sorted({(f.parsed.fields or {}).get("Label", "") for f in _decoded(found)})
    meaning = ", ".join(f"{v} ({LABEL_VALUES[v]})" for v in values)
    return result("M07", Outcome.PASS, f"Label = {meaning}")


def check_charset(found: list[Found]) -> CheckResult:
    fails, warns = [], []
    if not _decoded(found):
        return _not_decoded("M08", "character set")
    for f in _decoded(found):
        for key, value in (f.parsed.fields or {}).items():
            if has_control_chars(value):
                fails.append(f"{_where(f)}: {key} contains control characters")
            else:
                warns += [f"{_where(f)}: {key}: {p}" for p in charset_problems(value)]
    if fails:
        return result("M08", Outcome.FAIL, "; ".join(fails))
    if warns:
        return result("M08", Outcome.WARN, "; ".join(warns), severity="W")
    return result("M08", Outcome.PASS, "values use the Annex E j) character set")


def check_single(found: list[Found]) -> CheckResult:
    decoded = _decoded(found)
    if not decoded:
        return _not_decoded("M09", "label count")
    if len(decoded) == 1:
        return result("M09", Outcome.PASS, "exactly one label")
    places = ", ".join(_where(f) for f in decoded)
    distinct = {tuple(sorted((f.parsed.fields or {}).items())) for f in decoded}
    conflict = " and they disagree (conflict)" if len(distinct) > 1 else ""
    return result("M09", Outcome.FAIL, f"{len(decoded)} labels: {places}{conflict}")


def check_provider_codes(label: dict[str, str]) -> CheckResult:
    warns = []
    for key, role in (("ContentProducer", "producer"), ("ContentPropagator", "propagator")):
        value = label.get(key, "")
        if not value:
            continue
        if key == "ContentPropagator" and value == label.get("ContentProducer"):
            role = "producer"  # first write: the producer is its own propagator
        warns += [f"{key} {value!r}: {p}" for p in check_provider_code(value, role=role)]
    if warns:
        return result("M10", Outcome.WARN, "; ".join(warns))
    return result("M10", Outcome.PASS, "provider codes are well-formed PG-20252A codes")


def check_first_write(label: dict[str, str]) -> CheckResult:
    propagator, propagate_id = label.get("ContentPropagator", ""), label.get("PropagateID", "")
    if not propagator and not propagate_id:
        return result("M11", Outcome.WARN, "propagation elements are empty; on first write they "
                      "should equal ContentProducer/ProduceID")  # fmt: skip
    if propagator == label.get("ContentProducer") and propagate_id == label.get("ProduceID"):
        return result("M11", Outcome.PASS, "propagation elements equal the production elements")
    return result("M11", Outcome.INFO, "propagation elements differ: a platform has propagated it",
                  severity="I")  # fmt: skip


def check_propagation(label: dict[str, str]) -> CheckResult:
    if label.get("Label") not in ("2", "3"):
        return result("M12", Outcome.SKIP, "Label is not 2 or 3")
    if label.get("ContentPropagator") and label.get("PropagateID"):
        return result("M12", Outcome.PASS, "propagation elements are filled")
    return result("M12", Outcome.WARN, "Label 2/3 is a platform's finding, but ContentPropagator "
                  "or PropagateID is empty")  # fmt: skip


def run_caption_checks(evidence: CaptionEvidence) -> list[CheckResult]:
    """X-I1..X-I4 for a caption aigc-tag declared it drew (see visible/inspect.py)."""
    d = evidence.declared
    text = str(d.get("text", ""))
    problem = wording_problem(text)
    if problem:
        present = result("X-I1", Outcome.FAIL, f"declared caption {text!r}: {problem}")
    elif evidence.error:
        message = f"cannot confirm the caption: {evidence.error}"
        present = result("X-I1", Outcome.WARN, message, severity="W")
    elif evidence.found:
        message = f"caption {text!r} found at {d.get('box')} (match r = {evidence.match:.2f})"
        present = result("X-I1", Outcome.PASS, message)
    else:
        message = (
            f"declared caption {text!r} is not in the pixels at {d.get('box')} "
            f"(match r = {evidence.match:.2f}): removed or covered"
        )
        present = result("X-I1", Outcome.FAIL, message)
    return [present, _caption_edge(d), _caption_height(d), _caption_contrast(evidence)]


def _caption_edge(d: dict) -> CheckResult:
    try:
        (x0, y0, x1, y1), (w, h) = d["box"], d["image_size"]
    except (KeyError, TypeError, ValueError):
        return result("X-I2", Outcome.WARN, "caption declaration has no box")
    band = 0.15
    near = [x0 <= w * band, y0 <= h * band, x1 >= w * (1 - band), y1 >= h * (1 - band)]
    if any(near):
        return result("X-I2", Outcome.PASS, f"caption box {d['box']} touches an edge band")
    return result("X-I2", Outcome.WARN, f"caption box {d['box']} is not at an edge or corner")


def _caption_height(d: dict) -> CheckResult:
    try:
        px, side = float(d["glyph_height_px"]), float(min(d["image_size"]))
    except (KeyError, TypeError, ValueError):
        return result("X-I3", Outcome.WARN, "caption declaration has no glyph height", severity="W")
    ratio = px / side if side else 0.0
    message = f"glyph height {px:.0f} px = {ratio:.1%} of the shortest side {side:.0f} px"
    return result("X-I3", Outcome.PASS if ratio >= 0.05 else Outcome.FAIL, message)


def _caption_contrast(evidence: CaptionEvidence) -> CheckResult:
    if evidence.contrast is None:
        return result("X-I4", Outcome.SKIP, "contrast not measured")
    outcome = Outcome.PASS if evidence.contrast >= 4.5 else Outcome.WARN
    return result("X-I4", outcome, f"glyph/box contrast {evidence.contrast:.1f}:1")


#: OCR measures the glyph height on the pixels: below 5 % by less than this it is a warning
#: (measurement error on the OCR corpus, benchmarks/ocr.py), further below a failure.
OCR_HEIGHT_TOLERANCE = 0.005


def run_ocr_caption_checks(visible: dict, *, labelled: bool) -> list[CheckResult]:
    """X-I1..X-I4 (and X-V1 for video) on the explicit label OCR read (visible/ocr.py), for
    pictures where aigc-tag declared no caption. ``labelled``: the file has a metadata label.

    Nothing found is no failure: GB 45438 §5.2 and Measures Art. 4 require the explicit label
    only on content whose provider must show it (deep synthesis that may confuse or mislead),
    and OCR can miss stylised text. With a metadata label it is a warning; without one the
    picture declares nothing, and for a platform (Measures Art. 6) a missing explicit label is
    simply no evidence."""
    if visible.get("error"):
        return [result("X-I1", Outcome.SKIP, f"explicit label not read: {visible['error']}")]
    if not visible.get("found"):
        if labelled:
            message = ("no explicit label found by OCR although the file carries an AIGC "
                       "metadata label: GB 45438 §5.2 / Measures Art. 4 require a visible label "
                       "(AI + 生成/合成) where the content may confuse or mislead")  # fmt: skip
            out = [result("X-I1", Outcome.WARN, message, severity="W")]
        else:
            message = ("no explicit label found by OCR; the file declares nothing, so its "
                       "absence is no GB 45438 failure (for a platform, Measures Art. 6: no "
                       "evidence from the picture)")  # fmt: skip
            out = [result("X-I1", Outcome.INFO, message, severity="I")]
        if "duration_s" in visible:
            out.append(result("X-V1", Outcome.SKIP, "no explicit label on the opening frames"))
        return out
    message = (f"explicit label {visible.get('text')!r} read by OCR at the "
               f"{visible.get('position')} {visible.get('box')} (confidence "
               f"{visible.get('confidence')})")  # fmt: skip
    out = [result("X-I1", Outcome.PASS, message), _caption_edge(visible), _ocr_height(visible),
           _ocr_contrast(visible.get("contrast"))]  # fmt: skip
    if "duration_s" in visible:
        out.append(_video_duration(visible))
    return out


def _ocr_height(visible: dict) -> CheckResult:
    ratio, px = visible.get("glyph_height_ratio"), visible.get("glyph_height_px")
    if ratio is None:
        return result("X-I3", Outcome.WARN, "glyph height not measurable", severity="W")
    side = min(visible.get("image_size") or [0])
    message = f"measured glyph height {px} px = {ratio:.1%} of the shortest side {side} px"
    if ratio >= 0.05:
        return result("X-I3", Outcome.PASS, message)
    if ratio >= 0.05 - OCR_HEIGHT_TOLERANCE:
        return result("X-I3", Outcome.WARN, message + " (just below 5 %, within the OCR's "
                      "measurement error)", severity="W")  # fmt: skip
    return result("X-I3", Outcome.FAIL, message + " (below 5 %)")


def _ocr_contrast(contrast: float | None) -> CheckResult:
    if contrast is None:
        return result("X-I4", Outcome.SKIP, "contrast not measured")
    outcome = Outcome.PASS if contrast >= 4.5 else Outcome.WARN
    return result("X-I4", outcome, f"glyph/surround contrast {contrast:.1f}:1")


def _video_duration(visible: dict) -> CheckResult:
    """X-V1 from ``duration_s`` (a lower bound from sampled opening frames, see
    visible/ocr.py ``label_over_time``) and ``whole_video`` (shorter than 2 s, labelled
    throughout)."""
    seconds, frames = visible.get("duration_s") or 0.0, visible.get("frames") or []
    if frames and not frames[0].get("found"):
        first = next((f["t"] for f in frames if f.get("found")), None)
        return result("X-V1", Outcome.FAIL, f"the explicit label is not on the first frame (first "
                      f"read at {first} s): GB 45438 §5.4 wants it from the start")  # fmt: skip
    if seconds >= 2.0 - 1e-3:
        return result("X-V1", Outcome.PASS, f"explicit label on screen from the start for at "
                      f"least {seconds:.2f} s")  # fmt: skip
    if visible.get("whole_video"):
        return result("X-V1", Outcome.PASS, f"the video lasts {seconds:.2f} s and the explicit "
                      "label is on all of it")  # fmt: skip
    return result("X-V1", Outcome.FAIL, f"explicit label on screen for about {seconds:.2f} s from "
                  "the start: GB 45438 §5.4 wants at least 2 s")  # fmt: skip


def run_audible_checks(audible: dict) -> list[CheckResult]:
    """X-A1/X-A2 from the report's ``audible_label`` object (see verify._audible)."""
    declared, cues = audible.get("declared"), audible.get("rhythm") or []
    if audible.get("error"):
        return [result("X-A1", Outcome.ERROR, f"cannot decode the audio: {audible['error']}")]
    if declared is not None and not declared.get("found"):
        message = "the audible label aigc-tag declared is not where it was inserted: removed or cut"
        return [result("X-A1", Outcome.FAIL, message)]
    if declared is not None:
        kinds = ", ".join(sorted({str(p.get("kind")) for p in declared.get("placements", [])}))
        present = result("X-A1", Outcome.PASS, f"declared audible label ({kinds}) found in place")
    elif cues:
        first = cues[0]
        present = result("X-A1", Outcome.PASS, f"short-long-short-short rhythm cue at "
                         f"{first['start_s']:.2f} s ({first.get('gaps')} gaps)")  # fmt: skip
    else:
        message = ("no rhythm cue found; a spoken label cannot be checked automatically "
                   "(not checkable, not guessed)")  # fmt: skip
        return [result("X-A1", Outcome.SKIP, message)]
    return [present, _audible_position(audible)]


def _audible_position(audible: dict) -> CheckResult:
    seconds = float(audible.get("duration_s") or 0.0)
    spans = [(float(p["start_s"]), float(p["end_s"])) for p in _audible_spans(audible)]
    if not spans:
        return result("X-A2", Outcome.SKIP, "position unknown")
    edge = max(3.0, 0.05 * seconds)
    places = sorted({"start" if s <= edge else "end" if e >= seconds - edge else "middle"
                     for s, e in spans})  # fmt: skip
    if "start" in places or "end" in places:
        return result("X-A2", Outcome.PASS, f"audible label at the {' and '.join(places)}")
    return result("X-A2", Outcome.INFO, "audible label in the middle only (allowed at a suitable "
                  "middle position; start or end is the usual place)", severity="I")  # fmt: skip


def _audible_spans(audible: dict) -> list[dict]:
    declared = audible.get("declared")
    if declared and declared.get("found"):
        return list(declared.get("placements", []))
    return list(audible.get("rhythm") or [])


def run_text_checks(
    text: dict, label: dict | None, *, container: bool = True, required: bool = False
) -> list[CheckResult]:
    """X-T1, X-T2 and W-T1 from the report's ``text_label`` object (see verify._text).

    ``container`` is False for a format with no metadata place (plain text): there the explicit
    label is the label, so its absence fails when the text says it is AI-generated some other
    way (sidecar, invisible mark) or ``required`` (``--require-label``), and its presence
    without a sidecar warns (X-T2) that the Annex E record is missing."""
    marked = bool((text.get("invisible") or {}).get("found"))
    note = ""
    if container and not label:
        note = "; but no metadata label (M03): for this format the metadata label is still needed"
    declares = _text_declares(label, marked=marked and not container,
                              required=required and not container)  # fmt: skip
    explicit = _explicit_text(text.get("explicit"), declares, note)
    out = [explicit]
    sidecar = text.get("sidecar")
    if not container and not (sidecar and sidecar.get("found")):
        if explicit.outcome in (Outcome.PASS, Outcome.WARN):
            message = ("no sidecar label: the explicit label is this plain text's only label; "
                       "write the Annex E record to a sidecar (tag --sidecar) or use a format "
                       "with metadata (Markdown, HTML, DOCX, PDF)")  # fmt: skip
            out.append(result("X-T2", Outcome.WARN, message))
    elif sidecar and sidecar.get("found"):
        if sidecar.get("hash_ok"):
            out.append(result("X-T2", Outcome.PASS, "the sidecar's SHA-256 matches the file"))
        else:
            message = sidecar.get("error") or (
                "the sidecar's SHA-256 does not match the file: it was edited after labelling"
            )
            out.append(result("X-T2", Outcome.WARN, message))
    out.append(_invisible_text(text.get("invisible"), label))
    if text.get("statistical") is not None:
        out.append(_statistical(text["statistical"]))
    return out


def _statistical(found: dict) -> CheckResult:
    if found.get("error"):
        return result("W-T2", Outcome.ERROR, f"statistical watermark not checked: {found['error']}")
    summary = (f"z = {found.get('z_score')}, p = {found.get('p_value'):.1e} over "
               f"{found.get('num_scored')} scored tokens")  # fmt: skip
    if found.get("detected"):
        return result("W-T2", Outcome.PASS, f"generation-time watermark: {summary}")
    if found.get("status") == "inconclusive":
        return result("W-T2", Outcome.SKIP, f"too few tokens to tell: {summary}")
    return result("W-T2", Outcome.INFO, f"no generation-time watermark: {summary}")


def _text_declares(label: dict | None, *, marked: bool, required: bool) -> str | None:
    """Why a missing explicit label fails X-T1 ("" for a metadata label), or None when nothing
    says the text is AI-generated. ``marked``/``required`` count only for plain text."""
    if label:
        return ""
    if marked:
        return ": the invisible mark says the text was labelled as AI-generated"
    if required:
        return ": plain text's label is its explicit label (a label is required)"
    return None


def _explicit_text(explicit: dict | None, declares: str | None, note: str = "") -> CheckResult:
    """X-T1; ``declares`` is None when nothing says the text is AI-generated (absence is then
    the verdict's job), else why absence fails ("" for a metadata label); ``note`` is added to
    a finding (the metadata label it still lacks)."""
    if explicit is None:
        return result("X-T1", Outcome.SKIP, "this format's visible text is not read "
                      "(metadata only)")  # fmt: skip
    if explicit.get("error"):
        return result("X-T1", Outcome.ERROR, f"cannot read the text: {explicit['error']}")
    if explicit.get("found"):
        hit = (explicit.get("hits") or [{}])[0]
        return result("X-T1", Outcome.PASS, f"explicit label found at the "
                      f"{explicit.get('position')}: {hit.get('text', '')!r}{note}")  # fmt: skip
    if explicit.get("middle"):
        message = ("an explicit label appears only in the middle (allowed at a suitable position; "
                   f"start or end is the rule's usual place){note}")  # fmt: skip
        return result("X-T1", Outcome.WARN, message)
    misses = "; ".join(str(m.get("problem")) for m in explicit.get("near_misses") or [])
    message = "no explicit label at the start or end"
    if misses:
        message += f" (near misses: {misses})"
    # Absence is a failure only for text that declares itself AI-generated; otherwise it is the
    # verdict's job (not_found).
    if declares is None:
        return result("X-T1", Outcome.INFO, message, severity="I")
    return result("X-T1", Outcome.FAIL, message + declares)


def _invisible_text(invisible: dict | None, label: dict | None) -> CheckResult:
    if not invisible or not invisible.get("found"):
        return result("W-T1", Outcome.SKIP, "no invisible mark (absence proves nothing: GBK and "
                      "sanitisers remove it)")  # fmt: skip
    hexa = invisible.get("payload_hex")
    if label:
        from ..watermark.payload import Payload

        expected = Payload.for_label(label.get("ContentProducer", ""), label.get("ProduceID", ""))
        if expected.hex() != hexa:
            return result("W-T1", Outcome.WARN, f"invisible mark {hexa} does not match the label "
                          f"(expected {expected.hex()})", severity="W")  # fmt: skip
    return result("W-T1", Outcome.PASS, f"invisible mark {hexa} in {invisible.get('copies')} "
                  "copies")  # fmt: skip


def run_watermark_checks(mark: dict, label: dict | None) -> list[CheckResult]:
    """W01 (is there a mark) and W02 (does it agree with the metadata label)."""
    payload = mark.get("payload")
    if not payload:
        message = f"no watermark at FPR <= 1e-6 with the {mark.get('key')} key"
        return [result("W01", Outcome.INFO, message)]
    found = result(
        "W01",
        Outcome.PASS,
        f"watermark {payload['hex']} (score {mark['score']}, p = {mark['p_value']:.1e})",
    )
    if not label:
        note = "the metadata label is missing (stripped?): look the serial up in the ledger"
        return [found, result("W02", Outcome.WARN, note)]
    from ..watermark.payload import Payload

    expected = Payload.for_label(label.get("ContentProducer", ""), label.get("ProduceID", ""))
    if expected.hex() == payload["hex"]:
        return [found, result("W02", Outcome.PASS, "payload matches ContentProducer/ProduceID")]
    message = (
        f"payload {payload['hex']} does not match the label's producer/ProduceID "
        f"(expected {expected.hex()}): the label was changed or the mark belongs to other content"
    )
    return [found, result("W02", Outcome.WARN, message)]


def _decoded(found: list[Found]) -> list[Found]:
    return [f for f in found if f.parsed.fields is not None]


def run_label_checks(found: list[Found], *, require_label: bool) -> list[CheckResult]:
    """M03-M12 over the labels a carrier found (M01/M02 are decided by the caller)."""
    results = [check_present(found, require_label=require_label)]
    if not found:
        return results
    results += [check_json(found), check_key_name(found), check_keys(found)]
    results += [check_label_value(found), check_charset(found), check_single(found)]
    primary = primary_label(found)
    if primary is not None:
        fields = primary.parsed.fields or {}
        results += [check_provider_codes(fields), check_first_write(fields)]
        results.append(check_propagation(fields))
    return results


def primary_label(found: list[Found]) -> Found | None:
    """The label a reader should believe: the first decoded one in a normative place."""
    decoded = _decoded(found)
    normative = [f for f in decoded if f.normative]
    return (normative or decoded or [None])[0]


def run_c2pa_checks(c2pa: dict | None) -> list[CheckResult]:
    """C01 (is the manifest intact, is its signer trusted) and C02 (does it declare AI), from the
    report's ``c2pa`` object (see verify._c2pa). Absence is not a failure: it is discovery.

    Only integrity findings (``integrity_failures``: hash or signature mismatch, missing or
    malformed parts) fail C01; trust findings alone (``trust_failures``: untrusted, expired,
    revoked credential) are a warning and never make the verdict noncompliant."""
    if c2pa and c2pa.get("state") == "Error":
        message = f"C2PA manifest could not be read: {c2pa.get('error')}"
        if not c2pa.get("present"):  # e.g. a DASH segment alone, an encrypted PDF
            message = f"C2PA not checked: {c2pa.get('error')}"
        return [result("C01", Outcome.ERROR, message),
                result("C02", Outcome.SKIP, "manifest unreadable")]  # fmt: skip
    if c2pa and c2pa.get("stripped"):
        message = (f"XMP dcterms:provenance points to an embedded manifest "
                   f"({c2pa.get('stripped_reference')}) that is not in the file: a C2PA manifest "
                   "was stripped")  # fmt: skip
        return [result("C01", Outcome.WARN, message, severity="W"),
                result("C02", Outcome.SKIP, "no C2PA manifest (stripped)")]  # fmt: skip
    if not c2pa or not c2pa.get("present"):
        return [result("C01", Outcome.SKIP, "no C2PA manifest"),
                result("C02", Outcome.SKIP, "no C2PA manifest")]  # fmt: skip
    if c2pa.get("remote"):
        where = c2pa.get("remote_url") or "an unknown URL"
        message = f"remote manifest at {where} not fetched (offline verifier): not verified"
        return [result("C01", Outcome.WARN, message, severity="W"),
                result("C02", Outcome.SKIP, "remote manifest not fetched")]  # fmt: skip
    return [_c01_integrity_and_trust(c2pa), _c02_ai_declared(c2pa)]


def _c01_integrity_and_trust(c2pa: dict) -> CheckResult:
    state, signer = c2pa.get("state"), c2pa.get("signer") or "unknown signer"
    codes = ", ".join(c2pa.get("failures") or []) or "no failure codes"
    if state == "Trusted":
        return result("C01", Outcome.PASS, f"C2PA manifest Trusted, signed by {signer}")
    if state == "Invalid" and not _intact(c2pa):
        return result("C01", Outcome.FAIL, f"C2PA manifest is Invalid (tampered or malformed): "
                      f"{_integrity_codes(c2pa) or codes}; signer {signer}")  # fmt: skip
    anchors = "" if c2pa.get("trust_anchors") else " (no trust anchors given)"
    trust = ", ".join(c2pa.get("trust_failures") or []) or codes
    return result("C01", Outcome.WARN, f"C2PA manifest intact ({state}) but the signer {signer} "
                  f"is not trusted{anchors}: {trust} (a trust finding, not tampering)",
                  severity="W")  # fmt: skip


def _integrity_codes(c2pa: dict) -> str:
    """The integrity findings, those of ingredient manifests named as such."""
    own = set(c2pa.get("failures") or [])
    codes = [c if c in own else f"{c} (in an ingredient's manifest)"
             for c in c2pa.get("integrity_failures") or []]  # fmt: skip
    return ", ".join(codes)


def _intact(c2pa: dict) -> bool:
    if "intact" in c2pa:
        return bool(c2pa["intact"])
    return c2pa.get("state") in ("Trusted", "Valid")


def _c02_ai_declared(c2pa: dict) -> CheckResult:
    sources = ", ".join(c2pa.get("digital_source_types") or []) or "none"
    by_ingredient = c2pa.get("ai_declared_by") == "ingredient"
    if by_ingredient:
        ingredients = c2pa.get("ingredient_digital_source_types") or []
        sources = ", ".join(sorted({i["digital_source_type"] for i in ingredients}))
    where = " (in an ingredient manifest)" if by_ingredient else ""
    if not _intact(c2pa):
        return result("C02", Outcome.INFO, f"digitalSourceType {sources}{where}, but the manifest "
                      "is Invalid: not to be relied on")  # fmt: skip
    if c2pa.get("ai_declared"):
        return result("C02", Outcome.PASS, f"declares AI{where}: digitalSourceType {sources}")
    return result("C02", Outcome.INFO, f"does not declare AI (digitalSourceType: {sources})")
