"""Audible (explicit) audio label: rhythm cue, voice prompts, insertion, detection, checking."""

from __future__ import annotations

import json
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from aigc_tag.audible import (
    PROMPTS,
    AudiblePlacement,
    UnknownPrompt,
    check_declared,
    detect_rhythm,
    insert_label,
    is_checkable,
    loudness_db,
    rhythm_cue,
    voice_prompt,
)
from aigc_tag.audible.insert import FADE_S, make_cue
from aigc_tag.audible.rhythm import RAMP_S
from aigc_tag.visible.wording import has_both_elements

FFMPEG = "/usr/bin/ffmpeg"
needs_ffmpeg = pytest.mark.skipif(
    not Path(FFMPEG).exists(), reason=f"{FFMPEG} not found (apt-get install ffmpeg)"
)


# ---------------------------------------------------------------- signals


def speech_like(sr: int, seconds: float, ch: int = 1, seed: int = 0) -> np.ndarray:
    """Voiced syllables: a gliding 100-250 Hz harmonic series with formant-ish weights,
    4 Hz syllable envelope, plus some breath noise."""
    rng = np.random.default_rng(seed)
    n = int(sr * seconds)
    t = np.arange(n) / sr
    f0 = 160 + 60 * np.sin(2 * np.pi * 0.7 * t) + 20 * np.sin(2 * np.pi * 3.1 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    x = np.zeros(n)
    for h in range(1, 30):
        f = h * 160
        w = np.exp(-(((f - 700) / 300) ** 2)) + 0.6 * np.exp(-(((f - 1800) / 400) ** 2)) + 0.05
        x += w / h**0.5 * np.sin(h * phase)
    env = np.clip(np.sin(2 * np.pi * 4.0 * t + rng.uniform(0, 6)), 0, None) ** 0.7
    x = x * env + 0.02 * rng.standard_normal(n)
    x = 0.3 * x / np.max(np.abs(x))
    return np.repeat(x[:, None], ch, axis=1).astype(np.float32)


def noise(sr: int, seconds: float, ch: int = 1, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (0.1 * rng.standard_normal((int(sr * seconds), ch))).astype(np.float32)


def music(sr: int, seconds: float, ch: int = 2) -> np.ndarray:
    """Chords and a staccato melody in the tone band (notes 587-988 Hz, varied rhythm)."""
    t = np.arange(int(sr * seconds)) / sr
    x = np.zeros_like(t)
    for f in (220.0, 277.2, 329.6):
        x += 0.1 * np.sin(2 * np.pi * f * t)
    notes = [(0.0, 0.2, 880.0), (0.25, 0.1, 659.3), (0.4, 0.5, 783.99), (1.0, 0.15, 587.3),
             (1.2, 0.12, 988.0), (1.4, 0.3, 880.0), (1.8, 0.1, 659.3), (2.0, 0.6, 783.99)]
    for t0, d, f in notes:
        m = (t >= t0) & (t < t0 + d)
        x[m] += 0.3 * np.sin(2 * np.pi * f * t[m]) * np.exp(-(t[m] - t0) * 3)
    return np.repeat(x[:, None], ch, axis=1).astype(np.float32)


def tone_runs(sr: int, durations_units: list[tuple[bool, float]], unit: float, hz: float):
    """A rectangular-ish tone pattern (other tools' style), 5 ms ramps."""
    parts = []
    for on, u in durations_units:
        n = int(round(u * unit * sr))
        if on:
            t = np.arange(n) / sr
            seg = 0.3 * np.sin(2 * np.pi * hz * t)
            r = int(0.005 * sr)
            ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(r) / r)
            seg[:r] *= ramp
            seg[-r:] *= ramp[::-1]
            parts.append(seg)
        else:
            parts.append(np.zeros(n))
    return np.concatenate(parts)[:, None].astype(np.float32)


def ffmpeg_roundtrip(x: np.ndarray, sr: int, tmp_path: Path, args: list[str], ext: str):
    src, enc, dec = tmp_path / "in.wav", tmp_path / f"enc.{ext}", tmp_path / "dec.wav"
    with wave.open(str(src), "wb") as w:
        w.setnchannels(x.shape[1])
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())
    subprocess.run([FFMPEG, "-v", "error", "-y", "-i", str(src), *args, str(enc)], check=True)
    subprocess.run([FFMPEG, "-v", "error", "-y", "-i", str(enc), str(dec)], check=True)
    with wave.open(str(dec)) as w:
        y = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, w.getnchannels())
        return (y / 32768.0).astype(np.float32), w.getframerate()


# ---------------------------------------------------------------- the cue itself


def _edges(env: np.ndarray, sr: int) -> list[tuple[float, float]]:
    """Half-amplitude on/off times of a tone envelope."""
    on = env >= 0.5
    d = np.diff(on.astype(int))
    ups, downs = np.nonzero(d == 1)[0] + 1, np.nonzero(d == -1)[0] + 1
    return [(u / sr, v / sr) for u, v in zip(ups, downs, strict=True)]


@pytest.mark.parametrize("sr", [8000, 48000])
def test_rhythm_timing_is_itu_at_120ms(sr):
    cue = rhythm_cue(sr, 1)
    # envelope: exact, from the analytic signal of a pure tone
    from scipy.signal import hilbert

    env = np.abs(hilbert(cue[:, 0].astype(np.float64))) / 10 ** (-18 / 20)
    segs = _edges(env, sr)
    assert len(segs) == 4
    tones = [b - a for a, b in segs]
    gaps = [segs[i + 1][0] - segs[i][1] for i in range(3)]
    tol = 2.5 / sr + 0.0015
    assert tones == pytest.approx([0.12, 0.36, 0.12, 0.12], abs=tol)
    assert gaps == pytest.approx([0.12, 0.36, 0.12], abs=tol)
    assert segs[-1][1] - segs[0][0] == pytest.approx(1.32, abs=tol)
    assert len(cue) == round((1.32 + RAMP_S) * sr)
    # sampled peak of the sine: 5 % low at 8 kHz (10 samples per period), exact at 48 kHz
    assert np.max(np.abs(cue)) == pytest.approx(10 ** (-18 / 20), rel=0.06 if sr < 16000 else 0.002)


def test_rhythm_ramps_and_channels():
    sr = 48000
    cue = rhythm_cue(sr, 6, tone_hz=800.0, level_dbfs=-16.0)
    assert cue.dtype == np.float32 and cue.shape[1] == 6
    assert all(np.array_equal(cue[:, 0], cue[:, c]) for c in range(6))
    assert cue[0, 0] == 0 and cue[-1, 0] == 0
    peak = 10 ** (-16 / 20)
    # a steady 800 Hz sine moves at most 2*pi*f/sr*peak per sample; ramps must not add steps
    bound = 2 * np.pi * 800 / sr * peak * 1.05
    assert np.max(np.abs(np.diff(cue[:, 0]))) <= bound
    # and the edges are smooth: the first 2 ms of every tone stay well below the peak
    env_on = np.nonzero(np.abs(cue[:, 0]) > 0)[0]
    assert np.max(np.abs(cue[env_on[0] : env_on[0] + int(0.002 * sr), 0])) < 0.2 * peak


def test_rhythm_rejects_bad_parameters():
    with pytest.raises(ValueError):
        rhythm_cue(8000, 1, tone_hz=3900.0)  # too close to Nyquist
    with pytest.raises(ValueError):
        rhythm_cue(48000, 0)
    with pytest.raises(ValueError):
        rhythm_cue(48000, 1, unit_s=2.0)


# ---------------------------------------------------------------- detection


def _labelled(prog, sr, unit_s=0.12, where="both"):
    cue = make_cue("rhythm", sr, prog.shape[1], unit_s=unit_s)
    return insert_label(prog, sr, cue, where=where, unit_s=unit_s)


@pytest.mark.parametrize(
    "sr,ch,make",
    [(8000, 1, speech_like), (44100, 2, noise), (48000, 6, speech_like), (192000, 1, noise)],
)
def test_detect_our_cue_start_and_end(sr, ch, make):
    out, pl = _labelled(make(sr, 2.0, ch), sr)
    found = detect_rhythm(out, sr)
    assert len(found) == 2
    for f, p in zip(found, pl, strict=True):
        # first tone's half-amplitude start is RAMP_S/2 into the cue array
        assert f.start_s == pytest.approx(p.start_s + RAMP_S / 2, abs=0.02)
        assert f.end_s == pytest.approx(p.start_s + RAMP_S / 2 + 1.32, abs=0.02)
        assert f.gaps == "itu"
        assert f.tone_hz == pytest.approx(800, abs=10)
        assert f.unit_s == pytest.approx(0.12, rel=0.1)
        assert f.confidence > 0.7


@pytest.mark.parametrize("unit_s", [0.08, 0.16])
def test_detect_other_tempi(unit_s):
    sr = 44100
    out, pl = _labelled(speech_like(sr, 1.5, 2), sr, unit_s=unit_s)
    found = detect_rhythm(out, sr)
    assert [round(f.start_s, 2) for f in found] == pytest.approx(
        [p.start_s + RAMP_S / 2 for p in pl], abs=0.02
    )
    assert all(f.unit_s == pytest.approx(unit_s, rel=0.1) for f in found)
    assert all(f.end_s - f.start_s == pytest.approx(11 * unit_s, abs=0.02) for f in found)


def test_detect_foreign_equal_gap_cue():
    sr = 22050
    equal = [(True, 1), (False, 1), (True, 3), (False, 1), (True, 1), (False, 1), (True, 1)]
    cue = tone_runs(sr, equal, 0.12, 1046.5)
    prog = speech_like(sr, 1.5)
    x = np.concatenate([prog, np.zeros((sr // 2, 1), np.float32), cue])  # appended at the end
    found = detect_rhythm(x, sr)
    assert len(found) == 1
    f = found[0]
    assert f.gaps == "equal"
    assert f.tone_hz == pytest.approx(1046.5, abs=15)
    assert f.start_s == pytest.approx(2.0, abs=0.02)
    assert f.end_s == pytest.approx(2.0 + 9 * 0.12, abs=0.02)


@pytest.mark.parametrize(
    "name,signal",
    [
        ("speech", lambda sr: speech_like(sr, 6.0, 2)),
        ("music", lambda sr: music(sr, 3.0)),
        ("noise", lambda sr: noise(sr, 4.0)),
        ("steady tone", lambda sr: 0.3 * np.sin(2 * np.pi * 800 * np.arange(3 * sr) / sr)[:, None]),
        ("short-short-long-short", lambda sr: tone_runs(
            sr, [(False, 3), (True, 1), (False, 1), (True, 1), (False, 3), (True, 3), (False, 1),
                 (True, 1), (False, 3)], 0.12, 800.0)),
        ("short-long-short (no 4th)", lambda sr: tone_runs(
            sr, [(False, 3), (True, 1), (False, 1), (True, 3), (False, 3), (True, 1),
                 (False, 5)], 0.12, 800.0)),
        ("all short", lambda sr: tone_runs(
            sr, [(False, 3), (True, 1), (False, 1), (True, 1), (False, 3), (True, 1), (False, 1),
                 (True, 1), (False, 3)], 0.12, 800.0)),
    ],
)
def test_detect_no_false_positives(name, signal):
    sr = 16000
    assert detect_rhythm(np.asarray(signal(sr), np.float32), sr) == []


def test_detect_empty_and_tiny():
    assert detect_rhythm(np.zeros((0, 2), np.float32), 48000) == []
    assert detect_rhythm(np.zeros((10, 1), np.float32), 48000) == []


# ---------------------------------------------------------------- insertion


def _max_step(x):
    return float(np.max(np.abs(np.diff(x.astype(np.float64), axis=0)))) if len(x) > 1 else 0.0


@pytest.mark.parametrize("where", ["start", "end", "both"])
def test_insert_no_click_lengths_preserved(where):
    sr, ch = 48000, 2
    # a programme that starts and ends loud (worst case for a click)
    t = np.arange(sr * 2) / sr
    prog = (0.7 * np.sin(2 * np.pi * 300 * t + 1.0))[:, None].repeat(ch, 1).astype(np.float32)
    cue = make_cue("rhythm", sr, ch)
    out, pl = insert_label(prog, sr, cue, where=where, padding_s=0.3)
    n_ins = 2 if where == "both" else 1
    pad = int(0.3 * sr)
    assert len(out) == len(prog) + n_ins * (2 * pad + len(cue))
    assert out.shape[1] == ch and out.dtype == np.float32
    assert all(np.array_equal(out[:, 0], out[:, c]) for c in range(ch))
    # no click: around every junction nothing steps more than the neighbouring content does in
    # its steady part (programme: 300 Hz at 0.7; cue: its 800 Hz tone); without the programme
    # fade the first step at the programme edge would be ~0.59
    p_step = _max_step(prog)
    c_step = max(_max_step(out[int(round(p.start_s * sr)) : int(round(p.end_s * sr))]) for p in pl)
    pad_n, cue_n, prog_n = pad, len(cue), len(prog)
    if where == "start":
        junctions = [(pad_n, c_step), (pad_n + cue_n, c_step), (2 * pad_n + cue_n, p_step)]
    elif where == "end":
        junctions = [(prog_n, p_step), (prog_n + pad_n, c_step), (prog_n + pad_n + cue_n, c_step)]
    else:
        o = 2 * pad_n + cue_n
        junctions = [(pad_n, c_step), (pad_n + cue_n, c_step), (o, p_step),
                     (o + prog_n, p_step), (o + prog_n + pad_n, c_step)]
    w = int(0.01 * sr)
    for j, ref in junctions:
        seg = out[max(0, j - w) : j + w]
        assert _max_step(seg) <= ref * 1.001, j
        # and the junction itself is quiet (the content fades in/out rather than jumping)
        assert np.max(np.abs(out[max(0, j - 24) : j + 24])) < 0.05, j
    # original samples preserved except the 5 ms edge fades
    nf = int(round(FADE_S * sr))
    off = 2 * pad + len(cue) if where in ("start", "both") else 0
    body = out[off : off + len(prog)]
    lo = nf if where in ("start", "both") else 0
    hi = len(prog) - (nf if where in ("end", "both") else 0)
    assert np.array_equal(body[lo:hi], prog[lo:hi])
    if where in ("start", "both"):
        assert abs(body[0, 0]) < 0.01 and np.all(np.abs(body[:nf]) <= np.abs(prog[:nf]) + 1e-7)
    # placements point at the cue in the output
    for p in pl:
        s = int(round(p.start_s * sr))
        seg = out[s : s + len(cue), 0]
        assert np.corrcoef(seg, cue[:, 0])[0, 1] > 0.9999
        assert p.end_s - p.start_s == pytest.approx(len(cue) / sr)


def test_insert_levels_matched():
    sr = 44100
    prog = speech_like(sr, 4.0, 2)
    for kind in ("rhythm", "voice-zh"):
        out, pl = insert_label(prog, sr, make_cue(kind, sr, 2), kind=kind, where="end")
        p = pl[0]
        seg = out[int(p.start_s * sr) : int(p.end_s * sr)]
        peak, prog_peak = np.max(np.abs(seg)), np.max(np.abs(prog))
        assert peak <= prog_peak * 1.0001
        if peak < prog_peak * 0.99:  # not peak-limited: loudness matched
            assert loudness_db(seg, sr) == pytest.approx(loudness_db(prog, sr), abs=0.5), kind
        else:  # the peak cap bound: quieter than the programme, never louder
            assert loudness_db(seg, sr) < loudness_db(prog, sr), kind
    # quiet programme: floor keeps the label audible; louder than the programme is allowed
    quiet = speech_like(sr, 2.0) * 10 ** (-40 / 20)
    out, pl = insert_label(quiet, sr, make_cue("rhythm", sr, 1))
    seg = out[int(pl[0].start_s * sr) : int(pl[0].end_s * sr)]
    assert loudness_db(seg, sr) == pytest.approx(-30.0, abs=1.5)
    # loud programme: never above its peak, never above -1 dBFS
    loud = np.clip(noise(sr, 2.0) * 8, -1, 1)
    out, pl = insert_label(loud, sr, make_cue("rhythm", sr, 1))
    assert np.max(np.abs(out[: int(pl[0].end_s * sr)])) <= 10 ** (-1 / 20) + 1e-6


@pytest.mark.parametrize("sr,ch", [(8000, 1), (44100, 8), (192000, 2)])
def test_insert_empty_programme(sr, ch):
    empty = np.zeros((0, ch), np.float32)
    out, pl = insert_label(empty, sr, make_cue("rhythm", sr, ch), where="both")
    assert len(pl) == 2 and out.shape[1] == ch
    assert pl[0].gain_db == 0.0
    assert len(detect_rhythm(out, sr)) == 2
    assert check_declared(out, sr, pl).complete


def test_insert_rejects_mismatched_cue_and_bad_args():
    sr = 48000
    prog = noise(sr, 1.0)
    with pytest.raises(ValueError, match="kind='clip'"):
        insert_label(prog, sr, rhythm_cue(sr, 1, unit_s=0.1))  # unit not declared
    out, pl = insert_label(prog, sr, rhythm_cue(sr, 1, unit_s=0.1, level_dbfs=-20), unit_s=0.1)
    assert pl[0].unit_s == 0.1 and check_declared(out, sr, pl).complete
    with pytest.raises(ValueError):
        insert_label(prog, sr, make_cue("rhythm", sr), where="middle")
    with pytest.raises(ValueError):
        insert_label(prog, sr, make_cue("rhythm", sr), kind="voice-fr")


# ---------------------------------------------------------------- declared check


def test_placement_json_roundtrip():
    sr = 44100
    out, pl = insert_label(noise(sr, 1.0), sr, make_cue("rhythm", sr), where="both")
    back = [AudiblePlacement.from_json(json.loads(json.dumps(p.to_json()))) for p in pl]
    assert back == pl
    assert pl[0].to_json()["kind"] == "rhythm" and pl[0].to_json()["tone_hz"] == 800.0
    with pytest.raises(ValueError):
        AudiblePlacement.from_json({**pl[0].to_json(), "kind": "beep"})


@pytest.mark.parametrize("kind", ["rhythm", "voice-zh", "voice-bilingual"])
def test_check_declared_pass_and_tamper(kind):
    sr = 16000
    prog = speech_like(sr, 3.0, 2)
    out, pl = insert_label(prog, sr, make_cue(kind, sr, 2), kind=kind, where="both")
    ev = check_declared(out, sr, pl)
    assert ev.found and ev.complete
    assert all(r.r > 0.999 and r.lag_ms == 0 and r.template_sha_matches for r in ev.results)
    s, e = int(pl[0].start_s * sr), int(pl[0].end_s * sr)
    silenced = out.copy()
    silenced[s:e] = 0
    ev = check_declared(silenced, sr, pl)
    assert [r.status for r in ev.results] == ["failed", "ok"]
    assert ev.found and not ev.complete
    replaced = out.copy()
    replaced[s:e] = speech_like(sr, (e - s) / sr + 0.01, 2, seed=7)[: e - s]
    assert check_declared(replaced, sr, pl).results[0].status == "failed"
    # cutting the label at the start shifts everything: both fail
    cut = out[e:]
    assert not check_declared(cut, sr, pl).found
    # the evidence is JSON-able
    json.dumps(ev.to_json())


def test_check_declared_after_resampling():
    from scipy.signal import resample_poly

    out, pl = insert_label(noise(48000, 2.0, 2), 48000, make_cue("voice-en", 48000, 2),
                           kind="voice-en")
    y = resample_poly(out, 147, 160, axis=0).astype(np.float32)  # 48 k -> 44.1 k
    ev = check_declared(y, 44100, pl)
    assert ev.complete and ev.results[0].r > 0.95
    assert ev.results[0].template_sha_matches is None  # other rate: waveform check only


def test_user_clip_envelope_check():
    sr = 44100
    rng = np.random.default_rng(3)
    clip = (rng.standard_normal(sr) * np.linspace(0, 1, sr) * 0.2)[:, None].astype(np.float32)
    clip *= (np.sin(2 * np.pi * 2 * np.arange(sr) / sr) > 0)[:, None]
    out, pl = insert_label(speech_like(sr, 2.0), sr, clip, kind="clip")
    assert pl[0].envelope and not is_checkable("clip") and is_checkable("rhythm")
    ev = check_declared(out, sr, pl)
    assert ev.complete and ev.results[0].method == "envelope"
    s, e = int(pl[0].start_s * sr), int(pl[0].end_s * sr)
    out[s:e] = 0
    assert not check_declared(out, sr, pl).found
    bare = AudiblePlacement.from_json({**pl[0].to_json(), "envelope": None})
    assert check_declared(out, sr, [bare]).results[0].status == "not checkable"


@needs_ffmpeg
@pytest.mark.parametrize(
    "codec,args,ext",
    [("mp3", ["-c:a", "libmp3lame", "-b:a", "64k"], "mp3"),
     ("aac", ["-c:a", "aac", "-b:a", "64k"], "m4a")],
)
def test_after_lossy_codec(tmp_path, codec, args, ext):
    sr = 44100
    prog = speech_like(sr, 1.5, 2)
    out_r, pl_r = insert_label(prog, sr, make_cue("rhythm", sr, 2), where="both")
    y, ysr = ffmpeg_roundtrip(out_r, sr, tmp_path, args, ext)
    ev = check_declared(y, ysr, pl_r)
    assert ev.complete, ev.to_json()
    found = detect_rhythm(y, ysr)
    assert [f.gaps for f in found] == ["itu", "itu"]
    assert found[0].start_s == pytest.approx(pl_r[0].start_s + RAMP_S / 2, abs=0.03)
    out_v, pl_v = insert_label(prog, sr, make_cue("voice-zh", sr, 2), kind="voice-zh")
    y, ysr = ffmpeg_roundtrip(out_v, sr, tmp_path, args, ext)
    ev = check_declared(y, ysr, pl_v)
    assert ev.complete and ev.results[0].r > 0.9, ev.to_json()
    silenced = y.copy()
    s = int(pl_v[0].start_s * ysr)
    silenced[s : s + int(4.0 * ysr)] = 0
    assert not check_declared(silenced, ysr, pl_v).found


# ---------------------------------------------------------------- voice prompts


def test_prompts_wording():
    assert set(PROMPTS) == {"zh", "en", "bilingual"}
    assert has_both_elements(PROMPTS["zh"])  # the English text alone is not GB-confirmed
    assert PROMPTS["bilingual"].startswith(PROMPTS["zh"]) and PROMPTS["en"] in PROMPTS["bilingual"]


@pytest.mark.parametrize("sr", [8000, 48000])
def test_voice_prompts_load(sr):
    zh = voice_prompt("zh", sr, 2)
    en = voice_prompt("voice-en", sr, 2)
    bi = voice_prompt("bilingual", sr, 2)
    assert zh.dtype == np.float32 and zh.shape[1] == 2
    assert np.array_equal(zh[:, 0], zh[:, 1])
    # GB 45438 §5.3 note 4: normal rate, ~120-160 characters/min; 10 characters
    assert 60 * 10 / (len(zh) / sr) == pytest.approx(140, abs=20)
    assert 2.0 < len(en) / sr < 4.5
    assert len(bi) == pytest.approx(len(zh) + len(en) + 0.4 * sr, abs=sr * 0.01)
    assert np.max(np.abs(zh)) == pytest.approx(10 ** (-18 / 20), rel=0.01)
    # speech, not silence: a good share of 20 ms frames are active
    frames = zh[: len(zh) // (sr // 50) * (sr // 50), 0].reshape(-1, sr // 50)
    assert np.mean(np.sqrt((frames**2).mean(1)) > 0.005) > 0.5


def test_voice_prompt_unknown_name():
    with pytest.raises(KeyError, match="choose one of bilingual, en, zh"):
        voice_prompt("fr", 48000, 1)
    with pytest.raises(UnknownPrompt):
        voice_prompt("voice-de", 48000, 1)


def test_voice_package_data_small_and_licensed():
    d = Path(__file__).resolve().parents[1] / "aigc_tag" / "voices"
    total = sum(p.stat().st_size for p in d.glob("*.wav"))
    assert total < 400 * 1024
    readme = (d / "README.md").read_text(encoding="utf-8")
    assert "GPL-3.0-or-later" in readme and "Apache-2.0" in readme and "espeak-ng" in readme
    with wave.open(str(d / "zh.wav")) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 22050)


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_mandarin_voice_has_no_language_switch():
    """The build tool's Mandarin input is read as Mandarin (the plain cmn voice is not)."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "tools" / "make_voice_prompts.py"
    spec = importlib.util.spec_from_file_location("make_voice_prompts", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    shown, voice, text, _ = mod.PROMPTS["zh"]
    assert shown == PROMPTS["zh"]
    out = subprocess.run(["espeak-ng", "-q", "-x", "-v", voice, text],
                         capture_output=True, text=True, check=True).stdout
    assert "(" not in out and out.count("_|") >= 9  # ten syllables, no switch to English
