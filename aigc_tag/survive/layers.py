"""Reading the layers back from a verification report, and judging what a pipeline kept.

Every layer is read by the verifier (:func:`aigc_tag.verify.verify_bytes`) exactly as
``aigc-tag verify`` reads it; this module only reduces its report to four findings (metadata
label, C2PA manifest, explicit label, invisible watermark) and compares a pipeline's findings
with the file's own.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..verify import Report

__all__ = ["LAYERS", "LayerResult", "State", "baseline", "compare", "findings"]

#: The layers, in the order the table and the JSON list them.
LAYERS = ("metadata", "c2pa", "explicit", "watermark")


class State(str, enum.Enum):
    """Stable tokens for what became of one layer (the JSON ``state``)."""

    KEPT = "kept"  # there after the pipeline, unchanged (watermark: the exact payload)
    LOST = "lost"  # in the file, gone after the pipeline
    DAMAGED = "damaged"  # still there but altered (C2PA invalid, another payload or label)
    ABSENT = "absent"  # not in the file to begin with: nothing to survive
    NOT_CHECKED = "not_checked"  # could not be read (OCR engine missing, decoding failed)
    PRESENT = "present"  # the file as given: the layer is there (the baseline row only)


@dataclass(frozen=True)
class LayerResult:
    """One layer after one pipeline: its state and what was measured (JSON-able)."""

    state: State
    detail: dict

    def to_json(self) -> dict:
        return {"state": self.state.value, **self.detail}


def findings(report: Report) -> dict[str, dict]:
    """The four layers as the verifier found them, reduced to what survival needs."""
    return {
        "metadata": _metadata(report),
        "c2pa": _c2pa(report.c2pa),
        "explicit": _explicit(report),
        "watermark": _watermark(report.watermark),
    }


def _metadata(report: Report) -> dict:
    label = dict(report.metadata_label or {})
    carrier = label.pop("carrier", None)
    return {"present": bool(label), "label": label or None, "carrier": carrier}


def _c2pa(c2pa: dict | None) -> dict:
    c2pa = c2pa or {}
    return {
        "present": bool(c2pa.get("present")),
        "intact": bool(c2pa.get("intact")),
        "manifest_state": c2pa.get("state"),
        "stripped": bool(c2pa.get("stripped")),
    }


def _explicit(report: Report) -> dict:
    """Images and video: the caption (declared, else OCR); audio: the audible cue (declared,
    else any rhythm cue). ``found`` None: it could not be checked."""
    if report.audible_label is not None:
        audible = report.audible_label
        if audible.get("error"):
            return {"kind": "audible", "found": None, "error": audible["error"]}
        declared = audible.get("declared")
        if declared is not None:
            return {"kind": "audible", "found": bool(declared.get("found")), "source": "declared"}
        return {"kind": "audible", "found": bool(audible.get("rhythm")), "source": "rhythm"}
    visible = report.visible_label
    if visible is None:
        return {"kind": "caption", "found": None, "error": "not checked"}
    error = visible.get("error")
    found = visible.get("found")
    if error and not found:  # e.g. no OCR engine installed: unknown, not absent
        return {"kind": "caption", "found": None, "source": visible.get("source"), "error": error}
    return {"kind": "caption", "found": bool(found), "source": visible.get("source"),
            "text": visible.get("text")}  # fmt: skip


def _watermark(mark: dict | None) -> dict:
    if mark is None:
        return {"found": None, "payload": None}
    payload = (mark.get("payload") or {}).get("hex")
    out = {
        "found": bool(mark.get("detected")),
        "payload": payload,
        "score": mark.get("score"),
        "p_value": mark.get("p_value"),
    }
    if mark.get("margin") is not None:
        out["margin"] = mark["margin"]
    return out


def baseline(found: dict[str, dict]) -> dict[str, LayerResult]:
    """The file as given: each layer present or absent (or not checkable)."""
    out = {}
    for layer in LAYERS:
        f = found[layer]
        there = f.get("found") if layer in ("explicit", "watermark") else f["present"]
        if layer == "watermark" and there:
            there = f.get("payload") is not None
        state = State.NOT_CHECKED if there is None else State.PRESENT if there else State.ABSENT
        out[layer] = LayerResult(state, f)
    return out


def compare(original: dict[str, dict], after: dict[str, dict]) -> dict[str, LayerResult]:
    """What the pipeline did to each layer of ``original`` (both from :func:`findings`)."""
    return {
        "metadata": _compare_metadata(original["metadata"], after["metadata"]),
        "c2pa": _compare_c2pa(original["c2pa"], after["c2pa"]),
        "explicit": _compare_explicit(original["explicit"], after["explicit"]),
        "watermark": _compare_watermark(original["watermark"], after["watermark"]),
    }


def _compare_metadata(before: dict, after: dict) -> LayerResult:
    if not before["present"]:
        return LayerResult(State.ABSENT, after)
    if not after["present"]:
        return LayerResult(State.LOST, after)
    same = after["label"] == before["label"]
    return LayerResult(State.KEPT if same else State.DAMAGED, after)


def _compare_c2pa(before: dict, after: dict) -> LayerResult:
    if not before["present"]:
        return LayerResult(State.ABSENT, after)
    if not after["present"]:
        return LayerResult(State.LOST, after)
    return LayerResult(State.KEPT if after["intact"] else State.DAMAGED, after)


def _compare_explicit(before: dict, after: dict) -> LayerResult:
    if before.get("found") is None:
        return LayerResult(State.NOT_CHECKED, after)
    if not before["found"]:
        return LayerResult(State.ABSENT, after)
    if after.get("found") is None:
        return LayerResult(State.NOT_CHECKED, after)
    return LayerResult(State.KEPT if after["found"] else State.LOST, after)


def _compare_watermark(before: dict, after: dict) -> LayerResult:
    """Kept only with the very payload read from the file as given (``payload_exact``)."""
    expected = before.get("payload")
    if before.get("found") is None:
        return LayerResult(State.NOT_CHECKED, after)
    if not before.get("found") or expected is None:
        return LayerResult(State.ABSENT, after)
    if after.get("found") is None:
        return LayerResult(State.NOT_CHECKED, after)
    exact = bool(after["found"]) and after.get("payload") == expected
    detail = {**after, "payload_exact": exact}
    if not after["found"]:
        return LayerResult(State.LOST, detail)
    return LayerResult(State.KEPT if exact else State.DAMAGED, detail)
