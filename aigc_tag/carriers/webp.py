"""WebP: the label in the RIFF ``XMP `` chunk, an Annex B copy possibly in the ``EXIF`` chunk.

The RIFF walk is bounded by the declared RIFF size and a chunk count; a chunk running past either
is reported as truncated. ``write_label`` rewrites only the container: the ``XMP `` chunk is
merged in place (or added after the image data and EXIF), a VP8X header is added or gets its XMP
flag, label UserComments in EXIF are zeroed, the RIFF size is fixed and every image chunk is
copied byte for byte. Bytes after the declared RIFF size are not written back.

``reencode`` keeps the compression kind: a VP8L (lossless) source is re-encoded losslessly, a
lossy one at quality 90, which is visually transparent for generator output while keeping the
file size close. Animated WebP is re-encoded frame by frame, every frame captioned, with the
original durations, loop count and background colour; the frames are the composited canvases
Pillow decodes, so the frame rectangles and blend modes of the source are not kept.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image

from .. import xmp as xmp_mod
from ..errors import AigcTagError, CorruptContainer, LimitExceeded, UnsupportedFormat
from ..imaging import MAX_PIXELS, open_image
from . import Found, found_in_xmp, guarded, register
from ._exif import blank_label_user_comments, find_user_comments

__all__ = ["CARRIER", "Chunk", "WebpCarrier", "chunks"]

#: An animated WebP has one ANMF chunk per frame; real files stay far below this.
MAX_CHUNKS = 100_000
#: Lossy re-encode quality (see the module docstring).
LOSSY_QUALITY = 90
EXIF_PREFIX = b"Exif\x00\x00"
_IMAGE_CHUNKS = (b"VP8 ", b"VP8L", b"ALPH", b"ANIM", b"ANMF")
_KNOWN_CHUNKS = (b"VP8X", b"ICCP", b"EXIF", b"XMP ", *_IMAGE_CHUNKS)
# VP8X flag bits (byte 0 of the payload).
_ICC, _ALPHA, _EXIF, _XMP, _ANIM = 0x20, 0x10, 0x08, 0x04, 0x02

Draw = Callable[[Image.Image], Image.Image]


@dataclass(frozen=True)
class Chunk:
    """One RIFF chunk: ``start`` is the offset of its FourCC, ``end`` the offset after padding."""

    index: int
    fourcc: bytes
    start: int
    size: int
    end: int

    @property
    def name(self) -> str:
        return f"{self.fourcc.decode('latin-1').strip()}[{self.index}]"

    def raw(self, data: bytes) -> bytes:
        return data[self.start : self.end]

    def payload(self, data: bytes) -> bytes:
        return data[self.start + 8 : self.start + 8 + self.size]


def chunks(data: bytes) -> list[Chunk]:
    """The chunks inside the RIFF ``WEBP`` form, in file order."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise UnsupportedFormat("not a WebP file (no RIFF WEBP header)")
    riff_end = 8 + struct.unpack_from("<I", data, 4)[0]
    if riff_end > len(data):
        raise CorruptContainer(
            f"WebP truncated: RIFF declares {riff_end} bytes, file has {len(data)}"
        )
    found: list[Chunk] = []
    pos = 12
    while pos < riff_end:
        if len(found) >= MAX_CHUNKS:
            raise LimitExceeded(f"WebP has more than {MAX_CHUNKS} chunks")
        if pos + 8 > riff_end:
            raise CorruptContainer(f"WebP chunk header #{len(found)} at offset {pos} truncated")
        fourcc, size = struct.unpack_from("<4sI", data, pos)
        stop = pos + 8 + size
        if stop > riff_end:
            name = fourcc.decode("latin-1")
            raise CorruptContainer(f"WebP chunk {name!r} #{len(found)} at offset {pos} truncated")
        end = min(stop + (size & 1), riff_end)  # tolerate a missing final pad byte
        found.append(Chunk(len(found), fourcc, pos, size, end))
        pos = end
    if not found:
        raise CorruptContainer("WebP has no chunks")
    return found


def _chunk(fourcc: bytes, payload: bytes) -> bytes:
    pad = b"\0" if len(payload) & 1 else b""
    return fourcc + struct.pack("<I", len(payload)) + payload + pad


def _riff(body: list[tuple[bytes, bytes]]) -> bytes:
    joined = b"".join(raw for _, raw in body)
    return b"RIFF" + struct.pack("<I", len(joined) + 4) + b"WEBP" + joined


def _split_exif(payload: bytes) -> tuple[bytes, bytes]:
    """(prefix, TIFF) — writers disagree on whether the chunk starts with ``Exif\\0\\0``."""
    if payload.startswith(EXIF_PREFIX):
        return EXIF_PREFIX, payload[len(EXIF_PREFIX) :]
    return b"", payload


class WebpCarrier:
    """The WebP carrier (see the module docstring)."""

    name = "webp"
    media_type = "image"
    mime = "image/webp"
    extensions = (".webp",)
    can_write = True
    label_places = ("XMP chunk", "EXIF chunk UserComment")

    def accept(self, head: bytes) -> bool:
        return head[:4] == b"RIFF" and head[8:12] == b"WEBP"

    @guarded
    def read_labels(self, data: bytes) -> list[Found]:
        """XMP label properties and EXIF UserComment labels, in file order."""
        found: list[Found] = []
        for chunk in chunks(data):
            if chunk.fourcc == b"XMP ":
                found += found_in_xmp(chunk.payload(data), location=chunk.name)
            elif chunk.fourcc == b"EXIF":
                tiff = _split_exif(chunk.payload(data))[1]
                found += find_user_comments(tiff, location=chunk.name)
        return found

    @guarded
    def read_xmp(self, data: bytes) -> bytes | None:
        """The payload of the first ``XMP `` chunk, or None."""
        for chunk in chunks(data):
            if chunk.fourcc == b"XMP ":
                return chunk.payload(data)
        return None

    @guarded
    def write_label(
        self, data: bytes, label_json: str, extra_xmp: dict[str, str] | None = None
    ) -> bytes:
        """Merge the label into the XMP chunk (adding it and VP8X if needed); blank EXIF copies."""
        src = chunks(data)
        xmps = [c for c in src if c.fourcc == b"XMP "]
        existing = xmps[0].payload(data) if xmps else None
        new_xmp = _chunk(b"XMP ", xmp_mod.merge_label(existing, label_json, extra_xmp))
        body: list[tuple[bytes, bytes]] = []
        for chunk in src:
            if chunk.fourcc == b"XMP ":
                if chunk is xmps[0]:  # later XMP chunks are invalid duplicates: dropped
                    body.append((b"XMP ", new_xmp))
            elif chunk.fourcc == b"EXIF":
                body.append((b"EXIF", _blank_exif(chunk, data)))
            else:
                body.append((chunk.fourcc, chunk.raw(data)))
        if not xmps:
            places = [i for i, (cc, _) in enumerate(body) if cc in (*_IMAGE_CHUNKS, b"EXIF")]
            after = max(places, default=len(body) - 1)
            body.insert(after + 1, (b"XMP ", new_xmp))
        return _riff(_with_vp8x(body))

    def reencode(self, data: bytes, draw: Draw) -> bytes:
        """Draw on every frame and re-encode; ICCP, EXIF, XMP and unknown chunks are kept."""
        src = chunks(data)
        lossless = _is_lossless(src, data)
        im = open_image(data)
        buf = io.BytesIO()
        options: dict = (
            {"lossless": True, "exact": True} if lossless else {"quality": LOSSY_QUALITY}
        )
        try:
            if any(c.fourcc == b"ANIM" for c in src):
                _save_animation(im, draw, buf, options)
            else:
                _draw_checked(im, draw).save(buf, "WEBP", **options)
        except AigcTagError:
            raise
        except (OSError, ValueError, EOFError) as exc:
            raise CorruptContainer(f"WebP frames do not decode: {exc}") from None
        return _splice(data, src, buf.getvalue())


def _blank_exif(chunk: Chunk, data: bytes) -> bytes:
    prefix, tiff = _split_exif(chunk.payload(data))
    blanked = blank_label_user_comments(tiff)
    return chunk.raw(data) if blanked == tiff else _chunk(b"EXIF", prefix + blanked)


def _canvas(body: list[tuple[bytes, bytes]]) -> tuple[int, int, bool]:
    """Width, height and alpha of a simple (VP8X-less) file, from its bitstream header."""
    for fourcc, raw in body:
        payload = raw[8:]
        if fourcc == b"VP8 ":
            if len(payload) < 10 or payload[3:6] != b"\x9d\x01\x2a":
                raise CorruptContainer("WebP VP8 chunk: no key-frame start code")
            width, height = struct.unpack_from("<HH", payload, 6)
            return width & 0x3FFF, height & 0x3FFF, False
        if fourcc == b"VP8L":
            if len(payload) < 5 or payload[0] != 0x2F:
                raise CorruptContainer("WebP VP8L chunk: bad signature")
            bits = struct.unpack_from("<I", payload, 1)[0]
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, bool(bits >> 28 & 1)
    raise CorruptContainer("WebP has neither VP8X nor a VP8/VP8L image chunk")


def _with_vp8x(body: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """Make the first chunk a VP8X whose ICC/EXIF/XMP flags cover the chunks present."""
    present = {fourcc for fourcc, _ in body}
    flags = (
        (_ICC if b"ICCP" in present else 0)
        | (_EXIF if b"EXIF" in present else 0)
        | (_XMP if b"XMP " in present else 0)
    )
    vp8x = [i for i, (cc, _) in enumerate(body) if cc == b"VP8X"]
    if vp8x:
        head = bytearray(body.pop(vp8x[0])[1])
        if len(head) < 18:
            raise CorruptContainer("WebP VP8X chunk is shorter than 10 bytes")
        head[8] |= flags
        return [(b"VP8X", bytes(head)), *body]
    width, height, alpha = _canvas(body)
    flags |= _ALPHA if alpha else 0
    payload = bytes([flags, 0, 0, 0]) + (width - 1).to_bytes(3, "little")
    payload += (height - 1).to_bytes(3, "little")
    return [(b"VP8X", _chunk(b"VP8X", payload)), *body]


def _is_lossless(src: list[Chunk], data: bytes) -> bool:
    for chunk in src:
        if chunk.fourcc in (b"VP8L", b"VP8 "):
            return chunk.fourcc == b"VP8L"
        if chunk.fourcc == b"ANMF":  # frame header (16 bytes), then ALPH/VP8 or VP8L
            return b"VP8L" in chunk.payload(data)[16:40]
    return False


def _draw_checked(im: Image.Image, draw: Draw) -> Image.Image:
    if im.mode not in ("RGB", "RGBA"):
        im = im.convert("RGBA")
    out = draw(im)
    if out.size != im.size:
        raise ValueError(f"draw returned a {out.size} image for a {im.size} one")
    return out if out.mode == im.mode else out.convert(im.mode)


def _save_animation(im: Image.Image, draw: Draw, buf: io.BytesIO, options: dict) -> None:
    count = getattr(im, "n_frames", 1)
    if count * im.width * im.height > MAX_PIXELS:
        raise LimitExceeded(f"{count} frames of {im.width}x{im.height} exceed {MAX_PIXELS} pixels")
    frames, durations = [], []
    for i in range(count):
        im.seek(i)
        frames.append(_draw_checked(im.convert("RGBA"), draw))
        durations.append(im.info.get("duration", 0))
    extra = {"background": im.info["background"]} if "background" in im.info else {}
    frames[0].save(
        buf,
        "WEBP",
        save_all=True,
        append_images=frames[1:],
        duration=durations,
        loop=im.info.get("loop", 0),
        **extra,
        **options,
    )


def _splice(source: bytes, src: list[Chunk], encoded: bytes) -> bytes:
    """Image chunks from ``encoded``; ICCP, EXIF, XMP and unknown chunks from ``source``."""
    new = chunks(encoded)
    vp8x = [(c.fourcc, c.raw(encoded)) for c in new if c.fourcc == b"VP8X"]
    image = [(c.fourcc, c.raw(encoded)) for c in new if c.fourcc in _IMAGE_CHUNKS]

    def kept(fourcc: bytes) -> list[tuple[bytes, bytes]]:
        return [(c.fourcc, c.raw(source)) for c in src if c.fourcc == fourcc]

    unknown = [(c.fourcc, c.raw(source)) for c in src if c.fourcc not in _KNOWN_CHUNKS]
    body = vp8x + kept(b"ICCP") + image + kept(b"EXIF") + kept(b"XMP ") + unknown
    return _riff(_with_vp8x(body))


CARRIER = register(WebpCarrier())
