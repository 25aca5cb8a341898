"""DOCX/XLSX/PPTX (OOXML packages): the label as custom property ``AIGC`` in docProps/custom.xml.

TC260-PG-20258A §6.1 puts the label into the custom-properties part::

    <property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="AIGC">
      <vt:lpwstr>{…label JSON…}</vt:lpwstr></property>

``write_label`` stores the JSON it is given verbatim. The custom part is found through the
package relationship (``_rels/.rels``, type ``…/relationships/custom-properties``); when the
package has none, ``docProps/custom.xml`` is created (or, when the package holds one that
nothing names, edited) and registered both in ``_rels/.rels`` and in ``[Content_Types].xml``
(an ``Override`` with the custom-properties content type). The relationship's target is
resolved (``./``, ``/``) and matched without case, as OPC part names are; a relationship to a
part that is missing is reported as a broken package, not as "no label". Other
custom properties are kept as written (the part is edited as text, not re-serialised); every
property whose name contains ``AIGC`` (any case, e.g. ``aigc_label``) is read as a label copy
and removed, so exactly one is left. aigc-tag's own properties are custom properties
``aigctag:<Name>``. The new property gets ``pid`` = the largest pid in the part + 1 (at least 2).

The ZIP is rewritten by hand (:mod:`aigc_tag.carriers._zip`): every member that is not edited
keeps its local header and its compressed bytes (plus any data descriptor) verbatim, in the
original order; edited parts are deflated anew with their original name and time stamp; a fresh
central directory follows (records rebuilt from the original fields, offsets fixed). Nothing is
ever extracted to disk.

Defences: at most :data:`MAX_ENTRIES` members, no duplicate, absolute or ``..`` names, declared
sizes bounded (:data:`MAX_TOTAL` in all, a compression ratio of at most :data:`MAX_RATIO` for
members over 1 MiB), parts that are parsed are read with a size cap, XML is parsed with
defusedxml (DTDs, entities and external references refused). Encrypted Office files (OLE
compound documents) and encrypted or ZIP64 archives are refused with UnsupportedFormat.

Sniffing: a ZIP whose first local file name is an OOXML part (``[Content_Types].xml``,
``_rels/.rels``, ``docProps/…``, ``word/…``, ``xl/…``, ``ppt/…``; openpyxl writes
``docProps/app.xml`` first) is claimed by the ``docx`` carrier; :func:`refine` looks inside and
returns the ``docx``, ``xlsx`` or ``pptx`` carrier.

The explicit label (``add_visible``): DOCX a paragraph at the start/end of the body; PPTX a text
box (shape named :data:`VISIBLE_NAME`) at the top (prefix) and/or bottom (suffix) of the first
slide, drawn over the other shapes; XLSX a note row under the first sheet's last used row (no
row is inserted above the data: that would move every cell reference and formula) plus the
label as the printed page header (prefix) and/or footer (suffix) when the sheet has no
header/footer of its own. Re-adding replaces an earlier label shape or note row.
"""

from __future__ import annotations

import re
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from html import escape as _escape
from html import unescape as _unescape

from ..errors import CorruptContainer, InvalidLabel, UnsupportedFormat
from ..visible.wording import resolve_text
from . import Found, _zip, found_from_value, guarded, register, registry
from ._zip import ZIP_MAGIC, Package, decode_xml, open_package, parse_xml, resolve, rewrite

__all__ = ["CARRIERS", "DOCX", "PPTX", "XLSX", "OoxmlCarrier", "read_member", "refine"]

OLE_MAGIC = _zip.OLE_MAGIC  # an encrypted Office file; named here for callers
# OOXML's own copies of the ZIP limits (see docs/security.md): set these to change them here.
MAX_ENTRIES = _zip.MAX_ENTRIES
MAX_TOTAL = _zip.MAX_TOTAL
MAX_RATIO = _zip.MAX_RATIO
MAX_PART = _zip.MAX_PART
FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"
CUSTOM_NS = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
VT_NS = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
CUSTOM_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties"
CUSTOM_CT = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
DEFAULT_PART = "docProps/custom.xml"
LABEL_NAME = "AIGC"
EXTRA_PREFIX = "aigctag:"
_OOXML_FIRST = (b"[Content_Types].xml", b"_rels/.rels", b"docProps/", b"word/", b"xl/", b"ppt/")
_VISIBLE_WINDOW = 2000


# --- ZIP reading and raw rewriting -------------------------------------------------------------


def _open(data: bytes, kind: str = "OOXML") -> Package:
    """The package with this module's ZIP limits (the documented knobs for OOXML)."""
    return open_package(
        data, kind, max_entries=MAX_ENTRIES, max_total=MAX_TOTAL, max_ratio=MAX_RATIO
    )


def read_member(pkg: Package, name: str, kind: str = "OOXML") -> bytes:
    """One member's bytes, inflated with a cap of :data:`MAX_PART`."""
    return _zip.read_member(pkg, name, kind, max_part=MAX_PART)


# --- package relationships and custom properties -------------------------------------------


def _rel_targets(pkg: Package, kind: str) -> dict[str, str]:
    """Package relationship type -> target part name (first of each type)."""
    if pkg.get("_rels/.rels") is None:
        raise CorruptContainer(f"{kind}: no package relationships part _rels/.rels")
    root = parse_xml(read_member(pkg, "_rels/.rels", kind), f"{kind} _rels/.rels")
    targets: dict[str, str] = {}
    for rel in root:
        rtype, target = rel.get("Type", ""), rel.get("Target", "")
        if rel.get("TargetMode", "") == "External" or not target:
            continue
        targets.setdefault(rtype, resolve("", target))  # "/x", "./x" and "x" name one part
    return targets


def _member(pkg: Package, name: str) -> zipfile.ZipInfo | None:
    """The member named ``name``, compared without case as OPC part names are."""
    exact = pkg.get(name)
    if exact is not None:
        return exact
    folded = name.casefold()
    return next((i for i in pkg.infos if i.filename.casefold() == folded), None)


@dataclass
class _Prop:
    name: str
    pid: int
    value: str
    start: int
    end: int


_PROPERTY = re.compile(
    r"<(?:[\w.-]+:)?property\b[^>]*?(?:/>|>.*?</(?:[\w.-]+:)?property\s*>)", re.S
)


def _props(text: str, where: str) -> list[_Prop]:
    """Custom properties of a custom.xml text, with their spans (parsed with defusedxml)."""
    root = parse_xml(text.encode("utf-8"), where)
    parsed = [e for e in root if e.tag.rsplit("}", 1)[-1] == "property"]
    spans = list(_PROPERTY.finditer(text))
    if len(spans) != len(parsed):
        raise CorruptContainer(f"{where}: property elements could not be located in the text")
    props = []
    for elem, m in zip(parsed, spans, strict=True):
        value = " ".join((c.text or "") for c in elem)
        try:
            pid = int(elem.get("pid", "0"))
        except ValueError:
            pid = 0
        props.append(_Prop(elem.get("name", ""), pid, value, m.start(), m.end()))
    return props


def _is_label(name: str) -> bool:
    return "AIGC" in name.upper() and not name.lower().startswith(EXTRA_PREFIX)


def _property(name: str, pid: int, value: str, prefix: str, vt: str, declare_vt: bool) -> str:
    decl = f' xmlns:{vt}="{VT_NS}"' if declare_vt else ""
    return (
        f'<{prefix}property fmtid="{FMTID}" pid="{pid}" name="{_escape(name)}"{decl}>'
        f"<{vt}:lpwstr>{_escape(value, quote=False)}</{vt}:lpwstr></{prefix}property>"
    )


def _new_custom(props: list[str]) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<Properties xmlns="{CUSTOM_NS}" xmlns:vt="{VT_NS}">{"".join(props)}</Properties>'
    )


def _add_override(ct: str, part: str) -> str:
    if re.search(rf'PartName\s*=\s*["\']/{re.escape(part)}["\']', ct, re.I):
        return ct
    override = f'<Override PartName="/{part}" ContentType="{CUSTOM_CT}"/>'
    head, sep, tail = ct.rpartition("</Types>")
    if not sep:
        raise CorruptContainer("OOXML [Content_Types].xml has no closing </Types>")
    return head + override + sep + tail


def _add_relationship(rels: str, part: str) -> str:
    ids = set(re.findall(r'\bId\s*=\s*["\']([^"\']+)["\']', rels))
    n = 1
    while f"rId{n}" in ids:
        n += 1
    rel = f'<Relationship Id="rId{n}" Type="{CUSTOM_REL}" Target="{part}"/>'
    head, sep, tail = rels.rpartition("</Relationships>")
    if not sep:
        raise CorruptContainer("OOXML _rels/.rels has no closing </Relationships>")
    return head + rel + sep + tail


# --- the carrier ---------------------------------------------------------------------------


class OoxmlCarrier:
    """One OOXML kind (docx, xlsx or pptx); metadata handling is the same for all three."""

    media_type = "text"
    can_write = True
    label_places = ("docProps/custom.xml property AIGC", "custom property named *AIGC*")

    def __init__(self, name: str, mime: str, extensions: tuple[str, ...], sniffs: bool) -> None:
        self.name = name
        self.mime = mime
        self.extensions = extensions
        self._sniffs = sniffs

    @property
    def _kind(self) -> str:
        return self.name.upper()

    def accept(self, head: bytes) -> bool:
        """ZIP whose first local file is an OOXML part; only the ``docx`` carrier claims it."""
        if not self._sniffs or not head.startswith(ZIP_MAGIC) or len(head) < 30:
            return False
        n = struct.unpack_from("<H", head, 26)[0]
        return head[30 : 30 + n].startswith(_OOXML_FIRST)

    def _custom(self, pkg: Package) -> tuple[str | None, str | None]:
        """(custom part name or None, its text or None): the part the package relationship
        names, found whatever the case of its name (OPC part names are case-insensitive)."""
        part = _rel_targets(pkg, self._kind).get(CUSTOM_REL)
        info = _member(pkg, part) if part is not None else None
        if info is None:
            return part, None
        where = f"{self._kind} {info.filename}"
        return info.filename, decode_xml(read_member(pkg, info.filename, self._kind), where)

    def _custom_to_read(self, pkg: Package) -> tuple[str | None, str | None]:
        """:meth:`_custom`, refusing a relationship to a part that is not there: the label part
        is unreadable, so a reader must not conclude there is no label."""
        part, text = self._custom(pkg)
        if part is not None and text is None:
            raise CorruptContainer(
                f"{self._kind}: _rels/.rels names the custom properties part {part!r}, "
                "which is not in the package"
            )
        return part, text

    @guarded
    def read_labels(self, data: bytes) -> list[Found]:
        pkg = _open(data, self._kind)
        part, text = self._custom_to_read(pkg)
        if text is None:
            return []
        found = []
        for prop in _props(text, f"{self._kind} {part}"):
            if _is_label(prop.name):
                found.append(
                    found_from_value(
                        prop.value,
                        carrier="ooxml-custom",
                        location=part,
                        key=prop.name,
                        form="element",
                        normative=prop.name == LABEL_NAME,
                    )
                )
        return found

    def read_xmp(self, data: bytes) -> bytes | None:
        return None

    @guarded
    def read_extras(self, data: bytes) -> dict[str, str]:
        pkg = _open(data, self._kind)
        part, text = self._custom_to_read(pkg)
        if text is None:
            return {}
        props = _props(text, f"{self._kind} {part}")
        n = len(EXTRA_PREFIX)
        return {p.name[n:]: p.value for p in props if p.name.lower().startswith(EXTRA_PREFIX)}

    @guarded
    def has_c2pa(self, data: bytes) -> bool:
        """A C2PA manifest store in the package (``_c2pa/`` parts or a ``.c2pa`` member)."""
        pkg = _open(data, self._kind)
        return any(
            n.lower().startswith("_c2pa/") or n.lower().endswith(".c2pa") for n in pkg.names()
        )

    @guarded
    def write_label(
        self, data: bytes, label_json: str, extra_xmp: dict[str, str] | None = None
    ) -> bytes:
        """One custom property ``AIGC``; see the module docstring."""
        pkg = _open(data, self._kind)
        extras = {EXTRA_PREFIX + k: v for k, v in (extra_xmp or {}).items()}
        part, text = self._custom(pkg)
        replace: dict[str, bytes] = {}
        add: dict[str, bytes] = {}
        register = text is None
        part = part or DEFAULT_PART
        stray = _member(pkg, part) if text is None else None
        if stray is not None:  # a custom part nothing points to: edit it in place and register
            part = stray.filename  # it (adding a second one made a ZIP with the entry twice)
            text = decode_xml(read_member(pkg, part, self._kind), f"{self._kind} {part}")
        if text is None:
            props = [_property(LABEL_NAME, 2, label_json, "", "vt", False)]
            props += [
                _property(k, 3 + i, v, "", "vt", False) for i, (k, v) in enumerate(extras.items())
            ]
            add[part] = _new_custom(props).encode("utf-8")
        else:
            replace[part] = self._merged(text, part, label_json, extras).encode("utf-8")
        if register:
            ct_name = "[Content_Types].xml"
            if pkg.get(ct_name) is None:
                raise CorruptContainer(f"{self._kind}: no [Content_Types].xml part")
            ct = decode_xml(read_member(pkg, ct_name, self._kind), f"{self._kind} {ct_name}")
            parse_xml(ct.encode(), f"{self._kind} {ct_name}")
            new_ct = _add_override(ct, part)
            if new_ct != ct:
                replace[ct_name] = new_ct.encode("utf-8")
            if CUSTOM_REL not in _rel_targets(pkg, self._kind):
                rels = decode_xml(read_member(pkg, "_rels/.rels", self._kind), "_rels/.rels")
                replace["_rels/.rels"] = _add_relationship(rels, part).encode("utf-8")
        out = rewrite(pkg, replace, add)
        if len(self.read_labels(out)) != 1:
            raise CorruptContainer(f"{self._kind}: the label did not read back once after writing")
        return out

    def _merged(self, text: str, part: str, label_json: str, extras: dict[str, str]) -> str:
        where = f"{self._kind} {part}"
        props = _props(text, where)
        root = re.search(r"<([\w.-]+:)?Properties\b[^>]*>", text)
        close = re.search(r"</([\w.-]+:)?Properties\s*>\s*$", text)
        if not root:
            raise CorruptContainer(f"{where}: no <Properties> root element")
        prefix = root.group(1) or ""
        vt_prefixes = re.findall(r'xmlns:([\w.-]+)\s*=\s*["\']' + re.escape(VT_NS), root.group(0))
        vt = vt_prefixes[0] if vt_prefixes else "vt"
        declare = not vt_prefixes
        pids = {p.name: p.pid for p in reversed(props) if p.pid >= 2}
        next_pid = max([p.pid for p in props] + [1]) + 1
        new = []
        for k, v in {LABEL_NAME: label_json, **extras}.items():
            pid = pids.get(k)
            if pid is None:  # re-tagging keeps the old pids, so the output is stable
                pid, next_pid = next_pid, next_pid + 1
            new.append(_property(k, pid, v, prefix, vt, declare))
        edits = [(p.start, p.end, "") for p in props if _is_label(p.name) or p.name in extras]
        primary = next((p for p in props if p.name == LABEL_NAME), None)
        if primary is not None:  # the new block takes the place of the old label
            edits = [(s, e, "".join(new) if s == primary.start else r) for s, e, r in edits]
        elif close:
            edits.append((close.start(), close.start(), "".join(new)))
        else:  # <Properties/> with no children
            empty = re.search(r"<([\w.-]+:)?Properties\b([^>]*)/>", text)
            if not empty:
                raise CorruptContainer(f"{where}: no closing </Properties>")
            opened = empty.group(0)[:-2].rstrip() + ">"
            edits.append(
                (empty.start(), empty.end(), opened + "".join(new) + f"</{prefix}Properties>")
            )
        for start, end, new_text in sorted(edits, reverse=True):
            text = text[:start] + new_text + text[end:]
        parse_xml(text.encode("utf-8"), where)
        return text

    # --- explicit label (DOCX body paragraphs) ---------------------------------------------

    @guarded
    def add_visible(self, data: bytes, text: str, where: str = "suffix") -> bytes:
        """The explicit label: DOCX body paragraphs, a PPTX text box, an XLSX note row and page
        header/footer (see :func:`_docx_visible`, :func:`_pptx_visible`, :func:`_xlsx_visible`)."""
        if where not in ("prefix", "suffix", "both"):
            raise InvalidLabel(f"where must be prefix, suffix or both, got {where!r}")
        label = resolve_text(text)
        pkg = _open(data, self._kind)
        edit = {"docx": _docx_visible, "pptx": _pptx_visible, "xlsx": _xlsx_visible}[self.name]
        return rewrite(pkg, edit(pkg, label, where), {})

    @guarded
    def read_visible(self, data: bytes) -> str:
        """What a reader sees first and last: DOCX paragraph texts; PPTX the first and last
        slides' text, top to bottom; XLSX the first sheet's page header, cell texts in row order
        and page footer."""
        pkg = _open(data, self._kind)
        lines = {"docx": _docx_lines, "pptx": _pptx_lines, "xlsx": _xlsx_lines}[self.name](pkg)
        joined = "\n".join(t for t in lines if t.strip())
        if len(joined) > 2 * _VISIBLE_WINDOW:
            joined = joined[:_VISIBLE_WINDOW] + "\n" + joined[-_VISIBLE_WINDOW:]
        return joined

    def reencode(self, data: bytes, draw: Callable) -> bytes:
        raise UnsupportedFormat(f"{self._kind} has no pixels to re-encode")


OFFICE_DOC_REL = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
)


def _main_document(pkg: Package, kind: str, folder: str = "word") -> str:
    part = _rel_targets(pkg, kind).get(OFFICE_DOC_REL, "")
    if not part.startswith(folder + "/") or pkg.get(part) is None:
        raise UnsupportedFormat(f"{kind}: the package's main part is {part or 'missing'}, "
                                f"not a {folder}/ part")  # fmt: skip
    return part


def _docx_visible(pkg: Package, label: str, where: str) -> dict[str, bytes]:
    """A paragraph at the start and/or end of the DOCX body (``word/document.xml``)."""
    part = _main_document(pkg, "DOCX")
    doc = decode_xml(read_member(pkg, part, "DOCX"), f"DOCX {part}")
    parse_xml(doc.encode("utf-8"), f"DOCX {part}")
    w = _w_prefix(doc)
    para = (
        f'<{w}p><{w}r><{w}t xml:space="preserve">{_escape(label, quote=False)}</{w}t></{w}r></{w}p>'
    )
    body = re.search(rf"<{w}body\b[^>]*>", doc)
    end = doc.rfind(f"</{w}body>")
    if not body or end < 0:
        raise CorruptContainer(f"DOCX {part}: no <{w}body> element")
    texts = _paragraph_texts(doc)
    edits = []
    if where in ("prefix", "both") and (not texts or texts[0] != label):
        edits.append((body.end(), para))
    if where in ("suffix", "both") and (not texts or texts[-1] != label):
        sect = doc.rfind(f"<{w}sectPr", 0, end)
        last_block = max(doc.rfind(f"</{w}p>", 0, end), doc.rfind(f"</{w}tbl>", 0, end))
        at = sect if sect > last_block else end
        edits.append((at, para))
    for at, new in sorted(edits, reverse=True):
        doc = doc[:at] + new + doc[at:]
    return {part: doc.encode("utf-8")}


def _docx_lines(pkg: Package) -> list[str]:
    part = _main_document(pkg, "DOCX")
    doc = decode_xml(read_member(pkg, part, "DOCX"), f"DOCX {part}")
    parse_xml(doc.encode("utf-8"), f"DOCX {part}")
    return _paragraph_texts(doc)


def _w_prefix(doc: str) -> str:
    m = re.search(r'xmlns:([\w.-]+)\s*=\s*["\']' + re.escape(W_NS) + "[\"']", doc)
    return f"{m.group(1)}:" if m else "w:"


def _paragraph_texts(doc: str) -> list[str]:
    """The text of each ``w:p`` (runs joined), in document order."""
    w = _w_prefix(doc)
    out = []
    for m in re.finditer(rf"<{w}p\b[^>]*?(?:/>|>.*?</{w}p>)", doc, re.S):
        runs = re.findall(rf"<{w}t\b[^>]*>([^<]*)</{w}t>", m.group(0))
        out.append(_unescape("".join(runs)))
    return out


# --- explicit label in PPTX and XLSX ------------------------------------------------------

P_NS = "http://schemas.openxmlformats.org/presentationml/2006/main"
A_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
S_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
#: The name of the PPTX text box that carries the explicit label.
VISIBLE_NAME = "AIGC label"
_EMU_DEFAULT = (9144000, 6858000)  # 10 x 7.5 in, PowerPoint's 4:3 default slide


def _prefix(doc: str, ns: str) -> str | None:
    """``"x:"`` for a prefix bound to ``ns`` in ``doc``, ``""`` for the default namespace."""
    m = re.search(r'xmlns:([\w.-]+)\s*=\s*["\']' + re.escape(ns) + "[\"']", doc)
    if m:
        return f"{m.group(1)}:"
    return "" if re.search(r'xmlns\s*=\s*["\']' + re.escape(ns) + "[\"']", doc) else None


def _part_targets(pkg: Package, part: str, kind: str) -> dict[str, str]:
    """Relationship id -> part name for the relationships of ``part``."""
    folder, _, base = part.rpartition("/")
    rels = f"{folder}/_rels/{base}.rels" if folder else f"_rels/{base}.rels"
    if pkg.get(rels) is None:
        raise CorruptContainer(f"{kind}: {part} has no relationships part {rels}")
    out = {}
    for rel in parse_xml(read_member(pkg, rels, kind), f"{kind} {rels}"):
        target = rel.get("Target", "")
        if rel.get("TargetMode", "") == "External" or not target:
            continue
        out[rel.get("Id", "")] = resolve(folder, target)
    return out


def _first_child_part(pkg: Package, kind: str, folder: str, tag: str) -> tuple[str, str]:
    """(main part, first listed child part): the first slide (``sldId``) or sheet (``sheet``)."""
    main = _main_document(pkg, kind, folder)
    root = parse_xml(read_member(pkg, main, kind), f"{kind} {main}")
    rid = next((e.get(f"{{{R_NS}}}id") for e in root.iter() if e.tag.endswith("}" + tag)), None)
    if rid is None:
        raise UnsupportedFormat(f"{kind}: {main} lists no {tag}: nowhere to put a visible label")
    child = _part_targets(pkg, main, kind).get(rid)
    if child is None or pkg.get(child) is None:
        raise CorruptContainer(f"{kind}: {main} names {rid}, which is not a part of the package")
    return main, child


def _slide_size(pkg: Package, main: str) -> tuple[int, int]:
    root = parse_xml(read_member(pkg, main, "PPTX"), f"PPTX {main}")
    size = next((e for e in root.iter() if e.tag == f"{{{P_NS}}}sldSz"), None)
    try:
        return (int(size.get("cx")), int(size.get("cy"))) if size is not None else _EMU_DEFAULT
    except (TypeError, ValueError):
        return _EMU_DEFAULT


_OWN_SHAPE = re.compile(
    r"<((?:[\w.-]+:)?)sp\b[^>]*>(?:(?!</\1sp>).)*?name=\""
    + re.escape(VISIBLE_NAME)
    + r"\".*?</\1sp>",
    re.S,
)


def _pptx_visible(pkg: Package, label: str, where: str) -> dict[str, bytes]:
    """Text boxes on the first slide: 3 % in from the top (prefix) / bottom (suffix) edge."""
    main, part = _first_child_part(pkg, "PPTX", "ppt", "sldId")
    doc = decode_xml(read_member(pkg, part, "PPTX"), f"PPTX {part}")
    parse_xml(doc.encode("utf-8"), f"PPTX {part}")
    p = _prefix(doc, P_NS)
    if p is None:
        raise CorruptContainer(f"PPTX {part}: not a PresentationML slide")
    doc = _OWN_SHAPE.sub("", doc)  # re-tagging replaces our earlier boxes
    close = doc.rfind(f"</{p}spTree>")
    if close < 0:
        raise CorruptContainer(f"PPTX {part}: no <{p}spTree> shape tree")
    cx, cy = _slide_size(pkg, main)
    ids = [int(i) for i in re.findall(r"<(?:[\w.-]+:)?cNvPr\b[^>]*?\bid=\"(\d+)\"", doc)]
    next_id = max(ids, default=1) + 1
    height = max(cy // 12, 300000)
    tops = {"prefix": [cy * 3 // 100], "suffix": [cy - height - cy * 3 // 100]}
    tops["both"] = tops["prefix"] + tops["suffix"]
    boxes = [_text_box(p, next_id + i, cx, top, height, label) for i, top in enumerate(tops[where])]
    doc = doc[:close] + "".join(boxes) + doc[close:]
    parse_xml(doc.encode("utf-8"), f"PPTX {part}")
    return {part: doc.encode("utf-8")}


def _text_box(p: str, shape_id: int, cx: int, top: int, height: int, label: str) -> str:
    """A PresentationML text box in the slide's own ``p`` prefix, DrawingML declared on it."""
    left, width = cx * 3 // 100, cx * 94 // 100
    text = _escape(label, quote=False)
    return (
        f'<{p}sp xmlns:a="{A_NS}"><{p}nvSpPr><{p}cNvPr id="{shape_id}" name="{VISIBLE_NAME}"/>'
        f'<{p}cNvSpPr txBox="1"/><{p}nvPr/></{p}nvSpPr><{p}spPr><a:xfrm>'
        f'<a:off x="{left}" y="{top}"/><a:ext cx="{width}" cy="{height}"/></a:xfrm>'
        f'<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></{p}spPr><{p}txBody>'
        f'<a:bodyPr wrap="square" anchor="ctr"><a:normAutofit/></a:bodyPr><a:lstStyle/><a:p>'
        f'<a:r><a:rPr lang="zh-CN" sz="1800"/><a:t>{text}</a:t></a:r></a:p></{p}txBody></{p}sp>'
    )


def _pptx_lines(pkg: Package) -> list[str]:
    """Paragraph texts of the first slide, shapes ordered top to bottom (placeholders without a
    position of their own count as the middle of the slide)."""
    main, part = _first_child_part(pkg, "PPTX", "ppt", "sldId")
    cy = _slide_size(pkg, main)[1]
    root = parse_xml(read_member(pkg, part, "PPTX"), f"PPTX {part}")
    shapes = []
    for n, sp in enumerate(e for e in root.iter() if e.tag == f"{{{P_NS}}}sp"):
        off = next((e for e in sp.iter() if e.tag == f"{{{A_NS}}}off"), None)
        try:
            top = int(off.get("y")) if off is not None else cy // 2
        except (TypeError, ValueError):
            top = cy // 2
        paras = [
            "".join(t.text or "" for t in para.iter() if t.tag == f"{{{A_NS}}}t")
            for para in sp.iter()
            if para.tag == f"{{{A_NS}}}p"
        ]
        shapes.append((top, n, paras))
    return [line for _t, _n, paras in sorted(shapes) for line in paras]


_HF_AFTER = ("rowBreaks", "colBreaks", "customProperties", "cellWatches", "ignoredErrors",
             "smartTags", "drawing", "legacyDrawing", "legacyDrawingHF", "drawingHF", "picture",
             "oleObjects", "controls", "webPublishItems", "tableParts", "extLst")  # fmt: skip
_NOTE_ROW = re.compile(
    r"<((?:[\w.-]+:)?)row\b[^>]*>\s*<\1c\b[^>]*\bt=\"inlineStr\"[^>]*>\s*<\1is>\s*<\1t\b[^>]*>"
    r"([^<]*)</\1t>\s*</\1is>\s*</\1c>\s*</\1row>"
)


def _drop_note_rows(doc: str) -> str:
    """Rows holding nothing but one inline label line: an earlier run's note row."""
    from ..text.explicit import is_label_line

    return _NOTE_ROW.sub(lambda m: "" if is_label_line(_unescape(m.group(2))) else m.group(0), doc)


def _xlsx_visible(pkg: Package, label: str, where: str) -> dict[str, bytes]:
    """A note row two rows under the first sheet's last used row; the page header/footer."""
    _main, part = _first_child_part(pkg, "XLSX", "xl", "sheet")
    doc = decode_xml(read_member(pkg, part, "XLSX"), f"XLSX {part}")
    parse_xml(doc.encode("utf-8"), f"XLSX {part}")
    x = _prefix(doc, S_NS)
    if x is None:
        raise CorruptContainer(f"XLSX {part}: not a SpreadsheetML worksheet")
    doc = _drop_note_rows(doc)
    rows = [int(r) for r in re.findall(rf"<{x}row\b[^>]*?\br=\"(\d+)\"", doc)]
    n = max(rows, default=0) + 2 if rows else 1
    text = _escape(label, quote=False)
    row = (f'<{x}row r="{n}"><{x}c r="A{n}" t="inlineStr"><{x}is><{x}t>{text}</{x}t></{x}is>'
           f"</{x}c></{x}row>")  # fmt: skip
    empty = re.search(rf"<{x}sheetData\s*/>", doc)
    if empty:
        doc = doc[: empty.start()] + f"<{x}sheetData>{row}</{x}sheetData>" + doc[empty.end() :]
    else:
        close = doc.find(f"</{x}sheetData>")
        if close < 0:
            raise CorruptContainer(f"XLSX {part}: no <{x}sheetData> element")
        doc = doc[:close] + row + doc[close:]
    doc = _with_header_footer(doc, x, label.replace("&", "&&"), where)
    parse_xml(doc.encode("utf-8"), f"XLSX {part}")
    return {part: doc.encode("utf-8")}


def _with_header_footer(doc: str, x: str, label: str, where: str) -> str:
    """The label centred in the page header (prefix) and/or footer (suffix), unless the sheet
    already has a ``headerFooter`` (the user's own is kept as it is)."""
    if re.search(rf"<{x}headerFooter\b", doc):
        return doc
    text = _escape("&C" + label, quote=False)
    parts = []
    if where in ("prefix", "both"):
        parts.append(f"<{x}oddHeader>{text}</{x}oddHeader>")
    if where in ("suffix", "both"):
        parts.append(f"<{x}oddFooter>{text}</{x}oddFooter>")
    block = f"<{x}headerFooter>{''.join(parts)}</{x}headerFooter>"
    # CT_Worksheet is a sequence: headerFooter goes before the first of these that is present.
    spots = [m.start() for t in _HF_AFTER if (m := re.search(rf"<{x}{t}\b", doc))]
    at = min(spots, default=doc.rfind(f"</{x}worksheet>"))
    if at < 0:
        raise CorruptContainer("XLSX worksheet: no closing </worksheet>")
    return doc[:at] + block + doc[at:]


def _xlsx_lines(pkg: Package) -> list[str]:
    """The first sheet as a reader meets it: page header, cell texts row by row, footer."""
    _main, part = _first_child_part(pkg, "XLSX", "xl", "sheet")
    root = parse_xml(read_member(pkg, part, "XLSX"), f"XLSX {part}")
    shared = _shared_strings(pkg)
    q = f"{{{S_NS}}}"
    header = [e.text or "" for e in root.iter() if e.tag == q + "oddHeader"]
    footer = [e.text or "" for e in root.iter() if e.tag == q + "oddFooter"]
    cells = []
    for c in root.iter(q + "c"):
        if c.get("t") == "inlineStr":
            cells.append("".join(t.text or "" for t in c.iter(q + "t")))
        elif c.get("t") == "s":
            v = c.find(q + "v")
            if v is not None and (v.text or "").strip().isdigit() and int(v.text) < len(shared):
                cells.append(shared[int(v.text)])
    codes = re.compile(r"&(?:[LCRPNDTZFAGBIUESOH]|\d+|\"[^\"]*\")")
    return [codes.sub("", h) for h in header] + cells + [codes.sub("", f) for f in footer]


def _shared_strings(pkg: Package) -> list[str]:
    part = next((n for n in pkg.names() if n.lower() == "xl/sharedstrings.xml"), None)
    if part is None:
        return []
    root = parse_xml(read_member(pkg, part, "XLSX"), f"XLSX {part}")
    q = f"{{{S_NS}}}"
    return ["".join(t.text or "" for t in si.iter(q + "t")) for si in root.iter(q + "si")]


# --- registration and refinement -----------------------------------------------------------

_M = "application/vnd.openxmlformats-officedocument."
DOCX = register(
    OoxmlCarrier("docx", _M + "wordprocessingml.document", (".docx", ".docm", ".dotx"), True)
)
XLSX = register(
    OoxmlCarrier("xlsx", _M + "spreadsheetml.sheet", (".xlsx", ".xlsm", ".xltx"), False)
)
PPTX = register(
    OoxmlCarrier("pptx", _M + "presentationml.presentation", (".pptx", ".pptm", ".potx"), False)
)
CARRIERS = {"docx": DOCX, "xlsx": XLSX, "pptx": PPTX}


def refine(data: bytes) -> OoxmlCarrier:
    """The docx/xlsx/pptx carrier for an OOXML package, from its main part's folder (the
    package relationship's officeDocument target, else the first of word/, xl/, ppt/ present);
    the EPUB carrier for a ZIP with ``META-INF/container.xml``.

    Raises UnsupportedFormat for a ZIP that is not an OOXML package.
    """
    pkg = _open(data, "ZIP")
    try:
        target = _rel_targets(pkg, "OOXML").get(OFFICE_DOC_REL, "")
    except CorruptContainer:
        target = ""
    folder = target.split("/", 1)[0] if "/" in target else ""
    if not folder:
        names = pkg.names()
        folder = next(
            (f for f in ("word", "xl", "ppt") if any(n.startswith(f + "/") for n in names)), ""
        )
    kind = {"word": DOCX, "xl": XLSX, "ppt": PPTX}.get(folder)
    if kind is None and "META-INF/container.xml" in pkg.names():
        return registry()["epub"]  # type: ignore[return-value]  # by name: no import of epub
    if kind is None:
        raise UnsupportedFormat("ZIP is not a DOCX, XLSX or PPTX package (no word/, xl/ or ppt/)")
    return kind
