"""WebP carrier: simple and extended files built with Pillow, checked with exiftool and OpenCV."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import UNSIGNED as SAMPLES
from conftest import aigc_values, needs_exiftool, needs_samples
from conftest import box_caption as caption
from conftest import exiftool_records as exiftool
from PIL import Image

from aigc_tag.carriers import webp
from aigc_tag.errors import AigcTagError
from aigc_tag.label import AIGCLabel

LABEL = AIGCLabel.for_producer("001191110102MACQD9K64010000", "webp-test-1").to_json()
OLD_LABEL = AIGCLabel.for_producer("001191440300708461136T1XGW3", "old-1").to_json()
CARRIER = webp.CARRIER
IMAGE_CHUNKS = (b"VP8 ", b"VP8L", b"ALPH", b"ANMF", b"ANIM")


def picture(mode: str, size: tuple[int, int] = (48, 32)) -> Image.Image:
    w, h = size
    x = np.linspace(0, 255, w, dtype=np.uint8)[None, :].repeat(h, 0)
    y = np.linspace(0, 255, h, dtype=np.uint8)[:, None].repeat(w, 1)
    planes = [x, y, 255 - x] + ([np.full_like(x, 128) + y // 2] if mode == "RGBA" else [])
    return Image.fromarray(np.stack(planes, axis=-1))


def encode(im: Image.Image, **kw: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "WEBP", **kw)
    return buf.getvalue()


def label_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    exif.get_ifd(0x8769)[0x9286] = b"ASCII\0\0\0" + OLD_LABEL.encode()
    return exif.tobytes()


def riff(*chunks: tuple[bytes, bytes]) -> bytes:
    body = b"".join(
        cc + struct.pack("<I", len(p)) + p + (b"\0" if len(p) & 1 else b"") for cc, p in chunks
    )
    return b"RIFF" + struct.pack("<I", len(body) + 4) + b"WEBP" + body


def raw_chunks(data: bytes, *fourccs: bytes) -> list[bytes]:
    return [c.raw(data) for c in webp.chunks(data) if c.fourcc in fourccs]


def opened(data: bytes) -> Image.Image:
    assert cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED) is not None
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


KINDS = {
    "lossy-rgb": ("RGB", {"quality": 80}, b"VP8 ", False),
    "lossless-rgb": ("RGB", {"lossless": True}, b"VP8L", False),
    "lossy-alpha": ("RGBA", {"quality": 80}, b"VP8 ", True),
    "lossless-alpha": ("RGBA", {"lossless": True}, b"VP8L", True),
}


@needs_exiftool
def test_write_label_on_simple_and_extended_files(tmp_path):
    paths, sources = [], {}
    for kind, (mode, opts, _, alpha) in KINDS.items():
        src = encode(picture(mode), **opts)
        out = CARRIER.write_label(CARRIER.write_label(src, LABEL), LABEL)
        first = webp.chunks(out)[0]
        assert first.fourcc == b"VP8X"
        flags, w1, h1 = first.payload(out)[0], out[24:27], out[27:30]
        assert flags & 0x04 and bool(flags & 0x10) == alpha
        assert (int.from_bytes(w1, "little") + 1, int.from_bytes(h1, "little") + 1) == (48, 32)
        assert raw_chunks(out, *IMAGE_CHUNKS) == raw_chunks(src, *IMAGE_CHUNKS)
        assert len(raw_chunks(out, b"XMP ")) == 1
        assert struct.unpack_from("<I", out, 4)[0] == len(out) - 8
        assert [f.carrier for f in CARRIER.read_labels(out)] == ["xmp"]
        assert opened(out).mode == mode
        paths.append(tmp_path / f"{kind}.webp")
        paths[-1].write_bytes(out)
        sources[kind] = src
    for rec in exiftool(*paths, args=("-XMP-TC260:all", "-validate", "-warning")):
        assert aigc_values(rec) == [LABEL]
        assert rec["ExifTool:Validate"] == "OK"


@pytest.mark.parametrize("prefixed", [False, True])
def test_exif_usercomment_label_is_read_and_blanked(prefixed):
    tiff = label_exif()
    if tiff.startswith(b"Exif\0\0"):
        tiff = tiff[6:]
    vp8l = webp.chunks(encode(picture("RGB"), lossless=True))[0]
    simple = encode(picture("RGB"), lossless=True)
    head = bytes([0x08, 0, 0, 0]) + (47).to_bytes(3, "little") + (31).to_bytes(3, "little")
    exif_payload = (b"Exif\0\0" if prefixed else b"") + tiff
    src = riff((b"VP8X", head), (b"VP8L", vp8l.payload(simple)), (b"EXIF", exif_payload))
    found = CARRIER.read_labels(src)
    assert [(f.carrier, f.parsed.fields["ProduceID"]) for f in found] == [
        ("exif-usercomment", "old-1")
    ]
    out = CARRIER.write_label(src, LABEL)
    assert [f.carrier for f in CARRIER.read_labels(out)] == ["xmp"]
    (exif,) = raw_chunks(out, b"EXIF")
    assert len(exif) == len(raw_chunks(src, b"EXIF")[0])
    assert exif[8:14] == (b"Exif\0\0" if prefixed else tiff[:6])
    assert opened(out).getexif()[0x010F] == "TestCam"


@pytest.mark.parametrize("kind", list(KINDS))
def test_reencode_keeps_kind_mode_and_metadata(kind):
    mode, opts, bitstream, _ = KINDS[kind]
    src_im = picture(mode)
    src = CARRIER.write_label(encode(src_im, exif=label_exif(), **opts), LABEL)
    out = CARRIER.reencode(src, caption)
    assert raw_chunks(out, b"EXIF", b"XMP ") == raw_chunks(src, b"EXIF", b"XMP ")
    assert raw_chunks(out, b"VP8 ", b"VP8L")[0][:4] == bitstream
    im = opened(out)
    assert (im.mode, im.size) == (mode, (48, 32))
    pixels = np.asarray(im).astype(int)
    assert pixels[3:7, 3:19].mean() >= 240
    if bitstream == b"VP8L":
        assert (pixels[10:] == np.asarray(src_im)[10:]).all()
    else:
        assert np.abs(pixels[12:] - np.asarray(src_im)[12:]).mean() < 6


def test_reencode_animation_captions_every_frame():
    frames = [picture("RGBA").rotate(a) for a in (0, 90, 180)]
    buf = io.BytesIO()
    frames[0].save(
        buf, "WEBP", save_all=True, append_images=frames[1:], duration=[100, 200, 300], loop=2
    )
    out = CARRIER.write_label(CARRIER.reencode(buf.getvalue(), caption), LABEL)
    im = opened(out)
    assert (im.n_frames, im.info["loop"]) == (3, 2)
    durations = []
    for i in range(3):
        im.seek(i)
        im.load()
        durations.append(im.info["duration"])
        assert np.asarray(im.convert("RGB"))[3:7, 3:19].mean() >= 240
    assert durations == [100, 200, 300]
    assert len(CARRIER.read_labels(out)) == 1


@needs_samples
@needs_exiftool
def test_third_party_samples(tmp_path):
    names = ("mars.webp", "test_xmp.webp")
    paths = []
    for name in names:
        src = (SAMPLES / name).read_bytes()
        assert CARRIER.read_labels(src) == []
        out = CARRIER.write_label(src, LABEL)
        keep = (*IMAGE_CHUNKS, b"ICCP", b"EXIF", b"PSAI")
        assert raw_chunks(out, *keep) == raw_chunks(src, *keep)
        redrawn = CARRIER.reencode(out, caption)
        assert raw_chunks(redrawn, b"ICCP", b"EXIF", b"XMP ") == raw_chunks(
            out, b"ICCP", b"EXIF", b"XMP "
        )
        assert opened(redrawn).size == Image.open(SAMPLES / name).size
        paths += [tmp_path / name, tmp_path / f"re-{name}"]
        paths[-2].write_bytes(out)
        paths[-1].write_bytes(redrawn)
    args = ("-XMP-TC260:all", "-XMP-dc:all", "-XMP-xmp:all", "-validate")
    records = exiftool(*(SAMPLES / n for n in names), *paths, args=args)
    before = {Path(r["SourceFile"]).name: r for r in records[:2]}
    for rec in records[2:]:
        assert aigc_values(rec) == [LABEL]
        orig = before[Path(rec["SourceFile"]).name.removeprefix("re-")]
        assert rec["ExifTool:Validate"] == orig["ExifTool:Validate"]
        for key, value in orig.items():  # earlier XMP properties survive the merge
            if key.startswith("XMP-"):
                assert rec[key] == value


def test_truncated_and_corrupt_inputs_raise_only_our_errors():
    good = CARRIER.write_label(encode(picture("RGBA"), lossless=True), LABEL)
    for cut in range(0, len(good), 23):
        for call in (CARRIER.read_labels, CARRIER.read_xmp):
            try:
                call(good[:cut])
            except AigcTagError:
                pass
        if cut < len(good):
            with pytest.raises(AigcTagError):
                CARRIER.write_label(good[:cut], LABEL)
    huge = bytearray(good)
    huge[16:20] = b"\xff\xff\xff\x7f"  # first chunk size far past the RIFF end
    with pytest.raises(AigcTagError):
        CARRIER.read_labels(bytes(huge))
    broken_vp8 = riff((b"VP8 ", b"\0" * 12))
    with pytest.raises(AigcTagError):
        CARRIER.write_label(broken_vp8, LABEL)
