"""WAV (RIFF/RF64/BW64 ``WAVE``): the label in a top-level chunk with ID ``AIGC``.

TC260-PG-202510A puts the Annex E JSON into a RIFF sub-chunk ``AIGC`` of its own; mutagen cannot
write arbitrary chunks, so this module walks and writes RIFF itself. ``write_label`` replaces the
first ``AIGC`` chunk in place, or inserts a new one right before the ``data`` chunk (where ffmpeg
puts ``LIST``/``INFO``, so every reader copes with it); every other chunk (``fmt``, ``fact``,
``data``, ``LIST``, ``bext``, ``iXML``, ``_PMX``, ``id3``, ``C2PA``, unknown ones) is copied byte
for byte in its order, with its pad byte, and the RIFF size is fixed (for RF64/BW64 the 64-bit
size in ``ds64``). Bytes after the declared RIFF end are kept as they are. A streamed WAV (as
ffmpeg writes to a pipe: RIFF and ``data`` sizes 0 or 0xFFFFFFFF) is read with its data running
to the end of the file, and written back with the real sizes filled in.

Other places read (non-normative) and cleared on write, so that exactly one label is left:
``LIST``/``INFO`` sub-chunks named ``AIGC`` or holding an AIGC JSON blob (e.g. ``ICMT``) are
dropped, ``TC260:AIGC`` is removed from the ``_PMX`` XMP packet, ``TXXX:AIGC`` from an ``id3``
chunk. ``extra_xmp`` goes into the ``_PMX`` packet (added at the end if absent) without a label.

For the audio pipeline: :func:`wav_format` describes the PCM layout and :func:`replace_audio`
swaps the ``data`` payload keeping every other chunk.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

from .. import xmp as xmp_mod
from ..errors import CorruptContainer, LimitExceeded, UnsupportedFormat
from . import Found, found_from_value, found_in_xmp, guarded, register, scan_blobs

__all__ = ["CARRIER", "Chunk", "RiffCarrier", "WavFormat", "chunks", "replace_audio", "wav_format"]

FORMS = (b"RIFF", b"RF64", b"BW64")
MAX_CHUNKS = 100_000
#: Largest label/XMP/INFO chunk we parse for labels (the data chunk is never parsed).
MAX_META_BYTES = xmp_mod.MAX_XMP_BYTES
WAVE_FORMAT_PCM = 1
WAVE_FORMAT_IEEE_FLOAT = 3
WAVE_FORMAT_EXTENSIBLE = 0xFFFE
_LABEL_ID = b"AIGC"


@dataclass(frozen=True)
class Chunk:
    """One top-level chunk: ``start`` is its FourCC offset, ``size`` the real payload size
    (from ``ds64`` for RF64), ``end`` the offset after the pad byte."""

    index: int
    fourcc: bytes
    start: int
    size: int
    end: int

    @property
    def name(self) -> str:
        return f"{self.fourcc.decode('latin-1').strip()}[{self.index}]"

    def payload(self, data: bytes) -> bytes:
        return data[self.start + 8 : self.start + 8 + self.size]

    def raw(self, data: bytes) -> bytes:
        """The chunk as stored, with a missing final pad byte added back."""
        raw = data[self.start : self.end]
        return raw + b"\0" if len(raw) == 8 + self.size and self.size & 1 else raw


@dataclass(frozen=True)
class _Riff:
    form: bytes
    chunks: list[Chunk]
    end: int  # offset after the RIFF body (bytes after it are kept verbatim)


def _ds64_sizes(data: bytes) -> tuple[int, dict[bytes, int]]:
    """RF64/BW64: (RIFF size, {chunk id: 64-bit size}) from the ``ds64`` chunk at offset 12."""
    if len(data) < 20 or data[12:16] != b"ds64":
        raise CorruptContainer("RF64 WAV: no ds64 chunk right after the header")
    size = struct.unpack_from("<I", data, 16)[0]
    if size < 28 or 20 + size > len(data):
        raise CorruptContainer(f"RF64 WAV: ds64 chunk of {size} bytes is truncated or too short")
    riff_size, data_size, _samples, table = struct.unpack_from("<QQQI", data, 20)
    sizes = {b"data": data_size}
    if table > (size - 28) // 12:
        raise CorruptContainer(f"RF64 WAV: ds64 table of {table} entries does not fit")
    for i in range(table):
        cid, csize = struct.unpack_from("<4sQ", data, 48 + 12 * i)
        sizes.setdefault(cid, csize)
    return riff_size, sizes


def _parse(data: bytes, *, strict: bool) -> _Riff:
    """Walk the top-level chunks. ``strict`` (writers) refuses any chunk running past the end;
    readers clamp a truncated ``data`` chunk (and RIFF size) to what exists."""
    if len(data) < 12:
        if data[:4] in FORMS or not data:
            raise CorruptContainer(f"WAV truncated: {len(data)} bytes, no 12-byte RIFF header")
        raise UnsupportedFormat("not a WAV file (no RIFF header)")
    form, size32, wave = struct.unpack_from("<4sI4s", data, 0)
    if form not in FORMS or wave != b"WAVE":
        raise UnsupportedFormat("not a WAV file (no RIFF/RF64 WAVE header)")
    big: dict[bytes, int] = {}
    streamed = False
    if form == b"RIFF":
        riff_end = 8 + size32
        if size32 < 4 or size32 == 0xFFFFFFFF:  # streamed output: size never filled in
            riff_end, streamed = len(data), True
    else:
        riff_size, big = _ds64_sizes(data)
        riff_end = 8 + riff_size if riff_size >= 4 else len(data)
    if riff_end > len(data):
        if strict:
            raise CorruptContainer(
                f"WAV truncated: {form.decode()} declares {riff_end} bytes, file has {len(data)}"
            )
        riff_end = len(data)
    found: list[Chunk] = []
    pos = 12
    while pos < riff_end:
        if len(found) >= MAX_CHUNKS:
            raise LimitExceeded(f"WAV has more than {MAX_CHUNKS} chunks")
        if pos + 8 > riff_end:
            if strict:
                raise CorruptContainer(f"WAV chunk header #{len(found)} at offset {pos} truncated")
            break
        fourcc, size = struct.unpack_from("<4sI", data, pos)
        if size == 0xFFFFFFFF and fourcc in big:
            size = big[fourcc]
        elif fourcc == b"data" and streamed and size == 0:
            size = riff_end - pos - 8  # a pipe writer's placeholder: the data runs to the end
        stop = pos + 8 + size
        if stop > riff_end:
            label = f"WAV chunk {fourcc.decode('latin-1')!r} #{len(found)} at offset {pos}"
            unsized = streamed or size == 0xFFFFFFFF  # data size never filled in (a pipe)
            if (strict and not unsized) or fourcc != b"data":
                raise CorruptContainer(
                    f"{label} declares {size} bytes, only {riff_end - pos - 8} left"
                )
            size, stop = riff_end - pos - 8, riff_end
        end = min(stop + (size & 1), riff_end)  # tolerate a missing final pad byte
        found.append(Chunk(len(found), fourcc, pos, size, end))
        pos = end
    return _Riff(form, found, riff_end)


def chunks(data: bytes) -> list[Chunk]:
    """The top-level chunks, in file order (strict: truncation raises CorruptContainer)."""
    return _parse(data, strict=True).chunks


def _chunk(fourcc: bytes, payload: bytes) -> bytes:
    pad = b"\0" if len(payload) & 1 else b""
    return fourcc + struct.pack("<I", len(payload)) + payload + pad


def _assemble(riff: _Riff, data: bytes, body: list[bytes]) -> bytes:
    """Header + body + whatever followed the RIFF end, with the sizes fixed."""
    joined = b"".join(body)
    tail = data[riff.end :]
    if riff.form == b"RIFF":
        if len(joined) + 4 > 0xFFFFFFFF:
            raise LimitExceeded("WAV would exceed 4 GiB; convert it to RF64 first")
        return b"RIFF" + struct.pack("<I", len(joined) + 4) + b"WAVE" + joined + tail
    if not joined.startswith(b"ds64"):
        raise CorruptContainer("RF64 WAV: ds64 must stay the first chunk")
    fixed = joined[:8] + struct.pack("<Q", len(joined) + 4) + joined[16:]
    return riff.form + b"\xff\xff\xff\xff" + b"WAVE" + fixed + tail


def _meta_payload(chunk: Chunk, data: bytes) -> bytes:
    if chunk.size > MAX_META_BYTES:
        raise LimitExceeded(f"WAV {chunk.name} chunk of {chunk.size} bytes is too large")
    return chunk.payload(data)


# --- LIST/INFO ---------------------------------------------------------------------------------


def _info_items(payload: bytes) -> list[tuple[bytes, bytes, bytes]]:
    """(id, value, raw) for each sub-chunk of a ``LIST`` payload (after the list type)."""
    items, pos = [], 4
    while pos + 8 <= len(payload) and len(items) < MAX_CHUNKS:
        cid, size = struct.unpack_from("<4sI", payload, pos)
        stop = pos + 8 + size
        if stop > len(payload):
            raise CorruptContainer(f"WAV LIST sub-chunk {cid.decode('latin-1')!r} truncated")
        end = min(stop + (size & 1), len(payload))
        items.append((cid, payload[pos + 8 : stop], payload[pos:end]))
        pos = end
    return items


def _info_labels(chunk: Chunk, data: bytes) -> list[Found]:
    payload = _meta_payload(chunk, data)
    if payload[:4] != b"INFO":
        return []
    found: list[Found] = []
    for cid, value, _ in _info_items(payload):
        where = f"{chunk.name}/INFO/{cid.decode('latin-1')}"
        if cid == _LABEL_ID:
            found.append(
                found_from_value(
                    value.rstrip(b"\0"),
                    carrier="riff-info",
                    location=where,
                    key="AIGC",
                    form="text",
                    normative=False,
                )
            )
            continue
        for blob in scan_blobs(value, location=where, limit=4):
            blob.carrier, blob.key, blob.offset, blob.form = "riff-info", cid.decode(), -1, "text"
            found.append(blob)
    return found


def _info_without_label(chunk: Chunk, data: bytes) -> bytes:
    payload = _meta_payload(chunk, data)
    if payload[:4] != b"INFO":
        return chunk.raw(data)
    items = _info_items(payload)
    kept = [
        raw + (b"\0" if len(raw) & 1 else b"")
        for cid, value, raw in items
        if cid != _LABEL_ID and not scan_blobs(value, location="", limit=1)
    ]
    if len(kept) == len(items):
        return chunk.raw(data)
    return _chunk(b"LIST", b"INFO" + b"".join(kept)) if kept else b""


# --- the carrier -------------------------------------------------------------------------------


class RiffCarrier:
    """The WAV carrier (see the module docstring)."""

    name = "wav"
    media_type = "audio"
    mime = "audio/wav"
    extensions = (".wav", ".wave", ".bwf", ".rf64")
    can_write = True
    label_places = (
        "RIFF chunk AIGC",
        "LIST/INFO sub-chunk AIGC or AIGC JSON (e.g. ICMT)",
        "_PMX XMP TC260:AIGC",
        "id3 chunk TXXX:AIGC",
    )

    def accept(self, head: bytes) -> bool:
        return head[:4] in FORMS and head[8:12] == b"WAVE"

    @guarded
    def read_labels(self, data: bytes) -> list[Found]:
        """Label chunks, INFO entries, XMP and ID3 labels, in file order."""
        from . import id3

        found: list[Found] = []
        for chunk in _parse(data, strict=False).chunks:
            if chunk.fourcc == _LABEL_ID:
                value = _meta_payload(chunk, data)
                found.append(
                    found_from_value(
                        value.rstrip(b"\0"),
                        carrier="riff-chunk",
                        location=chunk.name,
                        key="AIGC",
                        offset=chunk.start + 8,
                        length=chunk.size,
                        form="text",
                    )
                )
            elif chunk.fourcc == b"LIST":
                found += _info_labels(chunk, data)
            elif chunk.fourcc == b"_PMX":
                xmp = _meta_payload(chunk, data)
                found += found_in_xmp(xmp, location=f"{chunk.name}/XMP", normative=False)
            elif chunk.fourcc in (b"id3 ", b"ID3 "):
                tag = _meta_payload(chunk, data)
                found += id3.tag_labels(tag, location=f"{chunk.name}/ID3", normative=False)
        return found

    @guarded
    def read_xmp(self, data: bytes) -> bytes | None:
        """The payload of the first ``_PMX`` chunk, or None."""
        for chunk in _parse(data, strict=False).chunks:
            if chunk.fourcc == b"_PMX":
                return _meta_payload(chunk, data).rstrip(b"\0")
        return None

    @guarded
    def read_extras(self, data: bytes) -> dict[str, str]:
        """aigc-tag's own properties from the ``_PMX`` packet ({} if none)."""
        xmp = self.read_xmp(data)
        return xmp_mod.aigctag_properties(xmp) if xmp else {}

    @guarded
    def has_c2pa(self, data: bytes) -> bool:
        """True when a top-level ``C2PA`` chunk (C2PA manifest store in RIFF) exists."""
        return any(c.fourcc == b"C2PA" for c in _parse(data, strict=False).chunks)

    @guarded
    def write_label(
        self, data: bytes, label_json: str, extra_xmp: dict[str, str] | None = None
    ) -> bytes:
        """One ``AIGC`` chunk (replaced in place or inserted before ``data``); see the module."""
        from . import id3

        riff = _parse(data, strict=True)
        if not any(c.fourcc == b"data" for c in riff.chunks):
            raise CorruptContainer("WAV has no data chunk")
        label = _chunk(_LABEL_ID, label_json.encode("utf-8"))
        body: list[bytes] = []
        placed = xmp_done = False
        for chunk in riff.chunks:
            cc = chunk.fourcc
            if cc == _LABEL_ID:
                if not placed:
                    body.append(label)
                    placed = True
                continue
            if cc == b"data" and not placed:
                body.append(label)
                placed = True
            if cc == b"LIST":
                body.append(_info_without_label(chunk, data))
            elif cc == b"_PMX":
                body.append(_xmp_chunk(_meta_payload(chunk, data), extra_xmp, not xmp_done))
                xmp_done = True
            elif cc in (b"id3 ", b"ID3 "):
                tag = _meta_payload(chunk, data)
                stripped = id3.strip_tag_labels(tag)
                body.append(chunk.raw(data) if stripped == tag else _chunk(cc, stripped))
            elif cc == b"data" and riff.form == b"RIFF":
                declared = struct.unpack_from("<I", data, chunk.start + 4)[0]
                fixed = declared == chunk.size
                body.append(chunk.raw(data) if fixed else _chunk(cc, chunk.payload(data)))
            else:
                body.append(chunk.raw(data))
        if extra_xmp and not xmp_done:
            body.append(_chunk(b"_PMX", xmp_mod.merge_extras(None, extra_xmp)))
        return _assemble(riff, data, body)

    def reencode(self, data: bytes, draw: Callable) -> bytes:
        raise UnsupportedFormat("WAV has no pixels to re-encode; use replace_audio for samples")


def _xmp_chunk(packet: bytes, extra: dict[str, str] | None, first: bool) -> bytes:
    """The ``_PMX`` chunk without label properties, with ``extra`` merged into the first one."""
    original = packet
    packet = packet.rstrip(b"\0")
    if xmp_mod.find_label_properties(packet):
        packet = xmp_mod.remove_label(packet)
    if extra and first:
        packet = xmp_mod.merge_extras(packet, extra)
    if packet == original.rstrip(b"\0"):
        packet = original
    return _chunk(b"_PMX", packet)


# --- PCM access for the audio pipeline ---------------------------------------------------------


@dataclass(frozen=True)
class WavFormat:
    """The PCM layout of a WAV file.

    ``format_tag`` is the resolved codec (the sub-format GUID's tag for WAVE_FORMAT_EXTENSIBLE):
    1 = integer PCM, 3 = IEEE float, anything else is compressed. ``data_size`` is clamped to
    the bytes actually present after ``data_offset``.
    """

    format_tag: int
    is_float: bool
    channels: int
    sample_rate: int
    bits_per_sample: int
    block_align: int
    channel_mask: int
    data_offset: int
    data_size: int
    extensible: bool = False
    valid_bits_per_sample: int = 0

    @property
    def frames(self) -> int:
        return self.data_size // self.block_align if self.block_align else 0


def wav_format(data: bytes) -> WavFormat:
    """Parse ``fmt `` and locate ``data``; CorruptContainer for truncated/inconsistent headers."""
    try:
        return _wav_format(data)
    except (struct.error, IndexError) as exc:
        raise CorruptContainer(f"WAV: malformed header ({exc})") from None


def _wav_format(data: bytes) -> WavFormat:
    riff = _parse(data, strict=False)
    fmt = next((c for c in riff.chunks if c.fourcc == b"fmt "), None)
    body = next((c for c in riff.chunks if c.fourcc == b"data"), None)
    if fmt is None:
        raise CorruptContainer("WAV has no fmt chunk")
    if body is None:
        raise CorruptContainer("WAV has no data chunk")
    if fmt.size < 16:
        raise CorruptContainer(f"WAV fmt chunk is {fmt.size} bytes, at least 16 needed")
    payload = fmt.payload(data)
    tag, channels, rate, _byte_rate, align, bits = struct.unpack_from("<HHIIHH", payload, 0)
    extensible, mask, valid = tag == WAVE_FORMAT_EXTENSIBLE, 0, bits
    if extensible:
        if fmt.size < 40:
            raise CorruptContainer(
                f"WAV fmt chunk is {fmt.size} bytes, WAVE_FORMAT_EXTENSIBLE needs 40"
            )
        valid, mask = struct.unpack_from("<HI", payload, 18)
        tag = struct.unpack_from("<H", payload, 24)[0]  # first two bytes of the sub-format GUID
    if channels == 0 or rate == 0:
        raise CorruptContainer(f"WAV fmt: {channels} channels at {rate} Hz")
    if tag in (WAVE_FORMAT_PCM, WAVE_FORMAT_IEEE_FLOAT):
        if bits == 0 or bits % 8 or align != channels * bits // 8:
            raise CorruptContainer(
                f"WAV fmt: block align {align} does not match {channels} x {bits} bits"
            )
    return WavFormat(
        format_tag=tag,
        is_float=tag == WAVE_FORMAT_IEEE_FLOAT,
        channels=channels,
        sample_rate=rate,
        bits_per_sample=bits,
        block_align=align,
        channel_mask=mask,
        data_offset=body.start + 8,
        data_size=min(body.size, len(data) - body.start - 8),
        extensible=extensible,
        valid_bits_per_sample=valid,
    )


def replace_audio(data: bytes, pcm: bytes) -> bytes:
    """``data`` with a new ``data`` chunk payload; every other chunk kept, sizes fixed.

    ``pcm`` must be whole sample frames of the same format. A ``fact`` chunk's sample count
    (and ds64's data size and sample count for RF64) are updated.
    """
    try:
        return _replace_audio(data, bytes(pcm))
    except (struct.error, IndexError) as exc:
        raise CorruptContainer(f"WAV: malformed header ({exc})") from None


def _replace_audio(data: bytes, pcm: bytes) -> bytes:
    fmt = _wav_format(data)
    if fmt.block_align and len(pcm) % fmt.block_align:
        raise ValueError(f"{len(pcm)} PCM bytes are not whole {fmt.block_align}-byte frames")
    riff = _parse(data, strict=True)
    frames = len(pcm) // fmt.block_align if fmt.block_align else 0
    body: list[bytes] = []
    for chunk in riff.chunks:
        if chunk.fourcc == b"data":
            if riff.form == b"RIFF":
                body.append(_chunk(b"data", pcm))
            else:
                pad = b"\0" if len(pcm) & 1 else b""
                size = len(pcm) if len(pcm) < 0xFFFFFFFF else 0xFFFFFFFF
                body.append(b"data" + struct.pack("<I", size) + pcm + pad)
        elif chunk.fourcc == b"fact" and chunk.size >= 4:
            payload = struct.pack("<I", min(frames, 0xFFFFFFFF)) + chunk.payload(data)[4:]
            body.append(_chunk(b"fact", payload))
        elif chunk.fourcc == b"ds64":
            payload = bytearray(chunk.payload(data))
            struct.pack_into("<QQ", payload, 8, len(pcm), frames)
            body.append(_chunk(b"ds64", bytes(payload)))
        else:
            body.append(chunk.raw(data))
    return _assemble(riff, data, body)


CARRIER = register(RiffCarrier())
