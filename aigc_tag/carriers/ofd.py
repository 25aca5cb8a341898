"""OFD (GB/T 33190-2016, the fixed-layout document format): the label in ``OFD.xml``.

The Annex E record goes into the entry file's first document description, as the TC260 guide's
document practice and the brief name it::

    <ofd:DocBody><ofd:DocInfo>…<ofd:CustomDatas>
      <ofd:CustomData Name="AIGC">{…label JSON…}</ofd:CustomData>
    </ofd:CustomDatas></ofd:DocInfo>…</ofd:DocBody>

``CustomDatas`` is the last child of ``CT_DocInfo``, so a new one goes right before
``</ofd:DocInfo>``. ``OFD.xml`` is edited as text (other custom data, signatures' references,
every other element stay as written): the first ``CustomData Name="AIGC"`` is replaced in place,
every other ``CustomData`` whose name contains ``AIGC`` (any case, any ``DocBody``) is read as a
non-normative copy and removed on write. aigc-tag's own properties are ``CustomData`` named
``aigctag:<Name>``.

The ZIP is rewritten as for OOXML (:mod:`aigc_tag.carriers._zip`): every other member keeps its
bytes, same zip-bomb, name and XML defences.

Sniffing: a ZIP whose first member is ``OFD.xml`` (every OFD writer seen puts the entry file
first) or a ``Doc_N/`` part. ``read_visible`` returns the text codes of the first and last page of
the first document, so the verifier's explicit-label check (X-T1) sees what a viewer shows.

The explicit label (``add_visible``) is a layer added to the first page, without re-rendering
anything: a ``Layer Type="Foreground"`` holding one ``TextObject`` (``Name`` =
:data:`VISIBLE_NAME`) at 10 mm from the top (prefix) and/or bottom (suffix) edge, in a font
resource ``SimSun`` added to the document's public resources (reused if present), with new ids
above ``CommonData/MaxUnitID``, which is raised. No glyph positions (``DeltaX``) are given, so a
viewer lays the text out with the font's own advances; the font is named, not embedded.

Note: an OFD digital signature (``Signatures.xml``) covers ``OFD.xml`` when it is listed in the
signature's ``References``; writing the label then invalidates it, as for any signed file.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from html import escape, unescape

from ..errors import CorruptContainer, InvalidLabel, LimitExceeded, UnsupportedFormat
from ..visible.wording import resolve_text
from . import Found, found_from_value, guarded, register
from ._zip import decode_xml, open_package, parse_xml, read_member, resolve, rewrite

__all__ = ["CARRIER", "OfdCarrier"]

OFD_NS = "http://www.ofdspec.org/2016"
ENTRY = "OFD.xml"
LABEL_NAME = "AIGC"
EXTRA_PREFIX = "aigctag:"
MAX_PAGES_READ = 2  # the first and the last page
_VISIBLE_WINDOW = 2000
_CUSTOM = re.compile(r"<((?:[\w.-]+:)?)CustomData\b([^>]*?)(?:/>|>(.*?)</\1CustomData\s*>)", re.S)
_NAME = re.compile(r"""\bName\s*=\s*("[^"]*"|'[^']*')""")


def _prefix(doc: str) -> str:
    m = re.search(r'xmlns:([\w.-]+)\s*=\s*["\']' + re.escape(OFD_NS) + "[\"']", doc)
    return f"{m.group(1)}:" if m else ""


def _customs(doc: str) -> list[tuple[re.Match[str], str, str]]:
    """(match, Name, value) of every CustomData in the entry file, in order."""
    out = []
    for m in _CUSTOM.finditer(doc):
        name = _NAME.search(m.group(2))
        out.append((m, unescape(name.group(1)[1:-1]) if name else "", unescape(m.group(3) or "")))
    return out


def _is_label(name: str) -> bool:
    return "AIGC" in name.upper() and not name.lower().startswith(EXTRA_PREFIX)


def _custom(p: str, name: str, value: str) -> str:
    return f'<{p}CustomData Name="{escape(name)}">{escape(value, quote=False)}</{p}CustomData>'


class OfdCarrier:
    """The OFD carrier (see the module docstring)."""

    name = "ofd"
    media_type = "text"
    mime = "application/ofd"
    extensions = (".ofd",)
    can_write = True
    label_places = (
        'OFD.xml DocInfo/CustomDatas/CustomData Name="AIGC"',
        "CustomData named *AIGC*",
    )

    def accept(self, head: bytes) -> bool:
        if not head.startswith(b"PK\x03\x04") or len(head) < 30:
            return False
        n = struct.unpack_from("<H", head, 26)[0]
        first = head[30 : 30 + n]
        return first == ENTRY.encode() or re.match(rb"Doc_\d+/", first) is not None

    def _load(self, data: bytes) -> tuple[object, str]:
        pkg = open_package(data, "OFD")
        if pkg.get(ENTRY) is None:
            raise CorruptContainer("OFD: no entry file OFD.xml in the package")
        doc = decode_xml(read_member(pkg, ENTRY, "OFD"), f"OFD {ENTRY}")
        root = parse_xml(doc.encode("utf-8"), f"OFD {ENTRY}")
        if not root.tag.endswith("OFD"):
            raise CorruptContainer(f"OFD {ENTRY}: the root element is not <ofd:OFD>")
        return pkg, doc

    @guarded
    def read_labels(self, data: bytes) -> list[Found]:
        _, doc = self._load(data)
        first = True
        found = []
        for _m, name, value in _customs(doc):
            if _is_label(name):
                found.append(
                    found_from_value(
                        value,
                        carrier="ofd-customdata",
                        location=f"{ENTRY}/DocBody/DocInfo/CustomDatas",
                        key=name,
                        form="element",
                        normative=name == LABEL_NAME and first,
                    )
                )
                first = first and name != LABEL_NAME
        return found

    def read_xmp(self, data: bytes) -> bytes | None:
        return None

    @guarded
    def read_extras(self, data: bytes) -> dict[str, str]:
        _, doc = self._load(data)
        n = len(EXTRA_PREFIX)
        return {k[n:]: v for _m, k, v in _customs(doc) if k.lower().startswith(EXTRA_PREFIX)}

    @guarded
    def has_c2pa(self, data: bytes) -> bool:
        pkg = open_package(data, "OFD")
        return any(n.lower().endswith(".c2pa") for n in pkg.names())

    @guarded
    def write_label(
        self, data: bytes, label_json: str, extra_xmp: dict[str, str] | None = None
    ) -> bytes:
        """One ``CustomData Name="AIGC"`` in the first DocInfo; see the module docstring."""
        pkg, doc = self._load(data)
        p = _prefix(doc)
        extras = {EXTRA_PREFIX + k: v for k, v in (extra_xmp or {}).items()}
        block = "".join(_custom(p, k, v) for k, v in {LABEL_NAME: label_json, **extras}.items())
        edits, placed = [], False
        for m, name, _value in _customs(doc):
            if name == LABEL_NAME and not placed:
                edits.append((m.start(), m.end(), block))
                placed = True
            elif _is_label(name) or name in extras:
                edits.append((m.start(), m.end(), ""))
        if not placed:
            edits.append(_new_place(doc, p, block))
        for start, end, new in sorted(edits, reverse=True):
            doc = doc[:start] + new + doc[end:]
        parse_xml(doc.encode("utf-8"), f"OFD {ENTRY}")
        out = rewrite(pkg, {ENTRY: doc.encode("utf-8")}, {})
        if len(self.read_labels(out)) != 1:
            raise CorruptContainer("OFD: the label did not read back once after writing")
        return out

    @guarded
    def add_visible(self, data: bytes, text: str, where: str = "suffix") -> bytes:
        """A new foreground layer on the first page with one text object (named
        :data:`VISIBLE_NAME`) at the top (prefix) and/or bottom (suffix); see :func:`_visible`."""
        if where not in ("prefix", "suffix", "both"):
            raise InvalidLabel(f"where must be prefix, suffix or both, got {where!r}")
        pkg, doc = self._load(data)
        replace, add = _visible(pkg, doc, resolve_text(text), where)
        return rewrite(pkg, replace, add)

    @guarded
    def read_visible(self, data: bytes) -> str:
        """The text codes of the first document's first and last page, in page order."""
        pkg, doc = self._load(data)
        pages = _pages(pkg, doc)
        picked = pages[:1] + (pages[-1:] if len(pages) > 1 else [])
        texts = [_page_text(pkg, part) for part in picked]
        joined = "\n".join(t for t in texts if t)
        if len(joined) > 2 * _VISIBLE_WINDOW:
            joined = joined[:_VISIBLE_WINDOW] + "\n" + joined[-_VISIBLE_WINDOW:]
        return joined

    def reencode(self, data: bytes, draw: Callable) -> bytes:
        raise UnsupportedFormat("OFD has no pixels to re-encode")


def _new_place(doc: str, p: str, block: str) -> tuple[int, int, str]:
    """Where a new label goes: into the first DocInfo's CustomDatas, or a new CustomDatas."""
    info = re.search(rf"<{p}DocInfo\b[^>]*?(/?)>", doc)
    if info is None:
        raise CorruptContainer(f"OFD {ENTRY}: no <{p}DocInfo> in the first <{p}DocBody>")
    if info.group(1):  # <ofd:DocInfo/>
        opened = info.group(0)[:-2].rstrip() + ">"
        body = f"{opened}<{p}CustomDatas>{block}</{p}CustomDatas></{p}DocInfo>"
        return info.start(), info.end(), body
    close = doc.find(f"</{p}DocInfo>", info.end())
    if close < 0:
        raise CorruptContainer(f"OFD {ENTRY}: <{p}DocInfo> is not closed")
    datas = re.search(rf"<{p}CustomDatas\b[^>]*?(/?)>", doc[info.end() : close])
    if datas is None:
        return close, close, f"<{p}CustomDatas>{block}</{p}CustomDatas>"
    start, end = info.end() + datas.start(), info.end() + datas.end()
    if datas.group(1):  # <ofd:CustomDatas/>
        return start, end, f"<{p}CustomDatas>{block}</{p}CustomDatas>"
    inner_close = doc.find(f"</{p}CustomDatas>", end, close)
    if inner_close < 0:
        raise CorruptContainer(f"OFD {ENTRY}: <{p}CustomDatas> is not closed")
    return inner_close, inner_close, block


VISIBLE_NAME = "AIGC label"
FONT_NAME = "SimSun"
TEXT_SIZE_MM = 4.0
_OWN_LAYER = re.compile(
    r"<((?:[\w.-]+:)?)Layer\b[^>]*>(?:(?!</\1Layer>).)*?Name=\""
    + re.escape(VISIBLE_NAME)
    + r"\".*?</\1Layer>",
    re.S,
)


def _document_part(pkg: object, doc: str) -> str:
    root = parse_xml(doc.encode("utf-8"), f"OFD {ENTRY}")
    doc_root = next((e.text for e in root.iter() if e.tag.endswith("DocRoot") and e.text), None)
    if not doc_root:
        raise CorruptContainer(f"OFD {ENTRY}: no DocRoot")
    part = resolve("", doc_root.strip())
    if pkg.get(part) is None:  # type: ignore[attr-defined]
        raise CorruptContainer(f"OFD: DocRoot {part} is not in the package")
    return part


def _page_box(document: str) -> tuple[float, float]:
    """Width and height (mm) of the document's default page area."""
    m = re.search(r"<(?:[\w.-]+:)?PhysicalBox>\s*([^<]+)</", document)
    try:
        box = [float(v) for v in m.group(1).split()] if m else []
    except ValueError:
        box = []
    return (box[2], box[3]) if len(box) == 4 and box[2] > 0 and box[3] > 0 else (210.0, 297.0)


def _visible(pkg: object, doc: str, label: str, where: str) -> tuple[dict, dict]:
    """(members to replace, members to add) for a label layer on the first page."""
    part = _document_part(pkg, doc)
    document = decode_xml(read_member(pkg, part, "OFD"), f"OFD {part}")  # type: ignore[arg-type]
    p = _prefix(document)
    pages = _pages(pkg, doc)
    if not pages:
        raise UnsupportedFormat("OFD: the document has no page to put a visible label on")
    page = decode_xml(read_member(pkg, pages[0], "OFD"), f"OFD {pages[0]}")  # type: ignore[arg-type]
    old_ids = [int(i) for m in _OWN_LAYER.finditer(page) for i in re.findall(r'ID="(\d+)"', m[0])]
    page = _OWN_LAYER.sub("", page)  # re-tagging replaces our earlier layer
    max_id = re.search(rf"<{p}MaxUnitID>\s*(\d+)\s*</{p}MaxUnitID>", document)
    if max_id is None:
        raise CorruptContainer(f"OFD {part}: no CommonData/MaxUnitID")
    next_id = int(max_id.group(1)) + 1
    if old_ids and max(old_ids) == next_id - 1:  # our old ids were the last ones: reuse them
        next_id = min(old_ids)
    replace: dict[str, bytes] = {}
    add: dict[str, bytes] = {}
    font_id, next_id, document = _font(pkg, part, document, p, next_id, replace, add)
    width, height = _page_box(document)
    tops = {"prefix": [10.0], "suffix": [height - 10.0 - TEXT_SIZE_MM]}
    tops["both"] = tops["prefix"] + tops["suffix"]
    objects = []
    for top in tops[where]:
        objects.append(
            f'<{p}TextObject ID="{next_id}" Name="{VISIBLE_NAME}" Boundary="10 {top:g} '
            f'{width - 20:g} {TEXT_SIZE_MM * 1.5:g}" Font="{font_id}" Size="{TEXT_SIZE_MM:g}">'
            f'<{p}FillColor Value="0 0 0"/><{p}TextCode X="0" Y="{TEXT_SIZE_MM:g}">'
            f"{escape(label, quote=False)}</{p}TextCode></{p}TextObject>"
        )
        next_id += 1
    layer = f'<{p}Layer ID="{next_id}" Type="Foreground">{"".join(objects)}</{p}Layer>'
    close = page.rfind(f"</{p}Content>")
    if close < 0:
        raise CorruptContainer(f"OFD {pages[0]}: no <{p}Content> element")
    page = page[:close] + layer + page[close:]
    document = document.replace(max_id.group(0), f"<{p}MaxUnitID>{next_id}</{p}MaxUnitID>", 1)
    for name, text in ((part, document), (pages[0], page)):
        parse_xml(text.encode("utf-8"), f"OFD {name}")
        replace[name] = text.encode("utf-8")
    return replace, add


def _font(pkg, part: str, document: str, p: str, next_id: int, replace: dict, add: dict):
    """(font id, next free id, document): our font in the public resources (reused if there)."""
    folder = part.rpartition("/")[0]
    loc = re.search(rf"<{p}PublicRes>\s*([^<]+?)\s*</{p}PublicRes>", document)
    font = f'<{p}Font ID="{next_id}" FontName="{FONT_NAME}" FamilyName="{FONT_NAME}"/>'
    if loc is None or pkg.get(resolve(folder, loc.group(1))) is None:
        name = resolve(folder, "AIGCRes.xml")
        ns = f'xmlns:{p[:-1]}="{OFD_NS}"' if p else f'xmlns="{OFD_NS}"'
        res = (f'<?xml version="1.0" encoding="UTF-8"?>\n<{p}Res {ns} BaseLoc="Res">'
               f"<{p}Fonts>{font}</{p}Fonts></{p}Res>")  # fmt: skip
        add[name] = res.encode("utf-8")
        area = re.search(rf"</{p}PageArea>", document)
        if area is None:
            raise CorruptContainer(f"OFD {part}: no CommonData/PageArea")
        tag = f"<{p}PublicRes>AIGCRes.xml</{p}PublicRes>"
        return next_id, next_id + 1, document[: area.end()] + tag + document[area.end() :]
    res_part = resolve(folder, loc.group(1))
    res = decode_xml(read_member(pkg, res_part, "OFD"), f"OFD {res_part}")
    q = _prefix(res)
    own = re.search(rf'<{q}Font\b[^>]*\bID="(\d+)"[^>]*FontName="{FONT_NAME}"', res)
    if own:
        return int(own.group(1)), next_id, document
    font = font.replace(f"<{p}Font", f"<{q}Font")
    fonts = res.find(f"</{q}Fonts>")
    if fonts >= 0:
        res = res[:fonts] + font + res[fonts:]
    else:
        close = res.rfind(f"</{q}Res>")
        if close < 0:
            raise CorruptContainer(f"OFD {res_part}: no <{q}Res> element")
        res = res[:close] + f"<{q}Fonts>{font}</{q}Fonts>" + res[close:]
    parse_xml(res.encode("utf-8"), f"OFD {res_part}")
    replace[res_part] = res.encode("utf-8")
    return next_id, next_id + 1, document


def _pages(pkg: object, doc: str) -> list[str]:
    """Content parts of the first document's pages (DocRoot -> Pages/Page BaseLoc)."""
    document = _document_part(pkg, doc)
    tree = parse_xml(read_member(pkg, document, "OFD"), f"OFD {document}")  # type: ignore[arg-type]
    folder = document.rpartition("/")[0]
    pages = []
    for page in tree.iter():
        if page.tag.endswith("}Page") and page.get("BaseLoc"):
            pages.append(resolve(folder, page.get("BaseLoc").strip()))
            if len(pages) > 100_000:
                raise LimitExceeded("OFD: more than 100000 pages")
    return [p for p in pages if pkg.get(p) is not None]  # type: ignore[attr-defined]


def _page_text(pkg: object, part: str) -> str:
    tree = parse_xml(read_member(pkg, part, "OFD"), f"OFD {part}")  # type: ignore[arg-type]
    lines = []
    for obj in tree.iter():
        if obj.tag.endswith("}TextObject"):
            text = "".join(c.text or "" for c in obj.iter() if c.tag.endswith("}TextCode"))
            if text.strip():
                lines.append(text.strip())
    return "\n".join(lines)


CARRIER = register(OfdCarrier())
