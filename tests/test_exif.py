"""The bounded TIFF/EXIF walker: UserComment labels, blanking in place, evidence tags, limits."""

from __future__ import annotations

import struct

import pytest
from PIL import Image

from aigc_tag.carriers import _exif
from aigc_tag.errors import AigcTagError, CorruptContainer, LimitExceeded, UnsupportedFormat

LABEL = '{"AIGC":{"Label":"1","ContentProducer":"001191110102MAD55U9H0F10002","ProduceID":"p-1"}}'


def build_tiff(ifd0: list[tuple], exif: list[tuple] | None = None, endian: str = "<") -> bytes:
    """A TIFF structure: IFD0 (plus an Exif IFD), entries as (tag, type, count, value bytes)."""
    order = b"II" if endian == "<" else b"MM"
    out = bytearray(order + struct.pack(endian + "HI", 42, 8))
    ifd0 = list(ifd0)
    if exif is not None:
        ifd0.append((0x8769, 4, 1, None))  # patched below
    ifd0_size = 2 + 12 * len(ifd0) + 4
    data_at = 8 + ifd0_size
    blobs = bytearray()
    exif_at = 0
    entries = bytearray()

    def place(tag, typ, count, value):
        nonlocal blobs
        if len(value) <= 4:
            return struct.pack(endian + "HHI", tag, typ, count) + value.ljust(4, b"\0")
        at = data_at + len(blobs)
        blobs += value + (b"\0" if len(value) % 2 else b"")
        return struct.pack(endian + "HHII", tag, typ, count, at)

    for tag, typ, count, value in sorted(ifd0, key=lambda e: e[0]):
        if tag == 0x8769:
            exif_entry_pos = len(entries)
            entries += struct.pack(endian + "HHII", tag, typ, count, 0)
        else:
            entries += place(tag, typ, count, value)
    if exif is not None:
        exif_at = data_at + len(blobs)
        exif_size = 2 + 12 * len(exif) + 4
        data_at = exif_at + exif_size
        exif_entries = bytearray()
        saved = blobs
        blobs = bytearray()
        for tag, typ, count, value in exif:
            exif_entries += place(tag, typ, count, value)
        tail = struct.pack(endian + "H", len(exif)) + exif_entries + bytes(4) + blobs
        blobs = saved + tail
        struct.pack_into(endian + "I", entries, exif_entry_pos + 8, exif_at)
    out += struct.pack(endian + "H", len(ifd0)) + entries + bytes(4) + blobs
    return bytes(out)


def ascii_tag(tag: int, text: str) -> tuple:
    raw = text.encode() + b"\0"
    return (tag, 2, len(raw), raw)


def user_comment(text: str, header: bytes = b"ASCII\0\0\0", encoding: str = "ascii") -> tuple:
    raw = header + text.encode(encoding)
    return (0x9286, 7, len(raw), raw)


@pytest.mark.parametrize("endian", ["<", ">"])
def test_finds_ascii_user_comment_label_with_offsets(endian):
    tiff = build_tiff([ascii_tag(0x010F, "Canon")], [user_comment(LABEL)], endian=endian)
    (hit,) = _exif.find_user_comments(tiff, location="APP1[0]/Exif")
    assert hit.carrier == "exif-usercomment" and hit.key == "UserComment"
    assert hit.location == "APP1[0]/Exif/ExifIFD/UserComment"
    assert hit.normative is False and hit.form == "text"
    assert hit.parsed.fields["ContentProducer"] == "001191110102MAD55U9H0F10002"
    assert tiff[hit.offset : hit.offset + 8] == b"ASCII\0\0\0"
    assert tiff[hit.offset + 8 : hit.offset + hit.length].decode() == LABEL


@pytest.mark.parametrize(
    ("header", "encoding"),
    [(b"UNICODE\0", "utf-16-le"), (b"\0" * 8, "utf-8"), (b"JIS\0\0\0\0\0", "shift_jis")],
)
def test_other_charset_headers(header, encoding):
    tiff = build_tiff([], [user_comment(LABEL, header, encoding)])
    (hit,) = _exif.find_user_comments(tiff, location="x")
    assert hit.parsed.fields["ProduceID"] == "p-1"


def test_plain_comment_is_not_a_label_and_is_kept():
    tiff = build_tiff([], [user_comment("holiday in Tuscany")])
    assert _exif.find_user_comments(tiff, location="x") == []
    assert _exif.blank_label_user_comments(tiff) == tiff
    assert _exif.read_tags(tiff)["UserComment"] == "holiday in Tuscany"


def test_label_in_ifd0_is_found_too():
    tiff = build_tiff([user_comment(LABEL)])
    (hit,) = _exif.find_user_comments(tiff, location="TIFF")
    assert hit.location == "TIFF/IFD0/UserComment"


def test_blank_keeps_length_and_every_other_byte():
    tiff = build_tiff([ascii_tag(0x010F, "Canon")], [user_comment(LABEL)])
    (hit,) = _exif.find_user_comments(tiff, location="x")
    blanked = _exif.blank_label_user_comments(tiff)
    assert len(blanked) == len(tiff)
    assert blanked[hit.offset : hit.offset + hit.length] == bytes(hit.length)
    assert blanked[: hit.offset] == tiff[: hit.offset]
    assert blanked[hit.offset + hit.length :] == tiff[hit.offset + hit.length :]
    assert _exif.find_user_comments(blanked, location="x") == []
    assert _exif.read_tags(blanked) == {"Make": "Canon"}


def test_pillow_written_exif_round_trip():
    ex = Image.Exif()
    ex[0x0110] = "Model X"
    ex[0x0131] = "gen-ai 2.0"
    ex.get_ifd(0x8769)[0x9286] = b"ASCII\0\0\0" + LABEL.encode()
    tiff = ex.tobytes()[6:]  # drop "Exif\0\0"
    assert len(_exif.find_user_comments(tiff, location="x")) == 1
    tags = _exif.read_tags(tiff)
    assert tags["Model"] == "Model X" and tags["Software"] == "gen-ai 2.0"
    assert LABEL in tags["UserComment"]


def test_exif_pointer_loop_is_refused():
    tiff = bytearray(build_tiff([], [user_comment(LABEL)]))
    ifd0 = _exif.read_ifd(bytes(tiff), 8, endian="<")
    ptr = ifd0.get(0x8769)
    struct.pack_into("<I", tiff, ptr.at + 8, 8)
    with pytest.raises(CorruptContainer, match="loops"):
        _exif.find_user_comments(bytes(tiff), location="x")


def test_absurd_entry_count_and_value_size():
    tiff = bytearray(build_tiff([ascii_tag(0x010F, "Canon")], [user_comment(LABEL)]))
    struct.pack_into("<H", tiff, 8, 60000)
    with pytest.raises(LimitExceeded):
        _exif.find_user_comments(bytes(tiff), location="x")
    tiff = bytearray(build_tiff([], [user_comment(LABEL)]))
    (hit,) = _exif.find_user_comments(bytes(tiff), location="x")
    exif_ifd = _exif._ifds(bytes(tiff))[1][1]
    struct.pack_into("<I", tiff, exif_ifd.get(0x9286).at + 4, 0x7FFFFFFF)
    with pytest.raises((CorruptContainer, LimitExceeded)):
        _exif.find_user_comments(bytes(tiff), location="x")


def test_bigtiff_and_bad_headers():
    with pytest.raises(UnsupportedFormat, match="BigTIFF"):
        _exif.parse_header(b"II+\0\x08\0\0\0" + bytes(16))
    for bad in (b"", b"II*", b"XX*\0\x08\0\0\0", b"II\x07\0\x08\0\0\0"):
        with pytest.raises(CorruptContainer):
            _exif.parse_header(bad)


def test_every_truncation_raises_only_our_errors():
    tiff = build_tiff([ascii_tag(0x010F, "Canon")], [user_comment(LABEL)])
    for cut in range(len(tiff)):
        for fn in (
            lambda t: _exif.find_user_comments(t, location="x"),
            _exif.blank_label_user_comments,
            _exif.read_tags,
        ):
            try:
                fn(tiff[:cut])
            except AigcTagError:
                pass


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_helpers_invert_each_other(orientation):
    im = Image.new("L", (3, 2))
    im.putpixel((0, 0), 200)
    im.putpixel((2, 1), 90)
    shown = _exif.to_display(im, orientation)
    assert shown.size == ((2, 3) if orientation >= 5 else (3, 2))
    back = _exif.from_display(shown, orientation)
    assert back.tobytes() == im.tobytes()
