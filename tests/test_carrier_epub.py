"""EPUB carrier: a tiny EPUB 3 built with zipfile; the OPF meta read back by exiftool."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
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


def _two_chapters() -> bytes:
    opf = OPF.replace(
        "</manifest>",
        '<item id="c2" href="c2.xhtml" media-type="application/xhtml+xml"/></manifest>',
    ).replace("</spine>", '<itemref idref="c2"/></spine>')
    with zipfile.ZipFile(io.BytesIO(make_epub(opf))) as src:
        members = [(i, src.read(i)) for i in src.infolist()]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info, body in members:
            z.writestr(info, body)
        z.writestr("OEBPS/c2.xhtml", CHAPTER.replace("<p>x</p>", "<p>last &amp; end</p>"))
    return out.getvalue()


@pytest.mark.parametrize("where", ["prefix", "suffix", "both"])
def test_visible_line_in_the_first_and_last_chapter(where):
    src = CARRIER.write_label(_two_chapters(), LABEL)
    out = CARRIER.add_visible(src, "bilingual", where)
    assert CARRIER.add_visible(out, "bilingual", where) == out  # replaced, not stacked
    zf = zipfile.ZipFile(io.BytesIO(out))
    first, last = zf.read("OEBPS/c1.xhtml").decode(), zf.read("OEBPS/c2.xhtml").decode()
    para = '<p class="aigc-label">AI生成 / AI-generated</p>'
    assert first.startswith(CHAPTER.replace("<body>", "<body>" + para)[:120]) == (where != "suffix")
    assert last.endswith(para + "</body></html>") == (where != "prefix")
    lines = CARRIER.read_visible(out).splitlines()
    assert "last & end" in lines and "x" in lines
    assert CARRIER.read_labels(out)[0].raw == LABEL
    assert zf.infolist()[0].filename == "mimetype"


def test_visible_needs_a_chapter():
    with pytest.raises(UnsupportedFormat, match="spine"):
        CARRIER.add_visible(make_epub(OPF.replace('<itemref idref="c1"/>', "")), "zh")


@pytest.mark.skipif(
    shutil.which("soffice") is None or shutil.which("pdftotext") is None,
    reason="LibreOffice or pdftotext (poppler-utils) not installed",
)
def test_libreoffice_shows_the_chapter_label(tmp_path):
    # LibreOffice does not import EPUB: the chapter is rendered through its HTML filter, the way
    # a reading system shows it. The suffix line, since LibreOffice 7.4's HTML-to-PDF export
    # leaves out a document's first paragraph whatever it holds (seen here with plain HTML).
    out = CARRIER.add_visible(CARRIER.write_label(make_epub(), LABEL), "bilingual", "suffix")
    path = tmp_path / "c1.xhtml"
    path.write_bytes(zipfile.ZipFile(io.BytesIO(out)).read("OEBPS/c1.xhtml"))
    cmd = ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)]
    subprocess.run(cmd, capture_output=True, timeout=180, check=True)
    text = subprocess.run(["pdftotext", str(tmp_path / "c1.pdf"), "-"], capture_output=True)
    assert "AI生成/AI-generated" in "".join(text.stdout.decode().split())


def test_visible_label_on_hostile_epubs_raises_only_our_errors():
    import random

    from aigc_tag.errors import AigcTagError

    data = CARRIER.add_visible(CARRIER.write_label(_two_chapters(), LABEL), "bilingual", "both")
    rng = random.Random("epub-visible")
    mutants = [data[:n] for n in range(0, len(data), max(1, len(data) // 30))]
    for _ in range(120):
        buf = bytearray(data)
        for _ in range(rng.randint(1, 6)):
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        mutants.append(bytes(buf))
    for mutant in mutants:
        for call in (CARRIER.read_visible, lambda d: CARRIER.add_visible(d, "zh", "both")):
            try:
                call(mutant)
            except AigcTagError:
                pass


def test_tagger_adds_the_wording_and_verify_checks_it(tmp_path):
    import aigc_tag
    from aigc_tag import Tagger

    src = tmp_path / "in.epub"
    src.write_bytes(make_epub())
    out = tmp_path / "out.epub"
    result = Tagger("001191110108MA01ABCDEN10001").tag_file(src, out)
    assert result.layers == ["visible", "metadata"]
    checks = {c.id: c.outcome.value for c in aigc_tag.verify(out).checks}
    assert checks["X-T1"] == "pass"
