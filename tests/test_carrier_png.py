"""PNG carrier: real files built with Pillow, checked with exiftool, Pillow and OpenCV."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import UNSIGNED as SAMPLES
from conftest import aigc_values, needs_exiftool, needs_samples
from conftest import box_caption as caption
from conftest import exiftool_records as exiftool
from PIL import Image, ImageCms, PngImagePlugin

from aigc_tag.carriers import png
from aigc_tag.errors import AigcTagError, LimitExceeded, UnsupportedFormat
from aigc_tag.label import AIGCLabel

LABEL = AIGCLabel.for_producer("001191110102MACQD9K64010000", "png-test-1").to_json()
OLD_LABEL = AIGCLabel.for_producer("001191440300708461136T1XGW3", "old-1").to_json()
TITLE_XMP = (
    '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
    '<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Sunset test</rdf:li></rdf:Alt></dc:title>'
    "</rdf:Description></rdf:RDF></x:xmpmeta>"
    '<?xpacket end="w"?>'
)
CARRIER = png.CARRIER


def encode(im: Image.Image, **kw: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG", **kw)
    return buf.getvalue()


def gradient(size: tuple[int, int] = (48, 32)) -> np.ndarray:
    w, h = size
    x = np.linspace(0, 255, w, dtype=np.uint8)[None, :].repeat(h, 0)
    y = np.linspace(0, 255, h, dtype=np.uint8)[:, None].repeat(w, 1)
    return np.stack([x, y, 255 - x], axis=-1)


def label_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    exif.get_ifd(0x8769)[0x9286] = b"ASCII\0\0\0" + OLD_LABEL.encode()
    return exif.tobytes()


def rich_png() -> bytes:
    """RGB with iCCP, eXIf (label UserComment), tEXt Comment, XMP dc:title, tEXt AIGC, caBX."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "keep me")
    info.add_itxt("XML:com.adobe.xmp", TITLE_XMP)
    info.add_text("AIGC", OLD_LABEL)
    info.add(b"caBX", b"private c2pa-like payload")
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return encode(Image.fromarray(gradient()), pnginfo=info, icc_profile=icc, exif=label_exif())


def chunk_bytes(data: bytes, ctype: bytes) -> list[bytes]:
    return [c.raw(data) for c in png.chunks(data) if c.type == ctype]


def idat(data: bytes) -> bytes:
    return b"".join(chunk_bytes(data, b"IDAT"))


def opens_everywhere(data: bytes) -> Image.Image:
    assert cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED) is not None
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def test_reads_all_three_places():
    found = CARRIER.read_labels(rich_png())
    assert sorted(f.carrier for f in found) == ["exif-usercomment", "png-text"]
    text = next(f for f in found if f.carrier == "png-text")
    assert (text.key, text.normative, text.parsed.fields["ProduceID"]) == ("AIGC", False, "old-1")


@needs_exiftool
def test_write_keeps_everything_else_and_leaves_one_copy(tmp_path):
    src = rich_png()
    out = CARRIER.write_label(CARRIER.write_label(src, LABEL), LABEL)
    path = tmp_path / "rich.png"
    path.write_bytes(out)
    found = CARRIER.read_labels(out)
    assert [(f.carrier, f.normative) for f in found] == [("xmp", True)]
    assert found[0].parsed.fields["ProduceID"] == "png-test-1"
    (rec,) = exiftool(path, args=("-XMP-TC260:all", "-XMP-dc:Title", "-PNG:all", "-UserComment"))
    assert aigc_values(rec) == [LABEL]
    assert rec["XMP-dc:Title"] == "Sunset test"
    assert "PNG:AIGC" not in rec and rec["PNG:Comment"] == "keep me"
    assert not rec.get("ExifIFD:UserComment", "").strip()
    assert idat(out) == idat(src)
    for ctype in (b"iCCP", b"caBX", b"tEXt", b"IHDR"):
        kept = [c for c in chunk_bytes(src, ctype) if b"AIGC" not in c[8:12]]
        assert chunk_bytes(out, ctype) == kept
    assert len(chunk_bytes(out, b"iTXt")) == 1
    assert len(chunk_bytes(out, b"eXIf")[0]) == len(chunk_bytes(src, b"eXIf")[0])
    opens_everywhere(out)


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "P"])
def test_new_xmp_goes_before_idat(mode):
    src = encode(Image.fromarray(gradient()).convert(mode))
    out = CARRIER.write_label(src, LABEL)
    types = [c.type for c in png.chunks(out)]
    assert types.index(b"iTXt") < types.index(b"IDAT")
    assert idat(out) == idat(src)
    assert CARRIER.read_xmp(out).count(b"TC260:AIGC>") == 2  # open and close tag
    opens_everywhere(out)


def test_compressed_label_text_is_read_and_dropped():
    info = PngImagePlugin.PngInfo()
    info.add_text("AIGC", OLD_LABEL, zip=True)
    info.add_itxt("MyAIGC", OLD_LABEL, zip=True)
    src = encode(Image.new("RGB", (8, 8)), pnginfo=info)
    found = CARRIER.read_labels(src)
    assert [(f.location, f.key) for f in found] == [("zTXt[1]", "AIGC"), ("iTXt[2]", "MyAIGC")]
    assert all(f.parsed.strict for f in found)
    out = CARRIER.write_label(src, LABEL)
    assert [f.carrier for f in CARRIER.read_labels(out)] == ["xmp"]


def test_reencode_rgb_splices_original_chunks():
    src = CARRIER.write_label(rich_png(), LABEL)
    out = CARRIER.reencode(src, caption)
    for ctype in (b"iCCP", b"caBX", b"tEXt", b"iTXt", b"eXIf"):
        assert chunk_bytes(out, ctype) == chunk_bytes(src, ctype)
    order = [c.type for c in png.chunks(out) if c.type != b"IDAT"]
    assert order == [c.type for c in png.chunks(src) if c.type != b"IDAT"]
    im = opens_everywhere(out)
    assert (im.mode, im.size) == ("RGB", (48, 32))
    pixels, before = np.asarray(im), gradient()
    assert (pixels[1:9, 1:21] == 255).all()
    assert (pixels[10:] == before[10:]).all()


def test_reencode_rgba_keeps_alpha():
    arr = np.dstack([gradient(), np.tile(np.arange(48, dtype=np.uint8) * 5, (32, 1))])
    out = CARRIER.reencode(encode(Image.fromarray(arr)), caption)
    im = opens_everywhere(out)
    assert im.mode == "RGBA"
    assert (np.asarray(im)[10:] == arr[10:]).all()


def test_reencode_palette_keeps_original_palette_and_transparency():
    src_im = Image.fromarray(gradient()).quantize(16)
    src_im.info["transparency"] = 3
    src = encode(src_im, transparency=3)
    out = CARRIER.reencode(src, caption)
    im = opens_everywhere(out)
    assert im.mode == "P"
    old_pal = src_im.getpalette()[: 16 * 3]
    assert im.getpalette()[: len(old_pal)] == old_pal  # white appended, nothing reordered
    assert (np.asarray(im)[10:] == np.asarray(src_im)[10:]).all()
    rgba = np.asarray(im.convert("RGBA"))
    assert (rgba[2, 2] == 255).all()
    assert (rgba[10:, :, 3] == np.asarray(src_im.convert("RGBA"))[10:, :, 3]).all()


def test_reencode_full_palette_maps_to_nearest():
    src_im = Image.fromarray(gradient()).quantize(256)
    out = CARRIER.reencode(encode(src_im), caption)
    im = opens_everywhere(out)
    assert im.getpalette() == src_im.getpalette()
    assert (np.asarray(im)[10:] == np.asarray(src_im)[10:]).all()


def test_reencode_16bit_gray_keeps_precision():
    values = (np.arange(32 * 48, dtype=np.uint32).reshape(32, 48) * 41 + 7).astype(np.uint16)
    src = encode(Image.fromarray(values))
    assert struct.unpack_from(">B", src, 24)[0] == 16
    out = CARRIER.reencode(src, caption)
    decoded = cv2.imdecode(np.frombuffer(out, np.uint8), cv2.IMREAD_UNCHANGED)
    assert decoded.dtype == np.uint16 and decoded.shape == (32, 48)
    assert (decoded[10:] == values[10:]).all()  # untouched pixels keep all 16 bits
    assert (decoded[1:9, 1:21] == 65535).all()
    assert opens_everywhere(out).mode == "I;16"


def test_reencode_16bit_rgba_via_opencv():
    rgba = (np.random.default_rng(1).integers(0, 65535, (20, 30, 4))).astype(np.uint16)
    ok, buf = cv2.imencode(".png", rgba)  # BGRA order in, colour type 6 depth 16 out
    out = CARRIER.reencode(buf.tobytes(), caption)
    decoded = cv2.imdecode(np.frombuffer(out, np.uint8), cv2.IMREAD_UNCHANGED)
    assert out[24:26] == b"\x10\x06"
    assert (decoded[10:] == rgba[10:]).all()


def test_apng_reencode_is_refused_but_tagging_works():
    frames = [Image.new("RGB", (16, 16), c) for c in ("red", "blue")]
    buf = io.BytesIO()
    frames[0].save(buf, "PNG", save_all=True, append_images=frames[1:], duration=100)
    src = buf.getvalue()
    with pytest.raises(UnsupportedFormat, match="APNG"):
        CARRIER.reencode(src, caption)
    out = CARRIER.write_label(src, LABEL)
    assert Image.open(io.BytesIO(out)).n_frames == 2
    assert len(CARRIER.read_labels(out)) == 1


@needs_samples
@needs_exiftool
def test_third_party_samples(tmp_path):
    paths = []
    for name in ("libpng-test.png", "sample1.png"):
        src = (SAMPLES / name).read_bytes()
        assert CARRIER.read_labels(src) == []
        out = CARRIER.write_label(src, LABEL)
        assert idat(out) == idat(src)
        tagged = tmp_path / name
        tagged.write_bytes(out)
        redrawn = tmp_path / f"re-{name}"
        redrawn.write_bytes(CARRIER.reencode(out, caption))
        before, after = opens_everywhere(out), opens_everywhere(redrawn.read_bytes())
        assert (after.mode, after.size, after.info.keys()) == (
            before.mode,
            before.size,
            before.info.keys(),
        )
        paths += [tagged, redrawn]
    originals = [SAMPLES / "libpng-test.png", SAMPLES / "sample1.png"]
    records = exiftool(*originals, *paths, args=("-XMP-TC260:all", "-warning"))
    warnings = {Path(r["SourceFile"]).name: r.get("ExifTool:Warning") for r in records[:2]}
    for rec in records[2:]:
        assert aigc_values(rec) == [LABEL]
        name = Path(rec["SourceFile"]).name.removeprefix("re-")
        assert rec.get("ExifTool:Warning") == warnings[name]  # no new warning


def test_truncated_and_corrupt_inputs_raise_only_our_errors():
    good = CARRIER.write_label(rich_png(), LABEL)
    for cut in range(0, len(good), 37):
        for call in (CARRIER.read_labels, CARRIER.read_xmp):
            try:
                call(good[:cut])
            except AigcTagError:
                pass
        with pytest.raises(AigcTagError):
            CARRIER.write_label(good[:cut], LABEL)
    flipped = bytearray(good)
    flipped[33:37] = b"\x7f\xff\xff\xf0"  # iCCP length far past the end
    with pytest.raises(AigcTagError):
        CARRIER.read_labels(bytes(flipped))


def test_text_bomb_is_refused():
    bomb = b"AIGC\0\0" + zlib.compress(b"\0" * (png.MAX_TEXT_BYTES + 10), 9)
    head = png.MAGIC + png._make_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    data = head + png._make_chunk(b"zTXt", bomb) + png._make_chunk(b"IEND", b"")
    with pytest.raises(LimitExceeded):
        CARRIER.read_labels(data)
