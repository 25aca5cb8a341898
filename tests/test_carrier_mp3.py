"""MP3 carrier: ffmpeg-encoded files, mutagen tags; read back by ffprobe, exiftool, mutagen."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pytest
from conftest import exiftool_json
from mutagen.id3 import APIC, COMM, GEOB, ID3, PRIV, TIT2, TXXX
from mutagen.mp3 import MP3

from aigc_tag import xmp as xmp_mod
from aigc_tag.carriers import id3, sniff
from aigc_tag.errors import AigcTagError, CorruptContainer, UnsupportedFormat
from aigc_tag.label import AIGCLabel

LABEL = AIGCLabel.for_producer("001191110102MACQD9K64010000", "mp3-test-1").to_json()
OLD_LABEL = AIGCLabel.for_producer("001191440300708461136T1XGW3", "old-1").to_json()
CARRIER = id3.CARRIER


def ffmpeg(*args: str) -> bytes:
    cmd = ["ffmpeg", "-v", "error", *args]
    return subprocess.run(cmd, capture_output=True, check=True).stdout


@pytest.fixture(scope="module")
def bare_mp3(tmp_path_factory) -> bytes:
    """Raw MPEG frames, no tag at all."""
    path = tmp_path_factory.mktemp("mp3") / "bare.mp3"
    ffmpeg("-f", "lavfi", "-i", "sine=f=330:d=0.6", "-c:a", "libmp3lame", "-b:a", "64k",
           "-write_xing", "0", "-id3v2_version", "0", str(path))  # fmt: skip
    return path.read_bytes()


def tagged(bare: bytes, version: int, *frames: object, v1: bool = False) -> bytes:
    tags = ID3()
    for f in frames:
        tags.add(f)
    buf = io.BytesIO(bare)
    if version == 3:
        tags.update_to_v23()
    tags.save(buf, v2_version=version, v1=2 if v1 else 0)
    return buf.getvalue()


def decode(data: bytes, tmp_path: Path, name: str) -> bytes:
    path = tmp_path / name
    path.write_bytes(data)
    return ffmpeg("-i", str(path), "-f", "s16le", "-")


def ffprobe_tags(path: Path) -> dict:
    cmd = ["ffprobe", "-v", "error", "-show_format", "-of", "json", str(path)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out)["format"].get("tags", {})


def rich_frames() -> list[object]:
    return [
        TIT2(encoding=1, text="Song"),
        APIC(encoding=0, mime="image/png", type=3, desc="cover", data=b"\x89PNG fake"),
        COMM(encoding=0, lang="eng", desc="", text="keep me"),
        COMM(encoding=0, lang="eng", desc="x", text=OLD_LABEL),
        PRIV(owner="com.example", data=b"\x00\x01private"),
        PRIV(owner="XMP", data=xmp_mod.new_packet(OLD_LABEL)),
        TXXX(encoding=0, desc="aigc", text=OLD_LABEL),
        GEOB(encoding=0, mime="application/octet-stream", filename="f", desc="d", data=b"blob"),
    ]


def test_sniff(bare_mp3):
    assert sniff(bare_mp3[:64]) is CARRIER
    assert sniff(tagged(bare_mp3, 3)[:64]) is CARRIER
    assert not CARRIER.accept(b"\xff\xf1\x50\x80")  # ADTS AAC: layer bits 00


@pytest.mark.parametrize("version", [3, 4])
def test_rich_tag_keeps_frames_and_version(bare_mp3, tmp_path, version):
    src = tagged(bare_mp3, version, *rich_frames(), v1=True)
    found = CARRIER.read_labels(src)
    assert {f.carrier for f in found} == {"xmp", "id3-comm", "id3-txxx"}
    out = CARRIER.write_label(CARRIER.write_label(src, OLD_LABEL), LABEL, {"Caption": "spoken"})
    assert out[3] == version
    found = CARRIER.read_labels(out)
    assert [(f.key, f.normative, f.raw) for f in found] == [("TXXX:AIGC", True, LABEL)]
    assert CARRIER.read_extras(out) == {"Caption": "spoken"}
    assert out[id3.tag_end(out) :] == src[id3.tag_end(src) :]  # audio and ID3v1 byte for byte
    path = tmp_path / f"rich{version}.mp3"
    path.write_bytes(out)
    tags = MP3(path).tags
    assert str(tags["TIT2"]) == "Song" and tags["APIC:cover"].data == b"\x89PNG fake"
    assert [str(c) for c in tags.getall("COMM")] == ["keep me"]
    assert tags["PRIV:com.example:\x00\x01private"].data == b"\x00\x01private"
    assert tags.getall("GEOB")[0].data == b"blob"
    assert [f.desc for f in tags.getall("TXXX")] == ["AIGC"]
    assert ffprobe_tags(path)["AIGC"] == LABEL
    rec = exiftool_json(path, f"-ID3v2_{version}:all", "-XMP:all", "-ID3v1:all", "-warning")
    assert rec[f"ID3v2_{version}:UserDefinedText"] == f"(AIGC) {LABEL}"
    assert rec["XMP-aigctag:Caption"] == "spoken" and "XMP-TC260:AIGC" not in rec
    assert rec["ID3v1:Title"] == "Song" and "ExifTool:Warning" not in rec
    assert decode(out, tmp_path, "o.mp3") == decode(src, tmp_path, "i.mp3")


def test_untagged_gets_v23_tag(bare_mp3, tmp_path):
    assert CARRIER.read_labels(bare_mp3) == [] and CARRIER.read_xmp(bare_mp3) is None
    out = CARRIER.write_label(bare_mp3, LABEL)
    assert out[:4] == b"ID3\x03" and out[id3.tag_end(out) :] == bare_mp3
    path = tmp_path / "new.mp3"
    path.write_bytes(out)
    assert ffprobe_tags(path)["AIGC"] == LABEL
    assert decode(out, tmp_path, "o.mp3") == decode(bare_mp3, tmp_path, "i.mp3")


def test_non_ascii_label(bare_mp3):
    label = LABEL.replace("mp3-test-1", "测试")
    for version in (3, 4):
        out = CARRIER.write_label(tagged(bare_mp3, version), label)
        assert CARRIER.read_labels(out)[0].raw == label


def test_c2pa_geob(bare_mp3):
    geob = GEOB(encoding=0, mime="application/c2pa", filename="c2pa", desc="c2pa", data=b"jumb")
    src = tagged(bare_mp3, 3, geob)
    assert CARRIER.has_c2pa(src) and not CARRIER.has_c2pa(bare_mp3)
    out = CARRIER.write_label(src, LABEL)
    assert CARRIER.has_c2pa(out)


def test_truncated_and_corrupt(bare_mp3):
    data = CARRIER.write_label(tagged(bare_mp3, 4, *rich_frames()), LABEL)
    with pytest.raises(CorruptContainer, match="ID3v2 tag truncated"):
        CARRIER.read_labels(data[:200])
    with pytest.raises(CorruptContainer, match="header truncated"):
        CARRIER.write_label(data[:6], LABEL)
    with pytest.raises(UnsupportedFormat):
        CARRIER.read_labels(b"\0" * 100)
    for cut in range(0, 1500, 23):
        for call in (CARRIER.read_labels, CARRIER.read_xmp, CARRIER.has_c2pa):
            try:
                call(data[:cut])
            except AigcTagError:
                pass
    with pytest.raises(UnsupportedFormat):
        CARRIER.reencode(data, lambda im: im)


def test_third_party_v24_sample(thirdparty, tmp_path):
    path = thirdparty / "unsigned" / "sample1.mp3"
    if not path.exists():
        pytest.skip("sample1.mp3 absent")
    src = path.read_bytes()
    assert src[3] == 4 and CARRIER.read_labels(src) == []
    before = MP3(path).tags
    out = CARRIER.write_label(src, LABEL)
    assert out[3] == 4 and out[id3.tag_end(out) :] == src[id3.tag_end(src) :]
    dst = tmp_path / "sample1.mp3"
    dst.write_bytes(out)
    after = MP3(dst).tags
    assert sorted(after.keys()) == sorted([*before.keys(), "TXXX:AIGC"])
    assert ffprobe_tags(dst)["AIGC"] == LABEL
    rec = exiftool_json(dst, "-ID3v2_4:UserDefinedText", "-warning")
    assert rec["ID3v2_4:UserDefinedText"] == f"(AIGC) {LABEL}"
