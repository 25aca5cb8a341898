"""The verifier on real-world label variants: verdicts, check outcomes, exit codes."""

from __future__ import annotations

import json

import pytest
from conftest import PRODUCER, encode, photo
from PIL import Image, PngImagePlugin

import aigc_tag
from aigc_tag import AIGCLabel
from aigc_tag.verify import Outcome, Verdict, exit_code_for, verify, verify_bytes

LABEL = AIGCLabel.for_producer(PRODUCER, "0c5e1d7a-5d8e-4a1b-9c57-2b6a2f0e8d11")
WRAPPED = LABEL.to_json()
BARE = json.dumps(json.loads(WRAPPED)["AIGC"], separators=(",", ":"))


def outcomes(report) -> dict[str, str]:
    return {c.id: c.outcome.value for c in report.checks}


def png_with_text(*chunks: tuple[str, str], itxt: tuple[str, str] | None = None) -> bytes:
    info = PngImagePlugin.PngInfo()
    for key, value in chunks:
        info.add_text(key, value)
    if itxt:
        info.add_itxt(*itxt)
    return encode(photo(64, 48), "PNG", pnginfo=info)


def xmp_packet(body: str) -> str:
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f"{body}</rdf:RDF></x:xmpmeta>"
    )


def test_our_own_output_is_compliant():
    data = aigc_tag.tag_bytes(encode(photo(), "PNG"), producer=PRODUCER)
    report = verify_bytes(data)
    assert report.verdict is Verdict.COMPLIANT, report.to_json()
    assert report.metadata_label["ProduceID"] and report.metadata_label["carrier"]
    ids = [c.id for c in report.checks]
    assert ids[:12] == [f"M{i:02d}" for i in range(1, 13)]
    assert {"X-I1", "X-I2", "X-I3", "X-I4", "W01", "W02"} <= set(ids)
    assert all(c.outcome in (Outcome.PASS, Outcome.SKIP) for c in report.checks), report.checks
    assert report.evidence["iptc_digital_source_type"][0].endswith("trainedAlgorithmicMedia")


def test_png_text_chunk_wrapped_form_annex_b():
    report = verify_bytes(png_with_text(("AIGC", WRAPPED)))
    assert report.verdict is Verdict.COMPLIANT
    assert report.labels[0]["carrier"] == "png-text" and report.labels[0]["strict"]


def test_png_text_bare_form():
    report = verify_bytes(png_with_text(("AIGC", BARE)))
    assert report.verdict is Verdict.COMPLIANT
    assert report.labels[0]["fields"]["ProduceID"] == LABEL.ProduceID


def test_two_labels_are_noncompliant_and_disagreement_is_named():
    other = LABEL.with_fields(ProduceID="different").to_json()
    xmp = xmp_packet(
        '<rdf:Description xmlns:TC260="http://www.tc260.org.cn/ns/AIGC/1.0/">'
        f"<TC260:AIGC>{other}</TC260:AIGC></rdf:Description>"
    )
    report = verify_bytes(png_with_text(("AIGC", WRAPPED), itxt=("XML:com.adobe.xmp", xmp)))
    assert report.verdict is Verdict.NONCOMPLIANT
    m09 = next(c for c in report.checks if c.id == "M09")
    assert m09.outcome is Outcome.FAIL and "conflict" in m09.message and "§6.1 c" in m09.clause


def test_xmp_attribute_form_is_found():
    value = WRAPPED.replace('"', "&quot;")
    xmp = xmp_packet(
        '<rdf:Description rdf:about="" xmlns:TC260="http://www.tc260.org.cn/ns/AIGC/1.0/" '
        f'TC260:AIGC="{value}"/>'
    )
    report = verify_bytes(png_with_text(itxt=("XML:com.adobe.xmp", xmp)))
    assert report.verdict is Verdict.COMPLIANT
    assert report.labels[0]["form"] == "attribute"


def test_numeric_label_warns_but_is_read():
    raw = WRAPPED.replace('"Label":"1"', '"Label":1')
    report = verify_bytes(png_with_text(("AIGC", raw)))
    assert outcomes(report)["M07"] == "warn"
    assert report.verdict is Verdict.COMPLIANT


def test_misspelled_key_fails_m06():
    raw = WRAPPED.replace("ContentProducer", "ContentProducter")
    report = verify_bytes(png_with_text(("AIGC", raw)))
    assert outcomes(report)["M06"] == "fail"
    assert report.verdict is Verdict.NONCOMPLIANT
    assert report.metadata_label["ContentProducer"] == PRODUCER  # leniently read all the same


def test_label_value_aigc_fails_m07_and_name_warns_m10():
    raw = '{"AIGC":{"Label":"AIGC","ContentProducer":"Minimax Agent AI","ProduceID":"q"}}'
    report = verify_bytes(png_with_text(("AIGC", raw)))
    got = outcomes(report)
    assert got["M07"] == "fail" and got["M10"] == "warn" and got["M08"] == "warn"
    assert report.verdict is Verdict.NONCOMPLIANT


def test_broken_json_fails_m04():
    report = verify_bytes(png_with_text(("AIGC", '{"AIGC":{"Label":"1",')))
    assert outcomes(report)["M04"] == "fail"
    assert report.verdict is Verdict.NONCOMPLIANT


def test_platform_label_without_propagator_warns_m12():
    raw = LABEL.with_fields(Label="3", ContentPropagator="", PropagateID="").to_json()
    report = verify_bytes(png_with_text(("AIGC", raw)))
    got = outcomes(report)
    assert got["M12"] == "warn" and got["M11"] == "warn"


def test_wrong_xmp_namespace_warns_m05():
    xmp = xmp_packet(
        '<rdf:Description xmlns:TC260="http://example.com/aigc/">'
        f"<TC260:AIGC>{WRAPPED}</TC260:AIGC></rdf:Description>"
    )
    report = verify_bytes(png_with_text(itxt=("XML:com.adobe.xmp", xmp)))
    assert outcomes(report)["M05"] == "warn"


def test_jpeg_exif_usercomment_label_annex_b():
    im = photo()
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9286] = b"ASCII\x00\x00\x00" + WRAPPED.encode()
    report = verify_bytes(encode(im, "JPEG", exif=exif))
    assert report.verdict is Verdict.COMPLIANT
    assert report.labels[0]["carrier"] == "exif-usercomment"


def test_jpeg_bare_blob_in_comment_segment():
    report = verify_bytes(encode(photo(), "JPEG", comment=("AIGC" + BARE).encode()))
    assert report.labels and report.labels[0]["carrier"] == "blob"
    assert report.metadata_label["ProduceID"] == LABEL.ProduceID


def test_no_label_is_not_found_or_failure_when_required():
    data = encode(photo(), "JPEG")
    assert verify_bytes(data).verdict is Verdict.NOT_FOUND
    strict = verify_bytes(data, require_label=True)
    assert strict.verdict is Verdict.NONCOMPLIANT and outcomes(strict)["M03"] == "fail"


def test_truncated_file_is_inconclusive_never_not_found():
    data = png_with_text(("AIGC", WRAPPED))
    report = verify_bytes(data[: len(data) // 2])
    assert report.verdict is Verdict.INCONCLUSIVE


def test_unknown_binary_is_inconclusive_and_plain_text_is_text():
    report = verify_bytes(b"\x00\x01\x02 not a known container \xff\xfe\x00" * 10)
    assert report.verdict is Verdict.INCONCLUSIVE and outcomes(report)["M01"] == "error"
    text = verify_bytes(b"hello, this is plain text\n" * 10, name="note.txt")
    assert (text.media_type, text.format, text.verdict) == ("text", "txt", Verdict.NOT_FOUND)


def test_missing_file_is_an_io_error(tmp_path):
    report = verify(tmp_path / "nope.png")
    assert report.error and exit_code_for([report]) == 2


@pytest.mark.parametrize(
    "verdicts, code",
    [
        ([Verdict.COMPLIANT], 0),
        ([Verdict.COMPLIANT, Verdict.NOT_FOUND], 3),
        ([Verdict.NOT_FOUND, Verdict.INCONCLUSIVE], 4),
        ([Verdict.INCONCLUSIVE, Verdict.NONCOMPLIANT], 1),
    ],
)
def test_exit_code_is_most_severe(verdicts, code):
    from aigc_tag.verify import Report

    assert exit_code_for([Report(path="x", verdict=v) for v in verdicts]) == code


def test_report_json_has_the_documented_keys():
    data = aigc_tag.tag_bytes(
        encode(photo(), "PNG"), producer=PRODUCER, visible=False, watermark=False
    )
    obj = json.loads(verify_bytes(data).to_json_line())
    for key in (
        "path",
        "media_type",
        "format",
        "verdict",
        "metadata_label",
        "visible_label",
        "watermark",
        "c2pa",
        "checks",
    ):
        assert key in obj
    assert set(obj["checks"][0]) == {"id", "outcome", "severity", "clause", "message"}
    assert set(obj["metadata_label"]) == set(AIGCLabel().as_dict()) | {"carrier"}


# --- the explicit caption, checked on the pixels where aigc-tag declared it ------------------


def _tagged_jpeg() -> tuple[bytes, bytes]:
    src = encode(photo(480, 360, seed=5), "JPEG", quality=92)
    return src, aigc_tag.tag_bytes(src, producer=PRODUCER)


def test_declared_caption_is_found_in_the_pixels():
    _, out = _tagged_jpeg()
    report = verify_bytes(out)
    got = outcomes(report)
    assert [got[k] for k in ("X-I1", "X-I2", "X-I3", "X-I4")] == ["pass"] * 4
    assert report.visible_label["found_in_pixels"] and report.visible_label["ratio"] >= 0.05


def test_caption_painted_over_is_noncompliant():
    import io as _io

    src, out = _tagged_jpeg()
    report = verify_bytes(out)
    x0, y0, x1, y1 = report.visible_label["box"]
    tagged = Image.open(_io.BytesIO(out))
    clean = Image.open(_io.BytesIO(src)).crop((x0, y0, x1, y1))
    tagged.paste(clean, (x0, y0))
    packet = aigc_tag.carriers.sniff(out).read_xmp(out)
    erased = encode(tagged, "JPEG", quality=92, xmp=packet)
    report = verify_bytes(erased)
    assert outcomes(report)["X-I1"] == "fail"
    assert report.verdict is Verdict.NONCOMPLIANT


def test_caption_survives_recompression_and_resize_is_reported():
    import io as _io

    _, out = _tagged_jpeg()
    packet = aigc_tag.carriers.sniff(out).read_xmp(out)
    tagged = Image.open(_io.BytesIO(out))
    recompressed = encode(tagged, "JPEG", quality=40, xmp=packet)
    assert outcomes(verify_bytes(recompressed))["X-I1"] == "pass"
    resized = encode(tagged.resize((240, 180)), "JPEG", quality=90, xmp=packet)
    report = verify_bytes(resized)
    assert outcomes(report)["X-I1"] == "warn" and "size" in report.visible_label["error"]


def test_watermark_outlives_the_stripped_label_and_a_changed_label_is_flagged():
    import io as _io

    out = aigc_tag.tag_bytes(encode(photo(512, 384, seed=9), "PNG"), producer=PRODUCER,
                             produce_id="wm-1")  # fmt: skip
    stripped = encode(Image.open(_io.BytesIO(out)).convert("RGB"), "JPEG", quality=60)
    report = verify_bytes(stripped)
    assert report.verdict is Verdict.NOT_FOUND and report.metadata_label is None
    assert outcomes(report)["W01"] == "pass" and outcomes(report)["W02"] == "warn"
    assert (
        report.watermark["payload"]["serial"]
        == aigc_tag.watermark.payload.Payload.for_label(PRODUCER, "wm-1").serial
    )
    relabelled = aigc_tag.tag_bytes(out, producer=PRODUCER, produce_id="other", visible=False,
                                    watermark=False)  # fmt: skip
    assert outcomes(verify_bytes(relabelled))["W02"] == "warn"
    assert outcomes(verify_bytes(out))["W02"] == "pass"
