"""The video tagger: composes the layers, each done by its own module.

explicit caption (visible/) -> invisible watermark (watermark/video.py, and watermark/audio.py on
the soundtrack) -> metadata label (the carrier). Caption and watermark share one decode/encode
pass (video_io: frames through pipes); metadata-only tagging is the carrier's stream copy.

The caption is drawn by the image renderer (:func:`~aigc_tag.visible.caption.draw_caption`) once,
in **display geometry** (rotation and pixel aspect applied), on a black and a white canvas: that
gives its coverage (alpha) and colour, which are mapped back to the stored geometry and blended
into the planar YUV frames whose presentation time is in the caption span (from the first frame
until at least ``caption_seconds`` later, measured on the frames' timestamps). Only pixels of the
caption box change; the rest of each frame is what the decoder produced, plus the watermark.
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .carriers import Carrier
from .errors import AigcTagError
from .fileio import temp_prefix
from .label import AIGCLabel

if TYPE_CHECKING:
    from .tagging import TagResult
    from .verify.report import Report
    from .video_io import VideoInfo
    from .visible.caption import CaptionPlacement
    from .watermark.keys import WatermarkKey
    from .watermark.payload import Payload

#: Frames per second the verifier samples for the watermark.
DETECT_FPS = 5.0
#: Seconds of the output the tagger's own watermark self-check reads.
SELF_CHECK_SECONDS = 4.0


@dataclass
class VideoLayers:
    """What to apply to one video, and what was applied."""

    visible: bool
    watermark: bool
    metadata: bool
    text: str
    position: str
    end_caption: bool = False
    caption_seconds: float = 2.0
    watermark_key: WatermarkKey | None = None
    audio_watermark: bool = True  # the audio engine on the first soundtrack, when it exists
    strength: float | None = None  # frame watermark amplitude ceiling (8-bit levels)
    max_pixels: int | None = None  # refuse frames larger than this (default video_io.MAX_PIXELS)
    applied: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    caption: CaptionPlacement | None = None
    declaration: str | None = None  # the {"Caption": ...} value handed to the carrier
    payload: Payload | None = None
    audio_marked: bool = False
    quality: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- tagging


def apply_layers(data: bytes, carrier: Carrier, label: AIGCLabel, plan: VideoLayers) -> bytes:
    """Run the enabled layers on video bytes and return the new bytes (``plan`` records them).

    The pixel pass runs only when the caption or the watermark is on; then the carrier writes
    the label (with the caption declaration) into the re-encoded container."""
    extra: dict[str, str] = {}
    if plan.visible or plan.watermark:
        data = render(data, carrier.name, label, plan)
        if plan.declaration:
            extra["Caption"] = plan.declaration
    if plan.metadata:
        data = carrier.write_label(data, label.to_json(), extra)
        plan.applied.append("metadata")
    return data


def render(data: bytes, container: str, label: AIGCLabel, plan: VideoLayers) -> bytes:
    """The pixel pass alone: caption and/or frame watermark (and the soundtrack mark), the rest
    of the file kept. ``container`` is the carrier name (mp4, mov, mkv, webm, avi, flv)."""
    with tempfile.TemporaryDirectory(prefix=temp_prefix("video")) as tmp:
        src = str(Path(tmp) / "input.bin")
        Path(src).write_bytes(data)
        try:
            return _render(src, tmp, len(data), container, label, plan)
        except AigcTagError as exc:  # ffmpeg names our private temporary file: say "input"
            raise type(exc)(str(exc).replace(src, "input").replace(tmp, "")) from None


def _render(
    src: str, tmp: str, size_in: int, container: str, label: AIGCLabel, plan: VideoLayers
) -> bytes:
    from . import video_io

    kw = {"max_pixels": plan.max_pixels} if plan.max_pixels else {}
    info = video_io.probe_video(src, **kw)
    plan.warnings += info.warnings
    with open(src, "rb") as fh:
        fmt, suffix = video_io.muxer(info, container, fh.read(64))
    dst = str(Path(tmp) / f"output{suffix}")
    overlay = _caption_overlay(info, plan) if plan.visible else None
    marker = _marker(info, label, plan) if plan.watermark else None
    audio = _audio_mark(src, info, label, plan, tmp) if marker is not None else None
    options = _audio_options(info) if audio else None
    args, warnings = video_io.encode_args(src, dst, info, fmt, audio=audio, audio_options=options)
    plan.warnings += warnings
    spans = _spans(info, plan) if overlay is not None else []
    count = _pipe(src, info, args, overlay, marker, spans)
    video_io.restore_rotation(dst, info, fmt)
    out = Path(dst).read_bytes()
    if overlay is not None:
        _declare(info, plan, spans, count)
    plan.quality = _quality(src, dst, info, overlay, size_in, len(out))
    plan.applied += [n for n, on in (("visible", overlay is not None),
                                     ("watermark", marker is not None)) if on]  # fmt: skip
    if marker is None:
        plan.watermark = False
    return out


def _pipe(src, info, args, overlay, marker, spans) -> int:  # noqa: ANN001

    import cv2

    times = _output_times(info)
    # The encoder needs every core; OpenCV's worker threads would only contend with it.
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        return _run_pipe(src, info, args, overlay, marker, spans, times)
    finally:
        cv2.setNumThreads(threads)


def _run_pipe(src, info, args, overlay, marker, spans, times) -> int:  # noqa: ANN001
    from . import video_io

    count = 0
    with video_io.open_writer(args, info) as enc:
        writer = video_io.Writer(enc)
        for i, planes in enumerate(video_io.frames(src, info)):
            t = times(i)
            captioned = overlay is not None and any(a <= t < b for a, b in spans)
            if marker is not None:
                region = overlay.region if captioned else None
                planes[0] = marker.apply(planes[0], region)
            if captioned:
                overlay.blend(planes)
            writer.write(planes)
            count += 1
        enc.finish()
    return count


def _output_times(info: VideoInfo):  # noqa: ANN202
    """Presentation time (s from the first frame) of decoded frame ``i``: the container's
    timestamps when frames pass through one for one, else the constant output rate's."""
    step = 1.0 / float(info.rate)
    if not info.vfr:
        known = info.frame_times

        def at(i: int) -> float:
            return known[i] if i < len(known) else known[-1] + (i - len(known) + 1) * step

        return at
    return lambda i: i * step


def _spans(info: VideoInfo, plan: VideoLayers) -> list[tuple[float, float]]:
    """Caption spans in presentation time: [0, first frame at or after caption_seconds) and,
    with ``end_caption``, the last caption_seconds before the end."""
    end = info.duration
    spans = [(0.0, plan.caption_seconds)]
    if plan.caption_seconds >= end:
        plan.warnings.append(
            f"the video lasts {end:.2f} s, less than the {plan.caption_seconds:g} s the caption "
            "must be shown: it is on every frame"
        )
        return [(0.0, float("inf"))]
    if plan.end_caption:
        spans.append((max(end - plan.caption_seconds - 1.0 / float(info.rate), 0.0),
                      float("inf")))  # fmt: skip
    return spans


def _declare(info: VideoInfo, plan: VideoLayers, spans, count: int) -> None:  # noqa: ANN001
    """The caption declaration: image-style geometry plus the time spans actually covered."""
    from .visible.inspect import declaration

    times = _output_times(info)
    shown = [times(i) for i in range(count)]
    step = 1.0 / float(info.rate)

    def covered(a: float, b: float) -> list[float]:
        inside = [t for t in shown if a <= t < b]
        after = [t for t in shown if t >= b]
        return [round(inside[0], 3), round(after[0] if after else inside[-1] + step, 3)]

    body = json.loads(declaration(plan.caption.to_json(), info.display_size))
    body["time_span_s"] = covered(*spans[0])
    if len(spans) > 1:
        body["end_time_span_s"] = covered(*spans[1])
    body["min_seconds"] = plan.caption_seconds
    plan.declaration = json.dumps(body, ensure_ascii=False, separators=(",", ":"))


@dataclass
class _Overlay:
    """The caption as per-plane blends in stored geometry: ``out = in * keep + add``."""

    region: tuple[int, int, int, int]  # luma box (x0, y0, x1, y1), even-aligned
    keep: list[np.ndarray]
    add: list[np.ndarray]
    boxes: list[tuple[int, int, int, int]]
    max_value: float

    def blend(self, planes: list[np.ndarray]) -> None:
        for p, (x0, y0, x1, y1), keep, add in zip(planes, self.boxes, self.keep, self.add,
                                                  strict=True):  # fmt: skip
            part = p[y0:y1, x0:x1].astype(np.float32) * keep + add
            np.clip(np.rint(part, out=part), 0, self.max_value, out=part)
            p[y0:y1, x0:x1] = part.astype(p.dtype)


def _caption_overlay(info: VideoInfo, plan: VideoLayers) -> _Overlay:
    import cv2
    from PIL import Image

    from .visible.caption import CaptionStyle, draw_caption

    style = CaptionStyle(text=plan.text, position=plan.position)
    size = info.display_size
    black, placement = draw_caption(Image.new("RGB", size, (0, 0, 0)), style)
    white, _ = draw_caption(Image.new("RGB", size, (255, 255, 255)), style)
    plan.caption = placement
    b = np.asarray(black, np.float32).mean(axis=2)
    wt = np.asarray(white, np.float32).mean(axis=2)
    alpha = np.clip(1.0 - (wt - b) / 255.0, 0.0, 1.0)  # coverage
    colour = b / 255.0  # premultiplied grey, 0..1
    # display -> stored: undo the rotation, then the pixel aspect
    k = info.rotation // 90
    alpha, colour = (np.ascontiguousarray(np.rot90(m, k=k)) for m in (alpha, colour))
    if alpha.shape != (info.height, info.width):
        dsize = (info.width, info.height)
        alpha = cv2.resize(alpha, dsize, interpolation=cv2.INTER_AREA)
        colour = cv2.resize(colour, dsize, interpolation=cv2.INTER_AREA)
    ys, xs = np.nonzero(alpha > 1e-3)
    x0, x1 = int(xs.min()) // 2 * 2, min(-(-(int(xs.max()) + 1) // 2) * 2, info.width)
    y0, y1 = int(ys.min()) // 2 * 2, min(-(-(int(ys.max()) + 1) // 2) * 2, info.height)
    depth = 10 if info.sample_dtype.itemsize == 2 else 8
    scale = float(1 << (depth - 8))
    full = info.full_range
    off, span = (0.0, 255.0) if full else (16.0, 219.0)
    a, c = alpha[y0:y1, x0:x1], colour[y0:y1, x0:x1]
    keep = [1.0 - a]
    add = [(a * off + span * c) * scale]
    shapes = info.plane_shapes()
    sx = info.width // shapes[1][1] if shapes[1][1] else 1
    sy = info.height // shapes[1][0] if shapes[1][0] else 1
    sx, sy = max(sx, 1), max(sy, 1)
    cbox = (x0 // sx, y0 // sy, -(-x1 // sx), -(-y1 // sy))
    ca = alpha[cbox[1] * sy : cbox[3] * sy, cbox[0] * sx : cbox[2] * sx]
    if sx > 1 or sy > 1:
        ca = cv2.resize(ca, (cbox[2] - cbox[0], cbox[3] - cbox[1]), interpolation=cv2.INTER_AREA)
    for _ in range(2):  # grey has no chroma: the box pulls chroma to neutral
        keep.append(1.0 - ca)
        add.append(ca * 128.0 * scale)
    return _Overlay(
        region=(x0, y0, x1, y1),
        keep=[k_.astype(np.float32) for k_ in keep],
        add=[a_.astype(np.float32) for a_ in add],
        boxes=[(x0, y0, x1, y1), cbox, cbox],
        max_value=float((1 << depth) - 1),
    )


def _marker(info: VideoInfo, label: AIGCLabel, plan: VideoLayers):  # noqa: ANN202
    from .watermark.image import NotWatermarkable
    from .watermark.payload import Payload
    from .watermark.video import DEFAULT_STRENGTH, FrameMarker

    payload = Payload.for_label(label.ContentProducer, label.ProduceID)
    try:
        marker = FrameMarker(
            payload.to_bits(),
            stored=(info.width, info.height),
            display_wh=(max(1, round(info.width * info.sar)), info.height),
            rotation=info.rotation,
            key=plan.watermark_key,
            strength=plan.strength or DEFAULT_STRENGTH,
            depth=10 if info.sample_dtype.itemsize == 2 else 8,
            full_range=info.full_range,
        )
    except NotWatermarkable as exc:
        plan.warnings.append(f"watermark not embedded: {exc}")
        return None
    plan.payload = payload
    return marker


# --------------------------------------------------------------------------- soundtrack


def _audio_engine():  # noqa: ANN202
    try:
        from .watermark import audio as engine
    except ImportError:
        return None
    return engine if hasattr(engine, "embed") and hasattr(engine, "detect") else None


_AUDIO_ENCODERS = {"aac": "aac", "mp3": "libmp3lame", "opus": "libopus", "vorbis": "libvorbis",
                   "flac": "flac", "ac3": "ac3", "eac3": "eac3", "alac": "alac"}  # fmt: skip


def _audio_mark(src: str, info: VideoInfo, label: AIGCLabel, plan: VideoLayers, tmp: str):  # noqa: ANN202
    """Mark the first soundtrack; returns the path of the marked WAV, or None (kept as is)."""
    from . import ffmpeg

    if not (plan.audio_watermark and info.audio_streams):
        return None
    engine = _audio_engine()
    if engine is None:
        plan.warnings.append("soundtrack not watermarked: the audio watermark engine is missing")
        return None
    stream = info.audio_streams[0]
    codec = str(stream.get("codec_name", ""))
    if codec not in _AUDIO_ENCODERS and not codec.startswith("pcm_"):
        plan.warnings.append(f"soundtrack not watermarked: no encoder for {codec}")
        return None
    rate, channels = int(stream.get("sample_rate") or 48000), int(stream.get("channels") or 2)
    raw = ffmpeg.run(
        "ffmpeg",
        ["-v", "error", "-i", src, "-map", f"0:{stream['index']}", "-vn", "-f", "f32le",
         "-acodec", "pcm_f32le", "-ac", str(channels), "-ar", str(rate), "pipe:1"],
        timeout=120 + 4 * info.duration,
    )  # fmt: skip
    samples = np.frombuffer(raw, "<f4").reshape(-1, channels)
    from .watermark.image import NotWatermarkable

    try:
        marked = engine.embed(samples, rate, plan.payload.to_bits(), key=plan.watermark_key)
    except NotWatermarkable as exc:
        plan.warnings.append(f"soundtrack not watermarked: {exc}")
        return None
    path = str(Path(tmp) / "soundtrack.wav")
    _write_wav_float(path, np.asarray(marked, np.float32), rate)
    plan.audio_marked = True
    return path


def _write_wav_float(path: str, samples: np.ndarray, rate: int) -> None:
    import struct

    ch = samples.shape[1]
    body = np.ascontiguousarray(samples, "<f4").tobytes()
    fmt = struct.pack("<HHIIHH", 3, ch, rate, rate * ch * 4, ch * 4, 32)
    head = b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(body)) + b"WAVE"
    head += b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(body))
    Path(path).write_bytes(head + body)


def _audio_options(info: VideoInfo) -> list[str]:
    """The soundtrack's encoder at the source's bitrate (at least 64 kb/s)."""
    stream = info.audio_streams[0]
    codec = str(stream.get("codec_name", ""))
    options = ["-c", _AUDIO_ENCODERS.get(codec, codec)]
    if codec.startswith("pcm_") or codec in ("flac", "alac"):
        return options
    # Matroska stores no bitrate: then 96 kb/s per channel (at least 128), not the encoder's
    # low default, at which the soundtrack mark does not survive.
    channels = int(stream.get("channels") or 2)
    rate = int(stream.get("bit_rate") or 0) or max(128000, 96000 * channels)
    return [*options, "-b", str(max(rate, 64000))]


# --------------------------------------------------------------------------- quality


def _quality(src: str, dst: str, info: VideoInfo, overlay, size_in: int, size_out: int) -> dict:  # noqa: ANN001
    """PSNR/SSIM of the luma outside the caption box (every 10th frame of the first 3 s), and
    the size change."""
    from . import ffmpeg

    out = {"size_in": size_in, "size_out": size_out,
           "size_change": round(size_out / max(size_in, 1) - 1.0, 4)}  # fmt: skip
    w, h = info.width, info.height
    x, y = 0, 0
    if overlay is not None:
        x0, y0, x1, y1 = overlay.region
        if y0 >= h - y1:  # the box sits low: keep the rows above it
            h = y0 // 2 * 2
        else:
            y, h = y1 + (y1 % 2), (h - y1 - (y1 % 2)) // 2 * 2
    if h < 16 or w < 16:
        return out
    # every 10th frame of the first 3 s: SSIM on every 1080p frame would cost more than tagging
    crop = f"crop={w}:{h}:{x}:{y},select='not(mod(n\\,10))',format=gray"
    resample = f"fps={info.rate}," if info.vfr else ""
    graph = (f"[0:v]{crop},split[a1][a2];[1:v]{resample}{crop},split[b1][b2];"
             f"[a1][b1]psnr;[a2][b2]ssim")  # fmt: skip
    args = ["-v", "info", "-nostats", "-noautorotate", "-t", "3", "-i", dst, "-noautorotate",
            "-t", "3", "-i", src, "-filter_complex", graph, "-f", "null", "-"]  # fmt: skip
    try:
        with ffmpeg.stream(args, timeout=120 + 6 * min(info.duration, 3.0)) as proc:
            proc.finish()
            out.update(_parse_quality(proc.stderr_text))
    except AigcTagError:
        pass
    out["region"] = [x, y, w, h]
    return out


def _parse_quality(stderr: str) -> dict:
    found = {}
    m = re.search(r"PSNR .*?average:([0-9.]+|inf)", stderr)
    if m:
        found["psnr_db"] = float(m.group(1)) if m.group(1) != "inf" else float("inf")
    m = re.search(r"SSIM .*?All:([0-9.]+)", stderr)
    if m:
        found["ssim"] = float(m.group(1))
    return found


# --------------------------------------------------------------------------- reading back


def caption_evidence(path: str, declared: str) -> dict:
    """Check a declared caption on the frames of its time span (and just after it).

    Returns the caption evidence JSON (as for images, of the weakest frame inside the span) with
    ``frames`` (time, match) and ``absent_after``; ``evidence`` holds the CaptionEvidence."""
    from PIL import Image

    from . import video_io
    from .visible.inspect import CaptionEvidence, inspect_declared_caption

    try:
        body = json.loads(declared)
        start, stop = (float(v) for v in body.get("time_span_s", [0.0, 2.0]))
    except (ValueError, TypeError):
        return {"evidence": CaptionEvidence({}, error="caption declaration is not JSON")}
    samples: list[tuple[float, object]] = []
    after = None
    for t, rgb in video_io.rgb_frames(path, max_seconds=stop + 0.5):
        if t < stop:
            samples.append((t, rgb))
        elif after is None:
            after = (t, rgb)
    if not samples:
        return {"evidence": CaptionEvidence(body, error="no frames decoded in the caption span")}
    picks = sorted({0, len(samples) // 2, len(samples) - 1})
    checked = []
    for i in picks:
        t, rgb = samples[i]
        checked.append((t, inspect_declared_caption(Image.fromarray(rgb), declared)))
    worst = min(checked, key=lambda c: -1.0 if c[1].match is None else c[1].match)[1]
    out = {
        "evidence": worst,
        "frames": [{"t": round(t, 3), "match": None if e.match is None else round(e.match, 3)}
                   for t, e in checked],  # fmt: skip
        "time_span_s": [start, stop],
        "shown_s": round(samples[-1][0] - samples[0][0] + (stop - samples[-1][0]), 3),
    }
    if after is not None:
        e = inspect_declared_caption(Image.fromarray(after[1]), declared)
        out["after_span"] = {"t": round(after[0], 3), "found": e.found,
                             "match": None if e.match is None else round(e.match, 3)}  # fmt: skip
    return out


def detect_watermark(
    path: str,
    key: WatermarkKey | None,
    *,
    max_seconds: float | None = None,
    fps: float = DETECT_FPS,
):  # noqa: ANN201
    """The frame watermark of ``path`` (see :func:`aigc_tag.watermark.video.detect_frames`)."""
    from . import video_io
    from .watermark.video import detect_frames

    return detect_frames(video_io.gray_frames(path, fps=fps, max_seconds=max_seconds), key=key)


def self_check(
    out: bytes, carrier: Carrier, plan: VideoLayers, result: TagResult, key: WatermarkKey | None
) -> None:
    """Read the output back as verify will: the declared caption must be on its opening frames
    (else :class:`AigcTagError`); a watermark that does not read back is a warning and
    ``"watermark"`` leaves ``result.layers``."""
    if plan.declaration is None and plan.payload is None:
        return
    with tempfile.TemporaryDirectory(prefix=temp_prefix("video")) as tmp:
        path = str(Path(tmp) / "output.bin")
        Path(path).write_bytes(out)
        if plan.declaration is not None:
            ev = caption_evidence(path, plan.declaration)
            if not ev["evidence"].found:
                raise AigcTagError(f"{result.source}: self-check failed: the caption does not "
                                   "read back on the opening frames")  # fmt: skip
        if plan.payload is not None and "watermark" in result.layers:
            found = detect_watermark(path, key, max_seconds=SELF_CHECK_SECONDS)
            if not found.detected or not np.array_equal(found.payload_bits,
                                                        plan.payload.to_bits()):  # fmt: skip
                result.layers.remove("watermark")
                result.watermark_payload = None
                result.warnings.append(
                    "watermark embedded but not detectable in the output (too flat, too small "
                    "or too strongly compressed); the other layers are in place"
                )
        if plan.audio_marked:
            sound = _soundtrack(path, key)
            if not (sound and sound.get("payload")):
                result.warnings.append(
                    "the soundtrack watermark does not read back (too quiet, too short or too "
                    "low a bitrate); the frame watermark carries the payload"
                )


def verify_video(
    report: Report,
    carrier: Carrier,
    data: bytes,
    extras: dict[str, str],
    *,
    watermark: bool,
    key: WatermarkKey | None,
    ocr: bool = True,
) -> None:
    """Fill ``report.visible_label`` and ``report.watermark`` for a video and append the caption
    (X-I1..X-I4) and watermark (W01/W02) checks. Without a declared caption, ``ocr`` reads the
    opening frames for anyone's explicit label (X-I1..X-I4, X-V1: visible/ocr.py). Decoding
    problems become ERROR checks (inconclusive), never an exception."""
    from .verify.checks import result as check
    from .verify.checks import run_caption_checks, run_watermark_checks
    from .verify.report import Outcome
    from .visible.inspect import CaptionEvidence

    with tempfile.TemporaryDirectory(prefix=temp_prefix("video")) as tmp:
        path = str(Path(tmp) / "input.bin")
        Path(path).write_bytes(data)
        declared = extras.get("Caption")
        if declared:
            try:
                ev = caption_evidence(path, declared)
            except AigcTagError as exc:
                ev = {"evidence": CaptionEvidence({}, error=f"cannot decode the video: {exc}")}
            evidence = ev.pop("evidence")
            if not evidence.declared:
                try:
                    evidence.declared = json.loads(declared)
                except ValueError:
                    pass
            report.visible_label = {**evidence.to_json(), **ev, "source": "declared",
                                    "found": evidence.found}  # fmt: skip
            report.checks += run_caption_checks(evidence)
        elif ocr:
            _ocr_video(report, path)
        if not watermark:
            return
        try:
            found = detect_watermark(path, key)
        except AigcTagError as exc:
            report.checks.append(check("W01", Outcome.ERROR, f"cannot decode the video: {exc}"))
            return
        from .watermark import layer

        mark = layer.report(found.detection, key)
        mark["ranges"] = [[round(a, 3), round(b, 3)] for a, b in found.ranges]
        mark["windows"] = found.to_json()["windows"]
        mark["frames_analysed"] = found.frames
        mark["soundtrack"] = _soundtrack(path, key)
        report.watermark = mark
        report.checks += run_watermark_checks(mark, report.metadata_label)


def _ocr_video(report: Report, path: str) -> None:
    """The explicit label anyone drew on the opening frames, read by OCR (no declaration)."""
    from .verify.checks import run_ocr_caption_checks
    from .visible.ocr import video_label

    try:
        visible = video_label(path)
    except AigcTagError as exc:
        visible = {"found": False, "source": "ocr", "error": f"cannot decode the video: {exc}"}
    report.visible_label = visible
    report.checks += run_ocr_caption_checks(visible, labelled=report.metadata_label is not None)


def _soundtrack(path: str, key: WatermarkKey | None) -> dict | None:
    from . import ffmpeg

    engine = _audio_engine()
    if engine is None:
        return None
    try:
        info = ffmpeg.probe(path)
        audio = [s for s in info.get("streams", []) if s.get("codec_type") == "audio"]
        if not audio:
            return None
        rate = int(audio[0].get("sample_rate") or 48000)
        raw = ffmpeg.run(
            "ffmpeg",
            ["-v", "error", "-i", path, "-map", f"0:{audio[0]['index']}", "-vn", "-f", "f32le",
             "-acodec", "pcm_f32le", "-ac", "1", "-ar", str(rate), "pipe:1"],
            timeout=300,
        )  # fmt: skip
    except AigcTagError as exc:
        return {"error": str(exc)}
    from .watermark import layer

    samples = np.frombuffer(raw, "<f4").reshape(-1, 1)
    found = engine.detect(samples, rate, key=key)
    out = layer.report(found, key)
    out["ranges"] = [[round(a, 3), round(b, 3)] for a, b in getattr(found, "ranges", [])]
    return out
