"""OFD carrier (GB/T 33190): minimal OFD packages built here with zipfile (entry file, one
document, a public font resource, one page with a text object). No OFD reader is packaged for
Debian: the packages are checked against the standard's structure by our own reader (easyofd
from PyPI parsed them in a manual check, see the carrier's README row)."""

from __future__ import annotations

import io
import random
import re
import zipfile

import pytest
from conftest import PRODUCER

from aigc_tag import Tagger, verify
from aigc_tag.carriers import ofd, sniff, sniff_content
from aigc_tag.errors import AigcTagError, CorruptContainer
from aigc_tag.label import AIGCLabel

CARRIER = ofd.CARRIER
LABEL = AIGCLabel.for_producer("001191110102MACQD9K64010000", "ofd<&>-1").to_json()
NS = 'xmlns:ofd="http://www.ofdspec.org/2016"'
DOC_INFO = (
    "<ofd:DocInfo><ofd:DocID>6a1c8b0e2f3d4c5b9a8e7f6d5c4b3a21</ofd:DocID><ofd:Title>Report"
    "</ofd:Title><ofd:CreationDate>2025-09-01</ofd:CreationDate><ofd:CustomDatas>"
    '<ofd:CustomData Name="Department">R&amp;D</ofd:CustomData>'
    '<ofd:CustomData Name="aigc_label">{"AIGC":{"Label":"1","ProduceID":"old-1"}}'
    "</ofd:CustomData></ofd:CustomDatas></ofd:DocInfo>"
)


def entry(doc_info: str = DOC_INFO) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<ofd:OFD {NS} Version="1.0" DocType="OFD"><ofd:DocBody>{doc_info}'
        "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"
    )


DOCUMENT = (
    f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Document {NS}><ofd:CommonData>'
    "<ofd:MaxUnitID>4</ofd:MaxUnitID><ofd:PageArea><ofd:PhysicalBox>0 0 210 297"
    "</ofd:PhysicalBox></ofd:PageArea><ofd:PublicRes>PublicRes.xml</ofd:PublicRes>"
    '</ofd:CommonData><ofd:Pages><ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/>'
    "</ofd:Pages></ofd:Document>"
)
PUBLIC_RES = (
    f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Res {NS} BaseLoc="Res"><ofd:Fonts>'
    '<ofd:Font ID="2" FontName="KaiTi" FamilyName="KaiTi"/></ofd:Fonts></ofd:Res>'
)


def page(text: str) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Page {NS}><ofd:Content>'
        '<ofd:Layer ID="3"><ofd:TextObject ID="4" Boundary="10 10 150 10" Font="2" Size="5">'
        f'<ofd:TextCode X="0" Y="5">{text}</ofd:TextCode></ofd:TextObject></ofd:Layer>'
        "</ofd:Content></ofd:Page>"
    )


def make_ofd(doc_info: str = DOC_INFO, text: str = "Quarterly figures") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("OFD.xml", entry(doc_info))
        z.writestr("Doc_0/Document.xml", DOCUMENT)
        z.writestr("Doc_0/PublicRes.xml", PUBLIC_RES)
        z.writestr("Doc_0/Pages/Page_0/Content.xml", page(text))
    return buf.getvalue()


def _raw_members(data: bytes) -> dict[str, bytes]:
    """Each member's stored (compressed) bytes, to prove untouched members are copied raw."""
    zf = zipfile.ZipFile(io.BytesIO(data))
    out = {}
    for info in zf.infolist():
        start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
        out[info.filename] = data[start : start + info.compress_size]
    return out


def test_sniffed_by_content():
    data = make_ofd()
    assert sniff(data[:64]) is CARRIER and sniff_content(data) is CARRIER
    assert CARRIER.read_xmp(data) is None


def test_reads_a_label_copy_and_writes_one_losslessly():
    src = make_ofd()
    assert [(f.key, f.normative) for f in CARRIER.read_labels(src)] == [("aigc_label", False)]
    out = CARRIER.write_label(src, LABEL, {"Caption": "none"})
    (found,) = CARRIER.read_labels(out)
    assert (found.key, found.normative, found.raw) == ("AIGC", True, LABEL)
    assert found.parsed.strict and found.parsed.fields["ProduceID"] == "ofd<&>-1"
    assert CARRIER.read_extras(out) == {"Caption": "none"}
    assert CARRIER.write_label(out, LABEL, {"Caption": "none"}) == out  # stable on re-tag
    before, after = _raw_members(src), _raw_members(out)
    assert list(after) == list(before)  # same members, same order
    assert all(after[n] == before[n] for n in before if n != "OFD.xml")
    text = zipfile.ZipFile(io.BytesIO(out)).read("OFD.xml").decode()
    assert '<ofd:CustomData Name="Department">R&amp;D</ofd:CustomData>' in text
    assert "aigc_label" not in text and "<ofd:Title>Report</ofd:Title>" in text


@pytest.mark.parametrize(
    "doc_info",
    [
        "<ofd:DocInfo><ofd:DocID>1</ofd:DocID></ofd:DocInfo>",
        "<ofd:DocInfo/>",
        "<ofd:DocInfo><ofd:DocID>1</ofd:DocID><ofd:CustomDatas/></ofd:DocInfo>",
    ],
    ids=["no-customdatas", "empty-docinfo", "empty-customdatas"],
)
def test_new_custom_data_places(doc_info):
    out = CARRIER.write_label(make_ofd(doc_info), LABEL)
    assert [f.raw for f in CARRIER.read_labels(out)] == [LABEL]
    text = zipfile.ZipFile(io.BytesIO(out)).read("OFD.xml").decode()
    # CT_DocInfo: CustomDatas is its last child, inside the DocInfo of the first DocBody.
    assert text.index("<ofd:CustomDatas>") > text.index("<ofd:DocInfo")
    assert text.index("</ofd:CustomDatas>") < text.index("</ofd:DocInfo>")


def test_tagger_and_verifier(tmp_path):
    src = tmp_path / "in.ofd"
    src.write_bytes(make_ofd())
    outcomes = {}
    for visible in (True, False):  # False: the --no-visible opt-out
        out = tmp_path / f"out-{visible}.ofd"
        result = Tagger(PRODUCER, visible=visible).tag_file(src, out)
        assert result.layers == (["visible", "metadata"] if visible else ["metadata"])
        checks = {c.id: c.outcome.value for c in verify(out).checks}
        assert checks["M03"] == "pass"
        outcomes[visible] = checks["X-T1"]
    assert outcomes == {True: "pass", False: "fail"}


def test_read_visible_follows_docroot_to_the_page():
    assert CARRIER.read_visible(make_ofd(text="AI生成 page")) == "AI生成 page"


def _member(data: bytes, name: str) -> str:
    return zipfile.ZipFile(io.BytesIO(data)).read(name).decode()


@pytest.mark.parametrize("where", ["prefix", "suffix", "both"])
def test_visible_label_is_a_new_layer_on_the_first_page(where):
    src = CARRIER.write_label(make_ofd(), LABEL)
    out = CARRIER.add_visible(src, "bilingual", where)
    assert CARRIER.add_visible(out, "bilingual", where) == out  # replaced, not stacked
    page = _member(out, "Doc_0/Pages/Page_0/Content.xml")
    assert page.startswith(page_xml := _member(src, "Doc_0/Pages/Page_0/Content.xml")[:-27])
    assert page.count('<ofd:Layer ID="') == 2 and 'Type="Foreground"' in page
    assert page.count(f'Name="{ofd.VISIBLE_NAME}"') == (2 if where == "both" else 1)
    assert page_xml.count("<ofd:TextObject") == 1  # the original object is untouched
    document, res = _member(out, "Doc_0/Document.xml"), _member(out, "Doc_0/PublicRes.xml")
    new_ids = {int(i) for i in re.findall(r'ID="(\d+)"', page + res)} - {2, 3, 4}
    max_id = int(re.search(r"<ofd:MaxUnitID>(\d+)<", document).group(1))
    assert new_ids and min(new_ids) > 4 and max(new_ids) == max_id  # fresh ids, MaxUnitID raised
    assert f'FontName="{ofd.FONT_NAME}"' in res and res.count("<ofd:Font ") == 2
    lines = CARRIER.read_visible(out).splitlines()
    assert "Quarterly figures" in lines and "AI生成 / AI-generated" in lines
    assert [f.raw for f in CARRIER.read_labels(out)] == [LABEL]


def test_visible_label_without_public_resources():
    document = DOCUMENT.replace("<ofd:PublicRes>PublicRes.xml</ofd:PublicRes>", "")
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(make_ofd())) as src, zipfile.ZipFile(buf, "w") as dst:
        for info in src.infolist():
            body = document.encode() if info.filename.endswith("Document.xml") else src.read(info)
            dst.writestr(info, body)
    out = CARRIER.add_visible(buf.getvalue(), "zh", "prefix")
    assert "<ofd:PublicRes>AIGCRes.xml</ofd:PublicRes>" in _member(out, "Doc_0/Document.xml")
    assert f'FontName="{ofd.FONT_NAME}"' in _member(out, "Doc_0/AIGCRes.xml")


def test_bad_packages():
    no_entry = io.BytesIO()
    with zipfile.ZipFile(no_entry, "w") as z:
        z.writestr("Doc_0/Document.xml", DOCUMENT)
    assert CARRIER.accept(no_entry.getvalue()[:64])
    with pytest.raises(CorruptContainer, match="OFD.xml"):
        CARRIER.read_labels(no_entry.getvalue())
    with pytest.raises(CorruptContainer, match="DocInfo"):
        CARRIER.write_label(make_ofd(doc_info=""), LABEL)
    with pytest.raises(CorruptContainer, match="OFD"):
        CARRIER.read_labels(make_ofd()[:300])


def test_hostile_inputs_raise_only_our_errors():
    data = CARRIER.write_label(make_ofd(), LABEL, {"Caption": "c"})
    rng = random.Random("ofd")
    mutants = [data[:n] for n in range(0, len(data), max(1, len(data) // 40))]
    for _ in range(150):
        buf = bytearray(data)
        for _ in range(rng.randint(1, 6)):
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        mutants.append(bytes(buf))
    calls = (CARRIER.read_labels, CARRIER.read_extras, CARRIER.read_visible, CARRIER.has_c2pa,
             lambda d: CARRIER.write_label(d, LABEL),
             lambda d: CARRIER.add_visible(d, "zh", "both"))  # fmt: skip
    for mutant in mutants:
        for call in calls:
            try:
                call(mutant)
            except AigcTagError:
                pass


def test_a_broken_bzip2_member_is_corrupt_not_a_crash():
    # Found by the fuzzer: bz2 raises OSError("Invalid data stream"), which zipfile lets through.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_BZIP2) as z:
        z.writestr("OFD.xml", entry())
    data = bytearray(buf.getvalue())
    at = data.find(b"BZh")
    data[at + 10 : at + 20] = bytes(10)
    with pytest.raises(CorruptContainer, match="does not decompress"):
        CARRIER.read_labels(bytes(data))
