"""Platform re-labelling (Measures Art. 6; GB 45438 §6.3 P1/P2): what a distribution platform
does to a file it receives.

* The file carries a label: ``Label``, ``ContentProducer``, ``ProduceID`` and ``ReservedCode1``
  stay exactly as they are (never downgraded, never altered: Art. 10); ``ContentPropagator``,
  ``PropagateID`` and ``ReservedCode2`` are overwritten with the platform's values.
* No label: the caller says why the content is AI: ``declared`` (the user declared it, Label
  "2") or ``suspected`` (the platform detected traces, Label "3"). ``ContentProducer`` is then
  unknown; it is set to ``producer`` when the caller knows it, else to the platform's code, and
  ``ProduceID`` to the PropagateID (Annex E requires both non-empty).

Exactly one label stays (carrier ``write_label``: a container edit, media bytes untouched). A C2PA
manifest in the input is kept valid by appending an update manifest (``c2pa.opened`` the old one
as parent ingredient, then ``c2pa.edited.metadata``), which needs a signer; without one the file
is refused unless ``break_c2pa``. There is no mode that removes a label.

The Art. 6 decision for every upload is :func:`decide` (pure: it reads a finished verification
:class:`~aigc_tag.verify.Report`) and :func:`auto_propagate` (verify, decide, re-label):

* ``labelled``: a valid label in the metadata: kept, the platform's fields written (Art. 6 (1));
* ``declared``: no label, the uploader declared the file AI-generated: Label 2 (Art. 6 (2));
* ``suspected``: no label, not declared, but traces found (an explicit label, a C2PA or IPTC AI
  declaration, a known watermark, generator parameters; ``evidence["traces"]`` of at least
  ``min_strength``): Label 3 (Art. 6 (3)), with the traces that triggered it;
* ``none``: no label, no declaration, no trace strong enough: left alone (weak hints reported);
* ``invalid_label``: a label that is malformed or incomplete: left alone, never repaired or
  replaced (Measures Art. 10), for a person to review;
* ``unreadable``: the file could not be read or parsed: left alone.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .carriers import Carrier, sniff_content
from .errors import AigcTagError, ExistingManifest, InvalidLabel, UnsupportedFormat
from .fileio import atomic_write, output_target, read_source
from .label import FIELDS, AIGCLabel, charset_problems, check_provider_code, new_produce_id

if TYPE_CHECKING:
    from .provenance.sign import C2paSigner
    from .verify.report import Report
    from .watermark.keys import WatermarkKey

__all__ = [
    "CASES",
    "Art6Decision",
    "AutoPropagation",
    "PropagateResult",
    "Propagator",
    "auto_propagate",
    "decide",
    "validate_propagator",
]

_CODE = re.compile(r"00[0-9A-Z]{25}")


def validate_propagator(propagator: str) -> list[str]:
    """Like ``validate_producer``, for a platform code (PG-20252A service digit 2): raise on a
    malformed code or unusable characters; warn on names and on a service digit of 1."""
    if not propagator:
        raise InvalidLabel("--propagator is required (a PG-20252A provider code or an ASCII name)")
    if _CODE.fullmatch(propagator):
        problems = check_provider_code(propagator, role="propagator")
        if problems:
            raise InvalidLabel(f"propagator code {propagator}: " + "; ".join(problems))
        if propagator[22] != "2":
            return [f"propagator code {propagator} has service digit 1 (generation service); "
                    "a distribution platform's code has 2 (TC260-PG-20252A)"]  # fmt: skip
        return []
    if len(propagator) == 27 and propagator[:2] == "00":
        problems = check_provider_code(propagator.upper(), role="propagator")
        raise InvalidLabel(f"propagator code {propagator}: " + "; ".join(problems))
    if charset_problems(propagator):
        raise InvalidLabel(
            f"propagator {propagator!r} is neither a PG-20252A code nor a plain ASCII name without "
            "spaces or quotes (GB 45438 Annex E j)"
        )
    return [f"propagator {propagator!r} is a name, not a PG-20252A code; GB 45438 allows names "
            "but recommends the code"]  # fmt: skip


@dataclass
class PropagateResult:
    """What one propagate operation did."""

    source: str
    format: str
    label: AIGCLabel
    previous: AIGCLabel | None  # the inbound label (None: the file had none)
    case: str  # "labelled" | "declared" | "suspected"  (Measures Art. 6 cases 1-3)
    c2pa: str = "none"  # "none" | "updated" (update manifest appended) | "broken" (--break-c2pa)
    output: str | None = None
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "output": self.output,
            "format": self.format,
            "case": self.case,
            "label": self.label.as_dict(),
            "previous": self.previous.as_dict() if self.previous else None,
            "c2pa": self.c2pa,
            "warnings": self.warnings,
        }


class Propagator:
    """The platform's settings; one per batch.

    >>> p = Propagator("001191110108MA01ABCDEN20001", suspected=True)   # doctest: +SKIP
    >>> out, result = p.propagate_bytes(data)                           # doctest: +SKIP
    """

    def __init__(
        self,
        propagator: str,
        *,
        declared: bool = False,
        suspected: bool = False,
        producer: str | None = None,
        reserved_code2: str = "",
        c2pa_signer: C2paSigner | None = None,
        break_c2pa: bool = False,
    ) -> None:
        self.warnings = validate_propagator(propagator)
        if declared and suspected:
            raise InvalidLabel("give at most one of --declared (Label 2) and --suspected (Label 3)")
        if producer:
            from .tagging import validate_producer

            self.warnings += validate_producer(producer)
        if reserved_code2 and charset_problems(reserved_code2):
            self.warnings += [f"ReservedCode2: {p}" for p in charset_problems(reserved_code2)]
        self.propagator = propagator
        self.declared = declared
        self.suspected = suspected
        self.producer = producer
        self.reserved_code2 = reserved_code2
        self.c2pa_signer = c2pa_signer
        self.break_c2pa = break_c2pa
        if c2pa_signer is not None:
            self.warnings += c2pa_signer.warnings

    # --- entry points ---------------------------------------------------------------------

    def propagate_bytes(
        self,
        data: bytes,
        *,
        propagate_id: str | None = None,
        name: str = "<bytes>",
        reason: str | None = None,
    ) -> tuple[bytes, PropagateResult]:
        """Re-label ``data``. ``reason`` (``"declared"`` or ``"suspected"``) says why an
        unlabelled file is AI content for this call only (default: the Propagator's setting)."""
        if reason not in (None, "declared", "suspected"):
            raise ValueError(f"reason must be 'declared' or 'suspected', not {reason!r}")
        try:
            return self._propagate(data, propagate_id, name, reason)
        except AigcTagError as exc:
            if str(exc).startswith(name):
                raise
            raise type(exc)(f"{name}: {exc}") from None

    def propagate_file(
        self,
        src: str | Path,
        dst: str | Path | None = None,
        *,
        propagate_id: str | None = None,
        in_place: bool = False,
    ) -> PropagateResult:
        """``src`` into ``dst`` (atomically); the input is only replaced with ``in_place``."""
        src = Path(src)
        target = output_target(src, dst, in_place=in_place)
        data = read_source(src)
        out, result = self.propagate_bytes(data, propagate_id=propagate_id, name=str(src))
        try:
            atomic_write(target, out, like=src, durable=in_place)
        except OSError as exc:
            raise AigcTagError(f"{target}: cannot write: {exc.strerror or exc}") from None
        result.output = str(target)
        return result

    # --- internals ------------------------------------------------------------------------

    def _inbound(self, carrier: Carrier, data: bytes, name: str) -> AIGCLabel | None:
        labels: list[AIGCLabel] = []
        for found in carrier.read_labels(data):
            label = found.parsed.label()
            if label is not None and label not in labels:
                labels.append(label)
        if not labels:
            return None
        producer_fields = {(lab.Label, lab.ContentProducer, lab.ProduceID) for lab in labels}
        if len(producer_fields) > 1:
            shown = "; ".join(f"Label={a} ContentProducer={b} ProduceID={c}"
                              for a, b, c in sorted(producer_fields))  # fmt: skip
            raise InvalidLabel(
                f"{name}: carries labels that disagree ({shown}); producer fields are never "
                "altered (Measures Art. 10), so there is no single label to keep: refusing"
            )
        label = labels[0]
        if label.Label not in ("1", "2", "3") or not (label.ContentProducer and label.ProduceID):
            raise InvalidLabel(
                f"{name}: the inbound label is incomplete or malformed "
                f"({label.as_dict()}); it is kept as-is rather than repaired: "
                "refusing to propagate"
            )
        return label

    def _propagate(
        self, data: bytes, propagate_id: str | None, name: str, reason: str | None = None
    ) -> tuple[bytes, PropagateResult]:
        declared = self.declared if reason is None else reason == "declared"
        suspected = self.suspected if reason is None else reason == "suspected"
        carrier = sniff_content(data, name=name)
        if not carrier.can_write:
            carrier.write_label(data, "")  # read-only carriers raise with their own reason
            raise UnsupportedFormat(f"{name}: writing {carrier.name} is not supported")
        previous = self._inbound(carrier, data, name)
        pid = propagate_id or new_produce_id()
        warnings: list[str] = []
        if previous is not None:
            case = "labelled"
            label = previous.with_fields(
                ContentPropagator=self.propagator, PropagateID=pid,
                ReservedCode2=self.reserved_code2,
            )  # fmt: skip
            if declared or suspected:
                warnings.append(
                    f"the file already carries Label {previous.Label}; --declared/--suspected "
                    "ignored (an existing label is never changed or downgraded)"
                )
        elif declared or suspected:
            case = "declared" if declared else "suspected"
            label = AIGCLabel(
                Label="2" if declared else "3",
                ContentProducer=self.producer or self.propagator,
                ProduceID=pid,
                ContentPropagator=self.propagator,
                PropagateID=pid,
                ReservedCode2=self.reserved_code2,
            )
        else:
            raise InvalidLabel(
                f"{name}: carries no AIGC label; say why it is AI content: --declared (the user "
                "declared it, Label 2) or --suspected (detected traces, Label 3)"
            )
        warnings += label.validate()
        manifest = self._input_manifest(carrier, data)
        if manifest is not None and self.c2pa_signer is None and not self.break_c2pa:
            raise ExistingManifest(
                f"{name}: carries a C2PA manifest (state {manifest['state']}); writing the "
                "propagation fields would invalidate it. Sign an update manifest with --c2pa "
                "--cert --key (API: c2pa_signer), or pass --break-c2pa to write anyway"
            )
        out = carrier.write_label(data, label.to_json())
        result = PropagateResult(name, carrier.name, label, previous, case, warnings=warnings)
        self._check(out, carrier, label, name)
        if manifest is not None and self.c2pa_signer is not None:
            from .provenance.sign import sign_bytes

            out = sign_bytes(
                out, carrier.mime, signer=self.c2pa_signer, label=label, parent=data,
                title=Path(name).name, action="c2pa.edited.metadata",
                parent_source_type=_ai_source_type(manifest),
            )  # fmt: skip
            self._check(out, sniff_content(out, name=name), label, name)
            result.c2pa = "updated"
        elif manifest is not None:
            result.c2pa = "broken"
            result.warnings.append("C2PA manifest invalidated (--break-c2pa)")
        return out, result

    @staticmethod
    def _input_manifest(carrier: Carrier, data: bytes) -> dict | None:
        from .provenance import inspect_c2pa, may_hold_c2pa

        probe = getattr(carrier, "has_c2pa", None)
        if not (probe(data) if probe else may_hold_c2pa(data)):
            return None
        return inspect_c2pa(data, carrier.mime)

    @staticmethod
    def _check(out: bytes, carrier: Carrier, label: AIGCLabel, name: str) -> None:
        fields = [f.parsed.fields for f in carrier.read_labels(out)]
        if fields != [{k: getattr(label, k) for k in FIELDS}]:
            raise AigcTagError(
                f"{name}: self-check failed: the propagated label does not read back exactly once"
            )


def _ai_source_type(manifest: dict) -> str | None:
    """The AI digitalSourceType the inbound manifest declared, carried onto ``c2pa.opened``."""
    from .provenance.c2pa_read import AI_SOURCE_SUFFIXES

    for source in manifest.get("digital_source_types") or []:
        if source.endswith(AI_SOURCE_SUFFIXES):
            return source
    return None


# --------------------------------------------------------------------------------------------
# Measures Art. 6 for every upload: decide from a verification report, then re-label
# --------------------------------------------------------------------------------------------

#: Every case :func:`decide` returns; the first three are written, the others left alone.
CASES = ("labelled", "declared", "suspected", "none", "invalid_label", "unreadable")
_WRITTEN = {"labelled": None, "declared": "2", "suspected": "3"}
_STRENGTH_ORDER = ("strong", "moderate", "weak")


@dataclass(frozen=True)
class Art6Decision:
    """What a platform does with one upload (Measures Art. 6) and why.

    ``label`` is the Label value the output carries (the kept one for ``labelled``), ``None``
    when the file is left alone; ``evidence`` the traces that triggered ``suspected`` (for
    ``declared`` and ``labelled`` the traces found, for the record); ``hints`` traces below
    ``min_strength`` that triggered nothing."""

    case: str
    label: str | None
    reason: str
    evidence: tuple[dict, ...] = ()
    hints: tuple[dict, ...] = ()

    @property
    def writes(self) -> bool:
        """True when the platform writes a label (cases labelled, declared, suspected)."""
        return self.case in _WRITTEN

    def to_json(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "label": self.label,
            "writes": self.writes,
            "reason": self.reason,
            "evidence": list(self.evidence),
            "hints": list(self.hints),
        }


def _inbound_label(report: Report) -> tuple[dict | None, str | None]:
    """(the report's GB label, why it cannot be kept as it is) — (None, None) when absent."""
    label = report.metadata_label
    if label is None:
        broken = [lab for lab in report.labels if lab.get("parse_error")]
        if broken:
            return {}, f"a label is present but does not parse: {broken[0]['parse_error']}"
        return None, None
    if label.get("Label") not in ("1", "2", "3"):
        return label, f"Label {label.get('Label')!r} is not 1, 2 or 3"
    if not (label.get("ContentProducer") and label.get("ProduceID")):
        return label, "ContentProducer or ProduceID is empty"
    return label, None


def decide(
    report: Report, *, declared: bool = False, min_strength: str = "moderate"
) -> Art6Decision:
    """The Art. 6 case of one verified upload (pure: reads only ``report``).

    ``declared``: the uploader declared the file AI-generated. ``min_strength`` (``"strong"``,
    ``"moderate"`` or ``"weak"``) is the weakest trace that makes an unlabelled file
    ``suspected``; the default ignores bare hints such as a generator's name in EXIF Software.
    """
    if min_strength not in _STRENGTH_ORDER:
        raise ValueError(f"min_strength must be one of {_STRENGTH_ORDER}, not {min_strength!r}")
    if report.error or report.format is None:
        problem = report.error or next((c.message for c in report.checks), "unreadable")
        return Art6Decision("unreadable", None, f"cannot read the file: {problem}")
    from .verify.evidence import build_traces

    traces = report.evidence.get("traces")
    traces = tuple(build_traces(report) if traces is None else traces)
    label, problem = _inbound_label(report)
    if problem is not None:
        reason = f"the inbound label is malformed ({problem}); it is never repaired or replaced"
        return Art6Decision("invalid_label", None, reason + ": review by hand", traces)
    if label is not None:
        reason = f"carries Label {label['Label']}: kept, the platform's fields written"
        if declared:
            reason += " (the declaration does not change an existing label)"
        return Art6Decision("labelled", label["Label"], reason, traces)
    if declared:
        return Art6Decision("declared", "2", "no label; the uploader declared it AI", traces)
    limit = _STRENGTH_ORDER.index(min_strength)
    strong = tuple(t for t in traces if _STRENGTH_ORDER.index(t["strength"]) <= limit)
    hints = tuple(t for t in traces if t not in strong)
    if strong:
        kinds = ", ".join(dict.fromkeys(t["kind"] for t in strong))
        return Art6Decision("suspected", "3", f"no label, not declared; traces: {kinds}",
                            strong, hints)  # fmt: skip
    reason = "no label, not declared, no trace of AI generation"
    if hints:
        reason = f"no label, not declared; only hints below {min_strength}: left alone"
    return Art6Decision("none", None, reason, (), hints)


@dataclass
class AutoPropagation:
    """One upload through :func:`auto_propagate`: the decision, the re-labelled bytes (None
    when left alone or refused) and what the write did, with the verification report it was
    based on; ``error`` is why the rules refused a write the decision called for."""

    decision: Art6Decision
    report: Report
    data: bytes | None = None
    result: PropagateResult | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The run-report record: the decision's fields, the verdict, evidence notes (what was
        not checked) and the write's result (None when left alone)."""
        return {
            "path": self.report.path,
            "format": self.report.format,
            "verdict": self.report.verdict.value,
            **self.decision.to_json(),
            "notes": list(self.report.evidence.get("notes") or []),
            "result": self.result.to_json() if self.result else None,
            "error": self.error,
        }


def auto_propagate(
    source: bytes | str | os.PathLike[str],
    propagator: Propagator | str,
    *,
    declared: bool = False,
    name: str | None = None,
    propagate_id: str | None = None,
    min_strength: str = "moderate",
    watermark_key: WatermarkKey | None = None,
    trust_anchors_pem: str | None = None,
) -> AutoPropagation:
    """Verify ``source`` (a path or file bytes), decide its Art. 6 case and re-label it.

    ``propagator`` is a :class:`Propagator` (its C2PA signer, ``break_c2pa``, ``producer`` and
    ``reserved_code2`` apply) or a platform code. Nothing is written to disk: the re-labelled
    bytes are in ``.data``. A write the rules refuse (a C2PA manifest without a signer, a
    format that cannot carry a label, labels that disagree) leaves ``.data`` None and says why
    in ``.error`` (the decision stands); a file that cannot be read raises
    :class:`~aigc_tag.errors.AigcTagError`, naming it.

    >>> out = auto_propagate("upload.png", "001191110108MA01ABCDEN20001")   # doctest: +SKIP
    >>> out.decision.case, out.decision.label                               # doctest: +SKIP
    ('suspected', '3')
    """
    from .verify import verify_bytes

    path = None if isinstance(source, bytes) else Path(source)
    data = source if path is None else read_source(path)
    label = name or ("<bytes>" if path is None else str(path))
    platform = propagator if isinstance(propagator, Propagator) else Propagator(propagator)
    report = verify_bytes(data, name=label, watermark=True, watermark_key=watermark_key,
                          trust_anchors_pem=trust_anchors_pem, source_path=path)  # fmt: skip
    decision = decide(report, declared=declared, min_strength=min_strength)
    outcome = AutoPropagation(decision, report)
    if decision.writes:
        reason = None if decision.case == "labelled" else decision.case
        try:
            outcome.data, outcome.result = platform.propagate_bytes(
                data, propagate_id=propagate_id, name=label, reason=reason
            )
        except AigcTagError as exc:
            outcome.error = str(exc)
    return outcome
