"""PDF carrier: documents built with pikepdf, the label read back by exiftool and qpdf (pikepdf)."""

from __future__ import annotations

import io
import json

import pikepdf
import pytest
from conftest import exiftool_json

from aigc_tag import xmp as xmp_mod
from aigc_tag.carriers import pdf, sniff
from aigc_tag.errors import AigcTagError, CorruptContainer, UnsupportedFormat
from aigc_tag.label import AIGCLabel
from aigc_tag.visible.wording import has_both_elements

CARRIER = pdf.CARRIER
LABEL = AIGCLabel.for_producer("001191110102MACQD9K64010000", "pdf-生成-1").to_json()
OLD = AIGCLabel.for_producer("001191440300708461136T1XGW3", "old-1").to_json()


def make_pdf(*, xmp_label: bool = False, xref_stream: bool = False, signed: bool = False) -> bytes:
    doc = pikepdf.new()
    doc.add_blank_page(page_size=(595, 842))
    doc.add_blank_page(page_size=(842, 595))
    doc.docinfo["/Title"] = "Report"
    doc.docinfo["/Author"] = "Ann"
    doc.docinfo["/aigc_label"] = OLD
    if xmp_label:
        packet = xmp_mod.merge_label(None, OLD).decode()
        doc.Root.Metadata = doc.make_stream(packet.encode())
        doc.Root.Metadata.Type = pikepdf.Name.Metadata
        doc.Root.Metadata.Subtype = pikepdf.Name.XML
    if signed:  # a signature field shape (not a valid signature): enough to ask for an update
        sig = doc.make_indirect(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Sig, ByteRange=pikepdf.Array([0, 10, 20, 30]), Contents=b"0"
            )
        )
        field = doc.make_indirect(
            pikepdf.Dictionary(FT=pikepdf.Name.Sig, T=pikepdf.String("S"), V=sig)
        )
        doc.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array([field]), SigFlags=3)
    buf = io.BytesIO()
    mode = pikepdf.ObjectStreamMode.generate if xref_stream else pikepdf.ObjectStreamMode.disable
    doc.save(buf, object_stream_mode=mode)
    return buf.getvalue()


def reopen_clean(data: bytes) -> pikepdf.Pdf:
    doc = pikepdf.open(io.BytesIO(data))
    assert doc.check_pdf_syntax() == []  # qpdf --check
    assert not doc.get_warnings()
    return doc


def test_sniff():
    data = make_pdf()
    assert CARRIER.accept(data[:64]) and sniff(data[:64]) is CARRIER
    assert not CARRIER.accept(b"%!PS-Adobe")


def test_info_label_exiftool_and_qpdf(tmp_path):
    src = make_pdf(xmp_label=True)
    found = CARRIER.read_labels(src)
    assert sorted((f.carrier, f.normative) for f in found) == [
        ("pdf-info", False),
        ("xmp", False),
    ]
    out = CARRIER.write_label(src, LABEL, {"Caption": "suffix"})
    found = CARRIER.read_labels(out)
    assert [(f.carrier, f.key, f.normative) for f in found] == [("pdf-info", "AIGC", True)]
    assert found[0].raw == LABEL
    assert CARRIER.read_extras(out) == {"Caption": "suffix"}
    xmp = CARRIER.read_xmp(out)
    assert not xmp_mod.find_label_properties(xmp)  # the XMP copy is gone, extras are there
    doc = reopen_clean(out)
    assert doc.docinfo["/Title"] == "Report" and doc.docinfo["/Author"] == "Ann"
    assert len(doc.pages) == 2
    path = tmp_path / "t.pdf"
    path.write_bytes(out)
    record = exiftool_json(path, "-PDF:all", "-XMP:all")
    assert json.loads(record["PDF:AIGC"]) == json.loads(LABEL)
    assert record["XMP-aigctag:Caption"] == "suffix"
    assert not [k for k in record if "TC260" in k]


def test_retag_and_extras_without_xmp():
    once = CARRIER.write_label(make_pdf(), OLD, {"Caption": "a"})
    twice = CARRIER.write_label(once, LABEL, {"Caption": "b"})
    assert [f.raw for f in CARRIER.read_labels(twice)] == [LABEL]
    assert CARRIER.read_extras(twice) == {"Caption": "b"}
    assert CARRIER.read_xmp(twice) is None
    assert twice.count(b"old-1") == 0  # a full save drops the old revision


@pytest.mark.parametrize("xref_stream", [False, True])
def test_signed_documents_get_an_incremental_update(xref_stream, tmp_path):
    src = make_pdf(signed=True, xref_stream=xref_stream)
    out = CARRIER.write_label(src, LABEL, {"Caption": "c"})
    assert out.startswith(src)  # every signed byte is kept
    assert [f.raw for f in CARRIER.read_labels(out)] == [LABEL]
    doc = reopen_clean(out)
    assert doc.docinfo["/Author"] == "Ann" and "/aigc_label" not in doc.docinfo
    path = tmp_path / "s.pdf"
    path.write_bytes(out)
    assert json.loads(exiftool_json(path, "-PDF:AIGC")["PDF:AIGC"]) == json.loads(LABEL)


def test_thirdparty_c2pa_pdf(thirdparty):
    src = (thirdparty / "c2pa-signed" / "pdf-file.pdf").read_bytes()
    assert CARRIER.has_c2pa(src)
    assert not CARRIER.has_c2pa(make_pdf())
    out = CARRIER.write_label(src, LABEL)
    assert out.startswith(src) and CARRIER.has_c2pa(out)
    assert [f.raw for f in CARRIER.read_labels(out)] == [LABEL]
    reopen_clean(out)


def test_visible_stamp():
    src = CARRIER.write_label(make_pdf(), LABEL)
    out = CARRIER.add_visible(src, "bilingual", "both")
    lines = CARRIER.read_visible(out).splitlines()
    assert len(lines) == 2 and all(has_both_elements(t) for t in lines)
    again = CARRIER.add_visible(out, "bilingual", "both")  # already stamped: no second stamp
    assert CARRIER.read_visible(again) == CARRIER.read_visible(out)
    doc = reopen_clean(out)
    for page in (doc.pages[0], doc.pages[-1]):
        assert "/AigcTagLabel" in page.Resources.XObject
    assert [f.raw for f in CARRIER.read_labels(out)] == [LABEL]
    assert CARRIER.read_visible(src) == ""
    with pytest.raises(AigcTagError):
        CARRIER.add_visible(src, "生成失败", "suffix")


def test_encrypted_refused():
    doc = pikepdf.open(io.BytesIO(make_pdf()))
    buf = io.BytesIO()
    doc.save(buf, encryption=pikepdf.Encryption(user="u", owner="o"))
    with pytest.raises(UnsupportedFormat, match="encrypted"):
        CARRIER.write_label(buf.getvalue(), LABEL)
    with pytest.raises(UnsupportedFormat, match="encrypted"):
        CARRIER.read_labels(buf.getvalue())
    buf = io.BytesIO()
    doc.save(buf, encryption=pikepdf.Encryption(user="", owner="o"))
    with pytest.raises(UnsupportedFormat, match="encrypted"):
        CARRIER.write_label(buf.getvalue(), LABEL)


def test_truncated_and_garbage_refused():
    data = make_pdf()
    for cut in (len(data) // 2, len(data) - 20, 40):
        with pytest.raises(CorruptContainer, match="PDF"):
            CARRIER.write_label(data[:cut], LABEL)
    with pytest.raises(UnsupportedFormat, match="not a PDF"):
        CARRIER.read_labels(b"GIF89a" + bytes(100))
