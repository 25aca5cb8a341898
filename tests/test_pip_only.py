"""`pip install aigc-tag` is the whole install: audio and video tag and verify with no system
FFmpeg reachable.

The CLI runs in a subprocess whose PATH is a fresh folder holding only a link to the `aigc-tag`
script, and without the AIGC_TAG_FFMPEG/AIGC_TAG_FFPROBE overrides: /usr/bin (which
has ffmpeg and ffprobe on this machine) is not on it. Probing then runs in-process with PyAV and
the filter graphs and encoders with the ffmpeg binary of the imageio-ffmpeg wheel. The MP4 is made
here with PyAV's own encoders; the WAV and MP3 are the project's samples.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import PRODUCER

av = pytest.importorskip("av", reason="PyAV (a core dependency) is not installed")
imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg", reason="imageio-ffmpeg is not installed")

SAMPLES = Path(__file__).parent.parent / "samples"


def make_mp4(path: Path, *, seconds: int = 2, fps: int = 25, size: tuple[int, int] = (320, 240)):
    """H.264 + AAC, encoded in-process by PyAV: a textured picture panning, a chord with noise."""
    import cv2

    w, h = size
    rng = np.random.default_rng(7)
    texture = cv2.resize(rng.integers(0, 256, (h // 8, 2 * w // 8, 3), dtype=np.uint8),
                         (2 * w, h), interpolation=cv2.INTER_CUBIC)  # fmt: skip
    rate = 44100
    t = np.arange(seconds * rate) / rate
    chord = sum(0.12 * np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6))
    sound = (chord + 0.02 * rng.standard_normal(t.size)).astype(np.float32)
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = w, h, "yuv420p"
        video.options = {"crf": "18"}
        audio = out.add_stream("aac", rate=rate)
        audio.layout = "stereo"
        for i in range(seconds * fps):
            frame = av.VideoFrame.from_ndarray(texture[:, 4 * i : 4 * i + w].copy(), format="rgb24")
            out.mux(video.encode(frame))
        out.mux(video.encode())
        step = 1024
        for start in range(0, sound.size, step):
            chunk = np.stack([sound[start : start + step]] * 2)
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
            frame.sample_rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
            out.mux(audio.encode(frame))
        out.mux(audio.encode())


def bare_path(folder: Path) -> str:
    """A PATH holding only a link to the aigc-tag script (whose first line names this Python
    by its absolute path): no ffmpeg, no ffprobe, no /usr/bin."""
    folder.mkdir()
    script = Path(sys.executable).with_name("aigc-tag")
    if not script.exists():
        found = shutil.which("aigc-tag")
        if found is None:
            pytest.skip("the aigc-tag console script is not installed (pip install .)")
        script = Path(found)
    (folder / "aigc-tag").symlink_to(script)
    path = str(folder)
    assert shutil.which("ffmpeg", path=path) is None and shutil.which("ffprobe", path=path) is None
    return path


def run_cli(args: list[str], path: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("AIGC_TAG_FFMPEG", "AIGC_TAG_FFPROBE")}
    env["PATH"] = path
    return subprocess.run([str(Path(path) / "aigc-tag"), *args], env=env, capture_output=True,
                          text=True, timeout=900, check=False)  # fmt: skip


def test_tag_and_verify_audio_and_video_without_system_ffmpeg(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(SAMPLES / "tune.wav", src / "tune.wav")
    shutil.copy(SAMPLES / "narration.mp3", src / "narration.mp3")
    make_mp4(src / "clip.mp4")
    path = bare_path(tmp_path / "bin")
    out = tmp_path / "out"

    tagged = run_cli(["tag", str(src), "-o", str(out), "--producer", PRODUCER, "--no-ledger",
                      "--json"], path)  # fmt: skip
    assert tagged.returncode == 0, tagged.stderr
    results = {Path(r["src"]).name: r["result"] for r in map(json.loads, tagged.stdout.splitlines())
               if r.get("status") == "tagged"}  # fmt: skip
    assert set(results) == {"tune.wav", "narration.mp3", "clip.mp4"}, tagged.stdout
    for name, result in results.items():
        assert "watermark" in result["layers"] and "metadata" in result["layers"], (name, result)
    assert "visible" in results["clip.mp4"]["layers"]

    verified = run_cli(["verify", str(out), "--json"], path)
    assert verified.returncode == 0, verified.stderr
    reports = {Path(r["path"]).name: r for r in map(json.loads, verified.stdout.splitlines())}
    assert set(reports) == set(results)
    for name, report in reports.items():
        assert report["verdict"] == "compliant", (name, report["checks"])
        mark = report["watermark"]
        assert mark["detected"], (name, mark)
        assert mark["payload"]["hex"] == results[name]["watermark_payload"], (name, mark)


def test_no_system_ffmpeg_is_what_the_subprocess_sees(tmp_path):
    """The bare PATH really hides the system tools: aigc-tag resolves the wheel's ffmpeg, and
    probing needs no ffprobe at all."""
    path = bare_path(tmp_path / "bin")
    code = ("from aigc_tag import ffmpeg; import shutil, sys; "
            "print(ffmpeg.tool_path('ffmpeg')); print(shutil.which('ffprobe')); "
            "print(ffmpeg.probe(sys.argv[1])['streams'][0]['codec_name'])")  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k not in ("AIGC_TAG_FFMPEG", "AIGC_TAG_FFPROBE")}
    env["PATH"] = path
    # cwd outside the repository: the installed package is imported, not the source tree
    done = subprocess.run([sys.executable, "-c", code, str(SAMPLES / "narration.mp3")],
                          env=env, cwd=tmp_path, capture_output=True, text=True,
                          check=True)  # fmt: skip
    ffmpeg_path, ffprobe_path, codec = done.stdout.split()
    assert Path(ffmpeg_path).resolve() == Path(imageio_ffmpeg.get_ffmpeg_exe()).resolve()
    assert ffprobe_path == "None" and codec == "mp3"


# --------------------------------------------------------------------------- PyAV == ffprobe/ffmpeg

_SRC = ["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-f", "lavfi", "-i",
        "sine=frequency=440:sample_rate=44100", "-t", "1"]  # fmt: skip
#: file name -> ffmpeg output arguments: the kinds of stream parameters the callers read.
_VIDEOS = {
    "rotated.mov": ["-c:v", "libx264", "-c:a", "aac", "-display_rotation", "90"],
    "anamorphic.mp4": ["-c:v", "libx264", "-vf", "setsar=4/3", "-c:a", "aac"],
    "tenbit.mkv": ["-c:v", "libx265", "-pix_fmt", "yuv420p10le", "-x265-params",
                   "log-level=error", "-c:a", "libopus"],
    "fullrange.mp4": ["-c:v", "libx264", "-pix_fmt", "yuvj420p", "-color_range", "pc",
                      "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709"],
    "vfr.mp4": ["-c:v", "libx264", "-vf", "setpts='if(lt(N,10),N/25/TB,2*N/25/TB)'",
                "-fps_mode", "vfr", "-an"],
    "mpeg4.avi": ["-c:v", "mpeg4", "-c:a", "libmp3lame"],
}  # fmt: skip
_AUDIO = {
    "s16.flac": ["-c:a", "flac", "-sample_fmt", "s16"],
    "s24.flac": ["-c:a", "flac", "-sample_fmt", "s32", "-bits_per_raw_sample", "24"],
    "alac.m4a": ["-c:a", "alac"],
    "surround.ogg": ["-ac", "6", "-c:a", "libvorbis"],
    "speech.opus": ["-c:a", "libopus"],
    "music.m4a": ["-c:a", "aac"],
    "low.mp3": ["-ar", "22050", "-c:a", "libmp3lame", "-b:a", "64k"],
}
_STREAM_KEYS = ("index", "codec_type", "codec_name", "sample_rate", "channels", "channel_layout",
                "width", "height", "pix_fmt", "sample_aspect_ratio", "r_frame_rate",
                "avg_frame_rate", "nb_frames", "color_primaries", "color_transfer",
                "color_space", "color_range")  # fmt: skip


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, Path]:
    """Small files of every kind above, made by the ffmpeg binary aigc-tag itself would run."""
    from aigc_tag import ffmpeg
    from aigc_tag.errors import CorruptContainer

    folder = tmp_path_factory.mktemp("media")
    made = {}
    for name, args in _VIDEOS.items():
        head = ["-display_rotation", args[-1]] if "-display_rotation" in args else []
        args = args[:-2] if head else args
        made[name] = folder / name
        if head:  # an input option: encode first, then set the matrix on a stream copy
            plain = folder / f"plain-{name}"
            ffmpeg.run("ffmpeg", ["-v", "error", *_SRC, *args, "-y", str(plain)])
            copy = ["-i", str(plain), "-c", "copy", "-y", str(made[name])]
            try:
                ffmpeg.run("ffmpeg", ["-v", "error", *head, *copy])
            except CorruptContainer:  # ffmpeg < 7: the rotate tag, honoured on a stream copy
                ffmpeg.run("ffmpeg", ["-v", "error", *copy[:-2], "-metadata:s:v:0",
                                      f"rotate={head[1]}", *copy[-2:]])  # fmt: skip
        else:
            ffmpeg.run("ffmpeg", ["-v", "error", *_SRC, *args, "-y", str(made[name])])
    for name, args in _AUDIO.items():
        made[name] = folder / name
        ffmpeg.run("ffmpeg", ["-v", "error", *_SRC[4:], *args, "-y", str(made[name])])
    return made


def _ffprobe(path: Path, *args: str) -> bytes:
    exe = shutil.which("ffprobe")
    if exe is None:
        pytest.skip("no ffprobe to compare with (the point of PyAV: none is needed)")
    return subprocess.run([exe, "-v", "error", *args, str(path)], capture_output=True,
                          check=True).stdout  # fmt: skip


def test_probe_has_ffprobes_shape_and_values(media):
    from aigc_tag import ffmpeg

    for name, path in media.items():
        ours = ffmpeg.probe(str(path))
        theirs = json.loads(_ffprobe(path, "-print_format", "json", "-show_format",
                                     "-show_streams"))  # fmt: skip
        assert ours["format"]["format_name"] == theirs["format"]["format_name"], name
        assert len(ours["streams"]) == len(theirs["streams"]), name
        for a, b in zip(ours["streams"], theirs["streams"], strict=True):
            keys = [k for k in _STREAM_KEYS if k in b and b[k] not in ("0/0", "unknown")]
            if a["codec_type"] != "video":  # ffprobe prints frame rates for every stream
                keys = [k for k in keys if not k.endswith("frame_rate")]
            assert {k: a.get(k) for k in keys} == {k: b[k] for k in keys}, name
            if b.get("codec_name") in ("flac", "alac"):
                assert a["bits_per_raw_sample"] == b["bits_per_raw_sample"], name
            turn = [s["rotation"] for s in b.get("side_data_list", []) if "rotation" in s]
            ours_turn = [s["rotation"] for s in a.get("side_data_list", [])]
            assert [t % 360 for t in ours_turn] == [t % 360 for t in turn if t], name


def test_packet_times_are_ffprobes(media):
    from aigc_tag import ffmpeg

    for name in ("vfr.mp4", "mpeg4.avi", "tenbit.mkv", "rotated.mov"):
        out = _ffprobe(media[name], "-select_streams", "0", "-show_entries",
                       "packet=pts_time,dts_time", "-of", "csv=p=0").decode()  # fmt: skip
        theirs = []
        for line in out.split():
            values = [v for v in line.split(",") if v not in ("", "N/A")]
            theirs.append(float(values[0]))
        ours = ffmpeg.packet_times(str(media[name]), 0)
        assert len(ours) == len(theirs) > 0, name
        assert np.allclose(ours, theirs, atol=1e-6), name


def test_video_info_reads_rotation_aspect_range_and_vfr(media):
    from aigc_tag import video_io

    assert video_io.probe_video(str(media["rotated.mov"])).rotation == 270  # 90 ccw
    assert video_io.probe_video(str(media["anamorphic.mp4"])).sar == Fraction(4, 3)
    full = video_io.probe_video(str(media["fullrange.mp4"]))
    assert full.full_range and full.color["colorspace"] == "bt709"
    assert video_io.probe_video(str(media["vfr.mp4"])).vfr
    assert video_io.probe_video(str(media["tenbit.mkv"])).pipe_format == "yuv420p10le"


def _binary_pcm(path: Path, channels: int) -> np.ndarray:
    from aigc_tag import ffmpeg

    raw = ffmpeg.run("ffmpeg", ["-v", "error", "-i", str(path), "-map", "0:a:0", "-vn", "-f",
                                "f32le", "-acodec", "pcm_f32le", "pipe:1"])  # fmt: skip
    return np.frombuffer(raw, "<f4").reshape(-1, channels)


def test_in_process_audio_decode_is_the_binarys(media):
    """Lossless codecs sample-exact; lossy ones the same samples to within the last bits of
    float32 (the decoder's DSP differs between FFmpeg releases, not between paths). The one
    length difference allowed: AAC in MP4 ends at the edit list's duration, where ffmpeg < 9
    also writes out the encoder's padding after it."""
    from aigc_tag import ffmpeg

    for name in _AUDIO:
        stream = ffmpeg.probe(str(media[name]))["streams"][0]
        channels = int(stream["channels"])
        ours = ffmpeg.decode_audio(str(media[name]), channels)
        theirs = _binary_pcm(media[name], channels)
        assert ours.dtype == np.float32 and ours.ndim == 2, name
        if name.endswith(".flac") or name == "alac.m4a":
            assert np.array_equal(ours, theirs), name
            continue
        if name == "music.m4a":
            assert len(ours) == round(float(stream["duration"]) * 44100) == 44100
            assert len(theirs) - len(ours) in range(0, 1024), name
            theirs = theirs[: len(ours)]
        assert ours.shape == theirs.shape, name
        assert float(np.abs(ours - theirs).max()) < 1e-5, name


def test_damaged_media_is_a_one_line_error(tmp_path, media):
    from aigc_tag import ffmpeg
    from aigc_tag.errors import CorruptContainer

    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(range(256)) * 8)
    with pytest.raises(CorruptContainer, match="cannot read the media file") as err:
        ffmpeg.probe(str(junk))
    assert "\n" not in str(err.value) and str(junk) not in str(err.value)
    half = tmp_path / "half.flac"
    half.write_bytes(media["s24.flac"].read_bytes()[: media["s24.flac"].stat().st_size // 2])
    samples = ffmpeg.decode_audio(str(half), 1)  # a truncated file decodes as far as it goes
    assert 0 < len(samples) < len(_binary_pcm(media["s24.flac"], 1))


def test_gapless_aac_ends_where_itunes_says():
    """iTunes' gapless tag (priming, padding, valid samples) on the c2pa-rs AAC sample: decoding
    stops after the valid samples, as ffmpeg 9 does, not after the encoder's padding."""
    from aigc_tag import ffmpeg

    folder = os.environ.get("AIGC_TAG_C2PA_FIXTURES")
    if not folder or not (Path(folder) / "sample1.m4a").is_file():
        pytest.skip("AIGC_TAG_C2PA_FIXTURES is unset or has no sample1.m4a")
    path = str(Path(folder) / "sample1.m4a")
    with av.open(path) as c:
        smpb = c.metadata["iTunSMPB"].split()
        total = c.streams.audio[0].duration  # every decoded sample, padding included
    priming, padding, valid = (int(x, 16) for x in smpb[1:4])
    samples = ffmpeg.decode_audio(path, 2)
    assert len(samples) == valid == total - priming - padding
