"""Image attacks for the watermark benchmark: each maps an RGB uint8 array to another one.

Every attack is blind for the detector (it gets only the attacked pixels). Attacks that need
randomness take a ``numpy.random.Generator`` that the harness derives from (seed, image, attack), so
every method sees exactly the same attacked pixels. Resampling uses Pillow (bicubic with its
antialiasing filter for downscales), JPEG/WebP use Pillow's encoders at their defaults (JPEG 4:2:0).
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import cv2
import numpy as np
from PIL import Image, ImageEnhance

Array = np.ndarray
AttackFn = Callable[[Array, np.random.Generator], Array]


@dataclass(frozen=True)
class Attack:
    name: str
    fn: AttackFn
    min_side: int = 0  # applied only to images whose short side is at least this


def _pil(rgb: Array) -> Image.Image:
    return Image.fromarray(rgb, "RGB")


def _arr(img: Image.Image) -> Array:
    return np.asarray(img.convert("RGB"), dtype=np.uint8).copy()


def encode_roundtrip(rgb: Array, fmt: str, **params) -> Array:
    """Save to an in-memory file of ``fmt`` (JPEG, WEBP, PNG) and decode it again."""
    buf = io.BytesIO()
    _pil(rgb).save(buf, format=fmt, **params)
    buf.seek(0)
    return _arr(Image.open(buf))


def _jpeg(rgb: Array, rng: np.random.Generator, quality: int) -> Array:
    return encode_roundtrip(rgb, "JPEG", quality=quality)


def _webp(rgb: Array, rng: np.random.Generator, quality: int) -> Array:
    return encode_roundtrip(rgb, "WEBP", quality=quality)


def rescale_by(rgb: Array, factor: float, resample=Image.Resampling.BICUBIC) -> Array:
    h, w = rgb.shape[:2]
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    return _arr(_pil(rgb).resize(size, resample))


def _rescale(rgb: Array, rng: np.random.Generator, factor: float) -> Array:
    return rescale_by(rgb, factor)


def rescale_random(rgb: Array, rng: np.random.Generator) -> Array:
    return rescale_by(rgb, float(rng.uniform(0.6, 1.5)))


def crop_area(rgb: Array, area: float, where: str) -> Array:
    """Keep ``area`` of the pixels (same aspect), at the centre or at the top-left corner."""
    h, w = rgb.shape[:2]
    side = math.sqrt(area)
    ch, cw = max(1, round(h * side)), max(1, round(w * side))
    y0, x0 = ((h - ch) // 2, (w - cw) // 2) if where == "centre" else (0, 0)
    return rgb[y0 : y0 + ch, x0 : x0 + cw].copy()


def _crop(rgb: Array, rng: np.random.Generator, area: float, where: str) -> Array:
    return crop_area(rgb, area, where)


def _rotate(rgb: Array, rng: np.random.Generator, degrees: float) -> Array:
    """Rotate about the centre, same canvas size, corners filled with black (as torchvision)."""
    h, w = rgb.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(rgb, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0))


def _brightness(rgb: Array, rng: np.random.Generator, factor: float) -> Array:
    return _arr(ImageEnhance.Brightness(_pil(rgb)).enhance(factor))


def _contrast(rgb: Array, rng: np.random.Generator, factor: float) -> Array:
    return _arr(ImageEnhance.Contrast(_pil(rgb)).enhance(factor))


def _noise(rgb: Array, rng: np.random.Generator, sigma: float) -> Array:
    noisy = rgb.astype(np.float32) + rng.normal(0.0, sigma, rgb.shape).astype(np.float32)
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


def _blur(rgb: Array, rng: np.random.Generator, sigma: float) -> Array:
    return cv2.GaussianBlur(rgb, (0, 0), sigmaX=sigma, sigmaY=sigma)


def grayscale(rgb: Array, rng: np.random.Generator) -> Array:
    return _arr(_pil(rgb).convert("L"))


def screenshot(rgb: Array, rng: np.random.Generator) -> Array:
    """Display scaling by a random factor in [0.6, 1.5] (bilinear, as a browser) + PNG file."""
    scaled = rescale_by(rgb, float(rng.uniform(0.6, 1.5)), Image.Resampling.BILINEAR)
    return encode_roundtrip(scaled, "PNG")


def meta_combined(rgb: Array, rng: np.random.Generator) -> Array:
    """Video Seal's combined validation attack: JPEG 40, then crop (71 % area), brightness 0.5."""
    out = encode_roundtrip(rgb, "JPEG", quality=40)
    out = crop_area(out, 0.71, "centre")
    return _brightness(out, rng, 0.5)


def identity(rgb: Array, rng: np.random.Generator) -> Array:
    return rgb


ALL_ATTACKS: tuple[Attack, ...] = (
    Attack("none", identity),
    Attack("JPEG q50", partial(_jpeg, quality=50)),
    Attack("JPEG q40", partial(_jpeg, quality=40)),
    Attack("WebP q75", partial(_webp, quality=75)),
    Attack("downscale 0.5 kept", partial(_rescale, factor=0.5), min_side=512),
    Attack("rescale 0.6", partial(_rescale, factor=0.6)),
    Attack("rescale 0.8", partial(_rescale, factor=0.8)),
    Attack("rescale 1.25", partial(_rescale, factor=1.25)),
    Attack("rescale 1.5", partial(_rescale, factor=1.5)),
    Attack("rescale random 0.6-1.5", rescale_random),
    Attack("crop 75% area, centre", partial(_crop, area=0.75, where="centre")),
    Attack("crop 75% area, top-left", partial(_crop, area=0.75, where="corner")),
    Attack("rotate +2°", partial(_rotate, degrees=2.0)),
    Attack("rotate -2°", partial(_rotate, degrees=-2.0)),
    Attack("brightness +20%", partial(_brightness, factor=1.2)),
    Attack("brightness -20%", partial(_brightness, factor=0.8)),
    Attack("contrast +20%", partial(_contrast, factor=1.2)),
    Attack("contrast -20%", partial(_contrast, factor=0.8)),
    Attack("Gaussian noise σ5", partial(_noise, sigma=5.0)),
    Attack("Gaussian blur σ1", partial(_blur, sigma=1.0)),
    Attack("grayscale", grayscale),
    Attack("screenshot (rescale 0.6-1.5 + PNG)", screenshot),
    Attack("JPEG40 + crop 0.71 + brightness 0.5", meta_combined),
)

QUICK_ATTACKS = (
    "none",
    "JPEG q50",
    "rescale 0.8",
    "crop 75% area, top-left",
    "rotate +2°",
    "brightness +20%",
    "screenshot (rescale 0.6-1.5 + PNG)",
    "JPEG40 + crop 0.71 + brightness 0.5",
)


def select(names: tuple[str, ...] | None) -> list[Attack]:
    """The attacks named (in suite order), or all of them."""
    if not names:
        return list(ALL_ATTACKS)
    known = {a.name: a for a in ALL_ATTACKS}
    missing = [n for n in names if n not in known]
    if missing:
        raise SystemExit(f"unknown attack(s): {missing}; known: {list(known)}")
    return [a for a in ALL_ATTACKS if a.name in names]
