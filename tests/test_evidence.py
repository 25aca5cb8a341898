"""Vendor evidence: reported from real file structures, never a verdict."""

from __future__ import annotations

from pathlib import Path

from conftest import encode, photo
from PIL import Image, PngImagePlugin

from aigc_tag.verify import Verdict, verify_bytes
from aigc_tag.verify.evidence import generator_names


def _names(report) -> set[str]:
    return {g["name"] for g in report.evidence["generators"]}


def test_a1111_parameters_chunk_is_evidence_not_a_verdict():
    info = PngImagePlugin.PngInfo()
    params = ("a cat in a hat\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, CFG scale: 7, "
              "Seed: 1, Size: 64x48, Model: sd_xl_base_1.0")  # fmt: skip
    info.add_text("parameters", params)
    report = verify_bytes(encode(photo(64, 48), "PNG", pnginfo=info), watermark=False)
    assert report.evidence["png_text"]["parameters"].startswith("a cat in a hat")
    sources = {g["source"] for g in report.evidence["generators"]}
    assert "png:parameters" in sources
    assert "Stable Diffusion" in _names(report)  # "sd_xl" in the parameters
    assert report.verdict is Verdict.NOT_FOUND  # evidence never decides
    k03 = next(c for c in report.checks if c.id == "K03")
    assert k03.outcome.value == "info" and "no GB Annex E label" in k03.message


def test_comfyui_prompt_and_workflow_chunks():
    info = PngImagePlugin.PngInfo()
    info.add_text("prompt", '{"3": {"class_type": "KSampler"}}')
    info.add_text("workflow", '{"nodes": []}' + " " * 2000)
    report = verify_bytes(encode(photo(32, 32), "PNG", pnginfo=info), watermark=False)
    names = _names(report)
    assert "ComfyUI prompt graph" in names and "ComfyUI workflow" in names
    assert len(report.evidence["png_text"]["workflow"]) < 400  # clipped


def test_jpeg_exif_software_midjourney():
    im = photo(64, 48)
    exif = Image.Exif()
    exif[0x0131] = "Midjourney v7"
    exif[0x010F] = "Canon"
    report = verify_bytes(encode(im, "JPEG", exif=exif.tobytes()), watermark=False)
    assert report.evidence["exif"]["Software"] == "Midjourney v7"
    assert report.evidence["exif"]["Make"] == "Canon"
    assert [g["name"] for g in report.evidence["generators"]] == ["Midjourney"]
    assert report.evidence["generators"][0]["source"] == "exif:Software"
    assert report.verdict is Verdict.NOT_FOUND


def test_camera_software_is_not_a_generator(thirdparty):
    report = verify_bytes((thirdparty / "unsigned" / "IMG_0003.jpg").read_bytes(), watermark=False)
    assert report.evidence["exif"].get("Make") == "Canon"
    assert report.evidence["generators"] == []


def test_known_producer_code_and_names():
    import aigc_tag

    out = aigc_tag.tag_bytes(encode(photo(64, 48), "PNG"), producer="001191110102MACQD9K64010000",
                             visible=False, watermark=False)  # fmt: skip
    report = verify_bytes(out, watermark=False)
    vendors = {c["vendor"] for c in report.evidence["producer_codes"]}
    assert vendors == {"Doubao (豆包, ByteDance)"}
    assert generator_names("Made with Google AI") == ["Google (Imagen / Gemini)"]
    assert generator_names("即梦AI") == ["Jimeng / Dreamina (即梦)"]
    assert generator_names("Adobe Lightroom 5.3 (Macintosh)") == []
    assert generator_names("Bernie's camera") == []


def test_sd_block_reader_equals_imwatermarks_decoder():
    """The vectorised dwtDct read gives the very bits imwatermark's own decoder gives."""
    import numpy as np
    import pytest

    imwatermark = pytest.importorskip("imwatermark")
    from aigc_tag.verify.evidence import sd_bits, sd_block_scores

    landscape = Path(__file__).parents[1] / "samples" / "landscape.jpg"
    pictures = [photo(517, 389, seed=1), photo(256, 300, seed=2).rotate(30),
                Image.open(landscape).convert("RGB")]  # fmt: skip
    for im in pictures:
        scores = sd_block_scores(im)
        bgr = np.ascontiguousarray(np.asarray(im)[:, :, ::-1])
        for length in (136, 48, 32):
            theirs = imwatermark.WatermarkDecoder("bits", length).decode(bgr, "dwtDct")
            assert np.array_equal(np.asarray(theirs, dtype=np.uint8), sd_bits(scores, length))


def test_sd_watermark_bounds_and_traces():
    from aigc_tag.verify.evidence import SD_MAX_PIXELS, build_traces, detect_sd_watermark

    small = detect_sd_watermark(photo(200, 200))
    assert not small["checked"] and "256x256" in small["reason"]
    side = int(SD_MAX_PIXELS**0.5) + 1
    big = detect_sd_watermark(Image.new("RGB", (side, side)))
    assert not big["checked"] and "full resolution" in big["reason"]
    exif = Image.Exif()
    exif[0x0131] = "Midjourney v7"
    report = verify_bytes(encode(photo(64, 48), "JPEG", exif=exif.tobytes()), watermark=False)
    assert report.evidence["traces"] == build_traces(report)
    (trace,) = report.evidence["traces"]
    assert trace["kind"] == "generator_name" and trace["strength"] == "weak"
    assert "sd watermark: not checked (watermark search off)" in report.evidence["notes"]


def test_iptc_ai_source_is_a_moderate_trace_and_capture_is_none():
    from aigc_tag.verify.evidence import build_traces
    from aigc_tag.verify.report import Report

    ai = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
    capture = "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"
    report = Report(path="x", evidence={"iptc_digital_source_type": [ai, capture]})
    (trace,) = build_traces(report)
    assert trace["kind"] == "iptc" and trace["strength"] == "moderate"
