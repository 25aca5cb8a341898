"""M4A / MP4 / MOV (ISO BMFF, QuickTime): the label as the ``mdta`` key ``AIGC``.

Primary place (TC260-PG-20257A / 202510A): ``moov/udta/meta`` (full box, ``hdlr`` handler
``mdta``) with a ``keys`` entry ``mdta`` + ``AIGC`` and, in ``ilst``, an item whose box type is
the key's 1-based index holding a ``data`` atom of type 1 (UTF-8) with the JSON. This is exactly
what ``ffmpeg -i in -c copy -metadata AIGC=... -movflags use_metadata_tags out`` writes.

``write_label`` rebuilds only ``moov`` (and a top-level XMP ``uuid`` box if it held a label).
The key goes into the file's existing ``mdta`` meta if it has one -- ``udta``'s, else a QuickTime
``moov/meta`` (Apple devices write one there; ffmpeg honours a single ``keys`` table per file,
so a second table would garble both) -- where it is added or replaced, other keys kept and
renumbered with their items. Otherwise a new ``mdta`` meta is appended to ``udta`` after any
iTunes-style ``mdir`` meta, which is left intact (``udta`` is created if missing). When a rebuilt
box lies before media data (``moov`` before ``mdat``, i.e. faststart), every ``stco``/``co64``
chunk offset behind it is shifted by the size change; 64-bit box sizes and size 0 (to the end
of the file) are understood. Fragmented files whose ``tfhd`` uses absolute base offsets, or
with an ``mfra`` index, are refused (their offsets would need rewriting too).

Other places read (non-normative) and cleared on write: the iTunes freeform item
``----:com.apple.iTunes:AIGC`` and ``ilst``/``udta`` text atoms (e.g. ``©cmt``) holding AIGC
JSON, ``mdta`` keys in ``moov/meta`` (QuickTime), and ``TC260:AIGC`` in XMP (top-level ``uuid``
BE7ACFCB-97A9-42E8-9C71-999491E3AFAC or ``moov/udta/XMP_``). ``extra_xmp`` becomes further
``mdta`` keys ``aigctag:<Name>`` next to the label (``read_extras`` collects them).

Two carriers share this code, chosen from the ``ftyp`` brands in the first bytes: ``m4a``
(media_type audio) when a brand is ``M4A ``, ``M4B ``, ``M4P ``, ``F4A `` or ``F4B ``; ``mp4``
(media_type video) for every other ISO BMFF / QuickTime file (``isom``, ``mp42``, ``qt  ``,
``M4V ``..., or a QuickTime file starting with ``moov``/``mdat``/``wide``/``free``), except the
HEIF/AVIF brands the heif carrier owns. An ``.mp4`` holding only audio is sniffed as ``mp4``;
:func:`is_audio_only` tells from the track handlers (all ``soun``) so a caller can treat it as
audio.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

from .. import xmp as xmp_mod
from ..errors import CorruptContainer, LimitExceeded, UnsupportedFormat
from . import Found, found_from_value, found_in_xmp, guarded, register, scan_blobs
from .heif import BRANDS as HEIF_BRANDS

__all__ = [
    "M4A_CARRIER",
    "MP4_CARRIER",
    "Box",
    "IsobmffCarrier",
    "boxes",
    "is_audio_only",
]

XMP_UUID = bytes.fromhex("BE7ACFCB97A942E89C71999491E3AFAC")
C2PA_UUID = bytes.fromhex("D8FEC3D61B0E483C92975828877EC481")
AUDIO_BRANDS = {b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "}
LABEL_KEY = "AIGC"
EXTRA_PREFIX = "aigctag:"
MAX_BOXES = 100_000
MAX_DEPTH = 16
#: Largest metadata box we parse (moov is walked, but mdat is never read).
MAX_META_BYTES = 64 * 1024 * 1024
_UTF8 = 1
_QT_START = (b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot")
_TEXT_TYPES = {1: "utf-8", 2: "utf-16-be", 0: "utf-8"}


@dataclass(frozen=True)
class Box:
    """One box: ``start`` at its size field, ``body`` after the (8/16/+16 uuid) header."""

    type: bytes
    start: int
    body: int
    end: int

    def payload(self, data: bytes) -> bytes:
        return data[self.body : self.end]

    def raw(self, data: bytes) -> bytes:
        return data[self.start : self.end]


def boxes(data: bytes, start: int = 0, end: int | None = None, *, strict: bool = True) -> list[Box]:
    """The boxes in ``data[start:end]``; a box running past ``end`` raises CorruptContainer
    (or, with ``strict=False``, ends the walk clamped, for a truncated final ``mdat``)."""
    end = len(data) if end is None else end
    found: list[Box] = []
    pos = start
    while pos + 8 <= end:
        if len(found) >= MAX_BOXES:
            raise LimitExceeded(f"ISO BMFF container has more than {MAX_BOXES} boxes")
        size, btype = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            if pos + 16 > end:
                raise CorruptContainer(f"ISO BMFF box {btype!r} at {pos}: 64-bit size truncated")
            size = struct.unpack_from(">Q", data, pos + 8)[0]
            header = 16
        elif size == 0:
            size = end - pos
        if btype == b"uuid":
            header += 16
        if size < header:
            raise CorruptContainer(f"ISO BMFF box {btype!r} at offset {pos}: size {size} too small")
        if pos + size > end:
            if strict:
                raise CorruptContainer(
                    f"ISO BMFF box {btype!r} at offset {pos} declares {size} bytes, "
                    f"only {end - pos} left"
                )
            found.append(Box(btype, pos, pos + header, end))
            break
        found.append(Box(btype, pos, pos + header, pos + size))
        pos += size
    return found


def _children(data: bytes, box: Box, skip: int = 0) -> list[Box]:
    if box.end - box.body > MAX_META_BYTES and box.type != b"moov":
        raise LimitExceeded(f"ISO BMFF {box.type!r} box of {box.end - box.body} bytes")
    return boxes(data, box.body + skip, box.end)


def _make(btype: bytes, payload: bytes) -> bytes:
    if len(payload) + 8 > 0xFFFFFFFF:
        return struct.pack(">I4sQ", 1, btype, len(payload) + 16) + payload
    return struct.pack(">I4s", len(payload) + 8, btype) + payload


def _first(items: list[Box], btype: bytes) -> Box | None:
    return next((b for b in items if b.type == btype), None)


def _top(data: bytes, *, strict: bool) -> list[Box]:
    top = boxes(data, strict=strict)
    if not top:
        raise CorruptContainer(f"ISO BMFF: no box in {len(data)} bytes")
    return top


def _moov(data: bytes, top: list[Box]) -> Box:
    moov = [b for b in top if b.type == b"moov"]
    if not moov:
        raise CorruptContainer("ISO BMFF has no moov box")
    if len(moov) > 1:
        raise CorruptContainer("ISO BMFF has more than one moov box")
    return moov[0]


# --- meta / keys / ilst ------------------------------------------------------------------------


def _meta_children(data: bytes, meta: Box) -> tuple[bytes, list[Box]]:
    """(version/flags prefix, children): ISO ``meta`` is a full box, QuickTime's is not."""
    if data[meta.body + 4 : meta.body + 8] == b"hdlr":
        return b"", _children(data, meta)
    return data[meta.body : meta.body + 4], _children(data, meta, 4)


def _handler(data: bytes, children: list[Box]) -> bytes:
    hdlr = _first(children, b"hdlr")
    if hdlr is None or hdlr.end - hdlr.body < 12:
        return b""
    return data[hdlr.body + 8 : hdlr.body + 12]


def _keys(data: bytes, box: Box) -> list[tuple[bytes, str]]:
    payload = box.payload(data)
    if len(payload) < 8:
        raise CorruptContainer("ISO BMFF keys box truncated")
    count = struct.unpack_from(">I", payload, 4)[0]
    if count > (len(payload) - 8) // 8:
        raise CorruptContainer(f"ISO BMFF keys box: {count} entries do not fit")
    entries, pos = [], 8
    for _ in range(count):
        size, ns = struct.unpack_from(">I4s", payload, pos)
        if size < 8 or pos + size > len(payload):
            raise CorruptContainer(f"ISO BMFF keys entry of {size} bytes at {pos} truncated")
        entries.append((ns, payload[pos + 8 : pos + size].decode("utf-8", "replace")))
        pos += size
    return entries


def _keys_box(entries: list[tuple[bytes, str]]) -> bytes:
    body = b"".join(
        struct.pack(">I4s", 8 + len(name.encode()), ns) + name.encode() for ns, name in entries
    )
    return _make(b"keys", struct.pack(">II", 0, len(entries)) + body)


def _item_value(data: bytes, item: Box) -> str:
    """The text of the first ``data`` atom of an ilst item ('' for binary types)."""
    for child in _children(data, item):
        if child.type == b"data" and child.end - child.body >= 8:
            kind = struct.unpack_from(">I", data, child.body)[0] & 0xFFFFFF
            if kind in _TEXT_TYPES:
                return data[child.body + 8 : child.end].decode(_TEXT_TYPES[kind], "replace")
            return ""
    return ""


def _freeform_name(data: bytes, item: Box) -> str:
    """``mean:name`` of a ``----`` item."""
    parts = {}
    for child in _children(data, item):
        if child.type in (b"mean", b"name"):
            parts[child.type] = data[child.body + 4 : child.end].decode("utf-8", "replace")
    return f"{parts.get(b'mean', '')}:{parts.get(b'name', '')}"


def _data_atom(text: str) -> bytes:
    return _make(b"data", struct.pack(">II", _UTF8, 0) + text.encode("utf-8"))


def _has_blob(text: str) -> bool:
    return bool(scan_blobs(text.encode("utf-8", "replace"), location="", limit=1))


def _is_label_key(name: str, value: str) -> str:
    """'primary', 'copy' or '' for an mdta key and its value."""
    upper = name.upper()
    if upper.startswith(EXTRA_PREFIX.upper()):
        return ""
    if upper == LABEL_KEY:
        return "primary"
    if LABEL_KEY in upper or _has_blob(value):
        return "copy"
    return ""


@dataclass
class _Mdta:
    """An ``mdta`` meta box decoded into (key, [item bodies]) pairs."""

    entries: list[tuple[bytes, str]]
    items: dict[int, list[bytes]]  # 1-based key index -> item payloads (data atoms)
    values: dict[int, str]


def _read_mdta(data: bytes, children: list[Box]) -> _Mdta:
    keys_box, ilst = _first(children, b"keys"), _first(children, b"ilst")
    entries = _keys(data, keys_box) if keys_box else []
    items: dict[int, list[bytes]] = {}
    values: dict[int, str] = {}
    for item in _children(data, ilst) if ilst else []:
        index = int.from_bytes(item.type, "big")
        items.setdefault(index, []).append(item.payload(data))
        values.setdefault(index, _item_value(data, item))
    return _Mdta(entries, items, values)


# --- reading -----------------------------------------------------------------------------------


@dataclass
class _Places:
    """Where things are, for readers (all lists of Found, plus XMP packets and extras)."""

    found: list[Found]
    xmp: list[bytes]
    extras: dict[str, str]


def _scan(data: bytes) -> _Places:
    top = _top(data, strict=False)
    places = _Places([], [], {})
    for box in top:
        if box.type == b"uuid" and _uuid(data, box) == XMP_UUID:
            packet = _bounded(data, box)
            places.xmp.append(packet)
            places.found += found_in_xmp(packet, location="uuid[XMP]", normative=False)
    moov = _moov(data, top)
    for child in _children(data, moov):
        if child.type == b"udta":
            _scan_udta(data, child, places)
        elif child.type == b"meta":
            _scan_meta(data, child, "moov/meta", places, normative=True)
    return places


def _uuid(data: bytes, box: Box) -> bytes:
    return data[box.body - 16 : box.body]


def _bounded(data: bytes, box: Box) -> bytes:
    if box.end - box.body > xmp_mod.MAX_XMP_BYTES:
        raise LimitExceeded(f"ISO BMFF {box.type!r} box of {box.end - box.body} bytes")
    return box.payload(data)


def _scan_udta(data: bytes, udta: Box, places: _Places) -> None:
    for child in _children(data, udta):
        where = f"moov/udta/{child.type.decode('latin-1')}"
        if child.type == b"meta":
            _scan_meta(data, child, "moov/udta/meta", places, normative=True)
        elif child.type == b"XMP_":
            packet = _bounded(data, child)
            places.xmp.append(packet)
            places.found += found_in_xmp(packet, location=where, normative=False)
        elif child.type[:1] == b"\xa9":
            text = _bounded(data, child)
            for blob in scan_blobs(text, location=where, limit=4):
                blob.carrier, blob.key, blob.form = (
                    "mp4-udta-text",
                    child.type.decode("latin-1"),
                    "text",
                )
                blob.offset += child.body
                places.found.append(blob)


def _scan_meta(data: bytes, meta: Box, where: str, places: _Places, *, normative: bool) -> None:
    _, children = _meta_children(data, meta)
    handler = _handler(data, children)
    if handler == b"mdta":
        mdta = _read_mdta(data, children)
        for i, (_, name) in enumerate(mdta.entries, 1):
            value = mdta.values.get(i, "")
            if name.lower().startswith(EXTRA_PREFIX) and normative:
                places.extras[name[len(EXTRA_PREFIX) :]] = value
            kind = _is_label_key(name, value)
            if kind and i in mdta.values:
                places.found.append(
                    found_from_value(
                        value,
                        carrier="mp4-mdta",
                        location=f"{where}/keys[{i}]",
                        key=name,
                        form="text",
                        normative=normative and kind == "primary",
                    )
                )
    elif handler == b"mdir":
        ilst = _first(children, b"ilst")
        for item in _children(data, ilst) if ilst else []:
            kind, key = _itunes_label(data, item)
            if kind:
                places.found.append(
                    found_from_value(
                        _item_value(data, item),
                        carrier="mp4-itunes",
                        location=f"{where}/ilst/{key}",
                        key=key,
                        form="text",
                        normative=False,
                    )
                )


def _itunes_label(data: bytes, item: Box) -> tuple[bool, str]:
    if item.type == b"----":
        name = _freeform_name(data, item)
        key = f"----:{name}"
        return LABEL_KEY in name.rpartition(":")[2].upper() or _has_blob(
            _item_value(data, item)
        ), key
    key = item.type.decode("latin-1")
    return _has_blob(_item_value(data, item)), key


# --- writing -----------------------------------------------------------------------------------


def _new_mdta_meta(entries: list[tuple[bytes, str]], items: list[tuple[int, bytes]]) -> bytes:
    hdlr = _make(b"hdlr", b"\0" * 8 + b"mdta" + b"\0" * 13)
    return _make(b"meta", b"\0\0\0\0" + hdlr + _keys_box(entries) + _ilst(items))


def _ilst(items: list[tuple[int, bytes]]) -> bytes:
    return _make(b"ilst", b"".join(_make(i.to_bytes(4, "big"), body) for i, body in items))


def _rewrite_mdta(
    mdta: _Mdta, label_json: str, extra: dict[str, str]
) -> tuple[list[tuple[bytes, str]], list[tuple[int, bytes]]]:
    """Keys and items without label copies and replaced extras, plus the label and extras."""
    replaced = {f"{EXTRA_PREFIX}{name}".upper() for name in extra}
    entries: list[tuple[bytes, str]] = []
    items: list[tuple[int, bytes]] = []
    for i, (ns, name) in enumerate(mdta.entries, 1):
        if _is_label_key(name, mdta.values.get(i, "")) or name.upper() in replaced:
            continue
        entries.append((ns, name))
        items += [(len(entries), body) for body in mdta.items.get(i, [])]
    for name, value in [(LABEL_KEY, label_json)] + [
        (EXTRA_PREFIX + k, v) for k, v in extra.items()
    ]:
        entries.append((b"mdta", name))
        items.append((len(entries), _data_atom(value)))
    return entries, items


def _strip_mdta_meta(data: bytes, meta: Box) -> bytes:
    """A (non-primary) mdta meta without label keys."""
    prefix, children = _meta_children(data, meta)
    mdta = _read_mdta(data, children)
    kept = [
        i for i, (_, name) in enumerate(mdta.entries, 1)
        if not _is_label_key(name, mdta.values.get(i, ""))
    ]  # fmt: skip
    if len(kept) == len(mdta.entries):
        return meta.raw(data)
    entries = [mdta.entries[i - 1] for i in kept]
    items = [(n, body) for n, i in enumerate(kept, 1) for body in mdta.items.get(i, [])]
    return _rebuild_meta(data, meta, prefix, children, entries, items)


def _rebuild_meta(
    data: bytes,
    meta: Box,
    prefix: bytes,
    children: list[Box],
    entries: list[tuple[bytes, str]],
    items: list[tuple[int, bytes]],
) -> bytes:
    out: list[bytes] = []
    for child in children:
        if child.type == b"keys":
            out.append(_keys_box(entries))
        elif child.type == b"ilst":
            out.append(_ilst(items))
        else:
            out.append(child.raw(data))
    if not _first(children, b"keys"):
        out.append(_keys_box(entries))
    if not _first(children, b"ilst"):
        out.append(_ilst(items))
    return _make(b"meta", prefix + b"".join(out))


def _strip_itunes_meta(data: bytes, meta: Box) -> bytes:
    prefix, children = _meta_children(data, meta)
    ilst = _first(children, b"ilst")
    if ilst is None:
        return meta.raw(data)
    items = _children(data, ilst)
    kept = [item for item in items if not _itunes_label(data, item)[0]]
    if len(kept) == len(items):
        return meta.raw(data)
    new_ilst = _make(b"ilst", b"".join(item.raw(data) for item in kept))
    body = b"".join(new_ilst if c is ilst else c.raw(data) for c in children)
    return _make(b"meta", prefix + body)


def _strip_xmp(data: bytes, box: Box, header: bytes) -> bytes:
    packet = _bounded(data, box)
    if not xmp_mod.find_label_properties(packet):
        return box.raw(data)
    return _make(box.type, header + xmp_mod.remove_label(packet))


def _label_meta(data: bytes, meta: Box, label_json: str, extra: dict[str, str]) -> bytes:
    """An mdta meta with the label (and extras) added, earlier copies removed."""
    prefix, children = _meta_children(data, meta)
    entries, items = _rewrite_mdta(_read_mdta(data, children), label_json, extra)
    return _rebuild_meta(data, meta, prefix, children, entries, items)


def _is_mdta(data: bytes, meta: Box) -> bool:
    return _handler(data, _meta_children(data, meta)[1]) == b"mdta"


def _new_udta(data: bytes, udta: Box | None, label: tuple[str, dict[str, str]] | None) -> bytes:
    """``udta`` without label copies; ``label`` (json, extras) goes into its mdta meta."""
    children = _children(data, udta) if udta else []
    out: list[bytes] = []
    for child in children:
        if child.type == b"meta":
            handler = _handler(data, _meta_children(data, child)[1])
            if handler == b"mdta" and label is not None:
                out.append(_label_meta(data, child, *label))
                label = None
            elif handler == b"mdta":
                out.append(_strip_mdta_meta(data, child))
            elif handler == b"mdir":
                out.append(_strip_itunes_meta(data, child))
            else:
                out.append(child.raw(data))
        elif child.type == b"XMP_":
            out.append(_strip_xmp(data, child, b""))
        elif child.type[:1] == b"\xa9" and scan_blobs(_bounded(data, child), location="", limit=1):
            continue
        else:
            out.append(child.raw(data))
    if label is not None:
        entries, items = _rewrite_mdta(_Mdta([], {}, {}), *label)
        out.append(_new_mdta_meta(entries, items))
    return _make(b"udta", b"".join(out))


def _new_moov(data: bytes, moov: Box, label_json: str, extra: dict[str, str]) -> bytes:
    """``moov`` with the label in the file's mdta meta: ``udta``'s if it has one, else a
    QuickTime ``moov/meta`` mdta (ffmpeg reads one ``keys`` table per file), else a new one in
    ``udta``. Label copies everywhere else are removed."""
    children = _children(data, moov)
    udta = _first(children, b"udta")
    in_udta = udta is not None and any(
        c.type == b"meta" and _is_mdta(data, c) for c in _children(data, udta)
    )
    moov_meta = next((c for c in children if c.type == b"meta" and _is_mdta(data, c)), None)
    if moov_meta is not None and in_udta:
        moov_meta_target = None
    else:
        moov_meta_target = moov_meta
    udta_label = None if moov_meta_target is not None else (label_json, extra)
    out: list[bytes] = []
    for child in children:
        if child is udta:
            out.append(_new_udta(data, udta, udta_label))
        elif child is moov_meta_target:
            out.append(_label_meta(data, child, label_json, extra))
        elif child.type == b"meta" and _is_mdta(data, child):
            out.append(_strip_mdta_meta(data, child))
        else:
            out.append(child.raw(data))
    if udta is None and udta_label is not None:
        out.append(_new_udta(data, None, udta_label))
    return _make(b"moov", b"".join(out))


def _check_fragments(data: bytes, top: list[Box]) -> None:
    if any(b.type == b"mfra" for b in top):
        raise UnsupportedFormat("fragmented MP4 with an mfra index: tagging would break offsets")
    for moof in (b for b in top if b.type == b"moof"):
        for traf in (c for c in _children(data, moof) if c.type == b"traf"):
            for tfhd in (c for c in _children(data, traf) if c.type == b"tfhd"):
                if tfhd.end - tfhd.body >= 4 and data[tfhd.body + 3] & 1:
                    raise UnsupportedFormat(
                        "fragmented MP4 with absolute base data offsets: tagging would break them"
                    )


_STBL_PATH = (b"trak", b"mdia", b"minf", b"stbl")


def _shift_offsets(moov: bytes, shift: Callable[[int], int]) -> bytes:
    """``moov`` (a complete box) with every stco/co64 entry passed through ``shift``."""
    out = bytearray(moov)
    root = boxes(moov)[0]

    def visit(box: Box, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise LimitExceeded("ISO BMFF boxes nested too deeply")
        for child in boxes(moov, box.body, box.end):
            if child.type in _STBL_PATH:
                visit(child, depth + 1)
            elif child.type in (b"stco", b"co64"):
                wide = child.type == b"co64"
                count = struct.unpack_from(">I", moov, child.body + 4)[0]
                step = 8 if wide else 4
                if child.body + 8 + count * step > child.end:
                    raise CorruptContainer(f"ISO BMFF {child.type!r}: {count} entries do not fit")
                fmt = ">Q" if wide else ">I"
                for n in range(count):
                    at = child.body + 8 + n * step
                    new = shift(struct.unpack_from(fmt, moov, at)[0])
                    if not wide and new > 0xFFFFFFFF:
                        raise LimitExceeded("chunk offset overflows stco after tagging")
                    struct.pack_into(fmt, out, at, new)

    visit(root, 0)
    return bytes(out)


# --- the carriers ------------------------------------------------------------------------------


def _brands(head: bytes) -> list[bytes]:
    if len(head) < 12 or head[4:8] != b"ftyp":
        return []
    size = min(struct.unpack_from(">I", head, 0)[0], len(head))
    return [head[8:12]] + [head[i : i + 4] for i in range(16, size - 3, 4)]


def _is_isobmff(head: bytes) -> bool:
    if head[4:8] == b"ftyp":
        return len(head) >= 12
    if len(head) >= 8 and head[4:8] in _QT_START:
        size = struct.unpack_from(">I", head, 0)[0]
        return size in (0, 1) or size >= 8
    return False


def is_audio_only(data: bytes) -> bool:
    """True when every ``trak`` has handler ``soun`` (an audio-only MP4/MOV)."""
    moov = _moov(data, _top(data, strict=False))
    handlers = []
    for trak in (b for b in _children(data, moov) if b.type == b"trak"):
        mdia = _first(_children(data, trak), b"mdia")
        handlers.append(_handler(data, _children(data, mdia)) if mdia else b"")
    return bool(handlers) and all(h == b"soun" for h in handlers)


class IsobmffCarrier:
    """The M4A and MP4/MOV carriers (see the module docstring)."""

    mime_by_name = {"m4a": "audio/mp4", "mp4": "video/mp4"}
    can_write = True
    label_places = (
        "moov/udta/meta mdta key AIGC",
        "moov/meta mdta key AIGC",
        "ilst ----:com.apple.iTunes:AIGC or text atom with AIGC JSON",
        "moov/udta text atom (©cmt) with AIGC JSON",
        "uuid XMP / udta XMP_ TC260:AIGC",
    )

    def __init__(self, name: str, media_type: str, extensions: tuple[str, ...]) -> None:
        self.name, self.media_type, self.extensions = name, media_type, extensions
        self.mime = self.mime_by_name[name]

    def accept(self, head: bytes) -> bool:
        if not _is_isobmff(head):
            return False
        brands = set(_brands(head))
        if brands & HEIF_BRANDS:
            return False
        audio = bool(brands & AUDIO_BRANDS)
        return audio if self.name == "m4a" else not audio

    def _check(self, data: bytes) -> None:
        if not _is_isobmff(data[:64]):
            if len(data) < 12:
                raise CorruptContainer(f"{self.name.upper()} truncated: {len(data)} bytes")
            raise UnsupportedFormat(f"not an {self.name.upper()} (ISO BMFF) file")

    @guarded
    def read_labels(self, data: bytes) -> list[Found]:
        """Labels in every place listed in ``label_places``."""
        self._check(data)
        return _scan(data).found

    @guarded
    def read_xmp(self, data: bytes) -> bytes | None:
        """The first XMP packet (top-level ``uuid`` or ``udta/XMP_``), or None."""
        self._check(data)
        packets = _scan(data).xmp
        return packets[0] if packets else None

    @guarded
    def read_extras(self, data: bytes) -> dict[str, str]:
        """``aigctag:<Name>`` mdta keys of ``moov/udta/meta`` as {Name: value}."""
        self._check(data)
        return _scan(data).extras

    @guarded
    def has_c2pa(self, data: bytes) -> bool:
        """True when a top-level ``uuid`` box carries the C2PA UUID."""
        self._check(data)
        return any(
            b.type == b"uuid" and _uuid(data, b) == C2PA_UUID for b in _top(data, strict=False)
        )

    @guarded
    def write_label(
        self, data: bytes, label_json: str, extra_xmp: dict[str, str] | None = None
    ) -> bytes:
        """The ``mdta`` key ``AIGC`` in ``moov/udta/meta``; see the module docstring."""
        self._check(data)
        top = _top(data, strict=True)
        moov = _moov(data, top)
        if any(b.type == b"moof" for b in top) or any(b.type == b"mfra" for b in top):
            _check_fragments(data, top)
        edits: list[tuple[Box, bytes]] = [
            (moov, _new_moov(data, moov, label_json, extra_xmp or {}))
        ]
        for box in top:
            if box.type == b"uuid" and _uuid(data, box) == XMP_UUID:
                new = _strip_xmp(data, box, XMP_UUID)
                if new != box.raw(data):
                    edits.append((box, new))
        changes = [(box.end, len(new) - (box.end - box.start)) for box, new in edits]

        def shift(offset: int) -> int:
            return offset + sum(delta for end, delta in changes if end <= offset)

        replaced = {box.start: new for box, new in edits}
        replaced[moov.start] = _shift_offsets(replaced[moov.start], shift)
        out = [replaced.get(box.start, box.raw(data)) for box in top]
        tail = data[top[-1].end :]
        return b"".join(out) + tail

    def reencode(self, data: bytes, draw: Callable) -> bytes:
        raise UnsupportedFormat(
            f"{self.name.upper()}: re-encoding is not supported by this carrier"
        )


M4A_CARRIER = register(IsobmffCarrier("m4a", "audio", (".m4a", ".m4b", ".m4p", ".f4a")))
MP4_CARRIER = register(IsobmffCarrier("mp4", "video", (".mp4", ".m4v", ".mov", ".qt", ".3gp")))


#: The first box of a DASH/CMAF media segment (ISO/IEC 23009-1 §6.3.4: ``styp``, else ``sidx``,
#: ``emsg`` or straight ``moof``); such a segment holds no ``moov`` and so no metadata.
_SEGMENT_START = (b"styp", b"moof", b"sidx", b"emsg")


class SegmentCarrier:
    """A DASH/CMAF media segment (``.m4s``): movie fragments without a ``moov``.

    It cannot hold a label (the TC260 places are all under ``moov``, which lives in the init
    segment); the verifier reads the label and checks C2PA through the init segment beside it.
    Tagging a lone segment is refused: tag the init segment (or the whole presentation)."""

    name = "m4s"
    media_type = "video"
    mime = "video/mp4"
    extensions = (".m4s", ".cmfv", ".cmfa")
    can_write = False
    label_places = ("none in a media segment: moov/udta/meta of the init segment beside it",)

    def accept(self, head: bytes) -> bool:
        if len(head) < 8 or head[4:8] not in _SEGMENT_START:
            return False
        size = struct.unpack_from(">I", head, 0)[0]
        return size == 1 or size >= 8

    @guarded
    def read_labels(self, data: bytes) -> list[Found]:
        _top(data, strict=False)  # a walk that fails on a broken box says so (M01)
        return []

    def read_xmp(self, data: bytes) -> bytes | None:
        return None

    def write_label(
        self, data: bytes, label_json: str, extra_xmp: dict[str, str] | None = None
    ) -> bytes:
        raise UnsupportedFormat(
            "a DASH/CMAF media segment has no moov to hold a label: tag its init segment"
        )

    def reencode(self, data: bytes, draw: Callable) -> bytes:
        raise UnsupportedFormat("a DASH/CMAF media segment cannot be re-encoded on its own")


SEGMENT_CARRIER = register(SegmentCarrier())
