"""Explicit labels drawn by anyone, read by OCR (aigc_tag/visible/ocr.py), and how verify
reports them. Real OCR on pictures drawn here with Pillow (never aigc-tag's caption renderer)."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import photo
from PIL import Image, ImageDraw, ImageFont

from aigc_tag.verify import verify
from aigc_tag.verify.checks import run_ocr_caption_checks
from aigc_tag.visible import ocr

pytest.importorskip(
    "rapidocr_onnxruntime", reason="rapidocr-onnxruntime (aigc-tag[ocr]) is not installed"
)

REPO = Path(__file__).resolve().parents[1]
BUNDLED = REPO / "aigc_tag" / "fonts" / "LabelSansSC-Bold.otf"
NOTO_SERIF = Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc")
FONTS = [
    pytest.param((BUNDLED, 0), id="bundled-sans-bold"),
    pytest.param((NOTO_SERIF, 2), id="noto-serif-sc",  # index 2: the SC face of the collection
                 marks=pytest.mark.skipif(not NOTO_SERIF.is_file(),
                                          reason="fonts-noto-cjk is not installed")),
]  # fmt: skip


def _glyph_px(font: ImageFont.FreeTypeFont, text: str) -> int:
    """Tallest hanzi, ink rows at >= 50 % coverage (how the caption renderer measures)."""
    best = 0
    for ch in {c for c in text if "\u4e00" <= c <= "\u9fff"} or set(text.replace(" ", "")):
        img = Image.new("L", (font.size * 3, font.size * 3))
        ImageDraw.Draw(img).text((font.size, font.size), ch, font=font, fill=255)
        rows = np.flatnonzero((np.asarray(img) >= 128).any(axis=1))
        best = max(best, int(rows[-1] - rows[0] + 1) if rows.size else 0)
    return best


def draw(
    text: str,
    *,
    font: tuple[Path, int] = (BUNDLED, 0),
    position: str = "bottom-right",
    ratio: float = 0.06,
    size: tuple[int, int] = (800, 600),
    fill: tuple[int, int, int] = (255, 255, 255),
    outline: bool = True,
) -> tuple[Image.Image, float]:
    """A photo-like picture with ``text`` drawn at ``position``; (picture, true glyph ratio)."""
    image = photo(*size, seed=3)
    short = min(size)
    fsize = round(ratio * short * 1.15)
    face = ImageFont.truetype(str(font[0]), fsize, index=font[1])
    for _ in range(4):  # font size whose glyph height is the ratio asked for
        got = _glyph_px(face, text)
        fsize = max(6, round(fsize * ratio * short / got))
        face = ImageFont.truetype(str(font[0]), fsize, index=font[1])
    x0, y0, x1, y1 = face.getbbox(text)
    w, h = size
    margin = round(0.02 * short)
    x = margin if "left" in position else w - margin - (x1 - x0) if "right" in position else \
        (w - (x1 - x0)) // 2
    y = margin if position.startswith("top") else h - margin - (y1 - y0) \
        if position.startswith("bottom") else (h - (y1 - y0)) // 2
    stroke = max(1, fsize // 12) if outline else 0
    ImageDraw.Draw(image).text((x - x0, y - y0), text, font=face, fill=fill, stroke_width=stroke,
                               stroke_fill=(0, 0, 0))  # fmt: skip
    return image, _glyph_px(face, text) / short


@pytest.mark.parametrize("font", FONTS)
@pytest.mark.parametrize("position", ["top-left", "top-right", "bottom-left", "bottom-right"])
def test_found_at_each_corner(font, position):
    image, ratio = draw("AI生成", font=font, position=position, ratio=0.06)
    got = ocr.find_label(image)
    assert got.found, got.all_text
    assert got.text == "AI生成"
    assert got.position == position
    assert got.glyph_height_ratio == pytest.approx(ratio, abs=0.004)
    assert got.contrast is not None and got.contrast >= 4.5
    x0, y0, x1, y1 = got.box
    assert 0 <= x0 < x1 <= 800 and 0 <= y0 < y1 <= 600


@pytest.mark.parametrize("text", ["人工智能生成", "由AI合成", "AI生成 / AI-generated"])
def test_other_wordings_and_edges(text):
    image, ratio = draw(text, position="top", ratio=0.055, size=(1024, 768))
    got = ocr.find_label(image)
    assert got.found and got.position == "top"
    assert got.glyph_height_ratio == pytest.approx(ratio, abs=0.004)


@pytest.mark.parametrize("text", ["欢迎光临", "生成器", "AI", "AI助手", "生成失败"])
def test_ordinary_text_is_no_label(text):
    image, _ = draw(text, position="bottom-left", ratio=0.07)
    got = ocr.find_label(image)
    assert not got.found and got.text is None
    assert got.all_text, "the text itself should still be read"


def test_wording_rule_is_the_caption_rule_with_ocr_tolerances():
    yes = ["AI生成", "ai生成", "由A.I.合成", "AI-generated", "Al-generated", "Al生成", "AIGC合成"]
    no = ["AI生成器", "生成式AI峰会", "AI", "生成失败", "非AI生成", "not AI-generated",
          "Generated report", "Also generated", "欢迎光临"]  # fmt: skip
    assert [t for t in yes if not ocr.is_label_text(t)] == []
    assert [t for t in no if ocr.is_label_text(t)] == []


def test_position_names():
    size = (1000, 500)
    assert ocr.position_of((10, 10, 200, 50), size) == "top-left"
    assert ocr.position_of((400, 440, 600, 490), size) == "bottom"
    assert ocr.position_of((880, 230, 990, 270), size) == "right"
    assert ocr.position_of((400, 200, 600, 260), size) == "middle"
    assert ocr.position_of((5, 5, 995, 40), size) == "top"  # a banner along the top edge


def test_picture_without_text():
    got = ocr.find_label(photo(640, 480, seed=9))
    assert not got.found and got.error is None and got.box is None


def test_missing_engine_is_a_note_not_a_crash():
    got = ocr.find_label(photo(64, 64), module="aigc_tag_no_such_ocr_engine")
    assert got.error == "OCR not available: install aigc-tag[ocr]" and not got.found
    checks = run_ocr_caption_checks(got.to_json(), labelled=False)
    assert [(c.id, c.outcome.value) for c in checks] == [("X-I1", "skip")]
    assert "install aigc-tag[ocr]" in checks[0].message


def _save(image: Image.Image, path: Path) -> Path:
    image.save(path)
    return path


def _outcomes(report) -> dict[str, str]:
    return {c.id: c.outcome.value for c in report.checks}


def test_verify_reports_a_third_party_caption(tmp_path):
    image, ratio = draw("本内容由人工智能生成", position="bottom", ratio=0.06, size=(1024, 768))
    path = _save(image, tmp_path / "third-party.png")
    report = verify(path, watermark=False)
    shown = report.visible_label
    assert shown["source"] == "ocr" and shown["found"] and shown["position"] == "bottom"
    assert shown["text"] == "本内容由人工智能生成"
    assert shown["glyph_height_ratio"] == pytest.approx(ratio, abs=0.004)
    got = _outcomes(report)
    assert [got[k] for k in ("X-I1", "X-I2", "X-I3", "X-I4")] == ["pass"] * 4
    assert report.verdict.value == "not_found"  # no metadata label: the explicit one is evidence
    assert report.to_json()["visible_label"]["box"] == shown["box"]


def test_verify_fails_a_caption_below_five_percent(tmp_path):
    image, _ = draw("AI生成", position="top-left", ratio=0.035, size=(1024, 768))
    report = verify(_save(image, tmp_path / "small.png"), watermark=False)
    assert report.visible_label["found"]
    assert _outcomes(report)["X-I3"] == "fail" and report.verdict.value == "noncompliant"


def test_verify_without_text_is_not_a_failure(tmp_path):
    report = verify(_save(photo(640, 480, seed=5), tmp_path / "plain.png"), watermark=False)
    assert report.visible_label["source"] == "ocr" and report.visible_label["found"] is False
    assert _outcomes(report)["X-I1"] == "info" and report.verdict.value == "not_found"


def test_ocr_off(tmp_path):
    image, _ = draw("AI生成", position="bottom-right")
    path = _save(image, tmp_path / "third-party.png")
    report = verify(path, watermark=False, ocr=False)
    assert report.visible_label is None and "X-I1" not in _outcomes(report)
    cli = [sys.executable, "-m", "aigc_tag", "verify", "--json", "--no-watermark"]
    off = subprocess.run([*cli, "--no-ocr", str(path)], capture_output=True, text=True,
                         timeout=300)  # fmt: skip
    on = subprocess.run([*cli, str(path)], capture_output=True, text=True, timeout=300)
    assert json.loads(off.stdout)["visible_label"] is None, off.stderr
    assert json.loads(on.stdout)["visible_label"]["source"] == "ocr", on.stderr


def test_declared_caption_keeps_the_exact_check(tmp_path):
    from conftest import PRODUCER, encode

    from aigc_tag import tag_bytes

    tagged = tag_bytes(encode(photo(640, 480), "PNG"), producer=PRODUCER)
    resaved = _save(Image.open(io.BytesIO(tagged)), tmp_path / "resaved.png")
    report = verify(resaved, watermark=False)
    # Saving through Pillow dropped the metadata: OCR reads aigc-tag's own caption instead.
    assert report.visible_label["source"] == "ocr" and report.visible_label["found"]
    (tmp_path / "tagged.png").write_bytes(tagged)
    report = verify(tmp_path / "tagged.png", watermark=False)
    assert report.visible_label["source"] == "declared" and report.visible_label["found"]
    assert report.visible_label["found_in_pixels"] and "match" in report.visible_label


# --------------------------------------------------------------------------- video

FFMPEG = shutil.which("ffmpeg")


def _clip(path: Path, caption_seconds: float) -> Path:
    """A 4 s 640x360 clip with "AI生成" drawn by ffmpeg's drawtext for the first seconds."""
    font = str(BUNDLED).replace(":", r"\:")
    text = (f"drawtext=fontfile='{font}':text='AI生成':fontsize=30:fontcolor=white:"
            f"borderw=2:bordercolor=black:x=w-tw-12:y=h-th-12:enable='lt(t,{caption_seconds})'")
    subprocess.run(
        [FFMPEG, "-v", "error", "-y", "-f", "lavfi", "-i",
         "color=c=0x406080:size=640x360:rate=10:duration=4", "-vf", text, "-c:v", "libx264",
         "-pix_fmt", "yuv420p", str(path)],
        check=True, timeout=120,
    )  # fmt: skip
    return path


@pytest.mark.skipif(FFMPEG is None, reason="ffmpeg is not installed")
def test_video_caption_for_three_seconds(tmp_path):
    report = verify(_clip(tmp_path / "three.mp4", 3.0), watermark=False)
    shown = report.visible_label
    assert shown["source"] == "ocr" and shown["found"] and shown["position"] == "bottom-right"
    assert shown["duration_s"] >= 2.0
    assert [f["t"] for f in shown["frames"]] == [0.0, 0.5, 1.0, 1.5, 1.9, 2.5]
    assert all(f["found"] for f in shown["frames"])
    got = _outcomes(report)
    assert got["X-I1"] == "pass" and got["X-V1"] == "pass"


@pytest.mark.skipif(FFMPEG is None, reason="ffmpeg is not installed")
def test_video_caption_for_one_second_fails_the_two_second_rule(tmp_path):
    report = verify(_clip(tmp_path / "one.mp4", 1.0), watermark=False)
    shown = report.visible_label
    assert shown["found"] and shown["duration_s"] < 2.0
    x_v1 = next(c for c in report.checks if c.id == "X-V1")
    assert x_v1.outcome.value == "fail" and "2 s" in x_v1.message
    assert report.verdict.value == "noncompliant"
