"""GIF: the label in the XMP application extension, stray copies in comment extensions.

The block walk covers the header, logical screen descriptor, global colour table, extensions and
image descriptors (with their LZW sub-blocks) up to the trailer; every sub-block chain must end
inside the data, so a truncated file raises CorruptContainer naming the block. Bytes after the
trailer are not written back.

The XMP application extension (identifier ``XMP DataXMP``) stores the packet as raw bytes, not as
sub-blocks, followed by a 258-byte "magic trailer" built so that a sub-block walk landing anywhere
in it ends on the terminator; the packet is what lies between the identifier and that trailer.

``write_label`` replaces the XMP extension in place or inserts one before the first frame (after
a NETSCAPE2.0 loop extension placed there), removes comment extensions that hold a label, and
copies every other block byte for byte; a GIF87a header becomes GIF89a, since extensions need 89a.

``reencode`` captions every frame. Pillow decodes composited frames and re-encodes them with the
source's loop count, per-frame durations and disposal methods ("restore to previous" becomes "do
not dispose": the frames are already composited); it merges frames left identical. Comment
extensions (label comments excepted) and application extensions other than the loop extension
are copied from the source, byte for byte, before the first frame; plain-text extensions are not
kept.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image

from .. import xmp as xmp_mod
from ..errors import AigcTagError, CorruptContainer, LimitExceeded, UnsupportedFormat
from ..imaging import MAX_PIXELS, open_image
from . import Found, found_in_xmp, guarded, register, scan_blobs

__all__ = ["CARRIER", "Block", "GifCarrier", "blocks"]

XMP_ID = b"XMP DataXMP"
LOOP_IDS = (b"NETSCAPE2.0", b"ANIMEXTS1.0")
#: 0x01, 0xFF, 0xFE, ..., 0x01, 0x00 and the block terminator (XMP spec part 3, GIF).
MAGIC_TRAILER = b"\x01" + bytes(range(255, -1, -1)) + b"\x00"
#: Blocks per file (one or two per frame plus a few extensions).
MAX_BLOCKS = 200_000
_COMMENT, _APPLICATION, _GRAPHIC_CONTROL, _PLAIN_TEXT = 0xFE, 0xFF, 0xF9, 0x01

Draw = Callable[[Image.Image], Image.Image]


@dataclass(frozen=True)
class Block:
    """One top-level block: ``kind`` is header, extension, image or trailer."""

    index: int
    kind: str
    start: int
    end: int
    label: int = 0  # extension label (0xFE comment, 0xFF application, ...)
    app_id: bytes = b""  # application identifier + authentication code (11 bytes)

    @property
    def name(self) -> str:
        names = {_COMMENT: "Comment", _APPLICATION: "AppExt", _GRAPHIC_CONTROL: "GCE"}
        kind = names.get(self.label, "Ext") if self.kind == "extension" else self.kind
        return f"{kind}[{self.index}]"

    def raw(self, data: bytes) -> bytes:
        return data[self.start : self.end]


def _colour_table_size(packed: int) -> int:
    return 3 << ((packed & 7) + 1) if packed & 0x80 else 0


def _skip_sub_blocks(data: bytes, pos: int, what: str) -> int:
    """Offset after the terminator of the sub-block chain starting at ``pos``."""
    while True:
        if pos >= len(data):
            raise CorruptContainer(f"GIF {what} truncated: sub-blocks run past the end")
        size = data[pos]
        pos += 1 + size
        if size == 0:
            return pos


def blocks(data: bytes) -> list[Block]:
    """Every top-level block from the header to the trailer."""
    if data[:6] not in (b"GIF87a", b"GIF89a"):
        raise UnsupportedFormat("not a GIF file (bad signature)")
    if len(data) < 13:
        raise CorruptContainer("GIF truncated in the logical screen descriptor")
    pos = 13 + _colour_table_size(data[10])
    if pos > len(data):
        raise CorruptContainer("GIF truncated in the global colour table")
    found = [Block(0, "header", 0, pos)]
    while True:
        if len(found) >= MAX_BLOCKS:
            raise LimitExceeded(f"GIF has more than {MAX_BLOCKS} blocks")
        if pos >= len(data):
            raise CorruptContainer(f"GIF truncated after block #{len(found) - 1}: no trailer")
        where = f"block #{len(found)} at offset {pos}"
        intro = data[pos]
        if intro == 0x3B:
            found.append(Block(len(found), "trailer", pos, pos + 1))
            return found
        if intro == 0x21:
            found.append(_extension(data, pos, len(found), where))
        elif intro == 0x2C:
            found.append(_image(data, pos, len(found), where))
        else:
            raise CorruptContainer(f"GIF {where}: unknown block introducer 0x{intro:02x}")
        pos = found[-1].end


def _extension(data: bytes, pos: int, index: int, where: str) -> Block:
    if pos + 2 > len(data):
        raise CorruptContainer(f"GIF extension {where} truncated")
    label = data[pos + 1]
    app_id = b""
    if label == _APPLICATION and pos + 3 < len(data) and data[pos + 2] == 11:
        app_id = data[pos + 3 : pos + 14]
    end = _skip_sub_blocks(data, pos + 2, f"extension {where}")
    return Block(index, "extension", pos, end, label, app_id)


def _image(data: bytes, pos: int, index: int, where: str) -> Block:
    if pos + 10 > len(data):
        raise CorruptContainer(f"GIF image descriptor {where} truncated")
    start_of_data = pos + 10 + _colour_table_size(data[pos + 9]) + 1  # +1: LZW code size
    if start_of_data > len(data):
        raise CorruptContainer(f"GIF image {where} truncated in its colour table")
    end = _skip_sub_blocks(data, start_of_data, f"image {where}")
    return Block(index, "image", pos, end)


def _sub_block_data(data: bytes, start: int, end: int) -> bytes:
    out, pos = [], start
    while pos < end and data[pos]:
        out.append(data[pos + 1 : pos + 1 + data[pos]])
        pos += 1 + data[pos]
    return b"".join(out)


def _xmp_packet(block: Block, data: bytes) -> bytes:
    """The raw packet between the identifier and the magic trailer."""
    start = block.start + 14  # 0x21 0xFF 0x0B + 11 identifier bytes
    if data[block.end - len(MAGIC_TRAILER) : block.end] == MAGIC_TRAILER:
        return data[start : block.end - len(MAGIC_TRAILER)]
    cut = data.find(MAGIC_TRAILER[:4], start, block.end)
    return data[start : cut if cut >= 0 else block.end - 1]


def _xmp_block(packet: bytes) -> bytes:
    # A NUL inside the raw packet would end a sub-block walk early; UTF-8 XMP has none to lose.
    return b"\x21\xff\x0b" + XMP_ID + packet.replace(b"\x00", b"") + MAGIC_TRAILER


def _comment_labels(block: Block, data: bytes) -> list[Found]:
    text = _sub_block_data(data, block.start + 2, block.end)
    return scan_blobs(text, location=block.name)


def _first_frame(found: list[Block]) -> int:
    """Index of the first block of the first frame (its GCE, or the image descriptor)."""
    for block in found:
        if block.kind in ("image", "trailer") or block.label in (_GRAPHIC_CONTROL, _PLAIN_TEXT):
            return block.index
    return found[-1].index


class GifCarrier:
    """The GIF carrier (see the module docstring)."""

    name = "gif"
    media_type = "image"
    mime = "image/gif"
    extensions = (".gif",)
    can_write = True
    label_places = ("XMP application extension", "comment extensions (AIGC blobs)")

    def accept(self, head: bytes) -> bool:
        return head[:6] in (b"GIF87a", b"GIF89a")

    @guarded
    def read_labels(self, data: bytes) -> list[Found]:
        """XMP label properties and label blobs in comment extensions, in file order."""
        found: list[Found] = []
        for block in blocks(data):
            if block.app_id == XMP_ID:
                found += found_in_xmp(_xmp_packet(block, data), location=f"{block.name}/XMP")
            elif block.label == _COMMENT:
                found += _comment_labels(block, data)
        return found

    @guarded
    def read_xmp(self, data: bytes) -> bytes | None:
        """The packet of the first XMP application extension, or None."""
        for block in blocks(data):
            if block.app_id == XMP_ID:
                return _xmp_packet(block, data)
        return None

    @guarded
    def write_label(
        self, data: bytes, label_json: str, extra_xmp: dict[str, str] | None = None
    ) -> bytes:
        """Merge the label into the XMP extension (inserting one if needed); drop label comments."""
        found = blocks(data)
        xmps = [b for b in found if b.app_id == XMP_ID]
        existing = _xmp_packet(xmps[0], data) if xmps else None
        new_xmp = _xmp_block(xmp_mod.merge_label(existing, label_json, extra_xmp))
        insert_at = -1 if xmps else _first_frame(found)
        out = []
        for block in found:
            if block.index == insert_at:
                out.append(new_xmp)
            if block is (xmps[0] if xmps else None):
                out.append(new_xmp)
            elif block.app_id == XMP_ID:  # a second packet: kept, minus any label
                packet = _xmp_packet(block, data)
                keep = not xmp_mod.find_label_properties(packet)
                out.append(block.raw(data) if keep else _xmp_block(xmp_mod.remove_label(packet)))
            elif block.label == _COMMENT and _comment_labels(block, data):
                continue
            elif block.kind == "header":
                out.append(b"GIF89a" + data[6 : block.end])
            else:
                out.append(block.raw(data))
        return b"".join(out)

    def reencode(self, data: bytes, draw: Draw) -> bytes:
        """Caption every frame and re-encode with Pillow; metadata blocks come from the source."""
        source_blocks = blocks(data)
        im = open_image(data)
        try:
            encoded = _encode_frames(im, draw)
        except AigcTagError:
            raise
        except (OSError, ValueError, EOFError) as exc:
            raise CorruptContainer(f"GIF frames do not decode: {exc}") from None
        return _splice(data, source_blocks, encoded)


def _draw_checked(im: Image.Image, draw: Draw) -> Image.Image:
    out = draw(im)
    if out.size != im.size:
        raise ValueError(f"draw returned a {out.size} image for a {im.size} one")
    return out if out.mode == im.mode else out.convert(im.mode)


def _encode_frames(im: Image.Image, draw: Draw) -> bytes:
    count = getattr(im, "n_frames", 1)
    if count * im.width * im.height > MAX_PIXELS:
        raise LimitExceeded(f"{count} frames of {im.width}x{im.height} exceed {MAX_PIXELS} pixels")
    frames, durations, disposals = [], [], []
    for i in range(count):
        im.seek(i)
        frame = _draw_checked(im.convert("RGBA"), draw)
        frame.info = {}  # comments and extensions are spliced back from the source
        frames.append(frame)
        durations.append(im.info.get("duration", 0))
        disposal = getattr(im, "disposal_method", 0)
        disposals.append(1 if disposal == 3 else disposal)
    options: dict = {"duration": durations, "disposal": disposals}
    if "loop" in im.info:
        options["loop"] = im.info["loop"]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], **options)
    return buf.getvalue()


def _splice(source: bytes, source_blocks: list[Block], encoded: bytes) -> bytes:
    """The new encode with the source's comment and application extensions before frame one."""
    carried = [
        b.raw(source)
        for b in source_blocks
        if (b.label == _APPLICATION and b.app_id not in LOOP_IDS)
        or (b.label == _COMMENT and not _comment_labels(b, source))
    ]
    new_blocks = [
        b
        for b in blocks(encoded)
        if not (b.label in (_COMMENT, _APPLICATION) and b.app_id not in LOOP_IDS)
    ]
    insert_at = _first_frame(new_blocks)
    out = []
    for block in new_blocks:
        if block.index == insert_at:
            out += carried
        out.append(block.raw(encoded))
    return b"".join(out)


CARRIER = register(GifCarrier())
