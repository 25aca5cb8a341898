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
"""

from __future__ import annotations

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

__all__ = ["PropagateResult", "Propagator", "validate_propagator"]

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
        self, data: bytes, *, propagate_id: str | None = None, name: str = "<bytes>"
    ) -> tuple[bytes, PropagateResult]:
        try:
            return self._propagate(data, propagate_id, name)
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
        self, data: bytes, propagate_id: str | None, name: str
    ) -> tuple[bytes, PropagateResult]:
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
            if self.declared or self.suspected:
                warnings.append(
                    f"the file already carries Label {previous.Label}; --declared/--suspected "
                    "ignored (an existing label is never changed or downgraded)"
                )
        elif self.declared or self.suspected:
            case = "declared" if self.declared else "suspected"
            label = AIGCLabel(
                Label="2" if self.declared else "3",
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
