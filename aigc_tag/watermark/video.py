"""Invisible video watermark: the image engine's mark, laid on every frame, read over many.

Embedding. The image engine (:mod:`aigc_tag.watermark.image`) builds a keyed 128 x 128 tile from
the 64 payload bits (pilot chips, convolutionally coded data chips, Fourier template). Running
its full embedder per frame (ISS, self-check: ~150 ms per megapixel) is far too slow for video,
so :class:`FrameMarker` builds that tile **once per video**, tiles it over the picture **in display
geometry** (as a player shows it: rotation and pixel aspect applied, which is also how platforms
re-encode) and maps the field back to the stored geometry. Per frame only a cheap perceptual mask
is computed on the luma plane (texture from a half-resolution high-pass, headroom to black and
white) and ``Y += min(mask, strength) * field`` is added. Luma only: chroma, and so hue, never
change.

Schedule: **every frame carries the same, stationary mark**, from the first frame to the last.
Any clip cut from the video (a 5 s trim, a single scene) therefore carries the whole payload,
and because the mark does not move, averaging frames adds it up coherently while moving content
and coding noise average out. That is what makes it survive H.264 CRF 28, where one frame alone
does not.

Detection (:func:`detect_frames`). Frames are sampled (a few per second), their luma is averaged
over the whole clip, and the image engine's blind detector runs on the average: whitening, tile
folding, pilot phase search, Fourier-template search of scale (0.45-1.8) and rotation (+/- 12
deg), soft Viterbi and the payload CRC. Its p-value bound holds for any image, so it holds for an
average of frames too: ``detected`` means p <= 1e-6 with a valid CRC, as for images. Then the
clip is cut into windows (1 s by default) and each window's average is measured **at the geometry
and tile phase already found**: windows whose pilot z reaches 4 (p <= 1.5e-4 each, no search)
are reported, merged, as the ``ranges`` that carry the mark.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import cv2
import numpy as np

from aigc_tag.watermark import ecc
from aigc_tag.watermark import image as engine
from aigc_tag.watermark.keys import WatermarkKey, resolve_key

#: Mark amplitude ceiling in 8-bit luma levels (the mask lowers it on flat areas).
DEFAULT_STRENGTH = 3.0
#: Pilot z a window must reach at the clip's geometry to count as carrying the mark.
WINDOW_Z = 4.0
WINDOW_SECONDS = 1.0


def _mark_field(bits: np.ndarray, key: WatermarkKey | None, display: tuple[int, int]) -> np.ndarray:
    """The payload's tile (image engine, equal bit gains), tiled over the display picture and
    normalised to unit RMS."""
    pat = engine._pattern(resolve_key(key).secret)
    signs = ecc.encode(np.asarray(bits).astype(np.int64)).astype(np.float64) * 2.0 - 1.0
    tile = engine._tile(pat, engine.PILOT_GAIN, signs)
    tile = tile / float(np.sqrt(np.mean(tile.astype(np.float64) ** 2)))
    w, h = display
    return engine._tiled(tile.astype(np.float32), (h, w))


@dataclass
class FrameMarker:
    """The mark of one payload for one video: built once, added to each frame's luma plane.

    ``stored`` is (width, height) as decoded, ``display_wh`` (width, height) before rotation but
    with the pixel aspect applied, ``rotation`` the clockwise degrees the player turns it.
    ``depth`` is the sample bit depth (8 or 10) and ``full_range`` the luma range.
    """

    bits: np.ndarray
    stored: tuple[int, int]
    display_wh: tuple[int, int]
    rotation: int = 0
    key: WatermarkKey | None = None
    strength: float = DEFAULT_STRENGTH
    depth: int = 8
    full_range: bool = False
    mask_every: int = 2
    field_: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        w, h = self.display_wh
        shown = (h, w) if self.rotation in (90, 270) else (w, h)
        if min(shown) < engine.MIN_EMBED_SIDE:
            raise engine.ImageTooSmall(
                f"the {shown[0]}x{shown[1]} picture is too small to watermark "
                f"(shortest side below {engine.MIN_EMBED_SIDE} px)"
            )
        f = _mark_field(self.bits, self.key, shown)
        # display -> stored: undo the rotation (np.rot90 turns counter-clockwise), then the aspect
        f = np.ascontiguousarray(np.rot90(f, k=self.rotation // 90))
        if f.shape != (self.stored[1], self.stored[0]):
            f = cv2.resize(f, self.stored, interpolation=cv2.INTER_AREA)
        unit = (1 << (self.depth - 8)) * (1.0 if self.full_range else 219.0 / 255.0)
        self.field_ = (f * unit).astype(np.float32)
        self._unit = unit
        self._lo = 0.0 if self.full_range else 16.0 * (1 << (self.depth - 8))
        self._hi = (255.0 if self.full_range else 235.0) * (1 << (self.depth - 8))
        self._max = float((1 << self.depth) - 1)
        self._frame, self._mask = 0, None
        # 8-bit fast path in fixed point: mask in 1/32 level (uint8), field in 1/64 (int16)
        self._field_q = np.clip(np.rint(self.field_ * 64.0), -32767, 32767).astype(np.int16)

    def mask(self, y: np.ndarray, *, quantised: bool = False) -> np.ndarray:
        """Per-pixel amplitude ceiling (in units of the field, i.e. 8-bit levels): about one level
        on flat areas, more on texture, never beyond the headroom to black/white.

        Computed at half resolution and interpolated (the mask is smooth anyway): ~4x cheaper."""
        h, w = y.shape
        small = cv2.resize(y, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA)
        small = small.astype(np.float32)
        if self._unit != 1.0:
            small *= np.float32(1.0 / self._unit)
        hp = small - cv2.GaussianBlur(small, (0, 0), 1.0)
        cap = cv2.boxFilter(hp * hp, -1, (5, 5))
        cv2.sqrt(cap, cap)
        cap = cap * np.float32(0.8) + np.float32(1.0)
        lo, hi = self._lo / self._unit, self._hi / self._unit
        # headroom of the darkest/brightest pixel nearby (3x3 at half resolution)
        kernel = np.ones((3, 3), np.uint8)
        low = cv2.erode(small, kernel) - np.float32(lo)
        high = np.float32(hi) - cv2.dilate(small, kernel)
        np.minimum(cap, low + np.float32(0.5), out=cap)
        np.minimum(cap, high + np.float32(0.5), out=cap)
        np.clip(cap, 0.0, np.float32(self.strength), out=cap)
        if quantised:  # half resolution, 1/32 level steps (apply() interpolates)
            return cv2.convertScaleAbs(cap, alpha=32.0).astype(np.int16)
        return cv2.resize(cap, (w, h), interpolation=cv2.INTER_LINEAR)

    def apply(self, y: np.ndarray, region: tuple[int, int, int, int] | None = None) -> np.ndarray:
        """Return the marked luma plane (same dtype); ``region`` (x0, y0, x1, y1) is left alone.

        The mask is recomputed every ``mask_every`` frames (content moves little in between;
        the add saturates, so a stale headroom only clips a chip)."""
        fast = y.dtype == np.uint8 and self.strength < 7.9
        if self._frame % self.mask_every == 0 or self._mask is None:
            self._mask = self.mask(y, quantised=fast)
        self._frame += 1
        if fast:  # integer arithmetic end to end: ~2x cheaper than float32 at 1080p
            mask = cv2.resize(self._mask, (y.shape[1], y.shape[0]),
                              interpolation=cv2.INTER_LINEAR)  # fmt: skip
            delta = cv2.multiply(mask, self._field_q, scale=1.0 / 2048.0, dtype=cv2.CV_16S)
            if region is not None:
                x0, y0, x1, y1 = region
                delta[y0:y1, x0:x1] = 0
            return cv2.add(y, delta, dtype=cv2.CV_8U)  # saturating
        delta = cv2.multiply(self._mask, self.field_)
        if region is not None:
            x0, y0, x1, y1 = region
            delta[y0:y1, x0:x1] = 0.0
        out = y.astype(np.float32) + delta
        np.clip(np.rint(out, out=out), 0, self._max, out=out)
        return out.astype(y.dtype)


# --------------------------------------------------------------------------- detection


@dataclass
class VideoDetection:
    """Outcome of :func:`detect_frames`: the image engine's detection on the clip average, plus
    ``ranges`` (seconds from the first frame) where windows carry the mark and their ``windows``
    (start, end, z)."""

    detection: engine.Detection
    ranges: list[tuple[float, float]]
    windows: list[tuple[float, float, float]]
    frames: int
    seconds: float

    @property
    def detected(self) -> bool:
        return self.detection.detected

    @property
    def payload_bits(self) -> np.ndarray | None:
        return self.detection.payload_bits

    def to_json(self) -> dict:
        out = self.detection.to_json()
        out["ranges"] = [[round(a, 3), round(b, 3)] for a, b in self.ranges]
        out["windows"] = [[round(a, 3), round(b, 3), round(z, 2)] for a, b, z in self.windows]
        out["frames_analysed"] = self.frames
        out["seconds_analysed"] = round(self.seconds, 3)
        return out


def _detect_float(luma: np.ndarray, pat) -> tuple[engine.Detection, engine._Candidate | None]:
    """The image engine's :func:`~aigc_tag.watermark.image.detect`, on a float luma image."""
    from aigc_tag.watermark.payload import Payload

    if min(luma.shape) < engine.MIN_DETECT_SIDE:
        return engine._negative(f"picture smaller than {engine.MIN_DETECT_SIDE} px"), None
    x = engine._whiten(luma)
    views = engine._Views(x)
    best, used = engine._search(views, luma, pat)
    if max(x.shape) / best.scale > engine.SEARCH_SIDE:
        best = engine._evaluate(
            views, engine._Candidate(best.scale, best.angle, best.flip), pat, None
        )
    soft, _ = engine._bit_soft(best.proj, pat, best.shift)
    bits = ecc.decode(soft)
    crc_ok = Payload.from_bits(bits) is not None
    pilot_p = engine._pilot_p(best.z)
    p_value = pilot_p * engine.CRC_FALSE_ACCEPT if crc_ok else pilot_p
    detected = bool(crc_ok and p_value <= engine.P_THRESHOLD)
    geometry = {
        "scale": round(best.scale, 5),
        "rotation_deg": round(best.angle, 3),
        "offset": [int(best.shift[0]), int(best.shift[1])],
        "mirrored": best.flip,
        "pilot_p": pilot_p,
        "crc_ok": crc_ok,
        "candidates": used,
    }
    confidence = float(np.mean((soft > 0) == ecc.encode(bits).astype(bool)))
    det = engine.Detection(
        detected, bits if detected else None, best.z, p_value, confidence, geometry
    )
    return det, best


def _window_z(luma: np.ndarray, best: engine._Candidate, pat) -> float:
    x = engine._whiten(luma)
    cand = engine._evaluate(
        engine._Views(x), engine._Candidate(best.scale, best.angle, best.flip), pat,
        engine.SEARCH_SIDE,
    )  # fmt: skip
    z = engine._pilot_z(cand.proj, pat)
    # the tile phase may differ by a pixel between a window and the whole (rounding in warps)
    sy, sx = best.shift
    near = [z[(sy + dy) % engine.TILE, (sx + dx) % engine.TILE]
            for dy in (-1, 0, 1) for dx in (-1, 0, 1)]  # fmt: skip
    return float(max(near))


def detect_frames(
    frames: Iterable[tuple[float, np.ndarray]],
    *,
    key: WatermarkKey | None = None,
    window: float = WINDOW_SECONDS,
) -> VideoDetection:
    """Detect the mark in (time, luma) frames as a player shows them (any size, uint8).

    Never raises on frames of any size: no frames, or too small ones, give ``detected=False``
    with ``geometry["reason"]``."""
    pat = engine._pattern(resolve_key(key).secret)
    total: np.ndarray | None = None
    count = 0
    windows: list[list] = []  # [start, end, sum, n]
    last_t = 0.0
    for t, luma in frames:
        y = luma.astype(np.float32)
        if total is None:
            total = np.zeros_like(y, dtype=np.float64)
        if y.shape != total.shape:
            continue
        total += y
        count += 1
        last_t = t
        k = int(t // window)
        if not windows or windows[-1][4] != k:
            windows.append([t, t, np.zeros_like(y, dtype=np.float32), 0, k])
        win = windows[-1]
        win[1] = t
        win[2] += y
        win[3] += 1
    if total is None or count == 0:
        return VideoDetection(engine._negative("no frames decoded"), [], [], 0, 0.0)
    mean = (total / count).astype(np.float32)
    det, best = _detect_float(mean, pat)
    scored: list[tuple[float, float, float]] = []
    ranges: list[tuple[float, float]] = []
    step = last_t / max(count - 1, 1) if count > 1 else window
    if best is not None and det.detected:
        for start, end, acc, n, _ in windows:
            z = _window_z(acc / n, best, pat)
            stop = end + step
            scored.append((start, stop, z))
            if z >= WINDOW_Z:
                if ranges and start - ranges[-1][1] <= step * 1.5:
                    ranges[-1] = (ranges[-1][0], stop)
                else:
                    ranges.append((start, stop))
    return VideoDetection(det, ranges, scored, count, last_t + step)


__all__ = ["DEFAULT_STRENGTH", "FrameMarker", "VideoDetection", "detect_frames"]
