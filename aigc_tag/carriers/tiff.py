"""TIFF: the label in the XMP packet of IFD0 (tag 700, 0x02BC), the EXIF UserComment as an extra.

Writing is append-only: the merged packet and a new copy of IFD0 go to the end of the file and
the header is pointed at the new IFD0. Everything else stays at its offset, so strip, tile and
sub-IFD pointers of every page remain valid. The replaced packet is zeroed in place so no stale
label bytes stay behind. Classic TIFF only: BigTIFF is refused.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable

from PIL import Image, ImageChops, TiffImagePlugin

from .. import xmp as xmp_mod
from ..errors import AigcTagError, CorruptContainer, LimitExceeded, UnsupportedFormat
from ..imaging import MAX_PIXELS, open_image
from . import Found, _exif, found_in_xmp, guarded, register

__all__ = ["CARRIER", "MAX_PAGES", "TiffCarrier"]

TAG_XMP = _exif.TAG_XMP
#: Pages re-encoded by ``reencode``; a fax or scan rarely has more than a few hundred.
MAX_PAGES = 1024
# Tags that describe how the pixels are stored: after re-encoding they come from Pillow's
# output (size, bits, compression, photometric, fill order, strips, planar, predictor, colour
# map, tiles, extra samples, sample format, JPEG tables, YCbCr layout); all others are kept.
_LAYOUT_TAGS = {
    256, 257, 258, 259, 262, 266, 273, 277, 278, 279, 284, 317, 320, 322, 323, 324, 325, 338,
    339, 347, 530, 531, 532,
}  # fmt: skip
_DRAW_MODES = {"L": "L", "RGB": "RGB", "RGBA": "RGBA", "1": "L", "LA": "RGBA", "P": "RGB",
               "CMYK": "RGB"}  # fmt: skip


class TiffCarrier:
    """Classic (32-bit offset) TIFF, single- or multi-page."""

    name = "tiff"
    media_type = "image"
    mime = "image/tiff"
    extensions = (".tif", ".tiff")
    can_write = True
    label_places = ("IFD0 tag 700 XMP", "Exif UserComment")

    def accept(self, head: bytes) -> bool:
        # BigTIFF is claimed too, so the user hears "BigTIFF is not supported", not "unknown".
        return head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")

    @guarded
    def read_labels(self, data: bytes) -> list[Found]:
        """The IFD0 XMP label (normative) and any EXIF UserComment label."""
        endian, ifd0 = _ifd0(data)
        found: list[Found] = []
        xmp = _xmp_value(data, ifd0)
        if xmp is not None:
            found += found_in_xmp(xmp, location="IFD0/XMP")
        found += _exif.find_user_comments(data, location="TIFF")
        return found

    @guarded
    def read_xmp(self, data: bytes) -> bytes | None:
        """The IFD0 XMP packet, or None."""
        _, ifd0 = _ifd0(data)
        return _xmp_value(data, ifd0)

    @guarded
    def write_label(
        self, data: bytes, label_json: str, extra_xmp: dict[str, str] | None = None
    ) -> bytes:
        """Append the merged XMP and a new IFD0 that points at it; nothing else moves."""
        endian, ifd0 = _ifd0(data)
        old = ifd0.get(TAG_XMP)
        packet = xmp_mod.merge_label(_xmp_value(data, ifd0), label_json, extra_xmp)
        out = bytearray(_exif.blank_label_user_comments(data))
        if old is not None and old.size > 4:
            out[old.value_at : old.value_at + old.size] = bytes(old.size)  # orphaned packet
        _pad(out)
        xmp_at = len(out)
        out += packet
        _pad(out)
        ifd_at = len(out)
        xmp_type = old.type if old is not None and old.type in (1, 7) else 7
        entries = {e.tag: data[e.at : e.at + 12] for e in ifd0.entries if e.tag != TAG_XMP}
        entries[TAG_XMP] = struct.pack(endian + "HHII", TAG_XMP, xmp_type, len(packet), xmp_at)
        out += struct.pack(endian + "H", len(entries))
        out += b"".join(entries[tag] for tag in sorted(entries))
        out += struct.pack(endian + "I", ifd0.next_offset)
        if len(out) > 0xFFFFFFFF:
            raise LimitExceeded("TIFF would exceed 4 GiB, the classic TIFF offset limit")
        out[4:8] = struct.pack(endian + "I", ifd_at)
        return bytes(out)

    @guarded
    def reencode(self, data: bytes, draw: Callable[[Image.Image], Image.Image]) -> bytes:
        """Redraw every page with ``draw``, re-encode its pixels, keep every other tag as is.

        ``draw`` gets each page's stored pixels (orientation NOT applied, as for JPEG: the
        caller turns them upright if it wants) as L, RGB or RGBA and must return the same
        size; bi-level pages are drawn on L and thresholded back to 1 bit, P and CMYK pages get
        only the changed pixels converted back. Every page in the IFD chain
        is captioned, since each page is an image a viewer may show on its own.

        Pillow encodes each page with its original compression; its strips and layout tags
        (size, bits, photometric, colour map, predictor, ...) are appended and a new IFD per
        page combines them with the page's other tags copied byte for byte, so EXIF, ICC, XMP,
        orientation and private tags survive, which a plain Pillow re-save cannot do for EXIF.
        The old strips are zeroed so no uncaptioned copy of the pixels stays in the file.
        """
        endian, ifd0 = _ifd0(data)
        pages = _page_chain(data, endian, ifd0)
        im = open_image(data)
        if not isinstance(im, TiffImagePlugin.TiffImageFile):
            raise UnsupportedFormat("not a TIFF image")
        if getattr(im, "n_frames", 1) != len(pages):
            raise CorruptContainer(
                f"TIFF page chain has {len(pages)} IFDs, Pillow sees {im.n_frames}"
            )
        out = bytearray(data)
        links: list[tuple[int, int]] = []  # (new IFD offset, where its next pointer sits)
        for ifd in pages:
            encoded = _encode_page(im, ifd, endian, data, draw)
            _zero_image_data(out, data, ifd, endian)
            links.append(_append_page(out, data, ifd, endian, encoded))
        for (_, next_at), (ifd_at, _) in zip(links, links[1:], strict=False):
            out[next_at : next_at + 4] = struct.pack(endian + "I", ifd_at)
        if len(out) > 0xFFFFFFFF:
            raise LimitExceeded("TIFF would exceed 4 GiB, the classic TIFF offset limit")
        out[4:8] = struct.pack(endian + "I", links[0][0])
        return bytes(out)


def _ifd0(data: bytes) -> tuple[str, _exif.Ifd]:
    endian, ifd0_at = _exif.parse_header(data)
    return endian, _exif.read_ifd(data, ifd0_at, endian=endian, name="IFD0")


def _xmp_value(data: bytes, ifd0: _exif.Ifd) -> bytes | None:
    entry = ifd0.get(TAG_XMP)
    if entry is None:
        return None
    return _exif.value_bytes(data, entry, where="IFD0/XMP")


def _pad(buf: bytearray) -> None:
    if len(buf) % 2:  # TIFF 6.0: IFDs and values start on a word boundary
        buf += b"\x00"


def _page_chain(data: bytes, endian: str, ifd0: _exif.Ifd) -> list[_exif.Ifd]:
    """IFD0 and the pages chained after it, refusing loops and absurd page counts."""
    pages, seen = [ifd0], {ifd0.offset}
    while pages[-1].next_offset:
        at = pages[-1].next_offset
        if at in seen:
            raise CorruptContainer(f"TIFF IFD chain loops back to offset {at}")
        if len(pages) >= MAX_PAGES:
            raise LimitExceeded(f"TIFF has more than {MAX_PAGES} pages")
        seen.add(at)
        pages.append(_exif.read_ifd(data, at, endian=endian, name=f"IFD{len(pages)}"))
    return pages


def _encode_page(
    im: TiffImagePlugin.TiffImageFile,
    ifd: _exif.Ifd,
    endian: str,
    data: bytes,
    draw: Callable[[Image.Image], Image.Image],
) -> bytes:
    """One page redrawn and saved by Pillow as a one-page TIFF with the same compression."""
    index = int(ifd.name[3:])
    orientation = (_ints(data, ifd.get(274), endian, ifd.name) or [1])[0]
    try:
        im.seek(index)
        w, h = im.size
        if w * h > MAX_PIXELS:
            raise LimitExceeded(f"TIFF page {index} is {w}x{h} pixels, above {MAX_PIXELS}")
        im.load()
        # Pillow >= 10.x turns TIFF pages upright on load and drops the Orientation tag: undo
        # that, so draw sees the stored layout on every Pillow version, as it does for JPEG.
        upright = 274 not in im.tag_v2
        _check_size(im, ifd, endian, data, orientation if upright else 1)
        stored = _exif.from_display(im, orientation) if upright else im.copy()
        page = _redraw(stored, draw)
        buf = io.BytesIO()
        page.save(buf, "TIFF", compression=im.info.get("compression", "raw"))
    except AigcTagError:
        raise
    except (OSError, ValueError, SyntaxError, EOFError, struct.error) as exc:
        raise CorruptContainer(f"cannot re-encode TIFF page {index}: {exc}") from None
    return buf.getvalue()


def _check_size(im: Image.Image, ifd: _exif.Ifd, endian: str, data: bytes, orientation: int):
    """Refuse a page Pillow decoded to another shape than the IFD declares."""
    w = (_ints(data, ifd.get(256), endian, ifd.name) or [0])[0]
    h = (_ints(data, ifd.get(257), endian, ifd.name) or [0])[0]
    expected = (h, w) if orientation in (5, 6, 7, 8) else (w, h)
    if im.size != expected:
        raise CorruptContainer(f"TIFF {ifd.name}: decoded size {im.size}, expected {expected}")


def _ints(data: bytes, entry: _exif.Entry | None, endian: str, where: str) -> list[int]:
    if entry is None:
        return []
    if entry.type not in (3, 4):
        raise CorruptContainer(f"{where}: tag {entry.tag} has type {entry.type}, not SHORT/LONG")
    fmt = "H" if entry.type == 3 else "I"
    raw = _exif.value_bytes(data, entry, where=where)
    return list(struct.unpack(f"{endian}{entry.count}{fmt}", raw))


def _zero_image_data(out: bytearray, data: bytes, ifd: _exif.Ifd, endian: str) -> None:
    """Blank the old strips or tiles of a page (clipped to the file)."""
    for off_tag, len_tag in ((273, 279), (324, 325)):
        offsets = _ints(data, ifd.get(off_tag), endian, ifd.name)
        counts = _ints(data, ifd.get(len_tag), endian, ifd.name)
        for off, n in zip(offsets, counts, strict=False):
            end = min(off + n, len(out))
            if 8 <= off < end:
                out[off:end] = bytes(end - off)


def _swap(value: bytes, typ: int) -> bytes:
    """Reverse the byte order of each element (Pillow may write the other byte order)."""
    size = 4 if typ in (5, 10) else _exif.TYPE_SIZES.get(typ, 1)
    if size == 1:
        return value
    return b"".join(value[i : i + size][::-1] for i in range(0, len(value), size))


def _append_page(
    out: bytearray, data: bytes, ifd: _exif.Ifd, endian: str, encoded: bytes
) -> tuple[int, int]:
    """Append the new strips and a merged IFD; returns (IFD offset, next-pointer offset)."""
    p_endian, p_at = _exif.parse_header(encoded)
    p_ifd = _exif.read_ifd(encoded, p_at, endian=p_endian, name="re-encoded page")
    entries = {e.tag: data[e.at : e.at + 12] for e in ifd.entries if e.tag not in _LAYOUT_TAGS}
    offsets = []
    strips = _ints(encoded, p_ifd.get(273), p_endian, "re-encoded page")
    counts = _ints(encoded, p_ifd.get(279), p_endian, "re-encoded page")
    for off, n in zip(strips, counts, strict=True):
        _pad(out)
        offsets.append(len(out))
        out += encoded[off : off + n]
    for e in p_ifd.entries:
        if e.tag not in _LAYOUT_TAGS or e.tag == 273:
            continue
        value = _exif.value_bytes(encoded, e, where="re-encoded page")
        entries[e.tag] = _entry(
            out, endian, e.tag, e.type, e.count, _swap_if(value, e, p_endian, endian)
        )
    packed = struct.pack(f"{endian}{len(offsets)}I", *offsets)
    entries[273] = _entry(out, endian, 273, 4, len(offsets), packed)
    _pad(out)
    ifd_at = len(out)
    out += struct.pack(endian + "H", len(entries))
    out += b"".join(entries[tag] for tag in sorted(entries))
    next_at = len(out)
    out += bytes(4)
    return ifd_at, next_at


def _swap_if(value: bytes, entry: _exif.Entry, src_endian: str, dst_endian: str) -> bytes:
    return value if src_endian == dst_endian else _swap(value, entry.type)


def _entry(out: bytearray, endian: str, tag: int, typ: int, count: int, value: bytes) -> bytes:
    """A 12-byte IFD entry; values over 4 bytes are appended to ``out``."""
    head = struct.pack(endian + "HHI", tag, typ, count)
    if len(value) <= 4:
        return head + value.ljust(4, b"\x00")
    _pad(out)
    at = len(out)
    out += value
    return head + struct.pack(endian + "I", at)


def _redraw(src: Image.Image, draw: Callable[[Image.Image], Image.Image]) -> Image.Image:
    """Draw on an L/RGB/RGBA copy; return pixels in the page's own mode."""
    mode = src.mode
    if mode not in _DRAW_MODES:
        raise UnsupportedFormat(f"cannot caption a TIFF page in mode {mode}")
    work = src.convert(_DRAW_MODES[mode])
    drawn = draw(work.copy())
    if drawn.size != work.size:
        raise ValueError(f"draw returned size {drawn.size}, expected {work.size}")
    drawn = drawn.convert(work.mode)
    if mode in ("L", "RGB", "RGBA"):
        return drawn
    if mode == "1":
        return drawn.convert("1", dither=Image.Dither.NONE)  # crisp threshold, no dither noise
    if mode == "LA":
        return drawn.convert("LA")
    # P and CMYK: converting back is lossy, so only the pixels draw changed are converted.
    changed = _changed_mask(drawn, work)
    back = drawn.quantize(palette=src, dither=Image.Dither.NONE) if mode == "P" else drawn
    out = src.copy()
    out.paste(back.convert(mode) if mode != "P" else back, mask=changed)
    return out


def _changed_mask(a: Image.Image, b: Image.Image) -> Image.Image:
    """255 where any channel differs (per band first, so small changes are not rounded away)."""
    diff = ImageChops.difference(a, b).point(lambda v: 255 if v else 0)
    return diff.convert("L").point(lambda v: 255 if v else 0)


CARRIER = register(TiffCarrier())
