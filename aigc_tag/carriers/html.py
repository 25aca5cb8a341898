"""HTML: the label in ``<meta name="AIGC" content="…JSON…">`` inside ``<head>``.

The TC260 text guide names no HTML carrier; ``<meta name="AIGC">`` is the common convention
(exiftool reports it as ``HTML:AIGC``). The document is read with the stdlib
:class:`html.parser.HTMLParser` (script/style content is skipped as the browser does) and edited
as text at the offsets the parser reports, so every byte outside the edited tags is kept.

``write_label`` replaces the first ``<meta name="AIGC">`` in place; if there is none it inserts one
right before ``</head>``, after ``<head>`` when the end tag is missing, or in a new
``<head>…</head>`` after ``<html>`` / the doctype when there is no head at all. Other label
metas (``name``/``property``/``itemprop`` containing ``aigc`` in any case, e.g.
``<meta property="aigc:label">``) are read as non-normative and removed. The JSON is
attribute-escaped (``&amp;`` and ``&quot;``); characters the document's encoding cannot hold
become character references. aigc-tag's own properties go into ``<meta name="aigctag:Name">``
next to the label.

Encoding: a BOM (UTF-8/UTF-16) wins, then a ``charset`` in the first 2 KiB, then UTF-8; the file
is decoded strictly and written back in the same encoding. The explicit label is a
``<p class="aigc-label">`` right after ``<body>`` (prefix) and/or right before ``</body>``
(suffix). C2PA in HTML (C2PA 2.4 A.7): ``<script type="application/c2pa">`` or
``<link rel="c2pa-manifest">``.
"""

from __future__ import annotations

import codecs
import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser

from ..errors import InvalidLabel, LimitExceeded, UnsupportedFormat
from ..visible.wording import resolve_text
from . import Found, found_from_value, guarded, register

__all__ = ["CARRIER", "HtmlCarrier"]

MAX_BYTES = 64 * 1024 * 1024
MAX_TAGS = 2_000_000
LABEL_NAME = "AIGC"
EXTRA_PREFIX = "aigctag:"
VISIBLE_CLASS = "aigc-label"
_VISIBLE_WINDOW = 2000
_LABEL_ATTRS = ("name", "property", "itemprop")
_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([\w.:-]+)""", re.I)
_HEAD_START = re.compile(
    rb"(?:<\?xml[^>]*\?>)?(?:<!--.*?-->|\s)*<(?:!doctype\s+html|html|head)[\s>]", re.I | re.S
)
_HIDDEN = {"script", "style", "head", "title", "template", "noscript"}


def _encoding(data: bytes) -> tuple[str, int]:
    """(codec name, BOM length) for the document."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8", 3
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", 0  # the utf-16 codec reads and writes the BOM itself
    m = _CHARSET.search(data[:2048])
    if m:
        try:
            name = codecs.lookup(m.group(1).decode("ascii")).name
        except (LookupError, UnicodeDecodeError):
            name = "utf-8"
        if name not in ("utf-16-le", "utf-16-be", "utf-16"):  # a lie when the bytes are ASCII
            return name, 0
    return "utf-8", 0


def _decode(data: bytes) -> tuple[str, str, bytes]:
    """(text, codec, BOM bytes)."""
    if len(data) > MAX_BYTES:
        raise LimitExceeded(f"HTML file of {len(data)} bytes exceeds {MAX_BYTES}")
    enc, bom = _encoding(data)
    try:
        return data[bom:].decode(enc), enc, data[:bom]
    except UnicodeDecodeError as exc:
        raise UnsupportedFormat(
            f"HTML: not valid {enc} text (bad byte at offset {exc.start + bom})"
        ) from None


def _encode(text: str, enc: str, bom: bytes) -> bytes:
    return bom + text.encode(enc, "xmlcharrefreplace")


@dataclass
class _Tag:
    name: str
    start: int
    end: int
    attrs: dict[str, str]


@dataclass
class _Doc:
    metas: list[_Tag] = field(default_factory=list)
    starts: dict[str, _Tag] = field(default_factory=dict)  # first html/head/body start tag
    ends: dict[str, int] = field(default_factory=dict)  # last </head>, </body>, </html> offset
    doctype_end: int = -1
    visible: list[_Tag] = field(default_factory=list)  # <p class="aigc-label">
    c2pa: bool = False
    text: list[str] = field(default_factory=list)


class _Parser(HTMLParser):
    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.source = source
        self.doc = _Doc()
        self.line_starts = [0]
        for m in re.finditer("\n", source):
            self.line_starts.append(m.end())
        self.hidden = 0
        self.count = 0

    def _offset(self) -> int:
        line, col = self.getpos()
        return self.line_starts[line - 1] + col

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.count += 1
        if self.count > MAX_TAGS:
            raise LimitExceeded(f"HTML has more than {MAX_TAGS} tags")
        start = self._offset()
        raw = self.get_starttag_text() or ""
        values = {k.lower(): (v or "") for k, v in attrs}
        node = _Tag(tag, start, start + len(raw), values)
        if tag in ("html", "head", "body"):
            self.doc.starts.setdefault(tag, node)
        if tag == "meta":
            self.doc.metas.append(node)
        elif tag == "script" and values.get("type", "").lower() == "application/c2pa":
            self.doc.c2pa = True
        elif tag == "link" and "c2pa-manifest" in values.get("rel", "").lower().split():
            self.doc.c2pa = True
        elif tag == "p" and VISIBLE_CLASS in values.get("class", "").split():
            self.doc.visible.append(node)
        if tag in _HIDDEN:
            self.hidden += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in _HIDDEN:
            self.hidden -= 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("head", "body", "html"):
            self.doc.ends[tag] = self._offset()
        if tag in _HIDDEN and self.hidden:
            self.hidden -= 1

    def handle_decl(self, decl: str) -> None:
        if decl.lower().startswith("doctype") and self.doc.doctype_end < 0:
            self.doc.doctype_end = self.source.find(">", self._offset()) + 1

    def handle_data(self, data: str) -> None:
        if not self.hidden and data.strip():
            self.doc.text.append(data.strip())


def _parse(text: str) -> _Doc:
    parser = _Parser(text)
    try:
        parser.feed(text)
        parser.close()
    except (AssertionError, ValueError) as exc:  # HTMLParser's own complaints
        raise UnsupportedFormat(f"HTML: the parser gave up ({exc})") from None
    return parser.doc


def _label_attr(tag: _Tag) -> str | None:
    """The attribute that names a label meta (``name``/``property``/``itemprop``), if any."""
    for attr in _LABEL_ATTRS:
        value = tag.attrs.get(attr, "")
        if "aigc" in value.lower() and not value.lower().startswith(EXTRA_PREFIX):
            return attr
    return None


def _is_primary(tag: _Tag) -> bool:
    return tag.attrs.get("name", "").upper() == LABEL_NAME


def _xhtml(text: str) -> bool:
    return text.lstrip().startswith("<?xml") or "http://www.w3.org/1999/xhtml" in text[:4096]


def _meta(name: str, value: str, xhtml: bool) -> str:
    close = " />" if xhtml else ">"
    return f'<meta name="{html.escape(name, quote=True)}" content="{html.escape(value)}"{close}'


def _cut(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen a tag's span to its whole line when the tag stands alone on it."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end + 1
    if not text[line_start:start].strip() and not text[end:line_end].strip():
        return line_start, line_end
    return start, end


def _apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    """Replace spans (start, end, new) given in any order; spans must not overlap."""
    for start, end, new in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        text = text[:start] + new + text[end:]
    return text


class HtmlCarrier:
    """The HTML carrier (see the module docstring)."""

    name = "html"
    media_type = "text"
    mime = "text/html"
    extensions = (".html", ".htm", ".xhtml")
    can_write = True
    label_places = ('<meta name="AIGC">', '<meta name|property|itemprop="…aigc…">')

    def accept(self, head: bytes) -> bool:
        if head.startswith(codecs.BOM_UTF8):
            head = head[3:]
        return _HEAD_START.match(head) is not None

    @guarded
    def read_labels(self, data: bytes) -> list[Found]:
        """Label metas in document order; ``<meta name="AIGC">`` is the normative one."""
        text, _, _ = _decode(data)
        found = []
        for tag in _parse(text).metas:
            attr = _label_attr(tag)
            if attr is None:
                continue
            found.append(
                found_from_value(
                    tag.attrs.get("content", ""),
                    carrier="html-meta",
                    location=f"meta[{attr}]",
                    key=tag.attrs[attr],
                    offset=tag.start,
                    length=tag.end - tag.start,
                    form="attribute",
                    normative=_is_primary(tag),
                )
            )
        return found

    def read_xmp(self, data: bytes) -> bytes | None:
        return None

    @guarded
    def read_extras(self, data: bytes) -> dict[str, str]:
        """``<meta name="aigctag:Name" content="…">`` values."""
        text, _, _ = _decode(data)
        extras = {}
        for tag in _parse(text).metas:
            name = tag.attrs.get("name", "")
            if name.lower().startswith(EXTRA_PREFIX):
                extras[name[len(EXTRA_PREFIX) :]] = tag.attrs.get("content", "")
        return extras

    @guarded
    def has_c2pa(self, data: bytes) -> bool:
        text, _, _ = _decode(data)
        return _parse(text).c2pa

    @guarded
    def write_label(
        self, data: bytes, label_json: str, extra_xmp: dict[str, str] | None = None
    ) -> bytes:
        """One ``<meta name="AIGC">`` in the head (see the module docstring)."""
        text, enc, bom = _decode(data)
        doc = _parse(text)
        xhtml = _xhtml(text)
        nl = "\r\n" if "\r\n" in text[:4096] else "\n"
        block = _meta(LABEL_NAME, label_json, xhtml)
        extras = extra_xmp or {}
        for key, value in extras.items():
            block += nl + _meta(EXTRA_PREFIX + key, value, xhtml)
        edits: list[tuple[int, int, str]] = []
        primary = next((t for t in doc.metas if _is_primary(t)), None)
        for tag in doc.metas:
            name = tag.attrs.get("name", "")
            stale_extra = name.lower().startswith(EXTRA_PREFIX) and name[8:] in extras
            if tag is primary:
                line_start = text.rfind("\n", 0, tag.start) + 1
                indent = text[line_start : tag.start]
                indent = indent if not indent.strip() else ""
                edits.append((tag.start, tag.end, block.replace(nl, nl + indent)))
            elif _label_attr(tag) or stale_extra:
                edits.append((*_cut(text, tag.start, tag.end), ""))
        if primary is None:
            edits.append(_insertion(text, doc, block, nl))
        return _encode(_apply(text, edits), enc, bom)

    @guarded
    def add_visible(self, data: bytes, text: str, where: str = "suffix") -> bytes:
        """``<p class="aigc-label">`` at the start and/or end of ``<body>``."""
        if where not in ("prefix", "suffix", "both"):
            raise InvalidLabel(f"where must be prefix, suffix or both, got {where!r}")
        para = f'<p class="{VISIBLE_CLASS}">{html.escape(resolve_text(text))}</p>'
        source, enc, bom = _decode(data)
        doc = _parse(source)
        nl = "\r\n" if "\r\n" in source[:4096] else "\n"
        edits = []
        body = doc.starts.get("body")
        if where in ("prefix", "both"):
            at = body.end if body else _after_head(source, doc)
            first = min((p.start for p in doc.visible), default=-1)
            if first < 0 or source[at:first].strip():
                edits.append((at, at, nl + para))
        if where in ("suffix", "both"):
            at = doc.ends.get("body", doc.ends.get("html", len(source)))
            last = max((p.start for p in doc.visible), default=-1)
            close = source.find("</p>", last) + 4 if last >= 0 else -1
            if last < 0 or close < 4 or source[close:at].strip():
                edits.append((at, at, para + nl))
        return _encode(_apply(source, edits), enc, bom)

    @guarded
    def read_visible(self, data: bytes) -> str:
        """Rendered text (no head, script or style) at the start and end of the document."""
        text, _, _ = _decode(data)
        visible = "\n".join(_parse(text).text)
        if len(visible) > 2 * _VISIBLE_WINDOW:
            visible = visible[:_VISIBLE_WINDOW] + "\n" + visible[-_VISIBLE_WINDOW:]
        return visible

    def reencode(self, data: bytes, draw: Callable) -> bytes:
        raise UnsupportedFormat("HTML has no pixels to re-encode")


def _insertion(text: str, doc: _Doc, block: str, nl: str) -> tuple[int, int, str]:
    """Where a new label meta goes: before ``</head>``, after ``<head>``, or in a new head."""
    if "head" in doc.ends and (
        doc.starts.get("head") is None or doc.starts["head"].end <= doc.ends["head"]
    ):
        at = doc.ends["head"]
        line_start = text.rfind("\n", 0, at) + 1
        if not text[line_start:at].strip():
            indent = text[line_start:at]
            return (
                line_start,
                line_start,
                indent + "  " + block.replace(nl, nl + indent + "  ") + nl,
            )
        return at, at, block
    if "head" in doc.starts:
        at = doc.starts["head"].end
        return at, at, nl + block
    if "html" in doc.starts:
        at = doc.starts["html"].end
        return at, at, f"{nl}<head>{block}</head>"
    if doc.doctype_end > 0:
        at = doc.doctype_end
        return at, at, f"{nl}<head>{block}</head>"
    return 0, 0, f"<head>{block}</head>{nl}"


def _after_head(text: str, doc: _Doc) -> int:
    if "head" in doc.ends:
        return text.find(">", doc.ends["head"]) + 1
    if "html" in doc.starts:
        return doc.starts["html"].end
    return max(doc.doctype_end, 0)


CARRIER = register(HtmlCarrier())
