"""TIFF carrier: append-only XMP write in IFD0, strip-transplant re-encode, limits."""

from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess

import cv2
import numpy as np
import pytest
from conftest import UNSIGNED as SAMPLES
from conftest import exiftool_json as exiftool
from PIL import Image, ImageCms, ImageDraw

from aigc_tag.carriers import _exif, tiff
from aigc_tag.errors import AigcTagError, CorruptContainer, UnsupportedFormat
from aigc_tag.label import AIGCLabel

C = tiff.CARRIER
PRODUCER = "001191110102MAD55U9H0F10002"
OLD_LABEL = '{"AIGC":{"Label":"2","ContentProducer":"old-producer","ProduceID":"old-id"}}'
ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def label_json(pid: str = "new-id") -> str:
    return AIGCLabel.for_producer(PRODUCER, pid).to_json()


def need_exiftool() -> None:
    if not shutil.which("exiftool"):
        pytest.skip("exiftool is not installed")


def picture(mode: str = "RGB", size: tuple[int, int] = (64, 48), seed: int = 3) -> Image.Image:
    rng = np.random.default_rng(seed)
    arr = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    return Image.fromarray(arr, "RGB").convert(mode)


@pytest.fixture
def rich_tiff(tmp_path) -> bytes:
    """Two-page LZW TIFF; exiftool adds Orientation 6, Make, dc:title and a UserComment label."""
    path = tmp_path / "src.tif"
    second = picture("L", (30, 20), seed=4)
    picture().save(
        path, compression="tiff_lzw", icc_profile=ICC, save_all=True, append_images=[second]
    )
    need_exiftool()
    subprocess.run(
        ["exiftool", "-q", "-overwrite_original", "-n", "-IFD0:Orientation=6",
         "-IFD0:Make=TestCam", "-XMP-dc:Title=Harbour", f"-UserComment={OLD_LABEL}", str(path)],
        check=True,
    )  # fmt: skip
    return path.read_bytes()


def strips(data: bytes, page: int = 0) -> list[bytes]:
    endian, ifd0 = tiff._ifd0(data)
    ifd = tiff._page_chain(data, endian, ifd0)[page]
    offs = tiff._ints(data, ifd.get(273), endian, "t")
    counts = tiff._ints(data, ifd.get(279), endian, "t")
    return [data[o : o + n] for o, n in zip(offs, counts, strict=True)]


def test_accept_classic_and_bigtiff_magic():
    assert C.accept(b"II*\0\x08\0\0\0") and C.accept(b"MM\0*\0\0\0\x08")
    assert C.accept(b"II+\0\x08\0\0\0")  # claimed, so the refusal names BigTIFF
    assert not C.accept(b"\xff\xd8\xff\xe0")


def test_read_labels(rich_tiff):
    (hit,) = C.read_labels(rich_tiff)
    assert hit.carrier == "exif-usercomment" and hit.location == "TIFF/ExifIFD/UserComment"
    assert hit.parsed.fields["ProduceID"] == "old-id"
    assert b"Harbour" in C.read_xmp(rich_tiff)


def test_write_label_is_append_only(rich_tiff, tmp_path):
    out = C.write_label(rich_tiff, label_json())
    (hit,) = C.read_labels(out)
    assert (hit.carrier, hit.location, hit.normative) == ("xmp", "IFD0/XMP", True)
    assert hit.parsed.strict and hit.parsed.fields["ProduceID"] == "new-id"
    assert b"old-id" not in out and b"old-producer" not in out
    # the original bytes stay where they were (only header pointer, old XMP, comment changed)
    assert len(out) > len(rich_tiff) and out[8:100] == rich_tiff[8:100]
    assert strips(out) == strips(rich_tiff) and strips(out, 1) == strips(rich_tiff, 1)
    endian, ifd0 = tiff._ifd0(out)
    assert ifd0.offset % 2 == 0 and ifd0.get(700).value_at % 2 == 0
    assert [e.tag for e in ifd0.entries] == sorted(e.tag for e in ifd0.entries)
    path = tmp_path / "out.tif"
    path.write_bytes(out)
    seen = exiftool(path, "-XMP-TC260:all", "-XMP-dc:Title", "-IFD0:Make", "-IFD0:Orientation",
                    "-ExifIFD:UserComment", "-ICC_Profile:ProfileDescription")  # fmt: skip
    assert json.loads(seen["XMP-TC260:Aigc"])["AIGC"]["ContentProducer"] == PRODUCER
    assert seen["XMP-dc:Title"] == "Harbour" and seen["IFD0:Make"] == "TestCam"
    assert seen["IFD0:Orientation"] == "Rotate 90 CW"
    assert seen["ICC_Profile:ProfileDescription"] == "sRGB built-in"
    assert "old" not in str(seen.get("ExifIFD:UserComment", ""))
    with Image.open(path) as im:
        assert im.n_frames == 2
        assert im.tobytes() == Image.open(io.BytesIO(rich_tiff)).tobytes()


def test_retagging_twice_leaves_exactly_one_copy(rich_tiff, tmp_path):
    twice = C.write_label(C.write_label(rich_tiff, label_json("first")), label_json("second"))
    assert len(C.read_labels(twice)) == 1
    assert twice.count(b"ProduceID") == 1 and b"first" not in twice
    path = tmp_path / "twice.tif"
    path.write_bytes(twice)
    seen = exiftool(path, "-XMP-TC260:all")
    assert [k for k in seen if k.startswith("XMP-TC260")] == ["XMP-TC260:Aigc"]
    assert json.loads(seen["XMP-TC260:Aigc"])["AIGC"]["ProduceID"] == "second"


def caption(im: Image.Image) -> Image.Image:
    im = im.copy()
    fill = 0 if im.mode == "L" else (255, 255, 255)
    ImageDraw.Draw(im).rectangle((0, 0, 15, 7), fill=fill)
    return im


def test_reencode_captions_every_page_and_keeps_tags(rich_tiff, tmp_path):
    out = C.reencode(rich_tiff, caption)
    assert C.read_xmp(out) == C.read_xmp(rich_tiff)  # kept for write_label to merge into
    assert len(C.read_labels(out)) == 1  # reencode leaves labels alone
    for page in (0, 1):  # old strips blanked: no uncaptioned copy left behind
        for old in strips(rich_tiff, page):
            at = rich_tiff.index(old)
            assert out[at : at + len(old)] == bytes(len(old))
    path = tmp_path / "re.tif"
    path.write_bytes(C.write_label(out, label_json()))
    with Image.open(path) as im:
        assert im.n_frames == 2 and im.info["compression"] == "tiff_lzw"
        assert im.info["icc_profile"] == ICC
        assert im.size == (48, 64)  # Pillow applies orientation 6 on load
        stored = _exif.from_display(im, 6)  # draw got the stored layout, as for JPEG
        assert stored.getpixel((3, 3)) == (255, 255, 255)
        assert stored.getpixel((40, 40)) != (255, 255, 255)
        im.seek(1)
        assert im.mode == "L" and im.size == (30, 20) and im.getpixel((3, 3)) == 0
    seen = exiftool(path, "-IFD0:Orientation", "-IFD0:Make", "-XMP-dc:Title", "-XMP-TC260:all")
    assert seen["IFD0:Orientation"] == "Rotate 90 CW" and seen["IFD0:Make"] == "TestCam"
    assert seen["XMP-dc:Title"] == "Harbour" and "XMP-TC260:Aigc" in seen
    decoded = cv2.imdecode(np.frombuffer(path.read_bytes(), np.uint8), cv2.IMREAD_UNCHANGED)
    assert decoded is not None


def test_reencode_palette_and_rgba():
    for mode in ("P", "RGBA", "CMYK"):
        buf = io.BytesIO()
        src_im = picture("RGB").convert(mode) if mode != "P" else picture().quantize(16)
        src_im.save(buf, "TIFF", compression="tiff_adobe_deflate")
        out = C.reencode(buf.getvalue(), caption)
        with Image.open(io.BytesIO(out)) as im:
            assert im.mode == mode and im.size == (64, 48)
            # untouched pixels are exactly the source's
            assert im.crop((20, 20, 64, 48)).tobytes() == src_im.crop((20, 20, 64, 48)).tobytes()


def test_bigtiff_is_refused_with_a_clear_message():
    big = b"II+\0\x08\0\0\0\x10\0\0\0\0\0\0\0" + bytes(32)
    for op in (C.read_labels, lambda d: C.write_label(d, label_json())):
        with pytest.raises(UnsupportedFormat, match="BigTIFF"):
            op(big)


def test_corrupt_inputs_raise_only_our_errors(rich_tiff):
    endian, ifd0 = tiff._ifd0(rich_tiff)
    looped = bytearray(rich_tiff)
    struct.pack_into(endian + "I", looped, ifd0.end - 4, ifd0.offset)
    with pytest.raises(CorruptContainer, match="loops"):
        C.reencode(bytes(looped), caption)
    cuts = sorted({*range(0, 64, 3), ifd0.offset + 5, ifd0.end - 2, len(rich_tiff) // 2})
    for cut in cuts:
        for op in (C.read_labels, C.read_xmp, lambda d: C.write_label(d, label_json())):
            try:
                op(rich_tiff[:cut])
            except AigcTagError:
                pass
    with pytest.raises(AigcTagError):
        C.reencode(rich_tiff[: len(rich_tiff) // 3], caption)
    with pytest.raises(AigcTagError):
        C.read_labels(b"II*\0\xff\xff\xff\x7f")


def sample(name: str) -> bytes:
    if not SAMPLES.is_dir():
        pytest.skip(f"third-party samples not present at {SAMPLES}")
    return (SAMPLES / name).read_bytes()


def test_third_party_bilevel_fax_tiff(tmp_path):
    src = sample("TUSCANY.TIF")
    out = C.write_label(C.reencode(src, caption), label_json())
    path = tmp_path / "fax.tif"
    path.write_bytes(out)
    with Image.open(path) as im, Image.open(io.BytesIO(src)) as old:
        assert (im.mode, im.size, im.info["compression"]) == ("1", (2550, 3300), "group4")
        assert im.getpixel((3, 3)) == 0 and old.getpixel((3, 3)) == 255
        diff = np.asarray(im) != np.asarray(old)
        assert diff[:8, :16].all() and not diff[8:, :].any() and not diff[:, 16:].any()
    seen = exiftool(path, "-XMP-TC260:all", "-IFD0:ResolutionUnit", "-IFD0:XResolution")
    assert json.loads(seen["XMP-TC260:Aigc"])["AIGC"]["ContentProducer"] == PRODUCER
    assert seen["IFD0:XResolution"] == 300
    assert cv2.imdecode(np.frombuffer(out, np.uint8), cv2.IMREAD_GRAYSCALE).shape == (3300, 2550)
