"""XMP packets: find the TC260 label in them and merge ours in without dropping anything else.

Reading parses the packet with defusedxml (no entities, no external references) and walks every
element and attribute, so both the element form ``<TC260:AIGC>{...}</TC260:AIGC>`` and the
attribute form ``TC260:AIGC="{...}"`` are found under whatever prefix the file binds the namespace
to. Writing edits the packet text: it removes earlier label copies and adds one
``rdf:Description`` with our properties, leaving every other property byte-for-byte as it was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape as _html_escape

from defusedxml import ElementTree as SafeET

from .errors import LimitExceeded

TC260_NS = "http://www.tc260.org.cn/ns/AIGC/1.0/"
IPTC_EXT_NS = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
DST_AI = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
DST_BASE = "http://cv.iptc.org/newscodes/digitalsourcetype/"
AI_SOURCE_TYPES = {
    "trainedAlgorithmicMedia",
    "compositeWithTrainedAlgorithmicMedia",
    "compositeSynthetic",
    "trainedAlgorithmicData",
}
#: aigc-tag's own properties (e.g. ``aigctag:Caption``, the geometry of the caption it drew).
#: A URN, so the namespace claims no web domain.
AIGCTAG_NS = "urn:aigc-tag:xmp:1.0#"
MAX_XMP_BYTES = 16 * 1024 * 1024

_PACKET_START = '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
_PACKET_END = '<?xpacket end="w"?>'


@dataclass(frozen=True)
class XmpProperty:
    """One label-like property found in a packet."""

    qname: str  # as written in the file, e.g. "TC260:AIGC"
    namespace: str
    form: str  # "element" or "attribute"
    value: str


def escape(text: str) -> str:
    """XML character data: escape &, < and > (quotes stay readable, as in real files)."""
    return _html_escape(text, quote=False)


def _text(xmp: bytes | str) -> str:
    if isinstance(xmp, str):
        return xmp
    if len(xmp) > MAX_XMP_BYTES:
        raise LimitExceeded(f"XMP packet of {len(xmp)} bytes exceeds {MAX_XMP_BYTES}")
    for enc in ("utf-8", "utf-16"):
        try:
            return xmp.decode(enc).lstrip("\ufeff")
        except UnicodeDecodeError:
            continue
    return xmp.decode("latin-1")


def _xml_body(text: str) -> str:
    """The part of a packet an XML parser accepts (processing instructions are fine)."""
    start = text.find("<")
    return text[start:].rstrip("\x00 \r\n\t") if start >= 0 else ""


def _prefixes_for(text: str, namespace: str) -> set[str]:
    return set(re.findall(r'xmlns:([\w.-]+)\s*=\s*["\']' + re.escape(namespace) + "[\"']", text))


def find_label_properties(xmp: bytes | str) -> list[XmpProperty]:
    """Every property whose local name contains ``AIGC``, in element or attribute form."""
    text = _text(xmp)
    try:
        root = SafeET.fromstring(_xml_body(text))
    except Exception:  # malformed packet: fall back to a textual scan
        return _scan_label_properties(text)
    tc260_prefixes = _prefixes_for(text, TC260_NS) or {"TC260"}
    found = []
    for elem in root.iter():
        ns, local = _split(elem.tag)
        if "AIGC" in local.upper():
            value = (elem.text or "").strip()
            if not value:  # rdf:Alt / rdf:Seq wrapping
                value = " ".join((li.text or "").strip() for li in elem.iter() if li is not elem)
            found.append(XmpProperty(_qname(ns, local, tc260_prefixes), ns, "element", value))
        for attr, value in elem.attrib.items():
            ans, alocal = _split(attr)
            if "AIGC" in alocal.upper():
                found.append(
                    XmpProperty(_qname(ans, alocal, tc260_prefixes), ans, "attribute", value)
                )
    return found


def _split(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


def _qname(ns: str, local: str, tc260_prefixes: set[str]) -> str:
    if ns == TC260_NS:
        return f"{sorted(tc260_prefixes)[0]}:{local}"
    return f"{{{ns}}}{local}" if ns else local


def _scan_label_properties(text: str) -> list[XmpProperty]:
    import html

    found = []
    for m in re.finditer(r"<([\w.-]+):(\w*AIGC\w*)\b[^>]*>(.*?)</\1:\2>", text, re.S):
        found.append(XmpProperty(f"{m[1]}:{m[2]}", "", "element", html.unescape(m[3]).strip()))
    for m in re.finditer(r"\s([\w.-]+):(\w*AIGC\w*)\s*=\s*(\"[^\"]*\"|'[^']*')", text):
        found.append(XmpProperty(f"{m[1]}:{m[2]}", "", "attribute", html.unescape(m[3][1:-1])))
    return found


def digital_source_types(xmp: bytes | str) -> list[str]:
    """Values of ``Iptc4xmpExt:DigitalSourceType`` (element or attribute form)."""
    text = _text(xmp)
    try:
        root = SafeET.fromstring(_xml_body(text))
    except Exception:
        return re.findall(r"DigitalSourceType\s*(?:=\s*[\"']|>)\s*([^\"'<\s]+)", text)
    values = []
    key = f"{{{IPTC_EXT_NS}}}DigitalSourceType"
    for elem in root.iter():
        if elem.tag == key and (elem.text or "").strip():
            values.append(elem.text.strip())
        if key in elem.attrib:
            values.append(elem.attrib[key].strip())
    return values


def _remove_property(text: str, prefixes: set[str], local: str) -> str:
    """Cut every element and attribute ``prefix:local`` out of the packet text.

    Linear scans only: XMP packets carry kilobytes of whitespace padding, and a regex with a
    leading ``\\s*`` backtracks quadratically over it.
    """
    for p in prefixes:
        qn = f"{p}:{local}"
        text = _cut_elements(text, qn)
        text = re.sub(rf"(?<=\s){re.escape(qn)}\s*=\s*(\"[^\"]*\"|'[^']*')", "", text)
    return _drop_empty_descriptions(text)


def _cut_elements(text: str, qname: str) -> str:
    parts, pos = [], 0
    for m in re.finditer(rf"<{re.escape(qname)}(?=[\s/>])", text):
        if m.start() < pos:
            continue
        gt = text.find(">", m.end())
        if gt < 0:
            break
        if text[gt - 1] == "/":
            end = gt + 1
        else:
            close = text.find(f"</{qname}>", gt)
            if close < 0:
                break
            end = close + len(qname) + 3
        parts.append(text[pos : m.start()].rstrip(" \t\r\n"))
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


_EMPTY_DESCRIPTION = re.compile(
    r"<rdf:Description\b([^>]*)>\s*</rdf:Description>|"
    r"<rdf:Description\b([^>]*?)/>"
)
_ONLY_DECLARATIONS = re.compile(r"(\s+(xmlns:[\w.-]+|rdf:about)\s*=\s*(\"[^\"]*\"|'[^']*'))*\s*")


def _drop_empty_descriptions(text: str) -> str:
    """Remove descriptions left with nothing but namespace declarations (ours, re-tagged)."""

    def keep_unless_empty(m: re.Match[str]) -> str:
        attrs = m[1] if m[1] is not None else m[2]
        return "" if _ONLY_DECLARATIONS.fullmatch(attrs) else m[0]

    return _EMPTY_DESCRIPTION.sub(keep_unless_empty, text)


def _description(label_json: str, with_source_type: bool, extra: dict[str, str]) -> str:
    parts = [
        '  <rdf:Description rdf:about=""',
        f'    xmlns:TC260="{TC260_NS}"',
    ]
    if with_source_type:
        parts.append(f'    xmlns:Iptc4xmpExt="{IPTC_EXT_NS}"')
    if extra:
        parts.append(f'    xmlns:aigctag="{AIGCTAG_NS}"')
    parts[-1] += ">"
    parts.append(f"   <TC260:AIGC>{escape(label_json)}</TC260:AIGC>")
    if with_source_type:
        parts.append(f"   <Iptc4xmpExt:DigitalSourceType>{DST_AI}</Iptc4xmpExt:DigitalSourceType>")
    for local, value in extra.items():
        parts.append(f"   <aigctag:{local}>{escape(value)}</aigctag:{local}>")
    parts.append("  </rdf:Description>")
    return "\n".join(parts) + "\n"


def new_packet(label_json: str, extra: dict[str, str] | None = None) -> bytes:
    """A complete XMP packet carrying the label and the IPTC AI source type."""
    body = (
        f"{_PACKET_START}\n"
        '<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="aigc-tag">\n'
        f' <rdf:RDF xmlns:rdf="{RDF_NS}">\n'
        f"{_description(label_json, True, extra or {})}"
        " </rdf:RDF>\n"
        "</x:xmpmeta>\n"
        f"{_PACKET_END}"
    )
    return body.encode("utf-8")


def merge_label(
    existing: bytes | str | None, label_json: str, extra: dict[str, str] | None = None
) -> bytes:
    """Put the label into a packet, replacing any earlier label and keeping everything else.

    An existing AI-declaring ``DigitalSourceType`` is kept; a non-AI one (e.g. ``digitalCapture``)
    is replaced, since the content is now declared AI-generated. ``extra`` maps local names in
    :data:`AIGCTAG_NS` to values; earlier values of those properties are replaced too.
    """
    extra = extra or {}
    if existing is None or not _text(existing).strip():
        return new_packet(label_json, extra)
    text = _text(existing)
    if "</rdf:RDF>" not in text:
        return new_packet(label_json, extra)
    tc_prefixes = _prefixes_for(text, TC260_NS) | {"TC260"}
    text = _remove_property(text, tc_prefixes, "AIGC")
    for local in extra:
        text = _remove_property(text, _prefixes_for(text, AIGCTAG_NS) | {"aigctag"}, local)
    declared = [v.rsplit("/", 1)[-1] for v in digital_source_types(text)]
    keep_source_type = any(v in AI_SOURCE_TYPES for v in declared)
    if not keep_source_type:
        iptc = _prefixes_for(text, IPTC_EXT_NS) | {"Iptc4xmpExt"}
        text = _remove_property(text, iptc, "DigitalSourceType")
    head, _, tail = text.rpartition("</rdf:RDF>")
    merged = head.rstrip() + "\n" + _description(label_json, not keep_source_type, extra)
    merged += " </rdf:RDF>" + tail
    return merged.encode("utf-8")


def aigctag_properties(xmp: bytes | str) -> dict[str, str]:
    """aigc-tag's own properties in a packet (local name -> value); {} if unparsable."""
    try:
        root = SafeET.fromstring(_xml_body(_text(xmp)))
    except Exception:
        return {}
    found = {}
    for elem in root.iter():
        ns, local = _split(elem.tag)
        if ns == AIGCTAG_NS and elem.text:
            found[local] = elem.text.strip()
    return found


def remove_label(existing: bytes | str) -> bytes:
    """The packet without any TC260 AIGC property (used when the label moves to another carrier)."""
    text = _text(existing)
    return _remove_property(text, _prefixes_for(text, TC260_NS) | {"TC260"}, "AIGC").encode()


def merge_extras(existing: bytes | str | None, extra: dict[str, str]) -> bytes:
    """Put aigc-tag's own properties into a packet without adding a label.

    For containers whose label lives outside XMP (WAV ``AIGC`` chunk, ID3 ``TXXX``): earlier
    values of the same properties are replaced, everything else in ``existing`` is kept.
    """
    description = ['  <rdf:Description rdf:about=""', f'    xmlns:aigctag="{AIGCTAG_NS}">']
    for local, value in extra.items():
        description.append(f"   <aigctag:{local}>{escape(value)}</aigctag:{local}>")
    description.append("  </rdf:Description>\n")
    block = "\n".join(description)
    text = _text(existing) if existing is not None else ""
    if "</rdf:RDF>" not in text:
        body = (
            f"{_PACKET_START}\n"
            '<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="aigc-tag">\n'
            f' <rdf:RDF xmlns:rdf="{RDF_NS}">\n'
            f"{block}"
            " </rdf:RDF>\n"
            "</x:xmpmeta>\n"
            f"{_PACKET_END}"
        )
        return body.encode("utf-8")
    for local in extra:
        text = _remove_property(text, _prefixes_for(text, AIGCTAG_NS) | {"aigctag"}, local)
    head, _, tail = text.rpartition("</rdf:RDF>")
    return (head.rstrip() + "\n" + block + " </rdf:RDF>" + tail).encode("utf-8")
