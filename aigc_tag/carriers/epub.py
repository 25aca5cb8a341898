"""EPUB: the label as ``<meta name="AIGC" content="…JSON…"/>`` in the package document (OPF).

No guide names an EPUB carrier. ``<meta name content>`` is the EPUB 2 form and is still allowed in
EPUB 3 (as a legacy OPF2 meta that reading systems ignore), it needs no prefix declaration, and it
matches the HTML carrier, so one reader finds both; ``<meta property="aigc:…">`` (EPUB 3 form)
and any other ``meta`` whose ``name``/``property`` contains ``AIGC`` are read as non-normative and
removed on write. The OPF is found through ``META-INF/container.xml`` (first rootfile) and edited
as text: the first ``<meta name="AIGC">`` is replaced in place, else the new one goes right
before ``</metadata>``. aigc-tag's own properties are ``<meta name="aigctag:Name" …/>``.

The ZIP is rewritten as for OOXML (:mod:`aigc_tag.carriers.ooxml`): every other member, the
STORED ``mimetype`` first, keeps its bytes; same zip-bomb, name and XML defences. Metadata only:
no visible label is added to the XHTML content.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html import escape, unescape

from ..errors import CorruptContainer, UnsupportedFormat
from . import Found, found_from_value, guarded, register
from .ooxml import _decode_xml, _open, _rewrite, _xml, read_member

__all__ = ["CARRIER", "EpubCarrier"]

MIMETYPE = b"mimetypeapplication/epub+zip"
LABEL_NAME = "AIGC"
EXTRA_PREFIX = "aigctag:"
_META = re.compile(r"<(?:[\w.-]+:)?meta\b[^>]*?(?:/>|>.*?</(?:[\w.-]+:)?meta\s*>)", re.S)
_ATTR = re.compile(r"""([\w:.-]+)\s*=\s*("[^"]*"|'[^']*')""")


def _attrs(tag: str) -> dict[str, str]:
    head = tag[: tag.index(">") + 1]
    return {k: unescape(v[1:-1]) for k, v in _ATTR.findall(head)}


def _opf(pkg, kind: str = "EPUB") -> str:
    container = read_member(pkg, "META-INF/container.xml", kind)
    root = _xml(container, "EPUB META-INF/container.xml")
    path = next((e.get("full-path") for e in root.iter() if e.tag.endswith("rootfile")), None)
    if not path or pkg.get(path) is None:
        raise CorruptContainer("EPUB: container.xml names no package document (OPF) that exists")
    return path


def _metas(text: str) -> list[tuple[re.Match[str], dict[str, str]]]:
    start = text.find("<metadata")
    if start < 0:
        m = re.search(r"<[\w.-]+:metadata\b", text)
        start = m.start() if m else -1
    if start < 0:
        raise CorruptContainer("EPUB package document has no <metadata> element")
    end = re.search(r"</(?:[\w.-]+:)?metadata\s*>", text[start:])
    if end is None:
        raise CorruptContainer("EPUB package document: <metadata> is not closed")
    return [(m, _attrs(m.group(0))) for m in _META.finditer(text, start, start + end.start())]


def _label_key(attrs: dict[str, str]) -> str | None:
    for attr in ("name", "property"):
        value = attrs.get(attr, "")
        if "AIGC" in value.upper() and not value.lower().startswith(EXTRA_PREFIX):
            return value
    return None


def _value(m: re.Match[str], attrs: dict[str, str]) -> str:
    if "content" in attrs:
        return attrs["content"]
    inner = re.sub(r"^<[^>]*>|</[^>]*>$", "", m.group(0))
    return unescape(inner).strip()


def _line_span(text: str, start: int, end: int) -> tuple[int, int]:
    """The span of a tag, widened to its whole line when it stands alone on it."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end + 1
    if not text[line_start:start].strip() and not text[end:line_end].strip():
        return line_start, line_end
    return start, end


def _meta(name: str, value: str) -> str:
    return f'<meta name="{escape(name)}" content="{escape(value)}"/>'


class EpubCarrier:
    """The EPUB carrier (see the module docstring)."""

    name = "epub"
    media_type = "text"
    mime = "application/epub+zip"
    extensions = (".epub",)
    can_write = True
    label_places = ('OPF <meta name="AIGC">', "OPF meta name/property containing AIGC")

    def accept(self, head: bytes) -> bool:
        return head.startswith(b"PK\x03\x04") and head[30:58] == MIMETYPE

    def _load(self, data: bytes) -> tuple[object, str, str]:
        pkg = _open(data, "EPUB")
        path = _opf(pkg)
        text = _decode_xml(read_member(pkg, path, "EPUB"), f"EPUB {path}")
        _xml(text.encode("utf-8"), f"EPUB {path}")
        return pkg, path, text

    @guarded
    def read_labels(self, data: bytes) -> list[Found]:
        _, path, text = self._load(data)
        found = []
        for m, attrs in _metas(text):
            key = _label_key(attrs)
            if key is not None:
                found.append(
                    found_from_value(
                        _value(m, attrs),
                        carrier="epub-meta",
                        location=path,
                        key=key,
                        form="attribute" if "content" in attrs else "element",
                        normative=attrs.get("name") == LABEL_NAME,
                    )
                )
        return found

    def read_xmp(self, data: bytes) -> bytes | None:
        return None

    @guarded
    def read_extras(self, data: bytes) -> dict[str, str]:
        _, _, text = self._load(data)
        n = len(EXTRA_PREFIX)
        return {
            a["name"][n:]: _value(m, a)
            for m, a in _metas(text)
            if a.get("name", "").lower().startswith(EXTRA_PREFIX)
        }

    @guarded
    def has_c2pa(self, data: bytes) -> bool:
        pkg = _open(data, "EPUB")
        return any(n.lower().endswith(".c2pa") or "/c2pa" in n.lower() for n in pkg.names())

    @guarded
    def write_label(
        self, data: bytes, label_json: str, extra_xmp: dict[str, str] | None = None
    ) -> bytes:
        pkg, path, text = self._load(data)
        extras = {EXTRA_PREFIX + k: v for k, v in (extra_xmp or {}).items()}
        block = "".join(_meta(k, v) for k, v in {LABEL_NAME: label_json, **extras}.items())
        metas = _metas(text)
        edits, placed = [], False
        for m, attrs in metas:
            if attrs.get("name") == LABEL_NAME and not placed:
                edits.append((m.start(), m.end(), block))
                placed = True
            elif _label_key(attrs) or attrs.get("name") in extras:
                edits.append((*_line_span(text, m.start(), m.end()), ""))
        if not placed:
            close = re.search(r"</(?:[\w.-]+:)?metadata\s*>", text)
            assert close is not None  # _metas checked it
            at = close.start()
            line_start = text.rfind("\n", 0, at) + 1
            if text[line_start:at].strip():
                edits.append((at, at, block))
            else:  # on a line of its own, indented one step deeper than </metadata>
                indent = text[line_start:at]
                edits.append((line_start, line_start, indent + "  " + block + "\n"))
        for start, end, new in sorted(edits, reverse=True):
            text = text[:start] + new + text[end:]
        _xml(text.encode("utf-8"), f"EPUB {path}")
        out = _rewrite(pkg, {path: text.encode("utf-8")}, {})
        if len(self.read_labels(out)) != 1:
            raise CorruptContainer("EPUB: the label did not read back once after writing")
        return out

    def add_visible(self, data: bytes, text: str, where: str = "suffix") -> bytes:
        raise UnsupportedFormat("EPUB: only the metadata label is written (no visible label)")

    def read_visible(self, data: bytes) -> str:
        return ""

    def reencode(self, data: bytes, draw: Callable) -> bytes:
        raise UnsupportedFormat("EPUB has no pixels to re-encode")


CARRIER = register(EpubCarrier())
