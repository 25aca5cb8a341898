"""Make docs/watermark-crop.png: a flat/gradient crop, marked, and the mark amplified.

Run from the repo root: ``python docs/make_watermark_crop.py``. Panels, left to right: the
original crop, the same crop after ``aigc-tag`` embedding (42 dB), and the difference x16 around
mid-grey, each 256 x 256 px shown at 1:1.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from aigc_tag.watermark.image import embed
from aigc_tag.watermark.payload import Payload

OUT = Path(__file__).parent / "watermark-crop.png"


def scene(size: int = 768) -> np.ndarray:
    """A sky-like vertical gradient over a textured lower half, like a generator's landscape."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    sky = np.stack([90 + 0.12 * y, 140 + 0.10 * y, 220 - 0.05 * y], -1)
    rng = np.random.default_rng(3)
    grass = np.stack([70 + 0 * y, 110 + 0 * y, 60 + 0 * y], -1)
    ground = grass + rng.normal(0, 18, (size, size, 3))
    img = np.where((y > size * 0.6)[..., None], ground, sky)
    return np.clip(img, 0, 255).astype(np.uint8)


def main() -> None:
    original = scene()
    marked = embed(original, Payload.for_label("001191110108MA01ABCDEN10001", "demo").to_bits())
    y0, x0, s = 300, 100, 256  # straddles the smooth sky and the textured ground
    a = original[y0 : y0 + s, x0 : x0 + s]
    b = marked[y0 : y0 + s, x0 : x0 + s]
    diff = np.clip(128 + 16 * (b.astype(np.int16) - a.astype(np.int16)), 0, 255).astype(np.uint8)
    sheet = Image.new("RGB", (3 * s + 40, s + 28), "white")
    for i, (panel, title) in enumerate(((a, "original"), (b, "marked, 42 dB"), (diff, "x16"))):
        sheet.paste(Image.fromarray(panel), (10 + i * (s + 10), 24))
        ImageDraw.Draw(sheet).text((10 + i * (s + 10), 6), title, fill="black")
    sheet.save(OUT, optimize=True)


if __name__ == "__main__":
    main()
