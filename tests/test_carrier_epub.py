"""EPUB carrier: a tiny EPUB 3 built with zipfile; the OPF meta read back by exiftool."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from conftest import exiftool_json, needs_exiftool_zip

from aigc_tag.carriers import epub, ooxml, sniff
from aigc_tag.errors import CorruptContainer, UnsupportedFormat
from aigc_tag.label import AIGCLabel

CARRIER = epub.CARRIER
LABEL = AIGCLabel.for_producer("001191110102MACQD9K64010000", "epub-1").to_json()
OPF = """<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
    <dc:identifier id="id">urn:uuid:1</dc:identifier>
    <dc:title>Book</dc:title>
    <meta property="dcterms:modified">2025-01-01T00:00:00Z</meta>
    <meta property="aigc:label">{"AIGC":{"Label":"1","ProduceID":"old-1"}}</meta>
  </metadata>
  <manifest><item id="c1" href="c1.xhtml" media-type="application/xhtml+xml"/></manifest>
  <spine><itemref idref="c1"/></spine>
</package>
"""
CONTAINER = """<?xml version="1.0"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles><rootfile full-path="OEBPS/content.opf"
    media-type="application/oebps-package+xml"/></rootfiles>
</container>
"""
CHAPTER = "<html xmlns='http://www.w3.org/1999/xhtml'><body><p>x</p></body></html>"


def make_epub(opf: str = OPF) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        z.writestr("META-INF/container.xml", CONTAINER)
        z.writestr("OEBPS/content.opf", opf)
        z.writestr("OEBPS/c1.xhtml", CHAPTER)
    return buf.getvalue()


def test_sniff_and_refine():
    data = make_epub()
    assert sniff(data[:64]) is CARRIER
    assert ooxml.refine(data) is CARRIER


@needs_exiftool_zip
def test_label_in_opf_exiftool(tmp_path):
    src = make_epub()
    assert [(f.key, f.normative) for f in CARRIER.read_labels(src)] == [("aigc:label", False)]
    out = CARRIER.write_label(src, LABEL, {"Caption": "none"})
    found = CARRIER.read_labels(out)
    assert [(f.key, f.normative, f.raw) for f in found] == [("AIGC", True, LABEL)]
    assert CARRIER.read_extras(out) == {"Caption": "none"}
    assert CARRIER.write_label(out, LABEL, {"Caption": "none"}) == out
    zf = zipfile.ZipFile(io.BytesIO(out))
    assert zf.infolist()[0].filename == "mimetype"
    assert zf.infolist()[0].compress_type == zipfile.ZIP_STORED
    assert zf.read("OEBPS/c1.xhtml").decode() == CHAPTER
    opf = zf.read("OEBPS/content.opf").decode()
    assert "<dc:title>Book</dc:title>" in opf and "aigc:label" not in opf
    path = tmp_path / "t.epub"
    path.write_bytes(out)
    record = exiftool_json(path, "-XML:all")
    assert record["XML:MetaName"] == "AIGC"
    assert json.loads(record["XML:MetaContent"]) == json.loads(LABEL)


def test_bad_epubs():
    with pytest.raises(CorruptContainer, match="EPUB"):
        CARRIER.write_label(make_epub(OPF.replace("</metadata>", "")), LABEL)
    with pytest.raises(CorruptContainer, match="EPUB"):
        CARRIER.read_labels(make_epub()[:200])
    with pytest.raises(UnsupportedFormat):
        CARRIER.add_visible(make_epub(), "AI生成", "suffix")
