"""Insert an audible label into a programme, declare it, and check the declaration later.

Insertion (:func:`insert_label`) never mixes: the cue goes *between* samples, with
``padding_s`` of digital silence on both sides, at the start, the end or both. Boundaries:

* the cue itself starts and ends at zero (rhythm: 8 ms raised-cosine ramps; voice and user
  clips: ``FADE_S`` raised-cosine fades applied here);
* the programme edge that meets the inserted silence gets a ``FADE_S`` (5 ms) raised-cosine
  fade-in (start) / fade-out (end). No sample is dropped; only those first/last 5 ms change.

Level (``match_loudness=True``): loudness is BS.1770-style: K-weighting (4 dB high shelf at
1.5 kHz + 38 Hz high-pass, designed for the actual rate), channel powers summed with weight 1,
400 ms blocks with 75 % overlap, absolute gate -70 LUFS, relative gate -10 LU. The cue gets the
gain that gives it the programme's loudness, floored at ``FLOOR_LUFS`` (-30) so a label on a
quiet programme stays audible, then limited so its peak is not above the programme's peak
(or ``FLOOR_PEAK_DBFS`` for quiet programmes) and never above -1 dBFS. An empty or silent
programme gets the cue at its design level (gain 0 dB: rhythm and voices peak at -18 dBFS).

Verification (:func:`check_declared`) re-creates each declared cue from its parameters and
finds it at the declared position by normalised cross-correlation of the mono mix with the
cue template (lag search ±``MAX_LAG_S``, covering codec delay). A user ``clip`` cannot be
re-created: it is checked against the stored fingerprint of its 20 ms RMS envelope, if any.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy.signal import correlate, sosfilt

from .rhythm import DEFAULT_TONE_HZ, DEFAULT_UNIT_S, _as_2d, _check_rate_channels, rhythm_cue
from .voice import voice_prompt

__all__ = [
    "CHECKABLE_KINDS",
    "FADE_S",
    "FLOOR_LUFS",
    "KINDS",
    "MIN_R",
    "NOT_CHECKABLE",
    "AudibleEvidence",
    "AudiblePlacement",
    "PlacementCheck",
    "check_declared",
    "insert_label",
    "is_checkable",
    "loudness_db",
    "make_cue",
]

KINDS = ("rhythm", "voice-zh", "voice-en", "voice-bilingual", "clip")
#: kinds whose cue aigc-tag can re-create exactly (``clip`` only by envelope fingerprint)
CHECKABLE_KINDS = ("rhythm", "voice-zh", "voice-en", "voice-bilingual")
NOT_CHECKABLE = (
    "Speech in audio that aigc-tag did not label itself is not checkable: aigc-tag ships no "
    "speech recognition and never guesses whether arbitrary speech is a voice label. Only "
    "aigc-tag's own declared placements (check_declared) and the rhythm cue "
    "(detect_rhythm, which also finds other tools' cues) are checked."
)
FADE_S = 0.005
FLOOR_LUFS = -30.0
FLOOR_PEAK_DBFS = -24.0
MAX_PEAK_DBFS = -1.0
MAX_LAG_S = 0.1
MIN_R = 0.8  # waveform correlation needed to accept a re-created cue
MAX_LEVEL_DIFF_DB = 12.0  # found level vs declared gain
ENV_HOP_S = 0.02
MIN_ENV_R = 0.85
MAX_ENV_VALUES = 6000  # 2 minutes of 20 ms frames


# ---------------------------------------------------------------- placements and evidence


@dataclass(frozen=True)
class AudiblePlacement:
    """One inserted cue, as declared (JSON-able) so that verify can re-check it."""

    kind: str  # "rhythm" | "voice-zh" | "voice-en" | "voice-bilingual" | "clip"
    where: str  # "start" | "end"
    start_s: float  # cue start inside the output (first sample of the cue array)
    end_s: float  # cue end inside the output
    gain_db: float  # applied to the canonical cue (rhythm/voice at -18 dBFS peak; clip as given)
    clip_sha256: str  # of the canonical cue before gain: mono float32 little-endian samples
    sample_rate: int  # rate the cue (and clip_sha256) was made at
    unit_s: float | None = None  # rhythm only
    tone_hz: float | None = None  # rhythm only
    envelope: tuple[float, ...] | None = field(default=None, repr=False)  # clip: 20 ms RMS dB

    def to_json(self) -> dict:
        d = asdict(self)
        d["envelope"] = None if self.envelope is None else list(self.envelope)
        if d["envelope"] is None:
            del d["envelope"]
        if self.kind != "rhythm":
            del d["unit_s"], d["tone_hz"]
        return d

    @classmethod
    def from_json(cls, d: dict) -> AudiblePlacement:
        if not isinstance(d, dict):
            raise ValueError("audible placement must be a JSON object")
        kind = d.get("kind")
        if kind not in KINDS:
            raise ValueError(f"unknown audible label kind {kind!r}")
        if d.get("where") not in ("start", "end"):
            raise ValueError(f"audible placement 'where' must be start or end: {d.get('where')!r}")
        env = d.get("envelope")
        return cls(
            kind=kind,
            where=d["where"],
            start_s=float(d["start_s"]),
            end_s=float(d["end_s"]),
            gain_db=float(d["gain_db"]),
            clip_sha256=str(d["clip_sha256"]),
            sample_rate=int(d["sample_rate"]),
            unit_s=None if d.get("unit_s") is None else float(d["unit_s"]),
            tone_hz=None if d.get("tone_hz") is None else float(d["tone_hz"]),
            envelope=None if env is None else tuple(float(v) for v in env),
        )


@dataclass
class PlacementCheck:
    placement: AudiblePlacement
    status: str  # "ok" | "failed" | "not checkable"
    method: str | None = None  # "waveform" | "envelope"
    r: float | None = None
    lag_ms: float | None = None
    level_diff_db: float | None = None  # found level minus declared
    template_sha_matches: bool | None = None  # re-created cue == declared one (same rate only)
    note: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_json(self) -> dict:
        p = self.placement
        return {
            "kind": p.kind,
            "where": p.where,
            "start_s": round(p.start_s, 3),
            "end_s": round(p.end_s, 3),
            "status": self.status,
            "ok": self.ok,
            "method": self.method,
            "r": None if self.r is None else round(self.r, 3),
            "lag_ms": None if self.lag_ms is None else round(self.lag_ms, 2),
            "level_diff_db": None if self.level_diff_db is None else round(self.level_diff_db, 1),
            "template_sha_matches": self.template_sha_matches,
            "note": self.note,
        }


@dataclass
class AudibleEvidence:
    """What the samples say about the declared audible labels."""

    results: list[PlacementCheck]

    @property
    def found(self) -> bool:
        """At least one declared cue is present where it was declared."""
        return any(r.ok for r in self.results)

    @property
    def complete(self) -> bool:
        """Every checkable declared cue is present (none failed)."""
        return self.found and not any(r.status == "failed" for r in self.results)

    def to_json(self) -> dict:
        return {
            "source": "aigc-tag audible label declaration, checked on the samples",
            "found": self.found,
            "complete": self.complete,
            "placements": [r.to_json() for r in self.results],
        }


def is_checkable(kind: str) -> bool:
    """Whether :func:`check_declared` can re-create a cue of this kind exactly."""
    return kind in CHECKABLE_KINDS


# ---------------------------------------------------------------- helpers


def _raised(n: int) -> np.ndarray:
    return 0.5 - 0.5 * np.cos(np.pi * (np.arange(n) + 0.5) / n)


def _fade_edges(x: np.ndarray, n: int, start: bool = True, end: bool = True) -> np.ndarray:
    n = min(n, len(x) // 2)
    if n <= 0:
        return x
    r = _raised(n)[:, None] if x.ndim == 2 else _raised(n)
    if start:
        x[:n] *= r
    if end:
        x[len(x) - n :] *= r[::-1]
    return x


def _sha(mono: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(mono, dtype="<f4").tobytes()).hexdigest()


def _k_sos(sr: int) -> np.ndarray:
    """BS.1770 K-weighting (pre-filter shelf + RLB high-pass) as biquads for rate ``sr``."""
    g, q, fc = 3.99984385397, 0.7071752369554193, 1681.9744509555319
    a = 10 ** (g / 40)
    w = 2 * np.pi * fc / sr
    al = np.sin(w) / (2 * q)
    c = np.cos(w)
    sa = 2 * np.sqrt(a) * al
    shelf = [
        a * ((a + 1) + (a - 1) * c + sa),
        -2 * a * ((a - 1) + (a + 1) * c),
        a * ((a + 1) + (a - 1) * c - sa),
        (a + 1) - (a - 1) * c + sa,
        2 * ((a - 1) - (a + 1) * c),
        (a + 1) - (a - 1) * c - sa,
    ]
    q2, fc2 = 0.5003270373253953, 38.13547087613982
    w2 = 2 * np.pi * fc2 / sr
    al2, c2 = np.sin(w2) / (2 * q2), np.cos(w2)
    hp = [(1 + c2) / 2, -(1 + c2), (1 + c2) / 2, 1 + al2, -2 * c2, 1 - al2]
    sos = []
    for b0, b1, b2, a0, a1, a2 in (shelf, hp):
        sos.append([b0 / a0, b1 / a0, b2 / a0, 1.0, a1 / a0, a2 / a0])
    return np.array(sos)


def loudness_db(samples: np.ndarray, sample_rate: int) -> float | None:
    """Integrated loudness (LUFS, BS.1770 gating, all channels weight 1), ``None`` if silent."""
    x = _as_2d(samples).astype(np.float64)
    if len(x) == 0:
        return None
    y = sosfilt(_k_sos(int(sample_rate)), x, axis=0)
    block = int(round(0.4 * sample_rate))
    hop = block // 4
    sq = y**2
    if len(x) <= block:
        powers = np.array([sq.mean(axis=0).sum()])
    else:
        cs = np.concatenate([np.zeros((1, sq.shape[1])), np.cumsum(sq, axis=0)])
        starts = np.arange(0, len(x) - block + 1, hop)
        powers = ((cs[starts + block] - cs[starts]) / block).sum(axis=1)
    lufs = -0.691 + 10 * np.log10(powers + 1e-30)
    gated = powers[lufs > -70.0]
    if gated.size == 0:
        return None
    rel = -0.691 + 10 * np.log10(gated.mean()) - 10.0
    gated = gated[-0.691 + 10 * np.log10(gated) > rel]
    return float(-0.691 + 10 * np.log10(gated.mean()))


def _envelope_db(mono: np.ndarray, sr: int) -> np.ndarray:
    hop = max(1, int(round(ENV_HOP_S * sr)))
    n = len(mono) // hop
    if n == 0:
        return np.zeros(0)
    frames = mono[: n * hop].reshape(n, hop)
    return 10 * np.log10((frames.astype(np.float64) ** 2).mean(axis=1) + 1e-12)


def make_cue(
    kind: str,
    sample_rate: int,
    channels: int = 1,
    *,
    unit_s: float = DEFAULT_UNIT_S,
    tone_hz: float = DEFAULT_TONE_HZ,
) -> np.ndarray:
    """The canonical cue of a re-creatable ``kind`` (as inserted before gain), (n, channels)."""
    if kind == "rhythm":
        cue = rhythm_cue(sample_rate, channels, unit_s=unit_s, tone_hz=tone_hz)
    elif kind in ("voice-zh", "voice-en", "voice-bilingual"):
        cue = voice_prompt(kind, sample_rate, channels).copy()
    else:
        raise ValueError(f"cannot create a cue of kind {kind!r}; one of {CHECKABLE_KINDS}")
    return _fade_edges(cue, int(round(FADE_S * sample_rate)))


# ---------------------------------------------------------------- insertion


def insert_label(
    samples: np.ndarray,
    sample_rate: int,
    cue: np.ndarray,
    *,
    where: str = "start",
    kind: str = "rhythm",
    padding_s: float = 0.3,
    match_loudness: bool = True,
    unit_s: float = DEFAULT_UNIT_S,
    tone_hz: float = DEFAULT_TONE_HZ,
) -> tuple[np.ndarray, list[AudiblePlacement]]:
    """Insert ``cue`` (with silence padding) at the start, end or both; returns the new samples
    (float32, same channels) and one :class:`AudiblePlacement` per inserted cue.

    For ``rhythm`` and ``voice-*`` kinds the cue must be the one :func:`make_cue` (or
    ``rhythm_cue``/``voice_prompt``) makes, at any level; the canonical cue is inserted so that
    verify can re-create it. ``clip`` takes any audio (mixed to mono, put on all channels).
    """
    x = _as_2d(samples)
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError("samples must be float in [-1, 1]")
    _check_rate_channels(sample_rate, max(1, x.shape[1]))
    sr, ch = int(sample_rate), x.shape[1]
    if ch < 1:
        raise ValueError("samples need at least one channel")
    if where not in ("start", "end", "both"):
        raise ValueError(f"where must be start, end or both, got {where!r}")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if not 0.0 <= padding_s <= 5.0:
        raise ValueError("padding_s must be 0-5 s")
    c = _as_2d(cue).astype(np.float64)
    if len(c) == 0:
        raise ValueError("the cue is empty")
    given = c.mean(axis=1)
    if kind == "clip":
        canon = _fade_edges(given.copy(), int(round(FADE_S * sr)))
        envelope = _envelope_db(canon, sr)[:MAX_ENV_VALUES]
        envelope = tuple(round(float(v), 1) for v in envelope)
    else:
        canon = make_cue(kind, sr, 1, unit_s=unit_s, tone_hz=tone_hz)[:, 0].astype(np.float64)
        if len(canon) != len(given) or _ncc(given, canon) < 0.999:
            raise ValueError(
                f"the cue is not aigc-tag's {kind} cue at {sr} Hz"
                + (f" (unit_s={unit_s}, tone_hz={tone_hz})" if kind == "rhythm" else "")
                + "; make it with make_cue(), or pass kind='clip'"
            )
        envelope = None
    if not np.any(canon):
        raise ValueError("the cue is silent")
    sha = _sha(canon.astype(np.float32))

    gain_db = 0.0
    if match_loudness:
        gain_db = _match_gain(x, sr, canon, ch)
    cue_out = (canon * 10 ** (gain_db / 20)).astype(np.float32)
    block = np.repeat(cue_out[:, None], ch, axis=1)
    pad = np.zeros((int(round(padding_s * sr)), ch), dtype=np.float32)

    prog = x.astype(np.float32, copy=True)
    nf = int(round(FADE_S * sr))
    at_start, at_end = where in ("start", "both"), where in ("end", "both")
    _fade_edges(prog, nf, start=at_start, end=at_end)

    parts, placements, t = [], [], 0
    common = dict(
        kind=kind,
        gain_db=float(gain_db),
        clip_sha256=sha,
        sample_rate=sr,
        unit_s=float(unit_s) if kind == "rhythm" else None,
        tone_hz=float(tone_hz) if kind == "rhythm" else None,
        envelope=envelope,
    )
    if at_start:
        parts += [pad, block, pad]
        placements.append(
            AudiblePlacement(where="start", start_s=len(pad) / sr,
                             end_s=(len(pad) + len(block)) / sr, **common)
        )
        t = 2 * len(pad) + len(block)
    parts.append(prog)
    t += len(prog)
    if at_end:
        parts += [pad, block, pad]
        placements.append(
            AudiblePlacement(where="end", start_s=(t + len(pad)) / sr,
                             end_s=(t + len(pad) + len(block)) / sr, **common)
        )
    return np.concatenate(parts, axis=0), placements


def _match_gain(x: np.ndarray, sr: int, canon: np.ndarray, ch: int) -> float:
    prog_l = loudness_db(x, sr)
    if prog_l is None:
        return 0.0
    cue_l = loudness_db(np.repeat(canon[:, None], ch, axis=1), sr)
    if cue_l is None:
        return 0.0
    gain = max(prog_l, FLOOR_LUFS) - cue_l
    cue_peak = 20 * np.log10(np.max(np.abs(canon)))
    prog_peak = 20 * np.log10(max(float(np.max(np.abs(x))), 1e-10))
    peak_cap = min(max(prog_peak, FLOOR_PEAK_DBFS), MAX_PEAK_DBFS)
    return float(min(gain, peak_cap - cue_peak))


# ---------------------------------------------------------------- verification


def _ncc(a: np.ndarray, b: np.ndarray) -> float:
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        return 0.0
    return float(np.dot(a, b) / (na * nb))


def _window(mono: np.ndarray, start: int, length: int, lag: int) -> np.ndarray:
    """mono[start-lag : start+length+lag], zero-padded outside the signal."""
    a, b = start - lag, start + length + lag
    out = np.zeros(b - a)
    lo, hi = max(a, 0), min(b, len(mono))
    if hi > lo:
        out[lo - a : hi - a] = mono[lo:hi]
    return out


def _check_waveform(mono, sr, p: AudiblePlacement) -> PlacementCheck:
    kw = {}
    if p.kind == "rhythm":
        kw = {"unit_s": p.unit_s or DEFAULT_UNIT_S, "tone_hz": p.tone_hz or DEFAULT_TONE_HZ}
    try:
        tmpl = make_cue(p.kind, sr, 1, **kw)[:, 0].astype(np.float64)
    except ValueError as e:
        return PlacementCheck(p, "not checkable", note=str(e))
    sha_ok = _sha(tmpl.astype(np.float32)) == p.clip_sha256 if sr == p.sample_rate else None
    tmpl *= 10 ** (p.gain_db / 20)
    lag = int(round(MAX_LAG_S * sr))
    start = int(round(p.start_s * sr))
    seg = _window(mono, start, len(tmpl), lag)
    num = correlate(seg, tmpl, mode="valid", method="fft")
    cs = np.concatenate([[0.0], np.cumsum(seg**2)])
    energy = cs[len(tmpl) :] - cs[: len(cs) - len(tmpl)]
    tn = np.linalg.norm(tmpl)
    floor = 1e-6 * tn**2  # a stretch 60 dB below the cue counts as silence
    r = np.where(energy > floor, num / (tn * np.sqrt(np.maximum(energy, floor))), 0.0)
    k = int(np.argmax(r))
    best = float(r[k])
    found_gain = num[k] / tn**2 if tn > 0 else 0.0
    level_diff = 20 * np.log10(found_gain) if found_gain > 0 else None
    ok = (
        best >= MIN_R
        and level_diff is not None
        and abs(level_diff) <= MAX_LEVEL_DIFF_DB
    )
    note = None
    if not ok:
        note = (
            "nothing at the declared position"
            if best < 0.3
            else "the declared cue does not match the audio at its position"
        )
    return PlacementCheck(
        p,
        "ok" if ok else "failed",
        method="waveform",
        r=best,
        lag_ms=(k - lag) / sr * 1000.0,
        level_diff_db=level_diff,
        template_sha_matches=sha_ok,
        note=note,
    )


def _check_envelope(mono, sr, p: AudiblePlacement) -> PlacementCheck:
    if not p.envelope:
        return PlacementCheck(
            p, "not checkable",
            note="a user clip cannot be re-created and no envelope fingerprint was stored",
        )
    ref = np.asarray(p.envelope)
    hop = max(1, int(round(ENV_HOP_S * sr)))
    start = int(round(p.start_s * sr))
    lag_frames = int(round(MAX_LAG_S / ENV_HOP_S))
    best, best_lag = -1.0, 0
    for lf in range(-lag_frames, lag_frames + 1):
        seg = _window(mono, start + lf * hop, len(ref) * hop, 0)
        env = _envelope_db(seg, sr)[: len(ref)]
        floor = ref.max() - 60
        a, b = np.maximum(env, floor), np.maximum(ref, floor)
        a, b = a - a.mean(), b - b.mean()
        r = _ncc(a, b)
        if r > best:
            best, best_lag = r, lf
    ok = best >= MIN_ENV_R
    return PlacementCheck(
        p, "ok" if ok else "failed", method="envelope", r=best,
        lag_ms=best_lag * ENV_HOP_S * 1000.0,
        note="user clip: checked by its loudness envelope only (weaker than a waveform match)",
    )


def check_declared(
    samples: np.ndarray, sample_rate: int, placements: list[AudiblePlacement]
) -> AudibleEvidence:
    """Check that each cue aigc-tag declared is still at its declared position.

    Only for aigc-tag's own declarations; see :data:`NOT_CHECKABLE` and ``detect_rhythm``.
    Works on decoded audio after re-encoding (MP3, AAC) or resampling: cues are re-created at
    ``sample_rate`` and positions are in seconds.
    """
    x = _as_2d(samples)
    mono = x.astype(np.float64).mean(axis=1) if x.shape[1] else np.zeros(len(x))
    results = []
    for p in placements:
        if p.kind == "clip":
            results.append(_check_envelope(mono, int(sample_rate), p))
        else:
            results.append(_check_waveform(mono, int(sample_rate), p))
    return AudibleEvidence(results)

