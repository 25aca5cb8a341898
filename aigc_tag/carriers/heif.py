"""HEIF, HEIC and AVIF (ISOBMFF still images): read-only.

The label lives in an XMP item (ISO/IEC 23008-12): an ``infe`` entry of type ``mime`` with
content type ``application/rdf+xml`` in ``meta/iinf``, its bytes located by ``meta/iloc`` (in the
file or in ``meta/idat``). An ``Exif`` item is read too, for an Annex B UserComment copy. Only the
top-level boxes and the children of ``meta`` are walked, every box must fit in its parent, and
box, item and extent counts are capped. If the walk finds no XMP item, the file is scanned for
an ``<x:xmpmeta`` packet as a last resort.

Writing is refused: no maintained Python library edits HEIF metadata without re-encoding the
coded images (pillow-heif decodes and encodes again on save).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from PIL import Image

from ..errors import CorruptContainer, LimitExceeded, UnsupportedFormat
from ..xmp import MAX_XMP_BYTES
from . import Found, found_in_xmp, guarded, register
from ._exif import find_user_comments

__all__ = ["CARRIER", "BRANDS", "HeifCarrier", "Item"]

BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}
XMP_MIME = b"application/rdf+xml"
MAX_BOXES = 10_000
MAX_ITEMS = 65_536
MAX_EXTENTS = 1024
_WRITE_REFUSAL = (
    "writing HEIF/AVIF is not supported: no maintained library writes metadata losslessly; "
    "convert to PNG or JPEG first, or keep the label in a sidecar"
)


@dataclass(frozen=True)
class _Box:
    type: bytes
    start: int  # offset of the size field
    body: int  # offset of the payload (after size, type and any largesize)
    end: int


@dataclass
class Item:
    """One item of ``meta``: its type, MIME content type and where its bytes are."""

    item_id: int
    item_type: bytes = b""
    content_type: bytes = b""
    encoding: bytes = b""
    method: int = 0  # iloc construction method: 0 file offsets, 1 idat offsets
    extents: list[tuple[int, int]] | None = None


def _boxes(data: bytes, start: int, end: int, where: str) -> Iterator[_Box]:
    pos, count = start, 0
    while pos + 8 <= end:
        count += 1
        if count > MAX_BOXES:
            raise LimitExceeded(f"HEIF {where}: more than {MAX_BOXES} boxes")
        size, btype = struct.unpack_from(">I4s", data, pos)
        body = pos + 8
        if size == 1:
            if pos + 16 > end:
                raise CorruptContainer(f"HEIF {where}: box {btype!r} truncated in its size")
            size = struct.unpack_from(">Q", data, pos + 8)[0]
            body = pos + 16
        elif size == 0:
            size = end - pos  # extends to the end of the parent
        if size < body - pos or pos + size > end:
            raise CorruptContainer(f"HEIF {where}: box {btype!r} at offset {pos} truncated")
        yield _Box(btype, pos, body, pos + size)
        pos += size


def _cstring(data: bytes, pos: int, end: int) -> tuple[bytes, int]:
    stop = data.find(b"\0", pos, end)
    if stop < 0:
        return data[pos:end], end
    return data[pos:stop], stop + 1


def _parse_iinf(data: bytes, box: _Box) -> dict[int, Item]:
    version = data[box.body]
    pos = box.body + 4 + (2 if version == 0 else 4)
    items: dict[int, Item] = {}
    for infe in _boxes(data, pos, box.end, "iinf"):
        if infe.type != b"infe":
            continue
        if len(items) >= MAX_ITEMS:
            raise LimitExceeded(f"HEIF iinf: more than {MAX_ITEMS} items")
        item = _parse_infe(data, infe)
        if item is not None:
            items[item.item_id] = item
    return items


def _parse_infe(data: bytes, box: _Box) -> Item | None:
    version = data[box.body]
    pos = box.body + 4
    if version < 2:
        return None  # versions 0/1 predate item types; HEIF requires version 2 or 3
    width = 2 if version == 2 else 4
    item_id = int.from_bytes(data[pos : pos + width], "big")
    pos += width + 2  # item_protection_index
    item = Item(item_id, item_type=data[pos : pos + 4])
    _name, pos = _cstring(data, pos + 4, box.end)
    if item.item_type == b"mime":
        item.content_type, pos = _cstring(data, pos, box.end)
        item.encoding, pos = _cstring(data, pos, box.end)
    return item


def _read_uint(data: bytes, pos: int, size: int) -> tuple[int, int]:
    if pos + size > len(data):
        raise CorruptContainer("HEIF iloc truncated")
    return int.from_bytes(data[pos : pos + size], "big"), pos + size


def _parse_iloc(data: bytes, box: _Box, items: dict[int, Item]) -> None:
    """Fill ``extents`` and ``method`` of the items we know from iinf."""
    version = data[box.body]
    sizes = data[box.body + 4 : box.body + 6]
    if len(sizes) < 2:
        raise CorruptContainer("HEIF iloc truncated")
    offset_size, length_size = sizes[0] >> 4, sizes[0] & 15
    base_size, index_size = sizes[1] >> 4, (sizes[1] & 15 if version in (1, 2) else 0)
    count, pos = _read_uint(data, box.body + 6, 2 if version < 2 else 4)
    if count > MAX_ITEMS:
        raise LimitExceeded(f"HEIF iloc: {count} items")
    for _ in range(count):
        item_id, pos = _read_uint(data, pos, 2 if version < 2 else 4)
        method = 0
        if version in (1, 2):
            method, pos = _read_uint(data, pos, 2)
            method &= 15
        _ref, pos = _read_uint(data, pos, 2)
        base, pos = _read_uint(data, pos, base_size)
        extent_count, pos = _read_uint(data, pos, 2)
        if extent_count > MAX_EXTENTS:
            raise LimitExceeded(f"HEIF iloc: item {item_id} has {extent_count} extents")
        extents = []
        for _ in range(extent_count):
            _index, pos = _read_uint(data, pos, index_size)
            offset, pos = _read_uint(data, pos, offset_size)
            length, pos = _read_uint(data, pos, length_size)
            extents.append((base + offset, length))
        if pos > box.end:
            raise CorruptContainer("HEIF iloc runs past its box")
        if item_id in items:
            items[item_id].method, items[item_id].extents = method, extents


def _item_bytes(data: bytes, item: Item, idat: _Box | None) -> bytes | None:
    """The item's bytes, or None for construction methods we do not follow."""
    if item.method == 0:
        base, end = 0, len(data)
    elif item.method == 1 and idat is not None:
        base, end = idat.body, idat.end
    else:
        return None
    parts, total = [], 0
    for offset, length in item.extents or []:
        start = base + offset
        stop = end if length == 0 else start + length  # 0: to the end of the source
        if stop > end:
            raise CorruptContainer(f"HEIF item {item.item_id}: extent runs past the data")
        total += stop - start
        if total > MAX_XMP_BYTES:
            raise LimitExceeded(f"HEIF item {item.item_id} exceeds {MAX_XMP_BYTES} bytes")
        parts.append(data[start:stop])
    return b"".join(parts)


def _decoded(item: Item, payload: bytes) -> bytes:
    """Undo a ``deflate`` content encoding (ISO/IEC 23008-12 allows it for mime items)."""
    if item.encoding not in (b"deflate", b"gzip"):
        return payload
    inflater = zlib.decompressobj(wbits=47)  # zlib or gzip header, detected
    try:
        out = inflater.decompress(payload, MAX_XMP_BYTES + 1)
    except zlib.error as exc:
        raise CorruptContainer(f"HEIF item {item.item_id} does not inflate ({exc})") from None
    if len(out) > MAX_XMP_BYTES:
        raise LimitExceeded(f"HEIF item {item.item_id} inflates beyond {MAX_XMP_BYTES} bytes")
    if not inflater.eof:  # zlib returns what it has for a cut stream: a cut label is no label
        raise CorruptContainer(f"HEIF item {item.item_id}: deflate stream is truncated")
    return out


def _meta_items(data: bytes) -> list[tuple[Item, bytes]]:
    """(item, bytes) for the XMP and Exif items of the top-level ``meta`` box."""
    meta = next((b for b in _boxes(data, 0, len(data), "file") if b.type == b"meta"), None)
    if meta is None:
        return []
    children = {b.type: b for b in _boxes(data, meta.body + 4, meta.end, "meta")}
    if b"iinf" not in children or b"iloc" not in children:
        return []
    items = _parse_iinf(data, children[b"iinf"])
    wanted = {
        i: item
        for i, item in items.items()
        if item.item_type == b"Exif"
        or (item.item_type == b"mime" and item.content_type == XMP_MIME)
    }
    _parse_iloc(data, children[b"iloc"], wanted)
    out = []
    for item in wanted.values():
        payload = _item_bytes(data, item, children.get(b"idat"))
        if payload is not None:
            out.append((item, _decoded(item, payload)))
    return out


def _exif_tiff(payload: bytes) -> bytes:
    # ISO/IEC 23008-12 A.2.1: a 4-byte offset to the TIFF header precedes the Exif data.
    if len(payload) < 4:
        raise CorruptContainer("HEIF Exif item shorter than its header")
    skip = struct.unpack_from(">I", payload, 0)[0]
    return payload[4 + skip :]


def _scan_xmp(data: bytes) -> bytes | None:
    start = data.find(b"<x:xmpmeta")
    if start < 0:
        return None
    stop = data.find(b"</x:xmpmeta>", start, start + MAX_XMP_BYTES)
    return data[start : stop + len(b"</x:xmpmeta>")] if stop >= 0 else None


class HeifCarrier:
    """The HEIF/HEIC/AVIF carrier (read-only; see the module docstring)."""

    name = "heif"
    media_type = "image"
    mime = "image/heif"
    extensions = (".heic", ".heif", ".avif", ".hif")
    can_write = False
    label_places = (
        "XMP item (mime application/rdf+xml)",
        "Exif item UserComment",
        "XMP packet scan",
    )

    def accept(self, head: bytes) -> bool:
        if len(head) < 16 or head[4:8] != b"ftyp":
            return False
        size = min(struct.unpack_from(">I", head, 0)[0], len(head))
        brands = [head[8:12]] + [head[i : i + 4] for i in range(16, size - 3, 4)]
        return any(b in BRANDS for b in brands)

    @guarded
    def read_labels(self, data: bytes) -> list[Found]:
        """Labels in the XMP item(s) and Exif UserComment; a packet scan if no XMP item."""
        found: list[Found] = []
        saw_xmp = False
        for item, payload in _meta_items(data):
            where = f"meta/item[{item.item_id}]"
            if item.item_type == b"Exif":
                found += find_user_comments(_exif_tiff(payload), location=f"{where}/Exif")
            else:
                saw_xmp = True
                found += found_in_xmp(payload, location=f"{where}/XMP")
        if not saw_xmp and (packet := _scan_xmp(data)) is not None:
            found += found_in_xmp(packet, location="scan/XMP", normative=False)
        return found

    @guarded
    def read_xmp(self, data: bytes) -> bytes | None:
        """The first XMP item's bytes (or a scanned packet), or None."""
        for item, payload in _meta_items(data):
            if item.item_type == b"mime":
                return payload
        return _scan_xmp(data)

    def write_label(
        self, data: bytes, label_json: str, extra_xmp: dict[str, str] | None = None
    ) -> bytes:
        """Always raises UnsupportedFormat."""
        raise UnsupportedFormat(_WRITE_REFUSAL)

    def reencode(self, data: bytes, draw: Callable[[Image.Image], Image.Image]) -> bytes:
        """Always raises UnsupportedFormat."""
        raise UnsupportedFormat(_WRITE_REFUSAL)


CARRIER = register(HeifCarrier())
