"""Stable Diffusion's invisible-watermark mark: where to draw the match threshold.

Run by hand (needs the ``sdwm`` extra; prints Markdown tables, about two minutes)::

    nice python benchmarks/sd_watermark.py            # 30 marked bases, 240 synthetic unmarked
    nice python benchmarks/sd_watermark.py --quick    # 8 marked bases, 60 unmarked

Marked: base pictures (synthetic scenes of 512-1024 px: gradients, shapes, band-limited texture,
text; and crops of the repo's and the third-party samples' photos) marked with imwatermark's own
``WatermarkEncoder`` exactly as the reference scripts call it: SD 1.x ``bytes
b"StableDiffusionV1"`` and SD 2.x ``bytes b"SDV2"`` on uint8 BGR (``txt2img.py put_watermark``),
SDXL's 48 fixed bits on float32 BGR in [0, 255] then truncated to uint8 (generative-models
``WatermarkEmbedder``). Each is read back as saved (PNG) and after JPEG quality 90.

Unmarked: the unmarked bases, synthetic pictures of other kinds and sizes (256-1600 px: flat
colour, noise of several strengths, gradients, shapes, checkerboards, text, blurred texture) and
every decodable picture in ``samples/`` and ``../shared/samples/thirdparty/unsigned``, each also
after JPEG 90. The table gives, per payload, the agreeing bits on marked vs unmarked pictures
and the false-match / miss rates at the threshold in ``aigc_tag.verify.evidence.SD_MARKS``, with
the binomial tail P(Bin(n, 1/2) >= threshold) for comparison.
"""

from __future__ import annotations

import argparse
import io
import math
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aigc_tag.verify.evidence import SD_MARKS, sd_agreement  # noqa: E402

THIRDPARTY = ROOT.parent / "shared" / "samples" / "thirdparty" / "unsigned"
_FONT = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc"


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(_FONT, size)
    except OSError:
        return ImageFont.load_default()


def real_photos() -> list[Image.Image]:
    """Every picture in samples/ and the third-party unsigned folder that Pillow decodes."""
    out = []
    for folder in (ROOT / "samples", THIRDPARTY):
        for path in sorted(folder.glob("*")) if folder.is_dir() else []:
            try:
                with Image.open(path) as im:
                    im.seek(0)
                    out.append(im.convert("RGB"))
            except Exception:  # noqa: BLE001 - not a picture (audio, video, script)
                continue
    return out


def synth(rng: np.random.Generator, kind: str, w: int, h: int) -> Image.Image:
    """One synthetic picture of ``kind``."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    if kind == "flat":
        arr = np.broadcast_to(rng.integers(0, 256, 3), (h, w, 3)).astype(np.float32)
    elif kind == "noise":
        arr = rng.normal(128, rng.uniform(2, 60), (h, w, 3))
    elif kind == "gradient":
        c0, c1 = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
        t = ((x * rng.uniform(-1, 1) + y * rng.uniform(-1, 1)) / (w + h) + 1) / 2
        arr = c0 + (c1 - c0) * t[..., None]
    elif kind == "checker":
        step = int(rng.integers(2, 64))
        arr = (((x // step + y // step) % 2) * 255)[..., None].repeat(3, -1)
    elif kind == "texture":
        small = rng.integers(0, 256, (max(2, h // 32), max(2, w // 32), 3), dtype=np.uint8)
        arr = np.asarray(Image.fromarray(small).resize((w, h), Image.BICUBIC), np.float32)
        arr = arr + rng.normal(0, rng.uniform(0, 8), arr.shape)
    else:
        arr = np.full((h, w, 3), rng.integers(150, 256), np.float32)
    im = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    if kind in ("shapes", "text", "texture", "gradient"):
        draw = ImageDraw.Draw(im)
        for _ in range(int(rng.integers(2, 12))):
            x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
            box = [
                x0,
                y0,
                x0 + int(rng.integers(10, w // 2 + 11)),
                y0 + int(rng.integers(10, h // 2 + 11)),
            ]
            fill = tuple(int(v) for v in rng.integers(0, 256, 3))
            (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=fill)
        if kind == "text":
            for _ in range(int(rng.integers(2, 8))):
                size = int(rng.integers(12, max(13, h // 8)))
                pos = (int(rng.integers(0, w // 2)), int(rng.integers(0, h - size)))
                words = rng.choice(
                    ["欢迎光临 Welcome", "2024年 夏季 Sale 50%", "Hello world", "新品上市"]
                )
                draw.text(pos, str(words), fill=tuple(int(v) for v in rng.integers(0, 256, 3)),
                          font=_font(size))  # fmt: skip
    if rng.random() < 0.3:
        im = im.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 3)))
    return im


def bases(rng: np.random.Generator, n: int, photos: list[Image.Image]) -> list[Image.Image]:
    """Generator-sized pictures to mark: random crops/rescales of the photos and textured
    synthetic scenes with grain (generator output is rarely flat; flat ones are measured apart
    in :func:`flat_bases`)."""
    out = []
    sizes = [(512, 512), (768, 768), (1024, 1024), (832, 1216), (1216, 832), (640, 512)]
    for i in range(n):
        w, h = sizes[i % len(sizes)]
        if photos and i % 3:
            photo = photos[int(rng.integers(0, len(photos)))]
            scale = rng.uniform(0.5, 1.0)
            cw, ch = max(64, int(photo.width * scale)), max(64, int(photo.height * scale))
            x0 = int(rng.integers(0, photo.width - cw + 1))
            y0 = int(rng.integers(0, photo.height - ch + 1))
            out.append(photo.crop((x0, y0, x0 + cw, y0 + ch)).resize((w, h), Image.LANCZOS))
        else:
            im = synth(rng, ["texture", "shapes", "gradient", "text"][i % 4], w, h)
            grain = rng.normal(0, rng.uniform(3, 10), (h, w, 3))
            out.append(Image.fromarray(np.clip(np.asarray(im) + grain, 0, 255).astype(np.uint8)))
    return out


def flat_bases(rng: np.random.Generator, n: int) -> list[Image.Image]:
    """Flat, grain-free scenes (shapes on a plain ground, smooth gradients)."""
    return [synth(rng, ["shapes", "gradient"][i % 2], 768, 768) for i in range(n)]


def mark(im: Image.Image, which: str) -> Image.Image:
    """``im`` marked as the reference scripts do."""
    import cv2
    from imwatermark import WatermarkEncoder

    enc = WatermarkEncoder()
    rgb = np.asarray(im.convert("RGB"))
    if which == "sdxl":
        bits = [int(b) for b in format(0xB3EC907BB19E, "048b")]
        enc.set_watermark("bits", bits)
        bgr = rgb[:, :, ::-1].astype(np.float32)  # 255 * a [0, 1] tensor, BGR
        out = enc.encode(np.ascontiguousarray(bgr), "dwtDct")[:, :, ::-1]
        return Image.fromarray(np.clip(out, 0, 255).astype(np.uint8))  # the script truncates
    enc.set_watermark("bytes", b"StableDiffusionV1" if which == "sd1" else b"SDV2")
    out = enc.encode(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), "dwtDct")
    return Image.fromarray(out[:, :, ::-1])


def jpeg(im: Image.Image, quality: int = 90) -> Image.Image:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def tail(n: int, k: int) -> float:
    return sum(math.comb(n, i) for i in range(k, n + 1)) / 2**n


_NAME = {"sd1": SD_MARKS[0].name, "sd2": SD_MARKS[1].name, "sdxl": SD_MARKS[2].name}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    n_marked, n_unmarked = (8, 60) if args.quick else (30, 240)
    photos = real_photos()
    started = time.monotonic()
    base = bases(rng, n_marked, photos)
    flat = flat_bases(rng, max(4, n_marked // 5))
    marked: dict[str, dict[str, list[int]]] = {
        k: {"png": [], "jpeg90": [], "flat_png": []} for k in _NAME
    }
    for im in base:
        for which, name in _NAME.items():
            m = mark(im, which)
            marked[which]["png"].append(sd_agreement(m)[name])
            marked[which]["jpeg90"].append(sd_agreement(jpeg(m))[name])
    for im in flat:
        for which, name in _NAME.items():
            marked[which]["flat_png"].append(sd_agreement(mark(im, which))[name])
    unmarked_imgs = list(base) + list(flat) + [p for p in photos if p.width * p.height >= 256 * 256]
    kinds = ["flat", "noise", "gradient", "checker", "texture", "shapes", "text"]
    for i in range(n_unmarked):
        w, h = int(rng.integers(256, 1600)), int(rng.integers(256, 1600))
        unmarked_imgs.append(synth(rng, kinds[i % len(kinds)], w, h))
    unmarked: dict[str, list[int]] = {k: [] for k in _NAME}
    for im in unmarked_imgs:
        for variant in (im, jpeg(im)):
            got = sd_agreement(variant)
            for which, name in _NAME.items():
                unmarked[which].append(got[name])
    reads = len(unmarked["sd1"])
    took = time.monotonic() - started
    print(f"marked bases: {len(base)}; unmarked pictures: {len(unmarked_imgs)} "
          f"(x2 with JPEG 90 = {reads} reads); {took:.0f} s\n")  # fmt: skip
    print(
        "| payload | bits | threshold | marked PNG min / mean | miss PNG | miss JPEG 90 | "
        "miss flat PNG | unmarked max / mean | false matches | binomial tail | partial at | "
        "false partial |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for which, name in _NAME.items():
        spec = next(m for m in SD_MARKS if m.name == name)
        png, jpg, un = marked[which]["png"], marked[which]["jpeg90"], unmarked[which]
        fl = marked[which]["flat_png"]
        t = spec.threshold
        print(
            f"| {name} | {len(spec.bits)} | {t} | {min(png)} / {np.mean(png):.1f} | "
            f"{sum(v < t for v in png)}/{len(png)} | {sum(v < t for v in jpg)}/{len(jpg)} | "
            f"{sum(v < t for v in fl)}/{len(fl)} | {max(un)} / {np.mean(un):.1f} | "
            f"{sum(v >= t for v in un)}/{len(un)} | {tail(len(spec.bits), t):.1e} | "
            f"{spec.partial} | {sum(v >= spec.partial for v in un)}/{len(un)} |"
        )
    print("\nunmarked histogram tails (agreeing bits: count), top 5 per payload:")
    for which in _NAME:
        values, counts = np.unique(unmarked[which], return_counts=True)
        print(
            f"  {which}: "
            + ", ".join(f"{v}: {c}" for v, c in list(zip(values, counts, strict=True))[-5:])
        )
    print("marked distributions:")
    for which in _NAME:
        for variant in ("png", "jpeg90", "flat_png"):
            print(f"  {which} {variant}: {sorted(marked[which][variant])}")
    cost()


def cost() -> None:
    """CPU time of one read (all three payloads) by picture size, OpenCV on one thread."""
    import cv2

    cv2.setNumThreads(1)
    print("\n| picture | CPU per read |\n|---|---|")
    for side in (512, 1024, 2048, 4096):
        noise = np.random.default_rng(0).integers(0, 256, (side, side, 3), dtype=np.uint8)
        im = Image.fromarray(noise)
        sd_agreement(im)
        started = time.process_time()
        sd_agreement(im)
        print(f"| {side}x{side} | {(time.process_time() - started) * 1000:.0f} ms |")


if __name__ == "__main__":
    main()
