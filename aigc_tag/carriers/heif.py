"""HEIF, HEIC and AVIF (ISOBMFF still images).

The label lives in an XMP item (ISO/IEC 23008-12): an ``infe`` entry of type ``mime`` with
content type ``application/rdf+xml`` in ``meta/iinf``, its bytes located by ``meta/iloc`` (in the
file or in ``meta/idat``). An ``Exif`` item is read too, for an Annex B UserComment copy. Only the
top-level boxes and the children of ``meta`` are walked, every box must fit in its parent, and
box, item and extent counts are capped. If the walk finds no XMP item, the file is scanned for
an ``<x:xmpmeta`` packet as a last resort.

``write_label`` edits the ``meta`` box only (see "writing" below): the label is merged into the
XMP item, or a new XMP item is added, and every coded image stays byte for byte as it was.
``reencode`` (caption, watermark) decodes and encodes the primary image again.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from PIL import Image

from ..errors import CorruptContainer, LimitExceeded, UnsupportedFormat
from ..imaging import open_image
from ..xmp import MAX_XMP_BYTES
from . import Found, found_in_xmp, guarded, register
from ._exif import blank_label_user_comments, find_user_comments

__all__ = ["CARRIER", "BRANDS", "HeifCarrier", "Item"]

BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}
XMP_MIME = b"application/rdf+xml"
MAX_BOXES = 10_000
MAX_ITEMS = 65_536
MAX_EXTENTS = 1024
#: Quality of the HEVC/AV1 re-encode the caption and watermark layers need (metadata-only
#: tagging never re-encodes).
REENCODE_QUALITY = 80


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
    name: bytes = b""
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
    item.name, pos = _cstring(data, pos + 4, box.end)
    if item.item_type == b"mime":
        item.content_type, pos = _cstring(data, pos, box.end)
        item.encoding, pos = _cstring(data, pos, box.end)
    return item


def _read_uint(data: bytes, pos: int, size: int) -> tuple[int, int]:
    if pos + size > len(data):
        raise CorruptContainer("HEIF iloc truncated")
    return int.from_bytes(data[pos : pos + size], "big"), pos + size


@dataclass
class _Loc:
    """One ``iloc`` entry as stored: extents are (index, offset, length), offsets from ``base``."""

    item_id: int
    method: int
    ref_index: int
    base: int
    extents: list[tuple[int, int, int]]


@dataclass
class _Iloc:
    """The whole ``iloc`` box: field widths in bytes and every entry."""

    version: int
    offset_size: int
    length_size: int
    base_size: int
    index_size: int
    entries: list[_Loc]


def _parse_iloc_full(data: bytes, box: _Box) -> _Iloc:
    version = data[box.body]
    sizes = data[box.body + 4 : box.body + 6]
    if len(sizes) < 2:
        raise CorruptContainer("HEIF iloc truncated")
    iloc = _Iloc(version, sizes[0] >> 4, sizes[0] & 15, sizes[1] >> 4, 0, [])
    iloc.index_size = sizes[1] & 15 if version in (1, 2) else 0
    if any(s not in (0, 4, 8) for s in (iloc.offset_size, iloc.length_size, iloc.base_size)):
        raise CorruptContainer("HEIF iloc: field sizes other than 0, 4 or 8 bytes")
    id_size = 2 if version < 2 else 4
    count, pos = _read_uint(data, box.body + 6, id_size)
    if count > MAX_ITEMS:
        raise LimitExceeded(f"HEIF iloc: {count} items")
    for _ in range(count):
        item_id, pos = _read_uint(data, pos, id_size)
        method = 0
        if version in (1, 2):
            method, pos = _read_uint(data, pos, 2)
            method &= 15
        ref, pos = _read_uint(data, pos, 2)
        base, pos = _read_uint(data, pos, iloc.base_size)
        extent_count, pos = _read_uint(data, pos, 2)
        if extent_count > MAX_EXTENTS:
            raise LimitExceeded(f"HEIF iloc: item {item_id} has {extent_count} extents")
        extents = []
        for _ in range(extent_count):
            index, pos = _read_uint(data, pos, iloc.index_size)
            offset, pos = _read_uint(data, pos, iloc.offset_size)
            length, pos = _read_uint(data, pos, iloc.length_size)
            extents.append((index, offset, length))
        if pos > box.end:
            raise CorruptContainer("HEIF iloc runs past its box")
        iloc.entries.append(_Loc(item_id, method, ref, base, extents))
    return iloc


def _parse_iloc(data: bytes, box: _Box, items: dict[int, Item]) -> None:
    """Fill ``extents`` and ``method`` of the items we know from iinf."""
    for loc in _parse_iloc_full(data, box).entries:
        if loc.item_id in items:
            item = items[loc.item_id]
            item.method = loc.method
            item.extents = [(loc.base + offset, length) for _i, offset, length in loc.extents]


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


# --- writing -------------------------------------------------------------------------------
# The label goes into an XMP item whose bytes sit in a new ``mdat`` box appended at the end of the
# file (construction method 0, file offsets), so every iloc version and field width can hold it.
# ``meta`` grows by the new infe, iloc entry and iref ``cdsc`` reference, which moves everything
# after it: every file-offset extent past the old ``meta`` is shifted by the growth. Items whose
# content changes (XMP items, an Exif item with a label UserComment) are relocated to the new mdat
# and their old bytes zeroed, so no stale label copy is left behind; an mdat at the end holding
# only such items (the one a previous run appended) is dropped instead, so re-tagging does not
# grow the file.


def _uint(value: int, size: int) -> bytes:
    return value.to_bytes(size, "big") if size else b""


def _box(btype: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), btype) + payload


def _full_box(btype: bytes, version: int, flags: int, payload: bytes) -> bytes:
    return _box(btype, bytes([version]) + flags.to_bytes(3, "big") + payload)


def _width(values: list[int], at_least: int) -> int:
    """The smallest iloc field width (0, 4 or 8 bytes, never below ``at_least``) for values."""
    top = max(values, default=0)
    for size in (0, 4, 8):
        if size >= at_least and top < (1 << (8 * size)):
            return size
    raise LimitExceeded("HEIF iloc: an offset does not fit in 64 bits")


def _serialize_iloc(iloc: _Iloc) -> bytes:
    ids = [loc.item_id for loc in iloc.entries]
    version = 2 if max(ids, default=0) > 0xFFFF else iloc.version
    if version == 0 and any(loc.method for loc in iloc.entries):
        version = 1
    offsets = [off for loc in iloc.entries for _i, off, _n in loc.extents]
    offset_size = _width(offsets, iloc.offset_size)
    length_size = _width([n for loc in iloc.entries for *_x, n in loc.extents], iloc.length_size)
    base_size = _width([loc.base for loc in iloc.entries], iloc.base_size)
    index_size = iloc.index_size if version in (1, 2) else 0
    id_size = 2 if version < 2 else 4
    out = [bytes([offset_size << 4 | length_size, base_size << 4 | index_size])]
    out.append(_uint(len(iloc.entries), id_size))
    for loc in iloc.entries:
        out.append(_uint(loc.item_id, id_size))
        if version in (1, 2):
            out.append(_uint(loc.method, 2))
        out += [_uint(loc.ref_index, 2), _uint(loc.base, base_size), _uint(len(loc.extents), 2)]
        for index, offset, length in loc.extents:
            out += [_uint(index, index_size), _uint(offset, offset_size)]
            out.append(_uint(length, length_size))
    return _full_box(b"iloc", version, 0, b"".join(out))


def _new_infe(item_id: int, encoding: bytes = b"", name: bytes = b"XMP") -> bytes:
    version = 2 if item_id <= 0xFFFF else 3
    body = _uint(item_id, 2 if version == 2 else 4) + b"\0\0mime" + name + b"\0"
    body += XMP_MIME + b"\0" + (encoding + b"\0" if encoding else b"")
    return _full_box(b"infe", version, 1, body)  # flag 1: hidden, metadata is not displayed


def _serialize_iinf(data: bytes, box: _Box, replace: dict[int, bytes], add: list[bytes]) -> bytes:
    """The iinf box with some infe boxes replaced (by item id) and new ones appended."""
    version = data[box.body]
    pos = box.body + 4 + (2 if version == 0 else 4)
    entries = []
    for infe in _boxes(data, pos, box.end, "iinf"):
        item = _parse_infe(data, infe) if infe.type == b"infe" else None
        raw = data[infe.start : infe.end]
        entries.append(replace.get(item.item_id, raw) if item is not None else raw)
    entries += add
    if version == 0 and len(entries) > 0xFFFF:
        version = 1
    count = _uint(len(entries), 2 if version == 0 else 4)
    return _full_box(b"iinf", version, 0, count + b"".join(entries))


def _serialize_iref(data: bytes, box: _Box | None, from_id: int, to_id: int) -> bytes:
    """The iref box (a new one if ``box`` is None) with a ``cdsc`` from ``from_id`` to ``to_id``."""
    version = data[box.body] if box is not None else 0
    if max(from_id, to_id) > 0xFFFF and version == 0:
        if box is not None:
            raise UnsupportedFormat("HEIF iref: 16-bit references cannot name an item above 65535")
        version = 1
    size = 2 if version == 0 else 4
    old = data[box.body + 4 : box.end] if box is not None else b""
    ref = _box(b"cdsc", _uint(from_id, size) + _uint(1, 2) + _uint(to_id, size))
    return _full_box(b"iref", version, 0, old + ref)


def _primary_id(data: bytes, pitm: _Box | None) -> int:
    if pitm is None:
        raise UnsupportedFormat("HEIF without a primary item (pitm): nothing to attach a label to")
    size = 2 if data[pitm.body] == 0 else 4
    return _read_uint(data, pitm.body + 4, size)[0]


@dataclass
class _Plan:
    """What one write changes: new item contents and where the file's structure is."""

    top: list[_Box]
    meta: _Box
    children: list[_Box]
    iloc: _Iloc
    payloads: dict[int, bytes]  # item id -> new content, relocated to the appended mdat
    infe_replace: dict[int, bytes]
    new_item: int | None  # id of an XMP item added by this write


def _plan(data: bytes, label_json: str, extra: dict[str, str] | None) -> _Plan:
    from .. import xmp as xmp_mod

    top = list(_boxes(data, 0, len(data), "file"))
    meta = next((b for b in top if b.type == b"meta"), None)
    if meta is None:
        raise UnsupportedFormat("HEIF without a top-level meta box (an image sequence?)")
    if any(b.type == b"moov" for b in top):
        raise UnsupportedFormat("HEIF image sequences (moov) are not written, still images only")
    children = list(_boxes(data, meta.body + 4, meta.end, "meta"))
    kids = {b.type: b for b in children}
    if b"iinf" not in kids or b"iloc" not in kids:
        raise UnsupportedFormat("HEIF meta without iinf/iloc: no item to label")
    items = _parse_iinf(data, kids[b"iinf"])
    iloc = _parse_iloc_full(data, kids[b"iloc"])
    _parse_iloc(data, kids[b"iloc"], items)
    payloads: dict[int, bytes] = {}
    infe_replace: dict[int, bytes] = {}
    xmp_items = [i for i in items.values() if i.item_type == b"mime" and i.content_type == XMP_MIME]
    for n, item in enumerate(xmp_items):
        raw = _item_bytes(data, item, kids.get(b"idat"))
        if raw is None:
            raise UnsupportedFormat(f"HEIF XMP item {item.item_id}: its construction method")
        old = _decoded(item, raw)
        payloads[item.item_id] = (
            xmp_mod.merge_label(old, label_json, extra) if n == 0 else xmp_mod.remove_label(old)
        )
        if item.encoding:  # written back uncompressed
            infe_replace[item.item_id] = _new_infe(item.item_id, name=item.name)
    for item in items.values():
        if item.item_type == b"Exif" and (raw := _item_bytes(data, item, kids.get(b"idat"))):
            prefix = 4 + struct.unpack_from(">I", raw, 0)[0] if len(raw) >= 4 else len(raw)
            blanked = raw[:prefix] + blank_label_user_comments(raw[prefix:])
            if blanked != raw:
                payloads[item.item_id] = blanked
    new_item = None
    if not xmp_items:
        ids = set(items) | {loc.item_id for loc in iloc.entries}
        new_item = max(ids | {_primary_id(data, kids.get(b"pitm"))}) + 1
        payloads[new_item] = xmp_mod.new_packet(label_json, extra)
        iloc.entries.append(_Loc(new_item, 0, 0, 0, []))
    return _Plan(top, meta, children, iloc, payloads, infe_replace, new_item)


def _ranges(loc: _Loc, data_len: int, idat: _Box | None) -> list[tuple[int, int]]:
    """Absolute (start, end) file ranges of a local method-0 or idat entry."""
    if loc.ref_index != 0 or loc.method not in (0, 1) or (loc.method == 1 and idat is None):
        return []
    base, end = (0, data_len) if loc.method == 0 else (idat.body, idat.end)  # type: ignore[union-attr]
    out = []
    for _i, offset, length in loc.extents:
        start = base + loc.base + offset
        stop = end if length == 0 else min(start + length, end)
        if start < stop:  # an extent past its source is not ours to zero (the reader reports it)
            out.append((start, stop))
    return out


def _drop_own_mdat(data: bytes, plan: _Plan) -> int:
    """The file length to keep: without the last mdat if it holds only relocated items."""
    last = plan.top[-1]
    if last.type != b"mdat" or last.start < plan.meta.end:
        return len(data)
    idat = next((b for b in plan.children if b.type == b"idat"), None)
    moved, kept = [], []
    for loc in plan.iloc.entries:
        (moved if loc.item_id in plan.payloads else kept).append(_ranges(loc, len(data), idat))
    if any(s < last.end and e > last.body for rs in kept for s, e in rs):
        return len(data)
    covered = sorted((s, e) for rs in moved for s, e in rs if last.body <= s < last.end)
    pos = last.body
    for s, e in covered:
        if s > pos:
            return len(data)
        pos = max(pos, e)
    return last.start if pos >= last.end else len(data)


def _zero_moved(buf: bytearray, plan: _Plan, keep: int) -> None:
    """Zero the old bytes of relocated items (stale label copies), unless another item uses them."""
    idat = next((b for b in plan.children if b.type == b"idat"), None)
    moved, kept = [], []
    for loc in plan.iloc.entries:
        ranges = _ranges(loc, len(buf), idat)
        (moved if loc.item_id in plan.payloads else kept).extend(ranges)
    for s, e in moved:
        if e <= keep and not any(ks < e and ke > s for ks, ke in kept):
            buf[s:e] = bytes(e - s)


def _relocated(plan: _Plan, data_len: int, delta: int, mdat_at: int) -> _Iloc:
    """The iloc after the write: moved items in the new mdat, later offsets shifted by delta."""
    meta = plan.meta
    entries, pos = [], mdat_at + 8
    for loc in plan.iloc.entries:
        if loc.item_id in plan.payloads:
            size = len(plan.payloads[loc.item_id])
            # libheif's layout (position in base_offset, extent offset 0) when the iloc has a
            # base_offset field: c2pa-rs, embedding a manifest, moves the base and every
            # non-zero extent offset, so a position in both fields would be moved twice.
            if plan.iloc.base_size:
                entries.append(_Loc(loc.item_id, 0, 0, pos, [(0, 0, size)]))
            else:
                entries.append(_Loc(loc.item_id, 0, 0, 0, [(0, pos, size)]))
            pos += size
            continue
        if loc.ref_index != 0 or loc.method != 0:
            entries.append(loc)  # idat, item-offset or external data: no file offsets to move
            continue
        entries.append(_shifted(loc, data_len, meta, delta))
    return _Iloc(plan.iloc.version, plan.iloc.offset_size, plan.iloc.length_size,
                 plan.iloc.base_size, plan.iloc.index_size, entries)  # fmt: skip


def _shifted(loc: _Loc, data_len: int, meta: _Box, delta: int) -> _Loc:
    extents = []
    for index, offset, length in loc.extents:
        start = loc.base + offset
        if meta.start <= start < meta.end:
            raise UnsupportedFormat(f"HEIF item {loc.item_id} has data inside meta outside idat")
        if length == 0:  # "to the end of the file": the new mdat must not become part of it
            length = data_len - start
        if start >= meta.end and loc.base < meta.end:  # else the base below moves it
            offset += delta
        extents.append((index, offset, length))
    base = loc.base + delta if loc.base >= meta.end else loc.base
    return _Loc(loc.item_id, loc.method, loc.ref_index, base, extents)


def _new_meta(data: bytes, plan: _Plan, iloc: bytes) -> bytes:
    kids = {b.type: b for b in plan.children}
    add = [_new_infe(plan.new_item)] if plan.new_item is not None else []
    iinf = _serialize_iinf(data, kids[b"iinf"], plan.infe_replace, add)
    iref = None
    if plan.new_item is not None:
        primary = _primary_id(data, kids.get(b"pitm"))
        iref = _serialize_iref(data, kids.get(b"iref"), plan.new_item, primary)
    parts = []
    for child in plan.children:
        if child.type == b"iloc":
            parts.append(iloc)
        elif child.type == b"iinf":
            parts.append(iinf)
            if iref is not None and b"iref" not in kids:
                parts.append(iref)
        elif child.type == b"iref" and iref is not None:
            parts.append(iref)
        else:
            parts.append(data[child.start : child.end])
    head = data[plan.meta.body : plan.meta.body + 4]  # meta version and flags
    return _box(b"meta", head + b"".join(parts))


def _explicit_last_size(buf: bytearray, plan: _Plan, keep: int) -> None:
    """A last box of size 0 ("to the end of the file") would swallow the appended mdat."""
    last = next((b for b in reversed(plan.top) if b.end <= keep), None)
    if last is None or struct.unpack_from(">I", buf, last.start)[0] != 0:
        return
    if last.end - last.start > 0xFFFFFFFF:
        raise UnsupportedFormat("HEIF: a last box over 4 GiB without an explicit size")
    struct.pack_into(">I", buf, last.start, last.end - last.start)


def write_xmp(data: bytes, label_json: str, extra: dict[str, str] | None = None) -> bytes:
    """The file with the label merged into its XMP item (added if missing), pixels untouched."""
    plan = _plan(data, label_json, extra)
    keep = _drop_own_mdat(data, plan)
    buf = bytearray(data)
    _zero_moved(buf, plan, keep)
    _explicit_last_size(buf, plan, keep)
    body = bytes(buf)
    meta_len = plan.meta.end - plan.meta.start
    delta = 0
    for _ in range(8):  # field widths only grow, so this settles in a step or two
        mdat_at = keep + delta
        iloc = _serialize_iloc(_relocated(plan, keep, delta, mdat_at))
        meta = _new_meta(body, plan, iloc)
        if len(meta) - meta_len == delta:
            break
        delta = len(meta) - meta_len
    else:
        raise CorruptContainer("HEIF: the rewritten meta box does not settle in size")
    mdat = _box(b"mdat", b"".join(plan.payloads[loc.item_id] for loc in plan.iloc.entries
                                  if loc.item_id in plan.payloads))  # fmt: skip
    return body[: plan.meta.start] + meta + body[plan.meta.end : keep] + mdat


class HeifCarrier:
    """The HEIF/HEIC/AVIF carrier (see the module docstring)."""

    name = "heif"
    media_type = "image"
    mime = "image/heif"
    extensions = (".heic", ".heif", ".avif", ".hif")
    can_write = True
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

    @guarded
    def write_label(
        self, data: bytes, label_json: str, extra_xmp: dict[str, str] | None = None
    ) -> bytes:
        """Merge the label into the XMP item (adding one, with a ``cdsc`` reference to the
        primary image, if there is none) and blank label UserComments in the Exif item; the coded
        images are copied byte for byte (see "writing" above)."""
        return write_xmp(data, label_json, extra_xmp)

    def reencode(self, data: bytes, draw: Callable[[Image.Image], Image.Image]) -> bytes:
        """Decode the primary image, draw on it and encode it again in the source's codec (HEVC
        through pillow-heif, AV1 through Pillow) at quality :data:`REENCODE_QUALITY`, with the
        source's EXIF, XMP and ICC profile. Thumbnails, depth and auxiliary images and any other
        top-level images are not carried over; high bit depth sources come back as 8 bits."""
        im = open_image(data)
        fmt = "AVIF" if im.format == "AVIF" else "HEIF"
        if im.mode not in ("RGB", "RGBA", "L", "LA"):
            im = im.convert("RGBA" if "A" in im.getbands() else "RGB")
        out = draw(im)
        if out.size != im.size:
            raise ValueError(f"draw returned a {out.size} image for a {im.size} one")
        keep = {k: im.info[k] for k in ("exif", "xmp", "icc_profile") if im.info.get(k)}
        buf = io.BytesIO()
        try:
            out.save(buf, fmt, quality=REENCODE_QUALITY, **keep)
        except (OSError, ValueError, KeyError) as exc:
            raise CorruptContainer(f"{fmt} re-encode failed: {exc}") from None
        return buf.getvalue()


CARRIER = register(HeifCarrier())
