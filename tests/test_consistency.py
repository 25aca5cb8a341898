"""Consistency across layers (K01-K03, W02, M09), on files built here."""

from __future__ import annotations

import io

from conftest import PRODUCER, encode, photo
from PIL import Image

import aigc_tag
from aigc_tag.carriers import sniff
from aigc_tag.verify import Verdict, verify_bytes
from aigc_tag.verify.consistency import classify_source, run_consistency_checks

AI = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
CAPTURE = "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"


def outcomes(report) -> dict[str, str]:
    return {c.id: c.outcome.value for c in report.checks}


def _tagged_png(**kw) -> bytes:
    return aigc_tag.tag_bytes(encode(photo(96, 64), "PNG"), producer=PRODUCER, visible=False,
                              watermark=False, **kw)  # fmt: skip


def _with_packet(tagged: bytes, edit) -> bytes:  # noqa: ANN001 - packet -> packet
    """The same pixels as a JPEG whose XMP packet was edited by ``edit``."""
    packet = sniff(tagged).read_xmp(tagged)
    im = Image.open(io.BytesIO(tagged)).convert("RGB")
    return encode(im, "JPEG", quality=95, xmp=edit(packet))


def test_label_says_ai_but_iptc_says_digital_capture():
    tagged = _tagged_png()
    assert AI.encode() in sniff(tagged).read_xmp(tagged)
    report = verify_bytes(_with_packet(tagged, lambda p: p.replace(AI.encode(), CAPTURE.encode())))
    assert report.evidence["iptc_digital_source_type"] == [CAPTURE]
    got = outcomes(report)
    assert got["K02"] == "warn" and got["K01"] == "skip" and got["K03"] == "skip"
    assert report.verdict is Verdict.COMPLIANT  # a contradiction warns, it does not fail
    assert outcomes(verify_bytes(tagged))["K02"] == "pass"


def test_watermark_payload_against_an_edited_produce_id():
    src = encode(photo(512, 384, seed=3), "PNG")
    tagged = aigc_tag.tag_bytes(src, producer=PRODUCER, produce_id="id-AAAA", visible=False)
    same = verify_bytes(_with_packet(tagged, lambda p: p))
    assert outcomes(same)["W01"] == "pass" and outcomes(same)["W02"] == "pass"
    edited = verify_bytes(_with_packet(tagged, lambda p: p.replace(b"id-AAAA", b"id-BBBB")))
    assert edited.metadata_label["ProduceID"] == "id-BBBB"
    w02 = next(c for c in edited.checks if c.id == "W02")
    assert w02.outcome.value == "warn" and "does not match" in w02.message
    assert not any(c.id.startswith("K") and c.outcome.value == "fail" for c in edited.checks)


def test_two_disagreeing_labels_are_m09():
    tagged = _tagged_png(produce_id="first")
    other = aigc_tag.AIGCLabel.for_producer(PRODUCER, "second").to_json()
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("AIGC", other)
    im = Image.open(io.BytesIO(tagged))
    info.add_itxt("XML:com.adobe.xmp", sniff(tagged).read_xmp(tagged).decode())
    report = verify_bytes(encode(im, "PNG", pnginfo=info), watermark=False)
    m09 = next(c for c in report.checks if c.id == "M09")
    assert m09.outcome.value == "fail" and "conflict" in m09.message
    assert report.verdict is Verdict.NONCOMPLIANT


def test_c2pa_capture_against_label_and_c2pa_ai_without_label():
    label = {"Label": "1", "ContentProducer": PRODUCER, "ProduceID": "x"}
    capture = {"present": True, "state": "Valid", "digital_source_types": [CAPTURE],
               "ai_declared": False}  # fmt: skip
    got = {c.id: c.outcome.value for c in run_consistency_checks(label, capture, {})}
    assert got["K01"] == "warn"
    ai = {**capture, "digital_source_types": [AI], "ai_declared": True}
    got = {c.id: c for c in run_consistency_checks(None, ai, {})}
    assert got["K01"].outcome.value == "skip"
    assert got["K03"].outcome.value == "info" and "C2PA" in got["K03"].message
    got = {c.id: c.outcome.value for c in run_consistency_checks(None, ai, {
        "iptc_digital_source_type": [CAPTURE]})}  # fmt: skip
    assert got["K01"] == "warn"
    invalid = {**capture, "state": "Invalid"}
    assert run_consistency_checks(label, invalid, {})[0].outcome.value == "skip"
    assert classify_source("digitalCapture") == "capture"
    assert classify_source(AI) == "ai"
    assert classify_source("http://cv.iptc.org/newscodes/digitalsourcetype/algorithmicMedia") == (
        "other"
    )
