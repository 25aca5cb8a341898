"""Consistency across layers: C2PA, IPTC DigitalSourceType and the GB Annex E label.

Three checks live here (K01-K03). Two other consistency questions already have ids and are not
duplicated: the watermark payload against the label's producer/ProduceID is W02 (W-T1 for text),
and two labels in one file that disagree is M09.

Decisions (documented in docs/report-schema.md):

* K01/K02 contradictions are warnings, not failures: a file cannot tell us which layer is wrong,
  and a composite (a captured photo edited with AI) can legitimately carry both claims. Over-
  declaring AI breaks no rule; the warning is for a human to look at.
* Only an intact manifest is compared (Trusted, Valid, or Invalid for trust findings only, e.g.
  an expired credential): a manifest with integrity findings is not to be relied on (C01 fails).
* K03 (AI declared by C2PA/IPTC but no GB label) is information: for China the Annex E label is
  still required (Measures Art. 5); the verdict stays ``not_found``, never ``compliant``.
"""

from __future__ import annotations

from ..provenance.c2pa_read import AI_SOURCE_SUFFIXES
from .checks import result
from .report import CheckResult, Outcome

__all__ = ["CAPTURE_SOURCES", "classify_source", "run_consistency_checks"]

#: IPTC digital source types that claim a camera or scanner made the content.
CAPTURE_SOURCES = (
    "digitalCapture",
    "computationalCapture",
    "negativeFilm",
    "positiveFilm",
    "print",
    "compositeCapture",
)


def classify_source(uri: str) -> str:
    """``"ai"``, ``"capture"`` or ``"other"`` for an IPTC DigitalSourceType URI (or bare code)."""
    code = uri.rstrip("/").rsplit("/", 1)[-1]
    if code in AI_SOURCE_SUFFIXES:
        return "ai"
    if code in CAPTURE_SOURCES:
        return "capture"
    return "other"


def _kinds(sources: list[str]) -> set[str]:
    return {classify_source(s) for s in sources}


def run_consistency_checks(
    label: dict | None, c2pa: dict | None, evidence: dict
) -> list[CheckResult]:
    """K01-K03 from the report's ``metadata_label``, ``c2pa`` and ``evidence`` objects."""
    iptc = list(evidence.get("iptc_digital_source_type") or [])
    # Intact = no integrity finding; an expired or untrusted signer still says what it says.
    intact = bool(c2pa and c2pa.get("intact", c2pa.get("state") in ("Trusted", "Valid")))
    c2pa_sources = list(c2pa.get("digital_source_types") or []) if intact else []
    return [
        _k01(label, iptc, c2pa_sources, intact),
        _k02(label, iptc),
        _k03(label, iptc, c2pa if intact else None, evidence),
    ]


def _k01(label: dict | None, iptc: list[str], c2pa_sources: list[str], intact: bool) -> CheckResult:
    if not intact:
        return result("K01", Outcome.SKIP, "no intact C2PA manifest to compare")
    c2pa_kinds, iptc_kinds = _kinds(c2pa_sources), _kinds(iptc)
    others = []
    if label:
        others.append(("ai", f"the AIGC label (Label={label.get('Label')})"))
    others += [(classify_source(s), f"IPTC DigitalSourceType {s}") for s in iptc]
    others = [(kind, what) for kind, what in others if kind != "other"]
    if not others or not ({"ai", "capture"} & c2pa_kinds):
        return result("K01", Outcome.SKIP, "nothing to compare (no AI/capture claim on both sides)")
    conflicts = []
    if "capture" in c2pa_kinds and "ai" not in c2pa_kinds:
        conflicts = [what for kind, what in others if kind == "ai"]
        claim = "C2PA says captured"
    elif "ai" in c2pa_kinds and "capture" in iptc_kinds:
        conflicts = [what for kind, what in others if kind == "capture"]
        claim = "C2PA declares AI"
    if conflicts:
        sources = ", ".join(c2pa_sources)
        return result("K01", Outcome.WARN, f"{claim} ({sources}) but {' and '.join(conflicts)} "
                      "says otherwise")  # fmt: skip
    return result("K01", Outcome.PASS, "C2PA and the other metadata agree")


def _k02(label: dict | None, iptc: list[str]) -> CheckResult:
    if not label or not iptc:
        return result("K02", Outcome.SKIP, "no AIGC label and IPTC DigitalSourceType to compare")
    non_ai = [s for s in iptc if classify_source(s) != "ai"]
    if non_ai:
        message = (f"the AIGC label says Label={label.get('Label')} (AI) but IPTC "
                   f"DigitalSourceType is {', '.join(non_ai)}")  # fmt: skip
        return result("K02", Outcome.WARN, message)
    return result("K02", Outcome.PASS, f"IPTC DigitalSourceType {', '.join(iptc)} agrees")


def _k03(label: dict | None, iptc: list[str], c2pa: dict | None, evidence: dict) -> CheckResult:
    declared = []
    if c2pa and c2pa.get("ai_declared"):
        declared.append("C2PA")
    if "ai" in _kinds(iptc):
        declared.append("IPTC DigitalSourceType")
    generators = sorted({g["name"] for g in evidence.get("generators") or []})
    if label:
        if declared:
            return result("K03", Outcome.PASS, f"{' and '.join(declared)} and the AIGC label "
                          "both declare AI")  # fmt: skip
        return result("K03", Outcome.SKIP, "the AIGC label is present")
    if not declared and not generators:
        return result("K03", Outcome.SKIP, "no AI declaration outside the GB label")
    parts = []
    if declared:
        parts.append(f"{' and '.join(declared)} declare(s) AI")
    if generators:
        parts.append(f"vendor signals name {', '.join(generators)} (evidence only)")
    return result("K03", Outcome.INFO, "; ".join(parts) + ", but there is no GB Annex E label: "
                  "for China the metadata label is still required")  # fmt: skip
