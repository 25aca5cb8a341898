"""Matroska and WebM: the label as the whole-file ``Tags/Tag/SimpleTag`` named ``AIGC``.

The primary place is a ``Tag`` whose ``Targets`` are empty, absent, or ``TargetTypeValue`` 50
without UIDs (the whole segment), holding ``SimpleTag`` with ``TagName`` ``AIGC`` and
``TagString`` the Annex E JSON: what ``ffmpeg -metadata AIGC=... -c copy out.mkv`` writes, and
what ffprobe shows as the format tag ``AIGC``. aigc-tag's own properties (``extra_xmp``) are
SimpleTags ``AIGCTAG_<Name>`` in the same Tag; Matroska has no XMP place, so ``read_xmp`` returns
None and ``read_extras`` collects them. Non-normative copies read (and removed on write): a
SimpleTag ``AIGC`` in a track/chapter-targeted Tag and any SimpleTag string holding an AIGC JSON
blob (e.g. ``COMMENT``).

``write_label`` is a linear walk of the first Segment's level-1 elements (clusters are skipped by
their size, or walked child by child when their size is unknown) and never moves a cluster, so
``Cues`` and ``SeekHead`` positions (relative to the Segment data start) stay valid:

* the new ``Tags`` is written in place of the first ``Tags`` when it fits in that element plus the
  ``Void`` elements right after it, the rest filled with ``Void``;
* otherwise the old ``Tags`` becomes a ``Void`` of the same size and the new one is appended after
  the last level-1 element of the Segment (a known Segment size is fixed, an unknown size stays
  unknown); the ``SeekHead`` entry for Tags is updated in place, or the SeekHead is rewritten into
  its own slot (with the following ``Void``) to point at the new Tags; if it has no room, the
  stale Tags entry is voided out;
* later ``Tags`` elements lose their label SimpleTags in place (Void padding).

A ``CRC-32`` child of a rewritten element is recomputed. The EBML header ``DocType`` decides
between the two registered carriers (``webm`` for ``webm``, ``matroska`` for anything else);
the WebM output uses only elements WebM allows (Tags, SimpleTag, Void). ``has_c2pa`` is True when
an attachment has the MIME type ``application/c2pa`` (C2PA defines no Matroska embedding yet).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ..errors import CorruptContainer, LimitExceeded, UnsupportedFormat
from . import Found, found_from_value, guarded, register, scan_blobs

__all__ = ["CARRIER", "WEBM", "Element", "MatroskaCarrier", "doc_type", "level1"]

EBML_ID = 0x1A45DFA3
SEGMENT = 0x18538067
SEEKHEAD, SEEK, SEEK_ID, SEEK_POS = 0x114D9B74, 0x4DBB, 0x53AB, 0x53AC
CLUSTER, CUES, TAGS, TAG = 0x1F43B675, 0x1C53BB6B, 0x1254C367, 0x7373
TARGETS, TARGET_TYPE_VALUE = 0x63C0, 0x68CA
TARGET_UIDS = (0x63C5, 0x63C9, 0x63C4, 0x63C6)  # TagTrackUID, EditionUID, ChapterUID, AttachUID
SIMPLE_TAG, TAG_NAME, TAG_STRING = 0x67C8, 0x45A3, 0x4487
ATTACHMENTS, ATTACHED_FILE, FILE_MIME = 0x1941A469, 0x61A7, 0x4660
VOID, CRC32, DOC_TYPE = 0xEC, 0xBF, 0x4282
LEVEL1 = (SEEKHEAD, 0x1549A966, 0x1654AE6B, CLUSTER, CUES, TAGS, 0x1043A770, ATTACHMENTS)
LABEL_NAME = "AIGC"
EXTRA_PREFIX = "AIGCTAG_"
#: Bounds for hostile files.
MAX_ELEMENTS = 5_000_000
MAX_DEPTH = 16
MAX_META_BYTES = 16 * 1024 * 1024
_UNKNOWN = -1


@dataclass(frozen=True)
class Element:
    """One EBML element: ``start`` is the offset of its ID, ``data`` of its payload; ``size`` is
    -1 for an unknown size (then ``end`` is where the walk found the next sibling)."""

    id: int
    start: int
    data: int
    size: int
    end: int

    @property
    def name(self) -> str:
        return f"0x{self.id:X}@{self.start}"

    def payload(self, buf: bytes) -> bytes:
        return buf[self.data : self.end]


# --- EBML primitives ---------------------------------------------------------------------------


def _read_id(buf: bytes, pos: int, limit: int) -> tuple[int, int]:
    if pos >= limit:
        raise CorruptContainer(f"Matroska element ID at offset {pos} truncated")
    first = buf[pos]
    length = 1 if first & 0x80 else 2 if first & 0x40 else 3 if first & 0x20 else 4
    if not first & 0xF0:
        raise CorruptContainer(f"Matroska invalid element ID at offset {pos}")
    if pos + length > limit:
        raise CorruptContainer(f"Matroska element ID at offset {pos} truncated")
    return int.from_bytes(buf[pos : pos + length], "big"), pos + length


def _read_size(buf: bytes, pos: int, limit: int) -> tuple[int, int, int]:
    """(value or -1 for unknown, offset after, length of the size field)."""
    if pos >= limit:
        raise CorruptContainer(f"Matroska element size at offset {pos} truncated")
    first = buf[pos]
    if not first:
        raise CorruptContainer(f"Matroska invalid element size at offset {pos}")
    length = 9 - first.bit_length()
    if pos + length > limit:
        raise CorruptContainer(f"Matroska element size at offset {pos} truncated")
    value = int.from_bytes(buf[pos : pos + length], "big") & ((1 << (7 * length)) - 1)
    if value == (1 << (7 * length)) - 1:
        value = _UNKNOWN
    return value, pos + length, length


def encode_size(value: int, length: int = 0) -> bytes:
    """An EBML size vint, minimal unless ``length`` is given (1..8)."""
    need = 1
    while value >= (1 << (7 * need)) - 1:
        need += 1
    if length and length < need or need > 8:
        raise LimitExceeded(f"Matroska size {value} does not fit in {length or 8} bytes")
    length = length or need
    return ((1 << (7 * length)) | value).to_bytes(length, "big")


def _encode_id(eid: int) -> bytes:
    return eid.to_bytes((eid.bit_length() + 7) // 8, "big")


def element(eid: int, payload: bytes, size_length: int = 0) -> bytes:
    return _encode_id(eid) + encode_size(len(payload), size_length) + payload


def void(total: int) -> bytes:
    """A Void element exactly ``total`` bytes long (``total`` is 0 or at least 2)."""
    if total == 0:
        return b""
    if total < 2:
        raise ValueError("a Void element needs at least 2 bytes")
    if total - 2 <= 126:
        return element(VOID, b"\0" * (total - 2), 1)
    return element(VOID, b"\0" * (total - 9), 8)


def _uint(payload: bytes) -> int:
    if len(payload) > 8:
        raise CorruptContainer("Matroska unsigned integer longer than 8 bytes")
    return int.from_bytes(payload, "big")


def children(buf: bytes, start: int, end: int, *, what: str = "element") -> Iterator[Element]:
    """The child elements in ``buf[start:end]`` (known sizes only, as inside metadata)."""
    pos, count = start, 0
    while pos < end:
        count += 1
        if count > MAX_ELEMENTS:
            raise LimitExceeded(f"Matroska {what} has more than {MAX_ELEMENTS} children")
        eid, p = _read_id(buf, pos, end)
        size, p, _ = _read_size(buf, p, end)
        if size == _UNKNOWN:
            raise CorruptContainer(f"Matroska {what}: child 0x{eid:X} has an unknown size")
        if p + size > end:
            raise CorruptContainer(
                f"Matroska {what}: child 0x{eid:X} at offset {pos} runs past its parent"
            )
        yield Element(eid, pos, p, size, p + size)
        pos = p + size


def doc_type(buf: bytes) -> str:
    """The EBML header's DocType (``matroska``, ``webm``, ...)."""
    eid, p = _read_id(buf, 0, len(buf))
    if eid != EBML_ID:
        raise UnsupportedFormat("not an EBML file (no EBML header)")
    size, p, _ = _read_size(buf, p, len(buf))
    if size == _UNKNOWN or p + size > len(buf):
        raise CorruptContainer("Matroska EBML header truncated")
    for child in children(buf, p, p + size, what="EBML header"):
        if child.id == DOC_TYPE:
            return child.payload(buf).rstrip(b"\0").decode("ascii", "replace")
    return "matroska"


@dataclass
class _Segment:
    start: int  # offset of the Segment ID
    size_at: int  # offset of its size field
    size_len: int
    data: int  # Segment data start (the origin of SeekHead/Cues positions)
    size: int  # -1 unknown
    end: int  # end of the Segment (file end for unknown size)
    elements: list[Element]


def _cluster_end(buf: bytes, data: int, limit: int) -> int:
    """Where an unknown-size cluster ends: at the first level-1 (or EBML) ID among its children."""
    pos, count = data, 0
    while pos < limit:
        count += 1
        if count > MAX_ELEMENTS:
            raise LimitExceeded(f"Matroska cluster has more than {MAX_ELEMENTS} children")
        eid, p = _read_id(buf, pos, limit)
        if eid in LEVEL1 or eid in (EBML_ID, SEGMENT):
            return pos
        size, p, _ = _read_size(buf, p, limit)
        if size == _UNKNOWN or p + size > limit:
            raise CorruptContainer(f"Matroska cluster child at offset {pos} truncated")
        pos = p + size
    return limit


def level1(buf: bytes) -> _Segment:
    """The first Segment and its level-1 elements, in file order."""
    eid, p = _read_id(buf, 0, len(buf))
    if eid != EBML_ID:
        raise UnsupportedFormat("not a Matroska/WebM file (no EBML header)")
    size, p, _ = _read_size(buf, p, len(buf))
    if size == _UNKNOWN or p + size > len(buf):
        raise CorruptContainer("Matroska EBML header truncated")
    pos = p + size
    while True:  # skip Void/CRC between the header and the Segment
        eid, p = _read_id(buf, pos, len(buf))
        seg_size, data, size_len = _read_size(buf, p, len(buf))
        if eid == SEGMENT:
            break
        if eid not in (VOID, CRC32) or seg_size == _UNKNOWN:
            raise CorruptContainer(f"Matroska: expected a Segment at offset {pos}")
        pos = data + seg_size
    if seg_size == _UNKNOWN:
        end = len(buf)
    else:
        end = data + seg_size
        if end > len(buf):
            raise CorruptContainer(
                f"Matroska Segment truncated: declares {seg_size} bytes, file has "
                f"{len(buf) - data} after its header"
            )
    elements: list[Element] = []
    q = data
    while q < end:
        if len(elements) >= MAX_ELEMENTS:
            raise LimitExceeded(f"Matroska Segment has more than {MAX_ELEMENTS} elements")
        if end - q < 2 and all(b == 0 for b in buf[q:end]):
            break  # zero padding at the very end
        eid, r = _read_id(buf, q, end)
        if eid == EBML_ID and seg_size == _UNKNOWN:
            end = q  # a chained segment starts: the unknown-size one ends here
            break
        size, r, _ = _read_size(buf, r, end)
        if size == _UNKNOWN:
            if eid != CLUSTER:
                raise CorruptContainer(f"Matroska element 0x{eid:X} at {q} has an unknown size")
            stop = _cluster_end(buf, r, end)
        else:
            stop = r + size
            if stop > end:
                raise CorruptContainer(
                    f"Matroska level-1 element 0x{eid:X} at offset {q} runs past the Segment"
                )
        elements.append(Element(eid, q, r, size, stop))
        q = stop
    return _Segment(pos, p, size_len, data, seg_size, end, elements)


# --- Tags ----------------------------------------------------------------------------------------


@dataclass
class _Simple:
    element: Element
    name: str
    value: bytes | None


def _simple_tags(buf: bytes, tag: Element) -> tuple[bool, list[_Simple]]:
    """(whole-file target?, the Tag's top-level SimpleTags)."""
    whole, simples = True, []
    for child in children(buf, tag.data, tag.end, what="Tag"):
        if child.id == TARGETS:
            for t in children(buf, child.data, child.end, what="Targets"):
                if t.id in TARGET_UIDS and _uint(t.payload(buf)) != 0:
                    whole = False
                elif t.id == TARGET_TYPE_VALUE and _uint(t.payload(buf)) != 50:
                    whole = False
        elif child.id == SIMPLE_TAG:
            name, value = "", None
            for s in children(buf, child.data, child.end, what="SimpleTag"):
                if s.id == TAG_NAME:
                    name = s.payload(buf).rstrip(b"\0").decode("utf-8", "replace")
                elif s.id == TAG_STRING:
                    value = s.payload(buf).rstrip(b"\0")
            simples.append(_Simple(child, name, value))
    return whole, simples


def _tags_elements(buf: bytes, seg: _Segment) -> list[Element]:
    found = [e for e in seg.elements if e.id == TAGS]
    for e in found:
        if e.size > MAX_META_BYTES:
            raise LimitExceeded(f"Matroska Tags element of {e.size} bytes is too large")
    return found


def _is_label(simple: _Simple) -> bool:
    return simple.name.upper() == LABEL_NAME


def _holds_blob(simple: _Simple) -> bool:
    return simple.value is not None and bool(scan_blobs(simple.value, location="", limit=1))


def _simple_tag(name: str, value: str) -> bytes:
    return element(
        SIMPLE_TAG,
        element(TAG_NAME, name.encode("utf-8")) + element(TAG_STRING, value.encode("utf-8")),
    )


def _with_crc(eid: int, kids: bytes, had_crc: bool, size_length: int = 0) -> bytes:
    if had_crc:
        kids = element(CRC32, struct.pack("<I", zlib.crc32(kids))) + kids
    return element(eid, kids, size_length)


def _rewrite_tags(
    buf: bytes, tags: Element, label: bytes | None, drop_extras: set[str]
) -> tuple[bytes, bool]:
    """The children of ``tags`` without labels/replaced extras (and with ``label``, a SimpleTag
    run, in the first whole-file Tag); also whether a CRC-32 was present."""
    had_crc, out, placed = False, [], label is None
    for child in children(buf, tags.data, tags.end, what="Tags"):
        if child.id == CRC32:
            had_crc = True
            continue
        if child.id != TAG:
            out.append(buf[child.start : child.end])
            continue
        whole, simples = _simple_tags(buf, child)
        doomed = {
            s.element.start
            for s in simples
            if _is_label(s) or _holds_blob(s) or (whole and s.name in drop_extras)
        }
        add = not placed and whole
        if not doomed and not add:
            out.append(buf[child.start : child.end])
            continue
        kept_crc, kids = False, []
        for sub in children(buf, child.data, child.end, what="Tag"):
            if sub.id == CRC32:
                kept_crc = True
            elif sub.start not in doomed:
                kids.append(buf[sub.start : sub.end])
        if add:
            kids.append(label or b"")
            placed = True
        if any(k[:2] == b"\x67\xc8" for k in kids):
            out.append(_with_crc(TAG, b"".join(kids), kept_crc))
    if not placed:
        out.insert(0, element(TAG, element(TARGETS, b"") + (label or b"")))
    return b"".join(out), had_crc


def _fit(eid: int, kids: bytes, had_crc: bool, slot: int) -> bytes | None:
    """``kids`` as element ``eid`` plus Void, exactly ``slot`` bytes, or None if it cannot."""
    for size_length in range(1, 9):
        try:
            body = _with_crc(eid, kids, had_crc, size_length)
        except LimitExceeded:
            continue
        rest = slot - len(body)
        if rest == 0 or rest >= 2:
            return body + void(rest)
        if rest < 0:
            return None
    return None


def _slot_end(seg: _Segment, index: int) -> int:
    """End of element ``index`` plus the Void elements right after it."""
    end = seg.elements[index].end
    for e in seg.elements[index + 1 :]:
        if e.id != VOID:
            break
        end = e.end
    return end


# --- SeekHead -------------------------------------------------------------------------------------


def _seek_entries(buf: bytes, head: Element) -> list[tuple[Element, int, Element | None]]:
    """(Seek element, target ID, SeekPosition element) for each Seek."""
    entries = []
    for seek in children(buf, head.data, head.end, what="SeekHead"):
        if seek.id != SEEK:
            continue
        target, pos_el = 0, None
        for s in children(buf, seek.data, seek.end, what="Seek"):
            if s.id == SEEK_ID:
                target = _uint(s.payload(buf))
            elif s.id == SEEK_POS:
                pos_el = s
        entries.append((seek, target, pos_el))
    return entries


def _fix_seekhead(out: bytearray, seg: _Segment, moved_from: int | None, new_rel: int) -> None:
    """Point a SeekHead Tags entry at ``new_rel`` (relative to the Segment data start): in place
    when the SeekPosition is wide enough, else by rewriting the first SeekHead into its slot;
    entries still pointing at the voided old Tags are voided out."""
    heads = [i for i, e in enumerate(seg.elements) if e.id == SEEKHEAD]
    pending: int | None = new_rel
    for n, idx in enumerate(heads):
        head = seg.elements[idx]
        if head.size > MAX_META_BYTES:
            raise LimitExceeded("Matroska SeekHead is too large")
        stale = [
            (s, p)
            for s, t, p in _seek_entries(out, head)
            if t == TAGS and p is not None and _uint(p.payload(out)) == moved_from
        ]
        if pending is not None and stale:
            _, pos_el = stale[0]
            if 0 < pos_el.size <= 8 and pending < 1 << (8 * pos_el.size):
                out[pos_el.data : pos_el.end] = pending.to_bytes(pos_el.size, "big")
                stale, pending = stale[1:], None
        if pending is not None and n == 0 and _rewrite_seekhead(out, seg, idx, stale, pending):
            pending = None
            continue
        for seek, _ in stale:  # not updated: must not point at a Void
            out[seek.start : seek.end] = void(seek.end - seek.start)
        _refresh_crc(out, head)


def _rewrite_seekhead(
    out: bytearray,
    seg: _Segment,
    idx: int,
    stale: list[tuple[Element, Element]],
    new_rel: int,
) -> bool:
    head = seg.elements[idx]
    stale_starts = {s.start for s, _ in stale}
    kids, had_crc = [], False
    for child in children(out, head.data, head.end, what="SeekHead"):
        if child.id == CRC32:
            had_crc = True
        elif child.start not in stale_starts:
            kids.append(bytes(out[child.start : child.end]))
    kids.append(
        element(SEEK, element(SEEK_ID, _encode_id(TAGS)) + element(SEEK_POS, _min_uint(new_rel)))
    )
    slot_end = _slot_end(seg, idx)
    body = _fit(SEEKHEAD, b"".join(kids), had_crc, slot_end - head.start)
    if body is None:
        return False
    out[head.start : slot_end] = body
    return True


def _min_uint(value: int) -> bytes:
    return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")


def _refresh_crc(out: bytearray, el: Element) -> None:
    first = next(children(out, el.data, el.end, what="element"), None)
    if first is not None and first.id == CRC32 and first.size == 4:
        out[first.data : first.end] = struct.pack("<I", zlib.crc32(bytes(out[first.end : el.end])))


# --- the carrier ---------------------------------------------------------------------------------


class MatroskaCarrier:
    """The Matroska carrier; :data:`WEBM` is the same code for DocType ``webm``."""

    media_type = "video"
    can_write = True
    label_places = (
        "Tags/Tag (whole file) SimpleTag AIGC",
        "Tags/Tag (track/chapter target) SimpleTag AIGC",
        "SimpleTag string holding AIGC JSON (e.g. COMMENT)",
    )

    def __init__(self, name: str, mime: str, extensions: tuple[str, ...], webm: bool) -> None:
        self.name, self.mime, self.extensions, self._webm = name, mime, extensions, webm

    def accept(self, head: bytes) -> bool:
        if head[:4] != b"\x1a\x45\xdf\xa3":
            return False
        try:
            is_webm = doc_type(head) == "webm"
        except Exception:  # header cut by the 64-byte head: look for the DocType bytes
            is_webm = b"\x42\x82\x84webm" in head
        return is_webm == self._webm

    @guarded
    def read_labels(self, data: bytes) -> list[Found]:
        seg = level1(data)
        found: list[Found] = []
        for t_i, tags in enumerate(_tags_elements(data, seg)):
            for tag_i, tag in enumerate(
                t for t in children(data, tags.data, tags.end, what="Tags") if t.id == TAG
            ):
                whole, simples = _simple_tags(data, tag)
                for simple in simples:
                    where = f"Segment/Tags[{t_i}]/Tag[{tag_i}]/SimpleTag[{simple.name}]"
                    if _is_label(simple) and simple.value is not None:
                        found.append(
                            found_from_value(
                                simple.value,
                                carrier="matroska-tag",
                                location=where,
                                key=simple.name,
                                form="text",
                                normative=whole,
                            )
                        )
                    elif simple.value is not None:
                        for blob in scan_blobs(simple.value, location=where, limit=4):
                            blob.carrier, blob.key, blob.form = "matroska-tag", simple.name, "text"
                            blob.offset = -1
                            found.append(blob)
        return found

    @guarded
    def read_xmp(self, data: bytes) -> bytes | None:
        """None: Matroska has no XMP place (the structure is still checked)."""
        level1(data)
        return None

    @guarded
    def read_extras(self, data: bytes) -> dict[str, str]:
        """Whole-file SimpleTags ``AIGCTAG_<Name>`` as {Name: value}."""
        seg = level1(data)
        extras: dict[str, str] = {}
        for tags in _tags_elements(data, seg):
            for tag in children(data, tags.data, tags.end, what="Tags"):
                if tag.id != TAG:
                    continue
                whole, simples = _simple_tags(data, tag)
                for s in simples:
                    if whole and s.name.startswith(EXTRA_PREFIX) and s.value is not None:
                        extras[s.name[len(EXTRA_PREFIX) :]] = s.value.decode("utf-8", "replace")
        return extras

    @guarded
    def has_c2pa(self, data: bytes) -> bool:
        seg = level1(data)
        for att in (e for e in seg.elements if e.id == ATTACHMENTS):
            if att.size > MAX_META_BYTES * 64:
                continue
            for f in children(data, att.data, att.end, what="Attachments"):
                if f.id != ATTACHED_FILE:
                    continue
                for c in children(data, f.data, f.end, what="AttachedFile"):
                    if c.id == FILE_MIME and c.payload(data).rstrip(b"\0") == b"application/c2pa":
                        return True
        return False

    @guarded
    def write_label(
        self, data: bytes, label_json: str, extra_xmp: dict[str, str] | None = None
    ) -> bytes:
        """One whole-file SimpleTag AIGC; clusters, Cues and every other element untouched."""
        seg = level1(data)
        if not any(e.id == CLUSTER for e in seg.elements):
            raise CorruptContainer("Matroska Segment has no Cluster")
        extras = {f"{EXTRA_PREFIX}{k}": v for k, v in (extra_xmp or {}).items()}
        label = _simple_tag(LABEL_NAME, label_json) + b"".join(
            _simple_tag(k, v) for k, v in extras.items()
        )
        tags_idx = [i for i, e in enumerate(seg.elements) if e.id == TAGS]
        for i in tags_idx:
            if seg.elements[i].size > MAX_META_BYTES:
                raise LimitExceeded("Matroska Tags element is too large")
        out = bytearray(data)
        # Later Tags elements only lose labels: always smaller, rewritten in place.
        for i in reversed(tags_idx[1:]):
            tags = seg.elements[i]
            kids, crc = _rewrite_tags(data, tags, None, set(extras))
            if kids != data[tags.data : tags.end] or crc:
                has_tag = any(c.id == TAG for c in children(kids, 0, len(kids), what="Tags"))
                body = _fit(TAGS, kids, crc, tags.end - tags.start) if has_tag else None
                if body is None:
                    body = void(tags.end - tags.start)
                out[tags.start : tags.end] = body
        if tags_idx:
            first = seg.elements[tags_idx[0]]
            kids, crc = _rewrite_tags(data, first, label, set(extras))
            slot_end = _slot_end(seg, tags_idx[0])
            body = _fit(TAGS, kids, crc, slot_end - first.start)
            if body is not None:
                out[first.start : slot_end] = body
                return bytes(out)
            out[first.start : first.end] = void(first.end - first.start)
            moved_from: int | None = first.start - seg.data
        else:
            kids, crc = element(TAG, element(TARGETS, b"") + label), False
            moved_from = None
        new_tags = _with_crc(TAGS, kids, crc)
        at = seg.elements[-1].end if seg.elements else seg.data
        _fix_seekhead(out, seg, moved_from, at - seg.data)
        out[at:at] = new_tags
        if seg.size != _UNKNOWN:
            new_size = seg.size + len(new_tags)
            out[seg.size_at : seg.size_at + seg.size_len] = encode_size(new_size, seg.size_len)
        return bytes(out)

    def reencode(self, data: bytes, draw: Callable) -> bytes:
        raise UnsupportedFormat(
            f"{self.name}: video is re-encoded by the ffmpeg pipeline, not by the carrier"
        )


CARRIER = register(
    MatroskaCarrier("matroska", "video/x-matroska", (".mkv", ".mk3d", ".mka"), webm=False)
)
WEBM = register(MatroskaCarrier("webm", "video/webm", (".webm",), webm=True))
