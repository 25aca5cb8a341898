"""DOCX/XLSX/PPTX carrier: documents built with python-docx/openpyxl/python-pptx, labels checked
with exiftool, the outputs reopened by the same libraries, untouched ZIP members compared raw."""

from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess
import zipfile

import docx
import openpyxl
import pptx
import pytest
from conftest import exiftool_json, needs_exiftool_zip

from aigc_tag.carriers import ooxml, sniff
from aigc_tag.errors import CorruptContainer, LimitExceeded, UnsupportedFormat
from aigc_tag.label import AIGCLabel
from aigc_tag.visible.wording import has_both_elements

LABEL = AIGCLabel.for_producer("001191110102MACQD9K64010000", "doc<&>-1").to_json()
OLD = AIGCLabel.for_producer("001191440300708461136T1XGW3", "old-1").to_json()
OLD_CUSTOM = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<Properties xmlns="{ooxml.CUSTOM_NS}" xmlns:vt="{ooxml.VT_NS}">'
    f'<property fmtid="{ooxml.FMTID}" pid="2" name="Department"><vt:lpwstr>R&amp;D</vt:lpwstr>'
    f'</property><property fmtid="{ooxml.FMTID}" pid="5" name="aigc_label">'
    f"<vt:lpwstr>{OLD}</vt:lpwstr></property></Properties>"
)


def make_docx() -> bytes:
    d = docx.Document()
    d.add_paragraph("First paragraph")
    d.add_paragraph("Last paragraph")
    d.core_properties.author = "Ann"
    d.core_properties.title = "Report"
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def make_xlsx() -> bytes:
    wb = openpyxl.Workbook()
    wb.active["A1"] = "cell"
    wb.properties.creator = "Ann"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def make_pptx() -> bytes:
    p = pptx.Presentation()
    slide = p.slides.add_slide(p.slide_layouts[0])
    slide.shapes.title.text = "Slide title"
    p.core_properties.author = "Ann"
    buf = io.BytesIO()
    p.save(buf)
    return buf.getvalue()


MAKERS = {"docx": make_docx, "xlsx": make_xlsx, "pptx": make_pptx}


def with_custom(data: bytes, custom: str) -> bytes:
    """The package with a custom.xml part (registered), as Word would write it."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "[Content_Types].xml":
                body = body.replace(
                    b"</Types>",
                    b'<Override PartName="/docProps/custom.xml" ContentType="'
                    + ooxml.CUSTOM_CT.encode()
                    + b'"/></Types>',
                )
            elif info.filename == "_rels/.rels":
                body = body.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rId99" Type="'
                    + ooxml.CUSTOM_REL.encode()
                    + b'" Target="docProps/custom.xml"/></Relationships>',
                )
            out.writestr(info, body)
        out.writestr("docProps/custom.xml", custom)
    return buf.getvalue()


def raw_members(data: bytes) -> dict[str, bytes]:
    """Each member's local header + compressed bytes, as stored."""
    zf = zipfile.ZipFile(io.BytesIO(data))
    out = {}
    for info in zf.infolist():
        n, m = struct.unpack_from("<HH", data, info.header_offset + 26)
        start = info.header_offset + 30 + n + m
        out[info.filename] = data[info.header_offset : start + info.compress_size]
    return out


def reopen(kind: str, data: bytes) -> None:
    if kind == "docx":
        d = docx.Document(io.BytesIO(data))
        assert "First paragraph" in [p.text for p in d.paragraphs]
        assert d.core_properties.author == "Ann" and d.core_properties.title == "Report"
    elif kind == "xlsx":
        wb = openpyxl.load_workbook(io.BytesIO(data))
        assert wb.active["A1"].value == "cell" and wb.properties.creator == "Ann"
    else:
        p = pptx.Presentation(io.BytesIO(data))
        assert p.slides[0].shapes.title.text == "Slide title"
        assert p.core_properties.author == "Ann"


@needs_exiftool_zip
@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_label_written_read_by_exiftool_and_libraries(kind, tmp_path):
    src = MAKERS[kind]()
    assert sniff(src[:64]) is ooxml.DOCX  # one ZIP claimant ...
    carrier = ooxml.refine(src)  # ... refined by looking inside
    assert carrier.name == kind
    out = carrier.write_label(src, LABEL, {"Caption": "none"})
    found = carrier.read_labels(out)
    assert [(f.key, f.normative) for f in found] == [("AIGC", True)]
    assert found[0].raw == LABEL
    assert carrier.read_extras(out) == {"Caption": "none"}
    reopen(kind, out)
    assert zipfile.ZipFile(io.BytesIO(out)).testzip() is None
    # untouched members are copied as stored (no recompression), in the original order
    before, after = raw_members(src), raw_members(out)
    edited = {"[Content_Types].xml", "_rels/.rels", "docProps/custom.xml"}
    for name, raw in before.items():
        if name not in edited:
            assert after[name] == raw, name
    assert list(after)[: len(before)] == list(before)
    path = tmp_path / f"t.{kind}"
    path.write_bytes(out)
    record = exiftool_json(path, "-XML:all")
    assert json.loads(record["XML:AIGC"]) == json.loads(LABEL)


def test_existing_custom_properties_kept_label_replaced():
    src = with_custom(make_docx(), OLD_CUSTOM)
    found = ooxml.DOCX.read_labels(src)
    assert [(f.key, f.normative) for f in found] == [("aigc_label", False)]
    out = ooxml.DOCX.write_label(src, LABEL)
    custom = zipfile.ZipFile(io.BytesIO(out)).read("docProps/custom.xml").decode()
    assert f'<property fmtid="{ooxml.FMTID}" pid="2" name="Department">' in custom
    assert "R&amp;D" in custom and "aigc_label" not in custom
    assert 'pid="6" name="AIGC"' in custom
    assert [f.key for f in ooxml.DOCX.read_labels(out)] == ["AIGC"]
    # no second registration of the part
    ct = zipfile.ZipFile(io.BytesIO(out)).read("[Content_Types].xml")
    assert ct.count(b"/docProps/custom.xml") == 1
    reopen("docx", out)


def test_retag_is_stable():
    once = ooxml.DOCX.write_label(make_docx(), OLD, {"Caption": "a"})
    twice = ooxml.DOCX.write_label(once, LABEL, {"Caption": "a"})
    assert ooxml.DOCX.write_label(twice, LABEL, {"Caption": "a"}) == twice
    custom = zipfile.ZipFile(io.BytesIO(twice)).read("docProps/custom.xml").decode()
    assert custom.count('name="AIGC"') == 1 and custom.count("aigctag:Caption") == 1
    assert ooxml.DOCX.read_labels(twice)[0].raw == LABEL


def test_docx_visible_paragraphs():
    src = ooxml.DOCX.write_label(make_docx(), LABEL)
    out = ooxml.DOCX.add_visible(src, "bilingual", "both")
    paras = [p.text for p in docx.Document(io.BytesIO(out)).paragraphs]
    assert paras == ["AI生成 / AI-generated", "First paragraph", "Last paragraph"] + [
        "AI生成 / AI-generated"
    ]
    assert ooxml.DOCX.add_visible(out, "bilingual", "both") == out
    lines = ooxml.DOCX.read_visible(out).splitlines()
    assert has_both_elements(lines[0]) and has_both_elements(lines[-1])
    assert ooxml.DOCX.read_labels(out)[0].raw == LABEL
    with pytest.raises(UnsupportedFormat, match="not a xl/ part"):
        ooxml.XLSX.add_visible(make_docx(), "AI生成", "suffix")


@pytest.mark.parametrize("where", ["prefix", "suffix", "both"])
def test_pptx_text_box_on_the_first_slide(where):
    src = ooxml.PPTX.write_label(make_pptx(), LABEL)
    out = ooxml.PPTX.add_visible(src, "bilingual", where)
    assert ooxml.PPTX.add_visible(out, "bilingual", where) == out  # replaced, not stacked
    slide = pptx.Presentation(io.BytesIO(out)).slides[0]
    boxes = [sh for sh in slide.shapes if sh.name == ooxml.VISIBLE_NAME]
    assert [b.text_frame.text for b in boxes] == ["AI生成 / AI-generated"] * (
        2 if where == "both" else 1
    )
    height = pptx.Presentation(io.BytesIO(out)).slide_height
    assert all(0 <= b.top and b.top + b.height <= height for b in boxes)  # on the slide
    lines = ooxml.PPTX.read_visible(out).splitlines()
    assert "Slide title" in lines
    edge = {"prefix": [lines[0]], "suffix": [lines[-1]], "both": [lines[0], lines[-1]]}[where]
    assert all(has_both_elements(line) for line in edge)
    assert ooxml.PPTX.read_labels(out)[0].raw == LABEL


@pytest.mark.parametrize("where", ["prefix", "suffix", "both"])
def test_xlsx_note_row_and_page_header(where):
    src = ooxml.XLSX.write_label(make_xlsx(), LABEL)
    out = ooxml.XLSX.add_visible(src, "bilingual", where)
    assert ooxml.XLSX.add_visible(out, "bilingual", where) == out
    ws = openpyxl.load_workbook(io.BytesIO(out)).active
    assert [[c.value for c in row] for row in ws.iter_rows()] == [
        ["cell"],
        [None],
        ["AI生成 / AI-generated"],
    ]  # the data is not moved: the note goes under the last used row
    assert (ws.oddHeader.center.text is not None) == (where != "suffix")
    assert (ws.oddFooter.center.text is not None) == (where != "prefix")
    lines = ooxml.XLSX.read_visible(out).splitlines()
    assert has_both_elements(lines[-1]) and "cell" in lines


def _pdf_text(tmp_path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    cmd = ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)]
    subprocess.run(cmd, capture_output=True, timeout=180, check=True)
    pdf = path.with_suffix(".pdf")
    out = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, check=True)
    return out.stdout.decode()


@pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftotext") is None,
                    reason="LibreOffice or pdftotext (poppler-utils) not installed")  # fmt: skip
@pytest.mark.parametrize("kind", ["docx", "pptx", "xlsx"])
def test_libreoffice_shows_the_label(kind, tmp_path):
    carrier = ooxml.CARRIERS[kind]
    data = carrier.add_visible(carrier.write_label(MAKERS[kind](), LABEL), "bilingual", "both")
    text = _pdf_text(tmp_path, f"t.{kind}", data)
    # pdftotext puts a space between Latin and CJK runs ("AI 生成"): compare without spaces.
    assert "AI生成/AI-generated" in "".join(text.split())
    assert {"docx": "First paragraph", "pptx": "Slide title", "xlsx": "cell"}[kind] in text


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed")
def test_libreoffice_converts_docx(tmp_path):
    path = tmp_path / "t.docx"
    path.write_bytes(ooxml.DOCX.add_visible(ooxml.DOCX.write_label(make_docx(), LABEL), "zh"))
    cmd = ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)]
    subprocess.run(cmd, capture_output=True, timeout=120, check=True)
    assert (tmp_path / "t.pdf").stat().st_size > 0


def test_zip_bomb_declared_size_refused():
    data = bytearray(make_docx())
    start = zipfile.ZipFile(io.BytesIO(bytes(data))).start_dir
    # patch the central directory record of word/document.xml: uncompressed size = 1 GB
    pos = data.find(b"PK\x01\x02", start)
    while bytes(data[pos + 46 : pos + 46 + 17]) != b"word/document.xml":
        pos = data.find(b"PK\x01\x02", pos + 4)
    struct.pack_into("<I", data, pos + 24, 1_000_000_000)
    with pytest.raises(LimitExceeded, match="zip bomb"):
        ooxml.DOCX.read_labels(bytes(data))
    with pytest.raises(LimitExceeded):
        ooxml.DOCX.write_label(bytes(data), LABEL)


def test_hostile_packages_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("../evil.xml", "x")
    with pytest.raises(CorruptContainer, match="part name"):
        ooxml.DOCX.write_label(buf.getvalue(), LABEL)
    xxe = with_custom(
        make_docx(),
        '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        f'<Properties xmlns="{ooxml.CUSTOM_NS}">&x;</Properties>',
    )
    with pytest.raises(CorruptContainer, match="DTD/entity"):
        ooxml.DOCX.read_labels(xxe)
    with pytest.raises(UnsupportedFormat, match="encrypted"):
        ooxml.DOCX.write_label(ooxml.OLE_MAGIC + bytes(504), LABEL)
    data = make_docx()
    for cut in (len(data) // 2, len(data) - 30):
        with pytest.raises(CorruptContainer, match="DOCX"):
            ooxml.DOCX.write_label(data[:cut], LABEL)
    with pytest.raises(UnsupportedFormat, match="not a DOCX"):
        plain = io.BytesIO()
        with zipfile.ZipFile(plain, "w") as zf:
            zf.writestr("readme.txt", "x")
        ooxml.refine(plain.getvalue())


@pytest.mark.parametrize("kind", ["pptx", "xlsx"])
def test_visible_label_on_hostile_packages_raises_only_our_errors(kind):
    import random

    from aigc_tag.errors import AigcTagError

    carrier = ooxml.CARRIERS[kind]
    data = carrier.add_visible(carrier.write_label(MAKERS[kind](), LABEL), "bilingual", "both")
    rng = random.Random(kind)
    mutants = [data[:n] for n in range(0, len(data), max(1, len(data) // 30))]
    for _ in range(120):
        buf = bytearray(data)
        for _ in range(rng.randint(1, 6)):
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        mutants.append(bytes(buf))
    for mutant in mutants:
        for call in (carrier.read_visible, lambda d: carrier.add_visible(d, "zh", "both")):
            try:
                call(mutant)
            except AigcTagError:
                pass


@pytest.mark.parametrize("kind", ["pptx", "xlsx"])
def test_tagger_adds_the_wording_and_verify_checks_it(kind, tmp_path):
    import aigc_tag
    from aigc_tag import Tagger

    src = tmp_path / f"in.{kind}"
    src.write_bytes(MAKERS[kind]())
    outcomes = {}
    for visible in (True, False):  # False: the --no-visible opt-out
        out = tmp_path / f"out-{visible}.{kind}"
        result = Tagger("001191110108MA01ABCDEN10001", visible=visible).tag_file(src, out)
        assert result.layers == (["visible", "metadata"] if visible else ["metadata"])
        checks = {c.id: c.outcome.value for c in aigc_tag.verify(out).checks}
        outcomes[visible] = checks["X-T1"]
    assert outcomes == {True: "pass", False: "fail"}


def _members_edited(data: bytes, edit: dict[str, bytes | None], add: dict[str, str]) -> bytes:
    """The package with members replaced (``None``: dropped) and members appended."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            body = edit.get(info.filename, src.read(info))
            if body is not None:
                out.writestr(info, body)
        for name, body in add.items():
            out.writestr(name, body)
    return buf.getvalue()


def test_unregistered_custom_part_is_edited_not_duplicated():
    # issue 17 item 12: a custom.xml that no relationship names was added a second time, and
    # the read-back refused the output with "ZIP entry 'docProps/custom.xml' appears twice".
    data = _members_edited(make_xlsx(), {}, {"docProps/custom.xml": OLD_CUSTOM})
    assert ooxml.XLSX.read_labels(data) == []  # not part of the package until registered
    out = ooxml.XLSX.write_label(data, LABEL)
    names = zipfile.ZipFile(io.BytesIO(out)).namelist()
    assert names.count("docProps/custom.xml") == 1
    found = ooxml.XLSX.read_labels(out)
    assert [(f.key, f.raw) for f in found] == [("AIGC", LABEL)]
    custom = zipfile.ZipFile(io.BytesIO(out)).read("docProps/custom.xml").decode()
    assert "Department" in custom and "aigc_label" not in custom  # the user's property is kept
    reopen("xlsx", out)


def test_missing_custom_part_is_inconclusive_not_absent():
    # issue 17 item 12: the relationship names the label part but the part cannot be read:
    # the verdict was not_found ("no label"), which the file does not show.
    import aigc_tag

    tagged = ooxml.XLSX.write_label(make_xlsx(), LABEL)
    broken = _members_edited(tagged, {"docProps/custom.xml": None}, {})
    with pytest.raises(CorruptContainer, match="custom properties part 'docProps/custom.xml'"):
        ooxml.XLSX.read_labels(broken)
    assert aigc_tag.verify_bytes(broken, name="broken.xlsx").verdict.value == "inconclusive"
    assert ooxml.XLSX.read_labels(ooxml.XLSX.write_label(broken, LABEL))  # tagging repairs it


@pytest.mark.parametrize("target", ["docProps/Custom.xml", "./docProps/custom.xml"])
def test_custom_part_found_whatever_the_target_spelling(target):
    tagged = ooxml.XLSX.write_label(make_xlsx(), LABEL)
    rels = zipfile.ZipFile(io.BytesIO(tagged)).read("_rels/.rels")
    respelled = rels.replace(b'Target="docProps/custom.xml"', f'Target="{target}"'.encode())
    assert respelled != rels
    data = _members_edited(tagged, {"_rels/.rels": respelled}, {})
    assert [f.raw for f in ooxml.XLSX.read_labels(data)] == [LABEL]
