"""EPUB: the label as ``<meta name="AIGC" content="…JSON…"/>`` in the package document (OPF).

No guide names an EPUB carrier. ``<meta name content>`` is the EPUB 2 form and is still allowed in
EPUB 3 (as a legacy OPF2 meta that reading systems ignore), it needs no prefix declaration, and it
matches the HTML carrier, so one reader finds both; ``<meta property="aigc:…">`` (EPUB 3 form)
and any other ``meta`` whose ``name``/``property`` contains ``AIGC`` are read as non-normative and
removed on write. The OPF is found through ``META-INF/container.xml`` (first rootfile) and edited
as text: the first ``<meta name="AIGC">`` is replaced in place, else the new one goes right
before ``</metadata>``. aigc-tag's own properties are ``<meta name="aigctag:Name" …/>``.

The ZIP is rewritten as for OOXML (:mod:`aigc_tag.carriers._zip`): every other member, the
STORED ``mimetype`` first, keeps its bytes; same zip-bomb, name and XML defences.

The explicit label (``add_visible``) is a ``<p class="aigc-label">`` paragraph: the first line of
the first spine chapter (prefix) and/or the last line of the last one (suffix); re-adding replaces
it. The chapter is edited as text, so everything else in it stays as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html import escape, unescape

from ..errors import CorruptContainer, InvalidLabel, UnsupportedFormat
from ..visible.wording import resolve_text
from . import Found, found_from_value, guarded, register
from ._zip import decode_xml, open_package, parse_xml, read_member, resolve, rewrite

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
    root = parse_xml(container, "EPUB META-INF/container.xml")
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


_VISIBLE_WINDOW = 2000
_OWN_PARA = re.compile(r'\s*<p class="aigc-label">[^<]*</p>')
_ITEM = re.compile(r"<(?:[\w.-]+:)?item\b[^>]*>")
_ITEMREF = re.compile(r"<(?:[\w.-]+:)?itemref\b[^>]*>")
_BLOCK_END = re.compile(r"</(?:p|div|h[1-6]|li|tr|blockquote|section|pre)\s*>|<br\b[^>]*>", re.I)


def _spine(pkg, opf_path: str, opf: str) -> list[str]:
    """The spine's XHTML chapters (part names), in reading order; linear="no" ones skipped."""
    folder = opf_path.rpartition("/")[0]
    hrefs = {}
    for m in _ITEM.finditer(opf):
        a = _attrs(m.group(0))
        if "html" in a.get("media-type", ""):
            hrefs[a.get("id", "")] = resolve(folder, a.get("href", "").split("#")[0])
    chapters = []
    for m in _ITEMREF.finditer(opf):
        a = _attrs(m.group(0))
        if a.get("linear", "yes") != "no" and a.get("idref") in hrefs:
            part = hrefs[a["idref"]]
            if pkg.get(part) is not None:
                chapters.append(part)
    if not chapters:
        raise UnsupportedFormat("EPUB: the spine lists no XHTML chapter in the package")
    return chapters


def _chapter(pkg, part: str) -> str:
    doc = decode_xml(read_member(pkg, part, "EPUB"), f"EPUB {part}")
    parse_xml(doc.encode("utf-8"), f"EPUB {part}")
    return doc


def _with_paragraph(doc: str, part: str, label: str, *, first: bool) -> str:
    para = f'<p class="aigc-label">{escape(label, quote=False)}</p>'
    if first:
        body = re.search(r"<(?:[\w.-]+:)?body\b[^>]*>", doc)
        if body is None:
            raise CorruptContainer(f"EPUB {part}: no <body> element")
        return doc[: body.end()] + para + doc[body.end() :]
    close = [m.start() for m in re.finditer(r"</(?:[\w.-]+:)?body\s*>", doc)]
    if not close:
        raise CorruptContainer(f"EPUB {part}: no </body>")
    return doc[: close[-1]] + para + doc[close[-1] :]


def _body_text(doc: str) -> str:
    body = re.search(r"<(?:[\w.-]+:)?body\b[^>]*>(.*)</(?:[\w.-]+:)?body\s*>", doc, re.S)
    inner = body.group(1) if body else doc
    inner = re.sub(r"<(script|style)\b.*?</\1\s*>", "", inner, flags=re.S | re.I)
    inner = _BLOCK_END.sub("\n", inner)
    lines = (unescape(re.sub(r"<[^>]+>", "", line)).strip() for line in inner.splitlines())
    return "\n".join(line for line in lines if line)


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
        pkg = open_package(data, "EPUB")
        path = _opf(pkg)
        text = decode_xml(read_member(pkg, path, "EPUB"), f"EPUB {path}")
        parse_xml(text.encode("utf-8"), f"EPUB {path}")
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
        pkg = open_package(data, "EPUB")
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
        parse_xml(text.encode("utf-8"), f"EPUB {path}")
        out = rewrite(pkg, {path: text.encode("utf-8")}, {})
        if len(self.read_labels(out)) != 1:
            raise CorruptContainer("EPUB: the label did not read back once after writing")
        return out

    @guarded
    def add_visible(self, data: bytes, text: str, where: str = "suffix") -> bytes:
        """A ``<p class="aigc-label">`` first in the first spine chapter's body (prefix) and/or
        last in the last one's (suffix); an earlier such paragraph is replaced."""
        if where not in ("prefix", "suffix", "both"):
            raise InvalidLabel(f"where must be prefix, suffix or both, got {where!r}")
        label = resolve_text(text)
        pkg, path, opf = self._load(data)
        chapters = _spine(pkg, path, opf)
        targets = {"prefix": [(chapters[0], True)], "suffix": [(chapters[-1], False)]}
        targets["both"] = targets["prefix"] + targets["suffix"]
        docs: dict[str, str] = {}
        for part, first in targets[where]:
            if part not in docs:
                docs[part] = _OWN_PARA.sub("", _chapter(pkg, part))
            docs[part] = _with_paragraph(docs[part], part, label, first=first)
        for part, doc in docs.items():
            parse_xml(doc.encode("utf-8"), f"EPUB {part}")
        return rewrite(pkg, {k: v.encode("utf-8") for k, v in docs.items()}, {})

    @guarded
    def read_visible(self, data: bytes) -> str:
        """The text of the first and the last spine chapter (tags removed, a line per block)."""
        pkg, path, opf = self._load(data)
        chapters = _spine(pkg, path, opf)
        parts = [chapters[0]] + ([chapters[-1]] if len(chapters) > 1 else [])
        texts = [_body_text(_chapter(pkg, part)) for part in parts]
        head = texts[0][:_VISIBLE_WINDOW]
        tail = texts[-1][-_VISIBLE_WINDOW:] if len(texts) > 1 else texts[0][_VISIBLE_WINDOW:]
        return head + ("\n" + tail if tail else "")

    def reencode(self, data: bytes, draw: Callable) -> bytes:
        raise UnsupportedFormat("EPUB has no pixels to re-encode")


CARRIER = register(EpubCarrier())
