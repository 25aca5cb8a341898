"""A bounded walker for TIFF structures: TIFF files and the EXIF block of JPEG, PNG and WebP.

Only what the label needs is parsed: the header, IFD0, the Exif IFD it points to (tag 0x8769)
and single tag values. Every offset is checked against the data before it is used, IFD entry
counts are capped and a pointer back to an IFD already visited is refused, so a hostile file
cannot make us loop or read past the end. Values of tags we do not read are never checked, which
keeps real-world files with a broken maker note readable.

Annex B of the TC260 image guide allows the label in the EXIF ``UserComment`` (0x9286, type 7):
an 8-byte character-set header (``ASCII\\0\\0\\0``, ``UNICODE\\0``, ``JIS\\0\\0\\0\\0\\0`` or eight
zero bytes for "undefined") followed by the text.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from PIL import Image

from ..errors import CorruptContainer, LimitExceeded, UnsupportedFormat
from . import Found, found_from_value

__all__ = [
    "Entry",
    "Ifd",
    "blank_label_user_comments",
    "decode_user_comment",
    "find_user_comments",
    "parse_header",
    "read_ifd",
    "read_tags",
    "from_display",
    "to_display",
    "value_bytes",
]

TAG_EXIF_IFD = 0x8769
TAG_USER_COMMENT = 0x9286
TAG_XMP = 0x02BC
#: TIFF field type -> size of one element. Unknown types are kept but never read.
TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
#: The IFD count field is 16-bit, but real IFDs hold a few dozen entries.
MAX_IFD_ENTRIES = 4096
#: Largest single value we decode (XMP packets included).
MAX_VALUE_BYTES = 16 * 1024 * 1024

_EVIDENCE_TAGS = {
    0x010E: "ImageDescription",
    0x010F: "Make",
    0x0110: "Model",
    0x0131: "Software",
    0x013B: "Artist",
    0x8298: "Copyright",
}
_CHARSETS = {
    b"ASCII\0\0\0": "ascii",
    b"UNICODE\0": "unicode",
    b"JIS\0\0\0\0\0": "jis",
    b"\0" * 8: "undefined",
}


@dataclass(frozen=True)
class Entry:
    """One 12-byte IFD entry; ``value_at`` is where its value bytes start (inline or not)."""

    tag: int
    type: int
    count: int
    at: int  # offset of the entry itself
    value_at: int
    size: int  # value size in bytes, -1 for an unknown field type


@dataclass(frozen=True)
class Ifd:
    """One image file directory: its entries in file order and the next-IFD pointer."""

    name: str
    offset: int
    entries: tuple[Entry, ...]
    next_offset: int

    def get(self, tag: int) -> Entry | None:
        return next((e for e in self.entries if e.tag == tag), None)

    @property
    def end(self) -> int:
        """Offset just past the next-IFD pointer."""
        return self.offset + 2 + 12 * len(self.entries) + 4


def parse_header(tiff: bytes) -> tuple[str, int]:
    """Byte order (``<`` or ``>``) and the IFD0 offset of a classic TIFF structure."""
    if len(tiff) < 8:
        raise CorruptContainer(f"TIFF header truncated ({len(tiff)} bytes)")
    order = tiff[:2]
    if order not in (b"II", b"MM"):
        raise CorruptContainer(f"TIFF header: bad byte order mark {order!r}")
    endian = "<" if order == b"II" else ">"
    magic, ifd0 = struct.unpack(endian + "HI", tiff[2:8])
    if magic == 43:
        raise UnsupportedFormat("BigTIFF (version 43) is not supported, only classic TIFF")
    if magic != 42:
        raise CorruptContainer(f"TIFF header: version {magic}, expected 42")
    return endian, ifd0


def read_ifd(tiff: bytes, offset: int, *, endian: str, name: str = "IFD0") -> Ifd:
    """Parse the IFD at ``offset``; values are located, not read or checked."""
    if offset < 8 or offset + 2 > len(tiff):
        raise CorruptContainer(f"TIFF {name} offset {offset} outside the data ({len(tiff)} bytes)")
    (count,) = struct.unpack_from(endian + "H", tiff, offset)
    if count > MAX_IFD_ENTRIES:
        raise LimitExceeded(f"TIFF {name} has {count} entries (limit {MAX_IFD_ENTRIES})")
    end = offset + 2 + 12 * count
    if end + 4 > len(tiff):
        raise CorruptContainer(f"TIFF {name} at {offset} is truncated ({count} entries)")
    entries = []
    for at in range(offset + 2, end, 12):
        tag, typ, n = struct.unpack_from(endian + "HHI", tiff, at)
        size = TYPE_SIZES[typ] * n if typ in TYPE_SIZES else -1
        if 0 <= size <= 4:
            value_at = at + 8
        else:
            (value_at,) = struct.unpack_from(endian + "I", tiff, at + 8)
        entries.append(Entry(tag, typ, n, at, value_at, size))
    (next_offset,) = struct.unpack_from(endian + "I", tiff, end)
    return Ifd(name, offset, tuple(entries), next_offset)


def value_bytes(tiff: bytes, entry: Entry, *, where: str = "TIFF") -> bytes:
    """The raw value of one entry, bounds-checked."""
    if entry.size < 0:
        raise CorruptContainer(f"{where}: tag 0x{entry.tag:04X} has unknown type {entry.type}")
    if entry.size > MAX_VALUE_BYTES:
        raise LimitExceeded(
            f"{where}: tag 0x{entry.tag:04X} value of {entry.size} bytes exceeds {MAX_VALUE_BYTES}"
        )
    if entry.value_at + entry.size > len(tiff):
        raise CorruptContainer(
            f"{where}: tag 0x{entry.tag:04X} value at {entry.value_at} (+{entry.size}) "
            f"runs past the end ({len(tiff)} bytes)"
        )
    return tiff[entry.value_at : entry.value_at + entry.size]


def _ifds(tiff: bytes) -> tuple[str, list[Ifd]]:
    """IFD0 and, when present, the Exif IFD it points to."""
    endian, ifd0_at = parse_header(tiff)
    ifd0 = read_ifd(tiff, ifd0_at, endian=endian, name="IFD0")
    ifds = [ifd0]
    ptr = ifd0.get(TAG_EXIF_IFD)
    if ptr is not None and ptr.type in (4, 13) and ptr.count == 1:
        (exif_at,) = struct.unpack(endian + "I", value_bytes(tiff, ptr, where="IFD0"))
        if exif_at == ifd0_at:
            raise CorruptContainer("TIFF ExifIFD pointer loops back to IFD0")
        ifds.append(read_ifd(tiff, exif_at, endian=endian, name="ExifIFD"))
    return endian, ifds


def _user_comment_entries(tiff: bytes) -> tuple[str, list[tuple[Ifd, Entry]]]:
    # Annex B puts UserComment in the Exif IFD; some writers put it in IFD0, so look in both.
    endian, ifds = _ifds(tiff)
    hits = [(ifd, e) for ifd in ifds for e in ifd.entries if e.tag == TAG_USER_COMMENT]
    return endian, hits


def decode_user_comment(value: bytes, *, endian: str = "<") -> str:
    """The text of a UserComment value, whatever its character-set header says."""
    charset = _CHARSETS.get(value[:8])
    body = value[8:] if charset else value  # no valid header: lenient, read it all as text
    if charset == "unicode":
        if body[:2] in (b"\xff\xfe", b"\xfe\xff"):
            text = body.decode("utf-16", "replace")
        else:
            text = body.decode("utf-16-le" if endian == "<" else "utf-16-be", "replace")
    elif charset == "jis":
        text = body.decode("shift_jis", "replace")
    else:
        text = body.decode("utf-8", "replace")
    return text.strip("\x00 \r\n\t")


def _is_label_text(text: str) -> bool:
    return "AIGC" in text.upper() or ("Label" in text and "ContentProducer" in text)


def find_user_comments(tiff: bytes, *, location: str) -> list[Found]:
    """EXIF UserComment values carrying a label, as :class:`Found` records.

    ``offset`` and ``length`` cover the whole value (character-set header included) relative to
    ``tiff``; callers embedding the block in another container add their own base offset.
    """
    endian, hits = _user_comment_entries(tiff)
    found = []
    for ifd, entry in hits:
        where = f"{location}/{ifd.name}/UserComment"
        text = decode_user_comment(value_bytes(tiff, entry, where=where), endian=endian)
        if not _is_label_text(text):
            continue
        found.append(
            found_from_value(
                text,
                carrier="exif-usercomment",
                location=where,
                key="UserComment",
                offset=entry.value_at,
                length=entry.size,
                form="text",
                normative=False,
            )
        )
    return found


def blank_label_user_comments(tiff: bytes) -> bytes:
    """``tiff`` with every label-carrying UserComment zeroed in place (same length).

    The value becomes eight zero bytes of "undefined" character set followed by zeros, so no
    offset anywhere in the structure moves and readers see an empty comment.
    """
    endian, hits = _user_comment_entries(tiff)
    out = bytearray(tiff)
    for ifd, entry in hits:
        value = value_bytes(tiff, entry, where=f"{ifd.name}/UserComment")
        if _is_label_text(decode_user_comment(value, endian=endian)):
            out[entry.value_at : entry.value_at + entry.size] = bytes(entry.size)
    return bytes(out)


def read_tags(tiff: bytes) -> dict[str, str]:
    """A few evidence tags as text (Make, Model, Software, Artist, ...), for the verifier.

    Tags whose values are broken are left out rather than failing the whole read.
    """
    endian, ifds = _ifds(tiff)
    tags: dict[str, str] = {}
    for entry in ifds[0].entries:
        name = _EVIDENCE_TAGS.get(entry.tag)
        if name is None or entry.type != 2:
            continue
        try:
            raw = value_bytes(tiff, entry, where="IFD0")
        except (CorruptContainer, LimitExceeded):
            continue
        tags[name] = raw.split(b"\0", 1)[0].decode("utf-8", "replace").strip()
    for ifd in ifds:
        entry = ifd.get(TAG_USER_COMMENT)
        if entry is not None and "UserComment" not in tags:
            try:
                raw = value_bytes(tiff, entry, where=ifd.name)
            except (CorruptContainer, LimitExceeded):
                continue
            tags["UserComment"] = decode_user_comment(raw, endian=endian)
    return {k: v for k, v in tags.items() if v}


# --- orientation: captions are drawn upright as the image is displayed ----------------------

# EXIF Orientation -> the Pillow transpose that shows the stored pixels upright, and its inverse.
_TO_DISPLAY = {2: "FLIP_LEFT_RIGHT", 3: "ROTATE_180", 4: "FLIP_TOP_BOTTOM", 5: "TRANSPOSE",
               6: "ROTATE_270", 7: "TRANSVERSE", 8: "ROTATE_90"}  # fmt: skip
_INVERSE = {"ROTATE_270": "ROTATE_90", "ROTATE_90": "ROTATE_270"}


def to_display(im: Image.Image, orientation: int) -> Image.Image:
    """The image as a viewer shows it for this EXIF Orientation value (1-8)."""
    op = _TO_DISPLAY.get(orientation)
    return im.transpose(Image.Transpose[op]) if op else im


def from_display(im: Image.Image, orientation: int) -> Image.Image:
    """Undo :func:`to_display`, so the stored pixels keep the file's orientation."""
    op = _TO_DISPLAY.get(orientation)
    return im.transpose(Image.Transpose[_INVERSE.get(op, op)]) if op else im
