"""M4A/MP4 carrier: ffmpeg-made files, checked against ffmpeg's own mdta output and read back by
ffprobe, exiftool and mutagen; decoded audio/video must stay identical."""

from __future__ import annotations

import functools
import io
import json
import struct
import subprocess
from pathlib import Path

import pytest
from conftest import exiftool_json
from mutagen.mp4 import MP4, MP4FreeForm

from aigc_tag import xmp as xmp_mod
from aigc_tag.carriers import isobmff, sniff
from aigc_tag.errors import AigcTagError, CorruptContainer, UnsupportedFormat
from aigc_tag.label import AIGCLabel

LABEL = AIGCLabel.for_producer("001191110102MACQD9K64010000", "m4a-test-1").to_json()
OLD_LABEL = AIGCLabel.for_producer("001191440300708461136T1XGW3", "old-1").to_json()
M4A = isobmff.M4A_CARRIER
MP4_ = isobmff.MP4_CARRIER


def ffmpeg(*args: str) -> bytes:
    cmd = ["ffmpeg", "-v", "error", "-y", *args]
    return subprocess.run(cmd, capture_output=True, check=True).stdout


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("m4a")
    paths = {k: root / f"{k}.m4a" for k in ("fast", "slow", "bare", "ffmpeg_label")}
    tone = ("-f", "lavfi", "-i", "sine=f=440:d=0.5", "-c:a", "aac", "-b:a", "64k")
    meta = ("-metadata", "title=Keep title", "-metadata", "artist=Keep artist")
    ffmpeg(*tone, *meta, "-movflags", "+faststart", str(paths["fast"]))
    ffmpeg(*tone, *meta, str(paths["slow"]))
    ffmpeg(*tone, "-map_metadata", "-1", "-fflags", "+bitexact", str(paths["bare"]))
    ffmpeg("-i", str(paths["bare"]), "-c", "copy", "-metadata", f"AIGC={LABEL}",
           "-movflags", "use_metadata_tags", str(paths["ffmpeg_label"]))  # fmt: skip
    return paths


@functools.lru_cache(maxsize=32)
def decode(path: Path) -> bytes:
    return ffmpeg("-i", str(path), "-map", "0:a", "-f", "framemd5", "-")


def probe_tags(path: Path) -> dict:
    cmd = ["ffprobe", "-v", "error", "-show_format", "-of", "json", str(path)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out)["format"].get("tags", {})


def top_types(data: bytes) -> list[bytes]:
    return [b.type for b in isobmff.boxes(data)]


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("kind", ["fast", "slow"])
def test_write_read_back_and_decode(made, tmp_path, kind):
    src_path = made[kind]
    src = src_path.read_bytes()
    assert sniff(src[:64]) is M4A and isobmff.is_audio_only(src)
    order = top_types(src)
    assert (order.index(b"moov") < order.index(b"mdat")) == (kind == "fast")
    out = M4A.write_label(M4A.write_label(src, OLD_LABEL), LABEL, {"Caption": "spoken"})
    assert top_types(out) == order
    found = M4A.read_labels(out)
    assert [(f.key, f.normative, f.raw) for f in found] == [("AIGC", True, LABEL)]
    assert M4A.read_extras(out) == {"Caption": "spoken"}
    path = write(tmp_path, f"{kind}.m4a", out)
    tags = probe_tags(path)
    assert tags["AIGC"] == LABEL and tags["aigctag:Caption"] == "spoken"
    assert (tags["title"], tags["artist"]) == ("Keep title", "Keep artist")
    rec = exiftool_json(path, "-Keys:all", "-ItemList:all", "-warning")
    assert rec["Keys:AIGC"] == LABEL and rec["ItemList:Title"] == "Keep title"
    assert "ExifTool:Warning" not in rec
    back = MP4(path)
    assert back.tags["\xa9nam"] == ["Keep title"] and back.tags["\xa9ART"] == ["Keep artist"]
    assert decode(path) == decode(src_path)
    mdat = [b for b in isobmff.boxes(out) if b.type == b"mdat"][0]
    old_mdat = [b for b in isobmff.boxes(src) if b.type == b"mdat"][0]
    assert mdat.payload(out) == old_mdat.payload(src)


def test_bytes_match_ffmpeg_use_metadata_tags(made):
    ours = M4A.write_label(made["bare"].read_bytes(), LABEL)
    theirs = made["ffmpeg_label"].read_bytes()

    def label_boxes(data: bytes) -> tuple[bytes, bytes, bytes]:
        moov = isobmff._moov(data, isobmff.boxes(data))
        udta = isobmff._first(isobmff._children(data, moov), b"udta")
        metas = [b for b in isobmff._children(data, udta) if b.type == b"meta"]
        meta = next(m for m in metas if isobmff._is_mdta(data, m))
        prefix, children = isobmff._meta_children(data, meta)
        hdlr = isobmff._first(children, b"hdlr").raw(data)
        keys = isobmff._keys(data, isobmff._first(children, b"keys"))
        index = [name for _, name in keys].index("AIGC") + 1
        ilst = isobmff._first(children, b"ilst")
        item = next(b for b in isobmff._children(data, ilst) if b.type == index.to_bytes(4, "big"))
        return prefix, hdlr, item.payload(data)

    assert label_boxes(ours) == label_boxes(theirs)
    assert [(f.key, f.raw) for f in M4A.read_labels(theirs)] == [("AIGC", LABEL)]
    replaced = M4A.write_label(theirs, LABEL)
    assert len(M4A.read_labels(replaced)) == 1
    assert len(replaced) == len(theirs)  # same key count, same sizes


def _uuid_xmp(label: str) -> bytes:
    packet = xmp_mod.new_packet(label)
    return struct.pack(">I4s", 24 + len(packet), b"uuid") + isobmff.XMP_UUID + packet


def test_non_primary_copies_removed(made, tmp_path):
    """iTunes freeform + ©cmt with JSON (mutagen), a QuickTime udta ©cmt, a top-level XMP uuid
    before moov (so its shrinking shifts chunk offsets too)."""
    buf = io.BytesIO(made["fast"].read_bytes())
    tags = MP4(buf)
    tags["----:com.apple.iTunes:AIGC"] = [MP4FreeForm(OLD_LABEL.encode())]
    tags["\xa9cmt"] = [OLD_LABEL]
    tags["\xa9day"] = ["2026"]
    buf.seek(0)
    tags.save(buf)
    data = buf.getvalue()
    top = isobmff.boxes(data)
    moov = isobmff._moov(data, top)
    # a QuickTime text atom in udta, and an XMP uuid box in front of moov
    children = isobmff._children(data, moov)
    udta = isobmff._first(children, b"udta")
    qt_text = OLD_LABEL.encode()
    atom = isobmff._make(b"\xa9inf", struct.pack(">HH", len(qt_text), 0x55C4) + qt_text)
    new_udta = isobmff._make(b"udta", udta.payload(data) + atom)
    body = b"".join(new_udta if c is udta else c.raw(data) for c in children)
    new_moov = isobmff._make(b"moov", body)
    grow = len(new_moov) - (moov.end - moov.start) + len(_uuid_xmp(OLD_LABEL))
    new_moov = isobmff._shift_offsets(new_moov, lambda o: o + grow)
    src = data[: moov.start] + _uuid_xmp(OLD_LABEL) + new_moov + data[moov.end :]
    src_path = write(tmp_path, "copies.m4a", src)
    assert decode(src_path) == decode(made["fast"])
    found = M4A.read_labels(src)
    assert sorted(f.carrier for f in found) == ["mp4-itunes", "mp4-itunes", "mp4-udta-text", "xmp"]
    assert not any(f.normative for f in found)
    assert M4A.read_xmp(src) is not None
    out = M4A.write_label(src, LABEL)
    assert [(f.carrier, f.raw) for f in M4A.read_labels(out)] == [("mp4-mdta", LABEL)]
    path = write(tmp_path, "out.m4a", out)
    back = MP4(path).tags
    assert "----:com.apple.iTunes:AIGC" not in back and "\xa9cmt" not in back
    assert back["\xa9day"] == ["2026"] and back["\xa9nam"] == ["Keep title"]
    assert b"TC260:AIGC" not in M4A.read_xmp(out)
    assert probe_tags(path)["AIGC"] == LABEL
    assert decode(path) == decode(made["fast"])


def test_co64_and_64bit_mdat(made, tmp_path):
    """stco rewritten as co64 (moov first) and, separately, a 64-bit mdat header (moov last)."""
    data = made["fast"].read_bytes()
    top = isobmff.boxes(data)
    moov = isobmff._moov(data, top)
    raw = moov.raw(data)
    at = raw.index(b"stco") - 4
    size, _, vf, count = struct.unpack_from(">I4sII", raw, at)
    offsets = struct.unpack_from(f">{count}I", raw, at + 16)
    grow = 4 * count
    co64 = struct.pack(">I4sII", size + grow, b"co64", vf, count)
    co64 += struct.pack(f">{count}Q", *(o + grow for o in offsets))
    new_raw = raw[:at] + co64 + raw[at + size :]
    new_raw = _fix_sizes(raw, new_raw, at, grow)
    src = data[: moov.start] + new_raw + data[moov.end :]
    src_path = write(tmp_path, "co64.m4a", src)
    assert decode(src_path) == decode(made["fast"])
    out = M4A.write_label(src, LABEL)
    assert decode(write(tmp_path, "co64-out.m4a", out)) == decode(made["fast"])

    slow = made["slow"].read_bytes()
    top = isobmff.boxes(slow)
    free, mdat = top[1], top[2]
    assert (free.type, free.end - free.start, mdat.type) == (b"free", 8, b"mdat")
    big = struct.pack(">I4sQ", 1, b"mdat", mdat.end - free.start)
    src = slow[: free.start] + big + slow[mdat.body :]
    assert isobmff.boxes(src)[1].type == b"mdat"
    out = M4A.write_label(src, LABEL)
    assert decode(write(tmp_path, "big.m4a", out)) == decode(made["slow"])
    assert M4A.read_labels(out)[0].raw == LABEL


def _fix_sizes(moov: bytes, new: bytes, at: int, grow: int) -> bytes:
    """Grow every box of ``new`` whose range in ``moov`` contains ``at`` (the edited stco)."""
    out = bytearray(new)

    def visit(start: int, end: int) -> None:
        for box in isobmff.boxes(moov, start, end):
            if box.start < at < box.end:
                size = struct.unpack_from(">I", out, box.start)[0]
                struct.pack_into(">I", out, box.start, size + grow)
                if box.type in (b"trak", b"mdia", b"minf", b"stbl"):
                    visit(box.body, box.end)

    struct.pack_into(">I", out, 0, len(new))
    visit(8, len(moov))
    return bytes(out)


def test_sniff_and_video(thirdparty, made):
    assert sniff(made["fast"].read_bytes()[:64]) is M4A
    mov = thirdparty / "unsigned" / "C-recorded-as-mov.mov"
    heic = thirdparty / "unsigned" / "sample1.heic"
    signed = thirdparty / "c2pa-signed" / "video1.mp4"
    if heic.exists():
        assert sniff(heic.read_bytes()[:64]).name == "heif"
    if not (mov.exists() and signed.exists()):
        pytest.skip("video samples absent")
    src = mov.read_bytes()
    assert sniff(src[:64]) is MP4_ and MP4_.media_type == "video"
    out = MP4_.write_label(src, LABEL)
    found = MP4_.read_labels(out)
    assert [(f.location, f.raw) for f in found] == [("moov/meta/keys[5]", LABEL)]
    vid = signed.read_bytes()
    assert MP4_.has_c2pa(vid) and not M4A.has_c2pa(made["fast"].read_bytes())
    out = MP4_.write_label(vid, LABEL)
    uuids = [b.raw(vid) for b in isobmff.boxes(vid) if b.type == b"uuid"]
    assert [b.raw(out) for b in isobmff.boxes(out) if b.type == b"uuid"] == uuids
    assert MP4_.has_c2pa(out)


def test_mov_label_read_by_ffprobe(thirdparty, tmp_path):
    mov = thirdparty / "unsigned" / "C-recorded-as-mov.mov"
    if not mov.exists():
        pytest.skip("mov sample absent")
    path = write(tmp_path, "t.mov", MP4_.write_label(mov.read_bytes(), LABEL))
    tags = probe_tags(path)
    assert tags["AIGC"] == LABEL and tags["com.apple.quicktime.make"] == "Apple"


def test_corrupt_inputs(made):
    data = M4A.write_label(made["fast"].read_bytes(), LABEL)
    with pytest.raises(CorruptContainer, match="declares"):
        M4A.write_label(data[:500], LABEL)
    bad = bytearray(data)
    struct.pack_into(">I", bad, 0, 4)  # ftyp size below its header
    with pytest.raises(CorruptContainer, match="too small"):
        M4A.read_labels(bytes(bad))
    moov_at = data.index(b"moov") - 4
    bad = bytearray(data)
    struct.pack_into(">I", bad, moov_at, 0xFFFFFF00)
    with pytest.raises(CorruptContainer):
        M4A.write_label(bytes(bad), LABEL)
    with pytest.raises(UnsupportedFormat):
        M4A.read_labels(b"\0" * 64)
    no_moov = data[:moov_at] + isobmff._make(b"free", b"\0" * 16)
    with pytest.raises(CorruptContainer, match="no moov"):
        M4A.read_labels(no_moov)
    for cut in range(0, len(data), 53):
        for call in (M4A.read_labels, M4A.read_xmp, M4A.read_extras, M4A.has_c2pa):
            try:
                call(data[:cut])
            except AigcTagError:
                pass
    with pytest.raises(UnsupportedFormat):
        M4A.reencode(data, lambda im: im)
