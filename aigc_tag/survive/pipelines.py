"""The platform pipelines ``aigc-tag survive`` runs: what chat apps, feeds, screenshots and
re-encoders do to a file, each as one function from the input to a new file.

Images are transformed in memory with Pillow/OpenCV (decoded as a viewer shows them: EXIF
orientation applied, transparency on white); audio and video go through the ffmpeg binary
(:mod:`aigc_tag.ffmpeg`, argument lists, never shell strings) on a copy of the input inside a
private temporary folder. Geometric edits (crops, rotation, grayscale) are saved as PNG so that
the edit alone is measured; the platform pipelines re-encode as the platforms do. Every image
pipeline drops metadata (Pillow writes none it was not given), like the platforms, except
``strip-metadata``, which drops *only* metadata and keeps every pixel.

The image helpers here are the project's one copy of these transforms: the watermark benchmark
(``benchmarks/_attacks.py``) imports them.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import AigcTagError

__all__ = [
    "PIPELINES",
    "Output",
    "Pipeline",
    "Source",
    "crop_area",
    "encode",
    "encode_roundtrip",
    "fit_long_side",
    "pipelines_for",
    "rescale_by",
    "rotate",
    "select",
]

Array = np.ndarray


# --------------------------------------------------------------------------- image helpers


def encode(rgb: Array, fmt: str, **params: object) -> bytes:
    """``rgb`` (H x W x 3, or H x W grey) encoded as ``fmt`` (JPEG, WEBP, PNG, AVIF) by Pillow."""
    buf = io.BytesIO()
    Image.fromarray(rgb, "RGB" if rgb.ndim == 3 else "L").save(buf, format=fmt, **params)
    return buf.getvalue()


def encode_roundtrip(rgb: Array, fmt: str, **params: object) -> Array:
    """Save to an in-memory file of ``fmt`` and decode it again (RGB)."""
    return _rgb(Image.open(io.BytesIO(encode(rgb, fmt, **params))))


def rescale_by(rgb: Array, factor: float, resample: int = Image.Resampling.BICUBIC) -> Array:
    """Both sides times ``factor`` (at least 1 px), Pillow's resampler (antialiased downscale)."""
    h, w = rgb.shape[:2]
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    return _rgb(Image.fromarray(rgb, "RGB").resize(size, resample))


def fit_long_side(rgb: Array, long_side: int) -> Array:
    """Downscale (Lanczos) so the long side is ``long_side``; smaller images are kept as they are
    (platforms do not upscale)."""
    factor = long_side / max(rgb.shape[:2])
    return rescale_by(rgb, factor, Image.Resampling.LANCZOS) if factor < 1 else rgb


def crop_area(rgb: Array, area: float, where: str = "centre") -> Array:
    """Keep ``area`` of the pixels (same aspect), at the centre or at the top-left ``corner``."""
    h, w = rgb.shape[:2]
    side = math.sqrt(area)
    ch, cw = max(1, round(h * side)), max(1, round(w * side))
    y0, x0 = ((h - ch) // 2, (w - cw) // 2) if where == "centre" else (0, 0)
    return rgb[y0 : y0 + ch, x0 : x0 + cw].copy()


def crop_square(rgb: Array) -> Array:
    """The largest centred 1:1 crop (a feed's square thumbnail)."""
    h, w = rgb.shape[:2]
    side = min(h, w)
    y0, x0 = (h - side) // 2, (w - side) // 2
    return rgb[y0 : y0 + side, x0 : x0 + side].copy()


def rotate(rgb: Array, degrees: float) -> Array:
    """Rotate about the centre, same canvas size, corners filled with black (as torchvision)."""
    import cv2

    h, w = rgb.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(rgb, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0))


def _rgb(img: Image.Image) -> Array:
    return np.asarray(img.convert("RGB"), dtype=np.uint8).copy()


# --------------------------------------------------------------------------- pipeline model


@dataclass
class Source:
    """The input of every pipeline: the file's bytes, what it is, and a private folder."""

    data: bytes
    carrier: str  # the carrier's name ("png", "mp3", "mp4", ...)
    media: str  # "image", "audio" or "video"
    workdir: Path  # private temporary folder (ffmpeg reads and writes files there)
    _rgb: Array | None = field(default=None, repr=False)

    def rgb(self) -> Array:
        """The picture as a viewer shows it (EXIF orientation, transparency on white), decoded
        once."""
        if self._rgb is None:
            from ..imaging import open_display

            shown = open_display(self.data)
            if shown.mode in ("RGBA", "LA", "PA") or "transparency" in shown.info:
                rgba = shown.convert("RGBA")
                shown = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)
            self._rgb = _rgb(shown)
        return self._rgb

    def path(self) -> Path:
        """The input written once into the private folder (a name we chose, not the user's)."""
        path = self.workdir / "input.bin"
        if not path.exists():
            path.write_bytes(self.data)
        return path


@dataclass(frozen=True)
class Output:
    """What a pipeline made: the new file's bytes and its format (a file suffix)."""

    data: bytes
    suffix: str


@dataclass(frozen=True)
class Pipeline:
    """One platform pipeline: a stable ``name`` (the ``--pipelines`` token), the media it
    applies to, a one-line description, and the function that runs it."""

    name: str
    media: str
    description: str
    apply: Callable[[Source], Output] = field(repr=False, compare=False)


# --------------------------------------------------------------------------- images


def _image(transform: Callable[[Array], Array], fmt: str, **params: object):
    """A pipeline function: transform the displayed pixels, encode as ``fmt``."""
    suffix = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}[fmt]

    def run(src: Source) -> Output:
        return Output(encode(transform(src.rgb()), fmt, **params), suffix)

    return run


def _chat_app(rgb: Array) -> Array:
    return rescale_by(rgb, 0.8, Image.Resampling.LANCZOS)


def _screenshot(rgb: Array) -> Array:
    # A compositor scales the window by the display factor (bilinear) before the capture.
    return rescale_by(rgb, 1.25, Image.Resampling.BILINEAR)


def _grey(rgb: Array) -> Array:
    return np.asarray(Image.fromarray(rgb, "RGB").convert("L"), dtype=np.uint8)


def _same(rgb: Array) -> Array:
    return rgb


#: JPEG segments kept by a metadata strip: JFIF, the ICC profile (colour, not metadata), Adobe's
#: colour transform, and every non-APP segment (tables, frame header).
_JPEG_KEEP_APP = {0xE0, 0xE2, 0xEE}
#: PNG chunks kept by a metadata strip: pixels, palette, colour and animation.
_PNG_KEEP = {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND", b"gAMA", b"cHRM", b"sRGB", b"iCCP",
             b"sBIT", b"pHYs", b"acTL", b"fcTL", b"fdAT"}  # fmt: skip


def strip_jpeg(data: bytes) -> bytes:
    """The JPEG without EXIF, XMP, IPTC, C2PA (APP11) and comments; entropy-coded data untouched."""
    from ..carriers.jpeg import segments

    segs, scan = segments(data)
    kept = [data[s.start : s.end] for s in segs
            if not s.is_app_or_com or s.marker in _JPEG_KEEP_APP]  # fmt: skip
    return b"\xff\xd8" + b"".join(kept) + data[scan:]


def strip_png(data: bytes) -> bytes:
    """The PNG with only its pixel, palette and colour chunks (no text, eXIf or caBX)."""
    from ..carriers.png import MAGIC, chunks

    return MAGIC + b"".join(c.raw(data) for c in chunks(data) if c.type in _PNG_KEEP)


def _strip_metadata(src: Source) -> Output:
    """Metadata dropped, pixels kept: byte-level for JPEG and PNG, a lossless PNG otherwise."""
    if src.carrier == "jpeg":
        return Output(strip_jpeg(src.data), ".jpg")
    if src.carrier == "png":
        return Output(strip_png(src.data), ".png")
    return Output(encode(src.rgb(), "PNG"), ".png")


# --------------------------------------------------------------------------- audio and video

#: The file suffix that keeps a carrier's container (ffmpeg picks the muxer from it).
_SUFFIX = {"wav": ".wav", "mp3": ".mp3", "flac": ".flac", "ogg": ".ogg", "opus": ".opus",
           "m4a": ".m4a", "mp4": ".mp4", "matroska": ".mkv", "webm": ".webm", "avi": ".avi",
           "flv": ".flv"}  # fmt: skip


def _ffmpeg(args: list[str], suffix: str | None = None):
    """A pipeline function: ``ffmpeg -i INPUT <args> OUTPUT``; ``suffix`` None keeps the input's
    container."""
    return _ffmpeg_with([], args, suffix)


def _ffmpeg_with(
    pre: list[str] | Callable[[Source], list[str]],
    args: list[str] | Callable[[Source], list[str]],
    suffix: str | None,
):
    """``ffmpeg <pre> -i INPUT <args> OUTPUT``; ``pre``/``args`` may be functions of the source
    (options that depend on the input, such as its sample rate)."""

    def run(src: Source) -> Output:
        from .. import ffmpeg

        before = pre(src) if callable(pre) else pre
        after = args(src) if callable(args) else args
        out_suffix = suffix or _SUFFIX.get(src.carrier)
        if out_suffix is None:
            raise AigcTagError(f"no output container known for {src.carrier}")
        out = src.workdir / f"output{out_suffix}"
        out.unlink(missing_ok=True)
        argv = ["-v", "error", "-y", *before, "-i", str(src.path()), *after, str(out)]
        ffmpeg.run("ffmpeg", argv, timeout=_TIMEOUT)
        try:
            return Output(out.read_bytes(), out_suffix)
        finally:
            out.unlink(missing_ok=True)

    return run


def _loudnorm_args(src: Source) -> list[str]:
    # loudnorm resamples to 192 kHz internally: write the input's own rate back.
    from .. import ffmpeg

    streams = ffmpeg.probe(str(src.path())).get("streams", [])
    rate = next((s.get("sample_rate") for s in streams if s.get("codec_type") == "audio"), None)
    return [*_AUDIO, "-af", "loudnorm=I=-16:TP=-1.5:LRA=11", "-ar", str(rate or 48000)]


_TIMEOUT = 600.0  # seconds one pipeline may take (a hostile file must not hang the run)
_AUDIO = ["-map", "0:a:0", "-vn"]  # the first audio stream only (no cover art)
_H264 = ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"]
_VIDEO = ["-map", "0:v:0", "-map", "0:a:0?", "-c:a", "aac", "-b:a", "128k"]

PIPELINES: tuple[Pipeline, ...] = (
    # --- images
    Pipeline("chat-app", "image", "0.8x Lanczos + JPEG q70 4:2:0, metadata stripped (chat apps)",
             _image(_chat_app, "JPEG", quality=70, subsampling=2)),
    Pipeline("social-feed", "image", "fit 1080 px long side (Lanczos) + JPEG q85 (feeds)",
             _image(lambda a: fit_long_side(a, 1080), "JPEG", quality=85)),
    Pipeline("hd-2048", "image", "fit 2048 px long side (Lanczos) + JPEG q90 (HD uploads)",
             _image(lambda a: fit_long_side(a, 2048), "JPEG", quality=90)),
    Pipeline("webp-75", "image", "WebP q75 re-encode (CDNs, browsers)",
             _image(_same, "WEBP", quality=75)),
    Pipeline("screenshot-1.25", "image",
             "screenshot at 1.25 display scale (bilinear) saved as PNG, metadata gone",
             _image(_screenshot, "PNG")),
    Pipeline("crop-square", "image", "centred 1:1 crop (square thumbnails), PNG",
             _image(crop_square, "PNG")),
    Pipeline("crop-70", "image", "centred crop keeping 70 % of the area, PNG",
             _image(lambda a: crop_area(a, 0.7, "centre"), "PNG")),
    Pipeline("rotate-3", "image", "rotation by 3 degrees, same canvas, black corners, PNG",
             _image(lambda a: rotate(a, 3.0), "PNG")),
    Pipeline("grayscale", "image", "grayscale conversion, PNG", _image(_grey, "PNG")),
    Pipeline("strip-metadata", "image",
             "metadata removed, pixels untouched (JPEG/PNG byte-level, else lossless PNG)",
             _strip_metadata),
    Pipeline("jpeg-50", "image", "JPEG q50 re-encode", _image(_same, "JPEG", quality=50)),
    # --- audio (ffmpeg keeps its default metadata mapping unless the pipeline says otherwise)
    Pipeline("mp3-128k", "audio", "MP3 128 kb/s re-encode (libmp3lame)",
             _ffmpeg([*_AUDIO, "-c:a", "libmp3lame", "-b:a", "128k"], ".mp3")),
    Pipeline("aac-96k", "audio", "AAC 96 kb/s in M4A (podcast and music apps)",
             _ffmpeg([*_AUDIO, "-c:a", "aac", "-b:a", "96k"], ".m4a")),
    Pipeline("opus-32k", "audio", "Opus 32 kb/s (voice messages)",
             _ffmpeg([*_AUDIO, "-c:a", "libopus", "-b:a", "32k"], ".opus")),
    Pipeline("resample-16k", "audio", "resampled to 16 kHz, same container",
             _ffmpeg([*_AUDIO, "-ar", "16000"])),
    Pipeline("trim-2s", "audio", "first 2 s cut off, same container",
             _ffmpeg_with(["-ss", "2"], _AUDIO, None)),
    Pipeline("gain-6db", "audio", "gain -6 dB, same container",
             _ffmpeg([*_AUDIO, "-af", "volume=-6dB"])),
    Pipeline("loudnorm", "audio", "loudness normalised to -16 LUFS (EBU R128), same container",
             _ffmpeg_with([], _loudnorm_args, None)),
    Pipeline("strip-tags", "audio", "tags removed, audio stream copied (-map_metadata -1)",
             _ffmpeg([*_AUDIO, "-map_metadata", "-1", "-c", "copy"])),
    # --- video
    Pipeline("h264-crf28", "video", "H.264 CRF 28 re-encode + AAC 128k, MP4",
             _ffmpeg([*_VIDEO, *_H264, "-crf", "28"], ".mp4")),
    Pipeline("scale-720p", "video", "scaled to 720 px high, H.264 CRF 23, MP4",
             _ffmpeg([*_VIDEO, *_H264, "-crf", "23", "-vf", "scale=-2:720"], ".mp4")),
    Pipeline("trim-1s", "video", "first 1 s cut off, H.264 CRF 23, MP4",
             _ffmpeg_with(["-ss", "1"], [*_VIDEO, *_H264, "-crf", "23"], ".mp4")),
    Pipeline("strip-metadata-video", "video",
             "metadata removed, streams copied (-map_metadata -1 -c copy), same container",
             _ffmpeg(["-map", "0", "-map_metadata", "-1", "-c", "copy"])),
)


def pipelines_for(media: str, names: list[str] | None = None) -> list[Pipeline]:
    """The pipelines for ``media`` (in registry order), only those in ``names`` when given."""
    return [p for p in PIPELINES if p.media == media and (names is None or p.name in names)]


def select(names: list[str]) -> list[str]:
    """Check ``--pipelines`` tokens; raises :class:`AigcTagError` naming an unknown one."""
    known = {p.name for p in PIPELINES}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise AigcTagError(f"unknown pipeline(s) {', '.join(unknown)}; "
                           f"`aigc-tag survive --list` shows them")  # fmt: skip
    return names
