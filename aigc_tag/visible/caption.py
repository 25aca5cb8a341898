"""Burn a GB 45438 §5.2 explicit label (a text caption) into an image.

The rule: a text prompt with both wording elements, at an edge or corner of the picture, legible,
its glyph height at least 5 % of the shortest side. "Glyph height" is read conservatively as the
rendered ink height of the tallest CJK glyph (the tallest glyph for Latin-only text), measured on
pixels at half coverage or more, not the nominal font size (about 4 % larger for these hanzi).

Legibility: white text on a dark box that is at least 60 % opaque. Over the worst background
(pure white) that box is still dark enough for a WCAG contrast of >= 4.5:1 (10.4:1 at the
default 75 %), whatever the picture holds; an outline alone gives thin strokes on busy textures.
Only pixels inside the box are changed.

Tiny pictures: the glyph height is max(ceil(ratio x shortest side), ``min_glyph_px``) (8 px by
default, the least at which bold hanzi stay readable); the text wraps if needed, and when even
that cannot fit, :class:`~aigc_tag.errors.InvalidLabel` is raised instead of drawing an
illegible or undersized label (the default "AI生成" fits from about 40x40 px up).
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..errors import InvalidLabel, UnsupportedFormat
from .wording import ANCHORS, DEFAULT_TEXT, GB_MIN_RATIO, POSITIONS, resolve_text

__all__ = [
    "BUNDLED_FONT",
    "GB_MIN_RATIO",
    "POSITIONS",
    "CaptionPlacement",
    "CaptionStyle",
    "draw_caption",
    "load_font",
    "missing_glyphs",
]

MIN_BOX_OPACITY = 0.6  # white on 60 % black over white: contrast 5.7:1, above WCAG's 4.5:1
INK_THRESHOLD = 128  # a pixel belongs to a glyph at >= 50 % coverage
BUNDLED_FONT = Path(__file__).resolve().parent.parent / "fonts" / "LabelSansSC-Bold.otf"
SUPPORTED_MODES = ("RGB", "RGBA", "L", "LA")

# Break opportunities: a run of non-CJK, non-space characters stays whole up to a hyphen; every
# CJK character (ideograph, CJK punctuation, full-width form) is a token of its own.
_TOKEN = re.compile(r"\s+|[^\s\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef-]+-?|.")
_NO_LINE_START = set("，。、；：！？）》」』】〉,.;:!?)")


def _is_ideograph(ch: str) -> bool:
    cp = ord(ch)
    return 0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0xF900 <= cp <= 0xFAFF


@dataclass(frozen=True)
class CaptionStyle:
    """How to draw the caption. ``text`` may be a preset name, custom text or ``None``.

    The text is resolved and its wording checked on construction (:func:`resolve_text`).
    ``target_ratio`` is the glyph height aimed for; ``min_ratio`` (never below the GB 5 %) is the
    fallback when the text does not fit at the target size. ``margin_ratio`` is the gap to the
    picture's edge, as a fraction of the shortest side.
    """

    text: str | None = DEFAULT_TEXT
    position: str = "bottom-right"
    min_ratio: float = GB_MIN_RATIO
    target_ratio: float = 0.06
    margin_ratio: float = 0.02
    box_opacity: float = 0.75
    font_path: str | None = None
    min_glyph_px: int = 8

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", resolve_text(self.text))
        if self.font_path is not None:
            object.__setattr__(self, "font_path", str(self.font_path))
        if self.position not in POSITIONS:
            raise InvalidLabel(f"position {self.position!r} is not one of {', '.join(POSITIONS)}")
        if not GB_MIN_RATIO <= self.min_ratio <= self.target_ratio <= 0.5:
            raise InvalidLabel(
                f"need {GB_MIN_RATIO} <= min_ratio <= target_ratio <= 0.5, got "
                f"min_ratio={self.min_ratio}, target_ratio={self.target_ratio}"
            )
        if not 0 <= self.margin_ratio <= 0.1:
            raise InvalidLabel(f"margin_ratio must be in [0, 0.1], got {self.margin_ratio}")
        if not MIN_BOX_OPACITY <= self.box_opacity <= 1:
            raise InvalidLabel(
                f"box_opacity must be in [{MIN_BOX_OPACITY}, 1] to keep the text legible, "
                f"got {self.box_opacity}"
            )
        if not 1 <= self.min_glyph_px <= 1000:
            raise InvalidLabel(f"min_glyph_px must be in [1, 1000], got {self.min_glyph_px}")


@dataclass(frozen=True)
class CaptionPlacement:
    """Where and how big the caption came out. Boxes are (x0, y0, x1, y1), x1/y1 exclusive.

    ``box`` is the dark contrast box (every changed pixel is inside it); ``ink_box`` bounds the
    rendered text pixels. ``glyph_height_px`` is measured on rendered glyphs: the tallest hanzi
    (the tallest glyph if the text has none); for wrapped text, the least of that over the lines,
    so every line meets it. ``ratio`` = glyph_height_px / shortest_side.
    """

    text: str
    position: str
    box: tuple[int, int, int, int]
    ink_box: tuple[int, int, int, int]
    glyph_height_px: int
    shortest_side: int
    ratio: float
    font_size: int
    lines: tuple[str, ...]

    def to_json(self) -> dict:
        """The placement as a JSON-able dict."""
        return asdict(self)


@dataclass(frozen=True)
class _Layout:
    font_size: int
    glyph_px: int
    lines: tuple[str, ...]
    widths: tuple[int, ...]
    offsets: tuple[int, ...]  # per line: -bbox x0, so ink starts at the padding
    top: int  # -min bbox y0: baseline distance below the first line's top
    line_h: int
    gap: int
    pad_x: int
    pad_y: int

    @property
    def size(self) -> tuple[int, int]:
        w = max(self.widths) + 2 * self.pad_x
        n = len(self.lines)
        return w, n * self.line_h + (n - 1) * self.gap + 2 * self.pad_y


@lru_cache(maxsize=64)
def load_font(size: int, font_path: str | None = None) -> ImageFont.FreeTypeFont:
    """The bundled label font (or ``font_path``) at ``size`` px, basic layout, cached."""
    path = str(font_path) if font_path is not None else str(BUNDLED_FONT)
    try:
        # BASIC layout: identical output with or without libraqm installed.
        return ImageFont.truetype(path, size, layout_engine=ImageFont.Layout.BASIC)
    except OSError as exc:
        raise InvalidLabel(f"cannot load font {path}: {exc}") from None


@lru_cache(maxsize=8)
def _cmap(path: str) -> frozenset[int]:
    from fontTools.ttLib import TTFont, TTLibError

    try:
        with TTFont(path, lazy=True, fontNumber=0) as font:
            return frozenset(font.getBestCmap() or ())
    except (OSError, TTLibError, KeyError) as exc:
        raise InvalidLabel(f"cannot read the character map of font {path}: {exc}") from None


def missing_glyphs(text: str, font_path: str | None = None) -> list[str]:
    """Characters of ``text`` that the font's cmap does not map to a glyph."""
    cmap = _cmap(str(font_path) if font_path is not None else str(BUNDLED_FONT))
    return sorted({c for c in text if c != "\n" and ord(c) not in cmap})


def _check_glyphs(text: str, font_path: str | None) -> None:
    missing = missing_glyphs(text, font_path)
    if not missing:
        return
    names = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in missing)
    if font_path is None:
        raise InvalidLabel(
            f"the bundled label font has no glyph for {names}; pass "
            "CaptionStyle(font_path=...) with a font that covers them"
        )
    raise InvalidLabel(f"font {font_path} has no glyph for {names}")


@lru_cache(maxsize=4096)
def _ink_height(size: int, font_path: str | None, ch: str) -> int:
    """Rendered height of ``ch`` in px, counting rows with >= 50 % coverage."""
    font = load_font(size, font_path)
    x0, y0, x1, y1 = font.getbbox(ch, anchor="ls")
    m = size // 8 + 2  # slack for antialiasing beyond the metric box
    img = Image.new("L", (x1 - x0 + 2 * m, y1 - y0 + 2 * m))
    ImageDraw.Draw(img).text((m - x0, m - y0), ch, font=font, fill=255, anchor="ls")
    rows = np.flatnonzero((np.asarray(img) >= INK_THRESHOLD).any(axis=1))
    return int(rows[-1] - rows[0] + 1) if rows.size else 0


def _reference_chars(text: str) -> str:
    """Glyphs whose height counts: the hanzi, or every visible character if there are none."""
    hanzi = "".join(sorted({c for c in text if _is_ideograph(c)}))
    return hanzi or "".join(sorted({c for c in text if not c.isspace()}))


def _glyph_px(size: int, font_path: str | None, refs: str) -> int:
    return max(_ink_height(size, font_path, c) for c in refs)


def _size_for(want_px: int, font_path: str | None, refs: str) -> tuple[int, int]:
    """Smallest font size whose tallest reference glyph is >= ``want_px``; (size, glyph px)."""
    probe = 200
    start = max(1, want_px * probe // max(1, _glyph_px(probe, font_path, refs)) - 2)
    # Hinting makes height(size) only roughly linear: step up from just below the estimate.
    for size in range(start, 4 * want_px + 16):
        got = _glyph_px(size, font_path, refs)
        if got >= want_px:
            return size, got
    raise InvalidLabel(f"the font cannot render glyphs {want_px} px tall")


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    for tok in _TOKEN.findall(text):
        if out and tok in _NO_LINE_START:
            out[-1] += tok  # keep closing punctuation on the line before
        else:
            out.append(tok)
    return out


def _width(font: ImageFont.FreeTypeFont, line: str) -> int:
    x0, _, x1, _ = font.getbbox(line, anchor="ls")
    return x1 - x0


def _split_wide(tokens: list[str], font: ImageFont.FreeTypeFont, max_w: int) -> list[str]:
    out: list[str] = []
    for tok in tokens:
        out.extend(list(tok) if not tok.isspace() and _width(font, tok) > max_w else [tok])
    return out


def _greedy(tokens: list[str], font: ImageFont.FreeTypeFont, max_w: int) -> list[str]:
    lines: list[str] = []
    cur = ""
    for tok in tokens:
        trial = cur + tok
        if not cur.strip() or _width(font, trial.rstrip()) <= max_w:
            cur = trial.lstrip()
        else:
            lines.append(cur.rstrip())
            cur = tok.lstrip()
    lines.append(cur.rstrip())
    return [ln for ln in lines if ln]


def _token_levels(text: str, font: ImageFont.FreeTypeFont, max_w: int):
    """Ever finer break opportunities: spaces only, then CJK and hyphens, then any character."""
    yield [t for t in re.split(r"(\s+)", text) if t]
    yield _tokens(text)
    yield _split_wide(_tokens(text), font, max_w)


def _balance(tokens: list[str], font: ImageFont.FreeTypeFont, n: int, max_w: int) -> list[str]:
    """The narrowest greedy wrap with at most ``n`` lines (balanced lines, no short widow)."""
    lo, hi = max(_width(font, t) for t in tokens if not t.isspace()), max_w
    while lo < hi:  # the line count only grows as the width shrinks
        mid = (lo + hi) // 2
        if len(_greedy(tokens, font, mid)) <= n:
            hi = mid
        else:
            lo = mid + 1
    return _greedy(tokens, font, hi)


def _wrap(text: str, font: ImageFont.FreeTypeFont, max_w: int) -> list[str] | None:
    """Lines no wider than ``max_w``, breaking as coarsely as possible; ``None`` if impossible."""
    if _width(font, text) <= max_w:
        return [text]
    for tokens in _token_levels(text, font, max_w):
        lines = _greedy(tokens, font, max_w)
        if all(_width(font, ln) <= max_w for ln in lines):
            return _balance(tokens, font, len(lines), max_w)
    return None


def _line_glyph_px(size: int, font_path: str | None, line: str) -> int:
    return _glyph_px(size, font_path, _reference_chars(line))


def _sized_lines(
    text: str, font_path: str | None, want_px: int, max_w: int
) -> tuple[int, list[str]] | None:
    """Font size and lines such that every line's reference glyph is >= ``want_px``.

    A wrapped bilingual caption can leave a Latin-only line whose capitals are ~25 % shorter
    than the hanzi, so the size is raised until that line passes too.
    """
    size = _size_for(want_px, font_path, _reference_chars(text))[0]
    for _ in range(4):
        lines = _wrap(text, load_font(size, font_path), max_w)
        if lines is None:
            return None
        weakest = min(lines, key=lambda ln: _line_glyph_px(size, font_path, ln))
        if _line_glyph_px(size, font_path, weakest) >= want_px:
            return size, lines
        size = max(size + 1, _size_for(want_px, font_path, _reference_chars(weakest))[0])
    return None


def _layout(text: str, style: CaptionStyle, want_px: int, avail: tuple[int, int]) -> _Layout | None:
    """Lines and box geometry with glyphs >= ``want_px``, or ``None`` if it does not fit."""
    pad_x, pad_y = max(1, math.ceil(0.35 * want_px)), max(1, math.ceil(0.2 * want_px))
    sized = _sized_lines(text, style.font_path, want_px, avail[0] - 2 * pad_x)
    if sized is None:
        return None
    size, lines = sized
    font = load_font(size, style.font_path)
    boxes = [font.getbbox(ln, anchor="ls") for ln in lines]
    top, bottom = min(b[1] for b in boxes), max(b[3] for b in boxes)
    lay = _Layout(
        font_size=size,
        glyph_px=min(_line_glyph_px(size, style.font_path, ln) for ln in lines),
        lines=tuple(lines),
        widths=tuple(b[2] - b[0] for b in boxes),
        offsets=tuple(-b[0] for b in boxes),
        top=-top,
        line_h=bottom - top,
        gap=max(1, math.ceil(0.25 * want_px)),
        pad_x=pad_x,
        pad_y=pad_y,
    )
    return lay if lay.size[1] <= avail[1] else None


def _want_px(ratio: float, shortest: int, floor_px: int) -> int:
    # round() first: 0.05 * 100 is 5.000000000000001 in floating point, not 6 px.
    return max(math.ceil(round(ratio * shortest, 6)), floor_px)


def _fit(style: CaptionStyle, width: int, height: int, margin: int) -> _Layout:
    """Layout at the target ratio, else at the GB minimum; raise if neither fits."""
    shortest = min(width, height)
    avail = (width - 2 * margin, height - 2 * margin)
    wants = dict.fromkeys(
        _want_px(r, shortest, style.min_glyph_px) for r in (style.target_ratio, style.min_ratio)
    )
    for want in wants:
        lay = _layout(style.text, style, want, avail) if min(avail) > 0 else None
        if lay is not None:
            return lay
    raise InvalidLabel(
        f"caption {style.text!r} cannot fit a {width}x{height} image with glyphs of at least "
        f"{min(wants)} px ({style.min_ratio:.0%} of {shortest} px, floor {style.min_glyph_px} px);"
        " use a shorter text or a larger image"
    )


def _origin(anchor: tuple[str, str], box: tuple[int, int], img: tuple[int, int], margin: int):
    (vert, horiz), (bw, bh), (w, h) = anchor, box, img
    x = {"left": margin, "right": w - margin - bw}.get(horiz, (w - bw) // 2)
    y = {"top": margin, "bottom": h - margin - bh}.get(vert, (h - bh) // 2)
    return x, y


def _text_mask(lay: _Layout, font: ImageFont.FreeTypeFont, align: str) -> Image.Image:
    """Coverage mask of the text, exactly the box's size, so nothing can land outside it."""
    bw, bh = lay.size
    mask = Image.new("L", (bw, bh))
    draw = ImageDraw.Draw(mask)
    for i, (line, w, off) in enumerate(zip(lay.lines, lay.widths, lay.offsets, strict=True)):
        slack = max(lay.widths) - w
        shift = {"left": 0, "right": slack}.get(align, slack // 2)
        baseline = lay.pad_y + lay.top + i * (lay.line_h + lay.gap)
        draw.text((lay.pad_x + shift + off, baseline), line, font=font, fill=255, anchor="ls")
    return mask


def _compose(region: Image.Image, mask: Image.Image, opacity: float) -> Image.Image:
    """Dark box, then white text, alpha-composited over ``region``; returned in its mode."""
    base = region.convert("RGBA")
    box = Image.new("RGBA", base.size, (0, 0, 0, round(255 * opacity)))
    base = Image.alpha_composite(base, box)
    text = Image.new("RGBA", base.size, (255, 255, 255, 0))
    text.putalpha(mask)
    return Image.alpha_composite(base, text).convert(region.mode)


def draw_caption(
    image: Image.Image, style: CaptionStyle | None = None
) -> tuple[Image.Image, CaptionPlacement]:
    """Return a copy of ``image`` with the caption drawn, and where it went.

    Modes RGB, RGBA, L and LA are kept, as is the size; only pixels inside ``placement.box``
    change. Raises :class:`InvalidLabel` for glyphs the font lacks or a caption that cannot fit
    with glyphs >= ``min_ratio`` of the shortest side, and :class:`UnsupportedFormat` for other
    image modes. Pixels are taken as stored: apply ``ImageOps.exif_transpose`` first, or an EXIF
    rotation will move the caption to another edge when the image is shown.
    """
    style = style or CaptionStyle()
    if image.mode not in SUPPORTED_MODES:
        raise UnsupportedFormat(
            f"cannot caption a {image.mode!r} image; convert it to one of {SUPPORTED_MODES}"
        )
    _check_glyphs(style.text, style.font_path)
    w, h = image.size
    shortest = min(w, h)
    margin = max(1, round(style.margin_ratio * shortest))
    lay = _fit(style, w, h, margin)
    font = load_font(lay.font_size, style.font_path)
    anchor = ANCHORS[style.position]
    mask = _text_mask(lay, font, anchor[1])
    x0, y0 = _origin(anchor, lay.size, image.size, margin)
    box = (x0, y0, x0 + lay.size[0], y0 + lay.size[1])
    out = image.copy()
    out.paste(_compose(image.crop(box), mask, style.box_opacity), box[:2])
    ix0, iy0, ix1, iy1 = mask.getbbox() or (0, 0, 0, 0)
    placement = CaptionPlacement(
        text=style.text,
        position=style.position,
        box=box,
        ink_box=(x0 + ix0, y0 + iy0, x0 + ix1, y0 + iy1),
        glyph_height_px=lay.glyph_px,
        shortest_side=shortest,
        ratio=lay.glyph_px / shortest,
        font_size=lay.font_size,
        lines=lay.lines,
    )
    return out, placement


def contrast_ratio(a: float, b: float) -> float:
    """WCAG 2 contrast ratio of two 8-bit luma values (sRGB-linearised), >= 1."""

    def lum(v: float) -> float:
        c = v / 255.0
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)
