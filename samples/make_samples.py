"""Make the small sample images bundled in samples/ (run from the repo root).

They are synthetic (gradients, shapes, noise) so the project owns them outright. Each one
exercises something a real generator output has: EXIF + ICC in a JPEG, alpha in a PNG, lossy
WebP, an animated GIF, a TIFF.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, ImageDraw

OUT = Path(__file__).parent


def scene(w: int, h: int, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    r = 120 + 100 * np.sin(x / w * 3.1) * np.cos(y / h * 2.0)
    g = 90 + 120 * (y / h)
    b = 160 + 80 * np.cos((x + y) / (w + h) * 6.0)
    img = np.stack([r, g, b], -1) + rng.normal(0, 6, (h, w, 3))
    im = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(im)
    for _ in range(6):
        cx, cy, rad = rng.integers(0, w), rng.integers(0, h), rng.integers(h // 12, h // 4)
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        draw.ellipse((cx - rad, cy - rad, cx + rad, cy + rad), fill=colour)
    return im


def main() -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    photo = scene(640, 480, 1)
    exif = Image.Exif()
    exif[0x0131] = "sample-generator 1.0"  # Software
    exif[0x010F] = "aigc-tag samples"  # Make
    photo.save(OUT / "landscape.jpg", quality=88, exif=exif, icc_profile=srgb)
    rgba = scene(320, 320, 2).convert("RGBA")
    alpha = Image.new("L", rgba.size, 0)
    ImageDraw.Draw(alpha).ellipse((10, 10, 310, 310), fill=255)
    rgba.putalpha(alpha)
    rgba.save(OUT / "badge.png", optimize=True)
    scene(400, 300, 3).save(OUT / "portrait.webp", quality=80)
    frames = [scene(160, 120, 10 + i).quantize(64) for i in range(4)]
    frames[0].save(OUT / "loop.gif", save_all=True, append_images=frames[1:], duration=200, loop=0)
    scene(256, 192, 4).save(OUT / "scan.tif", compression="tiff_deflate")


if __name__ == "__main__":
    main()
