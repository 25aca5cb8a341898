"""Measures Art. 6 for every upload: decide from what verify finds, then re-label (or not)."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import PRODUCER, THIRDPARTY, encode, photo
from PIL import Image, ImageDraw, ImageFont, PngImagePlugin

import aigc_tag
from aigc_tag.carriers import sniff_content
from aigc_tag.cli import main
from aigc_tag.propagate import Art6Decision, Propagator, auto_propagate, decide
from aigc_tag.tagging import Tagger
from aigc_tag.verify import verify_bytes
from aigc_tag.verify.report import Report

PLATFORM = "001191110108MA01ABCDEN20001"
SAMPLES = Path(__file__).resolve().parents[1] / "samples"
CERTS = THIRDPARTY / "test-certs"
CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc")
TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
A1111 = ("a lighthouse at dusk\nNegative prompt: blurry\nSteps: 28, Sampler: DPM++ 2M, "
         "CFG scale: 7, Seed: 42, Size: 512x512, Model: sd_xl_base_1.0")  # fmt: skip


def labels(data: bytes) -> list[dict]:
    return [f.parsed.fields for f in sniff_content(data).read_labels(data)]


def kinds(decision: Art6Decision) -> set[str]:
    return {t["kind"] for t in decision.evidence}


def sd_marked(payload: str = "sd1") -> bytes:
    """The repo's landscape photo marked as Stability AI's scripts do (imwatermark dwtDct)."""
    cv2 = pytest.importorskip("cv2")
    imwatermark = pytest.importorskip("imwatermark")
    enc = imwatermark.WatermarkEncoder()
    if payload == "sdxl":
        enc.set_watermark("bits", [int(b) for b in format(0xB3EC907BB19E, "048b")])
    else:
        enc.set_watermark("bytes", b"StableDiffusionV1")
    rgb = np.asarray(Image.open(SAMPLES / "landscape.jpg").convert("RGB"))
    marked = enc.encode(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), "dwtDct")[:, :, ::-1]
    return encode(Image.fromarray(np.ascontiguousarray(marked)), "PNG")


def c2pa_ai_jpeg() -> bytes:
    """A JPEG whose C2PA manifest (c2pa-python, the c2pa test certificate) says trained AI."""
    c2pa = pytest.importorskip("c2pa")
    if not (CERTS / "es256_certs.pem").is_file():
        pytest.skip(f"c2pa test certificates not present in {CERTS}")
    from aigc_tag.provenance.sign import C2paSigner

    signer = C2paSigner.from_files(CERTS / "es256_certs.pem", CERTS / "es256_private.key")
    manifest = {
        "claim_generator_info": [{"name": "some-generator", "version": "1.0"}],
        "title": "generated.jpg",
        "assertions": [{"label": "c2pa.actions", "data": {"actions": [
            {"action": "c2pa.created", "digitalSourceType": TRAINED}]}}],
    }  # fmt: skip
    with c2pa.Builder(manifest) as builder:
        dst = io.BytesIO()
        builder.sign(signer.native(), "image/jpeg", io.BytesIO(encode(photo(), "JPEG")), dst)
    return dst.getvalue()


def test_labelled_file_is_kept_and_gets_the_platform_fields():
    tagged = aigc_tag.tag_bytes(encode(photo(), "PNG"), producer=PRODUCER, visible=False,
                                watermark=False)  # fmt: skip
    done = auto_propagate(tagged, PLATFORM, declared=True)
    assert done.decision.case == "labelled" and done.decision.label == "1"
    assert "declaration does not change" in done.decision.reason
    (label,) = labels(done.data)
    assert label["Label"] == "1" and label["ContentProducer"] == PRODUCER
    assert label["ContentPropagator"] == PLATFORM and label["PropagateID"]
    assert done.result.case == "labelled" and done.result.previous.ContentProducer == PRODUCER


def test_sd_parameters_in_png_text_make_label_3():
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", A1111)
    done = auto_propagate(encode(photo(), "PNG", pnginfo=info), PLATFORM, name="sd.png")
    assert done.decision.case == "suspected" and done.decision.label == "3"
    (trace,) = [t for t in done.decision.evidence if t["kind"] == "generator_params"]
    assert trace["strength"] == "moderate" and trace["source"] == "png:parameters"
    (label,) = labels(done.data)
    assert label["Label"] == "3" and label["ContentPropagator"] == PLATFORM
    assert label["ContentProducer"] == PLATFORM  # producer unknown: the platform's code


@pytest.mark.parametrize("payload", ["sd1", "sdxl"])
def test_stable_diffusion_watermark_is_a_strong_trace_and_label_3(payload):
    done = auto_propagate(sd_marked(payload), PLATFORM)
    sd = done.report.evidence["sd_watermark"]
    assert sd["checked"] and len(sd["found"]) == 1, sd
    assert done.decision.case == "suspected" and kinds(done.decision) == {"sd_watermark"}
    assert done.decision.evidence[0]["strength"] == "strong"
    assert labels(done.data)[0]["Label"] == "3"


def test_unmarked_photo_has_no_sd_watermark():
    report = verify_bytes((SAMPLES / "landscape.jpg").read_bytes())
    sd = report.evidence["sd_watermark"]
    assert sd["checked"] and sd["found"] == [] and sd["partial"] == []
    assert all(m["agreeing"] < m["threshold"] for m in sd["marks"])


def test_caption_drawn_by_another_tool_makes_label_3_once_ocr_reads_it():
    pytest.importorskip("aigc_tag.visible.ocr")
    if not CJK_FONT.is_file():
        pytest.skip(f"no CJK font at {CJK_FONT}")
    im = photo(800, 600, seed=3)
    font = ImageFont.truetype(str(CJK_FONT), 44)
    ImageDraw.Draw(im).text((24, 520), "人工智能生成", font=font, fill=(255, 255, 255),
                            stroke_width=2, stroke_fill=(0, 0, 0))  # fmt: skip
    done = auto_propagate(encode(im, "PNG"), PLATFORM, name="captioned.png")
    assert done.report.visible_label["found"] and done.report.visible_label["source"] == "ocr"
    assert done.decision.case == "suspected" and kinds(done.decision) == {"explicit_label"}
    assert labels(done.data)[0]["Label"] == "3"


def test_c2pa_declared_ai_jpeg_is_label_3_and_its_manifest_follows_the_rules(tmp_path):
    data = c2pa_ai_jpeg()
    done = auto_propagate(data, PLATFORM, name="gen.jpg")
    assert done.decision.case == "suspected" and "c2pa" in kinds(done.decision)
    c2pa_trace = next(t for t in done.decision.evidence if t["kind"] == "c2pa")
    assert c2pa_trace["strength"] == "strong" and "trainedAlgorithmicMedia" in c2pa_trace["detail"]
    # no signer: the write is refused (the manifest would break), the decision stands
    assert done.data is None and "C2PA manifest" in done.error
    from aigc_tag.provenance.sign import C2paSigner

    signer = C2paSigner.from_files(CERTS / "es256_certs.pem", CERTS / "es256_private.key")
    done = auto_propagate(data, Propagator(PLATFORM, c2pa_signer=signer), name="gen.jpg")
    assert done.result.c2pa == "updated" and labels(done.data)[0]["Label"] == "3"
    after = verify_bytes(done.data)
    assert after.c2pa["state"] in ("Valid", "Trusted") and after.c2pa["ai_declared"]


def test_declared_upload_is_label_2_and_a_clean_photo_is_left_alone(thirdparty):
    done = auto_propagate(encode(photo(), "PNG"), PLATFORM, declared=True)
    assert done.decision.case == "declared" and labels(done.data)[0]["Label"] == "2"
    camera = (thirdparty / "unsigned" / "IMG_0003.jpg").read_bytes()
    done = auto_propagate(camera, PLATFORM, name="IMG_0003.jpg")
    assert done.decision.case == "none" and done.data is None and done.result is None
    assert done.decision.evidence == () and done.to_json()["writes"] is False


def _report(**fields) -> Report:
    base = {"path": "x.png", "media_type": "image", "format": "png"}
    return Report(**{**base, **fields})


def test_decide_is_pure_and_weak_hints_alone_do_not_trigger():
    hint = {"kind": "generator_name", "detail": "Midjourney named in exif:Software",
            "strength": "weak", "source": "exif:Software"}  # fmt: skip
    report = _report(evidence={"traces": [hint]})
    decision = decide(report)
    assert decision.case == "none" and decision.hints == (hint,) and "hints" in decision.reason
    assert decide(report, min_strength="weak").case == "suspected"
    broken = _report(metadata_label={"Label": "7", "ContentProducer": "x", "ProduceID": "y"})
    assert decide(broken, declared=True).case == "invalid_label"
    assert decide(Report(path="x", error="cannot read: gone")).case == "unreadable"
    with pytest.raises(ValueError, match="min_strength"):
        decide(report, min_strength="loud")


def test_sd_watermark_not_checked_without_the_extra(monkeypatch):
    from aigc_tag.verify import evidence

    monkeypatch.setattr(evidence, "_imwatermark_available", lambda: False)
    report = verify_bytes(encode(photo(300, 300), "PNG"))
    assert report.evidence["sd_watermark"]["checked"] is False
    assert "sd watermark: not checked (install aigc-tag[sdwm])" in report.evidence["notes"]


def test_cli_auto_with_declared_list_and_report(tmp_path, thirdparty):
    inbox = tmp_path / "in"
    inbox.mkdir()
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", A1111)
    (inbox / "sd.png").write_bytes(encode(photo(), "PNG", pnginfo=info))
    (inbox / "user.png").write_bytes(encode(photo(seed=2), "PNG"))
    (inbox / "IMG_0003.jpg").write_bytes((thirdparty / "unsigned" / "IMG_0003.jpg").read_bytes())
    tagged = Tagger(PRODUCER, visible=False, watermark=False).tag_bytes(encode(photo(), "PNG"))[0]
    (inbox / "tagged.png").write_bytes(tagged)
    declared = tmp_path / "declared.txt"
    declared.write_text(f"# uploads declared AI by their users\n{inbox / 'user.png'}\n")
    out, run_report = tmp_path / "out", tmp_path / "run.jsonl"
    args = ["propagate", "--auto", "-o", str(out), "--propagator", PLATFORM, "-j", "1",
            "--declared-list", str(declared), "--report", str(run_report), str(inbox)]  # fmt: skip
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    lines = [json.loads(line) for line in run_report.read_text().splitlines()]
    by_name = {Path(r["src"]).name: r for r in lines[:-1]}
    assert {n: r["case"] for n, r in by_name.items()} == {
        "IMG_0003.jpg": "none", "sd.png": "suspected", "tagged.png": "labelled",
        "user.png": "declared"}  # fmt: skip
    assert by_name["IMG_0003.jpg"]["status"] == "left" and by_name["IMG_0003.jpg"]["output"] is None
    assert not (out / "IMG_0003.jpg").exists()
    assert by_name["sd.png"]["evidence"][0]["kind"] == "generator_params"
    assert labels((out / "sd.png").read_bytes())[0]["Label"] == "3"
    assert labels((out / "user.png").read_bytes())[0]["Label"] == "2"
    assert labels((out / "tagged.png").read_bytes())[0]["ContentPropagator"] == PLATFORM
    assert lines[-1]["summary"]["cases"] == {"declared": 1, "labelled": 1, "none": 1,
                                             "suspected": 1}  # fmt: skip
    assert "left alone" in res.output


def test_cli_auto_usage_errors(tmp_path):
    src = tmp_path / "a.png"
    src.write_bytes(encode(photo(), "PNG"))
    declared = tmp_path / "d.txt"
    declared.write_text(str(src))
    runner = CliRunner()
    base = ["propagate", "-o", str(tmp_path / "o"), "--propagator", PLATFORM]
    res = runner.invoke(main, [*base, "--declared-list", str(declared), str(src)])
    assert res.exit_code == 2 and "--auto" in res.output
    res = runner.invoke(main, [*base, "--auto", "--suspected", str(src)])
    assert res.exit_code == 2 and "--suspected" in res.output


def test_web_propagate_only_for_operators(tmp_path):
    pytest.importorskip("starlette")
    pytest.importorskip("multipart")
    from starlette.testclient import TestClient

    from aigc_tag.web.app import create_app

    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", A1111)
    upload = {"file": ("sd.png", encode(photo(), "PNG", pnginfo=info), "image/png")}
    off = TestClient(create_app(tmp_root=tmp_path))
    assert off.get("/api/health").json()["propagate"] is False
    resp = off.post("/api/propagate", files=upload)
    assert resp.status_code == 404 and resp.json()["error"] == "propagate_disabled"
    on = TestClient(create_app(tmp_root=tmp_path, propagator=Propagator(PLATFORM)))
    assert on.get("/api/health").json()["propagate"] is True
    body = on.post("/api/propagate", files=upload).json()
    assert body["case"] == "suspected" and body["label"] == "3" and body["path"] == "sd.png"
    out = base64.b64decode(body["file"]["base64"])
    assert labels(out)[0]["Label"] == "3" and body["file"]["name"] == "sd.propagated.png"
    body = on.post("/api/propagate", files=upload, data={"declared": "1"}).json()
    assert body["case"] == "declared" and labels(base64.b64decode(body["file"]["base64"]))[0][
        "Label"] == "2"  # fmt: skip
    clean = {"file": ("plain.png", encode(photo(seed=5), "PNG"), "image/png")}
    body = on.post("/api/propagate", files=clean).json()
    assert body["case"] == "none" and body["file"] is None
    assert "/api/propagate" in on.get("/openapi.json").json()["paths"]


def test_serve_refuses_a_bad_propagator_code_before_binding():
    pytest.importorskip("uvicorn")
    res = CliRunner().invoke(main, ["serve", "--port", "0", "--propagator", "bad code"])
    assert res.exit_code == 2 and "propagator" in res.output
