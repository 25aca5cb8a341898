"""Labels that cannot be read, labels that do not parse, and texts whose only label is the
explicit one (issue 14): each file is built here, byte by byte, and verified end to end."""

from __future__ import annotations

import io
import json
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from aigc_tag import Tagger, verify_bytes
from aigc_tag import xmp as xmp_mod
from aigc_tag.carriers import heif, pdf, png
from aigc_tag.errors import CorruptContainer
from aigc_tag.label import AIGCLabel, charset_problems
from aigc_tag.verify import Outcome, Verdict
from aigc_tag.verify.report import CheckResult, compose_verdict
from tests.conftest import PRODUCER

LABEL = AIGCLabel.for_producer(PRODUCER, "robust-1").to_json()
WORDING = "本内容由人工智能生成"
ANSWER = (
    "巴黎是法国的首都。它以埃菲尔铁塔和卢浮宫闻名，每年吸引来自世界各地的游客。"
    "这座城市有着悠久的历史和丰富的文化，塞纳河穿城而过。"
)
FIELD_CHECKS = ("M05", "M06", "M07", "M08", "M09")


def chunk(ctype: bytes, body: bytes, *, crc: int | None = None) -> bytes:
    good = zlib.crc32(ctype + body) & 0xFFFFFFFF
    stored = good if crc is None else crc
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", stored)


def png_with(*extra: bytes) -> bytes:
    """A real 8x8 PNG (Pillow) with ``extra`` chunks inserted before its first IDAT."""
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (40, 90, 160)).save(buf, "PNG")
    data = buf.getvalue()
    at = data.index(b"IDAT") - 4
    return data[:at] + b"".join(extra) + data[at:]


def outcomes(report) -> dict[str, str]:  # noqa: ANN001
    return {c.id: c.outcome.value for c in report.checks}


def message(report, check_id: str) -> str:  # noqa: ANN001
    return next(c.message for c in report.checks if c.id == check_id)


# A stream that does not compress well, so cutting it really cuts the deflate data.
COMPRESSED = zlib.compress(LABEL.encode() + b" " + bytes(range(256)) * 4)
CUT = COMPRESSED[: len(COMPRESSED) // 2]

UNREADABLE = {
    "zTXt cut": chunk(b"zTXt", b"AIGC\0\0" + CUT),
    "zTXt not zlib": chunk(b"zTXt", b"AIGC\0\0" + b"not a zlib stream"),
    "zTXt unknown method": chunk(b"zTXt", b"AIGC\0\x07" + COMPRESSED),
    "iTXt compressed, cut": chunk(b"iTXt", b"AIGC\0\1\0\0\0" + CUT),
    "XMP iTXt compressed, cut": chunk(b"iTXt", png.XMP_KEYWORD + b"\0\1\0\0\0" + CUT),
}


@pytest.mark.parametrize("name", sorted(UNREADABLE))
def test_unreadable_label_stream_is_inconclusive_never_not_found(name: str) -> None:
    data = png_with(UNREADABLE[name])
    report = verify_bytes(data, watermark=False)
    assert report.verdict is Verdict.INCONCLUSIVE
    checks = outcomes(report)
    assert checks["M02"] == "pass" and checks["M04"] == "error"
    assert "unreadable" in message(report, "M04")
    assert "not valid JSON" not in message(report, "M04")
    assert all(checks[c] == "skip" for c in FIELD_CHECKS)
    (site,) = report.labels
    assert site["site_error"] and site["parse_error"].startswith("unreadable:")


def test_site_keys_are_in_the_report_schema() -> None:
    report = verify_bytes(png_with(UNREADABLE["zTXt cut"]), watermark=False)
    doc = (Path(__file__).resolve().parents[1] / "docs" / "report-schema.md").read_text("utf-8")
    for key in ("site_error", "site_notes"):
        assert key in report.to_json()["labels"][0] and f"`{key}`" in doc
    assert "## Verdict semantics" in doc


def test_cut_stream_beside_a_good_label_still_cannot_be_judged() -> None:
    # The cut copy might be a second, different label (M09): the file is not compliant, it is
    # unknown.
    good = chunk(b"tEXt", b"AIGC\0" + LABEL.encode())
    report = verify_bytes(png_with(good, UNREADABLE["zTXt cut"]), watermark=False)
    assert report.verdict is Verdict.INCONCLUSIVE
    assert report.metadata_label["ProduceID"] == "robust-1"
    assert "1 unreadable" in message(report, "M03")


def test_whole_compressed_label_still_reads() -> None:
    whole = chunk(b"zTXt", b"AIGC\0\0" + zlib.compress(LABEL.encode()))
    report = verify_bytes(png_with(whole), watermark=False)
    assert report.verdict is Verdict.COMPLIANT and report.labels[0]["site_error"] is None


def test_inflate_stays_bounded() -> None:
    bomb = zlib.compress(b" " * (png.MAX_TEXT_BYTES + 10))
    report = verify_bytes(png_with(chunk(b"zTXt", b"AIGC\0\0" + bomb)), watermark=False)
    assert report.verdict is Verdict.INCONCLUSIVE
    assert "inflates beyond" in message(report, "M02")


def test_writing_replaces_an_unreadable_label_copy() -> None:
    out = png.CARRIER.write_label(png_with(UNREADABLE["zTXt cut"]), LABEL)
    assert verify_bytes(out, watermark=False).verdict is Verdict.COMPLIANT
    with pytest.raises(CorruptContainer, match="truncated"):  # never merged into a cut XMP
        png.CARRIER.write_label(png_with(UNREADABLE["XMP iTXt compressed, cut"]), LABEL)


@pytest.mark.parametrize(
    "label_chunk",
    [
        chunk(b"tEXt", b"AIGC\0" + LABEL.encode(), crc=0),
        chunk(b"zTXt", b"AIGC\0\0" + zlib.compress(LABEL.encode()), crc=0xDEADBEEF),
        chunk(b"iTXt", png.XMP_KEYWORD + b"\0\0\0\0\0" + xmp_mod.new_packet(LABEL), crc=1),
    ],
    ids=["tEXt", "zTXt", "XMP iTXt"],
)
def test_bad_crc_on_a_label_chunk_warns_and_the_label_is_read(label_chunk: bytes) -> None:
    report = verify_bytes(png_with(label_chunk), watermark=False)
    assert report.verdict is Verdict.COMPLIANT
    assert outcomes(report)["M04"] == "warn" and "CRC mismatch" in message(report, "M04")
    assert "CRC mismatch" in report.labels[0]["site_notes"][0]
    assert report.metadata_label["ProduceID"] == "robust-1"


def test_bad_crc_elsewhere_is_not_a_label_warning() -> None:
    other = chunk(b"tEXt", b"Comment\0hello", crc=0)
    report = verify_bytes(png_with(other, chunk(b"tEXt", b"AIGC\0" + LABEL.encode())))
    assert outcomes(report)["M04"] == "pass"


def test_only_label_unparseable_fails_without_passing_the_field_checks() -> None:
    report = verify_bytes(png_with(chunk(b"tEXt", b"AIGC\0{Label: 1,")), watermark=False)
    assert report.verdict is Verdict.NONCOMPLIANT
    checks = outcomes(report)
    assert checks["M04"] == "fail" and "not valid JSON" in message(report, "M04")
    assert [checks[c] for c in ("M06", "M07", "M08", "M09")] == ["skip"] * 4
    assert "all seven" not in message(report, "M06")
    assert "Label =" not in message(report, "M07")
    assert "no label value decoded" in message(report, "M07")


def test_charset_warning_keeps_the_order_of_the_text() -> None:
    assert charset_problems("中文平台") == ["characters outside Annex E j) set: '中文平台'"]
    assert "'中文平台'" in charset_problems("x中文中文平台平台y")[0]  # each once, as they come
    assert charset_problems("一二三四五六七八九十")[0].endswith("'一二三四五六七八' and 2 more")
    fields = {**AIGCLabel.for_producer(PRODUCER, "robust-2").as_dict(), "ReservedCode2": "中文平台"}
    label = json.dumps({"AIGC": fields}, ensure_ascii=False)
    report = verify_bytes(png_with(chunk(b"tEXt", b"AIGC\0" + label.encode())), watermark=False)
    assert outcomes(report)["M08"] == "warn" and "'中文平台'" in message(report, "M08")


# --- compressed label places of other formats -------------------------------------------------


def pdf_with_metadata(stream: bytes) -> bytes:
    """A one-page PDF whose XMP metadata stream is ``stream`` (declared /FlateDecode)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /Metadata 4 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] >>",
        b"<< /Type /Metadata /Subtype /XML /Filter /FlateDecode /Length %d >>\nstream\n"
        % len(stream)
        + stream
        + b"\nendstream",
    ]
    out, offsets = bytearray(b"%PDF-1.7\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def test_pdf_cut_xmp_stream_is_inconclusive() -> None:
    packet = xmp_mod.new_packet(LABEL) + bytes(range(256)) * 8
    whole = zlib.compress(packet)
    assert [f.key for f in pdf.CARRIER.read_labels(pdf_with_metadata(whole))] == ["TC260:AIGC"]
    report = verify_bytes(pdf_with_metadata(whole[: len(whole) // 3]), watermark=False)
    assert report.verdict is Verdict.INCONCLUSIVE
    assert outcomes(report)["M02"] == "error" and "truncated" in message(report, "M02")


def test_heif_cut_deflate_item_is_corrupt_not_empty() -> None:
    item = heif.Item(1, item_type=b"mime")
    item.encoding = b"deflate"
    whole = zlib.compress(xmp_mod.new_packet(LABEL) + bytes(range(256)) * 4)
    assert heif._decoded(item, whole).startswith(b"<?xpacket")
    with pytest.raises(CorruptContainer, match="truncated"):
        heif._decoded(item, whole[: len(whole) // 2])


# --- texts whose only label is the explicit one ---------------------------------------------


def test_plain_text_with_wording_is_compliant_with_a_sidecar_warning() -> None:
    report = verify_bytes(f"{ANSWER}\n\n{WORDING}\n".encode(), name="answer.txt")
    assert report.verdict is Verdict.COMPLIANT
    checks = outcomes(report)
    assert checks["X-T1"] == "pass" and checks["X-T2"] == "warn"
    assert "sidecar" in message(report, "X-T2")
    assert report.metadata_label is None


def test_plain_text_with_mark_and_wording_is_compliant_and_mark_alone_fails() -> None:
    out, result = Tagger(PRODUCER, invisible_mark=True).tag_bytes(ANSWER.encode(), name="a.txt")
    assert result.layers == ["visible", "invisible-mark"]
    report = verify_bytes(out, name="a.txt")
    assert report.verdict is Verdict.COMPLIANT
    assert outcomes(report).items() >= {"X-T1": "pass", "W-T1": "pass"}.items()
    stripped = out.decode().replace(WORDING, "").encode()
    cut = verify_bytes(stripped, name="a.txt")
    assert cut.verdict is Verdict.NONCOMPLIANT and outcomes(cut)["X-T1"] == "fail"
    assert "invisible mark" in message(cut, "X-T1")


def test_plain_text_require_label_is_met_by_the_explicit_label() -> None:
    labelled = verify_bytes(f"{WORDING}\n{ANSWER}".encode(), name="a.txt", require_label=True)
    assert labelled.verdict is Verdict.COMPLIANT and outcomes(labelled)["M03"] == "skip"
    bare = verify_bytes(ANSWER.encode(), name="a.txt", require_label=True)
    assert bare.verdict is Verdict.NONCOMPLIANT and outcomes(bare)["X-T1"] == "fail"
    assert verify_bytes(ANSWER.encode(), name="a.txt").verdict is Verdict.NOT_FOUND


def test_markdown_with_wording_but_no_front_matter_is_not_found_and_says_so() -> None:
    report = verify_bytes(f"# 答案\n\n{ANSWER}\n\n{WORDING}\n".encode(), name="answer.md")
    assert report.format == "markdown" and report.verdict is Verdict.NOT_FOUND
    assert outcomes(report)["X-T1"] == "pass"
    text = message(report, "X-T1")
    assert "explicit label found" in text and "no metadata label" in text
    assert report.text_label["explicit"]["found"] is True
    assert "X-T2" not in outcomes(report)  # the sidecar advice is for plain text only


def test_composer_is_pure_and_takes_the_explicit_label_as_an_argument() -> None:
    passed = [CheckResult("X-T1", Outcome.PASS, "E", "", "")]
    assert compose_verdict(passed, label_decoded=False) is Verdict.NOT_FOUND
    assert compose_verdict(passed, label_decoded=False, explicit_is_label=True) is (
        Verdict.COMPLIANT
    )
    failed = [*passed, CheckResult("C01", Outcome.FAIL, "E", "", "")]
    assert compose_verdict(failed, label_decoded=False, explicit_is_label=True) is (
        Verdict.NONCOMPLIANT
    )
