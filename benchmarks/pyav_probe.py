"""Probing and audio decoding in-process (PyAV) against the ffprobe/ffmpeg processes it replaced.

For every file of the folders given (default: a small corpus made here with the ffmpeg binary),
times the old path (ffprobe JSON + ffprobe packet list; ffmpeg to f32le) and the new one
(``ffmpeg.probe`` + ``ffmpeg.packet_times``; ``ffmpeg.decode_audio``), median of 3 runs, and
checks that what the callers derive (``VideoInfo``, ``AudioStream``) is the same either way.

    nice python3 benchmarks/pyav_probe.py [FOLDER...]

Needs a system ffprobe (the old path). Prints a table; writes nothing outside a temp folder.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from aigc_tag import audio_io, ffmpeg, video_io
from aigc_tag.errors import AigcTagError

NEW_PROBE, NEW_PACKETS = ffmpeg.probe, ffmpeg.packet_times
SRC = ["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-f", "lavfi", "-i",
       "sine=frequency=440:sample_rate=48000", "-t", "4"]  # fmt: skip
CORPUS = {
    "h264-aac.mp4": ["-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac"],
    "hevc10-opus.mkv": ["-c:v", "libx265", "-preset", "ultrafast", "-pix_fmt", "yuv420p10le",
                        "-x265-params", "log-level=error", "-c:a", "libopus"],
    "vp9-opus.webm": ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-c:a", "libopus"],
    "mpeg4-mp3.avi": ["-c:v", "mpeg4", "-c:a", "libmp3lame"],
    "flv1-aac.flv": ["-c:v", "flv", "-c:a", "aac", "-ar", "44100"],
    "music.mp3": ["-vn", "-c:a", "libmp3lame", "-b:a", "192k"],
    "music.m4a": ["-vn", "-c:a", "aac"],
    "music.flac": ["-vn", "-c:a", "flac", "-sample_fmt", "s32", "-bits_per_raw_sample", "24"],
    "music.ogg": ["-vn", "-c:a", "libvorbis"],
    "music.opus": ["-vn", "-c:a", "libopus"],
}  # fmt: skip


def old_probe(path: str) -> dict:
    out = ffmpeg.run("ffprobe", ["-v", "error", "-print_format", "json", "-show_format",
                                 "-show_streams", "-i", path], timeout=120)  # fmt: skip
    return json.loads(out)


def old_packets(path: str, index: int) -> list[float]:
    out = ffmpeg.run("ffprobe", ["-v", "error", "-select_streams", str(index), "-show_entries",
                                 "packet=pts_time,dts_time", "-of", "csv=p=0", "-i", path])
    times = []
    for line in out.decode().split():
        values = [v for v in line.split(",") if v not in ("", "N/A")]
        if values:
            times.append(float(values[0]))
    return times


def describe(path: str) -> dict:
    """What the callers derive from a probe, as plain data ('error' on a refused file)."""
    out = {}
    for name, fn in (("video", video_io.probe_video), ("audio", audio_io._probe_stream)):
        try:
            value = asdict(fn(path))
            value.pop("streams", None)
        except AigcTagError as exc:
            value = type(exc).__name__
        out[name] = value
    return out


def same(a, b) -> bool:  # noqa: ANN001
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) < 1e-6
    return a == b


def timed(fn, *args) -> tuple[float, object]:  # noqa: ANN001
    runs, result = [], None
    for _ in range(3):
        start = time.perf_counter()
        result = fn(*args)
        runs.append(1000 * (time.perf_counter() - start))
    return statistics.median(runs), result


def with_probe(probe, packets, path: str) -> dict:  # noqa: ANN001
    ffmpeg.probe, ffmpeg.packet_times = probe, packets
    try:
        return describe(path)
    finally:
        ffmpeg.probe, ffmpeg.packet_times = NEW_PROBE, NEW_PACKETS


def binary_pcm(path: str, channels: int) -> np.ndarray:
    raw = ffmpeg.run("ffmpeg", ["-v", "error", "-i", path, "-map", "0:a:0", "-vn", "-f", "f32le",
                                "-acodec", "pcm_f32le", "pipe:1"])  # fmt: skip
    return np.frombuffer(raw, "<f4").reshape(-1, channels)


def row(path: Path) -> str:
    old_ms, old = timed(with_probe, old_probe, old_packets, str(path))
    new_ms, new = timed(with_probe, NEW_PROBE, NEW_PACKETS, str(path))
    line = f"{path.name:28} {old_ms:9.0f} {new_ms:8.0f} {'yes' if same(old, new) else 'NO':>6}"
    if not isinstance(new["audio"], dict) or isinstance(new["video"], dict):
        return line  # PCM decoding is timed for audio files only
    channels = new["audio"]["channels"]
    bin_ms, theirs = timed(binary_pcm, str(path), channels)
    av_ms, ours = timed(ffmpeg.decode_audio, str(path), channels)
    n = min(len(ours), len(theirs))
    err = float(np.abs(ours[:n] - theirs[:n]).max()) if n else 0.0
    return f"{line} {bin_ms:9.0f} {av_ms:8.0f} {len(theirs) - len(ours):+6d} {err:9.2g}"


def main(folders: list[str]) -> None:
    with tempfile.TemporaryDirectory(prefix="aigc-bench-") as tmp:
        if folders:
            files = sorted(p for f in folders for p in Path(f).iterdir() if p.is_file())
        else:
            files = []
            for name, args in CORPUS.items():
                files.append(Path(tmp) / name)
                ffmpeg.run("ffmpeg", ["-v", "error", *SRC, *args, "-y", str(files[-1])])
        print(f"ffmpeg binary: {ffmpeg.tool_path('ffmpeg')}")
        print(f"{'file':28} {'ffprobe':>9} {'PyAV':>8} {'same':>6} {'ffmpeg':>9} {'PyAV':>8}"
              f" {'+tail':>6} {'max|d|':>9}")
        print(f"{'':28} {'probe ms':>9} {'probe ms':>8} {'':>6} {'PCM ms':>9} {'PCM ms':>8}")
        for path in files:
            print(row(path))


if __name__ == "__main__":
    main(sys.argv[1:])
