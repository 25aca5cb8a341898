"""Image captions, checked from the output pixels rather than from CaptionPlacement.

The glyph height is measured independently: the caption model is "black box at opacity a, then
white text at coverage m", so for every pixel m = (out - b) / (255 - b) with b = orig * (1 - a).
Pixels with m >= 0.5 are text; rows split into lines, columns within a line into glyphs.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aigc_tag.errors import InvalidLabel, UnsupportedFormat
from aigc_tag.visible import POSITIONS, CaptionStyle, draw_caption, load_font, missing_glyphs
from aigc_tag.visible.caption import BUNDLED_FONT

SIZES = [(64, 64), (512, 512), (1920, 1080), (1080, 1920), (4000, 3000), (3000, 200)]
SYSTEM_CJK = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")


def make_background(kind: str, size: tuple[int, int]) -> Image.Image:
    w, h = size
    if kind == "white":
        return Image.new("RGB", size, (255, 255, 255))
    if kind == "black":
        return Image.new("RGB", size, (0, 0, 0))
    if kind == "grey":
        return Image.new("RGB", size, (128, 128, 128))
    if kind == "noise":
        rng = np.random.default_rng(1234)
        return Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
    x = np.linspace(0, 255, w, dtype=np.float32)[None, :]
    y = np.linspace(0, 255, h, dtype=np.float32)[:, None]
    grad = np.stack([x + 0 * y, y + 0 * x, 255 - (x + y) / 2], axis=2)
    return Image.fromarray(grad.astype(np.uint8))


def coverage(before: Image.Image, after: Image.Image, opacity: float) -> np.ndarray:
    """Per-pixel text coverage m in [0, 1], solved from the compositing model."""
    orig = np.asarray(before.convert("L"), dtype=np.float64)
    out = np.asarray(after.convert("L"), dtype=np.float64)
    b = orig * (1 - opacity)
    return (out - b) / np.maximum(255 - b, 1)


def runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of each run of True values."""
    padded = np.concatenate([[False], flags, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return list(zip(edges[::2], edges[1::2], strict=True))


def glyph_heights(ink: np.ndarray) -> list[list[int]]:
    """Ink height of each column-connected glyph, per line of text."""
    lines = []
    for r0, r1 in runs(ink.any(axis=1)):
        band = ink[r0:r1]
        heights = []
        for c0, c1 in runs(band.any(axis=0)):
            rows = np.flatnonzero(band[:, c0:c1].any(axis=1))
            heights.append(int(rows[-1] - rows[0] + 1))
        lines.append(heights)
    return lines


def luminance(v: float) -> float:
    c = v / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def contrast(a: float, b: float) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def check_caption(before: Image.Image, style: CaptionStyle) -> tuple[Image.Image, object, tuple]:
    """Draw and assert every property that can be read from the pixels alone."""
    after, place = draw_caption(before, style)
    assert after.mode == before.mode and after.size == before.size
    w, h = before.size
    shortest = min(w, h)
    x0, y0, x1, y1 = place.box
    assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
    changed = np.asarray(before) != np.asarray(after)
    changed = changed.any(axis=2) if changed.ndim == 3 else changed
    rows, cols = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
    assert rows.size, "nothing was drawn"
    changed_box = (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)
    assert x0 <= changed_box[0] and y0 <= changed_box[1], "pixels outside the box changed"
    assert changed_box[2] <= x1 and changed_box[3] <= y1, "pixels outside the box changed"

    crop = place.box
    ink = coverage(before.crop(crop), after.crop(crop), style.box_opacity) >= 0.5
    lines = glyph_heights(ink)
    assert len(lines) == len(place.lines)
    need = math.ceil(round(0.05 * shortest, 6))
    for heights in lines:
        assert max(heights) >= need, (heights, need, shortest)
    assert max(max(hs) for hs in lines) / shortest >= 0.05
    assert place.ratio >= 0.05 and place.glyph_height_px >= need

    band_w, band_h = 0.1 * w, 0.1 * h
    vert, horiz = {
        "top": ("top", "center"),
        "bottom": ("bottom", "center"),
        "left": ("middle", "left"),
        "right": ("middle", "right"),
    }.get(style.position, style.position.split("-"))
    assert {"top": y0 <= band_h, "bottom": h - y1 <= band_h}.get(vert, True)
    assert {"left": x0 <= band_w, "right": w - x1 <= band_w}.get(horiz, True)
    if horiz == "center":
        assert abs((x0 + x1) - w) <= 1
    if vert == "middle":
        assert abs((y0 + y1) - h) <= 1
    return after, place, changed_box


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_position_on_white(size: tuple[int, int]) -> None:
    before = make_background("white", size)
    for pos in POSITIONS:
        _, place, changed_box = check_caption(before, CaptionStyle(text="zh", position=pos))
        assert changed_box == place.box  # on white, the box darkens every pixel it covers


@pytest.mark.parametrize("kind", ["white", "black", "grey", "noise", "gradient"])
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_backgrounds(kind: str, size: tuple[int, int]) -> None:
    before = make_background(kind, size)
    style = CaptionStyle(text="bilingual", position="bottom-right")
    after, place, _ = check_caption(before, style)
    m = coverage(before.crop(place.box), after.crop(place.box), style.box_opacity)
    out = np.asarray(after.crop(place.box).convert("L"), dtype=np.float64)
    text_value = out[m >= 0.99].min()  # fully covered text pixels
    box_value = out[m <= 0.01].max()  # the brightest box pixel: the worst case
    assert contrast(text_value, box_value) >= 4.5


def test_contrast_worst_case_white() -> None:
    before = make_background("white", (512, 512))
    after, place = draw_caption(before, CaptionStyle())
    x0, y0, x1, y1 = place.box
    region = np.asarray(after)[y0:y1, x0:x1, 0]
    values, counts = np.unique(region, return_counts=True)
    box_value, text_value = values[counts.argmax()], region.max()
    assert text_value == 255
    assert contrast(text_value, box_value) >= 4.5
    assert contrast(255, 255 * (1 - 0.6)) >= 4.5  # the lowest opacity CaptionStyle accepts
    with pytest.raises(InvalidLabel, match="box_opacity"):
        CaptionStyle(box_opacity=0.5)


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "LA"])
def test_modes_kept(mode: str) -> None:
    before = make_background("gradient", (640, 360)).convert(mode)
    after, place, _ = check_caption(before, CaptionStyle(position="top-left"))
    assert after.mode == mode and after.size == before.size


def test_transparent_rgba_becomes_opaque_enough() -> None:
    before = Image.new("RGBA", (400, 300), (255, 255, 255, 0))
    after, place = draw_caption(before, CaptionStyle())
    x0, y0, x1, y1 = place.box
    alpha = np.asarray(after)[y0:y1, x0:x1, 3]
    assert alpha.min() >= round(255 * 0.75)
    flat = Image.alpha_composite(Image.new("RGBA", after.size, "white"), after).convert("L")
    region = np.asarray(flat)[y0:y1, x0:x1]
    assert contrast(region.max(), np.median(region)) >= 4.5


def test_unsupported_mode() -> None:
    with pytest.raises(UnsupportedFormat):
        draw_caption(Image.new("P", (100, 100)), CaptionStyle())


def test_wrapping_keeps_ratio() -> None:
    before = make_background("noise", (300, 300))
    after, place, _ = check_caption(before, CaptionStyle(text="bilingual-long"))
    assert len(place.lines) >= 2
    assert "".join(place.lines).replace(" ", "") == place.text.replace(" ", "")


def test_tiny_images() -> None:
    after, place, _ = check_caption(make_background("grey", (40, 40)), CaptionStyle())
    assert place.glyph_height_px >= 8  # the legibility floor, far above 5 % of 40 px
    with pytest.raises(InvalidLabel, match="cannot fit"):
        draw_caption(make_background("grey", (16, 16)), CaptionStyle())
    with pytest.raises(InvalidLabel, match="cannot fit"):
        draw_caption(make_background("grey", (3000, 10)), CaptionStyle())


def test_bad_wording_raises() -> None:
    with pytest.raises(InvalidLabel, match="AI element"):
        CaptionStyle(text="智枢生成")
    with pytest.raises(InvalidLabel, match="generation element"):
        CaptionStyle(text="智枢AI")
    with pytest.raises(InvalidLabel, match="position"):
        CaptionStyle(position="center")
    with pytest.raises(InvalidLabel, match="min_ratio"):
        CaptionStyle(min_ratio=0.03)


def test_missing_glyph_raises() -> None:
    assert missing_glyphs("AI生成") == []
    with pytest.raises(InvalidLabel, match=r"U\+9F98.*font_path"):
        draw_caption(make_background("white", (512, 512)), CaptionStyle(text="龘AI生成"))


@pytest.mark.skipif(not SYSTEM_CJK.exists(), reason="system Noto CJK not installed")
def test_user_font_covers_rare_glyph() -> None:
    style = CaptionStyle(text="龘AI生成", font_path=str(SYSTEM_CJK))
    check_caption(make_background("white", (512, 512)), style)
    with pytest.raises(InvalidLabel, match=r"U\+1F600"):
        style = CaptionStyle("AI生成😀", font_path=str(SYSTEM_CJK))
        draw_caption(make_background("white", (512, 512)), style)


def test_bundled_font() -> None:
    assert BUNDLED_FONT.stat().st_size < 3 * 1024 * 1024
    assert (BUNDLED_FONT.parent / "OFL.txt").read_text().find("SIL OPEN FONT LICENSE") >= 0
    cells = [(r, c) for r in range(0xB0, 0xD8) for c in range(0xA1, 0xFF) if (r, c) < (0xD7, 0xFA)]
    level1 = [bytes(cell).decode("gb2312") for cell in cells]
    assert len(level1) == 3755
    assert missing_glyphs("".join(level1) + "，。：（）！？、“”") == []
    assert load_font(20) is load_font(20)


def test_placement_json() -> None:
    _, place = draw_caption(make_background("white", (1920, 1080)), CaptionStyle())
    data = json.loads(json.dumps(place.to_json()))
    assert data["text"] == "AI生成" and data["position"] == "bottom-right"
    assert data["shortest_side"] == 1080 and data["ratio"] == place.glyph_height_px / 1080
    assert place.ratio >= 0.06  # the default target, a margin above the GB 5 %


def test_two_captions_land_in_their_corners(tmp_path: Path) -> None:
    """Two captions on one picture: each changes only its own corner; the PNG round-trips."""
    base = make_background("gradient", (1280, 720))
    img, first = draw_caption(base, CaptionStyle(text="bilingual", position="bottom-right"))
    img, second = draw_caption(img, CaptionStyle(text="zh-long", position="top-left"))
    img.save(tmp_path / "caption_1280x720.png")
    changed = np.any(
        np.asarray(Image.open(tmp_path / "caption_1280x720.png").convert("RGB"), np.int16)
        != np.asarray(base.convert("RGB"), np.int16),
        axis=2,
    )
    ys, xs = np.nonzero(changed)
    assert changed[: 720 // 2, : 1280 // 2].any() and changed[720 // 2 :, 1280 // 2 :].any()
    assert not changed[720 // 2 :, : 1280 // 3].any(), "bottom-left corner was touched"
    assert first.box[2] > 1280 * 0.9 and first.box[3] > 720 * 0.9
    assert second.box[0] < 1280 * 0.1 and second.box[1] < 720 * 0.1
    assert ys.min() < 720 * 0.1 and xs.max() > 1280 * 0.9
