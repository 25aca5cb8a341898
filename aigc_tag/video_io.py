"""Video frames in and out of a container, keeping everything that is not the picture.

Frames travel through ffmpeg pipes as raw planar YUV (never temporary image files): one ffmpeg
decodes the video stream to ``stdout``, another reads the changed frames on ``stdin`` and muxes
them with every other stream of the original copied packet for packet (audio, subtitles, data,
attachments, other video streams), the container's and the stream's metadata, chapters, the
rotation (display matrix) and the colour description (primaries, transfer, matrix, range).

Frames are decoded as stored (``-noautorotate``); :class:`VideoInfo` says how they are shown
(rotation and sample aspect ratio), so a layer can draw in display geometry and map back.

The encoder matches the source codec family (:data:`ENCODERS`) at a quality meant to be visually
transparent (x264 CRF 18, the level usually called visually lossless; the others at their
equivalents); the frame rate, size and pixel format are the source's. Variable-frame-rate sources
are resampled to constant frame rate at their nominal rate (frames repeated or dropped where the
timestamps say so), so the presentation timing of every frame is kept to within one frame.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from . import ffmpeg
from .errors import CorruptContainer, LimitExceeded, UnsupportedFormat

#: Largest picture (stored width x height) accepted; above it tagging is refused up front.
MAX_PIXELS = 8192 * 4320

#: Source codec -> (encoder, quality arguments). Anything else is encoded with libx264.
ENCODERS: dict[str, tuple[str, list[str]]] = {
    "h264": ("libx264", ["-crf", "18", "-preset", "medium"]),
    "hevc": ("libx265", ["-crf", "20", "-preset", "medium", "-x265-params", "log-level=error"]),
    "vp9": ("libvpx-vp9", ["-crf", "24", "-b:v", "0", "-row-mt", "1", "-deadline", "good",
                           "-cpu-used", "4"]),
    "vp8": ("libvpx", ["-crf", "6", "-b:v", "{bitrate}", "-deadline", "good", "-cpu-used", "4"]),
    "av1": ("libsvtav1", ["-crf", "24", "-preset", "8"]),
    "mpeg4": ("mpeg4", ["-q:v", "2"]),
}  # fmt: skip
FALLBACK = ("libx264", ["-crf", "18", "-preset", "medium"])

#: Raw frame formats the pipe carries as is; anything else travels as yuv420p / yuv420p10le.
_PIPE_FORMATS = {
    # name: (chroma x shift, chroma y shift, bytes per sample, full range)
    "yuv420p": (1, 1, 1, False),
    "yuvj420p": (1, 1, 1, True),
    "yuv422p": (1, 0, 1, False),
    "yuvj422p": (1, 0, 1, True),
    "yuv444p": (0, 0, 1, False),
    "yuvj444p": (0, 0, 1, True),
    "yuv420p10le": (1, 1, 2, False),
    "yuv422p10le": (1, 0, 2, False),
    "yuv444p10le": (0, 0, 2, False),
}


@dataclass
class VideoInfo:
    """What ffprobe says about the container and its main video stream."""

    index: int  # absolute stream index of the video stream we process
    codec: str
    width: int  # stored size
    height: int
    sar: Fraction
    rotation: int  # clockwise degrees the player turns the stored picture (0/90/180/270)
    rate: Fraction  # output (constant) frame rate
    avg_rate: Fraction
    vfr: bool
    pix_fmt: str
    color: dict[str, str]  # color_primaries / color_trc / colorspace / color_range, when known
    duration: float
    start_time: float
    frame_times: list[float]  # presentation times of the packets, sorted, from stream start
    bit_rate: int
    format_name: str
    major_brand: str
    streams: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def display_size(self) -> tuple[int, int]:
        """(width, height) as shown: sample aspect ratio applied, then the rotation."""
        w = max(1, round(self.width * self.sar)) if self.sar else self.width
        return (self.height, w) if self.rotation in (90, 270) else (w, self.height)

    @property
    def audio_streams(self) -> list[dict]:
        return [s for s in self.streams if s.get("codec_type") == "audio"]

    @property
    def pipe_format(self) -> str:
        if self.pix_fmt in _PIPE_FORMATS:
            return self.pix_fmt
        return "yuv420p10le" if "10" in self.pix_fmt or "12" in self.pix_fmt else "yuv420p"

    @property
    def full_range(self) -> bool:
        return _PIPE_FORMATS[self.pipe_format][3] or self.color.get("color_range") in ("pc", "jpeg")

    @property
    def bt709(self) -> bool:
        space = self.color.get("colorspace", "")
        if space:
            return space.startswith(("bt709", "bt2020"))
        return self.height >= 720

    def plane_shapes(self) -> list[tuple[int, int]]:
        sx, sy, _, _ = _PIPE_FORMATS[self.pipe_format]
        cw, ch = -(-self.width // (1 << sx)), -(-self.height // (1 << sy))
        return [(self.height, self.width), (ch, cw), (ch, cw)]

    @property
    def sample_dtype(self) -> np.dtype:
        return np.dtype("<u2") if _PIPE_FORMATS[self.pipe_format][2] == 2 else np.dtype(np.uint8)

    @property
    def frame_bytes(self) -> int:
        size = self.sample_dtype.itemsize
        return sum(h * w for h, w in self.plane_shapes()) * size


def _fraction(text: str | None) -> Fraction:
    try:
        value = Fraction(text or "0")
    except (ValueError, ZeroDivisionError):
        return Fraction(0)
    return value if value > 0 else Fraction(0)


def _rotation(stream: dict) -> int:
    """Clockwise display rotation from the display matrix (ffprobe's ``rotation`` is the
    counter-clockwise angle) or the legacy ``rotate`` tag."""
    angle = None
    for side in stream.get("side_data_list", []) or []:
        if "rotation" in side:
            angle = -float(side["rotation"])
    if angle is None and "rotate" in (stream.get("tags") or {}):
        try:
            angle = float(stream["tags"]["rotate"])
        except ValueError:
            angle = None
    return int(round((angle or 0.0) / 90.0)) * 90 % 360


def probe_video(path: str, *, max_pixels: int = MAX_PIXELS, timeout: float = 120.0) -> VideoInfo:
    """Describe ``path``'s main video stream; raise a clear error for what cannot be tagged."""
    info = ffmpeg.probe(path)
    streams = info.get("streams") or []
    fmt = info.get("format") or {}
    videos = [
        s for s in streams
        if s.get("codec_type") == "video"
        and not (s.get("disposition") or {}).get("attached_pic")
    ]  # fmt: skip
    if not videos:
        kinds = sorted({s.get("codec_type", "?") for s in streams}) or ["none"]
        raise UnsupportedFormat(f"the file has no video stream (streams: {', '.join(kinds)})")
    v = videos[0]
    width, height = int(v.get("width") or 0), int(v.get("height") or 0)
    if width <= 0 or height <= 0:
        raise CorruptContainer("the video stream has no picture size (truncated or damaged?)")
    if width * height > max_pixels:
        raise LimitExceeded(
            f"the video is {width}x{height} ({width * height} pixels), above the limit of "
            f"{max_pixels} pixels per frame"
        )
    times = _packet_times(path, int(v["index"]), timeout)
    if not times:
        raise CorruptContainer("the video stream has no frames (zero-length or truncated)")
    _check_truncated(v, fmt, times)
    rate, avg = _fraction(v.get("r_frame_rate")), _fraction(v.get("avg_frame_rate"))
    steps = np.diff(times) if len(times) > 1 else np.array([])
    vfr = False
    if steps.size >= 2:
        med = float(np.median(steps))
        vfr = bool(med > 0 and (steps.max() > med * 1.5 + 1e-4 or steps.min() < med * 0.5 - 1e-4))
        if not avg and med > 0:
            avg = Fraction(1 / med).limit_denominator(1001)
    out_rate = rate if rate and rate <= 120 else avg
    warnings = []
    if vfr and fmt.get("format_name") != "avi":  # AVI gaps are dropped frames: no warning
        # The nominal rate, unless it is a fine timebase (e.g. 1000 fps) rather than a frame rate.
        out_rate = rate if rate and rate <= max(2 * avg, Fraction(1)) and rate <= 120 else avg
        warnings.append(
            f"variable frame rate source: the output is constant {float(out_rate):.3f} fps "
            "(frames repeated or dropped at their timestamps)"
        )
    if not out_rate:
        out_rate = Fraction(25)
        warnings.append("the frame rate is unknown: assuming 25 fps")
    color = {
        k: str(v[k]) for k in ("color_primaries", "color_transfer", "color_space", "color_range")
        if v.get(k) and v[k] != "unknown"
    }  # fmt: skip
    color = {{"color_transfer": "color_trc", "color_space": "colorspace"}.get(k, k): c
             for k, c in color.items()}  # fmt: skip
    duration = float(v.get("duration") or fmt.get("duration") or 0.0)
    if duration <= 0:
        duration = times[-1] + float(1 / out_rate)
    return VideoInfo(
        index=int(v["index"]),
        codec=str(v.get("codec_name", "")),
        width=width,
        height=height,
        sar=_fraction(v.get("sample_aspect_ratio", "1").replace(":", "/")) or Fraction(1),
        rotation=_rotation(v),
        rate=out_rate,
        avg_rate=avg or out_rate,
        vfr=vfr,
        pix_fmt=str(v.get("pix_fmt", "yuv420p")),
        color=color,
        duration=duration,
        start_time=float(v.get("start_time") or 0.0),
        frame_times=times,
        bit_rate=int(v.get("bit_rate") or fmt.get("bit_rate") or 0),
        format_name=str(fmt.get("format_name", "")),
        major_brand=str((fmt.get("tags") or {}).get("major_brand", "")).strip(),
        streams=streams,
        warnings=warnings,
    )


def _check_truncated(v: dict, fmt: dict, times: list[float]) -> None:
    """The container's own frame count and duration against the packets really present."""
    declared = int(v.get("nb_frames") or 0)
    if declared and len(times) < 0.97 * declared - 2:
        raise CorruptContainer(
            f"the file is truncated: {len(times)} of the {declared} video frames its index "
            "lists are present"
        )
    duration = float(v.get("duration") or fmt.get("duration") or 0.0)
    step = float(np.median(np.diff(times))) if len(times) > 2 else 0.0
    if duration > 1.0 and times[-1] + 3 * step + 0.5 < 0.9 * duration:
        raise CorruptContainer(
            f"the file is truncated: video frames stop at {times[-1]:.2f} s of the "
            f"{duration:.2f} s its header declares"
        )


def _packet_times(path: str, index: int, timeout: float) -> list[float]:
    """Presentation times (s, from the first) of the stream's packets: read, not decoded.

    AVI packets carry no pts, only a dts (in AVI the two are equal: no B-frame reordering is
    stored), so a packet without pts is placed at its dts. Read in-process (PyAV), so
    ``timeout`` is unused: demuxing is one linear pass over the file."""
    del timeout
    times = sorted(ffmpeg.packet_times(path, index))
    return [t - times[0] for t in times] if times else []


# --------------------------------------------------------------------------- decoding


def _timeout(info: VideoInfo) -> float:
    """Generous but finite: a minute plus ten times real time at 1080p, scaled by area."""
    area = info.width * info.height / (1920 * 1080)
    return 60.0 + 10.0 * max(info.duration, 1.0) * max(area, 0.25)


@functools.cache
def _fps_flag() -> str:
    """``-fps_mode`` (ffmpeg >= 5.1) or its older spelling ``-vsync``."""
    try:
        first = ffmpeg.run("ffmpeg", ["-version"], timeout=30).decode("ascii", "replace")
        major, minor = (int(x) for x in first.split()[2].lstrip("n").split(".")[:2])
    except (ValueError, IndexError, CorruptContainer):
        return "-vsync"
    return "-fps_mode" if (major, minor) >= (5, 1) else "-vsync"


def decode_args(path: str, info: VideoInfo) -> list[str]:
    args = ["-v", "error", "-noautorotate", "-i", path, "-map", f"0:{info.index}",
            "-an", "-sn", "-dn"]  # fmt: skip
    if info.vfr:
        args += [_fps_flag(), "cfr", "-r", str(info.rate)]
    else:
        args += [_fps_flag(), "passthrough"]
    return [*args, "-f", "rawvideo", "-pix_fmt", info.pipe_format, "pipe:1"]


def frames(path: str, info: VideoInfo) -> Iterator[list[np.ndarray]]:
    """Decode the video stream as stored: yields [Y, U, V] planes per frame (writable arrays).

    Raises :class:`CorruptContainer` when ffmpeg fails or delivers far fewer frames than the
    container lists (a truncated file)."""
    shapes, dtype = info.plane_shapes(), info.sample_dtype
    sizes = [h * w * dtype.itemsize for h, w in shapes]
    count = 0
    with ffmpeg.stream(decode_args(path, info), timeout=_timeout(info)) as proc:
        while True:
            buf = proc.read_into(info.frame_bytes)  # writable, no copy
            if buf is None:
                break
            count += 1
            planes, pos = [], 0
            for (h, w), size in zip(shapes, sizes, strict=True):
                planes.append(np.frombuffer(buf, dtype, count=h * w, offset=pos).reshape(h, w))
                pos += size
            yield planes
        proc.finish()
        _check_complete(info, count, proc.stderr_text)


def _check_complete(info: VideoInfo, count: int, stderr: str) -> None:
    expected = len(info.frame_times)
    if info.vfr:
        expected = int((info.frame_times[-1]) * float(info.rate)) + 1
    if count == 0 or count < 0.97 * expected - 2:
        detail = stderr.strip().splitlines()[-1] if stderr.strip() else "no message"
        raise CorruptContainer(
            f"decoded {count} of {expected} video frames: the file is truncated or damaged "
            f"(ffmpeg: {detail})"
        )


# --------------------------------------------------------------------------- encoding


def muxer(info: VideoInfo, carrier_name: str, head: bytes = b"") -> tuple[str, str]:
    """(ffmpeg muxer, file suffix) that writes the same container as the source: WebM when the
    EBML DocType (or the carrier) says webm, MOV when the major brand is QuickTime's."""
    if "matroska" in info.format_name:
        if carrier_name == "webm" or b"\x42\x82\x84webm" in head[:64]:
            return "webm", ".webm"
        return "matroska", ".mkv"
    if info.format_name == "avi":
        return "avi", ".avi"
    if info.format_name == "flv":
        return "flv", ".flv"
    if "mp4" in info.format_name or "mov" in info.format_name:
        if info.major_brand == "qt":
            return "mov", ".mov"
        return "mp4", ".mp4"
    raise UnsupportedFormat(f"cannot write the {info.format_name or 'unknown'} container")


def _for_stream(options: list[str], index: int) -> list[str]:
    """Bind encoder options to one output stream: ``-crf 18`` -> ``-crf:3 18``."""
    out = []
    for item in options:
        if item.startswith("-") and not item[1:].replace(".", "").isdigit():
            item = f"{item.split(':')[0]}:{index}"
        out.append(item)
    return out


def encoder_args(info: VideoInfo, index: int = 0) -> tuple[list[str], list[str]]:
    """(encoder arguments for output stream ``index``, warnings)."""
    warnings = []
    if info.codec in ENCODERS:
        name, quality = ENCODERS[info.codec]
    elif info.codec == "flv1":
        name, quality = "flv", ["-q:v", "2"]
    else:
        name, quality = FALLBACK
        warnings.append(f"no encoder of the {info.codec} family: the video is re-encoded as H.264")
    bitrate = str(max(info.bit_rate * 3 // 2, 500_000))
    quality = [q.replace("{bitrate}", bitrate) for q in quality]
    pix = info.pix_fmt if info.pix_fmt in _PIPE_FORMATS else info.pipe_format
    options = ["-c", name, *quality, "-pix_fmt", pix]
    for key, value in info.color.items():
        options += [f"-{key}", value]
    if info.sar != 1:
        options += ["-aspect", str(Fraction(info.width * info.sar, info.height))]
    return _for_stream(options, index), warnings


def raw_input_args(info: VideoInfo) -> list[str]:
    w, h = info.width, info.height
    args = ["-f", "rawvideo", "-pix_fmt", info.pipe_format, "-s", f"{w}x{h}",
            "-framerate", str(info.rate)]  # fmt: skip
    for key, value in info.color.items():
        args += [f"-{key}", value]
    if info.start_time > 0:
        args = ["-itsoffset", f"{info.start_time:.6f}", *args]
    return [*args, "-i", "pipe:0"]


def encode_args(
    src: str,
    dst: str,
    info: VideoInfo,
    fmt: str,
    *,
    audio: str | None = None,
    audio_options: list[str] | None = None,
) -> tuple[list[str], list[str]]:
    """The muxing ffmpeg's arguments: the new video from the pipe (input 0), every other stream
    of the original (input 1) copied, in the original order; ``audio`` (input 2) replaces the
    first audio stream, encoded with ``audio_options`` (``-c aac -b 128k``, unbound)."""
    args = ["-v", "error", *raw_input_args(info), "-i", src]
    if audio:
        args += ["-i", audio]
    first_audio = info.audio_streams[0]["index"] if info.audio_streams else None
    maps: list[str] = []
    codecs: list[str] = []
    warnings: list[str] = []
    for out_index, stream in enumerate(sorted(info.streams, key=lambda s: int(s["index"]))):
        i = int(stream["index"])
        if i == info.index:
            maps += ["-map", "0:0"]
            enc, warnings = encoder_args(info, out_index)
            codecs += [*enc, f"-map_metadata:s:{out_index}", f"1:s:{i}"]
        elif audio and i == first_audio:
            maps += ["-map", "2:0"]
            codecs += _for_stream(audio_options or [], out_index)
            codecs += [f"-map_metadata:s:{out_index}", f"1:s:{i}"]
        else:
            maps += ["-map", f"1:{i}"]
    args += [*maps, "-map_metadata", "1", "-map_chapters", "1", "-c", "copy", *codecs]
    if fmt in ("mp4", "mov"):
        args += ["-movflags", "+faststart"]
    return [*args, "-f", fmt, "-y", dst], warnings


def restore_rotation(path: str, info: VideoInfo, fmt: str) -> None:
    """Give the encoded file the source's display matrix back (ffmpeg drops it on a re-encode):
    one stream-copy remux, in place. ffmpeg >= 7 (the imageio-ffmpeg wheel's) sets the matrix
    with the input option ``-display_rotation`` (counter-clockwise degrees) and ignores the
    ``rotate`` tag; ffmpeg 5 and 6 know only the tag, which they honour on a stream copy."""
    if not info.rotation:
        return
    tmp = path + ".rot"
    ccw = (-info.rotation) % 360
    copy = ["-map", "0", "-c", "copy", "-map_metadata", "0"]
    try:
        ffmpeg.run(
            "ffmpeg",
            ["-v", "error", "-display_rotation:v:0", str(ccw), "-i", path, *copy,
             "-f", fmt, "-y", tmp],
            timeout=_timeout(info),
        )  # fmt: skip
    except CorruptContainer:  # "Unrecognized option": an ffmpeg older than 7
        ffmpeg.run(
            "ffmpeg",
            ["-v", "error", "-i", path, *copy, "-metadata:s:v:0", f"rotate={ccw}",
             "-f", fmt, "-y", tmp],
            timeout=_timeout(info),
        )  # fmt: skip
    import os

    os.replace(tmp, path)


@dataclass
class Writer:
    """The encoder/muxer fed one frame (list of planes) at a time."""

    proc: ffmpeg.Stream

    def write(self, planes: list[np.ndarray]) -> None:
        assert self.proc.proc.stdin is not None
        try:
            for plane in planes:
                self.proc.proc.stdin.write(memoryview(np.ascontiguousarray(plane)).cast("B"))
        except (BrokenPipeError, OSError):
            self.proc.kill()
            try:
                self.proc.finish()
            except Exception as exc:  # the encoder's own message explains the broken pipe
                raise CorruptContainer(f"the encoder stopped: {exc}") from None
            raise CorruptContainer("the encoder stopped reading frames") from None


def open_writer(args: list[str], info: VideoInfo) -> ffmpeg.Stream:
    return ffmpeg.stream(args, stdin=True, timeout=2 * _timeout(info))


def packet_hashes(path: str, selector: str = "a", timeout: float = 120.0) -> list[str]:
    """MD5 of every packet of the selected streams (ffmpeg's framemd5 on a stream copy)."""
    out = ffmpeg.run(
        "ffmpeg",
        ["-v", "error", "-i", path, "-map", f"0:{selector}?", "-c", "copy", "-f", "framemd5",
         "pipe:1"],
        timeout=timeout,
    )  # fmt: skip
    return [ln.rsplit(",", 1)[-1].strip() for ln in out.decode().splitlines()
            if ln and not ln.startswith("#")]  # fmt: skip


def gray_frames(
    path: str, *, fps: float | None = None, max_seconds: float | None = None,
    max_side: int | None = None, timeout: float = 600.0,
) -> Iterator[tuple[float, np.ndarray]]:
    """Decode as a player shows it (rotation and pixel aspect applied) to 8-bit luma:
    yields (time from the first frame, H x W uint8); ``fps`` samples the frames evenly."""
    info = ffmpeg.probe(path)
    videos = [s for s in info.get("streams", []) if s.get("codec_type") == "video"
              and not (s.get("disposition") or {}).get("attached_pic")]  # fmt: skip
    if not videos:
        raise UnsupportedFormat("the file has no video stream")
    v = videos[0]
    rot = _rotation(v)
    sar = _fraction(str(v.get("sample_aspect_ratio", "1")).replace(":", "/")) or Fraction(1)
    w, h = int(v.get("width") or 0), int(v.get("height") or 0)
    if w <= 0 or h <= 0:
        raise CorruptContainer("the video stream has no picture size")
    w = max(2, round(w * sar))
    if rot in (90, 270):
        w, h = h, w
    filters = []
    if sar != 1:
        filters.append(f"scale={round(int(v['width']) * sar)}:{int(v['height'])},setsar=1")
    rate = _fraction(v.get("avg_frame_rate")) or _fraction(v.get("r_frame_rate")) or Fraction(25)
    step = 1.0 / float(rate)
    if fps:
        filters.append(f"fps={fps}")
        step = 1.0 / fps
    if max_side and max(w, h) > max_side:
        k = max_side / max(w, h)
        w, h = max(2, int(w * k) // 2 * 2), max(2, int(h * k) // 2 * 2)
        filters.append(f"scale={w}:{h}")
    args = ["-v", "error", "-i", path, "-map", f"0:{v['index']}", "-an", "-sn", "-dn"]
    if max_seconds:
        args += ["-t", f"{max_seconds:.3f}"]
    if filters:
        args += ["-vf", ",".join(filters)]
    args += [_fps_flag(), "passthrough" if not fps else "cfr", "-f", "rawvideo",
             "-pix_fmt", "gray", "pipe:1"]  # fmt: skip
    with ffmpeg.stream(args, timeout=timeout) as proc:
        i = 0
        while True:
            buf = proc.read_exact(w * h)
            if buf is None:
                break
            yield i * step, np.frombuffer(buf, np.uint8).reshape(h, w)
            i += 1
        proc.finish()


def rgb_frames(path: str, *, max_seconds: float, timeout: float = 300.0):
    """The first ``max_seconds`` as shown (rotation, pixel aspect), RGB: (time, H x W x 3)."""
    info = ffmpeg.probe(path)
    videos = [s for s in info.get("streams", []) if s.get("codec_type") == "video"
              and not (s.get("disposition") or {}).get("attached_pic")]  # fmt: skip
    if not videos:
        raise UnsupportedFormat("the file has no video stream")
    v = videos[0]
    rot = _rotation(v)
    sar = _fraction(str(v.get("sample_aspect_ratio", "1")).replace(":", "/")) or Fraction(1)
    w, h = round(int(v["width"]) * sar), int(v["height"])
    args = ["-v", "error", "-i", path, "-map", f"0:{v['index']}", "-an", "-sn", "-dn",
            "-t", f"{max_seconds:.3f}"]  # fmt: skip
    if sar != 1:
        args += ["-vf", f"scale={w}:{h},setsar=1"]
    if rot in (90, 270):
        w, h = h, w
    args += [_fps_flag(), "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]
    rate = _fraction(v.get("r_frame_rate")) or _fraction(v.get("avg_frame_rate")) or Fraction(25)
    with ffmpeg.stream(args, timeout=timeout) as proc:
        i = 0
        while True:
            buf = proc.read_exact(w * h * 3)
            if buf is None:
                break
            yield i / float(rate), np.frombuffer(buf, np.uint8).reshape(h, w, 3)
            i += 1
        proc.finish()


def frame_times(path: str, timeout: float = 120.0) -> list[float]:
    """Presentation times of the decoded frames of the first video stream (s, from the first).
    Decoded in-process (PyAV); ``timeout`` is kept for callers and unused."""
    del timeout
    times = ffmpeg.frame_times(path)
    return [t - times[0] for t in times] if times else []


__all__ = [
    "ENCODERS", "MAX_PIXELS", "VideoInfo", "encode_args", "frames", "gray_frames", "muxer",
    "packet_hashes", "probe_video", "rgb_frames",
]  # fmt: skip

