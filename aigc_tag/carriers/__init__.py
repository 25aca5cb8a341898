"""Carriers: one module per container family, all with the same small interface.

Every carrier module defines a module-level object that satisfies :class:`Carrier` and registers
it with :func:`register`. :func:`sniff` runs every carrier's ``accept`` on the first bytes (magic
only, never the file name) and returns the one that claims the data.

A carrier works on bytes in memory and never re-encodes pixels in ``write_label``: it edits the
container so that exactly one label copy is left (GB 45438 §6.1 c) and every other chunk, segment
or tag stays as it was.
"""

from __future__ import annotations

import functools
import importlib
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TypeVar

from ..errors import AigcTagError, CorruptContainer, UnsupportedFormat
from ..label import ParsedLabel, parse_label

if TYPE_CHECKING:
    from PIL import Image

_M = TypeVar("_M", bound=Callable)

__all__ = [
    "Carrier",
    "Found",
    "found_from_value",
    "found_in_xmp",
    "register",
    "registry",
    "scan_blobs",
    "sniff",
    "sniff_content",
]


@dataclass
class Found:
    """One label occurrence in a file, shaped like AigcTotal's LabelSite.

    ``carrier`` names the kind of place (``xmp``, ``png-text``, ``exif-usercomment``, ``blob``),
    ``location`` the path inside the container (``APP1[1]/XMP``), ``key`` the field name or
    keyword as written (``TC260:AIGC``, ``AIGC``), ``normative`` whether this is the primary place
    the TC260 guide names for the format.

    ``error`` says the site is there but its stored value cannot be read (a truncated or corrupt
    compressed stream): the value is unknown, so the file is inconclusive, never "no label".
    ``notes`` are warnings about the site itself (a chunk CRC that does not match) for a value
    that was still read.
    """

    carrier: str
    location: str
    key: str
    raw: str
    parsed: ParsedLabel
    offset: int = -1
    length: int = 0
    namespace: str = ""
    form: str = ""  # element / attribute / text / blob
    normative: bool = True
    notes: list[str] = field(default_factory=list)
    error: str | None = None

    def to_json(self) -> dict:
        return {
            "carrier": self.carrier,
            "location": self.location,
            "key": self.key,
            "namespace": self.namespace or None,
            "form": self.form,
            "normative": self.normative,
            "offset": self.offset,
            "length": self.length,
            "site_error": self.error,
            "site_notes": list(self.notes),
        }


def found_from_value(
    raw: str | bytes,
    *,
    carrier: str,
    location: str,
    key: str,
    error: str | None = None,
    **kw: object,
) -> Found:
    """Build a :class:`Found` by running the lenient parser on one raw value.

    With ``error`` (the value could not be read, see :class:`Found`) nothing is parsed: a partial
    value would only give a misleading "not valid JSON"."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    parsed = ParsedLabel(None, error=f"unreadable: {error}") if error else parse_label(text)
    return Found(
        carrier=carrier, location=location, key=key, raw=text, parsed=parsed, error=error, **kw
    )


class Carrier(Protocol):
    """What every container module provides."""

    name: str  # short format name: "jpeg", "png", ...
    media_type: str  # "image", "audio", "video", "text"
    mime: str
    extensions: tuple[str, ...]
    can_write: bool
    label_places: tuple[str, ...]  # every place read_labels scans, for the report (M02)

    def accept(self, head: bytes) -> bool: ...

    def read_labels(self, data: bytes) -> list[Found]: ...

    def read_xmp(self, data: bytes) -> bytes | None: ...

    def write_label(
        self, data: bytes, label_json: str, extra_xmp: dict[str, str] | None = None
    ) -> bytes:
        """Leave exactly one label (in the format's primary place) and change nothing else;
        ``extra_xmp`` adds aigc-tag's own XMP properties (see :mod:`aigc_tag.xmp`)."""
        ...

    def reencode(self, data: bytes, draw: Callable[[Image.Image], Image.Image]) -> bytes:
        """Decode, call ``draw`` on every frame (RGB/RGBA/L/LA, as stored), encode back in the
        source's format and mode, keeping every non-pixel structure of the original."""
        ...


def guarded(method: _M) -> _M:
    """Carrier-boundary decorator: stray parsing exceptions become :class:`CorruptContainer`.

    Walkers index into untrusted bytes; a short read surfaces as ``struct.error`` or
    ``IndexError`` deep inside. Callers must only ever see ``AigcTagError``.
    """

    @functools.wraps(method)
    def wrapper(self: Carrier, data: bytes, *args: object, **kwargs: object) -> object:
        try:
            return method(self, data, *args, **kwargs)
        except AigcTagError:
            raise
        except (struct.error, IndexError, zlib.error, UnicodeDecodeError, OverflowError) as exc:
            raise CorruptContainer(f"{self.name.upper()}: malformed data ({exc})") from None

    return wrapper  # type: ignore[return-value]


_REGISTRY: dict[str, Carrier] = {}
_MODULES = (
    "jpeg",
    "png",
    "webp",
    "gif",
    "tiff",
    "heif",
    "riff",
    "id3",
    "vorbis",
    "matroska",
    "avi",
    "flv",
    "isobmff",
    "markdown",
    "html",
    "svg",
    "ooxml",
    "pdf",
    "epub",
    "ofd",
    "plaintext",
)


def register(carrier: Carrier) -> Carrier:
    _REGISTRY[carrier.name] = carrier
    return carrier


def registry() -> dict[str, Carrier]:
    """All carriers, importing the carrier modules on first use."""
    # Not "if the registry is empty": importing one carrier module directly registers it alone.
    for mod in _MODULES:
        importlib.import_module(f"{__name__}.{mod}")
    return dict(_REGISTRY)


def sniff(head: bytes, *, name: str = "") -> Carrier:
    """The carrier whose magic matches ``head`` (the first 64 bytes or more)."""
    where = f"{name}: " if name else ""
    if not head:
        raise UnsupportedFormat(f"{where}the file is empty")
    hits = [c for c in registry().values() if c.accept(head)]
    if not hits:
        raise UnsupportedFormat(f"{where}not a supported format (magic bytes {head[:8].hex()})")
    return hits[0]


def sniff_content(data: bytes, *, name: str = "", walk: bool = False) -> Carrier:
    """:func:`sniff`, then a look past the magic where it decides the kind of file: an ISO BMFF
    file whose every track is sound is audio (``m4a``) whatever its brand says; an Office ZIP is
    DOCX, XLSX, PPTX or EPUB by its parts; an XML document with an SVG root is SVG (the root may
    come after a long prolog); bytes without magic that decode as text are text
    (Markdown/HTML by extension, else plain; ``walk`` only takes known text extensions)."""
    try:
        carrier = sniff(data[:64], name=name)
    except UnsupportedFormat:
        from .plaintext import text_fallback
        from .svg import is_svg

        if is_svg(data):  # the root element may start past the first 64 bytes (doctype, comments)
            return registry()["svg"]
        found = text_fallback(data, name, walk=walk) if data else None
        if found is None:
            raise
        return found
    if carrier.name == "mp3" and data.startswith(b"ID3"):
        from .vorbis import id3_prefix

        if id3_prefix(data):  # an ID3 tag in front of fLaC: c2pa-rs's signed FLAC
            return registry()["flac"]
    if carrier.name == "docx":
        from .ooxml import refine

        try:
            return refine(data)
        except AigcTagError:
            return carrier  # the carrier reports the broken ZIP itself when it reads the file
    if carrier.name == "mp4":
        from .isobmff import M4A_CARRIER, is_audio_only

        try:
            if is_audio_only(data):
                return M4A_CARRIER
        except AigcTagError:
            pass  # the carrier reports the broken box itself when it reads the file
    return carrier


_BLOB_MARKERS = (b"AIGC{", b'{"AIGC"', b"{'AIGC'", b'{"AIGC" ')


def scan_blobs(data: bytes, *, location: str, limit: int = 64) -> list[Found]:
    """Bare ``AIGC{...}`` or ``{"AIGC":{...}}`` blobs anywhere in ``data``.

    Used for segments that have no defined label field (JPEG APPn, GIF comments) and as the last
    resort for containers we cannot walk. Braces are balanced to find the end; strings are
    bounded to 64 KiB so a hostile file cannot make us scan forever.
    """
    found: list[Found] = []
    pos = 0
    while len(found) < limit:
        starts = [i for m in _BLOB_MARKERS if (i := data.find(m, pos)) >= 0]
        if not starts:
            break
        start = min(starts)
        end = _balanced_end(data, data.index(b"{", start), 65536)
        if end < 0:
            pos = start + 4
            continue
        raw = data[start:end]
        found.append(
            found_from_value(
                raw,
                carrier="blob",
                location=location,
                key="AIGC",
                offset=start,
                length=len(raw),
                form="blob",
                normative=False,
            )
        )
        pos = end
    return found


def _balanced_end(data: bytes, open_at: int, max_len: int) -> int:
    depth, in_str, escaped = 0, False, False
    for i in range(open_at, min(len(data), open_at + max_len)):
        c = data[i]
        if in_str:
            if escaped:
                escaped = False
            elif c == 0x5C:
                escaped = True
            elif c == 0x22:
                in_str = False
        elif c == 0x22:
            in_str = True
        elif c == 0x7B:
            depth += 1
        elif c == 0x7D:
            depth -= 1
            if depth == 0:
                return i + 1
    return -1


def found_in_xmp(xmp: bytes, *, location: str, normative: bool = True) -> list[Found]:
    """The label properties of one XMP packet as :class:`Found` records."""
    from .. import xmp as xmp_mod

    found = []
    for prop in xmp_mod.find_label_properties(xmp):
        found.append(
            found_from_value(
                prop.value,
                carrier="xmp",
                location=location,
                key=prop.qname,
                namespace=prop.namespace,
                form=prop.form,
                normative=normative,
            )
        )
    return found
