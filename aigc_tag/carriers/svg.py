"""SVG: the label as XMP ``TC260:AIGC`` in ``<metadata>``; C2PA where c2pa-rs puts it.

An SVG file is an XML document whose root element is ``svg`` in the SVG namespace
(``http://www.w3.org/2000/svg``), after an optional BOM, XML declaration, comments, processing
instructions and doctype. :func:`is_svg` decides that from the prolog and the root start tag
(never the file name); an HTML page with inline ``<svg>`` is HTML, an XML file with another root
is not SVG. Gzip'd ``.svgz`` and UTF-16/32 documents are not supported (they fall through to the
other carriers, which refuse or treat them as text).

Reading: the whole document is parsed once with defusedxml (no entity declarations, no external
references: billion-laughs and XXE files are refused with one line), bounded in size, depth and
element count; the parser reports the byte offset of every element, so edits are made on the
original bytes. Label places:

* every XMP packet inside an SVG ``<metadata>`` element (an ``<?xpacket?>`` pair, else the
  outermost ``x:xmpmeta`` or ``rdf:RDF`` element): ``TC260:AIGC`` and the other label-like
  properties :func:`aigc_tag.xmp.find_label_properties` finds, normative;
* a ``<metadata>`` child element outside the packets whose local name contains ``AIGC`` (e.g.
  ``<aigc:AIGC>{…}</aigc:AIGC>``), read leniently as non-normative.

No peer tool documented in the project's spec writes an SVG label elsewhere (``<desc>``,
``<title>``), so those are not scanned.

Writing edits the text: the label is merged (:func:`aigc_tag.xmp.merge_label`, other properties
kept) into the first packet with an ``rdf:RDF`` in a ``<metadata>`` child of the root; with no such
packet a new one goes at the end of that ``<metadata>``, and with no ``<metadata>`` a new one is
made the first child of the root. Label properties in other packets and ``AIGC`` elements are
removed, so exactly one label is left; every other byte (attribute order, whitespace, comments,
CDATA, doctype) is kept. A new packet carries ``rdf:RDF`` without the ``x:xmpmeta`` wrapper, as
Inkscape writes it: exiftool takes an XML file with ``<x:xmpmeta`` in its first 256 bytes for a
bare XMP file and then misnames the SVG's tags (``SvgMetadataAigc``). Writing needs a UTF-8 (or
ASCII) document.

Explicit label (:meth:`SvgCarrier.add_caption`): a ``<g class="aigc-label">`` holding a 75 %
black box and a white ``<text>``, placed in a corner of the viewBox (else of an absolute
width x height) as the root's last child, so it is painted over the drawing; re-tagging replaces
it. The viewer's font is unknown, so the font size is chosen from a lower bound of the tallest
glyph's ink height (0.88 em for hanzi, 0.70 em for Latin capitals) to give 5.5 % of the shortest
side, and that bound is what is declared (``aigctag:Caption``, in user units). The verifier
reads the element back (:meth:`SvgCarrier.read_caption`: aigc-tag's group, else any ``<text>``
whose wording is a label) and computes its geometry from the attributes; a transform on the
text or an ancestor makes that geometry approximate. There are no pixels: no watermark, and
verify decodes nothing.

C2PA: c2pa-rs embeds the manifest store as base64 in ``<metadata><c2pa:manifest>`` (namespace
``http://c2pa.org/manifest``) and hashes the bytes around it; :meth:`SvgCarrier.has_c2pa` finds it.
"""

from __future__ import annotations

import codecs
import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser, ParseError

from .. import xmp as xmp_mod
from ..errors import CorruptContainer, LimitExceeded, UnsupportedFormat
from . import Found, found_from_value, found_in_xmp, guarded, register

__all__ = [
    "CARRIER",
    "NO_WATERMARK_WARNING",
    "Canvas",
    "SvgCarrier",
    "canvas",
    "is_svg",
]

SVG_NS = "http://www.w3.org/2000/svg"
C2PA_NS = "http://c2pa.org/manifest"
X_NS = "adobe:ns:meta/"
MAX_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 1000
MAX_ELEMENTS = 2_000_000
#: How far into the file the root element may start (comments and doctype before it).
SNIFF_WINDOW = 65536
NO_WATERMARK_WARNING = "SVG: watermark not applied (vector graphics have no pixels to mark)"
#: ``<text>`` elements read for the explicit label, and the characters kept of each.
MAX_TEXTS = 10_000
MAX_CAPTION_CHARS = 256
_PROPS = ("font-size", "fill", "fill-opacity", "opacity", "text-anchor", "font-family")

_BOM = codecs.BOM_UTF8
_XPACKET_BEGIN = '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
_XPACKET_END = '<?xpacket end="w"?>'
# Prolog items are matched one character class at a time (no nested "\s+" under "*"), so a
# failing match cannot backtrack exponentially.
_PROLOG = re.compile(
    rb"(?:<\?xml\s[^>]*\?>)?"
    rb"(?:\s|<!--.*?-->|<\?.*?\?>|<!DOCTYPE\s[^\[>]*(?:\[.*?\]\s*)?>)*"
    rb"<(?:([A-Za-z_][\w.-]*):)?svg(?=[\s/>])",
    re.S,
)
_ATTR = re.compile(rb"""\s+([^\s=/>]+)\s*=\s*("[^"]*"|'[^']*')""")
_TAG_END = re.compile(rb"""[^>"']*(?:(?:"[^"]*"|'[^']*')[^>"']*)*>""")
_ENCODING = re.compile(rb"""^<\?xml\s[^>]*?encoding\s*=\s*["']([\w.:-]+)["']""")


def _root_verdict(buf: bytes) -> bool:
    """Whether ``buf`` shows an SVG root start tag binding the SVG namespace for its prefix."""
    if buf.startswith(_BOM):
        buf = buf[3:]
    m = _PROLOG.match(buf)
    if m is None:
        return False
    want = b"xmlns:" + m.group(1) if m.group(1) else b"xmlns"
    pos = m.end()
    while (attr := _ATTR.match(buf, pos)) is not None:
        if attr.group(1) == want:
            return attr.group(2)[1:-1] == SVG_NS.encode()
        pos = attr.end()
    return False  # no declaration, or the start tag runs past ``buf``


def is_svg(data: bytes) -> bool:
    """Whether ``data`` (the whole file or its start) is an SVG document, by its root element."""
    return _root_verdict(data[:SNIFF_WINDOW])


# --- the parse ------------------------------------------------------------------------------


@dataclass
class _Span:
    """A byte range of the document; ``inner`` is the content span of an element."""

    start: int
    end: int
    inner: tuple[int, int] = (0, 0)


@dataclass
class _Packet:
    span: _Span
    namespaces: dict[str, str]  # in scope where the packet starts (prefix -> uri)
    metadata: int  # index of the enclosing <metadata>


@dataclass
class _LabelElement:
    span: _Span
    qname: str
    text: str
    metadata: int


@dataclass
class _Metadata:
    span: _Span
    depth: int
    empty: bool
    start_tag_end: int
    qname: bytes  # as written, e.g. b"metadata" or b"svg:metadata"


@dataclass
class _Doc:
    root_start: int = -1
    root_end: int = -1  # offset after the root start tag
    root_qname: bytes = b"svg"
    metadata: list[_Metadata] = field(default_factory=list)
    packets: list[_Packet] = field(default_factory=list)
    label_elements: list[_LabelElement] = field(default_factory=list)
    c2pa: bool = False
    root_attrs: dict[str, str] = field(default_factory=dict)
    root_close: int = -1  # offset of the root's end tag (-1: <svg/>)
    captions: list[_Span] = field(default_factory=list)  # <g class="aigc-label"> under the root
    texts: list[_DrawnText] = field(default_factory=list)


@dataclass
class _DrawnText:
    """One ``<text>`` element: its characters and the properties it inherits."""

    text: str
    props: dict[str, str]
    in_caption: bool
    backdrop: dict[str, str] | None = None  # the caption group's <rect>, for the contrast


def _props(inherited: dict[str, str], attrs: dict) -> dict[str, str]:
    """Presentation properties of an element: attributes, then its ``style`` declarations."""
    props = {**inherited}
    props.pop("transform", None)
    for key in _PROPS:
        if key in attrs:
            props[key] = str(attrs[key])
    for decl in str(attrs.get("style", "")).split(";"):
        key, _, value = decl.partition(":")
        if key.strip() in _PROPS:
            props[key.strip()] = value.strip()
    if "transform" in attrs or inherited.get("transformed"):
        props["transformed"] = "1"
    for key in ("x", "y", "class"):
        if key in attrs:
            props[key] = str(attrs[key])
        else:
            props.pop(key, None)
    return props


def _qname(data: bytes, start: int) -> bytes:
    m = re.match(rb"<([^\s/>]+)", data[start : start + 256])
    return m.group(1) if m else b"svg"


def _split(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


class _Collector:
    """ElementTree parser target that records the offsets of the places we read and edit."""

    def __init__(self, data: bytes) -> None:
        self.raw = data
        self.parser: DefusedXMLParser | None = None
        self.doc = _Doc()
        self.depth = 0
        self.count = 0
        self.ns_stack: list[dict[str, str]] = [{}]
        self.pending_ns: dict[str, str] = {}
        self.open: list[tuple[str, int, object]] = []  # (role, start, record) per element
        self.meta: int | None = None  # index of the innermost open <metadata>
        self.in_packet = 0
        self.xpacket_start: int | None = None
        self.text: list[str] | None = None
        self.style: list[dict[str, str]] = [{}]  # inherited presentation properties
        self.drawn: _DrawnText | None = None  # the <text> being read
        self.backdrop: dict[str, str] | None = None  # the caption group's <rect>

    def _pos(self) -> int:
        return self.parser.parser.CurrentByteIndex  # type: ignore[union-attr]

    def _tag_end(self, start: int) -> int:
        m = _TAG_END.match(self.raw, start)
        if m is None:
            raise CorruptContainer(f"SVG: start tag at offset {start} has no end")
        return m.end()

    def _element(self, start: int, end_pos: int) -> _Span:
        """An element's span from its start offset and the parser position at its end event;
        ``inner`` is (-1, -1) for an empty-element tag ``<x/>``."""
        tag_end = self._tag_end(start)
        if self.raw[tag_end - 2 : tag_end] == b"/>":
            return _Span(start, tag_end, (-1, -1))
        return _Span(start, self._tag_end(end_pos), (tag_end, end_pos))

    def start_ns(self, prefix: str, uri: str) -> None:
        self.pending_ns[prefix] = uri

    def start(self, tag: str, attrs: dict) -> None:
        self.count += 1
        self.depth += 1
        if self.count > MAX_ELEMENTS:
            raise LimitExceeded(f"SVG has more than {MAX_ELEMENTS} elements")
        if self.depth > MAX_DEPTH:
            raise LimitExceeded(f"SVG elements nest deeper than {MAX_DEPTH}")
        scope = {**self.ns_stack[-1], **self.pending_ns}
        self.pending_ns = {}
        self.ns_stack.append(scope)
        ns, local = _split(tag)
        start = self._pos()
        role, record = "", None
        props = _props(self.style[-1], attrs)
        self.style.append(props)
        if ns == SVG_NS:
            self._drawing(local, start, props, attrs)
        if self.depth == 1:
            if (ns, local) != (SVG_NS, "svg"):
                raise UnsupportedFormat("SVG: the root element is not <svg> in the SVG namespace")
            self.doc.root_start, self.doc.root_end = start, self._tag_end(start)
            self.doc.root_qname = _qname(self.raw, start)
            self.doc.root_attrs = {k: str(v) for k, v in attrs.items()}
            role = "root"
        elif (ns, local) == (SVG_NS, "metadata") and self.meta is None:
            end = self._tag_end(start)
            empty = self.raw[end - 2 : end] == b"/>"
            record = _Metadata(_Span(start, -1), self.depth, empty, end, _qname(self.raw, start))
            self.doc.metadata.append(record)
            self.meta, role = len(self.doc.metadata) - 1, "metadata"
        elif self.meta is not None and not self.in_packet and self.xpacket_start is None:
            if (ns, local) in ((X_NS, "xmpmeta"), (xmp_mod.RDF_NS, "RDF")):
                record = _Packet(_Span(start, -1), scope, self.meta)
                self.doc.packets.append(record)
                role = "packet"
            elif "AIGC" in local.upper():
                record = _LabelElement(_Span(start, -1), local, "", self.meta)
                self.doc.label_elements.append(record)
                self.text, role = [], "label"
        if self.meta is not None and (ns, local) == (C2PA_NS, "manifest"):
            self.doc.c2pa = True
        if role == "packet":
            self.in_packet += 1
        self.open.append((role, start, record))

    def _drawing(self, local: str, start: int, props: dict[str, str], attrs: dict) -> None:
        """Caption groups, their backdrop and ``<text>`` elements (the explicit label)."""
        caption = "aigc-label" in str(attrs.get("class", "")).split()
        if local == "g" and self.depth == 2 and caption:
            self.doc.captions.append(_Span(start, -1))
            props["caption"] = "1"
        elif local == "rect" and props.get("caption") and self.doc.captions:
            self.backdrop = props
        elif local == "text" and self.drawn is None and len(self.doc.texts) < MAX_TEXTS:
            in_caption = bool(props.get("caption"))
            backdrop = self.backdrop if in_caption else None
            self.drawn = _DrawnText("", props, in_caption, backdrop)

    def end(self, tag: str) -> None:
        role, start, record = self.open.pop()
        self.ns_stack.pop()
        self.style.pop()
        self.depth -= 1
        pos = self._pos()
        if self.drawn is not None and _split(tag) == (SVG_NS, "text"):
            self.drawn.text = self.drawn.text.strip()
            self.doc.texts.append(self.drawn)
            self.drawn = None
        if self.depth == 1 and _split(tag) == (SVG_NS, "g") and self.doc.captions:
            if self.doc.captions[-1].start == start:
                self.doc.captions[-1] = self._element(start, pos)
        if role == "root":
            self.doc.root_close = -1 if self._element(start, pos).inner[0] == -1 else pos
            return
        if not role:
            return
        span = self._element(start, pos)
        if span.inner[0] == -1:  # <x/>: an empty content span at the end of the tag
            span.inner = (span.end, span.end)
        record.span = span  # type: ignore[union-attr]
        if role == "metadata":
            if self.xpacket_start is not None:  # an unterminated packet ends with <metadata>
                self.doc.packets.append(
                    _Packet(_Span(self.xpacket_start, pos), {**self.ns_stack[-1]}, self.meta)
                )
                self.xpacket_start = None
            self.meta = None
        elif role == "packet":
            self.in_packet -= 1
        elif role == "label":
            record.text = "".join(self.text or []).strip()  # type: ignore[union-attr]
            self.text = None

    def data(self, text: str) -> None:
        if self.text is not None:
            self.text.append(text)
        if self.drawn is not None and len(self.drawn.text) < MAX_CAPTION_CHARS:
            self.drawn.text += text

    def pi(self, target: str, text: str) -> None:
        if target != "xpacket" or self.meta is None or self.in_packet:
            return
        pos = self._pos()
        if "begin" in text and self.xpacket_start is None:
            self.xpacket_start = pos
        elif "end" in text and self.xpacket_start is not None:
            end = self.raw.find(b"?>", pos) + 2
            span = _Span(self.xpacket_start, end)
            scope = {**self.ns_stack[-1]}
            self.doc.packets.append(_Packet(span, scope, self.meta))
            self.xpacket_start = None

    def close(self) -> None:
        return None


def _encoding(data: bytes) -> str:
    """The document's codec name; UTF-16/32 are refused (expat offsets would need re-mapping)."""
    if data.startswith(_BOM):
        return "utf-8"
    if data.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff", b"\x00<", b"<\x00")):
        raise UnsupportedFormat("SVG: UTF-16/32 documents are not supported")
    m = _ENCODING.match(data)
    if m is None:
        return "utf-8"
    try:
        return codecs.lookup(m.group(1).decode("ascii")).name
    except LookupError:
        raise UnsupportedFormat(
            f"SVG: unknown encoding {m.group(1).decode('ascii', 'replace')!r}"
        ) from None


def _parse(data: bytes) -> _Doc:
    if len(data) > MAX_BYTES:
        raise LimitExceeded(f"SVG file of {len(data)} bytes exceeds {MAX_BYTES}")
    _encoding(data)
    collector = _Collector(data)
    parser = DefusedXMLParser(target=collector)
    collector.parser = parser
    try:
        parser.feed(data)
        parser.close()
    except DefusedXmlException as exc:  # billion laughs, XXE: refused, never expanded
        what = getattr(exc, "name", None) or getattr(exc, "sysid", None) or type(exc).__name__
        raise CorruptContainer(f"SVG: entity declarations refused ({what!r})") from None
    except ParseError as exc:
        raise CorruptContainer(f"SVG: malformed XML ({exc})") from None
    except ValueError as exc:  # expat: unknown encoding and the like
        raise CorruptContainer(f"SVG: cannot parse ({exc})") from None
    if collector.doc.root_end < 0:
        raise CorruptContainer("SVG: no root element")
    return collector.doc


# --- packets ------------------------------------------------------------------------------


def _packet_text(data: bytes, packet: _Packet) -> str:
    return data[packet.span.start : packet.span.end].decode(_encoding(data), "replace")


def _standalone(data: bytes, packet: _Packet) -> bytes:
    """The packet as a document of its own: prefixes bound on the SVG's elements (Inkscape puts
    ``xmlns:rdf`` on the root) are declared on the packet's first element."""
    text = _packet_text(data, packet)
    missing = [
        f' xmlns:{prefix}="{html.escape(uri, quote=True)}"'
        for prefix, uri in sorted(packet.namespaces.items())
        if prefix and f"xmlns:{prefix}" not in text
    ]
    if missing:
        m = re.search(r"<[A-Za-z_][\w.:-]*", text)
        if m is not None:
            text = text[: m.end()] + "".join(missing) + text[m.end() :]
    return text.encode("utf-8")


def _has_rdf(text: str) -> bool:
    return "</rdf:RDF>" in text


def _target_packet(data: bytes, doc: _Doc) -> _Packet | None:
    """The packet the label belongs in: the first with an rdf:RDF in a <metadata> child of the
    root (the place c2pa-rs and exiftool look), or None (a new packet is made)."""
    top = [p for p in doc.packets if doc.metadata[p.metadata].depth == 2]
    for packet in top:
        if _has_rdf(_packet_text(data, packet)):
            return packet
    return None


def _new_packet(label_json: str, extra: dict[str, str] | None) -> str:
    empty = f'<rdf:RDF xmlns:rdf="{xmp_mod.RDF_NS}">\n</rdf:RDF>'
    body = xmp_mod.merge_label(empty, label_json, extra).decode("utf-8")
    return f"{_XPACKET_BEGIN}\n{body}\n{_XPACKET_END}"


def _apply(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    """Replace spans (start, end, new), given in any order; spans must not overlap."""
    out = data
    for start, end, new in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        out = out[:start] + new + out[end:]
    return out


def _cut(data: bytes, span: _Span) -> tuple[int, int]:
    """Widen an element's span to its whole line when it stands alone on it."""
    line_start = data.rfind(b"\n", 0, span.start) + 1
    line_end = data.find(b"\n", span.end)
    line_end = len(data) if line_end < 0 else line_end + 1
    if not data[line_start : span.start].strip() and not data[span.end : line_end].strip():
        return line_start, line_end
    return span.start, span.end


def _insertion(data: bytes, doc: _Doc, packet: str) -> tuple[int, int, bytes]:
    """Where a new packet goes: into the first <metadata> child of the root, else into a new
    <metadata> made the first child of the root (indented like the root's next line)."""
    top = next((m for m in doc.metadata if m.depth == 2), None)
    block = packet.encode("utf-8")
    if top is not None and top.empty:
        open_tag = data[top.span.start : top.start_tag_end - 2].rstrip() + b">"
        return top.span.start, top.span.end, open_tag + block + b"</" + top.qname + b">"
    if top is not None:
        at = top.span.inner[1]
        return at, at, block
    prefix = doc.root_qname[: -len(b"svg")]  # b"" or b"svg:" (a prefixed SVG root)
    new = b"<" + prefix + b"metadata>" + block + b"</" + prefix + b"metadata>"
    at = doc.root_end
    if data[at - 2 : at] == b"/>":  # <svg/>: open the root to give it a child
        open_tag = data[doc.root_start : at - 2].rstrip() + b">"
        return doc.root_start, at, open_tag + new + b"</" + doc.root_qname + b">"
    ws = re.match(rb"\r?\n[ \t]*", data[at:])
    return at, at, (ws.group(0) if ws else b"") + new


# --- the explicit label: a <text> element ----------------------------------------------------

#: Lower bounds of the ink height of the tallest glyph, in em: hanzi fill about 0.88 em in common
#: CJK fonts; Latin capitals ("AI") about 0.70 em. The viewer's font is unknown, so the caption's
#: font size is chosen from these and the declared glyph height is this bound, not a measurement.
_CJK_EM, _LATIN_EM = 0.88, 0.70
#: Glyph height aimed at, as a share of the shortest side (GB 45438 asks >= 5 %).
CAPTION_RATIO = 0.055
_BOX_OPACITY = 0.75  # white on 75 % black: 10.4:1 over a white drawing (as the raster caption)
_NUMBER = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*(px)?\s*$")
_MAX_EXTENT = 1e9  # also refuses inf and nan
_NAMED = {"black": (0, 0, 0), "white": (255, 255, 255)}


@dataclass(frozen=True)
class Canvas:
    """The drawing's coordinate box in user units (the viewBox, else width x height)."""

    x: float
    y: float
    w: float
    h: float


def _number(value: str | None) -> float | None:
    m = _NUMBER.match(value or "")
    return float(m.group(1)) if m else None


def canvas(attrs: dict[str, str]) -> Canvas | None:
    """The root's viewBox, else its absolute width/height (unitless or px); None if neither."""
    parts = re.split(r"[\s,]+", attrs.get("viewBox", "").strip())
    if len(parts) == 4:
        try:
            x, y, w, h = (float(p) for p in parts)
        except ValueError:
            pass
        else:
            if 0 < w < _MAX_EXTENT and 0 < h < _MAX_EXTENT and abs(x) + abs(y) < _MAX_EXTENT:
                return Canvas(x, y, w, h)
    w, h = _number(attrs.get("width")), _number(attrs.get("height"))
    return (
        Canvas(0.0, 0.0, w, h) if w and h and 0 < w < _MAX_EXTENT and 0 < h < _MAX_EXTENT else None
    )


def _wide(ch: str) -> bool:
    import unicodedata

    return unicodedata.east_asian_width(ch) in ("W", "F")


def _glyph_em(text: str) -> float:
    return _CJK_EM if any(_wide(c) for c in text) else _LATIN_EM


def _text_width(text: str, size: float) -> float:
    """A generous width estimate: full-width characters 1 em, others 0.62 em."""
    return sum(1.0 if _wide(c) else 0.62 for c in text) * size


def _luminance(rgb: tuple[float, float, float]) -> float:
    def lin(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _rgb(value: str | None) -> tuple[int, int, int] | None:
    value = (value or "").strip().lower()
    if value in _NAMED:
        return _NAMED[value]
    if re.fullmatch(r"#[0-9a-f]{3}", value):
        return tuple(int(c * 2, 16) for c in value[1:])  # type: ignore[return-value]
    if re.fullmatch(r"#[0-9a-f]{6}", value):
        return tuple(int(value[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]
    return None


def _contrast(text: _DrawnText) -> float | None:
    """WCAG contrast of the glyphs against their backdrop over the worst drawing behind it
    (white or black); None without a backdrop or with colours we do not parse."""
    if text.backdrop is None:
        return None
    fg, bg = _rgb(text.props.get("fill", "black")), _rgb(text.backdrop.get("fill", "black"))
    alpha = _number(text.backdrop.get("fill-opacity", "1"))
    if fg is None or bg is None or alpha is None:
        return None
    worst = None
    for under in ((255, 255, 255), (0, 0, 0)):
        mixed = tuple(alpha * b + (1 - alpha) * u for b, u in zip(bg, under, strict=True))
        lo, hi = sorted((_luminance(fg), _luminance(mixed)))  # type: ignore[arg-type]
        ratio = (hi + 0.05) / (lo + 0.05)
        worst = ratio if worst is None else min(worst, ratio)
    return worst


def _place(
    position: str, box: tuple[float, float], area: Canvas, margin: float
) -> tuple[float, float]:
    from ..visible.wording import ANCHORS

    vertical, horizontal = ANCHORS.get(position, ("bottom", "right"))
    x = {"left": area.x + margin, "center": area.x + (area.w - box[0]) / 2,
         "right": area.x + area.w - margin - box[0]}[horizontal]  # fmt: skip
    y = {"top": area.y + margin, "middle": area.y + (area.h - box[1]) / 2,
         "bottom": area.y + area.h - margin - box[1]}[vertical]  # fmt: skip
    return x, y


def _position_name(box: list[float], area: Canvas) -> str:
    """Where a box sits, in the caption options' names: by the edge bands (15 %) it touches,
    the bands the X-I2 check uses."""
    band = 0.15
    left, right = box[0] <= area.w * band, box[2] >= area.w * (1 - band)
    top, bottom = box[1] <= area.h * band, box[3] >= area.h * (1 - band)
    col = "left" if left and not right else "right" if right and not left else "center"
    row = "top" if top and not bottom else "bottom" if bottom and not top else "middle"
    if row == "middle":
        return "middle" if col == "center" else col
    return row if col == "center" else f"{row}-{col}"


def _fmt(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _caption_group(text: str, position: str, area: Canvas) -> tuple[str, dict]:
    """The ``<g class="aigc-label">`` markup and the caption's declaration (user units)."""
    side = min(area.w, area.h)
    em = _glyph_em(text)
    size = CAPTION_RATIO * side / em
    margin, pad = 0.02 * side, 0.25 * size
    room = area.w - 2 * margin - 2 * pad
    if _text_width(text, size) > room:  # shrink to fit, never below 5 %
        size = room / _text_width(text, 1.0)
        if size * em < 0.05 * side:
            raise UnsupportedFormat(f"the caption {text!r} does not fit the {_fmt(area.w)} x "
                                    f"{_fmt(area.h)} drawing at 5 % glyph height")  # fmt: skip
        pad = 0.25 * size
    box = (_text_width(text, size) + 2 * pad, size + 2 * pad)
    x, y = _place(position, box, area, margin)
    group = (
        '<g class="aigc-label" font-family="sans-serif" pointer-events="none">'
        f'<rect x="{_fmt(x)}" y="{_fmt(y)}" width="{_fmt(box[0])}" height="{_fmt(box[1])}" '
        f'rx="{_fmt(pad)}" fill="#000000" fill-opacity="{_BOX_OPACITY}"/>'
        f'<text x="{_fmt(x + pad)}" y="{_fmt(y + pad + 0.88 * size)}" font-size="{_fmt(size)}" '
        f'fill="#ffffff">{xmp_mod.escape(text)}</text></g>'
    )
    declared = {
        "text": text,
        "position": position,
        "box": [
            round(v, 2) for v in (x - area.x, y - area.y, x - area.x + box[0], y - area.y + box[1])
        ],  # fmt: skip
        "glyph_height_px": round(size * em, 2),
        "ratio": round(size * em / side, 4),
        "font_size": round(size, 2),
        "units": "SVG user units",
        "image_size": [area.w, area.h],
    }
    return group, declared


def _drawn_caption(text: _DrawnText, area: Canvas) -> dict:
    """The geometry of a ``<text>`` as far as its attributes tell (no layout engine): the box
    is estimated from the font size and the characters; a transform makes it approximate."""
    size = _number(text.props.get("font-size")) or 16.0  # CSS's default medium
    x = _number(re.split(r"[\s,]+", text.props.get("x", "0").strip())[0]) or 0.0
    y = _number(re.split(r"[\s,]+", text.props.get("y", "0").strip())[0]) or 0.0
    width = _text_width(text.text, size)
    anchor = text.props.get("text-anchor", "start")
    x0 = x - width if anchor == "end" else x - width / 2 if anchor == "middle" else x
    box = [x0 - area.x, y - 0.88 * size - area.y, x0 + width - area.x, y + 0.12 * size - area.y]
    glyph = size * _glyph_em(text.text)
    return {
        "text": text.text,
        "position": _position_name(box, area),
        "box": [round(v, 2) for v in box],
        "glyph_height_px": round(glyph, 2),
        "ratio": round(glyph / min(area.w, area.h), 4),
        "font_size": round(size, 2),
        "units": "SVG user units",
        "image_size": [area.w, area.h],
        "element": "aigc-tag caption" if text.in_caption else "<text>",
        "approximate": bool(text.props.get("transformed")),
    }


class SvgCarrier:
    """The SVG carrier (see the module docstring)."""

    name = "svg"
    media_type = "image"
    mime = "image/svg+xml"
    extensions = (".svg",)
    can_write = True
    label_places = ("<metadata> XMP TC260:AIGC", "<metadata> child element named …AIGC…")

    def accept(self, head: bytes) -> bool:
        return _root_verdict(head)

    @guarded
    def read_labels(self, data: bytes) -> list[Found]:
        """XMP label properties in every <metadata>, then AIGC elements, in document order."""
        doc = _parse(data)
        found: list[Found] = []
        for packet in doc.packets:
            location = f"metadata[{packet.metadata}]/XMP"
            for item in found_in_xmp(_standalone(data, packet), location=location):
                item.offset, item.length = packet.span.start, packet.span.end - packet.span.start
                found.append(item)
        for elem in doc.label_elements:
            found.append(
                found_from_value(
                    elem.text,
                    carrier="svg-metadata",
                    location=f"metadata[{elem.metadata}]/{elem.qname}",
                    key=elem.qname,
                    offset=elem.span.start,
                    length=elem.span.end - elem.span.start,
                    form="element",
                    normative=False,
                )
            )
        return sorted(found, key=lambda f: f.offset)

    @guarded
    def read_xmp(self, data: bytes) -> bytes | None:
        """The packet the label is written to (standalone, UTF-8), else the first one, or None."""
        doc = _parse(data)
        packet = _target_packet(data, doc) or (doc.packets[0] if doc.packets else None)
        return _standalone(data, packet) if packet is not None else None

    @guarded
    def has_c2pa(self, data: bytes) -> bool:
        """A ``c2pa:manifest`` element inside ``<metadata>`` (where c2pa-rs embeds the store)."""
        if C2PA_NS.encode() not in data:
            return False
        return _parse(data).c2pa

    @guarded
    def write_label(
        self, data: bytes, label_json: str, extra_xmp: dict[str, str] | None = None
    ) -> bytes:
        """Exactly one label, in the XMP packet of the root's <metadata> (module docstring)."""
        encoding = _encoding(data)
        if encoding not in ("utf-8", "ascii"):
            raise UnsupportedFormat(f"SVG: writing a {encoding} document is not supported "
                                    "(UTF-8 only)")  # fmt: skip
        doc = _parse(data)
        target = _target_packet(data, doc)
        edits: list[tuple[int, int, bytes]] = []
        for packet in doc.packets:
            text = _packet_text(data, packet)
            if packet is target:
                merged = xmp_mod.merge_label(text, label_json, extra_xmp)
            elif xmp_mod.find_label_properties(_standalone(data, packet)):
                merged = xmp_mod.remove_label(text)
            else:
                continue
            edits.append((packet.span.start, packet.span.end, merged))
        for elem in doc.label_elements:
            edits.append((*_cut(data, elem.span), b""))
        if target is None:
            edits.append(_insertion(data, doc, _new_packet(label_json, extra_xmp)))
        out = _apply(data, edits)
        _parse(out)  # strict write: never hand out a document that no longer parses
        return out

    @guarded
    def add_caption(self, data: bytes, text: str, position: str) -> tuple[bytes, dict]:
        """Draw the explicit label as ``<g class="aigc-label">`` (a dark box and a ``<text>``) in
        a corner, as the root's last child so it is painted on top; an earlier aigc-tag caption
        is replaced. Returns the new bytes and the caption's declaration (user units)."""
        if _encoding(data) not in ("utf-8", "ascii"):
            raise UnsupportedFormat("SVG: captions are written into UTF-8 documents only")
        doc = _parse(data)
        area = canvas(doc.root_attrs)
        if area is None:
            raise UnsupportedFormat("the <svg> root has no viewBox and no absolute width/height")
        group, declared = _caption_group(text, position, area)
        edits = [(*_cut(data, span), b"") for span in doc.captions[1:]]
        if doc.captions:
            edits.append((doc.captions[0].start, doc.captions[0].end, group.encode("utf-8")))
        elif doc.root_close >= 0:
            edits.append((doc.root_close, doc.root_close, group.encode("utf-8")))
        else:  # <svg/>: open the root to give it a child
            open_tag = data[doc.root_start : doc.root_end - 2].rstrip() + b">"
            new = open_tag + group.encode("utf-8") + b"</" + doc.root_qname + b">"
            edits.append((doc.root_start, doc.root_end, new))
        out = _apply(data, edits)
        _parse(out)
        return out, declared

    @guarded
    def read_caption(self, data: bytes) -> dict | None:
        """The explicit label the document draws: aigc-tag's caption group, else the first
        ``<text>`` whose wording is a GB 45438 label; None when there is none (or no canvas)."""
        from ..visible.wording import wording_problem

        doc = _parse(data)
        area = canvas(doc.root_attrs)
        if area is None:
            return None
        ours = [t for t in doc.texts if t.in_caption and t.text]
        others = [t for t in doc.texts if not t.in_caption and wording_problem(t.text) is None]
        for text in ours + others:
            found = _drawn_caption(text, area)
            found["contrast"] = _contrast(text)
            return found
        return None

    def reencode(self, data: bytes, draw: Callable) -> bytes:
        raise UnsupportedFormat("SVG is vector graphics: there are no pixels to re-encode")


CARRIER = register(SvgCarrier())
