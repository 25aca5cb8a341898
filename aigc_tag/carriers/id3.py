"""MP3: the label in an ID3v2 ``TXXX`` frame with description ``AIGC`` (TC260-PG-202510A).

Only the ID3v2 tag at the start of the file is parsed and rewritten (with mutagen, on bytes); the
MPEG audio frames and anything after them (an ID3v1 ``TAG``, APEv2) are copied byte for byte.
An ID3v2.3 tag stays v2.3 and a v2.4 tag stays v2.4 (v2.2 is saved as v2.3); a file without a
tag gets a new v2.3 tag. Every other frame (APIC, COMM, PRIV, GEOB, ...) is kept; mutagen may
re-encode frame headers (v2.3 <-> v2.4 frame names round-trip through its v2.4 model).

The label is written as Latin-1 text when it is ASCII (every reader shows it), else UTF-16
(v2.3) or UTF-8 (v2.4). Other places read and cleared on write: further ``TXXX`` frames whose
description contains ``AIGC``, ``COMM`` frames holding an AIGC JSON blob, and ``TC260:AIGC``
in the XMP packet of a ``PRIV`` frame with owner ``XMP`` (XMP spec part 3). ``extra_xmp`` is
merged into that ``PRIV`` packet (added if absent) without a label.

Sniffing: a leading ``ID3`` tag (whatever follows it), or a valid MPEG-1/2/2.5 audio frame
header (layer I-III; ADTS AAC has layer bits 00 and is not claimed). An ID3 tag in front of
another codec (rare: FLAC, ADTS) is therefore claimed as MP3.

Memory: mutagen parses a tag by copying it several times (the tag, each frame's body, the
decoded frame), so a tag costs about seven times its size (measured: a 250 MiB APIC frame took
a 1.9 GB peak to tag, 1.6 GB to verify). A tag over :func:`max_tag_bytes` (64 MiB, or the
``AIGC_TAG_MAX_ID3_MB`` environment variable) is refused from its 10-byte header, before a
byte of it is copied: "too large to process" (inconclusive in verify, exit 2 in tag). 64 MiB
holds cover art far past what players show (a 3000x3000 cover is 1-5 MB) and bounds the
parse to about half a gigabyte.
"""

from __future__ import annotations

import io
import os
import struct
from collections.abc import Callable

from mutagen import MutagenError
from mutagen.id3 import COMM, GEOB, ID3, PRIV, TXXX, Encoding

from .. import xmp as xmp_mod
from ..errors import CorruptContainer, LimitExceeded, UnsupportedFormat
from . import Found, found_from_value, found_in_xmp, guarded, register, scan_blobs

__all__ = ["CARRIER", "Id3Carrier", "max_tag_bytes", "strip_tag_labels", "tag_end", "tag_labels"]

C2PA_MIMES = ("application/c2pa", "application/x-c2pa-manifest-store")
XMP_OWNER = "XMP"
#: ID3v2 sizes are 28-bit syncsafe, so a tag is at most 256 MiB + header + footer.
MAX_TAG_BYTES = (1 << 28) + 20
#: The default tag limit in MiB (see the module docstring for the memory it bounds).
DEFAULT_MAX_TAG_MIB = 64
ENV_MAX_TAG_MIB = "AIGC_TAG_MAX_ID3_MB"
_MUTAGEN_ERRORS = (MutagenError, ValueError, EOFError, OSError, KeyError, struct.error)


def tag_end(data: bytes) -> int:
    """Length of the ID3v2 tag at the start of ``data`` (0 if none)."""
    if not data.startswith(b"ID3"):
        return 0
    if len(data) < 10:
        raise CorruptContainer(f"ID3v2 header truncated: {len(data)} of 10 bytes")
    major, flags, raw = data[3], data[5], data[6:10]
    if major not in (2, 3, 4) or any(b & 0x80 for b in raw):
        raise CorruptContainer(f"ID3v2 header is invalid (version 2.{major}, size {raw.hex()})")
    size = (raw[0] << 21) | (raw[1] << 14) | (raw[2] << 7) | raw[3]
    end = 10 + size + (10 if major == 4 and flags & 0x10 else 0)
    if end > len(data):
        raise CorruptContainer(f"ID3v2 tag truncated: {end} bytes declared, {len(data)} present")
    return end


def max_tag_bytes() -> int:
    """The largest ID3v2 tag parsed: ``AIGC_TAG_MAX_ID3_MB`` MiB, else 64 MiB."""
    raw = os.environ.get(ENV_MAX_TAG_MIB, "").strip()
    try:
        mib = float(raw) if raw else DEFAULT_MAX_TAG_MIB
    except ValueError:
        mib = DEFAULT_MAX_TAG_MIB  # a typo must not lift the limit
    if mib <= 0:
        mib = DEFAULT_MAX_TAG_MIB
    return min(int(mib * (1 << 20)), MAX_TAG_BYTES)


def _check_size(size: int) -> None:
    """Refuse a tag by its declared size, before it is sliced or handed to mutagen."""
    limit = max_tag_bytes()
    if size > limit:
        raise LimitExceeded(
            f"too large to process: ID3v2 tag of {size / (1 << 20):.1f} MiB, about "
            f"{7 * size / (1 << 30):.1f} GB to parse (limit {limit / (1 << 20):g} MiB, "
            f"{ENV_MAX_TAG_MIB})"
        )


def _load(tag: bytes) -> ID3:
    _check_size(len(tag))
    try:
        return ID3(io.BytesIO(tag))
    except _MUTAGEN_ERRORS as exc:
        raise CorruptContainer(f"ID3v2 tag does not parse ({exc})") from None


def _render(tags: ID3, major: int, room: int) -> bytes:
    """The tag bytes mutagen would write (keeping the old size when the frames fit)."""
    if major == 3:
        tags.update_to_v23()
    try:
        # mutagen's own tag serialiser, as used by ID3.save; works without a file.
        return tags._prepare_data(io.BytesIO(), 0, room, major, "/", None)
    except _MUTAGEN_ERRORS as exc:
        raise CorruptContainer(f"ID3v2 tag cannot be written back ({exc})") from None


def _is_label_frame(frame: object) -> bool:
    if isinstance(frame, TXXX):
        return "AIGC" in frame.desc.upper()
    if isinstance(frame, COMM):
        text = "\n".join(str(t) for t in frame.text)
        return "AIGC" in frame.desc.upper() or bool(
            scan_blobs(text.encode("utf-8", "replace"), location="", limit=1)
        )
    return False


def _xmp_frame(tags: ID3) -> PRIV | None:
    return next((f for f in tags.getall("PRIV") if f.owner == XMP_OWNER), None)


def tag_labels(tag: bytes, *, location: str = "ID3", normative: bool = True) -> list[Found]:
    """Label frames of one ID3v2 tag (bytes starting with ``ID3``), in frame order."""
    tags = _load(tag)
    found: list[Found] = []
    for frame in tags.values():
        if isinstance(frame, PRIV) and frame.owner == XMP_OWNER:
            found += found_in_xmp(frame.data, location=f"{location}/PRIV:XMP", normative=False)
        if not _is_label_frame(frame):
            continue
        is_txxx = isinstance(frame, TXXX)
        key = f"TXXX:{frame.desc}" if is_txxx else f"COMM:{frame.desc}"
        found.append(
            found_from_value(
                "\n".join(str(t) for t in frame.text),
                carrier="id3-txxx" if is_txxx else "id3-comm",
                location=f"{location}/{key}",
                key=key,
                form="text",
                normative=normative and is_txxx and frame.desc == "AIGC",
            )
        )
    return found


def _strip(tags: ID3) -> bool:
    changed = False
    for key, frame in list(tags.items()):
        if _is_label_frame(frame):
            del tags[key]
            changed = True
    priv = _xmp_frame(tags)
    if priv is not None and xmp_mod.find_label_properties(priv.data):
        priv.data = xmp_mod.remove_label(priv.data)
        changed = True
    return changed


def strip_tag_labels(tag: bytes) -> bytes:
    """One ID3v2 tag without label frames (same bytes back when it has none)."""
    tags = _load(tag)
    if not _strip(tags):
        return tag
    major = tag[3] if tag[3] in (3, 4) else 3
    return _render(tags, major, len(tag))


def _is_mpeg_frame(head: bytes) -> bool:
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version, layer = (head[1] >> 3) & 3, (head[1] >> 1) & 3
    bitrate, rate = head[2] >> 4, (head[2] >> 2) & 3
    return version != 1 and layer != 0 and bitrate != 15 and rate != 3


class Id3Carrier:
    """The MP3 carrier (see the module docstring)."""

    name = "mp3"
    media_type = "audio"
    mime = "audio/mpeg"
    extensions = (".mp3",)
    can_write = True
    label_places = ("ID3v2 TXXX:AIGC", "ID3v2 COMM with AIGC JSON", "ID3v2 PRIV:XMP TC260:AIGC")

    def accept(self, head: bytes) -> bool:
        return (head[:3] == b"ID3" and head[3:4] in (b"\2", b"\3", b"\4")) or _is_mpeg_frame(head)

    def _tags(self, data: bytes) -> ID3 | None:
        end = tag_end(data)
        if not end and not _is_mpeg_frame(data[:4]):
            raise UnsupportedFormat("not an MP3 file (no ID3v2 tag, no MPEG frame sync)")
        _check_size(end)  # before the slice copies it
        return _load(data[:end]) if end else None

    @guarded
    def read_labels(self, data: bytes) -> list[Found]:
        """TXXX/COMM label frames and XMP labels of the leading ID3v2 tag."""
        end = tag_end(data)
        if not end:
            self._tags(data)
            return []
        _check_size(end)  # before the slice copies it
        return tag_labels(data[:end], location=f"ID3v2.{data[3]}")

    @guarded
    def read_xmp(self, data: bytes) -> bytes | None:
        """The data of the ``PRIV`` frame with owner ``XMP``, or None."""
        tags = self._tags(data)
        frame = _xmp_frame(tags) if tags is not None else None
        return bytes(frame.data) if frame is not None else None

    @guarded
    def read_extras(self, data: bytes) -> dict[str, str]:
        """aigc-tag's own properties from the ``PRIV:XMP`` packet ({} if none)."""
        xmp = self.read_xmp(data)
        return xmp_mod.aigctag_properties(xmp) if xmp else {}

    @guarded
    def has_c2pa(self, data: bytes) -> bool:
        """True when a ``GEOB`` frame has the C2PA MIME type (a C2PA manifest store)."""
        tags = self._tags(data)
        if tags is None:
            return False
        return any(f.mime.lower() in C2PA_MIMES for f in tags.getall("GEOB") if isinstance(f, GEOB))

    @guarded
    def write_label(
        self, data: bytes, label_json: str, extra_xmp: dict[str, str] | None = None
    ) -> bytes:
        """One ``TXXX:AIGC`` frame; other label copies removed; audio bytes untouched."""
        tags = self._tags(data)
        end = tag_end(data)
        major = 3 if tags is None or data[3] not in (3, 4) else data[3]
        if tags is None:
            tags = ID3()
        _strip(tags)
        if label_json.isascii():
            encoding = Encoding.LATIN1
        else:
            encoding = Encoding.UTF8 if major == 4 else Encoding.UTF16
        tags.add(TXXX(encoding=encoding, desc="AIGC", text=[label_json]))
        if extra_xmp:
            priv = _xmp_frame(tags)
            packet = xmp_mod.merge_extras(priv.data if priv is not None else None, extra_xmp)
            if priv is not None:
                priv.data = packet
            else:
                tags.add(PRIV(owner=XMP_OWNER, data=packet))
        return _render(tags, major, end) + data[end:]

    def reencode(self, data: bytes, draw: Callable) -> bytes:
        raise UnsupportedFormat("MP3 has no pixels to re-encode")


CARRIER = register(Id3Carrier())
