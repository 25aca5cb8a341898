"""Audio watermark engine: round trips, attacks, keys, negatives, localisation, edge cases."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import resample_poly

from aigc_tag.watermark import audio as wm
from aigc_tag.watermark.keys import WatermarkKey
from aigc_tag.watermark.layer import report
from aigc_tag.watermark.payload import Payload

BITS = Payload.for_label("001191110108MA01ABCDEN10001", "test-audio-1").to_bits()
SNR_FLOOR_DB = 28.0  # documented floor on speech (default strength); the benchmark measures more
FFMPEG = shutil.which("ffmpeg")


def speech_like(seconds: float, rate: int = 44100, seed: int = 0) -> np.ndarray:
    """Voiced syllables: gliding pitch harmonics through two formants, 4 Hz envelope, pauses."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    f0 = 140 + 30 * np.sin(2 * np.pi * 0.7 * t) + 10 * rng.standard_normal() * np.sin(t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    formants = np.array([500 + 200 * np.sin(2 * np.pi * 0.9 * t), 1500 + 500 * np.sin(t)])
    x = np.zeros_like(t)
    for k in range(1, 30):
        fk = k * f0
        amp = sum(np.exp(-((fk - f) / 180.0) ** 2) for f in formants) + 0.02
        x += amp * np.sin(k * phase) / k**0.5
    syllables = np.clip(np.sin(2 * np.pi * 4 * t), 0, None) ** 0.5
    pauses = (np.sin(2 * np.pi * 0.23 * t + rng.uniform(0, 6)) > -0.6).astype(float)
    x = x * syllables * pauses + 0.02 * rng.standard_normal(t.size) * syllables
    return (0.6 * x / np.abs(x).max())[:, None].astype(np.float32)


def music_like(seconds: float, rate: int = 44100, seed: int = 1) -> np.ndarray:
    """Stereo plucked chords with bass and hi-hat noise."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    out = np.zeros((n, 2))
    for i, root in enumerate(np.resize([220.0, 174.6, 261.6, 196.0], int(seconds * 2) + 1)):
        s0 = int(i * 0.5 * rate)
        if s0 >= n:
            break
        tt = t[s0 : s0 + rate] - t[s0]
        env = np.exp(-3 * tt)
        for k, ratio in enumerate((1.0, 1.26, 1.5, 2.0)):
            note = env * np.sin(2 * np.pi * root * ratio * tt) * 0.1
            out[s0 : s0 + tt.size, k % 2] += note
        out[s0 : s0 + tt.size] += (env * np.sin(2 * np.pi * root / 4 * tt) * 0.3)[:, None]
    out += 0.01 * rng.standard_normal((n, 2))
    return (0.8 * out / np.abs(out).max()).astype(np.float32)


def ok(det: wm.AudioDetection, bits: np.ndarray = BITS) -> bool:
    return det.detected and det.payload_bits is not None and np.array_equal(det.payload_bits, bits)


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return speech_like(15.0)


@pytest.fixture(scope="module")
def marked_speech(speech) -> np.ndarray:
    return wm.embed(speech, 44100, BITS)


@pytest.fixture(scope="module")
def music() -> np.ndarray:
    return music_like(12.0)


@pytest.fixture(scope="module")
def marked_music(music) -> np.ndarray:
    return wm.embed(music, 44100, BITS)


def test_round_trip_speech_and_music(marked_speech, marked_music):
    for marked in (marked_speech, marked_music):
        det = wm.detect(marked, 44100)
        assert ok(det)
        assert det.p_value <= 1e-6 and det.details["crc_ok"]
        assert det.bit_confidence > 0.9
        assert det.ranges and det.ranges[0][0] <= 1.0 and det.ranges[-1][1] >= 11.0


def test_shape_dtype_and_snr(speech, marked_speech):
    assert marked_speech.shape == speech.shape and marked_speech.dtype == np.float32
    noise = marked_speech.astype(np.float64) - speech
    snr = 10 * math.log10(np.sum(speech.astype(np.float64) ** 2) / np.sum(noise**2))
    assert SNR_FLOOR_DB <= snr < 60.0  # present, and not louder than the floor allows


def test_mp3_128k_round_trip(marked_speech, tmp_path: Path):
    if FFMPEG is None:
        pytest.skip("ffmpeg is not installed: the codec round trip needs the real encoder")
    src, enc, dec = tmp_path / "m.wav", tmp_path / "m.mp3", tmp_path / "d.wav"
    sf.write(src, marked_speech, 44100, subtype="FLOAT")
    run = [FFMPEG, "-v", "error", "-y", "-i"]
    subprocess.run([*run, str(src), "-c:a", "libmp3lame", "-b:a", "128k", str(enc)], check=True)
    subprocess.run([*run, str(enc), str(dec)], check=True)
    decoded, rate = sf.read(dec, dtype="float32", always_2d=True)
    assert ok(wm.detect(decoded, rate))


def test_resample_to_16k(marked_music):
    down = resample_poly(marked_music, 160, 441, axis=0).astype(np.float32)
    assert ok(wm.detect(down, 16000))


def test_stereo_to_mono(marked_music):
    assert marked_music.shape[1] == 2
    assert ok(wm.detect(marked_music.mean(axis=1), 44100))


def test_five_second_excerpt(marked_speech):
    start = int(4.37 * 44100)  # not on the frame grid
    det = wm.detect(marked_speech[start : start + 5 * 44100], 44100)
    assert ok(det)


def test_private_and_public_keys_do_not_cross(speech):
    private = WatermarkKey.private("studio secret")
    marked_private = wm.embed(speech, 44100, BITS, key=private)
    assert ok(wm.detect(marked_private, 44100, key=private))
    assert not wm.detect(marked_private, 44100).detected
    marked_public = wm.embed(speech, 44100, BITS)
    assert not wm.detect(marked_public, 44100, key=private).detected


@pytest.mark.parametrize(
    "kind",
    ["noise", "silence", "tone", "speech", "music"],
)
def test_unmarked_not_detected(kind, speech, music):
    rng = np.random.default_rng(3)
    x = {
        "noise": (0.1 * rng.standard_normal((10 * 44100, 1))).astype(np.float32),
        "silence": np.zeros((10 * 44100, 1), np.float32),
        "tone": (0.5 * np.sin(2 * np.pi * 1000 * np.arange(10 * 44100) / 44100))[:, None],
        "speech": speech,
        "music": music,
    }[kind]
    det = wm.detect(x.astype(np.float32), 44100)
    assert not det.detected and det.payload_bits is None and det.ranges == []
    assert det.p_value > 1e-6


def test_splice_reports_marked_range(speech):
    rate = 44100
    clean = speech_like(24.0, seed=9)
    marked = wm.embed(speech[: 8 * rate], rate, BITS)
    spliced = np.concatenate([clean[: 8 * rate], marked, clean[8 * rate : 16 * rate]])
    det = wm.detect(spliced, rate)
    assert ok(det)
    assert len(det.ranges) == 1
    start, end = det.ranges[0]
    assert start <= 9.0 and end >= 15.0  # covers the marked 8-16 s
    assert start >= 7.0 and end <= 17.0  # and not the clean parts (1 s resolution)


def test_8k_mono_and_192k_eight_channels():
    low = speech_like(8.0, rate=8000)[:, 0]
    marked_low = wm.embed(low, 8000, BITS)
    assert marked_low.shape == low.shape and marked_low.dtype == np.float32
    assert ok(wm.detect(marked_low, 8000))
    rate = 192000
    base = speech_like(6.0, rate=rate)
    many = np.concatenate([base * g for g in np.linspace(0.3, 1.0, 8)], axis=1)
    marked_many = wm.embed(many, rate, BITS)
    assert marked_many.shape == (base.shape[0], 8) and marked_many.dtype == np.float32
    assert ok(wm.detect(marked_many, rate))


def test_silence_stays_bit_identical(speech):
    silence = np.zeros((6 * 44100, 2), np.float32)
    assert np.array_equal(wm.embed(silence, 44100, BITS), silence)
    gap = np.concatenate([speech[: 5 * 44100], np.zeros((3 * 44100, 1), np.float32)])
    out = wm.embed(gap, 44100, BITS)
    assert np.array_equal(out[5 * 44100 + 64 :], gap[5 * 44100 + 64 :])


def test_full_scale_input_never_exceeds_one(speech):
    loud = np.clip(speech * 4.0, -1.0, 1.0)  # hard-clipped, many samples at +-1
    out = wm.embed(loud, 44100, BITS)
    assert float(np.abs(out).max()) <= 1.0
    assert ok(wm.detect(out, 44100))


def test_too_short_raises():
    with pytest.raises(wm.AudioTooShort):
        wm.embed(np.zeros(int(44100 * (wm.MIN_EMBED_SECONDS - 0.1)), np.float32), 44100, BITS)
    assert isinstance(wm.AudioTooShort("x"), ValueError)
    det = wm.detect(np.zeros(100, np.float32), 44100)
    assert not det.detected and "reason" in det.details


def test_speed_change_needs_thorough(marked_music):
    faster = resample_poly(marked_music, 20, 21, axis=0).astype(np.float32)  # 1.05x speed
    assert not wm.detect(faster, 44100).detected
    det = wm.detect(faster, 44100, thorough=True)
    assert ok(det)
    assert abs(det.speed - 1.05) < 0.003


def test_report_and_json(marked_speech):
    det = wm.detect(marked_speech, 44100)
    out = report(det, None)
    assert out["key"] == "public" and out["detected"] is True
    assert out["payload"]["hex"] == Payload.from_bits(BITS).hex()
    data = json.loads(json.dumps(det.to_json()))
    assert set(data) >= {"detected", "payload_bits", "score", "p_value", "bit_confidence",
                         "details", "ranges", "speed"}
    assert data["payload_bits"] == "".join(map(str, BITS))
