"""The verifier: read every layer of a file back and judge it clause by clause."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from ..carriers import Carrier, Found, sniff_content
from ..errors import AigcTagError, LimitExceeded
from ..fileio import MAX_INPUT_BYTES, read_input
from .checks import (
    CHECKS,
    check_carrier,
    check_scanned,
    primary_label,
    result,
    run_audible_checks,
    run_c2pa_checks,
    run_caption_checks,
    run_label_checks,
    run_ocr_caption_checks,
    run_text_checks,
    run_watermark_checks,
)
from .consistency import run_consistency_checks
from .report import CheckResult, Outcome, Report, Verdict, compose_verdict, exit_code_for

if TYPE_CHECKING:
    from PIL import Image

    from ..watermark.keys import WatermarkKey

__all__ = [
    "CHECKS",
    "CheckResult",
    "Outcome",
    "Report",
    "Verdict",
    "exit_code_for",
    "failed_report",
    "verify",
    "verify_bytes",
]

#: Files above this size are refused before reading (configurable per call).
MAX_FILE_BYTES = MAX_INPUT_BYTES


def verify(
    path: str | os.PathLike[str],
    *,
    require_label: bool = False,
    trust_anchors_pem: str | None = None,
    max_bytes: int = MAX_FILE_BYTES,
    watermark: bool = True,
    watermark_key: WatermarkKey | None = None,
    thorough: bool = False,
    tokenizer: object | None = None,
    ocr: bool = True,
) -> Report:
    """Verify one file. I/O problems are reported in ``Report.error``, never raised."""
    path = Path(path)
    try:
        data = read_input(path, max_bytes=max_bytes)
    except LimitExceeded as exc:
        return _fail_report(Report(path=str(path)), f"{path}: {exc}")
    except OSError as exc:
        return Report(path=str(path), error=f"cannot read: {exc.strerror or exc}")
    return verify_bytes(
        data,
        name=str(path),
        require_label=require_label,
        trust_anchors_pem=trust_anchors_pem,
        watermark=watermark,
        watermark_key=watermark_key,
        thorough=thorough,
        source_path=path,
        tokenizer=tokenizer,
        ocr=ocr,
    )


def verify_bytes(
    data: bytes,
    *,
    name: str = "<bytes>",
    require_label: bool = False,
    trust_anchors_pem: str | None = None,
    c2pa: bool = True,
    watermark: bool = True,
    watermark_key: WatermarkKey | None = None,
    thorough: bool = False,
    source_path: str | os.PathLike[str] | None = None,
    tokenizer: object | None = None,
    ocr: bool = True,
) -> Report:
    """Verify in-memory file bytes; ``require_label`` makes a missing label a failure (M03).

    ``c2pa=False`` skips the C2PA manifest; ``watermark=False`` skips the (slower) watermark
    search; ``watermark_key`` reads a private mark instead of the public one; ``thorough`` adds
    the audio watermark's replay-speed search (±5 %); ``source_path`` is where the bytes came
    from (plain text: its sidecar label is read from beside it); ``ocr=False`` skips reading
    an explicit label that aigc-tag did not declare (images, video: visible/ocr.py).

    Never raises for a file: an unexpected exception (a bug, a native library failing on
    hostile input, memory exhausted) becomes an ``inconclusive`` report naming it, so one file
    cannot end a batch."""
    options = dict(require_label=require_label, trust_anchors_pem=trust_anchors_pem, c2pa=c2pa,
                   watermark=watermark, watermark_key=watermark_key, thorough=thorough,
                   source_path=source_path, tokenizer=tokenizer, ocr=ocr)  # fmt: skip
    try:
        return _verify_bytes(data, name, **options)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - the per-file safety net
        message = f"{name}: internal error while verifying: {type(exc).__name__}: {exc}"
        return _fail_report(Report(path=name), message.splitlines()[0][:500])


def _verify_bytes(
    data: bytes,
    name: str,
    *,
    require_label: bool,
    trust_anchors_pem: str | None,
    c2pa: bool,
    watermark: bool,
    watermark_key: WatermarkKey | None,
    thorough: bool,
    source_path: str | os.PathLike[str] | None,
    tokenizer: object | None,
    ocr: bool,
) -> Report:
    report = Report(path=name)
    try:
        carrier = sniff_content(data, name=name)
    except AigcTagError as exc:
        return _fail_report(report, str(exc))
    report.media_type, report.format = carrier.media_type, carrier.name
    sidecar: dict | None = None
    try:
        found = carrier.read_labels(data)
        if carrier.name == "m4s":
            found += _init_segment_labels(source_path)
        if carrier.name == "txt":
            sidecar, from_sidecar = _sidecar(source_path)
            found += from_sidecar
    except AigcTagError as exc:
        report.checks = [check_carrier(carrier.name, None), check_scanned([], str(exc))]
        if c2pa:  # still say what can be said of the manifest (an encrypted PDF: "cannot check")
            report.c2pa = _c2pa(carrier, data, trust_anchors_pem, None, _c2pa_sidecar(source_path),
                                source_path=source_path)  # fmt: skip
            report.checks += run_c2pa_checks(report.c2pa)
        report.verdict = compose_verdict(report.checks, label_decoded=False)
        return report
    report.checks = [check_carrier(carrier.name, None), check_scanned(_places(carrier), None)]
    container = carrier.name not in NO_METADATA_CONTAINER
    report.checks += run_label_checks(found, require_label=require_label and container)
    report.labels = [_label_json(f) for f in found]
    primary = primary_label(found)
    if primary is not None:
        report.metadata_label = {**(primary.parsed.fields or {}), "carrier": primary.location}
    packet = _xmp_packet(carrier, data)
    raster = carrier.media_type == "image" and carrier.name != "svg"  # SVG: vector, no pixels
    pixels = _Pixels(data) if raster else None
    if carrier.name == "svg":
        _vector_visible(report, carrier, data, packet)
    if pixels is not None:
        _visible(report, pixels, packet, ocr=ocr)
        if watermark:
            _watermark(report, pixels, watermark_key)
    if carrier.media_type == "audio":
        _audio(report, carrier, data, watermark_key if watermark else False, thorough)
    if carrier.media_type == "video" and carrier.name != "m4s":  # a lone segment cannot decode
        from ..video import verify_video

        extras = _extras(carrier, data)
        verify_video(report, carrier, data, extras, watermark=watermark, key=watermark_key,
                     ocr=ocr)  # fmt: skip
    if carrier.media_type == "text":
        report.text_label = _text(carrier, data, name, sidecar)
        if tokenizer is not None and carrier.name in ("txt", "markdown"):
            report.text_label["statistical"] = _statistical(data, name, tokenizer, watermark_key)
        report.checks += run_text_checks(
            report.text_label, report.metadata_label, container=container, required=require_label
        )
    if c2pa:
        report.c2pa = _c2pa(carrier, data, trust_anchors_pem, packet, _c2pa_sidecar(source_path),
                            source_path=source_path)  # fmt: skip
        report.checks += run_c2pa_checks(report.c2pa)
    from .evidence import add_traces, collect

    report.evidence = collect(
        carrier, data, xmp_packet=packet, c2pa=report.c2pa, label=report.metadata_label
    )
    report.checks += run_consistency_checks(report.metadata_label, report.c2pa, report.evidence)
    add_traces(report, pixels, search=watermark)  # the SD mark and evidence["traces"] (Art. 6)
    report.verdict = compose_verdict(
        report.checks,
        label_decoded=primary is not None,
        explicit_is_label=not container and _explicit_present(report.checks),
    )
    return report


def _init_segment_labels(source_path: str | os.PathLike[str] | None) -> list[Found]:
    """A DASH media segment's label lives in its init segment's ``moov``: read it from the init
    segment beside the file (the one C2PA validation also uses), named as such in the report."""
    import dataclasses

    from ..carriers.isobmff import MP4_CARRIER
    from ..provenance.c2pa_read import find_init_segment

    init = find_init_segment(source_path) if source_path is not None else None
    try:
        if init is None or init.stat().st_size > 16 * 1024**2:  # an init segment is a few kB
            return []
        found = MP4_CARRIER.read_labels(init.read_bytes())
    except (OSError, AigcTagError):
        return []
    return [dataclasses.replace(f, location=f"{init.name} (init segment): {f.location}")
            for f in found]  # fmt: skip


#: Formats whose files have no place for metadata (the Annex E record can only go to a sidecar):
#: there the explicit label stands for the label (docs/report-schema.md, *Verdict semantics*).
NO_METADATA_CONTAINER = frozenset({"txt"})


def _explicit_present(checks: list[CheckResult]) -> bool:
    """X-T1 found the explicit label (at the start or end, or only in the middle: a warning)."""
    return any(c.id == "X-T1" and c.outcome in (Outcome.PASS, Outcome.WARN) for c in checks)


def failed_report(path: str, message: str) -> Report:
    """An ``inconclusive`` report for a file that could not be checked at all (its worker
    crashed or ran out of time), naming why in its one check."""
    return _fail_report(Report(path=path), message)


def _fail_report(report: Report, message: str) -> Report:
    report.checks = [check_carrier(None, message)]
    report.verdict = Verdict.INCONCLUSIVE
    return report


def _places(carrier: Carrier) -> list[str]:
    return list(carrier.label_places)


def _label_json(found: Found) -> dict:
    parsed = found.parsed
    return {
        **found.to_json(),
        "fields": parsed.fields,
        "strict": parsed.strict,
        "lenient_notes": parsed.notes,
        "parse_error": parsed.error,
        "raw": found.raw if len(found.raw) <= 4096 else found.raw[:4096] + "…",
    }


def _xmp_packet(carrier: Carrier, data: bytes) -> bytes | None:
    try:
        return carrier.read_xmp(data)
    except AigcTagError:
        return None


class _Pixels:
    """The decoded picture, decoded once and only if a pixel check asks for it."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self._shown: Image.Image | None = None
        self.error: str | None = None

    def shown(self) -> Image.Image | None:
        if self._shown is None and self.error is None:
            from ..imaging import open_display

            try:
                self._shown = open_display(self.data)
            except AigcTagError as exc:
                self.error = str(exc)
        return self._shown


def _visible(report: Report, pixels: _Pixels, packet: bytes | None, *, ocr: bool = True) -> None:
    """The explicit label: the caption aigc-tag declared it drew, checked exactly against its
    declaration; otherwise (``ocr``) whatever label OCR reads (visible/ocr.py)."""
    from .. import xmp
    from ..visible.inspect import CaptionEvidence, inspect_declared_caption

    declared = xmp.aigctag_properties(packet).get("Caption") if packet else None
    if not declared:
        if ocr:
            _ocr_visible(report, pixels)
        return
    shown = pixels.shown()
    if shown is None:
        evidence = CaptionEvidence({}, error=pixels.error)
    else:
        evidence = inspect_declared_caption(shown, declared)
    report.visible_label = {**evidence.to_json(), "source": "declared", "found": evidence.found}
    checks = run_caption_checks(evidence)
    if shown is None:  # the pixels did not decode: a parser failed, so the file is inconclusive
        message = f"cannot decode the pixels to check the caption: {pixels.error}"
        checks[0] = result("X-I1", Outcome.ERROR, message)
    report.checks += checks


def _vector_visible(report: Report, carrier: Carrier, data: bytes, packet: bytes | None) -> None:
    """SVG: the explicit label is a ``<text>`` element, read from the document (its geometry from
    its attributes); X-I1..X-I4 as for a declared raster caption. A caption declared in XMP but
    gone from the drawing fails X-I1."""
    from .. import xmp
    from ..visible.inspect import CaptionEvidence

    drawn = carrier.read_caption(data)  # type: ignore[attr-defined]
    declared = xmp.aigctag_properties(packet).get("Caption") if packet else None
    if drawn is None and not declared:
        report.visible_label = {"found": False, "source": "svg-text"}
        return
    try:
        geometry = drawn or json.loads(declared or "{}")
    except ValueError:
        geometry = {}
    size = tuple(geometry.get("image_size") or ()) or None
    contrast = (drawn or {}).get("contrast")
    match = 1.0 if drawn else 0.0  # found as an element, or removed from the drawing
    evidence = CaptionEvidence(geometry, size, True, match, contrast)  # type: ignore[arg-type]
    source = "declared" if declared else "svg-text"
    report.visible_label = {**evidence.to_json(), "found": drawn is not None, "source": source,
                            "checked_on": "the SVG document (<text> element)"}  # fmt: skip
    report.checks += run_caption_checks(evidence)


def _ocr_visible(report: Report, pixels: _Pixels) -> None:
    """``visible_label`` and X-I1..X-I4 from OCR, for every image without a declared caption."""
    from ..visible.ocr import find_label

    shown = pixels.shown()
    if shown is None:
        found = {"found": False, "source": "ocr", "error": f"cannot decode pixels: {pixels.error}"}
    else:
        found = find_label(shown).to_json()
    report.visible_label = found
    report.checks += run_ocr_caption_checks(found, labelled=report.metadata_label is not None)


def _watermark(report: Report, pixels: _Pixels, key: WatermarkKey | None) -> None:
    """The invisible mark: detected at FPR <= 1e-6 with a valid CRC, and whether it agrees."""
    from ..watermark import layer

    shown = pixels.shown()
    if shown is None:
        report.checks.append(result("W01", Outcome.ERROR, f"cannot decode pixels: {pixels.error}"))
        return
    detection = layer.read_mark(shown, key)
    report.watermark = layer.report(detection, key)
    report.checks += run_watermark_checks(report.watermark, report.metadata_label)


def _sidecar(path: str | os.PathLike[str] | None) -> tuple[dict | None, list[Found]]:
    """A plain text's sidecar label (``file.txt.aigc.json``) as evidence and as a Found."""
    if path is None:
        return None, []
    from ..carriers import found_from_value
    from ..text import read_sidecar

    evidence = read_sidecar(path)
    if not evidence.found or evidence.fields is None:
        return evidence.to_json(), []
    raw = json.dumps({"AIGC": evidence.fields}, ensure_ascii=False)
    found = found_from_value(raw, carrier="sidecar", location=Path(evidence.path).name, key="AIGC")
    return evidence.to_json(), [found]


def _text(carrier: Carrier, data: bytes, name: str, sidecar: dict | None) -> dict:
    """The explicit label and the invisible mark, on the text a reader sees."""
    from ..document import visible_text
    from ..text import check_explicit, read_mark

    out: dict = {"explicit": None, "invisible": None, "sidecar": sidecar}
    try:
        shown = visible_text(data, carrier, name)
    except AigcTagError as exc:
        out["explicit"] = {"error": str(exc)}
        return out
    out["explicit"] = check_explicit(shown).to_json()
    out["invisible"] = read_mark(shown).to_json()
    return out


def _statistical(data: bytes, name: str, tokenizer: object, key: WatermarkKey | None) -> dict:
    """The KGW green-list test on the generated words only: our own label lines and invisible
    mark were not generated, and would change the tokens (see aigc_tag/llm)."""
    from ..llm import detect_text
    from ..text import decode_text, strip_mark
    from ..text.explicit import is_label_line

    try:
        text = strip_mark(decode_text(data, name).text)
        kept = [line for line in text.splitlines(keepends=True) if not is_label_line(line)]
        return detect_text("".join(kept).strip(), tokenizer, key).to_json()
    except (AigcTagError, ImportError, ValueError) as exc:
        return {"error": str(exc)}


def _extras(carrier: Carrier, data: bytes) -> dict[str, str]:
    """aigc-tag's own declarations (what it inserted), from the carrier's place for them."""
    reader = getattr(carrier, "read_extras", None)
    if reader is None:
        from .. import xmp

        packet = _xmp_packet(carrier, data)
        return xmp.aigctag_properties(packet) if packet else {}
    try:
        return reader(data)
    except AigcTagError:
        return {}


def _audio(
    report: Report,
    carrier: Carrier,
    data: bytes,
    key: WatermarkKey | None | bool,
    thorough: bool,
) -> None:
    """The audible label (declared cue or any rhythm cue) and the audio watermark."""
    from .. import audio_io

    try:
        decoded = audio_io.decode(data, carrier)
    except AigcTagError as exc:
        report.audible_label = {"error": str(exc)}
        report.checks += run_audible_checks(report.audible_label)
        if key is not False:
            report.checks.append(result("W01", Outcome.ERROR, f"cannot decode the audio: {exc}"))
        return
    report.audible_label = _audible(decoded, _extras(carrier, data))
    report.checks += run_audible_checks(report.audible_label)
    if key is not False:
        from ..watermark import layer
        from ..watermark.audio import detect

        rate = decoded.stream.sample_rate
        detection = detect(decoded.samples, rate, key=key or None, thorough=thorough)
        report.watermark = layer.report(detection, key or None)
        report.checks += run_watermark_checks(report.watermark, report.metadata_label)


def _audible(decoded, extras: dict[str, str]) -> dict:  # noqa: ANN001 - audio_io.Decoded
    import json

    from ..audible import AudiblePlacement, check_declared, detect_rhythm

    rate = decoded.stream.sample_rate
    out: dict = {
        "duration_s": round(decoded.seconds, 3),
        "rhythm": [_finding_json(f) for f in detect_rhythm(decoded.samples, rate)],
        "declared": None,
        "speech": "not checkable (only cues aigc-tag declared are checked exactly)",
    }
    try:
        placements = [AudiblePlacement.from_json(p) for p in json.loads(extras["Audible"])]
    except (KeyError, ValueError, TypeError, AttributeError):
        return out
    evidence = check_declared(decoded.samples, rate, placements)
    out["declared"] = evidence.to_json()
    return out


def _finding_json(finding) -> dict:  # noqa: ANN001 - audible.RhythmFinding
    if hasattr(finding, "to_json"):
        return finding.to_json()
    from dataclasses import asdict

    return asdict(finding)


def _c2pa_sidecar(path: str | os.PathLike[str] | None) -> bytes | None:
    """A detached manifest store ``FILE.c2pa`` beside the file, when there is one."""
    if path is None:
        return None
    side = Path(os.fspath(path) + ".c2pa")
    try:
        return side.read_bytes() if side.stat().st_size <= 16 * 1024**2 else None
    except OSError:
        return None


def _c2pa(
    carrier: Carrier,
    data: bytes,
    anchors: str | None,
    packet: bytes | None,
    sidecar: bytes | None = None,
    *,
    source_path: str | os.PathLike[str] | None = None,
) -> dict:
    """The report's ``c2pa`` object: always the same keys (docs/report-schema.md).

    State and ``failures`` are c2pa-python's Reader's; ``trust_failures`` (expired, untrusted,
    revoked credential) are kept apart from ``integrity_failures`` (hash or signature
    mismatch), and a manifest with trust findings only is ``intact``. A remote manifest (an
    http(s) ``dcterms:provenance`` or the SDK's "Remote:" error) is reported with its URL and
    never fetched; a ``self#jumbf`` reference without a manifest means the manifest was
    stripped. Any failure of the native SDK on a present manifest becomes state ``Error`` (C01
    error: inconclusive), never an exception. A DASH media segment is read with the init
    segment found beside ``source_path``.
    """
    from ..provenance import c2pa_read

    out: dict = {
        "present": False,
        "state": None,
        "trust": "n.a.",
        "trusted": False,
        "intact": False,
        "failures": [],
        "trust_failures": [],
        "integrity_failures": [],
        "ingredient_failures": [],
        "signer": None,
        "claim_generator": None,
        "digital_source_types": [],
        "ingredient_digital_source_types": [],
        "ai_declared": None,
        "ai_declared_by": None,
        "remote": False,
        "remote_url": None,
        "stripped": False,
        "stripped_reference": None,
        "dash_init_segment": False,
        "trust_anchors": bool(anchors),
        "error": None,
    }
    init = None
    if sidecar is None and c2pa_read.is_dash_segment(data) and source_path is not None:
        found_init = c2pa_read.find_init_segment(source_path)
        try:  # an init segment is a few kB: refuse a huge file posing as one
            if found_init is not None and found_init.stat().st_size <= 16 * 1024**2:
                init = found_init.read_bytes()
        except OSError:
            init = None
    try:
        found = c2pa_read.inspect_c2pa(data, carrier.mime, trust_anchors_pem=anchors,
                                       manifest_data=sidecar, init_segment=init)  # fmt: skip
    except ImportError as exc:
        found = None
        if c2pa_read.may_hold_c2pa(data):
            found = {"present": True, "state": "Error", "error": f"c2pa-python: {exc}"}
    except Exception as exc:  # the native SDK is third-party code: never let it crash a verify
        found = {"present": True, "state": "Error", "error": f"{type(exc).__name__}: {exc}"}
    reference = _remote_url(packet)
    if found is None:
        if reference and reference.startswith(("http://", "https://")):
            out.update(present=True, remote=True, remote_url=reference)
        elif reference and "jumbf=" in reference:  # points into the file, which has no store
            out.update(stripped=True, stripped_reference=reference)
        return out
    out.update({k: v for k, v in found.items() if k in out})
    if out["remote"]:
        out["remote_url"] = out["remote_url"] or reference
    if out["state"] == "Error":
        out["error"] = out["error"] or "unknown SDK error"
    out["trusted"] = out["state"] == "Trusted"
    out["trust"] = "trusted" if out["trusted"] else "untrusted" if out["intact"] else "n.a."
    return out


def _remote_url(packet: bytes | None) -> str | None:
    """The manifest reference of C2PA §11.3 (XMP ``dcterms:provenance``), if any: an http(s)
    URL (remote manifest) or ``self#jumbf=/c2pa/...`` (the embedded one)."""
    if not packet:
        return None
    text = packet.decode("utf-8", "replace")
    match = re.search(r"provenance\s*(?:=\s*[\"']|>)\s*([^\"'<\s]+)", text)
    return match.group(1) if match else None
