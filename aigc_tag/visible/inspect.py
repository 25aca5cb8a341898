"""Read an explicit caption back from the pixels, where aigc-tag declared it drew one.

When aigc-tag burns a caption it records the geometry in XMP (``aigctag:Caption``: text,
position, box, glyph height, image size). This module checks that claim against the pixels: it
re-renders the same caption on a neutral canvas of the same size, takes the glyph mask, and
measures how well the image's luma inside the declared box follows that mask (a correlation
that survives re-compression) and the contrast between glyph and box pixels. Without a
declaration there is nothing to compare with: captions drawn by anyone else are read by OCR
(:mod:`aigc_tag.visible.ocr`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
from PIL import Image

from ..errors import AigcTagError
from .caption import CaptionStyle, contrast_ratio, draw_caption

#: Correlation between the expected glyph mask and the pixels above which the caption is present.
MIN_MATCH = 0.6


@dataclass
class CaptionEvidence:
    """What the pixels say about a declared caption."""

    declared: dict
    image_size: tuple[int, int] | None = None
    size_matches: bool = False
    match: float | None = None  # Pearson r of luma vs expected glyph mask inside the box
    contrast: float | None = None  # WCAG contrast ratio, glyph pixels vs box pixels
    error: str | None = None

    @property
    def found(self) -> bool:
        return self.match is not None and self.match >= MIN_MATCH

    def to_json(self) -> dict:
        return {
            "source": "aigc-tag caption declaration (XMP aigctag:Caption), checked on the pixels",
            "text": self.declared.get("text"),
            "position": self.declared.get("position"),
            "box": self.declared.get("box"),
            "glyph_height_px": self.declared.get("glyph_height_px"),
            "ratio": self.declared.get("ratio"),
            "found_in_pixels": self.found,
            "match": None if self.match is None else round(self.match, 3),
            "contrast": None if self.contrast is None else round(self.contrast, 2),
            "image_size_matches": self.size_matches,
            "error": self.error,
        }


def declaration(placement_json: dict, image_size: tuple[int, int]) -> str:
    """The XMP value recording a drawn caption (display coordinates)."""
    return json.dumps({**placement_json, "image_size": list(image_size)}, ensure_ascii=False)


def inspect_declared_caption(shown: Image.Image, declared_json: str) -> CaptionEvidence:
    """Compare a caption declaration with a decoded, display-oriented image (see
    :func:`aigc_tag.imaging.open_display`); never raises for bad input."""
    try:
        declared = json.loads(declared_json)
        if not isinstance(declared, dict):
            raise ValueError("not an object")
    except ValueError as exc:
        return CaptionEvidence({}, error=f"caption declaration is not JSON: {exc}")
    evidence = CaptionEvidence(declared)
    evidence.image_size = shown.size
    evidence.size_matches = list(shown.size) == list(declared.get("image_size", []))
    if not evidence.size_matches:
        evidence.error = "the image size differs from the one the caption was drawn on"
        return evidence
    try:
        _measure(shown, declared, evidence)
    except (AigcTagError, KeyError, TypeError, ValueError) as exc:
        evidence.error = f"cannot re-render the declared caption: {exc}"
    return evidence


def _measure(shown: Image.Image, declared: dict, evidence: CaptionEvidence) -> None:
    style = CaptionStyle(text=declared["text"], position=declared["position"])
    canvas = Image.new("L", shown.size, 128)  # layout depends on the size only; L is 3x lighter
    expected, placement = draw_caption(canvas, style)
    if list(placement.box) != list(declared["box"]):
        raise ValueError("this aigc-tag version lays the caption out differently")
    x0, y0, x1, y1 = placement.box
    want = np.asarray(expected.convert("L").crop((x0, y0, x1, y1)), np.float32)
    got = np.asarray(_luma(shown).crop((x0, y0, x1, y1)), np.float32)
    glyph = want > 160  # white glyphs on the dark box; the box itself renders far below this
    if glyph.all() or not glyph.any():
        raise ValueError("declared box holds no glyph pixels")
    evidence.match = _correlation(got, glyph.astype(np.float32))
    evidence.contrast = contrast_ratio(float(got[glyph].mean()), float(got[~glyph].mean()))


def _luma(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        base = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(base, rgba).convert("L")
    return image.convert("L")


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    denom = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / denom) if denom else 0.0
