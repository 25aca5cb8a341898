"""Audio samples in and out of a container, keeping everything that is not the samples.

Samples travel as float32 arrays shaped (n_samples, n_channels) in [-1, 1]. WAV is read and
written here with numpy (PCM 8/16/24/32-bit and float), so its bit depth, header and every other
chunk stay exactly as they were and untouched samples come back bit-identical. Every other
format is decoded in-process by PyAV (the samples the ffmpeg binary would write) and re-encoded
by the ffmpeg binary with the source's codec, sample rate, channel layout and at least its
bitrate; its tags are carried over from the original (ID3 bytes verbatim for MP3, Vorbis
comments and pictures for FLAC/Ogg/Opus, ffmpeg's metadata map for M4A).
"""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import ffmpeg
from .carriers import Carrier
from .errors import CorruptContainer, UnsupportedFormat
from .fileio import temp_prefix

__all__ = ["AudioStream", "Decoded", "decode", "encode", "new_file"]

#: Encoder, muxer file suffix and how the bitrate is chosen, per carrier name.
_CODECS = {
    "mp3": ("libmp3lame", ".mp3"),
    "m4a": ("aac", ".m4a"),
    "ogg": ("libvorbis", ".ogg"),
    "opus": ("libopus", ".opus"),
    "flac": ("flac", ".flac"),
}
_MP3_RATES_KBPS = (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_MP3_LSF_RATES_KBPS = (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)  # < 32 kHz


@dataclass(frozen=True)
class AudioStream:
    """What the output must keep: codec, rate, channels (and layout), depth and bitrate."""

    codec: str
    sample_rate: int
    channels: int
    channel_layout: str = ""
    bits: int = 0  # PCM/FLAC bit depth; 0 for lossy codecs
    bit_rate: int = 0  # bits per second of the source stream (0 when unknown)

    @property
    def lossy(self) -> bool:
        return self.codec not in ("pcm", "flac", "alac")


@dataclass
class Decoded:
    samples: np.ndarray  # float32 (n, channels)
    stream: AudioStream

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.stream.sample_rate


def decode(data: bytes, carrier: Carrier) -> Decoded:
    """The first audio stream of ``data`` as float32 samples, plus its stream parameters."""
    if carrier.name == "wav":
        return _decode_wav(data)
    with tempfile.TemporaryDirectory(prefix=temp_prefix()) as tmp:
        src = Path(tmp) / f"input{_CODECS.get(carrier.name, ('', '.bin'))[1]}"
        src.write_bytes(data)
        stream = _probe_stream(str(src))
        # In-process (PyAV): the same samples the ffmpeg binary's f32le output holds.
        samples = ffmpeg.decode_audio(str(src), stream.channels)
    return Decoded(samples, stream)


def encode(samples: np.ndarray, decoded: Decoded, original: bytes, carrier: Carrier) -> bytes:
    """New file bytes: ``samples`` in the original's format, the original's tags kept."""
    samples = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0)
    if samples.ndim == 1:
        samples = samples[:, None]
    if carrier.name == "wav":
        return _encode_wav(samples, original)
    if carrier.name not in _CODECS:
        raise UnsupportedFormat(f"re-encoding {carrier.name} audio is not supported")
    encoded = _ffmpeg_encode(samples, decoded.stream, carrier.name, original)
    return _carry_tags(original, encoded, carrier.name)


def new_file(
    samples: np.ndarray, sample_rate: int, fmt: str, *, bits: int = 16, bitrate_kbps: int = 0
) -> bytes:
    """A new, untagged file from samples (what a generation pipeline hands over): WAV at
    ``bits`` (16, 24 or 32 = float), or any re-encodable format at ``bitrate_kbps``."""
    samples = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0)
    if samples.ndim == 1:
        samples = samples[:, None]
    if samples.ndim != 2 or not 1 <= samples.shape[1] <= 64 or sample_rate <= 0:
        raise ValueError("samples must be (n,) or (n, channels) at a positive sample rate")
    if fmt == "wav":
        return _encode_wav(samples, _empty_wav(samples.shape[1], sample_rate, bits))
    if fmt not in _CODECS:
        raise UnsupportedFormat(f"cannot write {fmt!r} audio; one of wav, {', '.join(_CODECS)}")
    stream = AudioStream(fmt, sample_rate, samples.shape[1], bits=bits if fmt == "flac" else 0,
                         bit_rate=bitrate_kbps * 1000)  # fmt: skip
    return _ffmpeg_encode(samples, stream, fmt, None)


def _empty_wav(channels: int, rate: int, bits: int) -> bytes:
    import struct

    if bits not in (16, 24, 32):
        raise ValueError("WAV bits must be 16, 24 or 32 (float)")
    tag = 3 if bits == 32 else 1  # 32 means IEEE float: what a model's float output is
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", 0)
    return b"RIFF" + struct.pack("<I", len(body)) + body


# --------------------------------------------------------------------------- WAV (numpy)


def _wav_kind(fmt) -> tuple[str, int]:  # noqa: ANN001 - riff.WavFormat
    bits = fmt.bits_per_sample
    if fmt.is_float and bits in (32, 64):
        return "float", bits
    if not fmt.is_float and bits in (8, 16, 24, 32) and fmt.block_align == fmt.channels * bits // 8:
        return "int", bits
    raise UnsupportedFormat(
        f"WAV with format tag {fmt.format_tag:#06x}, {bits}-bit: only PCM 8/16/24/32-bit and "
        "float 32/64-bit can be re-encoded (metadata-only tagging works for any WAV)"
    )


def _decode_wav(data: bytes) -> Decoded:
    from .carriers import riff

    fmt = riff.wav_format(data)
    kind, bits = _wav_kind(fmt)
    raw = data[fmt.data_offset : fmt.data_offset + fmt.data_size]
    raw = raw[: len(raw) - len(raw) % fmt.block_align]
    if kind == "float":
        samples = np.frombuffer(raw, dtype=f"<f{bits // 8}").astype(np.float32)
    elif bits == 8:  # 8-bit WAV is unsigned
        samples = (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    elif bits == 24:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        ints = (b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)) << 8 >> 8  # sign-extend
        samples = ints.astype(np.float32) / float(1 << 23)
    else:
        ints = np.frombuffer(raw, dtype=f"<i{bits // 8}")
        samples = (ints.astype(np.float64) / float(1 << (bits - 1))).astype(np.float32)
    stream = AudioStream("pcm", fmt.sample_rate, fmt.channels, bits=bits)
    return Decoded(samples.reshape(-1, fmt.channels), stream)


def _encode_wav(samples: np.ndarray, original: bytes) -> bytes:
    from .carriers import riff

    fmt = riff.wav_format(original)
    kind, bits = _wav_kind(fmt)
    if samples.shape[1] != fmt.channels:
        raise CorruptContainer(f"WAV has {fmt.channels} channels, samples have {samples.shape[1]}")
    if kind == "float":
        raw = samples.astype(f"<f{bits // 8}").tobytes()
    else:
        # Plain rounding, no dither: samples the layers did not touch come back bit-identical.
        full = float(1 << (bits - 1))
        ints = np.clip(np.rint(samples.astype(np.float64) * full), -full, full - 1).astype(np.int64)
        if bits == 8:
            raw = (ints + 128).astype(np.uint8).tobytes()
        elif bits == 24:
            raw = ints.astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
        else:
            raw = ints.astype(f"<i{bits // 8}").tobytes()
    return riff.replace_audio(original, raw)


# --------------------------------------------------------------------------- ffmpeg formats


def _probe_stream(path: str) -> AudioStream:
    info = ffmpeg.probe(path)
    audio = [s for s in info.get("streams", []) if s.get("codec_type") == "audio"]
    if not audio:
        raise CorruptContainer("no audio stream found")
    s = audio[0]
    try:
        rate, channels = int(s["sample_rate"]), int(s["channels"])
    except (KeyError, ValueError):
        raise CorruptContainer("the audio stream has no sample rate or channel count") from None
    if rate <= 0 or not 1 <= channels <= 64:
        raise CorruptContainer(f"implausible audio stream: {rate} Hz, {channels} channels")
    lossless = s.get("codec_name") in ("flac", "alac")
    bits = int(s.get("bits_per_raw_sample") or 0) if lossless else 0
    bit_rate = int(s.get("bit_rate") or info.get("format", {}).get("bit_rate") or 0)
    return AudioStream(
        s.get("codec_name", "?"), rate, channels, s.get("channel_layout", ""), bits, bit_rate
    )


def _bitrate_args(stream: AudioStream, fmt: str) -> list[str]:
    """At least the source's bitrate (the next standard step up), never a lower one."""
    if fmt == "flac":
        planar = "p" if stream.codec == "alac" else ""
        if stream.bits and stream.bits <= 16:
            return ["-sample_fmt", "s16" + planar]
        return ["-sample_fmt", "s32" + planar, "-bits_per_raw_sample", str(stream.bits or 24)]
    kbps = max(stream.bit_rate // 1000, 0)
    if fmt == "mp3":
        steps = _MP3_RATES_KBPS if stream.sample_rate >= 32000 else _MP3_LSF_RATES_KBPS
        kbps = next((r for r in steps if r >= kbps), steps[-1]) if kbps else 192
    elif fmt == "opus":
        kbps = min(max(kbps, 32), 510) if kbps else 96
    elif fmt == "ogg" and not kbps:
        return ["-q:a", "6"]  # libvorbis refuses bitrates its rate/channel mode cannot reach
    else:  # aac, vorbis
        kbps = max(kbps, 64) if kbps else 160
    return ["-b:a", f"{kbps}k"]


def _ffmpeg_encode(
    samples: np.ndarray, stream: AudioStream, fmt: str, original: bytes | None
) -> bytes:
    encoder, suffix = _CODECS[fmt]
    if stream.codec == "alac":  # Apple Lossless in M4A stays lossless
        encoder = "alac"
    layout = ["-ch_layout", stream.channel_layout] if stream.channel_layout else []
    with tempfile.TemporaryDirectory(prefix=temp_prefix()) as tmp:
        out = Path(tmp) / f"output{suffix}"
        args = ["-v", "error", "-f", "f32le", "-ar", str(stream.sample_rate),
                "-ac", str(stream.channels), *layout, "-i", "pipe:0"]  # fmt: skip
        if fmt == "m4a" and original is not None:  # tags: through ffmpeg's metadata map
            src = Path(tmp) / "input.m4a"
            src.write_bytes(original)
            args += ["-i", str(src), "-map", "0:a", "-map_metadata", "1", "-movflags", "+faststart"]
        elif fmt == "m4a":
            args += ["-map_metadata", "-1", "-movflags", "+faststart"]
        else:
            args += ["-map_metadata", "-1"]
        args += ["-c:a", encoder, *_bitrate_args(stream, "flac" if encoder == "alac" else fmt)]
        if fmt == "mp3":
            args += ["-id3v2_version", "0", "-write_id3v1", "0"]
        pcm = samples.astype("<f4").tobytes()
        try:
            ffmpeg.run("ffmpeg", [*args, "-y", str(out)], stdin=pcm)
        except CorruptContainer:
            if fmt != "ogg" or "-b:a" not in args:
                raise
            # libvorbis has no mode for this bitrate at this rate/channel count: use quality 6
            # (above the usual 64-160 kbit/s sources) instead.
            at = args.index("-b:a")
            ffmpeg.run("ffmpeg", [*args[:at], "-q:a", "6", *args[at + 2 :], "-y", str(out)],
                       stdin=pcm)  # fmt: skip
        return out.read_bytes()


def _carry_tags(original: bytes, encoded: bytes, fmt: str) -> bytes:
    if fmt == "mp3":
        return _id3v2_block(original) + encoded + _id3v1_block(original)
    if fmt in ("flac", "ogg", "opus"):
        return _copy_vorbis_tags(original, encoded, fmt)
    return encoded


def _id3v2_block(data: bytes) -> bytes:
    if data[:3] != b"ID3" or len(data) < 10:
        return b""
    size = 0
    for byte in data[6:10]:
        size = (size << 7) | (byte & 0x7F)
    size += 10 + (10 if data[5] & 0x10 else 0)  # header (+ footer)
    return data[:size] if size <= len(data) else b""


def _id3v1_block(data: bytes) -> bytes:
    return data[-128:] if len(data) >= 128 and data[-128:-125] == b"TAG" else b""


def _copy_vorbis_tags(original: bytes, encoded: bytes, fmt: str) -> bytes:
    from mutagen.flac import FLAC
    from mutagen.oggopus import OggOpus
    from mutagen.oggvorbis import OggVorbis

    cls = {"flac": FLAC, "ogg": OggVorbis, "opus": OggOpus}[fmt]
    src = cls(io.BytesIO(original))
    buf = io.BytesIO(encoded)
    dst = cls(buf)
    if dst.tags is None:
        dst.add_tags()
    dst.tags.clear()
    if src.tags is not None:
        dst.tags.extend(list(src.tags))
    if fmt == "flac":
        for picture in src.pictures:
            dst.add_picture(picture)
    buf.seek(0)
    dst.save(buf)
    return buf.getvalue()
