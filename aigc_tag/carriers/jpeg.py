"""JPEG: the label in the APP1 XMP packet, other copies in EXIF UserComment or bare APPn blobs.

The marker walk stops at the first SOS: everything from there on (entropy-coded data, later
scans, EOI, trailers) is copied as one opaque block, so writing metadata can never touch the
image data. Segment locations read ``APP1[2]``: the marker name and the segment's position among
the segments before SOS, counting from 0 after SOI.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, ImageChops, JpegImagePlugin

from .. import xmp as xmp_mod
from ..errors import CorruptContainer, LimitExceeded, UnsupportedFormat
from ..imaging import open_image
from . import Found, _exif, found_in_xmp, guarded, register, scan_blobs

__all__ = ["CARRIER", "MAX_XMP_BYTES", "JpegCarrier", "Segment", "segments"]

XMP_ID = b"http://ns.adobe.com/xap/1.0/\x00"
EXT_XMP_ID = b"http://ns.adobe.com/xmp/extension/\x00"
EXIF_IDS = (b"Exif\x00\x00", b"Exif\x00\xff")
#: Largest XMP packet one APP1 segment carries (Adobe XMP spec part 3).
MAX_XMP_BYTES = 65502
#: ExtendedXMP chunk: 65533 payload bytes minus the 35-byte id, 32-byte GUID and two lengths.
_EXT_CHUNK = 65533 - len(EXT_XMP_ID) - 32 - 8
MAX_SEGMENTS = 65536
_STANDALONE = {0x01, *range(0xD0, 0xD8)}
_NAMES = {0xC4: "DHT", 0xCC: "DAC", 0xDB: "DQT", 0xDD: "DRI", 0xFE: "COM"}
_APP0, _APP1, _APP11, _APP14, _COM = 0xE0, 0xE1, 0xEB, 0xEE, 0xFE


@dataclass(frozen=True)
class Segment:
    """One marker segment before SOS. ``start`` includes any fill bytes before the marker."""

    marker: int
    start: int
    header: int  # offset of the 0xFF that introduces the marker
    payload: int
    end: int
    index: int

    @property
    def name(self) -> str:
        m = self.marker
        if 0xE0 <= m <= 0xEF:
            return f"APP{m - 0xE0}"
        if 0xC0 <= m <= 0xCF and m not in _NAMES:
            return f"SOF{m - 0xC0}"
        return _NAMES.get(m, f"0x{m:02X}")

    @property
    def location(self) -> str:
        return f"{self.name}[{self.index}]"

    @property
    def is_app_or_com(self) -> bool:
        return 0xE0 <= self.marker <= 0xEF or self.marker == _COM

    def body(self, data: bytes) -> bytes:
        return data[self.payload : self.end]


def segments(data: bytes) -> tuple[list[Segment], int]:
    """The segments between SOI and the first SOS (or EOI), and the offset where that begins."""
    if data[:2] != b"\xff\xd8":
        raise CorruptContainer("not a JPEG: no SOI marker")
    segs: list[Segment] = []
    pos = 2
    while True:
        start = pos
        if pos >= len(data):
            raise CorruptContainer("JPEG ends before its first scan (no SOS marker)")
        if data[pos] != 0xFF:
            raise CorruptContainer(
                f"JPEG: expected a marker at offset {pos}, found 0x{data[pos]:02X}"
            )
        while pos < len(data) and data[pos] == 0xFF:  # fill bytes
            pos += 1
        if pos >= len(data):
            raise CorruptContainer("JPEG ends inside a marker")
        marker, header, pos = data[pos], pos - 1, pos + 1
        if marker in (0xDA, 0xD9):  # SOS or EOI: the rest is kept as one block
            return segs, start
        if marker in (0x00, 0xD8):
            raise CorruptContainer(f"JPEG: invalid marker 0x{marker:02X} at offset {header}")
        if len(segs) >= MAX_SEGMENTS:
            raise LimitExceeded(f"JPEG has more than {MAX_SEGMENTS} segments before its scan")
        end = pos
        if marker not in _STANDALONE:
            end = _segment_end(data, pos, marker, header)
        segs.append(Segment(marker, start, header, min(pos + 2, end), end, len(segs)))
        pos = end


def _segment_end(data: bytes, pos: int, marker: int, header: int) -> int:
    name = Segment(marker, 0, 0, 0, 0, 0).name
    if pos + 2 > len(data):
        raise CorruptContainer(f"JPEG {name} segment at offset {header} is truncated")
    length = int.from_bytes(data[pos : pos + 2], "big")
    if length < 2:
        raise CorruptContainer(f"JPEG {name} segment at offset {header} has length {length}")
    if pos + length > len(data):
        raise CorruptContainer(
            f"JPEG {name} segment at offset {header} is truncated: "
            f"declares {length} bytes, {len(data) - pos} left"
        )
    return pos + length


def _is_xmp(seg: Segment, data: bytes) -> bool:
    return seg.marker == _APP1 and seg.body(data).startswith(XMP_ID)


def _is_ext_xmp(seg: Segment, data: bytes) -> bool:
    return seg.marker == _APP1 and seg.body(data).startswith(EXT_XMP_ID)


def _is_exif(seg: Segment, data: bytes) -> bool:
    return seg.marker == _APP1 and seg.body(data)[:6] in EXIF_IDS


def _is_blob_candidate(seg: Segment, data: bytes) -> bool:
    # XMP and Exif have their own readers; APP11 (C2PA JUMBF) belongs to the provenance module
    # and must not be edited, or its signature breaks.
    if not seg.is_app_or_com or seg.marker == _APP11:
        return False
    return not (_is_xmp(seg, data) or _is_ext_xmp(seg, data) or _is_exif(seg, data))


def _app_segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + (len(payload) + 2).to_bytes(2, "big") + payload


# --- ExtendedXMP ----------------------------------------------------------------------------


@dataclass
class _ExtendedXmp:
    guid: bytes
    total: int
    chunks: dict[int, bytes]
    segs: list[Segment]

    def assembled(self) -> bytes | None:
        """The whole extension, or None when chunks are missing or inconsistent."""
        buf = bytearray(self.total)
        filled = 0
        for off, chunk in self.chunks.items():
            if off + len(chunk) > self.total:
                return None
            buf[off : off + len(chunk)] = chunk
            filled += len(chunk)
        return bytes(buf) if filled == self.total else None


def _extended_xmp(segs: list[Segment], data: bytes) -> dict[bytes, _ExtendedXmp]:
    """ExtendedXMP chunks grouped by GUID (cheap: at most a few segments of 64 KiB)."""
    groups: dict[bytes, _ExtendedXmp] = {}
    for seg in segs:
        if not _is_ext_xmp(seg, data):
            continue
        body = seg.body(data)[len(EXT_XMP_ID) :]
        if len(body) < 40:
            continue  # too short to hold a GUID and the two lengths: not a usable chunk
        guid, total, off = (
            body[:32],
            int.from_bytes(body[32:36], "big"),
            int.from_bytes(body[36:40], "big"),
        )
        if total > xmp_mod.MAX_XMP_BYTES:
            raise LimitExceeded(f"ExtendedXMP of {total} bytes exceeds {xmp_mod.MAX_XMP_BYTES}")
        group = groups.setdefault(guid, _ExtendedXmp(guid, total, {}, []))
        if group.total == total:
            group.chunks[off] = body[40:]
            group.segs.append(seg)
    return groups


def _ext_segments(ext: bytes) -> tuple[bytes, list[bytes]]:
    """A new GUID (MD5 of the extension, as the XMP spec asks) and the APP1 segments."""
    guid = hashlib.md5(ext).hexdigest().upper().encode()
    head = EXT_XMP_ID + guid + len(ext).to_bytes(4, "big")
    out = []
    for off in range(0, len(ext), _EXT_CHUNK):
        out.append(_app_segment(_APP1, head + off.to_bytes(4, "big") + ext[off : off + _EXT_CHUNK]))
    return guid, out


# --- the carrier ----------------------------------------------------------------------------


class JpegCarrier:
    """JPEG/JFIF/EXIF files."""

    name = "jpeg"
    media_type = "image"
    mime = "image/jpeg"
    extensions = (".jpg", ".jpeg", ".jpe")
    can_write = True
    label_places = (
        "APP1 XMP",
        "APP1 ExtendedXMP",
        "APP1 Exif UserComment",
        "APPn/COM (AIGC blobs)",
    )

    def accept(self, head: bytes) -> bool:
        return head[:3] == b"\xff\xd8\xff"

    @guarded
    def read_labels(self, data: bytes) -> list[Found]:
        """Every label copy: XMP (normative), ExtendedXMP, EXIF UserComment, APPn/COM blobs."""
        segs, _ = segments(data)
        found: list[Found] = []
        for seg in segs:
            body = seg.body(data)
            if _is_xmp(seg, data):
                found += found_in_xmp(body[len(XMP_ID) :], location=f"{seg.location}/XMP")
            elif _is_exif(seg, data):
                found += _exif_labels(seg, data)
            elif _is_blob_candidate(seg, data):
                for hit in scan_blobs(body, location=seg.location):
                    hit.offset += seg.payload
                    found.append(hit)
        for group in _extended_xmp(segs, data).values():
            ext = group.assembled()
            if ext is None:
                continue  # incomplete extension: readers ignore it, so do we
            loc = f"{group.segs[0].location}/ExtendedXMP"
            found += found_in_xmp(ext, location=loc, normative=False)
        return found

    @guarded
    def read_xmp(self, data: bytes) -> bytes | None:
        """The main (standard) XMP packet, or None."""
        segs, _ = segments(data)
        seg = next((s for s in segs if _is_xmp(s, data)), None)
        return seg.body(data)[len(XMP_ID) :] if seg else None

    @guarded
    def has_c2pa(self, data: bytes) -> bool:
        """A C2PA manifest store lives in APP11 JUMBF segments, all before the first scan."""
        segs, _ = segments(data)
        return any(s.marker == _APP11 and b"c2pa" in s.body(data) for s in segs)

    @guarded
    def write_label(
        self, data: bytes, label_json: str, extra_xmp: dict[str, str] | None = None
    ) -> bytes:
        """Merge the label into the XMP APP1 and remove every other copy; nothing else changes."""
        segs, scan_at = segments(data)
        return _Writer(data, segs, label_json, extra_xmp).build(scan_at)

    @guarded
    def reencode(self, data: bytes, draw: Callable[[Image.Image], Image.Image]) -> bytes:
        """Redraw the pixels with ``draw`` and re-encode with the source's tables and sampling.

        ``draw`` gets the stored pixels (EXIF orientation NOT applied: the caller turns them
        upright if it wants) in RGB or L and must return an image of the same size. The output
        keeps every APPn/COM segment of the source in order (Exif, ICC, XMP, APP11, ...); only
        the frame (DQT/SOF/DHT/SOS and scan) is new.
        An Adobe APP14 is replaced only when the new frame needs another color transform.
        Data after the source's first scan that is not image data (MPF trailers) is dropped.
        """
        im = open_image(data)
        if not isinstance(im, JpegImagePlugin.JpegImageFile):
            raise UnsupportedFormat("not a JPEG image")
        redrawn = _redraw(im, draw)
        return _splice(data, _encode_like(im, redrawn))


def _exif_labels(seg: Segment, data: bytes) -> list[Found]:
    base = seg.payload + 6
    try:
        hits = _exif.find_user_comments(data[base : seg.end], location=f"{seg.location}/Exif")
    except CorruptContainer as exc:
        raise CorruptContainer(f"{seg.location}/Exif: {exc}") from None
    for hit in hits:
        hit.offset += base
    return hits


class _Writer:
    """One write_label run: decides what every segment becomes."""

    def __init__(
        self,
        data: bytes,
        segs: list[Segment],
        label_json: str,
        extra_xmp: dict[str, str] | None,
    ) -> None:
        self.data, self.segs = data, segs
        self.main = next((s for s in segs if _is_xmp(s, data)), None)
        existing = self.main.body(data)[len(XMP_ID) :] if self.main else None
        self.xmp = xmp_mod.merge_label(existing, label_json, extra_xmp)
        self.ext_out: dict[int, list[bytes]] = {}  # segment index -> replacement segments
        self._rewrite_labelled_extensions()
        if len(self.xmp) > MAX_XMP_BYTES:
            raise LimitExceeded(
                f"XMP packet would be {len(self.xmp)} bytes; a JPEG APP1 segment holds at most "
                f"{MAX_XMP_BYTES} (moving properties to ExtendedXMP is not supported)"
            )

    def _rewrite_labelled_extensions(self) -> None:
        # A label inside ExtendedXMP is removed; the new extension gets a new GUID (its MD5),
        # which the main packet's xmpNote:HasExtendedXMP must name.
        for group in _extended_xmp(self.segs, self.data).values():
            ext = group.assembled()
            if ext is None or not xmp_mod.find_label_properties(ext):
                continue
            guid, new_segs = _ext_segments(xmp_mod.remove_label(ext))
            self.xmp = self.xmp.replace(group.guid, guid)
            for i, seg in enumerate(group.segs):
                self.ext_out[seg.index] = new_segs if i == 0 else []

    def build(self, scan_at: int) -> bytes:
        parts = [self.data[:2]]
        insert_after = self._insert_after() if self.main is None else None
        if insert_after == -1:
            parts.append(_app_segment(_APP1, XMP_ID + self.xmp))
        for seg in self.segs:
            parts += self._segment_out(seg)
            if seg.index == insert_after:
                parts.append(_app_segment(_APP1, XMP_ID + self.xmp))
        parts.append(self.data[scan_at:])
        return b"".join(parts)

    def _insert_after(self) -> int:
        """Index of the last leading APP0/Exif APP1 (-1: right after SOI)."""
        last = -1
        for seg in self.segs:
            if not (seg.marker == _APP0 or _is_exif(seg, self.data)):
                break
            last = seg.index
        return last

    def _segment_out(self, seg: Segment) -> list[bytes]:
        data, raw = self.data, self.data[seg.start : seg.end]
        if seg is self.main:
            return [_app_segment(_APP1, XMP_ID + self.xmp)]
        if seg.index in self.ext_out:
            return self.ext_out[seg.index]
        if _is_xmp(seg, data):  # a second standard packet: keep it, minus any label
            body = seg.body(data)[len(XMP_ID) :]
            if not xmp_mod.find_label_properties(body):
                return [raw]
            return [_app_segment(_APP1, XMP_ID + xmp_mod.remove_label(body))]
        if _is_exif(seg, data):
            base = seg.payload + 6
            try:
                tiff = _exif.blank_label_user_comments(data[base : seg.end])
            except CorruptContainer as exc:
                raise CorruptContainer(f"{seg.location}/Exif: {exc}") from None
            return [data[seg.start : base] + tiff]
        if _is_blob_candidate(seg, data):
            return _without_blobs(seg, data)
        return [raw]


def _without_blobs(seg: Segment, data: bytes) -> list[bytes]:
    """The segment with label blobs blanked to spaces, or nothing if only blobs were in it."""
    body = bytearray(seg.body(data))
    blobs = scan_blobs(bytes(body), location=seg.location)
    if not blobs:
        return [data[seg.start : seg.end]]
    for blob in blobs:
        body[blob.offset : blob.offset + blob.length] = b" " * blob.length
    if not bytes(body).strip(b" \x00\r\n\t"):
        return []
    return [data[seg.start : seg.payload] + bytes(body)]


# --- re-encoding ----------------------------------------------------------------------------


def _redraw(im: JpegImagePlugin.JpegImageFile, draw: Callable[[Image.Image], Image.Image]):
    """Run ``draw`` on an RGB/L copy of the stored pixels; return pixels in the source mode."""
    mode = im.mode
    if mode not in ("RGB", "L", "CMYK"):
        raise UnsupportedFormat(f"cannot caption a {mode} JPEG")
    work = im.convert("RGB") if mode == "CMYK" else im.copy()
    drawn = draw(work.copy())
    if drawn.size != work.size:
        raise ValueError(f"draw returned size {drawn.size}, expected {work.size}")
    drawn = drawn.convert(work.mode)
    if mode != "CMYK":
        return drawn
    # CMYK <-> RGB is lossy in Pillow (no K channel back): only changed pixels are converted.
    out = im.copy()
    out.paste(drawn.convert("CMYK"), mask=_changed_mask(drawn, work))
    return out


def _encode_like(src: JpegImagePlugin.JpegImageFile, im: Image.Image) -> bytes:
    """Encode ``im`` with the quantization tables, sampling and progression of ``src``."""
    opts: dict = {"qtables": src.quantization}
    sampling = JpegImagePlugin.get_sampling(src)
    if sampling != -1:
        opts["subsampling"] = sampling
    if src.info.get("progressive") or src.info.get("progression"):
        opts["progressive"] = True
    if src.mode == "RGB" and src.info.get("adobe_transform") == 0:
        opts["keep_rgb"] = True  # the source stores RGB without a YCbCr transform
    buf = io.BytesIO()
    try:
        im.save(buf, "JPEG", **opts)
    except (OSError, ValueError) as exc:
        raise CorruptContainer(f"cannot re-encode JPEG: {exc}") from None
    return buf.getvalue()


def _adobe_transform(seg: Segment, data: bytes) -> int | None:
    body = seg.body(data)
    return (
        body[11] if seg.marker == _APP14 and body.startswith(b"Adobe") and len(body) > 11 else None
    )


def _splice(source: bytes, encoded: bytes) -> bytes:
    """Source APPn/COM segments (in order) + the new encode's frame and scan."""
    src_segs, _ = segments(source)
    new_segs, new_scan = segments(encoded)
    new_adobe = next((s for s in new_segs if _adobe_transform(s, encoded) is not None), None)
    parts = [b"\xff\xd8"]
    for seg in src_segs:
        if not seg.is_app_or_com:
            continue
        transform = _adobe_transform(seg, source)
        if new_adobe is not None and transform is not None:
            if transform != _adobe_transform(new_adobe, encoded):
                parts.append(encoded[new_adobe.header : new_adobe.end])
                continue
        parts.append(source[seg.header : seg.end])
    if new_adobe is not None and not any(_adobe_transform(s, source) is not None for s in src_segs):
        parts.append(encoded[new_adobe.header : new_adobe.end])
    parts += [encoded[s.header : s.end] for s in new_segs if not s.is_app_or_com]
    parts.append(encoded[new_scan:])
    return b"".join(parts)


def _changed_mask(a: Image.Image, b: Image.Image) -> Image.Image:
    """255 where any channel differs (per band first, so small changes are not rounded away)."""
    diff = ImageChops.difference(a, b).point(lambda v: 255 if v else 0)
    return diff.convert("L").point(lambda v: 255 if v else 0)


CARRIER = register(JpegCarrier())
