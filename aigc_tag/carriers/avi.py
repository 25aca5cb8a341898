"""AVI (RIFF ``AVI ``): the label as the ``LIST``/``INFO`` sub-chunk ``AIGC``.

The Annex E JSON is the NUL-terminated value of an INFO entry with FOURCC ``AIGC`` (stock ffmpeg
cannot write it, so this module writes the RIFF bytes). Read as non-normative copies and removed
on write: other INFO entries holding an AIGC JSON blob (``ICMT``, ``ISFT``, ...) and ``TC260:AIGC``
in a top-level ``_PMX`` XMP chunk. aigc-tag's own properties (``extra_xmp``) go into ``_PMX``
(the XMP chunk exiftool and Adobe read in AVI), without a label.

Nothing before ``movi`` changes size, so the ``idx1`` offsets (relative to ``movi`` or absolute)
and the OpenDML ``indx``/``ix##`` offsets (absolute) stay valid:

* an edited chunk before ``movi`` (the first ``LIST INFO``, ``_PMX``) is rewritten in place when it
  fits in its own bytes plus the ``JUNK`` chunks right after it, the rest becoming ``JUNK`` (ffmpeg
  leaves about 1 KiB of ``JUNK`` after ``INFO``);
* a new ``INFO`` goes into a ``JUNK`` slot before ``movi`` when one is large enough;
* otherwise the old chunk becomes ``JUNK`` of the same size and the new one is appended at the end
  of the first ``RIFF`` (after ``idx1``), where ffmpeg and exiftool still read it.

An OpenDML file (``RIFF AVIX`` continuations) is read fully; it is written only when the first
RIFF keeps its length (in-place edits), else :class:`UnsupportedFormat` says why. Every other
chunk (``hdrl``, ``movi``, ``idx1``, other INFO entries, unknown chunks) is copied byte for byte
with its pad byte, and the RIFF size is fixed. ``has_c2pa``: a top-level ``C2PA`` chunk.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

from .. import xmp as xmp_mod
from ..errors import CorruptContainer, LimitExceeded, UnsupportedFormat
from . import Found, found_from_value, found_in_xmp, guarded, register, scan_blobs

__all__ = ["CARRIER", "AviCarrier", "Chunk", "chunks"]

MAX_CHUNKS = 1_000_000
MAX_META_BYTES = xmp_mod.MAX_XMP_BYTES
LABEL_ID = b"AIGC"


@dataclass(frozen=True)
class Chunk:
    """A top-level chunk of the first RIFF: ``start`` is its FourCC offset, ``end`` after the pad
    byte; ``form`` is the list type of a ``LIST``."""

    index: int
    fourcc: bytes
    form: bytes
    start: int
    size: int
    end: int

    @property
    def name(self) -> str:
        tail = f" {self.form.decode('latin-1')}" if self.form else ""
        return f"{self.fourcc.decode('latin-1').strip()}{tail}[{self.index}]"

    def payload(self, data: bytes) -> bytes:
        return data[self.start + 8 : self.start + 8 + self.size]

    def raw(self, data: bytes) -> bytes:
        raw = data[self.start : self.end]
        return raw + b"\0" if len(raw) == 8 + self.size and self.size & 1 else raw


@dataclass(frozen=True)
class _Avi:
    chunks: list[Chunk]
    end: int  # end of the first RIFF
    odml: bool  # RIFF AVIX continuations follow


def _parse(data: bytes) -> _Avi:
    if data[:4] == b"RIFF" and len(data) < 12:
        raise CorruptContainer("AVI RIFF header truncated")
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"AVI ":
        raise UnsupportedFormat("not an AVI file (no RIFF AVI header)")
    riff_end = 8 + struct.unpack_from("<I", data, 4)[0]
    if riff_end > len(data):
        raise CorruptContainer(
            f"AVI truncated: RIFF declares {riff_end} bytes, file has {len(data)}"
        )
    found: list[Chunk] = []
    pos = 12
    while pos < riff_end:
        if len(found) >= MAX_CHUNKS:
            raise LimitExceeded(f"AVI has more than {MAX_CHUNKS} top-level chunks")
        if pos + 8 > riff_end:
            raise CorruptContainer(f"AVI chunk header #{len(found)} at offset {pos} truncated")
        fourcc, size = struct.unpack_from("<4sI", data, pos)
        stop = pos + 8 + size
        if stop > riff_end:
            name = fourcc.decode("latin-1")
            raise CorruptContainer(f"AVI chunk {name!r} #{len(found)} at offset {pos} truncated")
        form = data[pos + 8 : pos + 12] if fourcc == b"LIST" and size >= 4 else b""
        end = min(stop + (size & 1), riff_end)
        found.append(Chunk(len(found), fourcc, form, pos, size, end))
        pos = end
    if not any(c.fourcc == b"LIST" and c.form == b"hdrl" for c in found):
        raise CorruptContainer("AVI has no LIST hdrl")
    odml = (
        data[riff_end : riff_end + 4] == b"RIFF" and data[riff_end + 8 : riff_end + 12] == b"AVIX"
    )
    return _Avi(found, riff_end, odml)


def chunks(data: bytes) -> list[Chunk]:
    """The top-level chunks of the first ``RIFF AVI `` form, in file order."""
    return _parse(data).chunks


def _chunk(fourcc: bytes, payload: bytes) -> bytes:
    return fourcc + struct.pack("<I", len(payload)) + payload + (b"\0" if len(payload) & 1 else b"")


def _junk(total: int) -> bytes:
    return _chunk(b"JUNK", b"\0" * (total - 8)) if total else b""


def _meta(chunk: Chunk, data: bytes) -> bytes:
    if chunk.size > MAX_META_BYTES:
        raise LimitExceeded(f"AVI {chunk.name} chunk of {chunk.size} bytes is too large")
    return chunk.payload(data)


def _info_items(chunk: Chunk, data: bytes) -> list[tuple[bytes, bytes, bytes]]:
    """(id, value, raw with pad) for each INFO entry."""
    payload = _meta(chunk, data)
    items, pos = [], 4
    while pos + 8 <= len(payload):
        if len(items) >= MAX_CHUNKS:
            raise LimitExceeded("AVI INFO list has too many entries")
        cid, size = struct.unpack_from("<4sI", payload, pos)
        stop = pos + 8 + size
        if stop > len(payload):
            raise CorruptContainer(f"AVI INFO entry {cid.decode('latin-1')!r} truncated")
        raw = payload[pos : min(stop + (size & 1), len(payload))]
        items.append((cid, payload[pos + 8 : stop], raw + (b"\0" if len(raw) & 1 else b"")))
        pos = stop + (size & 1)
    return items


def _is_label_item(cid: bytes, value: bytes) -> bool:
    return cid == LABEL_ID or bool(scan_blobs(value, location="", limit=1))


def _is_info(chunk: Chunk) -> bool:
    return chunk.fourcc == b"LIST" and chunk.form == b"INFO"


class AviCarrier:
    """The AVI carrier (see the module docstring)."""

    name = "avi"
    media_type = "video"
    mime = "video/x-msvideo"
    extensions = (".avi",)
    can_write = True
    label_places = (
        "LIST/INFO entry AIGC",
        "LIST/INFO entry holding AIGC JSON (ICMT, ISFT, ...)",
        "_PMX XMP TC260:AIGC",
    )

    def accept(self, head: bytes) -> bool:
        return head[:4] == b"RIFF" and head[8:12] == b"AVI "

    @guarded
    def read_labels(self, data: bytes) -> list[Found]:
        found: list[Found] = []
        for chunk in _parse(data).chunks:
            if _is_info(chunk):
                for cid, value, _ in _info_items(chunk, data):
                    where = f"{chunk.name}/{cid.decode('latin-1')}"
                    if cid == LABEL_ID:
                        found.append(
                            found_from_value(
                                value.rstrip(b"\0"),
                                carrier="riff-info",
                                location=where,
                                key="AIGC",
                                form="text",
                            )
                        )
                        continue
                    for blob in scan_blobs(value, location=where, limit=4):
                        blob.carrier, blob.key, blob.form = (
                            "riff-info",
                            cid.decode("latin-1"),
                            "text",
                        )
                        blob.offset = -1
                        found.append(blob)
            elif chunk.fourcc == b"_PMX":
                xmp = _meta(chunk, data).rstrip(b"\0")
                found += found_in_xmp(xmp, location=f"{chunk.name}/XMP", normative=False)
        return found

    @guarded
    def read_xmp(self, data: bytes) -> bytes | None:
        """The first top-level ``_PMX`` chunk's packet, or None."""
        for chunk in _parse(data).chunks:
            if chunk.fourcc == b"_PMX":
                return _meta(chunk, data).rstrip(b"\0")
        return None

    @guarded
    def read_extras(self, data: bytes) -> dict[str, str]:
        """aigc-tag's own properties (``aigctag:*``) from the ``_PMX`` packet."""
        xmp = self.read_xmp(data)
        return xmp_mod.aigctag_properties(xmp) if xmp else {}

    @guarded
    def has_c2pa(self, data: bytes) -> bool:
        return any(c.fourcc == b"C2PA" for c in _parse(data).chunks)

    @guarded
    def write_label(
        self, data: bytes, label_json: str, extra_xmp: dict[str, str] | None = None
    ) -> bytes:
        """One INFO ``AIGC`` entry; nothing before ``movi`` changes size (see the module)."""
        avi = _parse(data)
        top = avi.chunks
        movi = next((c.index for c in top if c.fourcc == b"LIST" and c.form == b"movi"), None)
        if movi is None:
            raise CorruptContainer("AVI has no LIST movi")
        label_item = _chunk(LABEL_ID, label_json.encode("utf-8") + b"\0")
        edits: dict[int, bytes] = {}
        infos = [c for c in top if _is_info(c)]
        for n, chunk in enumerate(infos):
            items = _info_items(chunk, data)
            kept = [raw for cid, value, raw in items if not _is_label_item(cid, value)]
            if n == 0:
                edits[chunk.index] = _chunk(b"LIST", b"INFO" + b"".join(kept) + label_item)
            elif len(kept) != len(items):
                edits[chunk.index] = _chunk(b"LIST", b"INFO" + b"".join(kept)) if kept else b""
        appended: list[bytes] = []
        if not infos:
            info = _chunk(b"LIST", b"INFO" + label_item)
            slot = self._junk_slot(top, movi, len(info))
            if slot is None:
                appended.append(info)
            else:
                edits[slot] = info
        pmx_done = False
        for chunk in (c for c in top if c.fourcc == b"_PMX"):
            packet = _meta(chunk, data).rstrip(b"\0")
            new = _pmx(packet, extra_xmp if not pmx_done else None)
            pmx_done = True
            if new != packet:
                edits[chunk.index] = _chunk(b"_PMX", new)
        if extra_xmp and not pmx_done:
            appended.append(_chunk(b"_PMX", xmp_mod.merge_extras(None, extra_xmp)))
        body = _layout(data, top, movi, edits, appended)
        riff_len = avi.end - 8
        if avi.odml and len(body) + 4 != riff_len:
            raise UnsupportedFormat(
                "AVI OpenDML (RIFF AVIX) file: the label does not fit in the INFO/JUNK space "
                "before movi, and growing the first RIFF would break the absolute OpenDML index"
            )
        return b"RIFF" + struct.pack("<I", len(body) + 4) + b"AVI " + body + data[avi.end :]

    @staticmethod
    def _junk_slot(top: list[Chunk], movi: int, need: int) -> int | None:
        for i in range(movi):
            if top[i].fourcc != b"JUNK" or (i and top[i - 1].fourcc == b"JUNK"):
                continue
            end = top[i].end
            for c in top[i + 1 : movi]:
                if c.fourcc != b"JUNK":
                    break
                end = c.end
            rest = end - top[i].start - need
            if rest == 0 or rest >= 8:
                return i
        return None

    def reencode(self, data: bytes, draw: Callable) -> bytes:
        raise UnsupportedFormat("avi: video is re-encoded by the ffmpeg pipeline, not the carrier")


def _pmx(packet: bytes, extra: dict[str, str] | None) -> bytes:
    """The ``_PMX`` packet without label properties, with ``extra`` merged in."""
    text = packet
    if xmp_mod.find_label_properties(packet):
        text = xmp_mod.remove_label(packet)
    return xmp_mod.merge_extras(text, extra) if extra else text


def _layout(
    data: bytes, top: list[Chunk], movi: int, edits: dict[int, bytes], appended: list[bytes]
) -> bytes:
    """The first RIFF's body with ``edits`` applied; before ``movi`` every slot keeps its size."""
    body: list[bytes] = []
    i = 0
    while i < len(top):
        chunk = top[i]
        new = edits.get(i)
        if new is None:
            body.append(chunk.raw(data))
            i += 1
            continue
        if i > movi:
            body.append(new)
            i += 1
            continue
        end, j = chunk.end, i + 1
        while j < movi and top[j].fourcc == b"JUNK" and j not in edits:
            end, j = top[j].end, j + 1
        rest = end - chunk.start - len(new)
        if rest == 0 or rest >= 8:
            body.append(new + _junk(rest))
            i = j
            continue
        body.append(_junk(chunk.end - chunk.start))  # moved to the end of the RIFF
        if new:
            appended.append(new)
        i += 1
    return b"".join(body) + b"".join(appended)


CARRIER = register(AviCarrier())
