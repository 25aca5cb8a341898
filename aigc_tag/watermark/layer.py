"""The watermark as a tagging layer: PIL frames in, PIL frames out, and reading it back.

The engine (:mod:`aigc_tag.watermark.image`) works on numpy arrays; this module adapts it to the
frames the carriers hand out (RGB, RGBA, L, LA) and turns a detection into the report's
``watermark`` object. Formats that quantise pixels to a palette or to one bit (GIF, palette PNG,
bi-level TIFF) cannot hold a spread-spectrum mark: :func:`can_hold` says so up front.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from .image import Detection, detect, embed
from .keys import WatermarkKey
from .payload import Payload

#: Source modes whose re-encode quantises away a ±1-grey-level mark.
_QUANTISED_MODES = {"P", "PA", "1"}


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


def mark_frame(frame: Image.Image, payload: Payload, key: WatermarkKey | None) -> Image.Image:
    """Embed the payload in one RGB/RGBA/L/LA frame; same size and mode out."""
    bits = payload.to_bits()
    if frame.mode == "LA":
        luma, alpha = frame.split()
        marked = embed(np.asarray(luma), bits, key=key)
        return Image.merge("LA", (Image.fromarray(marked, "L"), alpha))
    marked = embed(np.asarray(frame), bits, key=key)
    return Image.fromarray(marked, frame.mode)


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
