"""The in-memory API as a generation pipeline calls it: int16 PCM, float images, loose format
names, wrong types — each either normalised exactly or refused with InvalidInput, and every
layer warning handed to :mod:`warnings`."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest
from conftest import PRODUCER
from PIL import Image

import aigc_tag
from aigc_tag import inputs
from aigc_tag.errors import AigcTagWarning, InvalidInput

soundfile = pytest.importorskip("soundfile")


def _tone(seconds: float = 4.0, rate: int = 16000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    rng = np.random.default_rng(7)
    return 0.3 * np.sin(2 * np.pi * 330 * t) + 0.05 * rng.standard_normal(t.size)


def test_int16_pcm_is_scaled_not_clipped():
    pcm = np.round(_tone() * 32767).astype(np.int16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AigcTagWarning)
        out = aigc_tag.tag_audio(pcm, 16000.0, producer=PRODUCER, format="WAV", audible="none")
    decoded, rate = soundfile.read(io.BytesIO(out), dtype="float32")
    assert rate == 16000
    # A square wave would sit at +-1.0 for most samples; scaled PCM keeps its 0.3 + noise peak.
    assert np.abs(decoded).max() < 0.6
    assert np.mean(np.abs(decoded) > 0.99) == 0.0
    expected = pcm.astype(np.float32) / 32768
    assert np.corrcoef(decoded[: expected.size], expected)[0, 1] > 0.95
    assert aigc_tag.verify_bytes(out, watermark=False).verdict == aigc_tag.Verdict.COMPLIANT


@pytest.mark.parametrize(
    ("samples", "message"),
    [
        (_tone() * 4, "peak is"),
        (np.full(4000, np.nan), "NaN"),
        (np.zeros((10, 100, 2)), "shape"),
        (np.array([True, False] * 100), "booleans"),
    ],
)
def test_bad_audio_is_refused(samples, message):
    with pytest.raises(InvalidInput, match=message):
        aigc_tag.tag_audio(samples, 16000, producer=PRODUCER)


@pytest.mark.parametrize("rate", [22050.5, 0, -1, "16000", True])
def test_bad_sample_rate(rate):
    with pytest.raises(InvalidInput, match="sample_rate"):
        aigc_tag.tag_audio(_tone(1.0), rate, producer=PRODUCER)


def test_format_names_are_normalised():
    assert inputs.image_format("jpg") == inputs.image_format(".JPEG") == "JPEG"
    assert inputs.audio_format("WAV") == "wav"
    with pytest.raises(InvalidInput, match="not one of"):
        inputs.image_format("bmp")
    with pytest.raises(InvalidInput, match="not one of"):
        inputs.audio_format(3)


def test_float_image_in_unit_range_is_scaled():
    gradient = np.linspace(0.0, 1.0, 256 * 256 * 3).reshape(256, 256, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AigcTagWarning)
        out = aigc_tag.tag_image(gradient, producer=PRODUCER, format="png", visible=False,
                                 watermark=False)  # fmt: skip
    pixels = np.asarray(Image.open(io.BytesIO(out)).convert("RGB"))
    assert pixels.max() == 255 and pixels.min() == 0
    with pytest.raises(InvalidInput, match=r"\[0, 1\]"):
        aigc_tag.tag_image(gradient * 255, producer=PRODUCER)
    with pytest.raises(InvalidInput, match="dtype"):
        aigc_tag.tag_image(np.zeros((64, 64), np.int64), producer=PRODUCER)


def test_tag_bytes_refuses_str_with_a_hint():
    with pytest.raises(InvalidInput, match="tag_text"):
        aigc_tag.tag_bytes("an answer", producer=PRODUCER)


def test_shortcuts_raise_layer_warnings():
    small = Image.new("RGB", (64, 64), (200, 30, 30))
    with pytest.warns(AigcTagWarning, match="watermark not embedded"):
        aigc_tag.tag_image(small, producer=PRODUCER)


def test_tag_text_adds_the_wording_and_warns_about_metadata():
    with pytest.warns(AigcTagWarning, match="no metadata container"):
        out = aigc_tag.tag_text("这是模型的回答。", producer=PRODUCER)
    assert out.startswith("这是模型的回答。") and "人工智能生成" in out
    with pytest.raises(InvalidInput):
        aigc_tag.tag_text(b"bytes", producer=PRODUCER)


def test_tag_video_refuses_non_video():
    buf = io.BytesIO()
    Image.new("RGB", (32, 32)).save(buf, "PNG")
    with pytest.raises(InvalidInput, match="not a video"):
        aigc_tag.tag_video(buf.getvalue(), producer=PRODUCER)
