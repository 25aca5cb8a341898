"""Build a corpus for the explicit-label OCR (aigc_tag/visible/ocr.py) into a folder.

    python tools/make_ocr_corpus.py OUT [--positives 300] [--negatives 240] [--seed 1]

Positives are explicit labels drawn the way other tools draw them (Pillow directly, never
aigc-tag's caption renderer): several CJK fonts found on the machine, the usual wordings, glyph
heights of 3-10 % of the shortest side, every corner and edge, white, black or coloured text,
plain or on a box, with a shadow or an outline, over flat, noisy, gradient, textured, busy
(shapes) and photographic backgrounds, picture sizes from 512x512 to 2048x1536, saved as PNG or
JPEG. Some carry an ordinary second line of text elsewhere. Negatives carry ordinary Chinese and
English text that is no label (signs, "欢迎光临", "生成器", "AI" alone, "AI助手", "生成失败",
menus, posters) on the same backgrounds, anywhere in the picture.

``OUT/manifest.jsonl`` holds one line per picture: ``file``, ``label`` (bool), ``text``,
``position``, ``glyph_ratio`` (tallest hanzi, or tallest glyph without hanzi, ink rows at >= 50 %
coverage / shortest side, as aigc-tag's caption renderer measures it), ``ink_box``, ``font``,
``style``, ``colour``, ``background``, ``size``. Never write the corpus into the repository.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

REPO = Path(__file__).resolve().parent.parent
NOTO = Path("/usr/share/fonts/opentype/noto")
PHOTO_DIRS = (Path("/work/shared/samples/thirdparty/unsigned"), REPO / "samples")
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".heic", ".avif"}

WORDINGS = (
    "AI生成", "人工智能生成", "AI合成", "由AI生成", "本内容由人工智能生成", "AI生成 / AI-generated",
    "AI-generated",
)  # fmt: skip
NEGATIVES = (
    "欢迎光临", "生成器", "AI", "AI助手", "生成失败", "营业时间 9:00-21:00", "今日特价",
    "出口 EXIT", "禁止吸烟", "新品上市", "AI Assistant", "Generator", "Welcome", "OPEN",
    "人工智能大会",
    "合成革沙发", "照片合成失败", "AI助手 智能问答", "数据生成中", "生成二维码", "AI画图生成器",
    "人工合成", "AI赋能 智能生活", "限时折扣 全场五折", "扫码关注公众号", "请勿停车", "美食推荐",
    "春节快乐", "Summer Sale 50% OFF", "Coffee & Tea", "北京欢迎你", "智能手机专卖", "AIGC大会",
    "生成时间: 2025-09-01", "Generated report", "非AI生成", "宫保鸡丁 28元", "鱼香肉丝 26元",
    "麻婆豆腐 18元", "米饭 2元", "小心地滑", "安全出口", "第三届AI创新论坛", "合成作业",
    "Made in China", "会员日", "停车场入口", "Hello World", "新品发布会", "AI Lab", "生成", "合成",
    "智能客服",
)  # fmt: skip
POSITIONS = ("top-left", "top", "top-right", "left", "right", "bottom-left", "bottom",
             "bottom-right")  # fmt: skip
SIZES = ((512, 512), (640, 480), (800, 600), (1024, 768), (768, 1024), (1280, 720),
         (1080, 1080), (1920, 1080), (2048, 1536))  # fmt: skip
BACKGROUNDS = ("flat", "noise", "gradient", "texture", "busy", "photo")
STYLES = ("plain", "box", "shadow", "outline")
INK = 128  # >= 50 % coverage, as aigc_tag.visible.caption measures glyphs


@dataclass
class Font:
    name: str
    path: str
    index: int


def find_fonts() -> list[Font]:
    """CJK faces on this machine (Noto Sans/Serif/Mono SC) and the package's subset font."""
    fonts = []
    for file in sorted(NOTO.glob("*.ttc")) if NOTO.is_dir() else []:
        for i in range(12):
            try:
                family, style = ImageFont.truetype(str(file), 20, index=i).getname()
            except OSError:
                break
            if family.endswith(" SC"):
                fonts.append(Font(f"{family} {style}", str(file), i))
    bundled = REPO / "aigc_tag" / "fonts" / "LabelSansSC-Bold.otf"
    if bundled.is_file():
        fonts.append(Font("LabelSansSC-Bold (bundled subset)", str(bundled), 0))
    return fonts


def load_photos() -> list[np.ndarray]:
    """The few real photos available (third-party samples, the repo's samples), as RGB."""
    sys.path.insert(0, str(REPO))
    from aigc_tag.imaging import open_display

    photos = []
    for folder in PHOTO_DIRS:
        for path in sorted(folder.glob("*")) if folder.is_dir() else []:
            if path.suffix.lower() not in PHOTO_SUFFIXES:
                continue
            try:
                image = open_display(path.read_bytes())
            except Exception:  # noqa: BLE001 - any unreadable sample is just not used
                continue
            if image.mode in ("RGB", "RGBA", "P", "L") and min(image.size) >= 200:
                photos.append(np.asarray(image.convert("RGB")))
    return photos


# --------------------------------------------------------------------------- backgrounds


def background(kind: str, size: tuple[int, int], rng: np.random.Generator,
               photos: list[np.ndarray]) -> np.ndarray:  # fmt: skip
    w, h = size
    base = rng.integers(0, 256, 3)
    if kind == "flat" or (kind == "photo" and not photos):
        return np.broadcast_to(base, (h, w, 3)).astype(np.uint8).copy()
    if kind == "noise":
        sigma = rng.uniform(15, 50)
        return (base + rng.normal(0, sigma, (h, w, 3))).clip(0, 255).astype(np.uint8)
    if kind == "gradient":
        other = rng.integers(0, 256, 3)
        angle = rng.uniform(0, np.pi)
        yy, xx = np.mgrid[0:h, 0:w]
        t = (np.cos(angle) * xx / w + np.sin(angle) * yy / h)
        t = (t - t.min()) / (np.ptp(t) or 1)
        return (base + (other - base) * t[..., None]).astype(np.uint8)
    if kind == "texture":  # blotchy clouds: upscaled random fields at three scales
        out = np.zeros((h, w, 3), np.float32)
        for cells, weight in ((4, 0.5), (16, 0.3), (64, 0.2)):
            field = rng.uniform(0, 255, (cells, cells, 3)).astype(np.float32)
            out += weight * cv2.resize(field, (w, h), interpolation=cv2.INTER_CUBIC)
        return out.clip(0, 255).astype(np.uint8)
    if kind == "busy":
        img = background("texture", size, rng, photos)
        for _ in range(int(rng.integers(30, 90))):
            colour = tuple(int(c) for c in rng.integers(0, 256, 3))
            x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
            r = int(rng.integers(5, max(6, min(w, h) // 6)))
            shape = rng.integers(0, 3)
            if shape == 0:
                cv2.circle(img, (x, y), r, colour, -1 if rng.random() < 0.6 else 3)
            elif shape == 1:
                cv2.rectangle(img, (x, y), (x + r, y + r // 2), colour, -1)
            else:
                x2, y2 = int(rng.integers(0, w)), int(rng.integers(0, h))
                cv2.line(img, (x, y), (x2, y2), colour, int(rng.integers(1, 6)))
        return cv2.GaussianBlur(img, (3, 3), 0)
    photo = photos[int(rng.integers(len(photos)))]
    ph, pw = photo.shape[:2]
    scale = max(w / pw, h / ph) * rng.uniform(1.0, 1.6)
    big = cv2.resize(photo, (int(pw * scale) + 1, int(ph * scale) + 1),
                     interpolation=cv2.INTER_CUBIC)  # fmt: skip
    y0 = int(rng.integers(0, big.shape[0] - h + 1))
    x0 = int(rng.integers(0, big.shape[1] - w + 1))
    return np.ascontiguousarray(big[y0:y0 + h, x0:x0 + w])


# --------------------------------------------------------------------------- text


def _ink_rows(font: ImageFont.FreeTypeFont, text: str) -> int:
    x0, y0, x1, y1 = font.getbbox(text, anchor="ls")
    m = font.size // 4 + 2
    img = Image.new("L", (x1 - x0 + 2 * m, y1 - y0 + 2 * m))
    ImageDraw.Draw(img).text((m - x0, m - y0), text, font=font, fill=255, anchor="ls")
    rows = np.flatnonzero((np.asarray(img) >= INK).any(axis=1))
    return int(rows[-1] - rows[0] + 1) if rows.size else 0


def glyph_px(font: ImageFont.FreeTypeFont, text: str) -> int:
    """Tallest hanzi (tallest glyph without hanzi), ink rows at >= 50 % coverage."""
    hanzi = [c for c in text if "\u4e00" <= c <= "\u9fff"]
    refs = hanzi or [c for c in text if not c.isspace()]
    return max(_ink_rows(font, c) for c in set(refs))


def font_for(spec: Font, text: str, want_px: int) -> ImageFont.FreeTypeFont:
    """The font size whose glyph height is closest to ``want_px``."""
    size = max(6, int(want_px * 1.15))
    for _ in range(6):
        font = ImageFont.truetype(spec.path, size, index=spec.index)
        got = glyph_px(font, text)
        if not got or abs(got - want_px) <= 0.5:
            break
        size = max(6, round(size * want_px / got))
    return ImageFont.truetype(spec.path, size, index=spec.index)


def _luma(rgb: np.ndarray) -> float:
    return float((rgb[..., :3] @ np.array([0.299, 0.587, 0.114])).mean())


def _lum(v: float) -> float:
    c = v / 255.0
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _contrast(a: float, b: float) -> float:
    hi, lo = sorted((_lum(a), _lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def pick_colour(kind: str, under: float, rng: np.random.Generator) -> tuple[int, int, int]:
    """White, black or a saturated colour; for plain text one that stands out from the area it
    is drawn on (contrast >= 3:1 to its mean luma), as a person drawing a caption would choose."""
    for _ in range(40):
        if kind == "white":
            colour = (255, 255, 255)
        elif kind == "black":
            colour = (0, 0, 0)
        else:
            hsv = np.uint8([[[rng.integers(0, 180), 255, rng.integers(120, 256)]]])
            colour = tuple(int(c) for c in cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0])
        if _contrast(_luma(np.array(colour, float)), under) >= 3.0:
            return colour
        kind = "white" if under < 128 else "black"
    return colour


def anchor_xy(position: str, size: tuple[int, int], box: tuple[int, int], margin: int,
              rng: np.random.Generator) -> tuple[int, int]:  # fmt: skip
    """Top-left corner of a ``box``-sized text block at ``position`` (or anywhere: "any")."""
    w, h = size
    bw, bh = box
    if position == "any":
        return int(rng.integers(0, max(1, w - bw))), int(rng.integers(0, max(1, h - bh)))
    vert = "top" if position.startswith("top") else "bottom" if position.startswith("bottom") \
        else "middle"
    horiz = "left" if position.endswith("left") else "right" if position.endswith("right") \
        else "center"
    x = {"left": margin, "right": w - margin - bw, "center": (w - bw) // 2}[horiz]
    y = {"top": margin, "bottom": h - margin - bh, "middle": (h - bh) // 2}[vert]
    return x, y


def draw_text(img: Image.Image, xy: tuple[int, int], text: str, font: ImageFont.FreeTypeFont,
              style: str, colour: tuple[int, int, int],
              rng: np.random.Generator) -> None:  # fmt: skip
    """Draw ``text`` with its ink box's top-left at ``xy`` (Pillow only, no aigc-tag code)."""
    x0, y0, x1, y1 = font.getbbox(text)
    x, y = xy[0] - x0, xy[1] - y0
    gh = y1 - y0
    draw = ImageDraw.Draw(img, "RGBA")
    dark = sum(colour) > 380
    shade = (0, 0, 0) if dark else (255, 255, 255)
    if style == "box":
        pad = max(2, int(gh * rng.uniform(0.15, 0.4)))
        alpha = int(rng.integers(150, 256))
        draw.rectangle((xy[0] - pad, xy[1] - pad, xy[0] + x1 - x0 + pad, xy[1] + gh + pad),
                       fill=(*shade, alpha))  # fmt: skip
    if style == "shadow":
        off = max(1, int(gh * rng.uniform(0.04, 0.1)))
        layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
        ImageDraw.Draw(layer).text((x + off, y + off), text, font=font, fill=(*shade, 200))
        layer = layer.filter(ImageFilter.GaussianBlur(max(1, off // 2)))
        img.paste(layer, (0, 0), layer)
        draw = ImageDraw.Draw(img, "RGBA")
    stroke = max(1, int(gh * rng.uniform(0.05, 0.1))) if style == "outline" else 0
    draw.text((x, y), text, font=font, fill=colour, stroke_width=stroke, stroke_fill=shade)


# --------------------------------------------------------------------------- pictures


@dataclass
class Scene:
    label: bool
    text: str
    position: str
    size: tuple[int, int]
    font: Font
    style: str
    colour: str
    background: str
    ratio_target: float


def render(scene: Scene, rng: np.random.Generator, photos: list[np.ndarray],
           extra: list[str]) -> tuple[Image.Image, dict] | None:  # fmt: skip
    """One picture and its manifest entry, or None when the text does not fit."""
    w, h = scene.size
    short = min(w, h)
    font = font_for(scene.font, scene.text, round(scene.ratio_target * short))
    x0, y0, x1, y1 = font.getbbox(scene.text)
    tw, th = x1 - x0, y1 - y0
    margin = int(short * rng.uniform(0.01, 0.04))
    if tw + 2 * margin > w * 0.95 or th + 2 * margin > h * 0.5:
        return None
    bg = background(scene.background, scene.size, rng, photos)
    img = Image.fromarray(bg).convert("RGB")
    x, y = anchor_xy(scene.position, scene.size, (tw, th), margin, rng)
    for other in extra:  # ordinary text elsewhere; never over the label
        ofont = font_for(scene.font, other, round(rng.uniform(0.03, 0.08) * short))
        ox0, oy0, ox1, oy1 = ofont.getbbox(other)
        ow, oh = ox1 - ox0, oy1 - oy0
        if ow >= w * 0.9:
            continue
        for _ in range(10):
            ox, oy = anchor_xy("any", scene.size, (ow, oh), 0, rng)
            if ox + ow < x - oh or ox > x + tw + oh or oy + oh < y - oh or oy > y + th + oh:
                under = _luma(bg[oy:oy + oh, ox:ox + ow])
                colour = pick_colour(str(rng.choice(["white", "black", "colour"])), under, rng)
                draw_text(img, (ox, oy), other, ofont, str(rng.choice(STYLES)), colour, rng)
                break
    under = _luma(bg[max(0, y):y + th, max(0, x):x + tw])
    colour = pick_colour(scene.colour, under, rng)
    draw_text(img, (x, y), scene.text, font, scene.style, colour, rng)
    ratio = glyph_px(font, scene.text) / short
    entry = {
        "label": scene.label, "text": scene.text, "position": scene.position,
        "glyph_ratio": round(ratio, 4), "ink_box": [x, y, x + tw, y + th],
        "font": scene.font.name, "style": scene.style, "colour": scene.colour,
        "rgb": list(colour), "background": scene.background, "size": [w, h],
        "other_text": extra,
    }  # fmt: skip
    return img, entry


def scene_for(label: bool, rng: np.random.Generator, fonts: list[Font]) -> Scene:
    w, h = SIZES[int(rng.integers(len(SIZES)))]
    if label:
        text = str(rng.choice(WORDINGS))
        position = str(rng.choice(POSITIONS))
        ratio = float(rng.uniform(0.03, 0.10))
    else:
        text = str(rng.choice(NEGATIVES))
        position = str(rng.choice(POSITIONS + ("any",)))
        ratio = float(rng.uniform(0.03, 0.10))
    return Scene(label, text, position, (w, h), fonts[int(rng.integers(len(fonts)))],
                 str(rng.choice(STYLES)), str(rng.choice(["white", "black", "colour"])),
                 str(rng.choice(BACKGROUNDS)), ratio)  # fmt: skip


def build(out: Path, positives: int, negatives: int, seed: int) -> int:
    """Write the pictures and ``manifest.jsonl``; returns the number of pictures."""
    rng = np.random.default_rng(seed)
    fonts = find_fonts()
    if not fonts:
        raise SystemExit("make_ocr_corpus: no CJK font found (install fonts-noto-cjk)")
    photos = load_photos()
    out.mkdir(parents=True, exist_ok=True)
    done = 0
    with open(out / "manifest.jsonl", "w", encoding="utf-8") as manifest:
        for label, count in ((True, positives), (False, negatives)):
            made = 0
            while made < count:
                scene = scene_for(label, rng, fonts)
                if label:
                    extra = [str(rng.choice(NEGATIVES))] if rng.random() < 0.3 else []
                else:
                    extra = [str(rng.choice(NEGATIVES)) for _ in range(int(rng.integers(0, 3)))]
                got = render(scene, rng, photos, extra)
                if got is None:
                    continue
                img, entry = got
                name = f"{'pos' if label else 'neg'}-{made:04d}"
                if rng.random() < 0.5:
                    name += ".jpg"
                    img.save(out / name, quality=int(rng.integers(70, 96)))
                else:
                    name += ".png"
                    img.save(out / name, compress_level=1)
                manifest.write(json.dumps({"file": name, **entry}, ensure_ascii=False) + "\n")
                made += 1
                done += 1
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("out", type=Path, help="folder to write (outside the repository)")
    parser.add_argument("--positives", type=int, default=300)
    parser.add_argument("--negatives", type=int, default=240)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    out = args.out.resolve()
    if out == REPO or REPO in out.parents and "build" not in out.relative_to(REPO).parts:
        parser.error(f"{args.out}: write the corpus outside the repository (or under build/)")
    n = build(out, args.positives, args.negatives, args.seed)
    print(f"{n} pictures and manifest.jsonl in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
