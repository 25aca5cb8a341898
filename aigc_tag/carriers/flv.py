"""FLV: the label as the string ``AIGC`` in the ``onMetaData`` script-data tag.

The first script tag named ``onMetaData`` holds an AMF0 ECMA array (or object); ``write_label``
sets its key ``AIGC`` to the Annex E JSON (AMF0 string, long string past 65535 bytes), keeps every
other key in order and rewrites only that tag: its DataSize and the PreviousTagSize after it are
fixed, every later tag is copied byte for byte. If the tag grows or shrinks, the byte positions in
a ``keyframes``/``filepositions`` array (written by ``-flvflags add_keyframe_index`` and some
muxers) and a numeric ``lastkeyframelocation`` are shifted by the same amount, and a numeric
``filesize`` is corrected. With no ``onMetaData`` tag, a new one is inserted after the header.

aigc-tag's own properties (``extra_xmp``) are string keys ``AIGCTAG_<Name>`` in the same array
(FLV has no XMP place: ``read_xmp`` returns None). Non-normative copies read and removed on write:
``AIGC`` in a later ``onMetaData`` tag and any top-level string value holding an AIGC JSON blob
(e.g. ``comment``). Note that ffmpeg's FLV demuxer drops metadata strings of 256 bytes or more,
so ffprobe shows ``AIGC`` only for shorter labels (the bytes are there either way).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import CorruptContainer, LimitExceeded, UnsupportedFormat
from . import Found, found_from_value, guarded, register, scan_blobs

__all__ = ["CARRIER", "FlvCarrier", "Tag", "tags"]

MAX_TAGS = 10_000_000
MAX_DEPTH = 32
MAX_SCRIPT_BYTES = 16 * 1024 * 1024
LABEL_KEY = "AIGC"
EXTRA_PREFIX = "AIGCTAG_"
_SCRIPT = 18


@dataclass(frozen=True)
class Tag:
    """One FLV tag: ``start`` is its header offset, ``end`` the offset after its PreviousTagSize."""

    index: int
    type: int
    start: int
    size: int  # DataSize
    end: int

    def payload(self, data: bytes) -> bytes:
        return data[self.start + 11 : self.start + 11 + self.size]


def _header(data: bytes) -> int:
    if data[:3] == b"FLV" and len(data) < 9:
        raise CorruptContainer("FLV header truncated")
    if len(data) < 9 or data[:3] != b"FLV":
        raise UnsupportedFormat("not an FLV file (no FLV header)")
    offset = struct.unpack_from(">I", data, 5)[0]
    if offset < 9 or offset + 4 > len(data):
        raise CorruptContainer(f"FLV header: bad DataOffset {offset}")
    return offset + 4  # after PreviousTagSize0


def tags(data: bytes, *, script_only: bool = False) -> list[Tag]:
    """Every tag in file order (a truncated last tag is an error)."""
    pos = _header(data)
    found: list[Tag] = []
    while pos < len(data):
        if len(found) >= MAX_TAGS:
            raise LimitExceeded(f"FLV has more than {MAX_TAGS} tags")
        if pos + 11 > len(data):
            raise CorruptContainer(f"FLV tag header #{len(found)} at offset {pos} truncated")
        kind = data[pos] & 0x1F
        size = int.from_bytes(data[pos + 1 : pos + 4], "big")
        end = pos + 11 + size + 4
        if end > len(data):
            raise CorruptContainer(f"FLV tag #{len(found)} (type {kind}) at offset {pos} truncated")
        prev = struct.unpack_from(">I", data, end - 4)[0]
        if prev != 11 + size and prev != 0:
            raise CorruptContainer(
                f"FLV tag #{len(found)} at offset {pos}: PreviousTagSize {prev} != {11 + size}"
            )
        found.append(Tag(len(found), kind, pos, size, end))
        pos = end
    return found


# --- AMF0 ----------------------------------------------------------------------------------------


def _amf_string(buf: bytes, pos: int, long: bool = False) -> tuple[bytes, int]:
    n = 4 if long else 2
    if pos + n > len(buf):
        raise CorruptContainer("FLV script data: AMF string length truncated")
    length = int.from_bytes(buf[pos : pos + n], "big")
    if pos + n + length > len(buf):
        raise CorruptContainer("FLV script data: AMF string truncated")
    return buf[pos + n : pos + n + length], pos + n + length


def _skip_value(buf: bytes, pos: int, depth: int = 0) -> int:
    """Offset after the AMF0 value at ``pos``."""
    if depth > MAX_DEPTH:
        raise LimitExceeded("FLV script data nests too deep")
    if pos >= len(buf):
        raise CorruptContainer("FLV script data: AMF value truncated")
    marker, pos = buf[pos], pos + 1
    fixed = {0x00: 8, 0x01: 1, 0x05: 0, 0x06: 0, 0x07: 2, 0x0B: 10, 0x0D: 0}
    if marker in fixed:
        end = pos + fixed[marker]
    elif marker == 0x02:
        end = _amf_string(buf, pos)[1]
    elif marker in (0x0C, 0x0F):
        end = _amf_string(buf, pos, long=True)[1]
    elif marker in (0x03, 0x08, 0x10):
        if marker == 0x08:
            pos += 4
        elif marker == 0x10:
            pos = _amf_string(buf, pos)[1]
        end = _skip_pairs(buf, pos, depth)
    elif marker == 0x0A:
        if pos + 4 > len(buf):
            raise CorruptContainer("FLV script data: strict array truncated")
        count = struct.unpack_from(">I", buf, pos)[0]
        if count > len(buf):
            raise CorruptContainer("FLV script data: strict array count exceeds the data")
        end = pos + 4
        for _ in range(count):
            end = _skip_value(buf, end, depth + 1)
    else:
        raise CorruptContainer(f"FLV script data: unknown AMF0 marker 0x{marker:02X}")
    if end > len(buf):
        raise CorruptContainer("FLV script data: AMF value truncated")
    return end


def _pairs(buf: bytes, pos: int, depth: int = 0) -> tuple[list[tuple[str, int, int, int]], int]:
    """(key, key start, value start, value end) of an object's properties; offset after 00 00 09.

    A missing end marker at the end of the data is tolerated (some muxers omit it)."""
    out = []
    while pos < len(buf):
        if len(out) > MAX_TAGS:
            raise LimitExceeded("FLV script object has too many properties")
        if buf[pos : pos + 3] == b"\0\0\x09":
            return out, pos + 3
        key, vpos = _amf_string(buf, pos)
        if not key and vpos < len(buf) and buf[vpos] == 0x09:
            return out, vpos + 1
        vend = _skip_value(buf, vpos, depth + 1)
        out.append((key.decode("utf-8", "replace"), pos, vpos, vend))
        pos = vend
    return out, pos


def _skip_pairs(buf: bytes, pos: int, depth: int) -> int:
    return _pairs(buf, pos, depth)[1]


def _string_value(buf: bytes, vpos: int) -> bytes | None:
    if buf[vpos] == 0x02:
        return _amf_string(buf, vpos + 1)[0]
    if buf[vpos] == 0x0C:
        return _amf_string(buf, vpos + 1, long=True)[0]
    return None


def _encode_string_value(text: str) -> bytes:
    raw = text.encode("utf-8")
    if len(raw) <= 0xFFFF:
        return b"\x02" + struct.pack(">H", len(raw)) + raw
    return b"\x0c" + struct.pack(">I", len(raw)) + raw


def _encode_key(key: str) -> bytes:
    raw = key.encode("utf-8")
    return struct.pack(">H", len(raw)) + raw


@dataclass
class _Meta:
    """A parsed onMetaData payload: name part, container kind, and its properties."""

    head: bytes  # the "onMetaData" string value
    kind: int  # 0x08 ECMA array or 0x03 object
    props: list[tuple[str, int, int, int]]
    tail: bytes  # bytes after the array (extra values), kept


def _meta(payload: bytes) -> _Meta | None:
    if not payload or payload[0] != 0x02:
        return None
    name, pos = _amf_string(payload, 1)
    if name != b"onMetaData" or pos >= len(payload):
        return None
    kind = payload[pos]
    if kind not in (0x08, 0x03):
        return None
    start = pos + 1 + (4 if kind == 0x08 else 0)
    if start > len(payload):
        raise CorruptContainer("FLV onMetaData: ECMA array count truncated")
    props, end = _pairs(payload, start)
    return _Meta(payload[:pos], kind, props, payload[end:])


def _script_tags(data: bytes) -> list[tuple[Tag, bytes, _Meta]]:
    out = []
    for tag in tags(data):
        if tag.type != _SCRIPT:
            continue
        if tag.size > MAX_SCRIPT_BYTES:
            raise LimitExceeded(f"FLV script tag of {tag.size} bytes is too large")
        payload = tag.payload(data)
        meta = _meta(payload)
        if meta is not None:
            out.append((tag, payload, meta))
    return out


def _is_label(key: str, payload: bytes, vpos: int) -> bool:
    if key.upper() == LABEL_KEY:
        return True
    value = _string_value(payload, vpos)
    return value is not None and bool(scan_blobs(value, location="", limit=1))


def _shift_keyframes(payload: bytes, vpos: int, vend: int, after: int, delta: int) -> bytes:
    """The ``keyframes`` object with every ``filepositions`` number >= ``after`` moved by delta."""
    value = bytearray(payload[vpos:vend])
    if not value or value[0] not in (0x03, 0x08):
        return bytes(value)
    start = 1 + (4 if value[0] == 0x08 else 0)
    for key, _, kv, _ in _pairs(bytes(value), start)[0]:
        if key != "filepositions" or value[kv] != 0x0A:
            continue
        count = struct.unpack_from(">I", value, kv + 1)[0]
        p = kv + 5
        for _ in range(count):
            if value[p] == 0x00:
                old = struct.unpack_from(">d", value, p + 1)[0]
                if old >= after:
                    struct.pack_into(">d", value, p + 1, old + delta)
            p = _skip_value(bytes(value), p)
    return bytes(value)


class FlvCarrier:
    """The FLV carrier (see the module docstring)."""

    name = "flv"
    media_type = "video"
    mime = "video/x-flv"
    extensions = (".flv",)
    can_write = True
    label_places = (
        "onMetaData AIGC string",
        "later onMetaData AIGC string",
        "onMetaData string value holding AIGC JSON (e.g. comment)",
    )

    def accept(self, head: bytes) -> bool:
        return head[:3] == b"FLV" and len(head) > 3 and head[3] == 1

    @guarded
    def read_labels(self, data: bytes) -> list[Found]:
        found: list[Found] = []
        for n, (tag, payload, meta) in enumerate(_script_tags(data)):
            for key, _, vpos, _ in meta.props:
                value = _string_value(payload, vpos)
                if value is None:
                    continue
                where = f"tag[{tag.index}]/onMetaData/{key}"
                if key.upper() == LABEL_KEY:
                    found.append(
                        found_from_value(
                            value,
                            carrier="flv-metadata",
                            location=where,
                            key=key,
                            form="text",
                            normative=n == 0,
                        )
                    )
                    continue
                for blob in scan_blobs(value, location=where, limit=4):
                    blob.carrier, blob.key, blob.form, blob.offset = "flv-metadata", key, "text", -1
                    found.append(blob)
        return found

    @guarded
    def read_xmp(self, data: bytes) -> bytes | None:
        """None: FLV has no XMP place (the tags are still checked)."""
        tags(data)
        return None

    @guarded
    def read_extras(self, data: bytes) -> dict[str, str]:
        """``AIGCTAG_<Name>`` strings of the first onMetaData as {Name: value}."""
        scripts = _script_tags(data)
        if not scripts:
            return {}
        _, payload, meta = scripts[0]
        extras = {}
        for key, _, vpos, _ in meta.props:
            value = _string_value(payload, vpos)
            if key.startswith(EXTRA_PREFIX) and value is not None:
                extras[key[len(EXTRA_PREFIX) :]] = value.decode("utf-8", "replace")
        return extras

    @guarded
    def has_c2pa(self, data: bytes) -> bool:
        tags(data)
        return False

    @guarded
    def write_label(
        self, data: bytes, label_json: str, extra_xmp: dict[str, str] | None = None
    ) -> bytes:
        """Rewrite the onMetaData tag(s); every other tag byte-identical (see the module)."""
        scripts = _script_tags(data)
        extras = {f"{EXTRA_PREFIX}{k}": v for k, v in (extra_xmp or {}).items()}
        new_props = [(LABEL_KEY, label_json), *extras.items()]
        added = b"".join(_encode_key(k) + _encode_string_value(v) for k, v in new_props)
        if not scripts:
            body = b"\x02" + _encode_key("onMetaData") + b"\x08"
            body += struct.pack(">I", len(new_props)) + added + b"\0\0\x09"
            at = _header(data)
            return data[:at] + _tag_bytes(_SCRIPT, body, b"\0" * 7) + data[at:]
        replaced: list[tuple[Tag, bytes]] = []
        for n, (tag, payload, meta) in enumerate(scripts):
            kept = [
                p
                for p in meta.props
                if not _is_label(p[0], payload, p[2]) and not (n == 0 and p[0] in extras)
            ]
            if n and len(kept) == len(meta.props):
                continue
            replaced.append((tag, self._payload(payload, meta, kept, added if n == 0 else b"")))
        out, pos = [], 0
        delta = sum(len(p) - t.size for t, p in replaced)
        for tag, payload in replaced:
            out.append(data[pos : tag.start])
            out.append(_tag_bytes(data[tag.start], payload, data[tag.start + 4 : tag.start + 11]))
            pos = tag.end
        out.append(data[pos:])
        result = b"".join(out)
        if delta:
            result = self._fix_positions(result, scripts[0][0].start, delta, len(data))
        return result

    @staticmethod
    def _payload(payload: bytes, meta: _Meta, kept: list, added: bytes) -> bytes:
        props = b"".join(payload[k:v] for _, k, _, v in kept)
        count = struct.pack(">I", len(kept) + _count_pairs(added)) if meta.kind == 0x08 else b""
        return meta.head + bytes([meta.kind]) + count + props + added + b"\0\0\x09" + meta.tail

    @staticmethod
    def _fix_positions(data: bytes, meta_start: int, delta: int, old_len: int) -> bytes:
        """Shift keyframes/filepositions after the onMetaData tag and fix a numeric filesize."""
        scripts = _script_tags(data)
        tag, payload, meta = scripts[0]
        new = bytearray(payload)
        for key, _, vpos, vend in reversed(meta.props):
            if key == "keyframes":
                shifted = _shift_keyframes(payload, vpos, vend, meta_start + 1, delta)
                new[vpos:vend] = shifted
            elif key == "lastkeyframelocation" and payload[vpos] == 0x00:
                old = struct.unpack_from(">d", payload, vpos + 1)[0]
                if old > meta_start:
                    struct.pack_into(">d", new, vpos + 1, old + delta)
            elif key == "filesize" and payload[vpos] == 0x00:
                old = struct.unpack_from(">d", payload, vpos + 1)[0]
                if old == old_len:
                    struct.pack_into(">d", new, vpos + 1, float(old_len + delta))
        if bytes(new) == payload:
            return data
        start = tag.start + 11
        return data[:start] + bytes(new) + data[start + tag.size :]

    def reencode(self, data: bytes, draw: Callable) -> bytes:
        raise UnsupportedFormat("flv: video is re-encoded by the ffmpeg pipeline, not the carrier")


def _count_pairs(encoded: bytes) -> int:
    return len(_pairs(encoded, 0)[0]) if encoded else 0


def _tag_bytes(kind: int, payload: bytes, ts_stream: bytes) -> bytes:
    """Tag header (type, DataSize, original timestamp and StreamID), payload, PreviousTagSize."""
    if len(payload) > 0xFFFFFF:
        raise LimitExceeded("FLV script tag would exceed 16 MiB")
    head = bytes([kind]) + len(payload).to_bytes(3, "big") + ts_stream
    return head + payload + struct.pack(">I", 11 + len(payload))


CARRIER = register(FlvCarrier())
