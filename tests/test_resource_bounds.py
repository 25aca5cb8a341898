"""Hostile sizes are refused with a clear reason before memory or time runs out.

Each case builds a small file that *declares* something huge (pixels, inflated bytes, box sizes,
XML depth or entities, chunk counts) and checks the refusal is an ``AigcTagError`` naming the
reason, that it comes fast, and that Python memory stays far below what the declaration asks
for. Where the limit is a module constant, the test also shows it is configurable (docs/security.md
lists them).
"""

from __future__ import annotations

import io
import struct
import time
import tracemalloc
import zipfile
import zlib
from contextlib import contextmanager

import pytest

from aigc_tag import imaging, xmp
from aigc_tag.carriers import registry, sniff
from aigc_tag.errors import AigcTagError, LimitExceeded

LABEL = '{"AIGC":{"Label":"1","ContentProducer":"x","ProduceID":"y"}}'
MB = 1024 * 1024


@contextmanager
def bounded(seconds: float = 3.0, peak_mb: float | None = 64):
    """The block finishes within ``seconds`` and allocates under ``peak_mb`` of Python memory.

    ``peak_mb=None`` skips tracemalloc (it slows walkers that make many small objects tenfold;
    their memory is bounded by the count limits the test hits).
    """
    if peak_mb is not None:
        tracemalloc.start()
    t0 = time.monotonic()
    try:
        yield
    finally:
        took = time.monotonic() - t0
        peak = tracemalloc.get_traced_memory()[1] / MB if peak_mb is not None else 0
        tracemalloc.stop()
    assert took < seconds, f"took {took:.2f}s"
    assert peak_mb is None or peak < peak_mb, f"peak Python allocation {peak:.1f} MB"


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png(width: int, height: int, extra: bytes = b"") -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + extra
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


# --- decompression bombs: huge declared dimensions -------------------------------------------


def _jpeg_huge() -> bytes:
    sof = struct.pack(">BHHB", 8, 65000, 65000, 3) + b"\x01\x11\x00\x02\x11\x00\x03\x11\x00"
    return b"\xff\xd8" + b"\xff\xc0" + struct.pack(">H", len(sof) + 2) + sof + b"\xff\xd9"


def _gif_huge() -> bytes:
    return (
        b"GIF89a"
        + struct.pack("<HHBBB", 65000, 65000, 0, 0, 0)
        + b","
        + struct.pack("<HHHHB", 0, 0, 65000, 65000, 0)
        + b"\x02\x02\x44\x01\x00;"
    )


@pytest.mark.parametrize(
    "data", [_png(100_000, 100_000), _jpeg_huge(), _gif_huge()], ids=["png", "jpeg", "gif"]
)
def test_huge_declared_dimensions_refused_before_decoding(data):
    with bounded(peak_mb=32), pytest.raises(LimitExceeded, match="pixels|bomb"):
        imaging.open_image(data)


def test_pixel_limit_is_configurable():
    small = _png(64, 64)
    with pytest.raises(LimitExceeded, match="above the limit of 100"):
        imaging.open_image(small, max_pixels=100)


def test_tagging_a_bomb_is_refused(tmp_path):
    from aigc_tag import Tagger

    tagger = Tagger("001191110108MA01ABCDEN10001", watermark=False)
    from PIL import Image

    small = io.BytesIO()
    Image.new("RGB", (256, 256)).save(small, "PNG")
    tagger.tag_bytes(small.getvalue())  # warm up: imports are not what is measured
    with bounded(peak_mb=64), pytest.raises(AigcTagError, match="pixels|bomb"):
        tagger.tag_bytes(_png(60_000, 60_000))


def test_png_carrier_refuses_huge_ihdr_on_write_path():
    png = registry()["png"]
    data = _png(100_000, 100_000)
    with bounded(peak_mb=32):
        try:  # the label writer only edits chunks; it must not decode
            out = png.write_label(data, LABEL)
            assert len(out) < len(data) + 4096
        except AigcTagError:
            pass


# --- zip bombs --------------------------------------------------------------------------------


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in members.items():
            zf.writestr(name, body)
    return buf.getvalue()


def _docx_members() -> dict[str, bytes]:
    ct = (
        b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        b'package/2006/content-types"><Override PartName="/word/document.xml" ContentType="'
        b'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
        b"</Types>"
    )
    return {"[Content_Types].xml": ct, "word/document.xml": b"<w:document/>"}


def _forge_sizes(data: bytes, name: bytes, size: int) -> bytes:
    """Rewrite the uncompressed size of ``name`` in its local and central headers."""
    buf = bytearray(data)
    for sig, off in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        pos = 0
        while (pos := buf.find(sig, pos)) >= 0:
            name_off = 30 if sig == b"PK\x03\x04" else 46
            nlen = struct.unpack_from("<H", buf, pos + (26 if name_off == 30 else 28))[0]
            if bytes(buf[pos + name_off : pos + name_off + nlen]) == name:
                struct.pack_into("<I", buf, pos + off, size)
            pos += 4
    return bytes(buf)


@pytest.mark.parametrize("kind", ["docx", "epub"])
def test_zip_bomb_declared_size_refused(kind):
    members = _docx_members()
    if kind == "epub":
        members = {"mimetype": b"application/epub+zip", **members}
    members["word/media/bomb.bin"] = b"\0" * (2 * MB)
    data = _forge_sizes(_zip(members), b"word/media/bomb.bin", 0xFFFF0000)
    carrier = registry()[kind]
    with bounded(peak_mb=32), pytest.raises(LimitExceeded, match="zip bomb|uncompressed|bytes"):
        carrier.read_labels(data)
    with pytest.raises(LimitExceeded):
        carrier.write_label(data, LABEL)


def test_zip_part_that_inflates_beyond_its_declared_size_is_capped(monkeypatch):
    from aigc_tag.carriers import ooxml

    monkeypatch.setattr(ooxml, "MAX_PART", 1 * MB)  # configurable; 64 MiB by default
    members = _docx_members()
    members["docProps/custom.xml"] = b"<a>" + b" " * (3 * MB) + b"</a>"
    data = _zip(members)
    with bounded(peak_mb=48), pytest.raises(LimitExceeded, match="custom.xml"):
        registry()["docx"].read_labels(data)


# --- XMP: huge packets, deep nesting, entity expansion ---------------------------------------


def test_xmp_above_limit_refused_before_parsing(monkeypatch):
    monkeypatch.setattr(xmp, "MAX_XMP_BYTES", 1 * MB)  # 16 MiB by default
    packet = b"<x:xmpmeta>" + b"<a>" * 10 + b" " * (2 * MB)
    with bounded(peak_mb=8), pytest.raises(LimitExceeded, match="exceeds"):
        xmp.find_label_properties(packet)
    with pytest.raises(LimitExceeded):
        xmp.merge_label(packet, LABEL)


def test_hundreds_of_mb_xmp_refused_fast():
    packet = bytes(300 * MB)  # zeros: allocated once here, the check must not copy it
    with bounded(seconds=1.0, peak_mb=4), pytest.raises(LimitExceeded):
        xmp.find_label_properties(packet)
    del packet


def test_png_with_oversized_xmp_chunk(monkeypatch):
    from aigc_tag.carriers import png as png_mod

    monkeypatch.setattr(png_mod, "MAX_TEXT_BYTES", 1 * MB)
    body = b"XML:com.adobe.xmp\0\x01\0\0\0" + zlib.compress(b" " * (4 * MB), 9)
    data = _png(8, 8, _png_chunk(b"iTXt", body))
    with bounded(peak_mb=16), pytest.raises(LimitExceeded, match="inflates"):
        png_mod.CARRIER.read_labels(data)


def test_deeply_nested_xmp():
    depth = 50_000
    packet = b"<a>" * depth + b"<TC260:AIGC xmlns:TC260='x'>{}</TC260:AIGC>" + b"</a>" * depth
    with bounded(seconds=5, peak_mb=None):
        try:
            xmp.find_label_properties(packet)
            xmp.digital_source_types(packet)
            xmp.merge_label(packet, LABEL)
        except AigcTagError:
            pass


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol">
<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description xmlns:TC260="http://www.tc260.org.cn/ns/AIGC/1.0/"><TC260:AIGC>&lol9;</TC260:AIGC>
</rdf:Description></rdf:RDF></x:xmpmeta>"""


def test_billion_laughs_not_expanded():
    with bounded(peak_mb=16):
        props = xmp.find_label_properties(BILLION_LAUGHS)
        merged = xmp.merge_label(BILLION_LAUGHS, LABEL)
    assert all("lollol" not in p.value for p in props)
    assert b"lollollol" not in merged


def test_billion_laughs_in_ooxml_part():
    from test_carrier_ooxml import make_docx, with_custom

    data = with_custom(make_docx(), BILLION_LAUGHS.decode())
    with bounded(peak_mb=16), pytest.raises(AigcTagError, match="DTD|entit"):
        registry()["docx"].read_labels(data)


# --- endless chunk loops, zero-size and absurd boxes -----------------------------------------


def _box(kind: bytes, body: bytes = b"", size: int | None = None) -> bytes:
    return struct.pack(">I", len(body) + 8 if size is None else size) + kind + body


FTYP = _box(b"ftyp", b"isom\0\0\x02\0isomiso2mp41")


@pytest.mark.parametrize(
    "data",
    [
        FTYP + _box(b"moov", b"", size=0xFFFFFFF0),  # moov claims 4 GiB in a tiny file
        FTYP + struct.pack(">I4sQ", 1, b"moov", 2**63 - 1) + b"\0" * 32,  # 64-bit largesize
        FTYP + _box(b"moov", _box(b"udta", b"", size=0)),  # size 0 child: "to the end"
        FTYP + _box(b"moov", struct.pack(">I4s", 0, b"trak") * 5000),
        FTYP + _box(b"moov", _box(b"udta", _box(b"meta", b"\0\0\0\0" + _box(b"hdlr") * 3000))),
        FTYP + _box(b"moov", b"".join(_box(b"free") for _ in range(3000))),
        FTYP + _box(b"free", b"", size=1) + b"\0" * 8,  # largesize 0
    ],
    ids=[
        "moov-4G",
        "moov-largesize",
        "zero-size-child",
        "zero-size-run",
        "meta-hdlr-run",
        "3k-empty-boxes",
        "largesize-zero",
    ],
)
def test_isobmff_absurd_sizes(data, monkeypatch):
    from aigc_tag.carriers import isobmff

    monkeypatch.setattr(isobmff, "MAX_BOXES", 2000)  # 100 000 by default
    carrier = registry()["mp4"]
    with bounded(seconds=5, peak_mb=None):
        for call in (
            carrier.read_labels,
            carrier.read_xmp,
            carrier.has_c2pa,
            carrier.read_extras,
            lambda d: carrier.write_label(d, LABEL),
        ):
            try:
                call(data)
            except AigcTagError as exc:
                assert str(exc)


def _riff(fourcc: bytes, body: bytes, size: int | None = None) -> bytes:
    return fourcc + struct.pack("<I", len(body) if size is None else size) + body


@pytest.mark.parametrize(
    "data",
    [
        b"RIFF" + struct.pack("<I", 0xFFFFFFFF) + b"WAVE" + _riff(b"fmt ", b"", 0xFFFFFFF0),
        b"RIFF" + struct.pack("<I", 4 + 8 * 3000) + b"WAVE" + _riff(b"junk", b"") * 3000,
        b"RIFF\0\0\0\0WAVE" + _riff(b"LIST", b"INFO" + _riff(b"ICMT", b"", 0xFFFFFFFE)),
        b"RIFF" + struct.pack("<I", 1 << 20) + b"AVI " + _riff(b"LIST", b"hdrl", 0xFFFFFFF0),
        b"RIFF" + struct.pack("<I", 100) + b"WEBP" + _riff(b"VP8X", b"\0" * 10) * 3000,
    ],
    ids=["wav-4G-chunk", "wav-3k-chunks", "wav-list-4G", "avi-list-4G", "webp-3k-vp8x"],
)
def test_riff_family_absurd_sizes(data, monkeypatch):
    from aigc_tag.carriers import avi, riff, webp

    for mod in (avi, riff, webp):  # configurable chunk-count ceilings
        monkeypatch.setattr(mod, "MAX_CHUNKS", 2000)
    carrier = sniff(data[:64])
    with bounded(seconds=5, peak_mb=None):
        for name in ("read_labels", "read_xmp", "has_c2pa", "read_extras"):
            fn = getattr(carrier, name, None)
            if fn is None:
                continue
            try:
                fn(data)
            except AigcTagError as exc:
                assert str(exc)
        try:
            carrier.write_label(data, LABEL)
        except AigcTagError as exc:
            assert str(exc)


def test_matroska_huge_element_sizes():
    # EBML header, then a Segment of "unknown" size holding a Tags element claiming 2^56 bytes.
    ebml = bytes.fromhex("1a45dfa3") + bytes([0x80 | 7]) + bytes.fromhex("4282") + b"\x84webm"
    seg = bytes.fromhex("18538067") + b"\x01\xff\xff\xff\xff\xff\xff\xff"
    tags = bytes.fromhex("1254c367") + b"\x01\xff\xff\xff\xff\xff\xff\xfe"
    data = ebml + seg + tags + b"\0" * 64
    carrier = sniff(data[:64])
    with bounded(seconds=5, peak_mb=64):
        calls = (carrier.read_labels, carrier.read_xmp, lambda d: carrier.write_label(d, LABEL))
        for call in calls:
            try:
                call(data)
            except AigcTagError as exc:
                assert str(exc)


def test_png_endless_chunks_limit(monkeypatch):
    from aigc_tag.carriers import png as png_mod

    monkeypatch.setattr(png_mod, "MAX_CHUNKS", 1000)
    extra = _png_chunk(b"tEXt", b"a\0b") * 2000
    with bounded(), pytest.raises(LimitExceeded, match="chunks"):
        png_mod.CARRIER.read_labels(_png(8, 8, extra))


def test_input_file_size_limit(tmp_path):
    from aigc_tag.fileio import read_input

    path = tmp_path / "big.bin"
    with open(path, "wb") as fh:
        fh.truncate(10 * MB)  # sparse
    with bounded(peak_mb=2), pytest.raises(LimitExceeded, match="above the limit"):
        read_input(path, max_bytes=1 * MB)


def test_truncated_streams_every_writer():
    """A stream cut short anywhere in its metadata is refused (or written whole), never crashes."""
    from fuzz_seeds import seeds_by_target

    for name, seeds in seeds_by_target().items():
        carrier = registry().get(name)
        if carrier is None or not carrier.can_write or name == "txt":
            continue
        data = seeds[-1]
        for cut in range(8, min(len(data), 4096), 97):
            try:
                out = carrier.write_label(data[:cut], LABEL)
            except AigcTagError as exc:
                assert str(exc)
            else:
                assert carrier.read_labels(out), f"{name}: written at cut {cut} but unreadable"


# --- found by fuzzing (inputs also under tests/fuzz_regressions/) -----------------------------


@pytest.mark.parametrize(
    "front",
    [
        "a: " + "[" * 5000,  # unclosed flow collections: PyYAML's scanner is quadratic
        "a: " + "[" * 1000 + "]" * 1000,
        "- " * 2000 + "x",
        "".join(" " * i + f"k{i}:\n" for i in range(300)),
    ],
    ids=["unclosed-flow", "closed-flow", "dash-nesting", "indent-staircase"],
)
def test_markdown_front_matter_nesting_refused_fast(front):
    carrier = registry()["markdown"]
    data = f"---\n{front}\n---\n# T\n\ntext\n".encode()
    with bounded(seconds=1.0, peak_mb=None):
        with pytest.raises(AigcTagError, match="nests|indented"):
            carrier.read_labels(data)
        with pytest.raises(AigcTagError, match="nests|indented"):
            carrier.write_label(data, LABEL)


def test_markdown_ordinary_nesting_still_reads():
    carrier = registry()["markdown"]
    data = b"---\ntitle: t\nx: {a: [1, {b: [2]}]}\nl:\n  - a\n  - b: [c]\n---\n# T\n"
    out = carrier.write_label(data, LABEL)
    assert len(carrier.read_labels(out)) == 1


@pytest.mark.parametrize("raw", ["[" * 5000 + "]" * 5000, '{"AIGC":' * 3000 + "1" + "}" * 3000])
def test_label_parser_deep_nesting_is_an_error_not_a_crash(raw):
    from aigc_tag.label import parse_label

    parsed = parse_label(raw)
    assert parsed.error and "nested too deeply" in parsed.error
