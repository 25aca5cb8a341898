"""GIF carrier: animated files built with Pillow, checked with exiftool, Pillow and OpenCV."""

from __future__ import annotations

import io
import json
import subprocess

import cv2
import numpy as np
import pytest
from conftest import UNSIGNED as SAMPLES
from conftest import aigc_values, needs_exiftool, needs_samples
from conftest import box_caption as caption
from conftest import exiftool_records as exiftool
from PIL import Image, ImageDraw

from aigc_tag.carriers import gif
from aigc_tag.errors import AigcTagError
from aigc_tag.label import AIGCLabel

LABEL = AIGCLabel.for_producer("001191110102MACQD9K64010000", "gif-test-1").to_json()
OLD_LABEL = AIGCLabel.for_producer("001191440300708461136T1XGW3", "old-1").to_json()
CARRIER = gif.CARRIER
DURATIONS = [50, 100, 150, 200]


def animation(comment: bytes = b"made by a test") -> bytes:
    """Four 40x30 frames, a transparent bottom-right square, loop 3, per-frame durations."""
    frames = []
    for i, colour in enumerate(("red", "green", "blue", "yellow")):
        frame = Image.new("RGBA", (40, 30), colour)
        ImageDraw.Draw(frame).rectangle([5 + 4 * i, 12, 15 + 4 * i, 20], fill="black")
        ImageDraw.Draw(frame).rectangle([30, 20, 39, 29], fill=(0, 0, 0, 0))
        frames.append(frame)
    buf = io.BytesIO()
    frames[0].save(
        buf,
        "GIF",
        save_all=True,
        append_images=frames[1:],
        duration=DURATIONS,
        loop=3,
        disposal=2,
        comment=comment,
    )
    return buf.getvalue()


def with_comment(data: bytes, text: bytes) -> bytes:
    """Insert a comment extension right after the header block."""
    header = gif.blocks(data)[0]
    return data[: header.end] + b"\x21\xfe" + bytes([len(text)]) + text + b"\0" + data[header.end :]


def frame_blocks(data: bytes) -> list[bytes]:
    return [b.raw(data) for b in gif.blocks(data) if b.kind == "image" or b.label == 0xF9]


def summary(data: bytes) -> tuple:
    assert cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED) is not None
    im = Image.open(io.BytesIO(data))
    durations = []
    for i in range(im.n_frames):
        im.seek(i)
        im.load()
        durations.append(im.info["duration"])
    return im.n_frames, im.info.get("loop"), durations


@needs_exiftool
def test_write_label_once_keeps_frames_and_drops_label_comment(tmp_path):
    src = with_comment(animation(), OLD_LABEL.encode())
    found = CARRIER.read_labels(src)
    assert [(f.carrier, f.normative) for f in found] == [("blob", False)]
    out = CARRIER.write_label(CARRIER.write_label(src, LABEL), LABEL)
    assert frame_blocks(out) == frame_blocks(src)
    assert [f.carrier for f in CARRIER.read_labels(out)] == ["xmp"]
    assert sum(b.app_id == gif.XMP_ID for b in gif.blocks(out)) == 1
    assert summary(out) == (4, 3, DURATIONS)
    assert Image.open(io.BytesIO(out)).info["comment"] == b"made by a test"
    path = tmp_path / "tagged.gif"
    path.write_bytes(out)
    (rec,) = exiftool(path, args=("-XMP-TC260:all", "-validate", "-Comment"))
    assert aigc_values(rec) == [LABEL]
    assert rec["ExifTool:Validate"] == "OK"
    assert OLD_LABEL not in json.dumps(rec)


def test_xmp_goes_after_loop_extension_and_before_first_frame():
    out = CARRIER.write_label(animation(), LABEL)
    names = [(b.label, b.app_id) for b in gif.blocks(out) if b.kind == "extension"]
    assert names.index((0xFF, b"NETSCAPE2.0")) < names.index((0xFF, gif.XMP_ID))
    assert names.index((0xFF, gif.XMP_ID)) < names.index((0xF9, b""))
    xmp = CARRIER.read_xmp(out)
    assert xmp.startswith(b"<?xpacket") and xmp.endswith(b"?>")
    assert out.index(gif.MAGIC_TRAILER) + len(gif.MAGIC_TRAILER) < len(out)


@needs_exiftool
def test_existing_xmp_from_exiftool_is_merged(tmp_path):
    path = tmp_path / "titled.gif"
    path.write_bytes(animation())
    subprocess.run(
        ["exiftool", "-q", "-overwrite_original", "-XMP-dc:Title=Kept title", str(path)],
        check=True,
    )
    src = path.read_bytes()
    out = CARRIER.write_label(src, LABEL)
    path.write_bytes(out)
    (rec,) = exiftool(path, args=("-XMP-TC260:all", "-XMP-dc:Title", "-validate"))
    assert rec["XMP-dc:Title"] == "Kept title"
    assert aigc_values(rec) == [LABEL]
    assert rec["ExifTool:Validate"] == "OK"


def test_gif87a_is_upgraded():
    buf = io.BytesIO()
    Image.new("P", (8, 8)).save(buf, "GIF")
    src = buf.getvalue()
    assert src[:6] == b"GIF87a"
    out = CARRIER.write_label(src, LABEL)
    assert out[:6] == b"GIF89a" and len(CARRIER.read_labels(out)) == 1


def test_reencode_captions_every_frame_and_keeps_timing():
    src = CARRIER.write_label(animation(), LABEL)
    out = CARRIER.reencode(src, caption)
    assert summary(out) == (4, 3, DURATIONS)
    im = Image.open(io.BytesIO(out))
    assert im.info["comment"] == b"made by a test"
    for i in range(4):
        im.seek(i)
        rgba = np.asarray(im.convert("RGBA"))
        assert (rgba[2:8, 2:20] == 255).all()
        assert (rgba[21:29, 31:39, 3] == 0).all()  # transparency kept
    assert CARRIER.read_xmp(out) == CARRIER.read_xmp(src)  # tagger's write_label merges later


@needs_samples
@needs_exiftool
def test_third_party_sample(tmp_path):
    src = (SAMPLES / "sample1.gif").read_bytes()
    assert CARRIER.read_labels(src) == []
    tagged = CARRIER.write_label(src, LABEL)
    assert frame_blocks(tagged) == frame_blocks(src)
    redrawn = CARRIER.write_label(CARRIER.reencode(tagged, caption), LABEL)
    before = summary(src)
    for data in (tagged, redrawn):
        n, loop, durations = summary(data)
        assert (loop, sum(durations)) == (before[1], sum(before[2]))
    paths = [tmp_path / "tagged.gif", tmp_path / "redrawn.gif"]
    paths[0].write_bytes(tagged)
    paths[1].write_bytes(redrawn)
    for rec in exiftool(*paths, args=("-XMP-TC260:all", "-validate")):
        assert aigc_values(rec) == [LABEL]
        assert rec["ExifTool:Validate"] == "OK"


def test_truncated_and_corrupt_inputs_raise_only_our_errors():
    good = CARRIER.write_label(animation(), LABEL)
    for cut in range(0, len(good), 17):
        for call in (CARRIER.read_labels, CARRIER.read_xmp):
            try:
                call(good[:cut])
            except AigcTagError:
                pass
        with pytest.raises(AigcTagError):
            CARRIER.write_label(good[:cut], LABEL)
    bad = bytearray(good)
    bad[gif.blocks(good)[1].start] = 0x99  # not an introducer
    with pytest.raises(AigcTagError, match="introducer"):
        CARRIER.read_labels(bytes(bad))
