"""Matroska/WebM carrier: ffmpeg-made files, checked with ffprobe, exiftool and packet hashes."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from conftest import exiftool_json

from aigc_tag.carriers import matroska, sniff
from aigc_tag.errors import AigcTagError, CorruptContainer, UnsupportedFormat
from aigc_tag.label import AIGCLabel

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed")
LABEL = AIGCLabel.for_producer("001191110102MACQD9K64010000", "mkv-test-1").to_json()
OLD = AIGCLabel.for_producer("001191440300708461136T1XGW3", "old-1").to_json()
SRC = ["-f", "lavfi", "-i", "testsrc=s=160x120:d=1:r=5", "-f", "lavfi", "-i", "sine=d=1"]


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True, timeout=60)


def packets(path) -> list[str]:
    cmd = ["ffmpeg", "-v", "error", "-i", str(path), "-map", "0", "-c", "copy", "-f", "framemd5"]
    out = subprocess.run([*cmd, "-"], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if not line.startswith("#")]


def ffprobe_tags(path) -> dict:
    cmd = ["ffprobe", "-v", "error", "-show_format", "-of", "json", str(path)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out)["format"].get("tags", {})


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    d = tmp_path_factory.mktemp("mkv")
    ffmpeg(
        *SRC,
        "-c:v",
        "mpeg4",
        "-c:a",
        "mp2",
        "-shortest",
        "-metadata",
        "comment=" + OLD,
        "-metadata",
        "AIGC=" + OLD,
        str(d / "tagged.mkv"),
    )
    ffmpeg("-i", str(d / "tagged.mkv"), "-c", "copy", "-map_metadata", "-1", str(d / "plain.mkv"))
    ffmpeg(
        *SRC,
        "-c:v",
        "libvpx",
        "-b:v",
        "50k",
        "-deadline",
        "realtime",
        "-c:a",
        "libopus",
        "-shortest",
        str(d / "clip.webm"),
    )
    return d


@pytest.mark.parametrize("name", ["tagged.mkv", "plain.mkv", "clip.webm"])
def test_write_read_and_external_readers(videos, tmp_path, name):
    src = (videos / name).read_bytes()
    carrier = sniff(src[:64])
    assert carrier is (matroska.WEBM if name.endswith("webm") else matroska.CARRIER)
    out = carrier.write_label(carrier.write_label(src, OLD), LABEL, {"Caption": "video"})
    found = carrier.read_labels(out)
    assert [(f.key, f.normative, f.raw) for f in found] == [("AIGC", True, LABEL)]
    assert carrier.read_extras(out) == {"Caption": "video"}
    assert carrier.read_xmp(out) is None and not carrier.has_c2pa(out)
    assert matroska.doc_type(out) == ("webm" if name.endswith("webm") else "matroska")
    dst = tmp_path / name
    dst.write_bytes(out)
    tags = ffprobe_tags(dst)
    assert tags["AIGC"] == LABEL and tags["AIGCTAG_Caption"] == "video"
    assert "comment" not in tags  # the blob copy was removed
    assert packets(videos / name) == packets(dst)
    record = exiftool_json(dst, "-ee", "-Matroska:all")  # -ee: Tags after the clusters
    assert record["Matroska:Aigc"] == LABEL
    # Cues/clusters did not move: every level-1 element before the old end keeps its offset.
    old = [(e.id, e.start) for e in matroska.level1(src).elements if e.id != matroska.TAGS]
    new = {(e.id, e.start) for e in matroska.level1(out).elements}
    assert all(o in new or o[0] == matroska.VOID for o in old)


def test_rewrite_is_stable_and_in_place(videos):
    src = (videos / "plain.mkv").read_bytes()
    once = matroska.CARRIER.write_label(src, LABEL)
    twice = matroska.CARRIER.write_label(once, LABEL)
    assert len(once) == len(twice) and [f.raw for f in matroska.CARRIER.read_labels(twice)] == [
        LABEL
    ]


def test_truncated_and_bad_sizes(videos):
    src = (videos / "tagged.mkv").read_bytes()
    for cut in (20, 60, 300, len(src) // 2, len(src) - 3):
        with pytest.raises(CorruptContainer):
            matroska.CARRIER.write_label(src[:cut], LABEL)
    with pytest.raises(UnsupportedFormat):
        matroska.CARRIER.read_labels(b"RIFF" + b"\0" * 60)
    with pytest.raises(UnsupportedFormat):
        matroska.CARRIER.reencode(src, lambda im: im)
    bad = bytearray(src)
    tags = next(e for e in matroska.level1(src).elements if e.id == matroska.TAGS)
    bad[tags.start + 4] = 0x01  # the Tags size becomes 8 bytes wide: runs past the Segment
    with pytest.raises(AigcTagError):
        matroska.CARRIER.read_labels(bytes(bad))
