"""JPEG carrier: label in XMP APP1, other copies removed, everything else byte-identical."""

from __future__ import annotations

import hashlib
import io
import json

import cv2
import numpy as np
import pytest
from conftest import UNSIGNED as SAMPLES
from conftest import exiftool_json as exiftool
from PIL import Image, ImageCms, ImageDraw, ImageOps, JpegImagePlugin

from aigc_tag.carriers import jpeg
from aigc_tag.errors import AigcTagError, CorruptContainer, LimitExceeded
from aigc_tag.label import AIGCLabel

C = jpeg.CARRIER
PRODUCER = "001191110102MAD55U9H0F10002"
OLD_LABEL = '{"AIGC":{"Label":"2","ContentProducer":"old-producer","ProduceID":"old-id"}}'
TITLE_XMP = (
    b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
    b'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Harbour at dusk</rdf:li></rdf:Alt>'
    b'</dc:title></rdf:Description></rdf:RDF></x:xmpmeta>\n<?xpacket end="w"?>'
)
ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def label_json(pid: str = "new-id") -> str:
    return AIGCLabel.for_producer(PRODUCER, pid).to_json()


def picture(mode: str = "RGB", size: tuple[int, int] = (96, 64)) -> Image.Image:
    rng = np.random.default_rng(7)
    arr = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    return Image.fromarray(arr, "RGB").convert(mode)


def exif_bytes(orientation: int = 6, comment: str | None = OLD_LABEL) -> bytes:
    ex = Image.Exif()
    ex[0x010F] = "TestCam"
    ex[0x0112] = orientation
    if comment is not None:
        ex.get_ifd(0x8769)[0x9286] = b"ASCII\0\0\0" + comment.encode()
    return ex.tobytes()


def insert_after_soi(data: bytes, *segments: bytes) -> bytes:
    return data[:2] + b"".join(segments) + data[2:]


def app(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + (len(payload) + 2).to_bytes(2, "big") + payload


@pytest.fixture
def rich_jpeg() -> bytes:
    """EXIF (orientation 6, UserComment label), ICC, XMP with dc:title, APP10 blob, COM blob."""
    buf = io.BytesIO()
    picture().save(buf, "JPEG", quality=80, exif=exif_bytes(), icc_profile=ICC, xmp=TITLE_XMP)
    blob_only = app(0xEA, b"AIGC" + OLD_LABEL[8:-1].encode())  # bare AIGC{...}
    com = app(0xFE, b"made with care " + OLD_LABEL.encode() + b" thanks")
    return insert_after_soi(buf.getvalue(), blob_only, com)


def scan_and_tables(data: bytes) -> bytes:
    """The non-APPn/COM segments plus everything from SOS on: the image data."""
    segs, scan = jpeg.segments(data)
    kept = [data[s.header : s.end] for s in segs if not s.is_app_or_com]
    return b"".join(kept) + data[scan:]


def app_payloads(data: bytes, marker: int) -> list[bytes]:
    return [s.body(data) for s in jpeg.segments(data)[0] if s.marker == marker]


def test_accept_by_magic_only():
    assert C.accept(b"\xff\xd8\xff\xe0\x00\x10JFIF")
    assert not C.accept(b"\x89PNG\r\n\x1a\n")
    assert C.name == "jpeg" and C.mime == "image/jpeg" and ".jpe" in C.extensions


def test_read_labels_finds_every_copy(rich_jpeg):
    found = C.read_labels(rich_jpeg)
    kinds = sorted((f.carrier, f.location) for f in found)
    assert ("exif-usercomment", "APP1[3]/Exif/ExifIFD/UserComment") in kinds
    assert ("blob", "APP10[0]") in kinds
    assert ("blob", "COM[1]") in kinds
    assert not any(f.carrier == "xmp" for f in found)
    for f in found:
        assert f.parsed.fields["ProduceID"] == "old-id"
        if f.carrier == "blob":
            assert rich_jpeg[f.offset : f.offset + f.length].decode() == f.raw


def test_write_label_merges_and_removes_other_copies(rich_jpeg, tmp_path):
    out = C.write_label(rich_jpeg, label_json())
    found = C.read_labels(out)
    assert [(f.carrier, f.location, f.normative) for f in found] == [("xmp", "APP1[3]/XMP", True)]
    assert found[0].parsed.strict and found[0].parsed.fields["ProduceID"] == "new-id"
    assert b"old-id" not in out and b"old-producer" not in out
    # the COM segment keeps its own text, the blob-only APP10 is gone
    assert app_payloads(out, 0xEA) == []
    (com,) = app_payloads(out, 0xFE)
    assert com.startswith(b"made with care ") and com.endswith(b" thanks")
    # image data and ICC byte-identical, dc:title and orientation still there
    assert scan_and_tables(out) == scan_and_tables(rich_jpeg)
    assert app_payloads(out, 0xE2) == app_payloads(rich_jpeg, 0xE2)
    path = tmp_path / "out.jpg"
    path.write_bytes(out)
    seen = exiftool(path, "-XMP-TC260:all", "-XMP-dc:Title", "-IFD0:all", "-ExifIFD:UserComment")
    assert json.loads(seen["XMP-TC260:Aigc"])["AIGC"]["ContentProducer"] == PRODUCER
    assert seen["XMP-dc:Title"] == "Harbour at dusk"
    assert seen["IFD0:Make"] == "TestCam" and seen["IFD0:Orientation"] == "Rotate 90 CW"
    assert "old" not in str(seen.get("ExifIFD:UserComment", ""))


def test_retagging_twice_leaves_exactly_one_copy(rich_jpeg, tmp_path):
    once = C.write_label(rich_jpeg, label_json("first"))
    twice = C.write_label(once, label_json("second"))
    assert len(C.read_labels(twice)) == 1
    assert twice.count(b"ProduceID") == 1 and b"first" not in twice
    path = tmp_path / "twice.jpg"
    path.write_bytes(twice)
    seen = exiftool(path, "-XMP-TC260:all")
    labels = [k for k in seen if k.startswith("XMP-TC260")]
    assert labels == ["XMP-TC260:Aigc"]
    assert json.loads(seen["XMP-TC260:Aigc"])["AIGC"]["ProduceID"] == "second"


def test_new_xmp_goes_after_app0_and_exif():
    buf = io.BytesIO()
    picture().save(buf, "JPEG", exif=exif_bytes(comment=None))
    src = buf.getvalue()
    out = C.write_label(src, label_json())
    names = [(s.name, s.body(out)[:4]) for s in jpeg.segments(out)[0]][:3]
    assert names == [("APP0", b"JFIF"), ("APP1", b"Exif"), ("APP1", b"http")]
    assert scan_and_tables(out) == scan_and_tables(src)
    assert C.read_xmp(out).startswith(b"<?xpacket")
    assert C.read_xmp(src) is None


def test_outputs_open_in_pillow_and_opencv(rich_jpeg):
    for data in (C.write_label(rich_jpeg, label_json()), C.reencode(rich_jpeg, lambda im: im)):
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            assert im.size == (96, 64)
        assert cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) is not None


def caption(im: Image.Image) -> Image.Image:
    im = im.copy()
    ImageDraw.Draw(im).rectangle((0, 0, 15, 7), fill="white")
    return im


def test_reencode_keeps_tables_metadata_and_draws_on_stored_pixels(rich_jpeg):
    src = Image.open(io.BytesIO(rich_jpeg))
    seen_sizes = []

    def spy(im: Image.Image) -> Image.Image:
        seen_sizes.append((im.size, im.mode))
        return caption(im)

    out = C.reencode(rich_jpeg, spy)
    assert seen_sizes == [((96, 64), "RGB")]  # stored layout: the caller handles orientation
    new = Image.open(io.BytesIO(out))
    assert (new.size, new.mode) == (src.size, src.mode)
    assert new.quantization == src.quantization
    assert JpegImagePlugin.get_sampling(new) == JpegImagePlugin.get_sampling(src)
    for marker in (0xE1, 0xE2, 0xEA, 0xFE):  # Exif+XMP, ICC, APP10, COM: byte for byte
        assert app_payloads(out, marker) == app_payloads(rich_jpeg, marker)
    assert new.getexif()[0x0112] == 6
    assert min(new.getpixel((3, 3))) > 230 and max(src.getpixel((3, 3))) < 250
    assert ImageOps.exif_transpose(new).size == (64, 96)


def test_reencode_grayscale_cmyk_and_progressive():
    for mode, opts in (("L", {}), ("CMYK", {}), ("RGB", {"progressive": True})):
        buf = io.BytesIO()
        picture(mode).save(buf, "JPEG", quality=90, **opts)
        src = buf.getvalue()
        out = C.reencode(src, caption)
        new = Image.open(io.BytesIO(out))
        assert new.mode == mode and new.size == (96, 64)
        assert new.quantization == Image.open(io.BytesIO(src)).quantization
        assert bool(new.info.get("progressive")) == bool(opts)
        adobe = [s for s in jpeg.segments(out)[0] if s.name == "APP14"]
        assert len(adobe) == (1 if mode == "CMYK" else 0)


def test_oversized_xmp_is_refused():
    buf = io.BytesIO()
    picture().save(buf, "JPEG")
    big = TITLE_XMP.replace(b"Harbour at dusk", b"x" * 65000)
    src = insert_after_soi(buf.getvalue(), app(0xE1, jpeg.XMP_ID + big))
    with pytest.raises(LimitExceeded, match="65502"):
        C.write_label(src, label_json())


def test_extended_xmp_label_is_read_and_removed():
    ext = TITLE_XMP.replace(b"</rdf:Description>", b"</rdf:Description>" + tc260_desc(OLD_LABEL))
    guid = hashlib.md5(ext).hexdigest().upper().encode()
    main = TITLE_XMP.replace(
        b'rdf:about=""',
        b'rdf:about="" xmlns:xmpNote="http://ns.adobe.com/xmp/note/" '
        b'xmpNote:HasExtendedXMP="' + guid + b'"',
    )
    half = len(ext) // 2
    chunks = [
        app(
            0xE1,
            jpeg.EXT_XMP_ID + guid + len(ext).to_bytes(4, "big") + off.to_bytes(4, "big") + part,
        )
        for off, part in ((0, ext[:half]), (half, ext[half:]))
    ]
    buf = io.BytesIO()
    picture().save(buf, "JPEG")
    src = insert_after_soi(buf.getvalue(), app(0xE1, jpeg.XMP_ID + main), *chunks)
    (hit,) = C.read_labels(src)
    assert hit.location.endswith("/ExtendedXMP") and hit.parsed.fields["ProduceID"] == "old-id"
    out = C.write_label(src, label_json())
    found = C.read_labels(out)
    assert [f.location for f in found] == ["APP1[0]/XMP"]
    assert b"old-id" not in out
    new_guid = C.read_xmp(out).split(b'HasExtendedXMP="')[1][:32]
    assert new_guid != guid and new_guid in out


def tc260_desc(value: str) -> bytes:
    return (
        b'<rdf:Description rdf:about="" xmlns:TC260="http://www.tc260.org.cn/ns/AIGC/1.0/">'
        b"<TC260:AIGC>" + value.encode() + b"</TC260:AIGC></rdf:Description>"
    )


def test_truncated_and_corrupt_inputs_raise_only_our_errors(rich_jpeg):
    segs, scan = jpeg.segments(rich_jpeg)
    with pytest.raises(CorruptContainer, match="APP"):
        C.read_labels(rich_jpeg[: segs[2].end - 10])
    cuts = sorted({*range(0, scan + 8, 7), *(s.end - 1 for s in segs)})
    for cut in cuts:
        for op in (C.read_labels, C.read_xmp, lambda d: C.write_label(d, label_json())):
            try:
                op(rich_jpeg[:cut])
            except AigcTagError:
                pass
    for pos in (2, 3, 4, 5, segs[2].payload + 10, segs[2].payload + 20):
        broken = bytearray(rich_jpeg)
        broken[pos] ^= 0xFF
        try:
            C.read_labels(bytes(broken))
            C.write_label(bytes(broken), label_json())
        except AigcTagError:
            pass
    for junk in (b"", b"\xff\xd8", b"\xff\xd8\xff", rich_jpeg[: len(rich_jpeg) // 2]):
        with pytest.raises(AigcTagError):
            C.reencode(junk, caption)


def sample(name: str) -> bytes:
    if not SAMPLES.is_dir():
        pytest.skip(f"third-party samples not present at {SAMPLES}")
    return (SAMPLES / name).read_bytes()


def test_third_party_camera_jpeg(tmp_path):
    src = sample("IMG_0003.jpg")
    out = C.write_label(src, label_json())
    assert scan_and_tables(out) == scan_and_tables(src)
    for marker in (0xED, 0xE2, 0xEE):  # IPTC, ICC, Adobe untouched
        assert app_payloads(out, marker) == app_payloads(src, marker)
    path = tmp_path / "camera.jpg"
    path.write_bytes(C.write_label(out, label_json("again")))
    seen = exiftool(path, "-XMP-TC260:all", "-IFD0:Make", "-Photoshop:all")
    assert json.loads(seen["XMP-TC260:Aigc"])["AIGC"]["ProduceID"] == "again"
    assert seen["IFD0:Make"] == "Canon"
    redrawn = C.reencode(path.read_bytes(), caption)
    new, old = Image.open(io.BytesIO(redrawn)), Image.open(io.BytesIO(src))
    assert (new.size, new.mode, new.quantization) == (old.size, old.mode, old.quantization)
    assert new.info["icc_profile"] == old.info["icc_profile"]
    assert len(C.read_labels(redrawn)) == 1
    assert cv2.imdecode(np.frombuffer(redrawn, np.uint8), cv2.IMREAD_COLOR).shape == (683, 1024, 3)


def test_c2pa_app11_is_left_alone():
    buf = io.BytesIO()
    picture().save(buf, "JPEG")
    jumbf = app(0xEB, b"JP\x00\x01\x00\x00\x00\x01jumb" + OLD_LABEL.encode())
    src = insert_after_soi(buf.getvalue(), jumbf)
    assert C.read_labels(src) == []
    out = C.write_label(src, label_json())
    assert app_payloads(out, 0xEB) == app_payloads(src, 0xEB)
    assert app_payloads(C.reencode(out, caption), 0xEB) == app_payloads(src, 0xEB)
