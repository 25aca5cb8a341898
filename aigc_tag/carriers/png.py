"""PNG: the label in the XMP ``iTXt`` chunk, other copies in ``AIGC`` text chunks or eXIf.

The chunk walk is bounded (chunk count, 2^31-1 chunk length, inflated text size) and stops at
IEND; bytes after IEND are not part of the PNG and are not written back. ``write_label`` edits
chunks only: the XMP ``iTXt`` is merged in place (or inserted before the first IDAT), Annex B
``AIGC`` text chunks are dropped, label UserComments in eXIf are zeroed, and every other chunk,
IDAT included, is copied byte for byte with its CRC. Chunk locations read ``iTXt[3]``: the chunk
type and its position in the file, counting IHDR as 0.

APNG (an ``acTL`` chunk) is refused by ``reencode``: captioning only the default image would leave
the other frames unlabelled, and Pillow's APNG writer does not keep the original frame layout.
``write_label`` works on APNG like on any PNG.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image

from .. import xmp as xmp_mod
from ..errors import CorruptContainer, LimitExceeded, UnsupportedFormat
from ..imaging import MAX_PIXELS, open_image
from . import Found, found_from_value, found_in_xmp, guarded, register
from ._exif import blank_label_user_comments, find_user_comments

__all__ = ["CARRIER", "MAGIC", "Chunk", "PngCarrier", "chunks"]

MAGIC = b"\x89PNG\r\n\x1a\n"
XMP_KEYWORD = b"XML:com.adobe.xmp"
#: Each chunk is at least 12 bytes; this caps the walk on files made of empty chunks.
MAX_CHUNKS = 200_000
#: Largest inflated zTXt/iTXt value we accept (same ceiling as an XMP packet).
MAX_TEXT_BYTES = xmp_mod.MAX_XMP_BYTES
_TEXT_TYPES = (b"tEXt", b"zTXt", b"iTXt")
_IMAGE_TYPES = (b"IHDR", b"PLTE", b"tRNS", b"IDAT")

Draw = Callable[[Image.Image], Image.Image]


@dataclass(frozen=True)
class Chunk:
    """One chunk: ``start`` is the offset of its length field, ``end`` the offset after its CRC."""

    index: int
    type: bytes
    start: int
    end: int

    @property
    def name(self) -> str:
        return f"{self.type.decode('latin-1')}[{self.index}]"

    def raw(self, data: bytes) -> bytes:
        return data[self.start : self.end]

    def body(self, data: bytes) -> bytes:
        return data[self.start + 8 : self.end - 4]


def chunks(data: bytes) -> list[Chunk]:
    """Every chunk from IHDR to IEND; truncation or a missing IEND raises CorruptContainer."""
    if not data.startswith(MAGIC):
        raise UnsupportedFormat("not a PNG file (bad signature)")
    found: list[Chunk] = []
    pos = len(MAGIC)
    while True:
        if len(found) >= MAX_CHUNKS:
            raise LimitExceeded(f"PNG has more than {MAX_CHUNKS} chunks")
        if pos + 8 > len(data):
            raise CorruptContainer(f"PNG truncated at offset {pos}: no IEND chunk")
        length, ctype = struct.unpack_from(">I4s", data, pos)
        name = f"{ctype.decode('latin-1')!r} chunk #{len(found)} at offset {pos}"
        if length > 0x7FFFFFFF:
            raise CorruptContainer(f"PNG {name}: length {length} is over 2^31-1")
        end = pos + 12 + length
        if end > len(data):
            raise CorruptContainer(f"PNG {name} truncated: {length} bytes declared")
        found.append(Chunk(len(found), ctype, pos, end))
        if ctype == b"IEND":
            break
        pos = end
    if found[0].type != b"IHDR" or found[0].end - found[0].start != 25:
        raise CorruptContainer("PNG does not start with a 13-byte IHDR chunk")
    return found


def _make_chunk(ctype: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(ctype + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", crc)


def _keyword(chunk: Chunk, data: bytes) -> bytes:
    """The keyword of a text chunk (the bytes before the first NUL, at most 79)."""
    return data[chunk.start + 8 : min(chunk.end - 4, chunk.start + 8 + 80)].partition(b"\0")[0]


def _is_label_keyword(keyword: bytes) -> bool:
    return b"AIGC" in keyword.upper()


@dataclass(frozen=True)
class _Text:
    keyword: bytes
    value: bytes  # inflated (what inflated before the stream broke, when ``error`` is set)
    offset: int  # file offset of the stored (possibly compressed) value
    length: int
    error: str | None = None  # the compressed stream is truncated, corrupt or of unknown method


def _inflate(raw: bytes, where: str) -> tuple[bytes, str | None]:
    """Inflate one text value with the size cap: (value, problem). A stream that ends early
    inflates "successfully" in zlib, so its end is checked: a cut label is unreadable, not
    a shorter label."""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(raw, MAX_TEXT_BYTES + 1)
    except zlib.error as exc:
        return b"", f"PNG {where}: compressed text does not inflate ({exc})"
    if len(out) > MAX_TEXT_BYTES or inflater.unconsumed_tail:
        raise LimitExceeded(f"PNG {where}: text inflates beyond {MAX_TEXT_BYTES} bytes")
    if not inflater.eof:
        return out, f"PNG {where}: compressed text is truncated (the zlib stream does not end)"
    return out, None


def _inflate_method(method: int, raw: bytes, where: str) -> tuple[bytes, str | None]:
    if method != 0:  # PNG defines only method 0 (zlib deflate)
        return b"", f"PNG {where}: unknown compression method {method}"
    return _inflate(raw, where)


def crc_problem(chunk: Chunk, data: bytes) -> str | None:
    """A warning when the chunk's stored CRC does not match its type and body, else None."""
    stored = struct.unpack_from(">I", data, chunk.end - 4)[0]
    computed = zlib.crc32(data[chunk.start + 4 : chunk.end - 4]) & 0xFFFFFFFF
    if stored == computed:
        return None
    return (
        f"PNG {chunk.name}: CRC mismatch (stored {stored:08x}, computed {computed:08x}): the "
        "chunk was altered or damaged after it was written"
    )


def _parse_text(chunk: Chunk, data: bytes) -> _Text:
    """Decode a tEXt, zTXt or iTXt chunk (compressed values inflated with a size cap)."""
    body = chunk.body(data)
    keyword, sep, rest = body.partition(b"\0")
    if not sep:
        raise CorruptContainer(f"PNG {chunk.name}: keyword is not NUL-terminated")
    at = chunk.start + 8 + len(keyword) + 1
    if chunk.type == b"tEXt":
        return _Text(keyword, rest, at, len(rest))
    if chunk.type == b"zTXt":
        if not rest:
            raise CorruptContainer(f"PNG {chunk.name}: no compression method byte")
        value, error = _inflate_method(rest[0], rest[1:], chunk.name)
        return _Text(keyword, value, at + 1, len(rest) - 1, error)
    if len(rest) < 2:
        raise CorruptContainer(f"PNG {chunk.name}: truncated iTXt header")
    compressed, method = rest[0] == 1, rest[1]
    lang, sep1, rest = rest[2:].partition(b"\0")
    translated, sep2, text = rest.partition(b"\0")
    if not (sep1 and sep2):
        raise CorruptContainer(
            f"PNG {chunk.name}: iTXt language or translated keyword unterminated"
        )
    at += 2 + len(lang) + 1 + len(translated) + 1
    value, error = _inflate_method(method, text, chunk.name) if compressed else (text, None)
    return _Text(keyword, value, at, len(text), error)


def _xmp_itxt(packet: bytes) -> bytes:
    # keyword, NUL, compression flag 0, method 0, empty language tag, empty translated keyword
    return _make_chunk(b"iTXt", XMP_KEYWORD + b"\0\0\0\0\0" + packet)


class PngCarrier:
    """The PNG carrier (see the module docstring)."""

    name = "png"
    media_type = "image"
    mime = "image/png"
    extensions = (".png",)
    can_write = True
    label_places = ("iTXt XML:com.adobe.xmp", "tEXt/zTXt/iTXt keyword AIGC", "eXIf UserComment")

    def accept(self, head: bytes) -> bool:
        return head.startswith(MAGIC)

    @guarded
    def read_labels(self, data: bytes) -> list[Found]:
        """XMP label properties, ``AIGC`` text chunks and eXIf UserComment labels, in file order."""
        found: list[Found] = []
        for chunk in chunks(data):
            if chunk.type in _TEXT_TYPES:
                here = _text_labels(chunk, data)
            elif chunk.type == b"eXIf":
                here = find_user_comments(chunk.body(data), location=chunk.name)
            else:
                continue
            problem = crc_problem(chunk, data) if here else None
            for f in here if problem else ():
                f.notes.append(problem)
            found += here
        return found

    @guarded
    def read_xmp(self, data: bytes) -> bytes | None:
        """The first XMP packet (inflated if the chunk was compressed), or None."""
        for chunk in chunks(data):
            if chunk.type in _TEXT_TYPES and _keyword(chunk, data) == XMP_KEYWORD:
                return _checked(_parse_text(chunk, data))
        return None

    @guarded
    def write_label(
        self, data: bytes, label_json: str, extra_xmp: dict[str, str] | None = None
    ) -> bytes:
        """Merge the label into the XMP iTXt and remove every other label copy."""
        all_chunks = chunks(data)
        xmp_chunks = [
            c for c in all_chunks if c.type in _TEXT_TYPES and _keyword(c, data) == XMP_KEYWORD
        ]
        target = xmp_chunks[0] if xmp_chunks else None
        existing = _checked(_parse_text(target, data)) if target else None
        new_xmp = _xmp_itxt(xmp_mod.merge_label(existing, label_json, extra_xmp))
        if target is None and not any(c.type == b"IDAT" for c in all_chunks):
            raise CorruptContainer("PNG has no IDAT chunk")
        out = [MAGIC]
        for chunk in all_chunks:
            if chunk is target:
                out.append(new_xmp)
                continue
            if target is None and chunk.type == b"IDAT":
                out.append(new_xmp)
                target = chunk  # inserted once, before the first IDAT
            out.append(_without_label(chunk, data))
        return b"".join(out)

    def reencode(self, data: bytes, draw: Draw) -> bytes:
        """Draw on the pixels and re-encode them; every non-image chunk is kept from the source.

        The new encode supplies IHDR, PLTE, tRNS and IDAT; all other chunks (iCCP, eXIf, text,
        caBX, private chunks) come from ``data`` in their original order.
        """
        all_chunks = chunks(data)
        if any(c.type == b"acTL" for c in all_chunks):
            raise UnsupportedFormat(
                "captioning animated PNG (APNG) is not supported: only the default image would be "
                "captioned; convert to GIF or WebP, or tag metadata only"
            )
        width, height, depth, color_type = struct.unpack_from(">IIBB", data, 16)
        if depth == 16:
            encoded = _redraw_16bit(data, (width, height, color_type), draw)
        else:
            encoded = _redraw_8bit(data, draw)
        return _splice(data, all_chunks, encoded)


def _checked(text: _Text) -> bytes:
    """The value of a text chunk that must be whole (XMP to merge into or to return)."""
    if text.error:
        raise CorruptContainer(text.error)
    return text.value


def _text_labels(chunk: Chunk, data: bytes) -> list[Found]:
    """The labels of one text chunk; a label chunk that cannot be read is one unreadable site."""
    keyword = _keyword(chunk, data)
    is_xmp = keyword == XMP_KEYWORD
    if not (is_xmp or _is_label_keyword(keyword)):
        return []
    try:
        text = _parse_text(chunk, data)
    except CorruptContainer as exc:
        text = _Text(keyword, b"", chunk.start + 8, chunk.end - chunk.start - 12, str(exc))
    if is_xmp and not text.error:
        return found_in_xmp(
            text.value, location=f"{chunk.name}/XMP", normative=chunk.type == b"iTXt"
        )
    return [
        found_from_value(
            text.value,
            carrier="xmp" if is_xmp else "png-text",
            location=f"{chunk.name}/XMP" if is_xmp else chunk.name,
            key=keyword.decode("latin-1"),
            offset=text.offset,
            length=text.length,
            form="packet" if is_xmp else "text",
            normative=is_xmp and chunk.type == b"iTXt",
            error=text.error,
        )
    ]


def _without_label(chunk: Chunk, data: bytes) -> bytes:
    """The chunk as written back by write_label: label copies dropped or blanked, else as-is."""
    if chunk.type in _TEXT_TYPES:
        keyword = _keyword(chunk, data)
        if keyword == XMP_KEYWORD:  # a second XMP packet: keep it, minus any label
            xmp = _checked(_parse_text(chunk, data))
            if xmp_mod.find_label_properties(xmp):
                return _xmp_itxt(xmp_mod.remove_label(xmp))
        elif _is_label_keyword(keyword):
            return b""
    elif chunk.type == b"eXIf":
        body = chunk.body(data)
        blanked = blank_label_user_comments(body)
        if blanked != body:
            return _make_chunk(b"eXIf", blanked)
    return chunk.raw(data)


# --- re-encoding -------------------------------------------------------------------------------


def _draw_checked(im: Image.Image, draw: Draw) -> Image.Image:
    out = draw(im)
    if out.size != im.size:
        raise ValueError(f"draw returned a {out.size} image for a {im.size} one")
    return out if out.mode == im.mode else out.convert(im.mode)


def _redraw_8bit(data: bytes, draw: Draw) -> bytes:
    im = open_image(data)
    transparency = im.info.get("transparency")
    if im.mode == "P":
        out, transparency = _redraw_palette(im, draw)
    elif im.mode == "1":
        drawn = _draw_checked(im.convert("L"), draw)
        out = drawn.convert("1", dither=Image.Dither.NONE)
    elif im.mode in ("L", "LA", "RGB", "RGBA"):
        out = _draw_checked(im, draw)
    else:
        raise UnsupportedFormat(f"PNG pixel mode {im.mode} cannot be re-encoded")
    buf = io.BytesIO()
    extra = {} if transparency is None else {"transparency": transparency}
    out.save(buf, "PNG", **extra)
    return buf.getvalue()


def _palette_rgba(im: Image.Image) -> np.ndarray:
    """The palette as an (n, 4) array, alpha taken from tRNS."""
    rgb = np.array(im.getpalette("RGB") or [0, 0, 0], dtype=np.int32).reshape(-1, 3)
    alpha = np.full(len(rgb), 255, dtype=np.int32)
    trns = im.info.get("transparency")
    if isinstance(trns, bytes):
        alpha[: min(len(trns), len(alpha))] = list(trns[: len(alpha)])
    elif isinstance(trns, int) and 0 <= trns < len(alpha):
        alpha[trns] = 0
    return np.concatenate([rgb, alpha[:, None]], axis=1)


def _redraw_palette(im: Image.Image, draw: Draw) -> tuple[Image.Image, bytes | None]:
    """Draw on an RGB(A) view; only changed pixels get new indices, mapped to the palette.

    Caption colours missing from the palette are appended while there is room (256 entries);
    past that they take the nearest existing entry. Returns the image and its tRNS alpha bytes.
    """
    palette = _palette_rgba(im)
    has_alpha = "transparency" in im.info
    index = np.asarray(im, dtype=np.uint8)
    index = np.minimum(index, len(palette) - 1)
    view = palette[index].astype(np.uint8)
    if not has_alpha:
        view = view[..., :3]
    src = Image.fromarray(np.ascontiguousarray(view))
    drawn = np.asarray(_draw_checked(src, draw))
    changed = np.any(drawn != view, axis=-1)
    pixels = drawn[changed].astype(np.int32)
    if not has_alpha:
        pixels = np.concatenate([pixels, np.full((len(pixels), 1), 255, np.int32)], axis=1)
    palette = _extend_palette(palette, pixels)
    new_index = index.copy()
    new_index[changed] = _nearest(pixels, palette)
    out = Image.frombytes("P", im.size, np.ascontiguousarray(new_index).tobytes())
    out.putpalette(palette[:, :3].astype(np.uint8).tobytes(), "RGB")
    alpha = palette[:, 3].astype(np.uint8).tobytes().rstrip(b"\xff")
    return out, (alpha if has_alpha else None)


def _extend_palette(palette: np.ndarray, pixels: np.ndarray) -> np.ndarray:
    if not len(pixels):
        return palette
    colours = np.unique(pixels, axis=0)
    known = {tuple(c) for c in palette.tolist()}
    missing = [c for c in colours.tolist() if tuple(c) not in known]
    if missing and len(palette) + len(missing) <= 256:
        return np.concatenate([palette, np.array(missing, dtype=np.int32)], axis=0)
    return palette


def _nearest(pixels: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Index of the nearest palette entry (RGBA distance) for each pixel, in bounded batches."""
    out = np.empty(len(pixels), dtype=np.uint8)
    for start in range(0, len(pixels), 4096):
        batch = pixels[start : start + 4096]
        dist = ((batch[:, None, :] - palette[None, :, :]) ** 2).sum(axis=-1)
        out[start : start + 4096] = dist.argmin(axis=1)
    return out


# PNG colour type -> Pillow mode of the 8-bit drawing copy.
_MODES_16 = {0: "L", 2: "RGB", 4: "LA", 6: "RGBA"}


def _redraw_16bit(data: bytes, header: tuple[int, int, int], draw: Draw) -> bytes:
    """16-bit PNG: draw on an 8-bit copy, write back only changed pixels (x257).

    Pillow decodes 16-bit colour PNGs to 8 bits, so OpenCV decodes them; the size is checked
    from IHDR first. The result is encoded here with the source's colour type and depth, so
    sBIT, bKGD and a colour-key tRNS stay valid.
    """
    width, height, color_type = header
    if color_type not in _MODES_16:
        raise CorruptContainer(f"PNG IHDR: colour type {color_type} cannot have depth 16")
    if width * height > MAX_PIXELS:
        raise LimitExceeded(f"image is {width}x{height} pixels, above the limit of {MAX_PIXELS}")
    planes = _decode_16bit(data, color_type, (height, width))
    small = (planes >> 8).astype(np.uint8)
    src = Image.fromarray(np.ascontiguousarray(small[..., 0] if small.shape[2] == 1 else small))
    drawn = np.asarray(_draw_checked(src, draw)).reshape(small.shape)
    changed = np.any(drawn != small, axis=-1)
    planes[changed] = drawn[changed].astype(np.uint16) * 257
    return _encode_16bit(planes, color_type)


def _decode_16bit(data: bytes, color_type: int, shape: tuple[int, int]) -> np.ndarray:
    """Samples as (h, w, channels) uint16 in PNG channel order (G, GA, RGB or RGBA)."""
    import cv2

    arr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if arr is None or arr.dtype != np.uint16 or arr.shape[:2] != shape:
        raise CorruptContainer("16-bit PNG image data does not decode")
    if arr.ndim == 2:
        arr = arr[..., None]
    gray = arr[..., :1]
    color = arr[..., 2::-1] if arr.shape[2] >= 3 else np.repeat(gray, 3, axis=2)
    alpha = arr[..., 3:4] if arr.shape[2] == 4 else arr[..., 1:2]
    parts = {0: [gray], 2: [color], 4: [gray, alpha], 6: [color, alpha]}[color_type]
    return np.ascontiguousarray(np.concatenate(parts, axis=2))


def _encode_16bit(planes: np.ndarray, color_type: int) -> bytes:
    """A minimal non-interlaced PNG (IHDR, IDAT, IEND) with the Up filter on every row."""
    height, width = planes.shape[:2]
    rows = np.frombuffer(planes.astype(">u2").tobytes(), np.uint8).reshape(height, -1)
    up = rows.copy()
    up[1:] = rows[1:] - rows[:-1]  # uint8 arithmetic wraps, as the filter wants
    raw = np.concatenate([np.full((height, 1), 2, np.uint8), up], axis=1).tobytes()
    ihdr = struct.pack(">IIBBBBB", width, height, 16, color_type, 0, 0, 0)
    return (
        MAGIC
        + _make_chunk(b"IHDR", ihdr)
        + _make_chunk(b"IDAT", zlib.compress(raw, 6))
        + _make_chunk(b"IEND", b"")
    )


def _splice(source: bytes, src_chunks: list[Chunk], encoded: bytes) -> bytes:
    """IHDR/PLTE/tRNS/IDAT from ``encoded``, every other chunk from ``source`` in its order."""
    new_chunks = chunks(encoded)
    fresh = {t: [c.raw(encoded) for c in new_chunks if c.type == t] for t in _IMAGE_TYPES}
    old = {t: [c.body(source) for c in src_chunks if c.type == t] for t in (b"PLTE", b"IHDR")}
    new_plte = [c.body(encoded) for c in new_chunks if c.type == b"PLTE"]
    palette_changed = old[b"PLTE"] != new_plte
    # A colour-key tRNS stays valid when colour type and depth are unchanged (16-bit path).
    keep_trns = not fresh[b"tRNS"] and old[b"IHDR"][0][8:10] == new_chunks[0].raw(encoded)[16:18]
    out = [MAGIC]
    done: set[bytes] = set()
    for chunk in src_chunks:
        ctype = chunk.type
        if ctype == b"tRNS" and keep_trns:
            out.append(chunk.raw(source))
            done.add(ctype)
        elif ctype in _IMAGE_TYPES:
            if ctype == b"IDAT":  # PLTE and tRNS the source lacked go right before the data
                for extra in (b"PLTE", b"tRNS"):
                    if extra not in done:
                        out += fresh[extra]
                        done.add(extra)
            if ctype not in done:
                out += fresh[ctype]
                done.add(ctype)
        elif not (ctype == b"hIST" and palette_changed):  # hIST counts palette entries
            out.append(chunk.raw(source))
    return b"".join(out)


CARRIER = register(PngCarrier())
