"""Image attacks for the watermark benchmark: each maps an RGB uint8 array to another one.

Every attack is blind for the detector (it gets only the attacked pixels). Attacks that need
randomness take a ``numpy.random.Generator`` that the harness derives from (seed, image, attack), so
every method sees exactly the same attacked pixels. Resampling uses Pillow (bicubic with its
antialiasing filter for downscales), JPEG/WebP use Pillow's encoders at their defaults (JPEG 4:2:0).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import cv2
import numpy as np
from PIL import Image, ImageEnhance

# The transforms ``aigc-tag survive`` runs too: one copy, in the package.
from aigc_tag.survive.pipelines import (
    crop_area,
    encode_roundtrip,
    fit_long_side,
    rescale_by,
    rotate,
)

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


def _jpeg(rgb: Array, rng: np.random.Generator, quality: int) -> Array:
    return encode_roundtrip(rgb, "JPEG", quality=quality)


def _webp(rgb: Array, rng: np.random.Generator, quality: int) -> Array:
    return encode_roundtrip(rgb, "WEBP", quality=quality)


def _rescale(rgb: Array, rng: np.random.Generator, factor: float) -> Array:
    return rescale_by(rgb, factor)


def rescale_random(rgb: Array, rng: np.random.Generator) -> Array:
    return rescale_by(rgb, float(rng.uniform(0.6, 1.5)))


def _crop(rgb: Array, rng: np.random.Generator, area: float, where: str) -> Array:
    return crop_area(rgb, area, where)


def _rotate(rgb: Array, rng: np.random.Generator, degrees: float) -> Array:
    """Rotate about the centre, same canvas size, corners filled with black (as torchvision)."""
    return rotate(rgb, degrees)


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

# ----------------------------------------------------------------------- the issue-15 suite
# Platform pipelines and edits users meet (issue 15): wider ranges than ALL_ATTACKS, and chains.


def _jpeg_sub(rgb: Array, rng: np.random.Generator, quality: int, subsampling: int) -> Array:
    return encode_roundtrip(rgb, "JPEG", quality=quality, subsampling=subsampling)


def _avif(rgb: Array, rng: np.random.Generator, quality: int) -> Array:
    return encode_roundtrip(rgb, "AVIF", quality=quality)


def resize_long_side(rgb: Array, long_side: int) -> Array:
    """A platform's downscale to a long side (Lanczos; smaller images are kept as they are,
    platforms do not upscale), then its JPEG q85 re-encode."""
    return encode_roundtrip(fit_long_side(rgb, long_side), "JPEG", quality=85)


def _resize_long(rgb: Array, rng: np.random.Generator, long_side: int) -> Array:
    return resize_long_side(rgb, long_side)


def _upscale_long(rgb: Array, rng: np.random.Generator, long_side: int) -> Array:
    """An upscaler's output (Lanczos to the long side, any factor), then JPEG q85."""
    h, w = rgb.shape[:2]
    out = rescale_by(rgb, long_side / max(h, w), Image.Resampling.LANCZOS)
    return encode_roundtrip(out, "JPEG", quality=85)


def _crop_anywhere(rgb: Array, rng: np.random.Generator, area: float) -> Array:
    h, w = rgb.shape[:2]
    side = math.sqrt(area)
    ch, cw = max(1, round(h * side)), max(1, round(w * side))
    y0, x0 = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    return rgb[y0 : y0 + ch, x0 : x0 + cw].copy()


def crop_aspect(rgb: Array, rng: np.random.Generator, aspect: float) -> Array:
    """The largest crop of width/height ``aspect``, at a random offset (a feed's crop)."""
    h, w = rgb.shape[:2]
    cw, ch = (w, round(w / aspect)) if w / h < aspect else (round(h * aspect), h)
    cw, ch = min(cw, w), min(ch, h)
    y0, x0 = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    return rgb[y0 : y0 + ch, x0 : x0 + cw].copy()


def _transpose(rgb: Array, rng: np.random.Generator, how: Image.Transpose) -> Array:
    return _arr(_pil(rgb).transpose(how))


def _stretch(rgb: Array, rng: np.random.Generator, fx: float) -> Array:
    h, w = rgb.shape[:2]
    return _arr(_pil(rgb).resize((max(1, round(w * fx)), h), Image.Resampling.BICUBIC))


def _saturation(rgb: Array, rng: np.random.Generator, factor: float) -> Array:
    return _arr(ImageEnhance.Color(_pil(rgb)).enhance(factor))


def _gamma(rgb: Array, rng: np.random.Generator, gamma: float) -> Array:
    lut = np.clip(np.rint(255.0 * (np.arange(256) / 255.0) ** gamma), 0, 255).astype(np.uint8)
    return lut[rgb]


def _hue(rgb: Array, rng: np.random.Generator, degrees: float) -> Array:
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    hsv[..., 0] = ((hsv[..., 0].astype(np.int32) + round(degrees / 2)) % 180).astype(np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)


def _sharpen(rgb: Array, rng: np.random.Generator) -> Array:
    from PIL import ImageFilter

    return _arr(_pil(rgb).filter(ImageFilter.UnsharpMask(radius=2, percent=120, threshold=2)))


def _median(rgb: Array, rng: np.random.Generator, size: int) -> Array:
    return cv2.medianBlur(rgb, size)


def _screenshot_at(rgb: Array, rng: np.random.Generator, scale: float) -> Array:
    """A screenshot on a display scaled by ``scale`` (bilinear, as a compositor) saved as PNG."""
    return encode_roundtrip(rescale_by(rgb, scale, Image.Resampling.BILINEAR), "PNG")


def _cover(rgb: Array, rng: np.random.Generator, kind: str) -> Array:
    """Cover 20 % of the image: a sticker (a random blob of colour) or a text band at the foot."""
    from PIL import ImageDraw

    img = _pil(rgb)
    draw = ImageDraw.Draw(img)
    h, w = rgb.shape[:2]
    if kind == "band":
        top = round(h * 0.8)
        draw.rectangle((0, top, w, h), fill=(20, 20, 20))
        draw.text((w * 0.05, top + h * 0.05), "@user  #AIGC  reposted", fill=(255, 255, 255),
                  font_size=max(10, h // 14))  # fmt: skip
    else:
        side = math.sqrt(0.2 * h * w)
        y0, x0 = rng.uniform(0, max(h - side, 1)), rng.uniform(0, max(w - side, 1))
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        draw.ellipse((x0, y0, x0 + side, y0 + side * 1.0), fill=fill, outline=(0, 0, 0), width=4)
    return _arr(img)


def chat_app(rgb: Array, rng: np.random.Generator) -> Array:
    """A chat app: 0.8x Lanczos, JPEG q70 4:2:0."""
    return encode_roundtrip(rescale_by(rgb, 0.8, Image.Resampling.LANCZOS), "JPEG", quality=70)


CHAIN_STEPS: tuple[tuple[str, AttackFn], ...] = (
    ("JPEG q60", partial(_jpeg, quality=60)),
    ("WebP q70", partial(_webp, quality=70)),
    ("rescale 0.7", partial(_rescale, factor=0.7)),
    ("rescale 1.3", partial(_rescale, factor=1.3)),
    ("crop 70%", partial(_crop_anywhere, area=0.7)),
    ("rotate 3°", partial(_rotate, degrees=3.0)),
    ("contrast +20%", partial(_contrast, factor=1.2)),
    ("saturation -20%", partial(_saturation, factor=0.8)),
    ("sharpen", _sharpen),
    ("noise σ4", partial(_noise, sigma=4.0)),
)


def chain3(rgb: Array, rng: np.random.Generator) -> Array:
    """Three random steps of CHAIN_STEPS in a random order, always ending with a re-encode."""
    picks = rng.choice(len(CHAIN_STEPS), 3, replace=False)
    for k in picks:
        rgb = CHAIN_STEPS[int(k)][1](rgb, rng)
    return encode_roundtrip(rgb, "JPEG", quality=85)


T = Image.Transpose
ISSUE_ATTACKS: tuple[Attack, ...] = (
    Attack("none", identity),
    Attack("JPEG q30", partial(_jpeg_sub, quality=30, subsampling=2)),
    Attack("JPEG q50", partial(_jpeg_sub, quality=50, subsampling=2)),
    Attack("JPEG q70", partial(_jpeg_sub, quality=70, subsampling=2)),
    Attack("JPEG q90", partial(_jpeg_sub, quality=90, subsampling=2)),
    Attack("JPEG q50 4:4:4", partial(_jpeg_sub, quality=50, subsampling=0)),
    Attack("WebP q50", partial(_webp, quality=50)),
    Attack("WebP q90", partial(_webp, quality=90)),
    Attack("AVIF q60", partial(_avif, quality=60)),
    Attack("rescale 0.4", partial(_rescale, factor=0.4), min_side=640),
    Attack("rescale 0.6", partial(_rescale, factor=0.6)),
    Attack("rescale 1.5", partial(_rescale, factor=1.5)),
    Attack("rescale 2.0", partial(_rescale, factor=2.0)),
    Attack("fit long 1080 + JPEG85", partial(_resize_long, long_side=1080)),
    Attack("fit long 1280 + JPEG85", partial(_resize_long, long_side=1280)),
    Attack("fit long 2048 + JPEG85", partial(_resize_long, long_side=2048)),
    Attack("upscale long 2048 + JPEG85", partial(_upscale_long, long_side=2048)),
    Attack("crop 50% area anywhere", partial(_crop_anywhere, area=0.5)),
    Attack("crop 1:1", partial(crop_aspect, aspect=1.0)),
    Attack("crop 3:4", partial(crop_aspect, aspect=0.75)),
    Attack("crop 9:16", partial(crop_aspect, aspect=9 / 16)),
    Attack("rotate +5°", partial(_rotate, degrees=5.0)),
    Attack("rotate -10°", partial(_rotate, degrees=-10.0)),
    Attack("rotate 90°", partial(_transpose, how=T.ROTATE_90)),
    Attack("rotate 180°", partial(_transpose, how=T.ROTATE_180)),
    Attack("rotate 270°", partial(_transpose, how=T.ROTATE_270)),
    Attack("mirror", partial(_transpose, how=T.FLIP_LEFT_RIGHT)),
    Attack("stretch width +10%", partial(_stretch, fx=1.1)),
    Attack("stretch width -10%", partial(_stretch, fx=0.9)),
    Attack("brightness +30%", partial(_brightness, factor=1.3)),
    Attack("brightness -30%", partial(_brightness, factor=0.7)),
    Attack("contrast +30%", partial(_contrast, factor=1.3)),
    Attack("contrast -30%", partial(_contrast, factor=0.7)),
    Attack("saturation +30%", partial(_saturation, factor=1.3)),
    Attack("saturation -30%", partial(_saturation, factor=0.7)),
    Attack("gamma 0.7", partial(_gamma, gamma=0.7)),
    Attack("gamma 1.3", partial(_gamma, gamma=1.3)),
    Attack("hue +30°", partial(_hue, degrees=30.0)),
    Attack("sharpen", _sharpen),
    Attack("blur σ1.5", partial(_blur, sigma=1.5)),
    Attack("median 3", partial(_median, size=3)),
    Attack("noise σ8", partial(_noise, sigma=8.0)),
    Attack("grayscale", grayscale),
    Attack("screenshot 1.25", partial(_screenshot_at, scale=1.25)),
    Attack("screenshot 1.5", partial(_screenshot_at, scale=1.5)),
    Attack("sticker 20%", partial(_cover, kind="sticker")),
    Attack("text band 20%", partial(_cover, kind="band")),
    Attack("chat app (0.8 Lanczos + JPEG70)", chat_app),
    Attack("chain of 3 + JPEG85", chain3),
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


def select(names: tuple[str, ...] | None, suite: tuple[Attack, ...] = ALL_ATTACKS) -> list[Attack]:
    """The attacks named (in suite order), or all of them."""
    if not names:
        return list(suite)
    known = {a.name: a for a in suite}
    missing = [n for n in names if n not in known]
    if missing:
        raise SystemExit(f"unknown attack(s): {missing}; known: {list(known)}")
    return [a for a in suite if a.name in names]
