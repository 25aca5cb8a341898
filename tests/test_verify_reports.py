"""Reports people read: the JSON schema doc, HTML (escaped, zh/en), CSV; C2PA on others' files."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import PRODUCER, encode, photo

import aigc_tag
from aigc_tag.cli.verify_cmd import verify as verify_cli
from aigc_tag.verify import Verdict, verify, verify_bytes
from aigc_tag.verify.render import CSV_COLUMNS, render_csv, render_html

DOC = Path(__file__).resolve().parents[1] / "docs" / "report-schema.md"
HOSTILE = "<script>alert(1)</script>"


def outcomes(report) -> dict[str, str]:
    return {c.id: c.outcome.value for c in report.checks}


def _documented() -> set[str]:
    return set(re.findall(r"^\| `([a-z_0-9]+)` \|", DOC.read_text(encoding="utf-8"), re.M))


def test_schema_doc_lists_every_key_of_a_real_report():
    data = aigc_tag.tag_bytes(encode(photo(), "PNG"), producer=PRODUCER, visible=False)
    obj = json.loads(verify_bytes(data).to_json_line())
    documented = _documented()
    assert set(obj) <= documented, set(obj) - documented
    assert set(obj["c2pa"]) <= documented, set(obj["c2pa"]) - documented
    assert set(obj["evidence"]) <= documented, set(obj["evidence"]) - documented
    text = DOC.read_text(encoding="utf-8")
    for check_id in ("C01", "C02", "K01", "K02", "K03"):
        assert f"`{check_id}`" in text


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.tags: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag, attrs):  # noqa: ANN001
        self.tags.append(tag)
        if tag not in ("meta", "img", "input", "br", "col"):  # HTML void elements used
            self.open.append(tag)

    def handle_endtag(self, tag):  # noqa: ANN001
        assert self.open and self.open[-1] == tag, (tag, self.open[-5:])
        self.open.pop()

    def handle_data(self, data):  # noqa: ANN001
        self.text.append(data)


def _hostile_files(folder: Path) -> list[Path]:
    """A label whose ProduceID is a script, in a file whose name is a script, plus a clean file."""
    label = aigc_tag.AIGCLabel.for_producer(PRODUCER, HOSTILE)
    bad = folder / "<script>x.png"
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("AIGC", label.to_json())
    bad.write_bytes(encode(photo(64, 48), "PNG", pnginfo=info))
    good = folder / "good.jpg"
    good.write_bytes(aigc_tag.tag_bytes(encode(photo(), "JPEG"), producer=PRODUCER,
                                        visible=False, watermark=False))  # fmt: skip
    return [bad, good]


def test_html_report_is_well_formed_complete_and_escaped(tmp_path):
    files = _hostile_files(tmp_path)
    reports = [verify(f, watermark=False) for f in files]
    assert reports[0].metadata_label["ProduceID"] == HOSTILE
    page = render_html(reports)
    assert "<script" not in page.lower()  # neither the file name nor the label leaks raw
    assert "&lt;script&gt;" in page
    parser = _Collect()
    parser.feed(page)
    parser.close()
    assert parser.open == [] and "table" in parser.tags
    text = "".join(parser.text)
    for report in reports:
        assert report.path in text  # unescaped back by the parser: the names are all there
        assert report.verdict.value in text
        for check in report.checks:
            assert check.id in text
    assert HOSTILE in text  # shown as text, never as markup
    assert "结论" in text and "verdict" in text  # zh and en side by side
    assert not re.search(r"(src|href)\s*=\s*\"?(https?:|//)", page) and "<link" not in page


def test_csv_report_one_row_per_file(tmp_path):
    files = _hostile_files(tmp_path)
    reports = [verify(f, watermark=False) for f in files]
    rows = list(csv.DictReader(io.StringIO(render_csv(reports))))
    assert len(rows) == len(files)
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [r["path"] for r in rows] == [str(f) for f in files]
    assert rows[0]["ProduceID"] == HOSTILE and rows[1]["verdict"] == "compliant"
    assert rows[1]["c2pa_state"] == "absent"
    evil = verify_bytes(b"=cmd|' /C calc'!A0", name="=1+1.txt")
    assert next(csv.DictReader(io.StringIO(render_csv([evil]))))["path"] == "'=1+1.txt"


def test_cli_writes_html_csv_and_json_lines(tmp_path, monkeypatch):
    monkeypatch.setenv("AIGC_TAG_CONFIG", str(tmp_path / "config.toml"))
    (tmp_path / "config.toml").write_text("[verify]\n", encoding="utf-8")
    folder = tmp_path / "in"
    folder.mkdir()
    files = _hostile_files(folder)
    html_out, csv_out = tmp_path / "r" / "report.html", tmp_path / "r" / "report.csv"
    args = [str(folder), "--json", "--no-watermark", "-j", "1", "--html", str(html_out)]
    res = CliRunner().invoke(verify_cli, [*args, "--csv", str(csv_out)])
    assert res.exit_code == 0, res.output  # "<script>..." is within the Annex E j) charset
    lines = [json.loads(line) for line in res.stdout.splitlines()]
    assert len(lines) == len(files)
    page = html_out.read_text(encoding="utf-8")
    assert "<script" not in page.lower() and "data:image/jpeg;base64," in page
    rows = list(csv.DictReader(io.StringIO(csv_out.read_text(encoding="utf-8-sig"))))
    assert len(rows) == len(files)


# --- C2PA on files nobody here made ---------------------------------------------------------


def _signed(thirdparty: Path, name: str) -> Path:
    path = thirdparty / "c2pa-signed" / name
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    return path


def _anchors(thirdparty: Path) -> str:
    return (thirdparty / "test-certs" / "c2pa_test_root_bundle.pem").read_text()


def test_c2pa_trusted_with_the_test_anchors(thirdparty):
    path = _signed(thirdparty, "CA.jpg")
    report = verify(path, trust_anchors_pem=_anchors(thirdparty), watermark=False)
    c2pa = report.c2pa
    assert c2pa["present"] and c2pa["state"] == "Trusted" and c2pa["trust"] == "trusted"
    assert c2pa["failures"] == [] and c2pa["signer"]
    assert outcomes(report)["C01"] == "pass" and outcomes(report)["C02"] == "info"
    assert report.verdict is Verdict.NOT_FOUND  # no GB label: C2PA alone is not compliant
    bare = verify(path, watermark=False).c2pa
    assert bare["state"] == "Valid" and bare["trust"] == "untrusted"
    assert "signingCredential.untrusted" in bare["failures"]
    assert outcomes(verify(path, watermark=False))["C01"] == "warn"


@pytest.mark.parametrize(
    ("name", "code"),
    [("XCA.jpg", "assertion.dataHash.mismatch"), ("E-sig-CA.jpg", "claimSignature.mismatch")],
)
def test_c2pa_invalid_fixtures(thirdparty, name, code):
    report = verify(_signed(thirdparty, name), trust_anchors_pem=_anchors(thirdparty),
                    watermark=False)  # fmt: skip
    assert report.c2pa["state"] == "Invalid" and code in report.c2pa["failures"]
    assert report.c2pa["trust"] == "n.a."
    assert outcomes(report)["C01"] == "fail"
    assert report.verdict is Verdict.NONCOMPLIANT
    rows = list(csv.DictReader(io.StringIO(render_csv([report]))))
    assert rows[0]["c2pa_state"] == "Invalid" and "C01" in rows[0]["failed_checks"]


def test_c2pa_other_media_read_as_signed(thirdparty):
    anchors = _anchors(thirdparty)
    for name in ("video1.mp4", "sample1_signed.wav", "pdf-file.pdf"):
        c2pa = verify(_signed(thirdparty, name), trust_anchors_pem=anchors, watermark=False).c2pa
        assert c2pa["present"] and c2pa["state"] in ("Trusted", "Valid"), (name, c2pa)
    pdf = verify(_signed(thirdparty, "pdf-file.pdf"), watermark=False)
    assert pdf.c2pa["ai_declared"] is True and outcomes(pdf)["C02"] == "pass"
    assert outcomes(pdf)["K03"] == "info"


def test_unreadable_manifest_is_inconclusive_never_not_found(thirdparty):
    data = bytearray(_signed(thirdparty, "CA.jpg").read_bytes())
    at = data.find(b"jumb")
    data[at + 40 : at + 400] = bytes(360)  # wreck the manifest store, keep the JPEG
    report = verify_bytes(bytes(data), watermark=False)
    assert report.c2pa["present"]
    if report.c2pa["state"] == "Error":
        assert outcomes(report)["C01"] == "error"
        assert report.verdict is Verdict.INCONCLUSIVE
    else:  # the SDK read it as a broken manifest
        assert report.c2pa["state"] == "Invalid" and report.verdict is Verdict.NONCOMPLIANT


def test_remote_manifest_is_reported_not_fetched():
    packet = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
              '22-rdf-syntax-ns#"><rdf:Description xmlns:dcterms="http://purl.org/dc/terms/" '
              'dcterms:provenance="https://example.invalid/manifest.c2pa"/></rdf:RDF>'
              "</x:xmpmeta>")  # fmt: skip
    report = verify_bytes(encode(photo(64, 48), "JPEG", xmp=packet.encode()), watermark=False)
    assert report.c2pa["remote"] and report.c2pa["remote_url"].endswith("manifest.c2pa")
    assert report.c2pa["state"] is None and outcomes(report)["C01"] == "warn"
    assert report.verdict is Verdict.NOT_FOUND


def test_trust_anchors_from_the_config_file(tmp_path, monkeypatch, thirdparty):
    path = _signed(thirdparty, "CA.jpg")
    shutil.copy(thirdparty / "test-certs" / "c2pa_test_root_bundle.pem", tmp_path / "roots.pem")
    config = tmp_path / "config.toml"
    config.write_text('[verify]\ntrust_anchors = "roots.pem"\n', encoding="utf-8")
    monkeypatch.setenv("AIGC_TAG_CONFIG", str(config))
    res = CliRunner().invoke(verify_cli, [str(path), "--json", "--no-watermark"])
    assert json.loads(res.stdout.splitlines()[-1])["c2pa"]["state"] == "Trusted", res.output
    config.write_text("[verify\n", encoding="utf-8")
    assert CliRunner().invoke(verify_cli, [str(path), "--no-watermark"]).exit_code == 2


# --- a file we could not read is never not_found -------------------------------------------


def _wav_bytes() -> bytes:
    import wave

    import numpy as np

    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes((np.sin(np.arange(16000) / 5) * 8000).astype("<i2").tobytes())
    return buf.getvalue()


@pytest.mark.parametrize("kind", ["png", "jpeg-pixels", "wav", "pdf", "garbage"])
def test_parser_failures_are_inconclusive(kind):
    if kind == "png":
        data = encode(photo(), "PNG")[:300]
    elif kind == "jpeg-pixels":  # the label reads, the pixels (caption, watermark) do not
        tagged = aigc_tag.tag_bytes(encode(photo(), "JPEG"), producer=PRODUCER, watermark=False)
        data = tagged[: len(tagged) * 2 // 3]
    elif kind == "wav":
        data = _wav_bytes()[:30]
    elif kind == "pdf":
        data = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R"
    else:
        data = b"\x00\x01garbage" * 10
    report = verify_bytes(data, name=f"broken.{kind}")
    assert report.verdict is Verdict.INCONCLUSIVE, [c.to_json() for c in report.checks]
    assert any(c.outcome.value == "error" for c in report.checks)
