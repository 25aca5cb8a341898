"""FFmpeg, the one place that reaches it: libav in-process (PyAV) and the ffmpeg binary.

Which does what, and why:

* **Probing, packet times, audio decoding: PyAV, in-process.** PyAV's wheels carry FFmpeg's
  libraries, so nothing outside pip is needed; a probe is a library call instead of an ffprobe
  process (milliseconds on a small file, where starting ffprobe costs a few hundred), and
  :func:`probe` returns ffprobe's JSON shape so its readers did not change. ffprobe is unused.
* **Filter graphs and encoders: the ffmpeg binary.** Caption overlays, resampling, PSNR/SSIM and
  the re-encode with the source's codec are ffmpeg command lines fed through pipes. The binary on
  PATH is used when there is one (``AIGC_TAG_FFMPEG`` overrides), else the one in the
  imageio-ffmpeg wheel (a core dependency), so ``pip install aigc-tag`` is enough.

Commands are argument lists (never shell strings), so file names with spaces, quotes or leading
dashes cannot change what runs; inputs are passed as paths inside a private temporary directory
that we name ourselves.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from fractions import Fraction
from functools import cache

import numpy as np

from .errors import AigcTagError, CorruptContainer, ToolMissing

#: Seconds one ffmpeg run may take before it is killed (a hostile file must not hang a batch).
DEFAULT_TIMEOUT = 600.0


@cache
def tool_path(name: str) -> str:
    """Absolute path of ``ffmpeg`` (or ``ffprobe``, which only ``doctor`` asks for): the
    ``AIGC_TAG_<NAME>`` override, else PATH, else the imageio-ffmpeg wheel's ffmpeg; raises
    :class:`ToolMissing` with the fix."""
    override = os.environ.get(f"AIGC_TAG_{name.upper()}")
    found = override if override and os.access(override, os.X_OK) else shutil.which(name)
    if not found and name == "ffmpeg":
        found = _wheel_ffmpeg()
    if not found:
        raise ToolMissing(
            f"{name} is needed to decode and encode audio/video but was not found on PATH "
            f"(pip install imageio-ffmpeg, or install FFmpeg, or set AIGC_TAG_{name.upper()})"
        )
    return found


def _wheel_ffmpeg() -> str | None:
    """The ffmpeg binary shipped by the imageio-ffmpeg wheel (it has no ffprobe, which nothing
    here needs: probing is PyAV's)."""
    try:
        import imageio_ffmpeg
    except ImportError:
        return None
    try:
        path = imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError:
        return None
    return path if path and os.access(path, os.X_OK) else None


def run(
    tool: str, args: list[str], *, stdin: bytes | None = None, timeout: float = DEFAULT_TIMEOUT
) -> bytes:
    """Run ``tool`` with ``args`` and return its stdout; a failure raises CorruptContainer with
    the last line ffmpeg printed (its own description of what is wrong with the input)."""
    quiet = ["-hide_banner", "-nostdin"] if tool == "ffmpeg" else []
    cmd = [tool_path(tool), *quiet, *args]
    try:
        done = subprocess.run(
            cmd, input=stdin, capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise AigcTagError(f"{tool} did not finish within {timeout:.0f} s") from None
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise CorruptContainer(f"{tool} failed: {lines[-1] if lines else 'no message'}")
    return done.stdout


def probe(path: str) -> dict:
    """ffprobe's JSON for ``path`` (``format`` and ``streams``), read in-process with PyAV.

    The dict has ffprobe's shape and spelling (strings for rates, durations and ratios, the
    display matrix rotation in ``side_data_list``), so callers written against ffprobe read it
    unchanged; keys ffprobe leaves out for an unknown value are left out here too."""
    container = _open(path)
    try:
        return {
            "streams": [_stream_dict(s) for s in container.streams],
            "format": _format_dict(container),
        }
    except _av_errors() as exc:
        raise CorruptContainer(f"cannot read the media file: {_av_message(exc)}") from None
    finally:
        container.close()


def packet_times(path: str, index: int) -> list[float]:
    """Presentation time (s) of every packet of stream ``index``, in file order: read, not
    decoded. A packet without a pts (AVI stores only a dts) is placed at its dts."""
    container = _open(path)
    try:
        stream = container.streams[index]
        base = stream.time_base
        times = []
        for packet in container.demux(stream):
            stamp = packet.pts if packet.pts is not None else packet.dts
            if stamp is not None and packet.size:  # the demuxer ends with an empty flush packet
                times.append(float(stamp * base))
        return times
    except (_av_errors(), IndexError) as exc:
        raise CorruptContainer(f"cannot read the video packets: {_av_message(exc)}") from None
    finally:
        container.close()


def decode_audio(path: str, channels: int) -> np.ndarray:
    """The first audio stream of ``path`` decoded in-process to float32 samples, shaped
    (n, channels): what ``ffmpeg -f f32le -acodec pcm_f32le`` writes, sample for sample.

    Integer samples are scaled as libswresample scales them (s16 by 2^-15, s32 by 2^-31, u8 from
    128), float and planar layouts are interleaved in the codec's channel order. Like the ffmpeg
    command, a packet the decoder rejects is skipped and decoding goes on.

    In MP4/MOV the encoder's padding after the last real sample is cut where the edit list or
    iTunes' gapless tag says the audio ends, as ffmpeg 9 does (ffmpeg 5 kept it, so every
    re-encode of an AAC file grew by up to a frame); libav itself skips the priming."""
    container = _open(path)
    try:
        if not container.streams.audio:
            raise CorruptContainer("no audio stream found")
        stream = container.streams.audio[0]
        chunks = []
        for packet in container.demux(stream):
            try:
                frames = stream.decode(packet)
            except _av_invalid_data():
                continue  # damaged packet: ffmpeg logs it and goes on, so do we
            chunks += [_frame_samples(frame, channels) for frame in frames]
        declared = _declared_samples(container, stream)
    except _av_errors() as exc:
        raise CorruptContainer(f"cannot decode the audio: {_av_message(exc)}") from None
    finally:
        container.close()
    if not chunks:
        return np.zeros((0, channels), np.float32)
    samples = np.concatenate(chunks)
    return samples[:declared] if declared and declared < len(samples) else samples


def _declared_samples(container, stream) -> int:  # noqa: ANN001 - av InputContainer, AudioStream
    """Samples an MP4/MOV track declares: its edit list's duration, or iTunes' gapless count
    (``iTunSMPB``: priming, padding, valid samples in hex), whichever is smaller; 0 elsewhere."""
    rate = stream.codec_context.sample_rate
    if not container.format.name.startswith("mov") or not rate:
        return 0
    counts = []
    if stream.duration and stream.time_base:
        counts.append(round(float(stream.duration * stream.time_base) * rate))
    smpb = (container.metadata.get("iTunSMPB") or stream.metadata.get("iTunSMPB") or "").split()
    try:
        counts.append(int(smpb[3], 16) if len(smpb) > 3 else 0)
    except ValueError:
        pass  # a damaged tag says nothing
    counts = [n for n in counts if n > 0]
    return min(counts) if counts else 0


def _av_invalid_data() -> type[BaseException]:
    import av

    return av.InvalidDataError


def _frame_samples(frame, channels: int) -> np.ndarray:  # noqa: ANN001 - av.AudioFrame
    if frame.layout.nb_channels != channels:
        raise CorruptContainer(
            f"the audio changes from {channels} to {frame.layout.nb_channels} channels midway"
        )
    data = frame.to_ndarray()
    data = data.T if frame.format.is_planar else data.reshape(-1, channels)
    if data.dtype == np.uint8:
        return ((data.astype(np.float32) - 128.0) * np.float32(1 / 128)).astype(np.float32)
    if data.dtype.kind == "i":
        # exact in float64, then one rounding to float32: swresample's int -> float result
        full = float(1 << (8 * data.dtype.itemsize - 1))
        return (data.astype(np.float64) / full).astype(np.float32)
    return np.ascontiguousarray(data, dtype=np.float32)


def frame_times(path: str) -> list[float]:
    """Presentation time (s) of every decoded frame of the first video stream, in output order
    (frames without a timestamp are left out, as ffprobe leaves out ``N/A``)."""
    container = _open(path)
    try:
        if not container.streams.video:
            return []
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        base = stream.time_base
        return [float(f.pts * base) for f in container.decode(stream) if f.pts is not None]
    except _av_errors() as exc:
        raise CorruptContainer(f"cannot decode the video: {_av_message(exc)}") from None
    finally:
        container.close()


def _open(path: str):  # noqa: ANN202 - av.container.InputContainer (PyAV is imported lazily)
    try:
        import av
    except ImportError:
        raise ToolMissing(
            "PyAV is needed to read audio/video but is not installed (pip install av)"
        ) from None
    try:
        # metadata_errors: tags in a legacy 8-bit encoding must not make the file unreadable.
        return av.open(path, metadata_errors="replace")
    except _av_errors() as exc:
        raise CorruptContainer(f"cannot read the media file: {_av_message(exc)}") from None


def _av_errors() -> tuple[type[BaseException], ...]:
    import av

    # PyAV's errors derive from av.FFmpegError and from the matching builtin (OSError, ...);
    # a damaged file can also surface as a ValueError/UnicodeError from a field it decodes.
    return (av.FFmpegError, OSError, ValueError)


def _av_message(exc: BaseException) -> str:
    """libav's own sentence, without the path PyAV appends (a private temporary file)."""
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return str(text).splitlines()[0]


# av_color_*_name() of libavutil/pixdesc.c, by value: the names ffprobe prints and ffmpeg's
# -color_primaries / -color_trc / -colorspace options accept.
_PRIMARIES = {1: "bt709", 4: "bt470m", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 8: "film",
              9: "bt2020", 10: "smpte428", 11: "smpte431", 12: "smpte432", 22: "ebu3213"}
_TRANSFERS = {1: "bt709", 4: "bt470m", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m",
              8: "linear", 9: "log100", 10: "log316", 11: "iec61966-2-4", 12: "bt1361e",
              13: "iec61966-2-1", 14: "bt2020-10", 15: "bt2020-12", 16: "smpte2084",
              17: "smpte428", 18: "arib-std-b67"}
_SPACES = {0: "gbr", 1: "bt709", 4: "fcc", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m",
           8: "ycgco", 9: "bt2020nc", 10: "bt2020c", 11: "smpte2085", 12: "chroma-derived-nc",
           13: "chroma-derived-c", 14: "ictcp"}
_RANGES = {1: "tv", 2: "pc"}  # fmt: skip


def _ratio(value, sep: str = "/") -> str:  # noqa: ANN001 - Fraction | None
    """ffprobe's spelling of a rational: ``25/1``, ``0/0`` when unknown."""
    if not value:
        return f"0{sep}0" if sep == "/" else f"0{sep}1"
    return f"{value.numerator}{sep}{value.denominator}"


def _seconds(stamp: int | None, base) -> str | None:  # noqa: ANN001 - Fraction
    return None if stamp is None or not base else f"{float(stamp * base):.6f}"


def _stream_dict(s) -> dict:  # noqa: ANN001 - av.stream.Stream
    out: dict = {"index": s.index, "codec_type": s.type}
    cc = s.codec_context
    out["codec_name"] = cc.codec.canonical_name if cc is not None else "unknown"
    if cc is not None and cc.bit_rate:
        out["bit_rate"] = str(cc.bit_rate)
    out["time_base"] = _ratio(s.time_base)
    start, duration = _seconds(s.start_time, s.time_base), _seconds(s.duration, s.time_base)
    out.update({k: v for k, v in (("start_time", start), ("duration", duration)) if v})
    if s.frames:
        out["nb_frames"] = str(s.frames)
    flags = int(s.disposition)
    out["disposition"] = {f.name: int(bool(flags & f.value)) for f in type(s.disposition)}
    out["tags"] = dict(s.metadata)
    if s.type == "audio" and cc is not None:
        out.update(_audio_fields(s, cc))
    elif s.type == "video" and cc is not None:
        out.update(_video_fields(s, cc, attached=bool(out["disposition"].get("attached_pic"))))
    return out


def _audio_fields(s, cc) -> dict:  # noqa: ANN001 - av AudioStream and its codec context
    import re

    out = {"sample_rate": str(cc.sample_rate), "channels": cc.channels}
    if cc.format is not None:
        out["sample_fmt"] = cc.format.name
    layout = cc.layout.name if cc.layout is not None else ""
    if layout and not re.fullmatch(r"\d+ channels", layout):  # unspecified order: ffprobe omits
        out["channel_layout"] = layout
    bits = _lossless_bits(s, cc)
    if bits:
        out["bits_per_raw_sample"] = str(bits)
    return out


def _lossless_bits(s, cc) -> int:  # noqa: ANN001
    """FLAC/ALAC bit depth (ffprobe's ``bits_per_raw_sample``, which PyAV does not expose), from
    the container's own header via mutagen; 0 when it cannot tell."""
    if cc.codec.canonical_name not in ("flac", "alac"):
        return 0
    import mutagen

    try:
        info = mutagen.File(s.container.name)
        bits = int(getattr(info.info, "bits_per_sample", 0) or 0) if info else 0
    except (mutagen.MutagenError, OSError, ValueError):
        bits = 0
    if not bits and cc.format is not None:  # s16 holds 16-bit samples; s32 says only "> 16"
        bits = 16 if cc.format.name.startswith("s16") else 0
    return bits


def _video_fields(s, cc, *, attached: bool) -> dict:  # noqa: ANN001
    out: dict = {"width": cc.width, "height": cc.height}
    if cc.pix_fmt:
        out["pix_fmt"] = cc.pix_fmt
    # av_guess_sample_aspect_ratio: the container's ratio when it has one, else the codec's.
    sar = s.sample_aspect_ratio or cc.sample_aspect_ratio
    if sar:
        out["sample_aspect_ratio"] = _ratio(sar, ":")
    out["r_frame_rate"] = _ratio(s.base_rate)
    out["avg_frame_rate"] = _ratio(s.average_rate)
    for key, table, value in (("color_primaries", _PRIMARIES, cc.color_primaries),
                              ("color_transfer", _TRANSFERS, cc.color_trc),
                              ("color_space", _SPACES, cc.colorspace),
                              ("color_range", _RANGES, cc.color_range)):  # fmt: skip
        if int(value) in table:
            out[key] = table[int(value)]
    rotation = None if attached else _display_rotation(s)
    if rotation is not None:
        out["side_data_list"] = [{"side_data_type": "Display Matrix", "rotation": rotation}]
    return out


def _display_rotation(s) -> int | None:  # noqa: ANN001 - av VideoStream
    """ffprobe's ``rotation`` (counter-clockwise degrees) of the stream's display matrix.

    PyAV does not expose the stream's side data, but libavcodec copies the display matrix onto
    every decoded frame: decode the first frame in a separate open of the file (so the probe's
    own demuxing state is untouched). Only a keyframe is decoded, on one thread and without
    the reordering delay (up to 16 frames of H.264), since only its side data is read. None
    without a matrix or when nothing decodes."""
    import av
    from av.codec.context import Flags

    try:
        with av.open(s.container.name, metadata_errors="replace") as c:
            stream = c.streams[s.index]
            cc = stream.codec_context
            cc.thread_count, cc.skip_frame = 1, "NONKEY"
            cc.flags = int(cc.flags) | int(Flags.low_delay)
            for frame in c.decode(stream):
                return int(round(frame.rotation)) or None  # 0 without a matrix
    except (av.FFmpegError, OSError, ValueError):
        return None
    return None


def _format_dict(c) -> dict:  # noqa: ANN001 - av InputContainer
    out: dict = {"filename": c.name, "nb_streams": len(c.streams), "format_name": c.format.name}
    start = _seconds(c.start_time, Fraction(1, 1_000_000))  # AV_TIME_BASE units
    duration = _seconds(c.duration, Fraction(1, 1_000_000))
    out.update({k: v for k, v in (("start_time", start), ("duration", duration)) if v})
    if c.size:
        out["size"] = str(c.size)
    if c.bit_rate:
        out["bit_rate"] = str(c.bit_rate)
    out["tags"] = dict(c.metadata)
    return out


class Stream:
    """One long-running ffmpeg process whose frames travel through its stdin/stdout pipes.

    A watchdog kills it at the deadline (so a hostile or stuck input cannot hang the caller),
    stderr is drained on a thread (so a chatty ffmpeg cannot block on a full pipe), and leaving
    the ``with`` block kills it if it is still running. :meth:`finish` waits for the exit and
    raises :class:`CorruptContainer` with ffmpeg's last message on a failure.
    """

    def __init__(
        self, args: list[str], *, stdin: bool = False, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        import threading

        cmd = [tool_path("ffmpeg"), "-hide_banner", "-nostdin", *args] if not stdin else [
            tool_path("ffmpeg"), "-hide_banner", *args]  # fmt: skip
        self.timeout = timeout
        self.timed_out = False
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        import collections

        _widen_pipes(self.proc)
        self._err: collections.deque[bytes] = collections.deque(maxlen=200)
        self._drain = threading.Thread(target=self._read_stderr, daemon=True)
        self._drain.start()
        self._timer = threading.Timer(timeout, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._err.append(line)  # the last 200 lines: ffmpeg's verdict comes last

    def _expire(self) -> None:
        self.timed_out = True
        self.kill()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()

    @property
    def stderr_text(self) -> str:
        return b"".join(self._err).decode("utf-8", "replace")

    def read_exact(self, size: int) -> bytes | None:
        """``size`` bytes from stdout, or None at the end of the stream (a short tail too)."""
        assert self.proc.stdout is not None
        buf = self.proc.stdout.read(size)
        return buf if len(buf) == size else None

    def read_into(self, size: int) -> bytearray | None:
        """Like :meth:`read_exact`, into a fresh writable buffer (no copy for numpy views)."""
        assert self.proc.stdout is not None
        buf = bytearray(size)
        view, got = memoryview(buf), 0
        while got < size:
            n = self.proc.stdout.readinto(view[got:])
            if not n:
                return None
            got += n
        return buf

    def finish(self) -> None:
        """Close the pipes, wait for the exit; raise on timeout or a non-zero exit status."""
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            self.proc.wait()
        self._timer.cancel()
        self._drain.join(timeout=5)
        if self.timed_out:
            raise AigcTagError(f"ffmpeg did not finish within {self.timeout:.0f} s")
        if self.proc.returncode != 0:
            lines = self.stderr_text.strip().splitlines()
            raise CorruptContainer(f"ffmpeg failed: {lines[-1] if lines else 'no message'}")

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        self.kill()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                try:
                    pipe.close()
                except OSError:
                    pass
        self.proc.wait()


def _widen_pipes(proc: subprocess.Popen) -> None:
    """Ask Linux for 1 MiB pipe buffers (64 KiB by default): a raw 1080p frame is 3 MB, and
    fewer, larger transfers cost fewer context switches. Best effort, elsewhere a no-op."""
    try:
        import fcntl
    except ImportError:
        return
    for pipe in (proc.stdin, proc.stdout):
        if pipe is not None:
            try:
                fcntl.fcntl(pipe.fileno(), 1031, 1 << 20)  # F_SETPIPE_SZ
            except OSError:
                pass


def stream(args: list[str], *, stdin: bool = False, timeout: float = DEFAULT_TIMEOUT) -> Stream:
    """Start ffmpeg with ``args`` (``-hide_banner`` added); see :class:`Stream`."""
    return Stream(args, stdin=stdin, timeout=timeout)
