"""A varied image corpus for the watermark benchmark, generated into ``build/image_corpus``.

Run ``python benchmarks/_image_corpus.py [--count N] [--out DIR]``; the benchmark calls
:func:`build` itself when the folder is missing. Every image is a file (PNG for synthetic kinds,
JPEG with an EXIF Orientation tag for the camera-like ones), listed in ``manifest.json`` with its
kind and size, so the same corpus can be re-read by other tools.

Kinds (what users meet, not what flatters a watermark): ``photo-texture`` (1/f colour noise with
a fine-grain layer: foliage, gravel, fabric), ``synthetic`` (gradients, flat discs, a texture band,
grain: generator renders), ``flat-illustration`` (flat shapes with outlines), ``anime`` (cel-shaded
flat regions, black outlines, a smooth sky), ``logo-on-white`` (shapes and a word on pure white),
``dark-scene`` (night: luma mostly below 30, a few lights), ``gradient`` (linear and radial, no
texture), ``poster-text`` (large text over a gradient), ``line-art`` (near-binary black strokes on
white), ``real-photo`` (crops and rescales of the real photographs under
``../shared/samples/thirdparty/unsigned`` and ``samples``), ``camera`` (real photos at camera
aspect ratios, stored rotated with EXIF Orientation 3, 6 or 8, as phones write them).

Sizes: the generator sizes 512x512, 768x768, 1024x1024, 1024x1536 and a few 2048x2048, plus
small 256x256, 375x375 and 480x480 images (the ones the v1 engine refused or marked weakly).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "build/image_corpus"
REAL_DIRS = (REPO.parent / "shared/samples/thirdparty/unsigned", REPO / "samples")
REAL_EXT = {".jpg", ".jpeg", ".png", ".webp", ".avif", ".tif", ".tiff"}
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
KINDS = (
    "photo-texture", "synthetic", "flat-illustration", "anime", "logo-on-white", "dark-scene",
    "gradient", "poster-text", "line-art", "real-photo", "camera",
)  # fmt: skip
# (width, height) and relative frequency; 2048^2 kept rare to bound the benchmark's run time.
SIZES = (
    ((512, 512), 6), ((768, 768), 3), ((1024, 1024), 3), ((1024, 1536), 2), ((2048, 2048), 0.4),
    ((256, 256), 1.2), ((375, 375), 1), ((480, 480), 1.2),
)  # fmt: skip
WORDS = "AIGC SALE NEW 2025 OPEN 限时 CITY NIGHT FESTIVAL MODEL DREAM 标识 LABEL".split()


def _font(size: int) -> ImageFont.FreeTypeFont:
    try:
        return ImageFont.truetype(FONT, size)
    except OSError:
        return ImageFont.load_default(size=size)


def _smooth(rng: np.random.Generator, shape, sigma: float) -> np.ndarray:
    noise = cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (0, 0), sigma)
    return noise / (noise.std() + 1e-9)


def _pink(rng: np.random.Generator, h: int, w: int, beta: float) -> np.ndarray:
    """Unit-variance noise with a 1/f^beta amplitude spectrum (natural-image statistics)."""
    fy, fx = np.fft.fftfreq(h)[:, None], np.fft.rfftfreq(w)[None, :]
    r = np.sqrt(fy**2 + fx**2)
    r[0, 0] = 1.0
    spec = (rng.standard_normal(r.shape) + 1j * rng.standard_normal(r.shape)) / r**beta
    spec[0, 0] = 0.0
    x = np.fft.irfft2(spec, s=(h, w)).astype(np.float32)
    return x / (x.std() + 1e-9)


def _u8(img: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def photo_texture(rng, h, w) -> np.ndarray:
    base = rng.uniform(70, 180, 3)
    tint = rng.uniform(0.6, 1.4, 3)
    lum = _pink(rng, h, w, rng.uniform(0.7, 1.1)) * rng.uniform(25, 55)
    grain = _smooth(rng, (h, w), 0.7) * rng.uniform(4, 14)
    chroma = np.stack([_pink(rng, h, w, 1.2) for _ in range(3)], -1) * 12
    return _u8(base + (lum + grain)[..., None] * tint + chroma)


def synthetic(rng, h, w) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w].astype(np.float32) / max(h, w)
    img = np.stack([110 + 80 * x, 90 + 70 * np.sin(3 * y + 1), 150 - 60 * (x * y)], axis=-1)
    img = img + 25 * _smooth(rng, (h, w), max(h, w) / 16)[..., None]
    for _ in range(6):
        cy, cx, r = rng.uniform(0.1, 0.9), rng.uniform(0.1, 0.9), rng.uniform(0.04, 0.15)
        img[(y - cy) ** 2 + (x - cx) ** 2 < r**2] = rng.uniform(20, 235, 3)
    band = (x > 0.55) & (x < 0.95) & (y > 0.5)
    img[band] += (35 * _smooth(rng, (h, w), 1.2))[band][:, None]
    return _u8(img + 3 * rng.standard_normal(img.shape))


def _shapes(draw: ImageDraw.ImageDraw, rng, h, w, n: int, outline, palette) -> None:
    for _ in range(n):
        x0, y0 = rng.uniform(-0.1, 0.9) * w, rng.uniform(-0.1, 0.9) * h
        x1, y1 = x0 + rng.uniform(0.08, 0.5) * w, y0 + rng.uniform(0.08, 0.5) * h
        fill = tuple(int(v) for v in palette[int(rng.integers(len(palette)))])
        shape = (draw.ellipse, draw.rectangle, draw.rounded_rectangle)[int(rng.integers(3))]
        width = int(outline[1]) if outline else 0
        shape((x0, y0, x1, y1), fill=fill, outline=outline[0] if outline else None, width=width)


def flat_illustration(rng, h, w) -> np.ndarray:
    palette = rng.integers(30, 250, (5, 3))
    img = Image.new("RGB", (w, h), tuple(int(v) for v in rng.integers(150, 256, 3)))
    _shapes(ImageDraw.Draw(img), rng, h, w, 12, ((40, 40, 40), max(2, w // 200)), palette)
    return np.asarray(img)


def anime(rng, h, w) -> np.ndarray:
    y = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    sky = np.array([120, 180, 250]) * (1 - y) + np.array([230, 240, 255]) * y
    img = Image.fromarray(_u8(np.broadcast_to(sky, (h, w, 3))))
    draw = ImageDraw.Draw(img)
    skin, hair = (250, 220, 200), tuple(int(v) for v in rng.integers(20, 200, 3))
    cx, cy, r = w * rng.uniform(0.35, 0.65), h * rng.uniform(0.45, 0.6), min(h, w) * 0.22
    draw.ellipse((cx - 1.3 * r, cy - 1.4 * r, cx + 1.3 * r, cy + 0.6 * r), fill=hair)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=skin, outline=(20, 20, 20), width=3)
    for dx in (-0.4, 0.4):  # eyes: flat colour with a white highlight
        ex, ey = cx + dx * r, cy - 0.05 * r
        draw.ellipse((ex - 0.18 * r, ey - 0.25 * r, ex + 0.18 * r, ey + 0.25 * r),
                     fill=(60, 90, 160), outline=(10, 10, 10), width=2)  # fmt: skip
        draw.ellipse((ex - 0.06 * r, ey - 0.15 * r, ex + 0.02 * r, ey - 0.05 * r), fill="white")
    draw.rectangle((0, int(h * 0.85), w, h), fill=(90, 160, 80), outline=(20, 20, 20), width=3)
    return np.asarray(img)


def logo_on_white(rng, h, w) -> np.ndarray:
    img = Image.new("RGB", (w, h), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    palette = rng.integers(0, 230, (3, 3))
    s = min(h, w)
    cx, cy = w / 2, h * 0.42
    _shapes(draw, np.random.default_rng(int(rng.integers(1 << 30))), s // 3, s // 3, 0, None, [])
    draw.ellipse((cx - s * 0.18, cy - s * 0.18, cx + s * 0.18, cy + s * 0.18),
                 fill=tuple(int(v) for v in palette[0]))  # fmt: skip
    draw.rectangle((cx - s * 0.08, cy - s * 0.08, cx + s * 0.08, cy + s * 0.08),
                   fill=tuple(int(v) for v in palette[1]))  # fmt: skip
    word = str(rng.choice(WORDS))
    draw.text((cx, h * 0.75), word, fill=tuple(int(v) for v in palette[2]),
              font=_font(max(12, s // 8)), anchor="mm")  # fmt: skip
    return np.asarray(img)


def dark_scene(rng, h, w) -> np.ndarray:
    lum = 12 + 8 * _pink(rng, h, w, 1.2) + 2 * _smooth(rng, (h, w), 0.8)
    img = np.stack([lum * 0.8, lum * 0.9, lum * 1.3], -1)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    for _ in range(int(rng.integers(3, 12))):  # street lights and windows
        cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(3, 0.03 * max(h, w))
        glow = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))
        img += glow[..., None] * rng.uniform(80, 240, 3)
    return _u8(img)


def gradient(rng, h, w) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    if rng.random() < 0.5:
        angle = rng.uniform(0, 2 * math.pi)
        t = (x * math.cos(angle) + y * math.sin(angle)) / max(h, w)
        t = (t - t.min()) / (t.max() - t.min() + 1e-9)
    else:
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        t = np.sqrt((y - cy) ** 2 + (x - cx) ** 2)
        t = t / (t.max() + 1e-9)
    a, b = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    return _u8(a + (b - a) * t[..., None])


def poster_text(rng, h, w) -> np.ndarray:
    img = Image.fromarray(gradient(rng, h, w))
    draw = ImageDraw.Draw(img)
    for i in range(int(rng.integers(2, 5))):
        size = int(min(h, w) * rng.uniform(0.08, 0.2))
        text = " ".join(rng.choice(WORDS, int(rng.integers(1, 3))))
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        draw.text((w * 0.06, h * (0.08 + 0.22 * i)), text, fill=fill, font=_font(size),
                  stroke_width=max(1, size // 20), stroke_fill=(0, 0, 0))  # fmt: skip
    return np.asarray(img)


def line_art(rng, h, w) -> np.ndarray:
    img = Image.new("L", (w, h), 255)
    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(15, 40))):
        pts = [(float(rng.uniform(0, w)), float(rng.uniform(0, h))) for _ in range(4)]
        draw.line(pts, fill=int(rng.integers(0, 40)), width=int(rng.integers(1, 5)), joint="curve")
    for _ in range(4):
        x0, y0 = rng.uniform(0, w * 0.8), rng.uniform(0, h * 0.8)
        r = rng.uniform(0.05, 0.2) * min(h, w)
        draw.ellipse((x0, y0, x0 + r, y0 + r), outline=0, width=2)
    return np.asarray(img.convert("RGB"))


GENERATORS = {
    "photo-texture": photo_texture,
    "synthetic": synthetic,
    "flat-illustration": flat_illustration,
    "anime": anime,
    "logo-on-white": logo_on_white,
    "dark-scene": dark_scene,
    "gradient": gradient,
    "poster-text": poster_text,
    "line-art": line_art,
}


def real_photos() -> list[tuple[str, np.ndarray]]:
    """The real photographs at hand (display-oriented RGB, at least 256 px on the short side)."""
    out = []
    for folder in REAL_DIRS:
        if not folder.is_dir():
            print(f"> note: {folder} is absent: its photos are left out", file=sys.stderr)
            continue
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() not in REAL_EXT:
                continue
            try:
                with Image.open(path) as img:
                    if img.mode == "1":  # a bi-level scan is line art, not a photo
                        continue
                    rgb = np.asarray(ImageOps.exif_transpose(img).convert("RGB")).copy()
            except (OSError, ValueError) as exc:
                print(f"> note: {path.name} not opened ({exc}); skipped", file=sys.stderr)
                continue
            if min(rgb.shape[:2]) >= 256:
                out.append((path.name, rgb))
    return out


def _resize(rgb: np.ndarray, w: int, h: int) -> np.ndarray:
    return np.asarray(Image.fromarray(rgb).resize((w, h), Image.Resampling.LANCZOS))


def real_variant(rng, pool, h, w) -> tuple[str, np.ndarray]:
    """A crop of a real photo with the target aspect, resampled to the target size."""
    name, rgb = pool[int(rng.integers(len(pool)))]
    ph, pw = rgb.shape[:2]
    aspect = w / h
    ch = int(min(ph, pw / aspect) * rng.uniform(0.6, 1.0))
    cw = int(ch * aspect)
    y0, x0 = int(rng.integers(0, ph - ch + 1)), int(rng.integers(0, pw - cw + 1))
    return name, _resize(rgb[y0 : y0 + ch, x0 : x0 + cw], w, h)


CAMERA_SIZES = ((1024, 768), (1280, 960), (1200, 900), (1024, 759), (960, 1280))


def _pick_size(rng) -> tuple[int, int]:
    weights = np.array([s[1] for s in SIZES], float)
    return SIZES[int(rng.choice(len(SIZES), p=weights / weights.sum()))][0]


def _save_camera(rgb: np.ndarray, path: Path, orientation: int) -> None:
    """Store the pixels rotated as a phone would, with the EXIF tag that undoes it."""
    stored = {3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90,
              8: Image.Transpose.ROTATE_270}[orientation]  # fmt: skip
    img = Image.fromarray(rgb).transpose(stored)
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F], exif[0x0110] = "Corpus", "Camera-like"
    img.save(path, "JPEG", quality=92, exif=exif.tobytes())


def build(out: Path = DEFAULT_OUT, count: int = 330, seed: int = 2025) -> list[dict]:
    """Generate ``count`` images into ``out`` and write ``manifest.json``; returns the entries."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    pool = real_photos()
    kinds = [k for k in KINDS if pool or k not in ("real-photo", "camera")]
    entries = [{"file": f"real-original-{n}.png", "kind": "real-photo", "name": n}
               for n, _ in pool]  # fmt: skip
    for (_, rgb), entry in zip(pool, entries, strict=True):
        Image.fromarray(rgb).save(out / entry["file"])
    for i in range(count - len(entries)):
        kind = kinds[i % len(kinds)]
        w, h = _pick_size(rng)
        if kind == "camera":
            w, h = CAMERA_SIZES[int(rng.integers(len(CAMERA_SIZES)))]
            _, rgb = real_variant(rng, pool, h, w)
            orientation = int(rng.choice([3, 6, 8]))
            file = f"{kind}-{i:03d}-{w}x{h}-o{orientation}.jpg"
            _save_camera(rgb, out / file, orientation)
        else:
            if kind == "real-photo":
                _, rgb = real_variant(rng, pool, h, w)
            else:
                rgb = GENERATORS[kind](np.random.default_rng(int(rng.integers(1 << 31))), h, w)
            file = f"{kind}-{i:03d}-{w}x{h}.png"
            Image.fromarray(rgb).save(out / file, compress_level=1)
        entries.append({"file": file, "kind": kind, "width": w, "height": h})
    (out / "manifest.json").write_text(json.dumps(entries, indent=1))
    return entries


def load(out: Path = DEFAULT_OUT, count: int = 330) -> list[tuple[str, str, np.ndarray]]:
    """(file, kind, display-oriented RGB) for every corpus image; builds the corpus if absent."""
    manifest = out / "manifest.json"
    entries = json.loads(manifest.read_text()) if manifest.is_file() else build(out, count)
    images = []
    for e in entries:
        with Image.open(out / e["file"]) as img:
            rgb = np.asarray(ImageOps.exif_transpose(img).convert("RGB")).copy()
        images.append((e["file"], e["kind"], rgb))
    return images


def composition(images) -> str:
    """One line per kind: count and sizes, printed with every table."""
    rows = {}
    for _, kind, rgb in images:
        rows.setdefault(kind, []).append(f"{rgb.shape[1]}x{rgb.shape[0]}")
    lines = [f"corpus: {len(images)} images"]
    for kind in sorted(rows):
        sizes = {s: rows[kind].count(s) for s in sorted(set(rows[kind]))}
        lines.append(f"  {kind:18s} {len(rows[kind]):3d}: " +
                     ", ".join(f"{s} x{n}" for s, n in sizes.items()))  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=330)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args(argv)
    build(args.out, args.count, args.seed)
    print(composition(load(args.out)))


if __name__ == "__main__":
    main()
