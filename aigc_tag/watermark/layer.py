"""The watermark as a tagging layer: PIL frames in, PIL frames out, and reading it back.

The engine (:mod:`aigc_tag.watermark.image`) works on numpy arrays; this module adapts it to the
frames the carriers hand out (RGB, RGBA, L, LA) and turns a detection into the report's
``watermark`` object. Formats that quantise pixels to a palette or to one bit (GIF, palette PNG,
bi-level TIFF) cannot hold a spread-spectrum mark: :func:`can_hold` says so up front.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from .image import DETECT_Z, Detection, EmbedInfo, detect, embed_with_info
from .keys import WatermarkKey
from .payload import Payload

#: Source modes whose re-encode quantises away a ±1-grey-level mark.
_QUANTISED_MODES = {"P", "PA", "1"}
#: Pilot z over the detection threshold for the report's margin levels (see :func:`margin`).
STRONG_MARGIN, MODERATE_MARGIN = 9.0, 4.5


def as_key(key: WatermarkKey | str | bytes | None) -> WatermarkKey | None:
    """A user's key in any form: None (the public key), a WatermarkKey, or a private secret."""
    if key is None or isinstance(key, WatermarkKey):
        return key
    return WatermarkKey.private(key)


def can_hold(carrier_name: str, source_mode: str) -> str | None:
    """None when the format can carry the mark, else the reason it cannot."""
    if carrier_name == "gif" or source_mode in _QUANTISED_MODES:
        return f"{carrier_name} {source_mode} images keep only a palette or one bit per pixel"
    return None


def mark_frame(
    frame: Image.Image,
    payload: Payload,
    key: WatermarkKey | None,
    notes: list[str] | None = None,
) -> Image.Image:
    """Embed the payload in one RGB/RGBA/L/LA frame; same size and mode out.

    The engine adapts its strength (42 dB down to 38 dB where the content needs it); when even
    the strongest step leaves a weak mark, a warning saying so is appended to ``notes``.
    """
    bits = payload.to_bits()
    if frame.mode == "LA":
        luma, alpha = frame.split()
        marked, info = embed_with_info(np.asarray(luma), bits, key=key)
        out = Image.merge("LA", (Image.fromarray(marked, "L"), alpha))
    else:
        marked, info = embed_with_info(np.asarray(frame), bits, key=key)
        out = Image.fromarray(marked, frame.mode)
    if notes is not None and info.weak:
        notes.append(weak_note(info, frame.size))
    return out


def weak_note(info: EmbedInfo, size: tuple[int, int]) -> str:
    """The warning for a mark that reads back untouched but may not outlive a re-encode."""
    return (
        f"watermark embedded but weak on this {size[0]}x{size[1]} picture (pilot z "
        f"{info.z_clean:.1f} untouched, {info.z_reencoded:.1f} after JPEG/WebP q50; detection "
        f"needs {info.z_threshold:.1f}): re-encodes or rescales may erase it"
    )


def margin(detection: Detection) -> dict | None:
    """How much room a detected image mark has left: its pilot z over the detection threshold.

    ``level`` reads the margin against the corpus benchmark (benchmarks/_corpus_bench.py, 326
    images x 4 attacks, aspect stretches left out): of marks read with a margin >= 9 (``strong``)
    95 % survived the attack they met, 3-9: 84-90 % (``moderate`` from 4.5), < 3: 79 %
    (``weak``). A coarse guide, not a promise: the margin of the untouched file is measured,
    the attack it will meet is not. None when nothing was detected.
    """
    if not detection.detected:
        return None
    over = float(detection.score) - DETECT_Z
    level = "strong" if over >= STRONG_MARGIN else "moderate" if over >= MODERATE_MARGIN else "weak"
    return {"z_threshold": round(DETECT_Z, 3), "z_over_threshold": round(over, 3), "level": level}


def read_mark(shown: Image.Image, key: WatermarkKey | None) -> Detection:
    """Detect on a decoded, display-oriented image (composited on white if transparent)."""
    if shown.mode in ("RGBA", "LA", "PA") or "transparency" in shown.info:
        rgba = shown.convert("RGBA")
        base = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        shown = Image.alpha_composite(base, rgba)
    return detect(np.asarray(shown.convert("RGB")), key=key)


def report(detection: Detection, key: WatermarkKey | None) -> dict:
    """The ``watermark`` object of a verification report."""
    out = detection.to_json()
    out["key"] = (key or WatermarkKey.public()).name
    if "quarter_turns" in getattr(detection, "geometry", {}):  # image detections only
        out["margin"] = margin(detection)
    payload = None
    if detection.detected and detection.payload_bits is not None:
        payload = Payload.from_bits(detection.payload_bits)
    out["payload"] = (
        None
        if payload is None
        else {
            "hex": payload.hex(),
            "version": payload.version,
            "producer_hash": payload.producer_hash,
            "serial": payload.serial,
        }
    )
    return out
