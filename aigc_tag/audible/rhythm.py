"""The GB 45438 §5.3 audio rhythm label ("短长短短", Morse "AI"): generator and detector.

Generator (:func:`rhythm_cue`), ITU Morse timing with a 120 ms unit by default::

    tone 1 · gap 1 · tone 3 · gap 3 · tone 1 · gap 1 · tone 1   = 11 units = 1.32 s

The gap between the letters A (·−) and I (··) is 3 units; with equal 1-unit gaps the same
tones spell the letter L. Each tone is a sine (800 Hz default) with raised-cosine ramps of
``RAMP_S`` centred on the nominal edges, so the half-amplitude points fall exactly on the
ITU boundaries and the measured tone/gap durations are exact. The array starts and ends with
half a ramp (4 ms) and is exactly zero at both ends. All channels are identical.

Detector (:func:`detect_rhythm`) is lenient, so that cues made by other tools are found too:
the mono mix is decimated to 8 kHz, a short-time spectrum (25 ms Hann, 5 ms hop; a Goertzel
bank in effect) marks tonal frames (one peak 550-1150 Hz holding >= 50 % of the frame energy,
hysteresis: a run continues while >= 30 % at the same bin ±1), runs of tonal frames become tone
segments whose edges are placed where the narrow-band energy crosses half its plateau
(interpolated, ~1 ms), and a segment overlapping a stronger one is dropped (codec pre-echo).
Four consecutive segments form a cue when:

* all four are at one frequency (±4 %) in 550-1150 Hz, and their levels agree within 9 dB;
* the short tones 1, 3, 4 agree within ±30 % of their mean ``u`` (30-400 ms);
* the long tone 2 is 2-5 ``u`` ("long >= 2x short", any tempo);
* gaps 1 and 3 are 1 ``u`` ±30 %; gap 2 is 1 ``u`` ±30 % (``gaps="equal"``, Morse "L" as some
  vendors play it) or 3 ``u`` ±30 % (``gaps="itu"``, Morse "AI");
* inside every gap the energy at the tone frequency falls >= 15 dB below the tones;
* nothing tonal lies within 1.5 ``u`` before the first or after the last tone (so a longer
  Morse sequence that merely contains S-L-S-S is not reported).

``confidence`` is 1 minus the mean relative deviation from the ideal ratios, scaled by the
30 % tolerance. Arbitrary speech cannot be recognised as a voice label; see
``aigc_tag.audible.insert.NOT_CHECKABLE``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from math import gcd

import numpy as np
from scipy.signal import resample_poly

__all__ = [
    "DEFAULT_LEVEL_DBFS",
    "DEFAULT_TONE_HZ",
    "DEFAULT_UNIT_S",
    "ITU_PATTERN",
    "RAMP_S",
    "RhythmFinding",
    "detect_rhythm",
    "rhythm_cue",
    "rhythm_segments",
]

DEFAULT_UNIT_S = 0.12
DEFAULT_TONE_HZ = 800.0
DEFAULT_LEVEL_DBFS = -18.0
RAMP_S = 0.008  # raised-cosine ramp per edge (5-10 ms band of the spec), centred on the edge
#: (is_tone, units): ITU Morse "AI" = ·− (letter gap) ··
ITU_PATTERN: tuple[tuple[bool, int], ...] = (
    (True, 1), (False, 1), (True, 3), (False, 3), (True, 1), (False, 1), (True, 1),
)
EQUAL_PATTERN: tuple[tuple[bool, int], ...] = (
    (True, 1), (False, 1), (True, 3), (False, 1), (True, 1), (False, 1), (True, 1),
)

# detector parameters
_WORK_SR = 8000
_WIN = 200  # 25 ms at 8 kHz
_NFFT = 256
_HOP = 40  # 5 ms
_BAND = (550.0, 1150.0)
_ON_PURITY, _OFF_PURITY = 0.5, 0.3
_FLOOR_DB = -75.0  # tonal frames quieter than this (dBFS, narrow band) are ignored
_TOL = 0.30
_MIN_UNIT_S, _MAX_UNIT_S = 0.03, 0.40
_GAP_CONTRAST_DB = 15.0


def _check_rate_channels(sample_rate: int, channels: int) -> None:
    if not isinstance(sample_rate, (int, np.integer)) or sample_rate < 8000 or sample_rate > 384000:
        raise ValueError(f"sample_rate must be an integer 8000-384000 Hz, got {sample_rate!r}")
    if not isinstance(channels, (int, np.integer)) or channels < 1 or channels > 64:
        raise ValueError(f"channels must be an integer 1-64, got {channels!r}")


def rhythm_segments(
    unit_s: float = DEFAULT_UNIT_S, gaps: str = "itu"
) -> list[tuple[float, float]]:
    """Nominal (start_s, end_s) of the four tones, measured from the first tone's start."""
    pattern = {"itu": ITU_PATTERN, "equal": EQUAL_PATTERN}[gaps]
    t, out = 0.0, []
    for is_tone, units in pattern:
        if is_tone:
            out.append((t, t + units * unit_s))
        t += units * unit_s
    return out


def rhythm_cue(
    sample_rate: int,
    channels: int,
    *,
    unit_s: float = DEFAULT_UNIT_S,
    tone_hz: float = DEFAULT_TONE_HZ,
    level_dbfs: float = DEFAULT_LEVEL_DBFS,
    gaps: str = "itu",
) -> np.ndarray:
    """The "短长短短" cue, float32 (n, channels), peak ``level_dbfs``.

    Length is ``11 * unit_s + RAMP_S`` (ITU) rounded to samples: the first nominal edge is at
    ``RAMP_S / 2`` into the array. ``gaps="equal"`` makes the 1-unit-gap variant (for tests).
    """
    _check_rate_channels(sample_rate, channels)
    if not 0.03 <= unit_s <= 0.4:
        raise ValueError(f"unit_s must be 0.03-0.4 s, got {unit_s}")
    if not 100.0 <= tone_hz < sample_rate / 2 * 0.9:
        raise ValueError(f"tone_hz {tone_hz} does not fit sample rate {sample_rate}")
    if level_dbfs > 0:
        raise ValueError("level_dbfs must be <= 0")
    if gaps not in ("itu", "equal"):
        raise ValueError("gaps must be 'itu' or 'equal'")
    sr = int(sample_rate)
    ramp = min(RAMP_S, unit_s / 3)
    segs = rhythm_segments(unit_s, gaps)
    total_s = segs[-1][1] + ramp
    n = int(round(total_s * sr))
    t = np.arange(n) / sr
    env = np.zeros(n)
    for a, b in segs:
        a += ramp / 2
        b += ramp / 2
        # raised-cosine ramp centred on each edge: 0.5 at exactly a and b
        up = np.clip((t - (a - ramp / 2)) / ramp, 0.0, 1.0)
        down = np.clip(((b + ramp / 2) - t) / ramp, 0.0, 1.0)
        env += (0.5 - 0.5 * np.cos(np.pi * up)) * (0.5 - 0.5 * np.cos(np.pi * down))
    peak = 10.0 ** (level_dbfs / 20.0)
    mono = (peak * env * np.sin(2 * np.pi * tone_hz * t)).astype(np.float32)
    mono[0] = mono[-1] = 0.0
    return np.repeat(mono[:, None], channels, axis=1)


@dataclass(frozen=True)
class RhythmFinding:
    """One "短长短短" cue found in a signal."""

    start_s: float  # half-amplitude start of the first tone
    end_s: float  # half-amplitude end of the fourth tone
    unit_s: float  # mean short-tone duration
    tone_hz: float
    gaps: str  # "itu" (3-unit letter gap, Morse "AI") or "equal" (1-unit, Morse "L")
    level_dbfs: float  # peak level of the tones in the mono mix
    confidence: float  # 0-1, how close the durations are to the ideal ratios

    def to_json(self) -> dict:
        d = asdict(self)
        for k in ("start_s", "end_s"):
            d[k] = round(d[k], 4)
        d["unit_s"] = round(d["unit_s"], 4)
        d["tone_hz"] = round(d["tone_hz"], 1)
        d["level_dbfs"] = round(d["level_dbfs"], 1)
        d["confidence"] = round(d["confidence"], 3)
        return d


def _as_2d(samples: np.ndarray) -> np.ndarray:
    x = np.asarray(samples)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(f"samples must be (n_samples, n_channels), got shape {x.shape}")
    return x


def _to_work_rate(mono: np.ndarray, sample_rate: int) -> np.ndarray:
    if sample_rate == _WORK_SR:
        return mono.astype(np.float64)
    g = gcd(int(sample_rate), _WORK_SR)
    return resample_poly(mono.astype(np.float64), _WORK_SR // g, int(sample_rate) // g)


def _frame_features(x: np.ndarray):
    """Per 5 ms frame: peak bin in band, purity, narrow-band power around the peak, spectra."""
    n_frames = max(0, 1 + (len(x) - _WIN) // _HOP)
    win = np.hanning(_WIN)
    freqs = np.fft.rfftfreq(_NFFT, 1.0 / _WORK_SR)
    lo, hi = np.searchsorted(freqs, _BAND[0]), np.searchsorted(freqs, _BAND[1])
    power = np.empty((n_frames, len(freqs)), dtype=np.float32)
    chunk = 4096
    for s in range(0, n_frames, chunk):
        idx = np.arange(s, min(n_frames, s + chunk))[:, None] * _HOP + np.arange(_WIN)[None, :]
        spec = np.fft.rfft(x[idx] * win, _NFFT, axis=1)
        power[s : s + len(idx)] = (spec.real**2 + spec.imag**2).astype(np.float32)
    return power, freqs, lo, hi


_FULL_SCALE: list[float] = []


def _full_scale() -> float:
    """Narrow-band frame power of a full-scale (peak 1.0) sine: the 0 dBFS reference."""
    if not _FULL_SCALE:
        t = np.arange(_WIN) / _WORK_SR
        spec = np.fft.rfft(np.sin(2 * np.pi * 800.0 * t) * np.hanning(_WIN), _NFFT)
        p = spec.real**2 + spec.imag**2
        k = int(np.argmax(p))
        _FULL_SCALE.append(float(p[k - 2 : k + 3].sum()))
    return _FULL_SCALE[0]


def _narrow(power: np.ndarray, k: int) -> np.ndarray:
    return power[:, max(0, k - 2) : k + 3].sum(axis=1)


def _tonal_runs(power, freqs, lo, hi):
    """Runs of tonal frames: (first_frame, last_frame, bin)."""
    band = power[:, lo:hi]
    if band.size == 0:
        return []
    peak = lo + np.argmax(band, axis=1)
    total = power.sum(axis=1) + 1e-20
    # sum of the 5 bins around each frame's peak
    padded = np.pad(power, ((0, 0), (2, 2)))
    rows = np.arange(len(power))
    nb = sum(padded[rows, peak + d] for d in range(5))
    purity = nb / total
    level_db = 10 * np.log10(nb / _full_scale() + 1e-20)
    runs, cur = [], None
    for i in range(len(power)):
        k = int(peak[i])
        if cur is not None:
            if purity[i] >= _OFF_PURITY and abs(k - cur[2]) <= 1 and level_db[i] > _FLOOR_DB:
                cur[1] = i
                continue
            runs.append(tuple(cur))
            cur = None
        if purity[i] >= _ON_PURITY and level_db[i] > _FLOOR_DB:
            cur = [i, i, k]
    if cur is not None:
        runs.append(tuple(cur))
    return runs


def _refine(power, freqs, run, n_frames):
    """Tone segment from a run: half-energy edges (s), frequency, plateau power."""
    a, b, k = run
    e = _narrow(power, k)
    # plateau from the interior of the run (edges smeared by the 25 ms window)
    inner = e[a + 3 : b - 2] if b - a > 6 else e[a : b + 1]
    plateau = float(np.median(inner))
    half = plateau / 2
    # rising edge: walk back from the run's first interior frame to the crossing
    i = a
    while i > 0 and e[i] >= half:
        i -= 1
    while i < b and e[i + 1] < half:
        i += 1
    # crossing between frame i (below) and i+1 (above)
    if e[i] < half <= e[i + 1]:
        fi = i + (half - e[i]) / (e[i + 1] - e[i])
    else:
        fi = float(i)
    j = b
    while j < n_frames - 1 and e[j] >= half:
        j += 1
    while j > a and e[j - 1] < half:
        j -= 1
    if e[j] < half <= e[j - 1]:
        fj = j - 1 + (e[j - 1] - half) / (e[j - 1] - e[j])
    else:
        fj = float(j)
    centre = (_WIN - 1) / 2
    t0 = (fi * _HOP + centre) / _WORK_SR
    t1 = (fj * _HOP + centre) / _WORK_SR
    # frequency: parabolic interpolation of the mean log spectrum around bin k
    spec = power[a : b + 1].mean(axis=0)
    if 1 <= k < len(spec) - 1:
        la, lb, lc = np.log(spec[k - 1 : k + 2] + 1e-20)
        den = la - 2 * lb + lc
        delta = 0.5 * (la - lc) / den if den != 0 else 0.0
    else:
        delta = 0.0
    hz = float((k + np.clip(delta, -0.5, 0.5)) * freqs[1])
    return {"t0": float(t0), "t1": float(t1), "hz": hz, "k": k, "plateau": plateau, "e": e}


def _within(x: float, target: float, tol: float) -> bool:
    return abs(x - target) <= tol * target


def detect_rhythm(samples: np.ndarray, sample_rate: int) -> list[RhythmFinding]:
    """Every "短长短短" cue in ``samples`` (any rate >= 8 kHz, any channels), in time order."""
    x2 = _as_2d(samples)
    if sample_rate < 8000:
        raise ValueError("sample_rate must be >= 8000 Hz")
    if len(x2) == 0:
        return []
    mono = x2.astype(np.float64).mean(axis=1)
    # half a window of silence on both sides, so a cue at the very start or end is framed whole
    pad = _WIN // 2
    x = np.pad(_to_work_rate(mono, sample_rate), (pad, pad))
    off = pad / _WORK_SR
    power, freqs, lo, hi = _frame_features(x)
    n_frames = len(power)
    segs = [_refine(power, freqs, r, n_frames) for r in _tonal_runs(power, freqs, lo, hi)]
    segs = _drop_shadowed([s for s in segs if s["t1"] - s["t0"] >= 0.6 * _MIN_UNIT_S])
    found: list[RhythmFinding] = []
    i = 0
    while i + 4 <= len(segs):
        four = segs[i : i + 4]
        f = _match(four, segs[i - 1] if i > 0 else None, segs[i + 4] if i + 4 < len(segs) else None)
        if f is None:
            i += 1
            continue
        unit, gaps, conf = f
        plateau = float(np.median([s["plateau"] for s in four]))
        level = 10 * np.log10(plateau / _full_scale() + 1e-20)
        found.append(
            RhythmFinding(
                start_s=float(four[0]["t0"] - off),
                end_s=float(four[3]["t1"] - off),
                unit_s=float(unit),
                tone_hz=float(np.mean([s["hz"] for s in four])),
                gaps=gaps,
                level_dbfs=float(level),
                confidence=conf,
            )
        )
        i += 4
    return found


def _drop_shadowed(segs: list[dict]) -> list[dict]:
    """Drop segments overlapping a stronger one (codec pre-echo, weak partials next to a tone)."""
    segs = sorted(segs, key=lambda s: s["t0"])
    keep = [True] * len(segs)
    for i, a in enumerate(segs):
        for j in range(i + 1, len(segs)):
            b = segs[j]
            if b["t0"] >= a["t1"]:
                break
            if a["plateau"] >= b["plateau"]:
                keep[j] = False
            else:
                keep[i] = False
    return [s for s, k in zip(segs, keep, strict=True) if k]


def _match(four, before, after):
    hz = [s["hz"] for s in four]
    f0 = float(np.mean(hz))
    if not 550.0 <= f0 <= 1150.0 or any(abs(h - f0) > 0.04 * f0 for h in hz):
        return None
    d = [s["t1"] - s["t0"] for s in four]
    u = (d[0] + d[2] + d[3]) / 3
    if not _MIN_UNIT_S <= u <= _MAX_UNIT_S:
        return None
    if not all(_within(d[j], u, _TOL) for j in (0, 2, 3)):
        return None
    if not 2.0 * u <= d[1] <= 5.0 * u:
        return None
    g = [four[j + 1]["t0"] - four[j]["t1"] for j in range(3)]
    if not (_within(g[0], u, _TOL) and _within(g[2], u, _TOL)):
        return None
    if _within(g[1], u, _TOL):
        gaps, ideal_g1 = "equal", 1.0
    elif _within(g[1], 3 * u, _TOL):
        gaps, ideal_g1 = "itu", 3.0
    else:
        return None
    # levels agree and the gaps are quiet at the tone frequency
    plateaus = np.array([s["plateau"] for s in four])
    if plateaus.max() > 8 * plateaus.min():  # 9 dB
        return None
    e = four[0]["e"]
    fr = lambda t: int(round((t * _WORK_SR - (_WIN - 1) / 2) / _HOP))  # noqa: E731
    for j in range(3):
        a, b = fr(four[j]["t1"]) + 3, fr(four[j + 1]["t0"]) - 3
        if b >= a and e[a : b + 1].min() > plateaus.min() / 10 ** (_GAP_CONTRAST_DB / 10):
            return None
    if before is not None and four[0]["t0"] - before["t1"] < 1.5 * u:
        return None
    if after is not None and after["t0"] - four[3]["t1"] < 1.5 * u:
        return None
    err = [abs(d[j] / u - 1) for j in (0, 2, 3)]
    err += [abs(d[1] / u - 3) / 3, abs(g[0] / u - 1), abs(g[2] / u - 1)]
    err.append(abs(g[1] / u - ideal_g1) / ideal_g1)
    conf = float(np.clip(1.0 - np.mean(err) / _TOL, 0.0, 1.0))
    return u, gaps, conf
