"""SVG: sniffing by the root element, the XMP label in <metadata> written as a text edit that keeps
every other byte, exiftool reading it back, hostile XML refused, tag -> verify end to end, and
C2PA signed through c2pa-python (Trusted, and Invalid after one changed byte of the drawing)."""

from __future__ import annotations

import codecs
import json
import os
import subprocess
import sys
from dataclasses import astuple
from pathlib import Path

import pytest
from conftest import PRODUCER, THIRDPARTY, exiftool_json

from aigc_tag import xmp
from aigc_tag.carriers import registry, sniff, sniff_content
from aigc_tag.carriers.svg import CARRIER, MAX_DEPTH, NO_WATERMARK_WARNING, canvas, is_svg
from aigc_tag.errors import AigcTagError, CorruptContainer, LimitExceeded, UnsupportedFormat
from aigc_tag.label import AIGCLabel
from aigc_tag.tagging import Tagger
from aigc_tag.verify import verify_bytes

LABEL = AIGCLabel.for_producer(PRODUCER, "svg-1").to_json()
OTHER = AIGCLabel.for_producer(PRODUCER, "svg-2").to_json()
NS = 'xmlns="http://www.w3.org/2000/svg"'
DRAWING = (
    "  <!-- a comment -->\n"
    "  <style><![CDATA[ rect { fill: #c00 } ]]></style>\n"
    '  <rect x="1"   y="2" width="30" height="20" rx="3"/>\n'
    '  <path d="M0 0 L40 30 Z" stroke="black"/>\n'
)
PLAIN = f'<svg {NS} width="40" height="30" viewBox="0 0 40 30">\n{DRAWING}</svg>\n'.encode()
DECLARED = b'<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n' + PLAIN
DOCTYPE = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b"<!DOCTYPE svg PUBLIC '-//W3C//DTD SVG 1.1//EN' "
    b"'http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd'>\n" + PLAIN
)
INKSCAPE = (
    b'<svg xmlns="http://www.w3.org/2000/svg"\n'
    b'   xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"\n'
    b'   xmlns:cc="http://creativecommons.org/ns#"\n'
    b'   xmlns:dc="http://purl.org/dc/elements/1.1/" width="10" height="10">\n'
    b'  <metadata id="metadata5">\n'
    b"    <rdf:RDF>\n"
    b'      <cc:Work rdf:about="">\n'
    b"        <dc:format>image/svg+xml</dc:format>\n"
    b"        <dc:title>Kept title</dc:title>\n"
    b"      </cc:Work>\n"
    b"    </rdf:RDF>\n"
    b"  </metadata>\n"
    b'  <circle cx="5" cy="5" r="4"/>\n'
    b"</svg>\n"
)
C2PA_FIXTURES = os.environ.get("AIGC_TAG_C2PA_FIXTURES")


def labels(data: bytes) -> list[dict | None]:
    return [f.parsed.fields for f in CARRIER.read_labels(data)]


def without(out: bytes, inserted: bytes) -> bytes:
    """``out`` with the one inserted block taken out again."""
    assert out.count(inserted) == 1
    at = out.index(inserted)
    return out[:at] + out[at + len(inserted) :]


# --- sniffing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        PLAIN,
        DECLARED,
        DOCTYPE,
        codecs.BOM_UTF8 + DECLARED,
        b"<!-- " + b"licence text " * 20 + b"-->\n<?xml-stylesheet href='a.css'?>\n" + PLAIN,
        b'<svg:svg xmlns:svg="http://www.w3.org/2000/svg"><svg:rect width="1"/></svg:svg>',
        f'<svg width="40" height="30" version="1.1" baseProfile="full" {NS}/>'.encode(),
    ],
    ids=["plain", "xml-decl", "doctype", "bom", "comments-pi", "prefixed", "late-xmlns"],
)
def test_svg_is_recognised_by_its_root(data):
    assert is_svg(data)
    assert sniff_content(data, name="x.bin").name == "svg"
    assert sniff_content(data, name="x.bin", walk=True).name == "svg"


def test_a_short_svg_is_claimed_by_its_magic_alone():
    assert sniff(PLAIN[:64]) is CARRIER


@pytest.mark.parametrize(
    "data",
    [
        b'<?xml version="1.0"?>\n<rss version="2.0"><channel/></rss>',
        b"<svg><rect/></svg>",  # no namespace: not SVG
        b'<svg xmlns="http://example.com/not-svg"><rect/></svg>',
        b'<!DOCTYPE html>\n<html><body><svg xmlns="http://www.w3.org/2000/svg"/></body></html>',
        b'<x xmlns="http://www.w3.org/2000/svg"><svg/></x>',
        "<svg xmlns='http://www.w3.org/2000/svg'/>".encode("utf-16"),
    ],
    ids=["rss", "no-ns", "other-ns", "html-inline", "other-root", "utf16"],
)
def test_other_xml_is_not_svg(data):
    assert not is_svg(data)
    try:
        assert sniff_content(data, name="x.xml").name != "svg"
    except AigcTagError:
        pass  # not a supported format at all is fine too


# --- write and read ---------------------------------------------------------------------------


@pytest.mark.parametrize("src", [PLAIN, DECLARED, DOCTYPE], ids=["plain", "decl", "doctype"])
def test_write_then_read_keeps_every_other_byte(src):
    out = CARRIER.write_label(src, LABEL, {"Caption": "c"})
    assert labels(out) == [json.loads(LABEL)["AIGC"]]
    found = CARRIER.read_labels(out)[0]
    assert (found.key, found.location, found.normative) == ("TC260:AIGC", "metadata[0]/XMP", True)
    start = out.index(b"<metadata>")
    block = out[start : out.index(b"</metadata>") + len(b"</metadata>")]
    assert without(out, b"\n  " + block) == src  # a new first child, on its own line
    assert out.index(b"<metadata>") < out.index(b"<!-- a comment -->")
    assert xmp.aigctag_properties(CARRIER.read_xmp(out)) == {"Caption": "c"}


def test_retag_replaces_the_label():
    once = CARRIER.write_label(DOCTYPE, LABEL)
    twice = CARRIER.write_label(once, OTHER)
    assert labels(twice) == [json.loads(OTHER)["AIGC"]]
    assert twice.count(b"<metadata>") == 1 and twice.count(b"TC260:AIGC>") == 2  # open + close
    assert twice.count(b"DigitalSourceType>") == 2 and twice.count(b"<?xpacket begin") == 1
    cut = once.index(b"<metadata>"), once.index(b"</metadata>")
    assert twice[: cut[0]] == once[: cut[0]]  # the packet is edited in place
    assert twice.endswith(once[cut[1] :])


def test_existing_metadata_with_other_rdf_is_kept():
    out = CARRIER.write_label(INKSCAPE, LABEL)
    assert labels(out) == [json.loads(LABEL)["AIGC"]]
    rdf_end = INKSCAPE.index(b"    </rdf:RDF>")
    assert out[:rdf_end].rstrip() == INKSCAPE[:rdf_end].rstrip()  # cc:Work untouched
    assert out.endswith(INKSCAPE[rdf_end:].split(b"</rdf:RDF>", 1)[1])
    packet = CARRIER.read_xmp(out)  # standalone: the root's xmlns:rdf/dc declared on it
    assert b'xmlns:dc="http://purl.org/dc/elements/1.1/"' in packet
    assert xmp.find_label_properties(packet)[0].namespace == xmp.TC260_NS


def test_adobe_packet_is_merged_and_other_places_are_cleaned():
    adobe = (
        xmp.new_packet(OTHER)
        .decode()
        .replace(
            "<TC260:AIGC>",
            '<dc:title xmlns:dc="http://purl.org/dc/elements/1.1/">T</dc:title><TC260:AIGC>',
        )
    )
    src = (
        f'<svg {NS} xmlns:a="urn:x"><metadata>{adobe}</metadata>\n'
        f"<g><metadata><a:AIGC>{LABEL}</a:AIGC></metadata></g>\n"
        '<rect width="1" height="1"/></svg>'
    ).encode()
    before = CARRIER.read_labels(src)
    assert [(f.normative, f.parsed.fields["ProduceID"]) for f in before] == [
        (True, "svg-2"),
        (False, "svg-1"),
    ]
    out = CARRIER.write_label(src, LABEL)
    assert labels(out) == [json.loads(LABEL)["AIGC"]]
    assert b">T</dc:title>" in out and b"<x:xmpmeta" in out  # the Adobe packet is kept
    assert b"<a:AIGC>" not in out and b"<g><metadata></metadata></g>" in out


@pytest.mark.parametrize(
    "src, needle",
    [
        (
            f'<svg {NS} id="r"/>'.encode(),
            b'<svg xmlns="http://www.w3.org/2000/svg" id="r"><metadata>',
        ),
        (f'<svg {NS}><metadata id="m"/><rect/></svg>'.encode(), b'<metadata id="m"><?xpacket'),
        (
            b'<s:svg xmlns:s="http://www.w3.org/2000/svg"><s:rect/></s:svg>',
            b"<s:metadata><?xpacket",
        ),
    ],
    ids=["self-closing-root", "empty-metadata", "prefixed-root"],
)
def test_odd_shapes_get_a_well_formed_label(src, needle):
    out = CARRIER.write_label(src, LABEL)
    assert needle in out
    assert labels(out) == [json.loads(LABEL)["AIGC"]]


def test_c2pa_manifest_element_is_found():
    src = (
        f'<svg {NS}><metadata><c2pa:manifest xmlns:c2pa="http://c2pa.org/manifest">'
        "c29tZQ==</c2pa:manifest></metadata></svg>"
    ).encode()
    assert CARRIER.has_c2pa(src) and not CARRIER.has_c2pa(PLAIN)
    out = CARRIER.write_label(src, LABEL)
    assert b"c29tZQ==</c2pa:manifest><?xpacket" in out  # the label goes beside the manifest


@pytest.mark.skipif(not C2PA_FIXTURES, reason="AIGC_TAG_C2PA_FIXTURES is not set")
def test_c2pa_rs_svg_fixtures_read_and_write():
    folder = Path(C2PA_FIXTURES)
    names = sorted(p.name for p in folder.glob("*.svg"))
    if not names:
        pytest.skip(f"no .svg fixture in {folder}")
    for name in names:
        data = (folder / name).read_bytes()
        assert sniff_content(data, name=name) is CARRIER, name
        out = CARRIER.write_label(data, LABEL)
        assert labels(out) == [json.loads(LABEL)["AIGC"]], name
        assert b"<x:xmpmeta" not in data or b"Adobe XMP Core" in out


# --- independent reader -----------------------------------------------------------------------


@pytest.mark.parametrize("src", [DECLARED, INKSCAPE], ids=["new-metadata", "inkscape"])
def test_exiftool_reads_the_label(src, tmp_path):
    path = tmp_path / "x.svg"
    path.write_bytes(CARRIER.write_label(src, LABEL))
    record = exiftool_json(path, "-XMP:all")
    assert json.loads(record["XMP-TC260:Aigc"]) == json.loads(LABEL)
    assert record["XMP-iptcExt:DigitalSourceType"].endswith("trainedAlgorithmicMedia")
    if src is INKSCAPE:
        assert record["XMP-cc:WorkTitle"] == "Kept title"  # the cc:Work kept


# --- hostile input ----------------------------------------------------------------------------

LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE svg [\n <!ENTITY a "lol">\n'
    b' <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">\n <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">\n]>\n'
    b'<svg xmlns="http://www.w3.org/2000/svg"><text>&c;</text></svg>'
)
XXE = (
    b'<?xml version="1.0"?>\n<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
    b'<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>'
)


@pytest.mark.parametrize("data", [LAUGHS, XXE], ids=["billion-laughs", "xxe"])
def test_entity_declarations_are_refused_in_one_line(data):
    assert sniff_content(data) is CARRIER
    for call in (CARRIER.read_labels, CARRIER.read_xmp, lambda d: CARRIER.write_label(d, LABEL)):
        with pytest.raises(CorruptContainer, match="entity declarations refused") as err:
            call(data)
        assert "\n" not in str(err.value) and "passwd" not in str(err.value)
    report = verify_bytes(data, name="evil.svg", c2pa=False)
    assert report.verdict.value == "inconclusive"


def test_bounds():
    deep = f"<svg {NS}>".encode() + b"<g>" * (MAX_DEPTH + 5) + b"</g>" * (MAX_DEPTH + 5) + b"</svg>"
    with pytest.raises(LimitExceeded, match="nest deeper"):
        CARRIER.read_labels(deep)
    with pytest.raises(CorruptContainer, match="malformed XML"):
        CARRIER.read_labels(PLAIN[:-12])
    with pytest.raises(UnsupportedFormat, match="UTF-8 only"):
        latin = b'<?xml version="1.0" encoding="ISO-8859-1"?>' + PLAIN
        CARRIER.write_label(latin, LABEL)
    with pytest.raises(UnsupportedFormat, match="no pixels"):
        CARRIER.reencode(PLAIN, lambda im: im)


# --- the pipeline -----------------------------------------------------------------------------


def test_metadata_only_tagging_keeps_the_drawing_byte_for_byte():
    out, result = Tagger(PRODUCER, visible=False, watermark=False).tag_bytes(DOCTYPE, name="x.svg")
    assert result.format == "svg" and result.layers == ["metadata"] and not result.warnings
    block = out[out.index(b"\n  <metadata>") : out.index(b"</metadata>") + len(b"</metadata>")]
    assert without(out, block) == DOCTYPE


def test_tagger_draws_a_text_caption_and_skips_the_watermark():
    out, result = Tagger(PRODUCER).tag_bytes(DOCTYPE, name="x.svg")
    assert result.layers == ["visible", "metadata"]
    assert NO_WATERMARK_WARNING in result.warnings
    group = out[out.index(b'<g class="aigc-label"') : out.index(b"</g>") + 4]
    assert out.index(group) > out.index(b"<path")  # painted over the drawing
    assert b">AI\xe7\x94\x9f\xe6\x88\x90</text>" in group  # AI生成
    report = verify_bytes(out, name="x.svg")
    assert report.verdict.value == "compliant" and report.media_type == "image"
    assert report.format == "svg" and report.watermark is None
    visible = report.visible_label
    assert (
        visible["found"] and visible["text"] == "AI生成" and visible["position"] == "bottom-right"
    )
    assert visible["ratio"] >= 0.05 and visible["contrast"] >= 4.5
    outcomes = {c.id: c.outcome.value for c in report.checks if c.id.startswith("X-I")}
    assert outcomes == {"X-I1": "pass", "X-I2": "pass", "X-I3": "pass", "X-I4": "pass"}
    removed = out.replace(group, b"")
    report = verify_bytes(removed, name="x.svg")
    assert report.verdict.value == "noncompliant"  # declared in XMP, gone from the drawing
    assert next(c for c in report.checks if c.id == "X-I1").outcome.value == "fail"


@pytest.mark.parametrize(
    "root",
    [
        'viewBox="0 0 40 30"',
        'viewBox="-50 10 300 1200"',
        'width="640" height="480"',
        'width="24px" height="24px"',
        'viewBox="0,0,2000,150"',
    ],
)
@pytest.mark.parametrize("text", ["AI生成", "本内容由人工智能生成", "AI-generated"])
@pytest.mark.parametrize("position", ["bottom-right", "top-left", "top", "left"])
def test_caption_geometry_holds_5_percent_inside_the_canvas(root, text, position):
    src = f"<svg {NS} {root}><rect width='1' height='1'/></svg>".encode()
    try:
        out, declared = CARRIER.add_caption(src, text, position)
    except UnsupportedFormat as exc:  # only a long text on a very wide strip may not fit
        assert "does not fit" in str(exc) and "2000,150" in root
        return
    drawn = CARRIER.read_caption(out)
    assert drawn["text"] == text and drawn["ratio"] >= 0.05 and declared["ratio"] >= 0.05
    w, h = drawn["image_size"]
    x0, y0, x1, y1 = declared["box"]
    assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h, (declared["box"], w, h)
    assert drawn["position"] == position
    assert drawn["glyph_height_px"] == declared["glyph_height_px"]
    again, _ = CARRIER.add_caption(out, text, position)
    assert again == out  # re-captioning replaces, it does not stack


def test_caption_needs_a_canvas():
    src = f'<svg {NS} width="100%"><rect width="1" height="1"/></svg>'.encode()
    with pytest.raises(UnsupportedFormat, match="no viewBox"):
        CARRIER.add_caption(src, "AI生成", "bottom-right")
    out, result = Tagger(PRODUCER).tag_bytes(src, name="x.svg")
    assert result.layers == ["metadata"]
    assert any(w.startswith("SVG: explicit caption not applied") for w in result.warnings)


def test_a_third_party_text_label_is_read():
    label = f'<svg {NS} viewBox="0 0 100 100"><text x="2" y="98" font-size="8">AI生成</text></svg>'
    drawn = CARRIER.read_caption(label.encode())
    assert drawn["element"] == "<text>" and drawn["position"] == "bottom-left"
    assert drawn["ratio"] == pytest.approx(8 * 0.88 / 100, abs=1e-3) and drawn["contrast"] is None
    report = verify_bytes(label.encode(), name="x.svg")
    assert report.visible_label["source"] == "svg-text" and report.visible_label["found"]
    other = label.replace("AI生成", "欢迎光临").encode()  # ordinary text is no label
    assert CARRIER.read_caption(other) is None
    assert verify_bytes(other, name="x.svg").visible_label == {"found": False, "source": "svg-text"}


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "aigc_tag", *args], capture_output=True,
                          text=True, timeout=300)  # fmt: skip


def test_cli_tag_then_verify(tmp_path):
    (tmp_path / "x.svg").write_bytes(INKSCAPE)
    res = run_cli("tag", str(tmp_path / "x.svg"), "-o", str(tmp_path / "out"), "--producer",
                  PRODUCER)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert NO_WATERMARK_WARNING in res.stderr
    res = run_cli("verify", str(tmp_path / "out" / "x.svg"), "--json")
    assert res.returncode == 0, res.stdout + res.stderr
    report = json.loads(res.stdout)
    assert report["verdict"] == "compliant" and report["format"] == "svg"
    assert report["metadata_label"]["ContentProducer"] == PRODUCER


# --- C2PA -------------------------------------------------------------------------------------

CERTS = THIRDPARTY / "test-certs"


@pytest.fixture(scope="module")
def es256():
    if not (CERTS / "es256_certs.pem").is_file():
        pytest.skip(f"test certificates not present in {CERTS}")
    from aigc_tag.provenance.sign import C2paSigner

    signer = C2paSigner.from_files(CERTS / "es256_certs.pem", CERTS / "es256_private.key")
    return signer, (CERTS / "c2pa_test_root_bundle.pem").read_text()


def test_c2pa_signed_svg_is_trusted_and_one_changed_byte_is_invalid(es256):
    signer, anchors = es256
    out, result = Tagger(PRODUCER, c2pa_signer=signer).tag_bytes(DOCTYPE, name="x.svg")
    assert result.layers == ["visible", "metadata", "c2pa"]
    assert sniff_content(out) is CARRIER and CARRIER.has_c2pa(out)
    assert labels(out) == [result.label.as_dict()]
    report = verify_bytes(out, name="x.svg", trust_anchors_pem=anchors)
    assert report.c2pa["state"] == "Trusted", report.c2pa
    assert report.verdict.value == "compliant"
    assert report.c2pa["ai_declared"] is True
    tampered = out.replace(b'width="30"', b'width="31"', 1)
    assert tampered != out
    report = verify_bytes(tampered, name="x.svg", trust_anchors_pem=anchors)
    assert report.c2pa["state"] == "Invalid", report.c2pa
    retag = Tagger(PRODUCER)
    with pytest.raises(AigcTagError, match="C2PA manifest"):
        retag.tag_bytes(out, name="x.svg")  # an existing manifest is not silently broken


def test_registry_lists_svg():
    assert registry()["svg"] is CARRIER
    assert CARRIER.mime == "image/svg+xml" and CARRIER.media_type == "image"


def test_canvas_from_the_root_attributes():
    assert astuple(canvas({"viewBox": "-5,10 300 1200", "width": "1"})) == (-5, 10, 300, 1200)
    assert astuple(canvas({"width": "24px", "height": "10"})) == (0, 0, 24, 10)
    assert canvas({"viewBox": "0 0 0 10", "width": "100%", "height": "3em"}) is None
