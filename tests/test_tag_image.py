"""Tagging images end to end, checked with readers other than our own (exiftool, Pillow, OpenCV)."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import PRODUCER, SAMPLES, encode, exiftool_json, photo
from PIL import Image, PngImagePlugin

import aigc_tag
from aigc_tag import Tagger
from aigc_tag.errors import AigcTagError, ExistingManifest, InvalidLabel, LimitExceeded
from aigc_tag.verify import Verdict, verify_bytes

IMAGE_SUFFIXES = {".jpg", ".png", ".webp", ".gif", ".tif"}
SAMPLE_FILES = sorted(p for p in SAMPLES.iterdir() if p.suffix in IMAGE_SUFFIXES)
WRITABLE_THIRDPARTY = [
    "IMG_0003.jpg", "libpng-test.png", "sample1.png", "mars.webp", "test_xmp.webp",
    "sample1.gif", "TUSCANY.TIF",
]  # fmt: skip


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def exif_label(path: Path) -> dict:
    """The AIGC label as exiftool reads it from XMP-TC260."""
    got = exiftool_json(path, "-XMP-TC260:all")
    values = [v for k, v in got.items() if k.lower().endswith(":aigc")]  # exiftool: "Aigc"
    assert len(values) == 1, got
    return json.loads(values[0])["AIGC"]


def open_everywhere(path: Path) -> Image.Image:
    im = Image.open(path)
    im.load()
    arr = cv2.imdecode(np.frombuffer(path.read_bytes(), np.uint8), cv2.IMREAD_UNCHANGED)
    if path.suffix.lower() != ".gif":  # OpenCV's imdecode has no GIF reader on every build
        assert arr is not None, f"OpenCV cannot decode {path}"
    return im


@pytest.mark.parametrize("src", SAMPLE_FILES, ids=lambda p: p.name)
def test_bundled_samples_tag_and_verify(src, tmp_path):
    before = sha(src)
    out = tmp_path / src.name
    result = Tagger(PRODUCER).tag_file(src, out)
    assert sha(src) == before, "input was modified"
    holds_mark = src.suffix != ".gif"  # a 256-colour palette cannot hold the mark
    expected = ["visible", "watermark", "metadata"] if holds_mark else ["visible", "metadata"]
    assert result.layers == expected, result.warnings
    if holds_mark:
        report = aigc_tag.verify(out)
        assert report.watermark["payload"]["hex"] == result.watermark_payload
    else:
        assert any("palette" in w for w in result.warnings)
    assert result.caption.ratio >= 0.05
    assert exif_label(out)["ProduceID"] == result.label.ProduceID
    tagged, original = open_everywhere(out), Image.open(src)
    assert (tagged.size, tagged.mode, tagged.format) == (
        original.size,
        original.mode,
        original.format,
    )
    assert aigc_tag.verify(out).verdict is Verdict.COMPLIANT


def test_thirdparty_images_tag_and_verify(thirdparty, tmp_path):
    for name in WRITABLE_THIRDPARTY:
        src = thirdparty / "unsigned" / name
        out = tmp_path / name
        result = Tagger(PRODUCER).tag_file(src, out)
        assert exif_label(out)["ProduceID"] == result.label.ProduceID, name
        open_everywhere(out)
        assert aigc_tag.verify(out).verdict is Verdict.COMPLIANT, name


@pytest.mark.parametrize("name", ["sample1.heic", "sample1.avif"])
def test_heif_untagged_is_not_found_and_metadata_only_tagging_keeps_the_coded_image(
    thirdparty, tmp_path, name
):
    src = thirdparty / "unsigned" / name
    assert aigc_tag.verify(src).verdict is Verdict.NOT_FOUND
    out = tmp_path / name
    Tagger(PRODUCER, visible=False, watermark=False).tag_file(src, out)
    assert aigc_tag.verify(out).verdict is Verdict.COMPLIANT
    # a container edit: the decoded picture is pixel for pixel the original's
    import numpy as np
    import pillow_heif
    from PIL import Image

    pillow_heif.register_heif_opener()
    with Image.open(src) as a, Image.open(out) as b:
        assert np.array_equal(np.asarray(a.convert("RGB")), np.asarray(b.convert("RGB")))


def test_exif_and_icc_survive_a_visible_tag(tmp_path):
    src = SAMPLES / "landscape.jpg"
    out = tmp_path / "landscape.jpg"
    Tagger(PRODUCER).tag_file(src, out)
    a, b = Image.open(src), Image.open(out)
    assert a.info["icc_profile"] == b.info["icc_profile"]
    assert a.getexif()[0x0131] == b.getexif()[0x0131] == "sample-generator 1.0"
    assert exiftool_json(out, "-EXIF:Software")["IFD0:Software"] == "sample-generator 1.0"
    assert a.quantization == b.quantization, "JPEG quality tables were not kept"


def test_metadata_only_keeps_pixels_byte_identical(tmp_path):
    for src in SAMPLE_FILES:
        out = tmp_path / src.name
        Tagger(PRODUCER, visible=False, watermark=False).tag_file(src, out)
        a, b = Image.open(src), Image.open(out)
        assert a.tobytes() == b.tobytes(), src.name
        if src.suffix == ".png":
            assert _idat(src.read_bytes()) == _idat(out.read_bytes())


def _idat(data: bytes) -> bytes:
    pos, out = 8, b""
    while pos < len(data):
        length, ctype = struct.unpack(">I4s", data[pos : pos + 8])
        if ctype == b"IDAT":
            out += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    return out


def test_retagging_replaces_never_appends(tmp_path):
    first, second = tmp_path / "a.png", tmp_path / "b.png"
    r1 = Tagger(PRODUCER, visible=False, watermark=False).tag_file(SAMPLES / "badge.png", first)
    r2 = Tagger(PRODUCER, visible=False, watermark=False).tag_file(first, second)
    assert exif_label(second)["ProduceID"] == r2.label.ProduceID != r1.label.ProduceID
    assert len(verify_bytes(second.read_bytes()).labels) == 1


def test_label_in_another_carrier_is_replaced():
    info = PngImagePlugin.PngInfo()
    old = aigc_tag.AIGCLabel.for_producer(PRODUCER, "old-id").to_json()
    info.add_text("AIGC", old)
    info.add_text("Comment", "keep me")
    data = encode(photo(), "PNG", pnginfo=info)
    out = aigc_tag.tag_bytes(
        data, producer=PRODUCER, produce_id="new-id", visible=False, watermark=False
    )
    report = verify_bytes(out)
    assert [lab["fields"]["ProduceID"] for lab in report.labels] == ["new-id"]
    assert Image.open(io.BytesIO(out)).info["Comment"] == "keep me"


def test_in_memory_pipeline_api():
    arr = np.asarray(photo(256, 128))
    out = aigc_tag.tag_image(arr, producer=PRODUCER, format="PNG", text="bilingual")
    assert verify_bytes(out).verdict is Verdict.COMPLIANT
    out2 = aigc_tag.tag_image(
        photo(), producer=PRODUCER, format="JPEG", save_options={"quality": 90}
    )
    assert Image.open(io.BytesIO(out2)).format == "JPEG"


def test_custom_text_needs_both_elements():
    with pytest.raises(InvalidLabel, match="生成|generation"):
        Tagger(PRODUCER, text="智枢AI")
    with pytest.raises(InvalidLabel):
        Tagger(PRODUCER, text="智枢生成")
    Tagger(PRODUCER, text="由智枢AI合成")


def test_producer_validation():
    with pytest.raises(InvalidLabel, match="check digit"):
        Tagger("001191440300708461136A1XGW3")
    assert Tagger("doubao").warnings  # accepted, with a warning
    with pytest.raises(InvalidLabel):
        Tagger("某某 公司")


def test_c2pa_signed_input_is_refused_unless_asked(thirdparty, tmp_path):
    src = thirdparty / "c2pa-signed" / "C.jpg"
    with pytest.raises(ExistingManifest, match="C2PA"):
        Tagger(PRODUCER).tag_file(src, tmp_path / "C.jpg")
    assert not (tmp_path / "C.jpg").exists()
    Tagger(PRODUCER, break_c2pa=True).tag_file(src, tmp_path / "C.jpg")
    assert aigc_tag.verify(tmp_path / "C.jpg").metadata_label


def test_truncated_input_fails_cleanly_without_output(tmp_path):
    src = tmp_path / "cut.jpg"
    src.write_bytes((SAMPLES / "landscape.jpg").read_bytes()[:3000])
    before = sha(src)
    with pytest.raises(AigcTagError, match="cut.jpg"):
        Tagger(PRODUCER).tag_file(src, tmp_path / "out" / "cut.jpg")
    assert sha(src) == before
    assert not list((tmp_path).glob("out/*"))


def _png_bomb() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    idat = chunk(b"IDAT", zlib.compress(b"\0" * 99))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + idat + chunk(b"IEND", b"")


def test_decompression_bomb_is_refused():
    with pytest.raises(LimitExceeded):
        aigc_tag.tag_bytes(_png_bomb(), producer=PRODUCER)


def test_in_place_rewrites_only_when_asked(tmp_path):
    target = tmp_path / "x.png"
    shutil.copy(SAMPLES / "badge.png", target)
    Tagger(PRODUCER).tag_file(target, in_place=True)
    assert verify_bytes(target.read_bytes()).verdict is Verdict.COMPLIANT
    with pytest.raises(AigcTagError, match="overwrite the input"):
        Tagger(PRODUCER).tag_file(target, target)


def test_caption_lands_where_the_viewer_sees_the_corner():
    """A JPEG stored sideways with EXIF Orientation 6 gets its caption at the displayed corner."""
    from PIL import ImageOps

    exif = Image.Exif()
    exif[0x0112] = 6
    data = encode(photo(400, 240), "JPEG", exif=exif, quality=95)
    out = aigc_tag.tag_bytes(data, producer=PRODUCER, position="bottom-right")
    before = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))), np.int16)
    after = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(out))), np.int16)
    assert before.shape == after.shape == (400, 240, 3)
    changed = np.abs(after - before).max(axis=2) > 40
    ys, xs = np.nonzero(changed)
    assert ys.min() > 400 * 0.6 and xs.min() > 240 * 0.4, "caption is not at the displayed corner"
