"""AVI carrier: ffmpeg-made and third-party AVI, checked with ffprobe, exiftool and packets."""

from __future__ import annotations

import shutil
import struct

import pytest
from conftest import exiftool_json
from test_carrier_matroska import OLD, ffmpeg, ffprobe_tags, packets

from aigc_tag.carriers import avi, sniff
from aigc_tag.errors import CorruptContainer, UnsupportedFormat
from aigc_tag.label import AIGCLabel

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed")
LABEL = AIGCLabel.for_producer("001191110102MACQD9K64010000", "avi-test-1").to_json()
C = avi.CARRIER


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("avi") / "clip.avi"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc=s=160x120:d=1:r=5",
        "-f",
        "lavfi",
        "-i",
        "sine=d=1",
        "-c:v",
        "mpeg4",
        "-c:a",
        "mp2",
        "-shortest",
        "-metadata",
        "comment=" + OLD,
        str(path),
    )
    return path


def check(src_path, out: bytes, tmp_path) -> None:
    dst = tmp_path / "out.avi"
    dst.write_bytes(out)
    assert [(f.key, f.normative, f.raw) for f in C.read_labels(out)] == [("AIGC", True, LABEL)]
    assert ffprobe_tags(dst)["AIGC"] == LABEL
    assert packets(src_path) == packets(dst)
    # exiftool has no name for the INFO id AIGC: it shows it as an unknown tag (-u).
    record = exiftool_json(dst, "-u", "-b", "-RIFF:Unknown_AIGC", "-XMP-aigctag:all")
    assert record["RIFF:Unknown_AIGC"].rstrip("\0") == LABEL


def test_in_place_before_movi(clip, tmp_path):
    src = clip.read_bytes()
    assert sniff(src[:64]) is C
    assert [f.key for f in C.read_labels(src)] == ["ICMT"]  # ffmpeg's comment holds a blob
    out = C.write_label(C.write_label(src, OLD), LABEL, {"Caption": "video"})
    movi = lambda d: next(c.start for c in avi.chunks(d) if c.form == b"movi")  # noqa: E731
    assert movi(out) == movi(src)
    assert C.read_extras(out) == {"Caption": "video"}
    check(clip, out, tmp_path)


def test_appended_after_idx1_when_no_room(clip, tmp_path):
    src = clip.read_bytes()
    big = AIGCLabel.for_producer("001191110102MACQD9K64010000", "x" * 1500).to_json()
    out = C.write_label(src, big)
    chunks = avi.chunks(out)
    assert chunks[-1].form == b"INFO" and avi.chunks(src)[-1].fourcc == b"idx1"
    global LABEL
    LABEL, saved = big, LABEL
    try:
        dst = tmp_path / "out.avi"
        dst.write_bytes(out)
        assert ffprobe_tags(dst)["AIGC"] == big and packets(clip) == packets(dst)
        assert [f.raw for f in C.read_labels(out)] == [big]
    finally:
        LABEL = saved


def test_thirdparty_avi(thirdparty, tmp_path):
    path = thirdparty / "unsigned" / "test.avi"
    out = C.write_label(path.read_bytes(), LABEL)
    check(path, out, tmp_path)


def test_truncated_and_wrong_sizes(clip):
    src = clip.read_bytes()
    for cut in (10, 100, len(src) // 2, len(src) - 1):
        with pytest.raises(CorruptContainer):
            C.write_label(src[:cut], LABEL)
    bad = src[:4] + struct.pack("<I", len(src) * 2) + src[8:]
    with pytest.raises(CorruptContainer):
        C.read_labels(bad)
    with pytest.raises(UnsupportedFormat):
        C.reencode(src, lambda im: im)
