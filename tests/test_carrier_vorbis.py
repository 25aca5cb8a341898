"""FLAC / Ogg Vorbis / Ogg Opus carriers: ffmpeg-made files, read back by ffprobe, exiftool,
mutagen; decoded samples must not change."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import pytest
from conftest import exiftool_json
from mutagen.flac import FLAC, Picture

from aigc_tag.carriers import sniff, vorbis
from aigc_tag.errors import AigcTagError, CorruptContainer, UnsupportedFormat
from aigc_tag.label import AIGCLabel

LABEL = AIGCLabel.for_producer("001191110102MACQD9K64010000", "vc-test-1").to_json()
OLD_LABEL = AIGCLabel.for_producer("001191440300708461136T1XGW3", "old-1").to_json()
CODECS = {"flac": ("flac", ".flac"), "ogg": ("libvorbis", ".ogg"), "opus": ("libopus", ".opus")}


def ffmpeg(*args: str) -> bytes:
    cmd = ["ffmpeg", "-v", "error", "-y", *args]
    return subprocess.run(cmd, capture_output=True, check=True).stdout


@pytest.fixture(scope="module", params=sorted(CODECS))
def made(request, tmp_path_factory) -> tuple[str, Path]:
    name = request.param
    codec, ext = CODECS[name]
    path = tmp_path_factory.mktemp(name) / f"src{ext}"
    ffmpeg("-f", "lavfi", "-i", "sine=f=500:d=0.4", "-ac", "2", "-c:a", codec,
           "-metadata", "title=Keep", "-metadata", f"comment={OLD_LABEL}",
           "-metadata", "aigc=" + OLD_LABEL, str(path))  # fmt: skip
    return name, path


def decode(path: Path) -> bytes:
    return ffmpeg("-i", str(path), "-f", "s16le", "-")


def probe_tags(path: Path) -> dict:
    cmd = ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)]
    out = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    tags = dict(out["format"].get("tags", {}))
    for stream in out["streams"]:
        tags.update(stream.get("tags", {}))
    return {k.upper(): v for k, v in tags.items()}


def test_write_read_back(made, tmp_path):
    name, path = made
    src = path.read_bytes()
    carrier = sniff(src[:64])
    assert carrier.name == name and carrier.media_type == "audio"
    found = carrier.read_labels(src)
    assert sorted((f.key.upper(), f.normative) for f in found) == [
        ("AIGC", True),
        ("DESCRIPTION", False),
    ]
    out = carrier.write_label(src, LABEL, {"Caption": "one"})
    out = carrier.write_label(out, LABEL, {"Caption": "two", "Position": "start"})
    found = carrier.read_labels(out)
    assert [(f.key, f.normative, f.raw) for f in found] == [("AIGC", True, LABEL)]
    assert carrier.read_extras(out) == {"Caption": "two", "Position": "start"}
    assert carrier.read_xmp(out) is None and carrier.has_c2pa(out) is False
    dst = tmp_path / path.name
    dst.write_bytes(out)
    tags = probe_tags(dst)
    assert tags["AIGC"] == LABEL and tags["TITLE"] == "Keep" and "DESCRIPTION" not in tags
    rec = exiftool_json(dst, "-Vorbis:all", "-warning")
    assert rec["Vorbis:Aigc"] == LABEL and rec["Vorbis:Title"] == "Keep"
    assert "ExifTool:Warning" not in rec
    assert decode(dst) == decode(path)


def test_flac_picture_and_blocks_kept(tmp_path):
    src_path = tmp_path / "pic.flac"
    ffmpeg("-f", "lavfi", "-i", "sine=f=300:d=0.3", "-c:a", "flac", str(src_path))
    audio = FLAC(src_path)
    pic = Picture()
    pic.type, pic.mime, pic.desc, pic.data = 3, "image/png", "cover", b"\x89PNG fake"
    audio.add_picture(pic)
    audio["TITLE"] = "Pic"
    audio.save()
    src = src_path.read_bytes()
    out = vorbis.FLAC_CARRIER.write_label(src, LABEL)
    dst = tmp_path / "out.flac"
    dst.write_bytes(out)
    back = FLAC(dst)
    assert back.pictures[0].data == b"\x89PNG fake" and back["TITLE"] == ["Pic"]
    assert back["AIGC"] == [LABEL]
    assert back.info.md5_signature == FLAC(src_path).info.md5_signature
    before = [b.code for b in FLAC(src_path).metadata_blocks if b.code != 1]  # 1 = PADDING
    assert [b.code for b in back.metadata_blocks if b.code != 1] == before
    kinds = {type(b).__name__ for b in back.metadata_blocks}
    assert {"StreamInfo", "Picture", "VCFLACDict"} <= kinds
    rec = exiftool_json(dst, "-b", "-FLAC:all", "-Vorbis:Aigc")
    assert rec["Vorbis:Aigc"] == LABEL
    assert base64.b64decode(rec["FLAC:Picture"].removeprefix("base64:")) == b"\x89PNG fake"
    assert decode(dst) == decode(src_path)


def test_flac_without_comment_block(tmp_path):
    path = tmp_path / "bare.flac"
    ffmpeg("-f", "lavfi", "-i", "sine=d=0.2", "-c:a", "flac", "-map_metadata", "-1",
           "-fflags", "+bitexact", str(path))  # fmt: skip
    audio = FLAC(path)
    audio.delete()
    audio.save()
    src = path.read_bytes()
    out = vorbis.FLAC_CARRIER.write_label(src, LABEL)
    assert vorbis.FLAC_CARRIER.read_labels(out)[0].raw == LABEL


def test_sniff_and_errors(made):
    _, path = made
    src = sniff(path.read_bytes()[:64]).write_label(path.read_bytes(), LABEL)
    carrier = sniff(src[:64])
    others = (vorbis.FLAC_CARRIER, vorbis.OGG_CARRIER, vorbis.OPUS_CARRIER)
    assert [c.accept(src[:64]) for c in others].count(True) == 1
    with pytest.raises(UnsupportedFormat):
        carrier.read_labels(b"RIFF" + b"\0" * 100)
    with pytest.raises(CorruptContainer):
        carrier.write_label(src[:40], LABEL)
    for cut in range(0, min(len(src), 6000), 211):
        for call in (carrier.read_labels, carrier.read_extras):
            try:
                call(src[:cut])
            except AigcTagError:
                pass
        try:
            carrier.write_label(src[:cut], LABEL)
        except AigcTagError:
            pass
    with pytest.raises(UnsupportedFormat):
        carrier.reencode(src, lambda im: im)
