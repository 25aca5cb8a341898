"""Vendor evidence: reported from real file structures, never a verdict."""

from __future__ import annotations

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
