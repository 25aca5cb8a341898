"""DOCX/XLSX/PPTX (OOXML packages): the label as custom property ``AIGC`` in docProps/custom.xml.

TC260-PG-20258A §6.1 puts the label into the custom-properties part::

    <property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="AIGC">
      <vt:lpwstr>{…label JSON…}</vt:lpwstr></property>

``write_label`` stores the JSON it is given verbatim. The custom part is found through the
package relationship (``_rels/.rels``, type ``…/relationships/custom-properties``); when the
package has none, ``docProps/custom.xml`` is created and registered both in ``_rels/.rels``
and in ``[Content_Types].xml`` (an ``Override`` with the custom-properties content type). Other
custom properties are kept as written (the part is edited as text, not re-serialised); every
property whose name contains ``AIGC`` (any case, e.g. ``aigc_label``) is read as a label copy
and removed, so exactly one is left. aigc-tag's own properties are custom properties
``aigctag:<Name>``. The new property gets ``pid`` = the largest pid in the part + 1 (at least 2).

The ZIP is rewritten by hand: every member that is not edited keeps its local header and its
compressed bytes (plus any data descriptor) verbatim, in the original order; edited parts are
deflated anew with their original name and time stamp; a fresh central directory follows
(records rebuilt from the original fields, offsets fixed). Nothing is ever extracted to disk.

Defences: at most :data:`MAX_ENTRIES` members, no duplicate, absolute or ``..`` names, declared
sizes bounded (:data:`MAX_TOTAL` in all, a compression ratio of at most :data:`MAX_RATIO` for
members over 1 MiB), parts that are parsed are read with a size cap, XML is parsed with
defusedxml (DTDs, entities and external references refused). Encrypted Office files (OLE
compound documents) and encrypted or ZIP64 archives are refused with UnsupportedFormat.

Sniffing: a ZIP whose first local file name is an OOXML part (``[Content_Types].xml``,
``_rels/.rels``, ``docProps/…``, ``word/…``, ``xl/…``, ``ppt/…``; openpyxl writes
``docProps/app.xml`` first) is claimed by the ``docx`` carrier; :func:`refine` looks inside and
returns the ``docx``, ``xlsx`` or ``pptx`` carrier. The explicit label (``add_visible``) is a
paragraph at the start/end of the DOCX body; XLSX and PPTX get metadata only.
"""

from __future__ import annotations

import io
import re
import struct
import time
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from html import escape as _escape
from html import unescape as _unescape

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from ..errors import CorruptContainer, InvalidLabel, LimitExceeded, UnsupportedFormat
from ..visible.wording import resolve_text
from . import Found, found_from_value, guarded, register

__all__ = ["CARRIERS", "DOCX", "PPTX", "XLSX", "OoxmlCarrier", "read_member", "refine"]

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_ENTRIES = 10_000
MAX_TOTAL = 1 << 30
MAX_RATIO = 1000
MAX_PART = 64 * 1024 * 1024
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


@dataclass
class _Package:
    data: bytes
    infos: list[zipfile.ZipInfo]  # in local-header order
    zf: zipfile.ZipFile
    cd_start: int
    comment: bytes

    def names(self) -> set[str]:
        return {i.filename for i in self.infos}

    def get(self, name: str) -> zipfile.ZipInfo | None:
        return next((i for i in self.infos if i.filename == name), None)


def _open(data: bytes, kind: str = "OOXML") -> _Package:
    if data.startswith(OLE_MAGIC):
        raise UnsupportedFormat(
            f"{kind}: this is an OLE compound file (an encrypted/password-protected Office "
            "document or a legacy .doc/.xls/.ppt); remove the password or convert it first"
        )
    if not data.startswith(ZIP_MAGIC):
        raise UnsupportedFormat(f"{kind}: not a ZIP package (no local file header at offset 0)")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except zipfile.BadZipFile as exc:
        raise CorruptContainer(f"{kind}: broken ZIP structure ({exc})") from None
    except (ValueError, NotImplementedError, EOFError) as exc:
        raise CorruptContainer(f"{kind}: unreadable ZIP central directory ({exc})") from None
    if len(infos) > MAX_ENTRIES:
        raise LimitExceeded(f"{kind}: ZIP has {len(infos)} entries, more than {MAX_ENTRIES}")
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        if name in seen:
            raise CorruptContainer(f"{kind}: ZIP entry {name!r} appears twice")
        seen.add(name)
        if name.startswith(("/", "\\")) or ".." in re.split(r"[/\\]", name) or ":" in name:
            raise CorruptContainer(f"{kind}: ZIP entry name {name!r} is not a package part name")
        if info.flag_bits & 0x1:
            raise UnsupportedFormat(f"{kind}: ZIP entry {name!r} is encrypted")
        if info.file_size > 0xFFFFFFFF or info.header_offset > 0xFFFFFFFF:
            raise UnsupportedFormat(f"{kind}: ZIP64 packages are not supported")
        total += info.file_size
        if total > MAX_TOTAL:
            raise LimitExceeded(f"{kind}: ZIP declares more than {MAX_TOTAL} uncompressed bytes")
        if info.file_size > 1 << 20 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise LimitExceeded(
                f"{kind}: ZIP entry {name!r} declares {info.file_size} bytes from "
                f"{info.compress_size} (ratio over {MAX_RATIO}: a zip bomb?)"
            )
    infos.sort(key=lambda i: i.header_offset)
    if not infos or infos[0].header_offset != 0:
        raise CorruptContainer(f"{kind}: ZIP has bytes before its first entry or no entries")
    cd_start = zf.start_dir
    for a, b in zip(infos, [*infos[1:], None], strict=True):
        end = b.header_offset if b else cd_start
        if data[a.header_offset : a.header_offset + 4] != ZIP_MAGIC or end > len(data):
            raise CorruptContainer(f"{kind}: ZIP local header of {a.filename!r} is missing")
        if a.header_offset + 30 + a.compress_size > end:
            raise CorruptContainer(f"{kind}: ZIP entry {a.filename!r} overlaps the next one")
    return _Package(data, infos, zf, cd_start, zf.comment)


def read_member(pkg: _Package, name: str, kind: str = "OOXML") -> bytes:
    """One member's bytes, inflated with a size cap."""
    info = pkg.get(name)
    if info is None:
        raise CorruptContainer(f"{kind}: part {name!r} is missing")
    if info.file_size > MAX_PART:
        raise LimitExceeded(f"{kind}: part {name!r} is {info.file_size} bytes, over {MAX_PART}")
    try:
        with pkg.zf.open(info) as fh:
            out = fh.read(MAX_PART + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError) as exc:
        raise CorruptContainer(f"{kind}: part {name!r} does not decompress ({exc})") from None
    if len(out) > MAX_PART:
        raise LimitExceeded(f"{kind}: part {name!r} inflates beyond {MAX_PART} bytes")
    return out


def _xml(raw: bytes, where: str):
    try:
        return SafeET.fromstring(raw)
    except DefusedXmlException as exc:
        raise CorruptContainer(f"{where}: DTD/entity declarations refused ({exc})") from None
    except SafeET.ParseError as exc:
        raise CorruptContainer(f"{where}: malformed XML ({exc})") from None


def _local(name: str, info: zipfile.ZipInfo | None, body: bytes) -> tuple[bytes, dict]:
    """A fresh deflated local record for ``body``; returns (bytes, fields for the CD record)."""
    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    packed = comp.compress(body) + comp.flush()
    dt = info.date_time if info else time.localtime()[:6]
    dos_time = (dt[3] << 11) | (dt[4] << 5) | (dt[5] // 2)
    dos_date = max(dt[0] - 1980, 0) << 9 | (dt[1] << 5) | dt[2]
    fname = name.encode("utf-8")
    flags = 0x800 if not name.isascii() else 0
    crc = zlib.crc32(body) & 0xFFFFFFFF
    head = struct.pack(
        "<4sHHHHHIIIHH", ZIP_MAGIC, 20, flags, 8, dos_time, dos_date, crc,
        len(packed), len(body), len(fname), 0,
    )  # fmt: skip
    fields = {
        "flags": flags, "method": 8, "time": dos_time, "date": dos_date, "crc": crc,
        "csize": len(packed), "usize": len(body), "name": fname, "extra": b"", "comment": b"",
        "made": 20, "need": 20, "iattr": 0, "eattr": info.external_attr if info else 0o644 << 16,
    }  # fmt: skip
    return head + fname + packed, fields


def _cd_fields(info: zipfile.ZipInfo) -> dict:
    dt = info.date_time
    return {
        "flags": info.flag_bits, "method": info.compress_type,
        "time": (dt[3] << 11) | (dt[4] << 5) | (dt[5] // 2),
        "date": max(dt[0] - 1980, 0) << 9 | (dt[1] << 5) | dt[2],
        "crc": info.CRC, "csize": info.compress_size, "usize": info.file_size,
        "name": info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437"),
        "extra": info.extra, "comment": info.comment,
        "made": info.create_version | (info.create_system << 8), "need": info.extract_version,
        "iattr": info.internal_attr, "eattr": info.external_attr,
    }  # fmt: skip


def _rewrite(pkg: _Package, replace: dict[str, bytes], add: dict[str, bytes]) -> bytes:
    """The package with ``replace`` members re-deflated in place and ``add`` appended."""
    out = io.BytesIO()
    records: list[tuple[int, dict]] = []
    for i, info in enumerate(pkg.infos):
        offset = out.tell()
        if info.filename in replace:
            raw, fields = _local(info.filename, info, replace[info.filename])
        else:
            end = pkg.infos[i + 1].header_offset if i + 1 < len(pkg.infos) else pkg.cd_start
            raw, fields = pkg.data[info.header_offset : end], _cd_fields(info)
        out.write(raw)
        records.append((offset, fields))
    for name, body in add.items():
        offset = out.tell()
        raw, fields = _local(name, None, body)
        out.write(raw)
        records.append((offset, fields))
    cd_start = out.tell()
    for offset, f in records:
        out.write(
            struct.pack(
                "<4sHHHHHHIIIHHHHHII",
                b"PK\x01\x02",
                f["made"],
                f["need"],
                f["flags"],
                f["method"],
                f["time"],
                f["date"],
                f["crc"],
                f["csize"],
                f["usize"],
                len(f["name"]),
                len(f["extra"]),
                len(f["comment"]),
                0,
                f["iattr"],
                f["eattr"],
                offset,
            )  # fmt: skip
            + f["name"]
            + f["extra"]
            + f["comment"]
        )
    cd_size = out.tell() - cd_start
    n = len(records)
    comment = pkg.comment[:0xFFFF]
    out.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, n, n, cd_size, cd_start, len(comment)))
    out.write(comment)
    return out.getvalue()


# --- package relationships and custom properties -------------------------------------------


def _rel_targets(pkg: _Package, kind: str) -> dict[str, str]:
    """Package relationship type -> target part name (first of each type)."""
    if pkg.get("_rels/.rels") is None:
        raise CorruptContainer(f"{kind}: no package relationships part _rels/.rels")
    root = _xml(read_member(pkg, "_rels/.rels", kind), f"{kind} _rels/.rels")
    targets: dict[str, str] = {}
    for rel in root:
        rtype, target = rel.get("Type", ""), rel.get("Target", "")
        if rel.get("TargetMode", "") == "External" or not target:
            continue
        targets.setdefault(rtype, target.lstrip("/"))
    return targets


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
    root = _xml(text.encode("utf-8"), where)
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


def _decode_xml(raw: bytes, where: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnsupportedFormat(f"{where}: only UTF-8 XML parts are edited") from None


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

    def _custom(self, pkg: _Package) -> tuple[str | None, str | None]:
        """(custom part name or None, its text or None)."""
        part = _rel_targets(pkg, self._kind).get(CUSTOM_REL)
        if part is None or pkg.get(part) is None:
            return part, None
        where = f"{self._kind} {part}"
        return part, _decode_xml(read_member(pkg, part, self._kind), where)

    @guarded
    def read_labels(self, data: bytes) -> list[Found]:
        pkg = _open(data, self._kind)
        part, text = self._custom(pkg)
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
        part, text = self._custom(pkg)
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
        if text is None:
            part = part or DEFAULT_PART
            props = [_property(LABEL_NAME, 2, label_json, "", "vt", False)]
            props += [
                _property(k, 3 + i, v, "", "vt", False) for i, (k, v) in enumerate(extras.items())
            ]
            add[part] = _new_custom(props).encode("utf-8")
            ct_name = "[Content_Types].xml"
            if pkg.get(ct_name) is None:
                raise CorruptContainer(f"{self._kind}: no [Content_Types].xml part")
            ct = _decode_xml(read_member(pkg, ct_name, self._kind), f"{self._kind} {ct_name}")
            _xml(ct.encode(), f"{self._kind} {ct_name}")
            new_ct = _add_override(ct, part)
            if new_ct != ct:
                replace[ct_name] = new_ct.encode("utf-8")
            if CUSTOM_REL not in _rel_targets(pkg, self._kind):
                rels = _decode_xml(read_member(pkg, "_rels/.rels", self._kind), "_rels/.rels")
                replace["_rels/.rels"] = _add_relationship(rels, part).encode("utf-8")
        else:
            replace[part] = self._merged(text, part, label_json, extras).encode("utf-8")
        out = _rewrite(pkg, replace, add)
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
        _xml(text.encode("utf-8"), where)
        return text

    # --- explicit label (DOCX body paragraphs) ---------------------------------------------

    @guarded
    def add_visible(self, data: bytes, text: str, where: str = "suffix") -> bytes:
        """A paragraph at the start and/or end of the DOCX body (``word/document.xml``)."""
        if where not in ("prefix", "suffix", "both"):
            raise InvalidLabel(f"where must be prefix, suffix or both, got {where!r}")
        label = resolve_text(text)
        pkg = _open(data, self._kind)
        part = _main_document(pkg, self._kind)
        doc = _decode_xml(read_member(pkg, part, "DOCX"), f"DOCX {part}")
        _xml(doc.encode("utf-8"), f"DOCX {part}")
        w = _w_prefix(doc)
        para = (
            f'<{w}p><{w}r><{w}t xml:space="preserve">{_escape(label, quote=False)}</{w}t>'
            f"</{w}r></{w}p>"
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
        return _rewrite(pkg, {part: doc.encode("utf-8")}, {})

    @guarded
    def read_visible(self, data: bytes) -> str:
        """DOCX: paragraph texts at the start and end of the body; XLSX/PPTX: ''."""
        pkg = _open(data, self._kind)
        if self.name != "docx":
            return ""
        part = _main_document(pkg, self._kind)
        doc = _decode_xml(read_member(pkg, part, "DOCX"), f"DOCX {part}")
        _xml(doc.encode("utf-8"), f"DOCX {part}")
        joined = "\n".join(t for t in _paragraph_texts(doc) if t.strip())
        if len(joined) > 2 * _VISIBLE_WINDOW:
            joined = joined[:_VISIBLE_WINDOW] + "\n" + joined[-_VISIBLE_WINDOW:]
        return joined

    def reencode(self, data: bytes, draw: Callable) -> bytes:
        raise UnsupportedFormat(f"{self._kind} has no pixels to re-encode")


OFFICE_DOC_REL = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
)


def _main_document(pkg: _Package, kind: str) -> str:
    part = _rel_targets(pkg, kind).get(OFFICE_DOC_REL, "")
    if not part.startswith("word/") or pkg.get(part) is None:
        raise UnsupportedFormat(
            f"{kind}: a visible label is only written into DOCX bodies; this package's main part "
            f"is {part or 'missing'} (XLSX/PPTX carry the metadata label only)"
        )
    return part


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
        from .epub import CARRIER as EPUB

        return EPUB  # type: ignore[return-value]
    if kind is None:
        raise UnsupportedFormat("ZIP is not a DOCX, XLSX or PPTX package (no word/, xl/ or ppt/)")
    return kind
