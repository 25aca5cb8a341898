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
            "Is the declared caption text (AI + generation elements) present in the pixels?",
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
            "Is the C2PA manifest intact (Valid or Trusted), and is its signer trusted?",
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
        return result("M03", Outcome.PASS, f"{len(found)} label value(s) found")
    if require_label:
        return result("M03", Outcome.FAIL, "no AIGC metadata label in the file")
    return result("M03", Outcome.SKIP, "no AIGC metadata label in the file")


def check_json(found: list[Found]) -> CheckResult:
    problems = []
    for f in found:
        if f.parsed.error:
            problems.append(f"{_where(f)}: {f.parsed.error}")
        elif f.parsed.duplicate_keys:
            problems.append(f"{_where(f)}: duplicate keys {', '.join(f.parsed.duplicate_keys)}")
    if problems:
        return result("M04", Outcome.FAIL, "; ".join(problems))
    forms = sorted({f.parsed.form for f in found})
    return result("M04", Outcome.PASS, "JSON parses (" + ", ".join(forms) + " form)")


def check_key_name(found: list[Found]) -> CheckResult:
    fails, warns = [], []
    for f in found:
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
    return result("M05", Outcome.PASS, "field names: " + ", ".join(sorted({f.key for f in found})))


def check_keys(found: list[Found]) -> CheckResult:
    fails, warns = [], []
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
    if len(decoded) <= 1:
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


def run_text_checks(text: dict, label: dict | None) -> list[CheckResult]:
    """X-T1, X-T2 and W-T1 from the report's ``text_label`` object (see verify._text)."""
    out = [_explicit_text(text.get("explicit"), label)]
    sidecar = text.get("sidecar")
    if sidecar and sidecar.get("found"):
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


def _explicit_text(explicit: dict | None, label: dict | None) -> CheckResult:
    if explicit is None:
        return result("X-T1", Outcome.SKIP, "this format's visible text is not read "
                      "(metadata only)")  # fmt: skip
    if explicit.get("error"):
        return result("X-T1", Outcome.ERROR, f"cannot read the text: {explicit['error']}")
    if explicit.get("found"):
        hit = (explicit.get("hits") or [{}])[0]
        return result("X-T1", Outcome.PASS, f"explicit label at the {explicit.get('position')}: "
                      f"{hit.get('text', '')!r}")  # fmt: skip
    if explicit.get("middle"):
        message = ("an explicit label appears only in the middle (allowed at a suitable position; "
                   "start or end is the rule's usual place)")  # fmt: skip
        return result("X-T1", Outcome.WARN, message)
    misses = "; ".join(str(m.get("problem")) for m in explicit.get("near_misses") or [])
    message = "no explicit label at the start or end"
    if misses:
        message += f" (near misses: {misses})"
    # Absence is a failure only for text that declares itself AI-generated; otherwise it is the
    # verdict's job (not_found).
    return result("X-T1", Outcome.FAIL if label else Outcome.INFO, message,
                  severity=None if label else "I")  # fmt: skip


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
    report's ``c2pa`` object (see verify._c2pa). Absence is not a failure: it is discovery."""
    if not c2pa or not c2pa.get("present"):
        return [result("C01", Outcome.SKIP, "no C2PA manifest"),
                result("C02", Outcome.SKIP, "no C2PA manifest")]  # fmt: skip
    if c2pa.get("remote"):
        where = c2pa.get("remote_url") or "an unknown URL"
        message = f"remote manifest at {where} not fetched (offline verifier): not verified"
        return [result("C01", Outcome.WARN, message, severity="W"),
                result("C02", Outcome.SKIP, "remote manifest not fetched")]  # fmt: skip
    state, signer = c2pa.get("state"), c2pa.get("signer") or "unknown signer"
    codes = ", ".join(c2pa.get("failures") or []) or "no failure codes"
    if state == "Error":
        message = f"C2PA manifest could not be read: {c2pa.get('error')}"
        return [result("C01", Outcome.ERROR, message),
                result("C02", Outcome.SKIP, "manifest unreadable")]  # fmt: skip
    if state == "Invalid":
        valid = result("C01", Outcome.FAIL, f"C2PA manifest is Invalid (tampered or malformed): "
                       f"{codes}; signer {signer}")  # fmt: skip
    elif state == "Trusted":
        valid = result("C01", Outcome.PASS, f"C2PA manifest Trusted, signed by {signer}")
    else:
        anchors = "" if c2pa.get("trust_anchors") else " (no trust anchors given)"
        valid = result("C01", Outcome.WARN, f"C2PA manifest Valid (intact) but the signer {signer} "
                       f"is not trusted{anchors}: {codes}", severity="W")  # fmt: skip
    sources = ", ".join(c2pa.get("digital_source_types") or []) or "none"
    if state == "Invalid":
        declared = result("C02", Outcome.INFO, f"digitalSourceType {sources}, but the manifest is "
                          "Invalid: not to be relied on")  # fmt: skip
    elif c2pa.get("ai_declared"):
        declared = result("C02", Outcome.PASS, f"declares AI: digitalSourceType {sources}")
    else:
        message = f"does not declare AI (digitalSourceType: {sources})"
        declared = result("C02", Outcome.INFO, message)
    return [valid, declared]
