"""FLV carrier: ffmpeg-made FLV (with a keyframe index), checked with ffprobe, exiftool, packets."""

from __future__ import annotations

import shutil

import pytest
from conftest import exiftool_json
from test_carrier_matroska import OLD, ffmpeg, ffprobe_tags, packets

from aigc_tag.carriers import flv, sniff
from aigc_tag.errors import CorruptContainer, UnsupportedFormat
from aigc_tag.label import AIGCLabel

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed")
LABEL = AIGCLabel.for_producer("001191110102MACQD9K64010000", "flv-1").to_json()
C = flv.CARRIER


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("flv") / "clip.flv"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc=s=160x120:d=1:r=10",
        "-f",
        "lavfi",
        "-i",
        "sine=d=1",
        "-c:v",
        "flv1",
        "-g",
        "3",
        "-c:a",
        "aac",
        "-shortest",
        "-flvflags",
        "add_keyframe_index",
        "-metadata",
        "comment=" + OLD,
        str(path),
    )
    return path


def nums(value) -> list[int]:
    return [int(x) for x in (value if isinstance(value, list) else str(value).split(", "))]


def test_write_read_external(clip, tmp_path):
    src = clip.read_bytes()
    assert sniff(src[:64]) is C
    assert [f.key for f in C.read_labels(src)] == ["comment"]
    out = C.write_label(C.write_label(src, OLD), LABEL, {"Caption": "video"})
    assert [(f.key, f.normative, f.raw) for f in C.read_labels(out)] == [("AIGC", True, LABEL)]
    assert C.read_extras(out) == {"Caption": "video"} and C.read_xmp(out) is None
    dst = tmp_path / "out.flv"
    dst.write_bytes(out)
    tags = ffprobe_tags(dst)
    assert tags["AIGC"] == LABEL and tags["AIGCTAG_Caption"] == "video" and "comment" not in tags
    assert packets(clip) == packets(dst)
    old, new = (exiftool_json(p, "-Flash:all") for p in (clip, dst))
    assert new["Flash:AIGC"] == LABEL
    delta = len(out) - len(src)
    assert new["Flash:FileSizeBytes"] == len(out)
    old_pos, new_pos = (nums(r["Flash:KeyFramePositions"]) for r in (old, new))
    assert new_pos == [p + delta for p in old_pos]
    for pos in new_pos:  # each position is a video key-frame tag header
        assert out[pos] == 9 and out[pos + 11] >> 4 == 1


def test_inserts_onmetadata_when_missing(clip):
    src = clip.read_bytes()
    meta = flv.tags(src)[0]
    bare = src[: meta.start] + src[meta.end :]
    out = C.write_label(bare, LABEL)
    assert [f.raw for f in C.read_labels(out)] == [LABEL]
    assert [t.type for t in flv.tags(out)][:1] == [18]


def test_truncated_and_wrong_sizes(clip):
    src = clip.read_bytes()
    for cut in (5, 20, len(src) // 2, len(src) - 2):
        with pytest.raises(CorruptContainer):
            C.write_label(src[:cut], LABEL)
    bad = bytearray(src)
    bad[14:17] = (0xFFFFFF).to_bytes(3, "big")  # first tag DataSize
    with pytest.raises(CorruptContainer):
        C.read_labels(bytes(bad))
    with pytest.raises(UnsupportedFormat):
        C.reencode(src, lambda im: im)
