"""The video pixel pipeline with real ffmpeg: caption timing and geometry, stream keeping, the
frame watermark under re-encoding, scaling and trimming, and bad input.

Media are tiny (320x240 or 480x272, a few seconds) and made with ffmpeg's lavfi sources into
tmp_path; the tagged robustness clip is made once per module.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aigc_tag import video, video_io
from aigc_tag.errors import AigcTagError, CorruptContainer, LimitExceeded, UnsupportedFormat
from aigc_tag.label import AIGCLabel
from aigc_tag.visible.inspect import inspect_declared_caption
from aigc_tag.watermark.payload import Payload

pytestmark = pytest.mark.skipif(
    shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None,
    reason="ffmpeg/ffprobe not installed (apt-get install ffmpeg)",
)

PRODUCER = "001191110108MA01ABCDEN10001"
LABEL = AIGCLabel.for_producer(PRODUCER, "video-test-1")
PAYLOAD = Payload.for_label(LABEL.ContentProducer, LABEL.ProduceID)


def ff(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True, timeout=120)


def probe(path: Path) -> dict:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", "-show_format",
         str(path)],
        capture_output=True, check=True, timeout=60,
    )  # fmt: skip
    return json.loads(out.stdout)


def make_clip(path: Path, *, size="320x240", rate=25, seconds=3, audio=True, extra=()) -> Path:
    args = ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"anoisesrc=color=pink:amplitude=0.3:duration={seconds}"]
    ff(*args, *extra, "-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "veryfast",
       *(["-c:a", "aac", "-b:a", "96k", "-shortest"] if audio else []), str(path))  # fmt: skip
    return path


def plan(**kw) -> video.VideoLayers:
    base = {"visible": True, "watermark": True, "metadata": False, "text": "AI生成",
            "position": "bottom-right", "audio_watermark": False}  # fmt: skip
    return video.VideoLayers(**{**base, **kw})


def tag(src: Path, dst: Path, container: str = "mp4", **kw) -> video.VideoLayers:
    p = plan(**kw)
    dst.write_bytes(video.render(src.read_bytes(), container, LABEL, p))
    return p


def caption_by_frame(path: Path, declared: str, seconds: float) -> list[tuple[float, bool]]:
    """(real presentation time from ffprobe, caption found) for every frame of the start."""
    times = video_io.frame_times(str(path))
    found = []
    for (_, rgb), t in zip(video_io.rgb_frames(str(path), max_seconds=seconds), times,
                           strict=False):  # fmt: skip
        found.append((t, inspect_declared_caption(Image.fromarray(rgb), declared).found))
    return found


def assert_caption_span(found: list[tuple[float, bool]], seconds: float = 2.0) -> None:
    on = [t for t, f in found if f]
    off = [t for t, f in found if not f]
    assert on and off, found
    assert min(on) == 0.0
    assert all(t < seconds for t in on) or max(on) < seconds + 0.05
    first_off = min(off)
    assert first_off >= seconds - 1e-6  # shown for >= 2 s of presentation time
    assert all(t >= first_off for t in off)  # one span from the first frame


# --------------------------------------------------------------------------- caption


@pytest.fixture(scope="module")
def clip3():
    """320x240, 25 fps, 3 s, no sound (module scope: made once)."""
    with tempfile.TemporaryDirectory(prefix="aigc-video-test-") as tmp:
        yield make_clip(Path(tmp) / "clip3.mp4", rate=25, seconds=3, audio=False)


def test_caption_on_frames_before_2s_only_25fps(tmp_path, clip3):
    src = clip3
    p = tag(src, tmp_path / "out.mp4")
    assert p.caption is not None and p.caption.ratio >= 0.05
    body = json.loads(p.declaration)
    assert body["time_span_s"] == [0.0, 2.0]
    assert body["image_size"] == [320, 240]
    assert_caption_span(caption_by_frame(tmp_path / "out.mp4", p.declaration, 2.8))
    assert "psnr_db" in p.quality and p.quality["psnr_db"] > 35
    assert p.quality["ssim"] > 0.9
    assert p.applied == ["visible", "watermark"]


def test_caption_on_vfr_clip_uses_timestamps(tmp_path):
    src = tmp_path / "vfr.mp4"
    # 30 fps for the first second, then every third frame (10 fps): variable frame rate
    make_clip(src, rate=30, seconds=3, audio=False,
              extra=("-vf", "select='lt(t\\,1)+not(mod(n\\,3))'", "-fps_mode", "vfr"))
    assert video_io.probe_video(str(src)).vfr
    p = tag(src, tmp_path / "out.mp4", watermark=False)
    assert any("variable frame rate" in w for w in p.warnings)
    found = caption_by_frame(tmp_path / "out.mp4", p.declaration, 2.8)
    assert_caption_span(found)
    out_times = video_io.frame_times(str(tmp_path / "out.mp4"))
    assert out_times[-1] == pytest.approx(2.9, abs=0.1)  # presentation timing kept


def test_rotated_source_caption_upright_and_rotation_kept(tmp_path, clip3):
    src = tmp_path / "rot.mp4"
    ff("-i", str(clip3), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(src))
    info = video_io.probe_video(str(src))
    assert info.rotation in (90, 270) and info.display_size == (240, 320)
    p = tag(src, tmp_path / "out.mp4")
    body = json.loads(p.declaration)
    assert body["image_size"] == [240, 320]  # drawn on the picture as shown (portrait)
    x0, y0, x1, y1 = body["box"]
    assert x1 > 200 and y1 > 290  # bottom-right of the portrait picture
    stream = probe(tmp_path / "out.mp4")["streams"][0]
    rotation = [s.get("rotation") for s in stream.get("side_data_list", [])]
    assert rotation and abs(rotation[0]) == 90
    assert (stream["width"], stream["height"]) == (320, 240)
    assert_caption_span(caption_by_frame(tmp_path / "out.mp4", p.declaration, 2.6))
    assert video.detect_watermark(str(tmp_path / "out.mp4"), None).detected


def test_end_caption_and_soundtrack_watermark(tmp_path):
    src = tmp_path / "in.mp4"
    ff("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=6",
       # seeded: the soundtrack mark on a 6 s clip is found on 19 of 20 random pink noises (seeds
       # 0-19; README, Video), and a test must not fail at random
       "-f", "lavfi", "-i", "anoisesrc=color=pink:amplitude=0.3:duration=6:seed=7",
       "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac", "-b:a", "128k", "-shortest",
       str(src))  # fmt: skip
    out = tmp_path / "out.mp4"
    p = tag(src, out, end_caption=True, audio_watermark=True)
    start, stop = json.loads(p.declaration)["end_time_span_s"]
    assert stop - start >= 2.0
    found = caption_by_frame(out, p.declaration, 6.0)
    middle = [f for t, f in found if 2.0 <= t < start - 0.05]
    assert middle and not any(middle)
    assert all(f for t, f in found if t >= start)
    # the soundtrack carries the audio engine's mark (so its packets changed)
    assert p.audio_marked
    assert video_io.packet_hashes(str(src)) != video_io.packet_hashes(str(out))
    sound = video._soundtrack(str(out), None)
    assert sound["payload"]["hex"] == PAYLOAD.hex()
    assert sound["ranges"]


# --------------------------------------------------------------------------- streams kept


@pytest.mark.parametrize(
    ("suffix", "container", "vcodec", "acodec", "pix_fmt", "rate"),
    [
        (".mp4", "mp4", "libx264", "aac", "yuv420p", "25"),
        (".webm", "webm", "libvpx-vp9", "libopus", "yuv420p", "24"),
        (".mkv", "mkv", "libx264", "aac", "yuv444p", "30000/1001"),
        (".mov", "mov", "libx265", "aac", "yuv420p", "25"),
        (".avi", "avi", "mpeg4", "pcm_s16le", "yuv420p", "25"),
        (".flv", "flv", "libx264", "aac", "yuv420p", "25"),
    ],
)
def test_output_keeps_codec_geometry_rate_pixfmt_and_audio_bytes(
    tmp_path, suffix, container, vcodec, acodec, pix_fmt, rate
):
    src = tmp_path / f"in{suffix}"
    ff("-f", "lavfi", "-i", f"testsrc2=size=192x144:rate={rate}:duration=1.2",
       "-f", "lavfi", "-i", "anoisesrc=color=pink:amplitude=0.3:duration=1.2",
       "-c:v", vcodec, "-pix_fmt", pix_fmt, *(["-deadline", "realtime"] if "vpx" in vcodec else []),
       *(["-x265-params", "log-level=error"] if "265" in vcodec else []),
       "-c:a", acodec, "-shortest", "-metadata", "title=keep me", str(src))  # fmt: skip
    out = tmp_path / f"out{suffix}"
    tag(src, out, container, watermark=False)
    a, b = probe(src), probe(out)
    va = [s for s in a["streams"] if s["codec_type"] == "video"][0]
    vb = [s for s in b["streams"] if s["codec_type"] == "video"][0]
    for key in ("codec_name", "width", "height", "r_frame_rate", "pix_fmt"):
        assert va[key] == vb[key], key
    assert [s["codec_type"] for s in a["streams"]] == [s["codec_type"] for s in b["streams"]]
    if suffix != ".flv":  # FLV keeps no title
        tags = b["format"]["tags"]
        assert tags.get("title", tags.get("TITLE")) == "keep me"
    assert video_io.packet_hashes(str(src)) == video_io.packet_hashes(str(out))


def test_stream_order_colour_and_subtitles_kept_with_soundtrack_mark(tmp_path):
    srt = tmp_path / "s.srt"
    srt.write_text("1\n00:00:00,500 --> 00:00:02,000\nhello\n\n2\n00:00:02,500 --> "
                   "00:00:03,000\nworld\n")  # fmt: skip
    src = tmp_path / "in.mp4"
    ff("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=3.5",
       "-f", "lavfi", "-i", "anoisesrc=color=pink:amplitude=0.3:duration=3.5", "-i", str(srt),
       "-map", "0", "-map", "1", "-map", "2", "-c:v", "libx264", "-preset", "veryfast",
       "-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709",
       "-c:a", "aac", "-b:a", "128k", "-c:s", "mov_text", "-metadata:s:a:0", "language=fra",
       str(src))  # fmt: skip
    out = tmp_path / "out.mp4"
    p = tag(src, out, audio_watermark=True)
    assert p.audio_marked
    a, b = probe(src)["streams"], probe(out)["streams"]
    assert [s["codec_type"] for s in b] == ["video", "audio", "subtitle"]
    assert [s["codec_name"] for s in a] == [s["codec_name"] for s in b]
    for key in ("color_primaries", "color_transfer", "color_space"):
        assert b[0].get(key) == "bt709", key
    assert b[1]["tags"].get("language") == "fra"
    assert video_io.packet_hashes(str(src), "s") == video_io.packet_hashes(str(out), "s")


# --------------------------------------------------------------------------- watermark


@pytest.fixture(scope="module")
def marked():
    """A 5.6 s 640x360 clip, tagged; plus the untagged source (module scope: made once)."""
    with tempfile.TemporaryDirectory(prefix="aigc-video-test-") as tmp:
        d = Path(tmp)
        src = make_clip(d / "src.mp4", size="640x360", rate=25, seconds=5.6, audio=False)
        p = tag(src, d / "tagged.mp4")
        yield d, p


def detected_payload(path: Path):
    found = video.detect_watermark(str(path), None)
    return found, (found.payload_bits is not None
                   and np.array_equal(found.payload_bits, PAYLOAD.to_bits()))  # fmt: skip


def test_watermark_reads_back_with_time_ranges(marked):
    d, _ = marked
    found, ok = detected_payload(d / "tagged.mp4")
    assert ok and found.detection.p_value <= 1e-6
    assert found.ranges and found.ranges[0][0] == 0.0 and found.ranges[-1][1] >= 5.5


@pytest.mark.parametrize(
    "attack",
    [
        ("-c:v", "libx264", "-crf", "28"),
        ("-vf", "scale=iw/2:ih/2", "-c:v", "libx264", "-crf", "23"),
        ("-vf", "scale=-2:240", "-c:v", "libx264", "-crf", "23"),
    ],
    ids=["h264-crf28", "scale-0.5x", "scale-2/3-like-1080p-to-720p"],
)
def test_watermark_survives_reencode_and_scaling(marked, attack):
    d, _ = marked
    out = d / f"attacked-{abs(hash(attack))}.mp4"
    ff("-i", str(d / "tagged.mp4"), *attack, str(out))
    _, ok = detected_payload(out)
    assert ok


def test_watermark_survives_5s_trim(marked):
    d, _ = marked
    out = d / "trim.mp4"
    ff("-ss", "0.5", "-i", str(d / "tagged.mp4"), "-t", "5", "-c:v", "libx264", "-crf", "23",
       str(out))  # fmt: skip
    found, ok = detected_payload(out)
    assert ok
    assert found.ranges and found.ranges[-1][1] <= 5.3


def test_untagged_clips_are_not_detected(marked, tmp_path):
    d, _ = marked
    mandel = tmp_path / "mandel.mp4"
    ff("-f", "lavfi", "-i", "mandelbrot=size=320x240:rate=25", "-t", "3", "-c:v", "libx264",
       str(mandel))  # fmt: skip
    for path in (d / "src.mp4", mandel):
        found = video.detect_watermark(str(path), None)
        assert not found.detected and found.payload_bits is None and not found.ranges


def test_verify_video_fills_report(marked):
    from aigc_tag.verify.report import Outcome, Report

    d, p = marked
    report = Report(path="tagged.mp4")
    report.metadata_label = LABEL.as_dict()
    data = (d / "tagged.mp4").read_bytes()
    video.verify_video(report, None, data, {"Caption": p.declaration}, watermark=True, key=None)
    outcomes = {c.id: c.outcome for c in report.checks}
    assert outcomes["X-I1"] == Outcome.PASS
    assert outcomes["W01"] == Outcome.PASS and outcomes["W02"] == Outcome.PASS
    assert report.visible_label["found_in_pixels"] is True
    assert report.visible_label["time_span_s"] == [0.0, 2.0]
    assert report.visible_label["after_span"]["found"] is False
    assert report.watermark["payload"]["hex"] == PAYLOAD.hex()
    assert report.watermark["ranges"]


def test_verify_video_undecodable_is_inconclusive():
    from aigc_tag.verify.report import Outcome, Report

    report = Report(path="junk.mp4")
    video.verify_video(report, None, b"\x00\x00\x00\x18ftypisom" + b"\x00" * 500, {},
                       watermark=True, key=None)  # fmt: skip
    assert [c.outcome for c in report.checks if c.id == "W01"] == [Outcome.ERROR]


# --------------------------------------------------------------------------- bad input


def _leftovers() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("aigc-tag-video-*")}


def test_truncated_input_is_a_clear_error_and_leaves_nothing(tmp_path, clip3):
    src = clip3
    fast = tmp_path / "fast.mp4"
    ff("-i", str(src), "-c", "copy", "-movflags", "+faststart", str(fast))
    before = _leftovers()
    for cut, kind in ((fast, CorruptContainer), (src, CorruptContainer)):
        data = cut.read_bytes()[: int(cut.stat().st_size * 0.6)]
        with pytest.raises(kind) as err:
            video.render(data, "mp4", LABEL, plan())
        assert "truncated" in str(err.value) or "moov" in str(err.value) or "Invalid" in str(
            err.value
        )
        assert "aigc-tag-video-" not in str(err.value)  # no private temp path in the message
    assert _leftovers() <= before


def test_audio_only_and_huge_and_empty(tmp_path):
    audio = tmp_path / "a.mp4"
    ff("-f", "lavfi", "-i", "sine=duration=1", "-c:a", "aac", str(audio))
    with pytest.raises(UnsupportedFormat, match="no video stream"):
        video.render(audio.read_bytes(), "mp4", LABEL, plan())
    src = make_clip(tmp_path / "in.mp4", seconds=1, audio=False, size="320x240")
    with pytest.raises(LimitExceeded, match="above the limit"):
        video.render(src.read_bytes(), "mp4", LABEL, plan(max_pixels=320 * 200))
    with pytest.raises(AigcTagError):
        video.render(b"", "mp4", LABEL, plan())


# --------------------------------------------------------------------------- with the carrier


def test_apply_layers_with_the_mp4_carrier(clip3):
    from aigc_tag.carriers import sniff

    src = clip3
    try:
        carrier = sniff(src.read_bytes()[:64])
    except AigcTagError:
        pytest.skip("no MP4 carrier yet (aigc_tag/carriers/isobmff.py)")
    if carrier.media_type != "video":
        pytest.skip("the MP4 carrier is not registered yet")
    p = plan(metadata=True)
    out = video.apply_layers(src.read_bytes(), carrier, LABEL, p)
    assert p.applied == ["visible", "watermark", "metadata"]
    assert carrier.read_extras(out)["Caption"] == p.declaration
    assert [f.parsed.fields for f in carrier.read_labels(out)] == [LABEL.as_dict()]
