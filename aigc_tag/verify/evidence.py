"""Evidence: signals that are not the GB label, reported and never judged.

What real AI-generated files carry besides (or instead of) an Annex E label: the IPTC
``DigitalSourceType`` in XMP, generator names in EXIF (``Software``, ``ImageDescription``, ``Make``,
``Artist``...), the PNG text chunks of the Stable Diffusion tools (A1111 ``parameters``, ComfyUI
``prompt``/``workflow``, InvokeAI), the C2PA claim generator and signer, and the PG-20252A producer
codes of known vendors, and (with the ``sdwm`` extra) the public invisible-watermark mark that
Stability AI's reference scripts embed. None of it changes a verdict: a ``Software: Midjourney``
tag is trivially forged or stripped. The consistency check K03 mentions them when no GB label is
present.

:func:`build_traces` turns a finished report into one list, ``evidence["traces"]``, each trace
with a strength, which the platform's Art. 6 decision (:mod:`aigc_tag.propagate`) reads:

* ``strong``: a signed AI declaration (an intact C2PA manifest), or a detected watermark whose
  false-match rate is measured to be low (aigc-tag's mark, Stable Diffusion's mark);
* ``moderate``: unsigned metadata that declares AI (IPTC DigitalSourceType, generator parameter
  chunks, a vendor's producer code), an explicit label found on the content, a C2PA declaration
  whose signature does not verify;
* ``weak``: hints, e.g. a generator's name in EXIF ``Software``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ..errors import AigcTagError

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

    from ..carriers import Carrier
    from .report import Report

__all__ = [
    "GENERATORS",
    "KNOWN_PRODUCERS",
    "SD_MARKS",
    "STRENGTHS",
    "SdMark",
    "add_traces",
    "build_traces",
    "collect",
    "detect_sd_watermark",
    "generator_names",
]

#: Longest value kept per field in the report (prompts and ComfyUI workflows can be megabytes).
MAX_VALUE_CHARS = 300

#: (canonical name, pattern) — matched case-insensitively on every text signal.
GENERATORS: tuple[tuple[str, str], ...] = (
    ("Midjourney", r"midjourney"),
    ("OpenAI (DALL·E / ChatGPT / Sora)", r"dall[\s\-·.]?e|openai|chatgpt|gpt-4o|\bsora\b"),
    (
        "Stable Diffusion",
        r"stable[\s_-]?diffusion|\bsdxl\b|sd_xl|sd-?v?1[._]5|automatic1111|\ba1111\b|fooocus",
    ),
    ("ComfyUI", r"comfyui"),
    ("InvokeAI", r"invoke\s?ai"),
    ("NovelAI", r"novelai"),
    ("Adobe Firefly", r"firefly"),
    ("Google (Imagen / Gemini)", r"\bimagen\b|made with google ai|gemini|synthid|google ai"),
    ("Microsoft Designer / Bing Image Creator", r"microsoft designer|bing image|image creator"),
    ("Meta AI", r"meta ai|imagine with meta|imagined with ai"),
    ("Flux (Black Forest Labs)", r"black forest labs|\bflux(\.1)?\b"),
    ("Runway", r"runwayml|runway gen|\brunway\b"),
    ("Ideogram", r"ideogram"),
    ("Leonardo.Ai", r"leonardo\.?ai"),
    ("Kling (可灵)", r"\bkling|可灵"),
    ("Jimeng / Dreamina (即梦)", r"jimeng|即梦|dreamina"),
    ("Doubao (豆包)", r"doubao|豆包"),
    ("Tongyi / Qwen / Wanx (通义)", r"tongyi|通义|wanx|万相|\bqwen|千问"),
    ("Wenxin / ERNIE (文心)", r"wenxin|文心|\bernie\b|ernie-vilg|\byige\b|一格"),
    ("Hunyuan / Yuanbao (混元)", r"hunyuan|混元|yuanbao|元宝"),
    ("MiniMax / Hailuo (海螺)", r"minimax|hailuo|海螺"),
    ("Vidu", r"\bvidu\b"),
    ("PicWish", r"picwish"),
)
_COMPILED = [(name, re.compile(pattern, re.IGNORECASE)) for name, pattern in GENERATORS]

#: PG-20252A subject identification (code positions 3-22: ``11`` + the USCC) of vendors whose
#: codes were seen in shipped files (spec/gb45438.md §3.3).
KNOWN_PRODUCERS: dict[str, str] = {
    "1191110102MACQD9K640": "Doubao (豆包, ByteDance)",
    "1191440300708461136T": "Tencent (腾讯)",
    "1191330106MA2CFLDG4R": "Alibaba (阿里巴巴)",
    "1191440300MA5G49LC9K": "Honor (荣耀)",
}

#: EXIF IFD0 tags that name a tool or a generator.
_EXIF_FIELDS = ("Software", "ImageDescription", "Make", "Model", "Artist", "Copyright")
#: PNG text keywords written by generators (and ``Software``, which any tool may write).
_PNG_KEYWORDS = {
    "parameters": "Stable Diffusion web UI (A1111 / Forge) generation parameters",
    "prompt": "ComfyUI prompt graph",
    "workflow": "ComfyUI workflow",
    "invokeai_metadata": "InvokeAI",
    "sd-metadata": "InvokeAI (legacy)",
    "Dream": "InvokeAI (legacy)",
    "Software": None,
    "Comment": None,
    "Description": None,
    "Source": None,
}


def generator_names(text: str) -> list[str]:
    """Canonical generator names mentioned in ``text`` (empty when none)."""
    return [name for name, rx in _COMPILED if rx.search(text)]


def collect(
    carrier: Carrier,
    data: bytes,
    *,
    xmp_packet: bytes | None,
    c2pa: dict | None,
    label: dict | None,
) -> dict:
    """The evidence object of a report (keys always present, see docs/report-schema.md)."""
    out: dict = {
        "iptc_digital_source_type": _iptc(xmp_packet),
        "exif": {},
        "png_text": {},
        "generators": [],
        "producer_codes": [],
        "errors": [],
    }
    try:
        out["exif"] = _exif(carrier, data)
    except (AigcTagError, ValueError) as exc:
        out["errors"].append(f"EXIF: {exc}")
    if carrier.name == "png":
        try:
            out["png_text"] = _png_text(data)
        except (AigcTagError, ValueError) as exc:
            out["errors"].append(f"PNG text: {exc}")
    hits: list[dict] = []
    for field, value in out["exif"].items():
        hits += _hits(f"exif:{field}", value)
    for keyword, value in out["png_text"].items():
        note = _PNG_KEYWORDS.get(keyword)
        if note:
            hits.append({"name": note, "source": f"png:{keyword}", "value": value})
        hits += _hits(f"png:{keyword}", value)
    if c2pa:
        for key in ("claim_generator", "signer"):
            if c2pa.get(key):
                hits += _hits(f"c2pa:{key}", str(c2pa[key]))
    if label:
        for key in ("ContentProducer", "ContentPropagator"):
            code = str(label.get(key) or "")
            vendor = KNOWN_PRODUCERS.get(code[2:22]) if len(code) == 27 else None
            if vendor:
                out["producer_codes"].append({"field": key, "code": code, "vendor": vendor})
            elif code:
                hits += _hits(f"label:{key}", code)
    out["generators"] = _dedupe(hits)
    return out


def _clip(value: str) -> str:
    value = value.strip()
    if len(value) <= MAX_VALUE_CHARS:
        return value
    return value[:MAX_VALUE_CHARS] + f"… ({len(value)} chars)"


def _hits(source: str, value: str) -> list[dict]:
    return [{"name": n, "source": source, "value": _clip(value)} for n in generator_names(value)]


def _dedupe(hits: list[dict]) -> list[dict]:
    seen, out = set(), []
    for hit in hits:
        key = (hit["name"], hit["source"])
        if key not in seen:
            seen.add(key)
            out.append(hit)
    return out


def _iptc(packet: bytes | None) -> list[str]:
    from .. import xmp

    if not packet:
        return []
    try:
        return xmp.digital_source_types(packet)
    except AigcTagError:
        return []


def _exif_tiff(carrier: Carrier, data: bytes) -> bytes | None:
    """The TIFF structure of the EXIF block, where the format has one we can reach cheaply."""
    if carrier.name == "jpeg":
        from ..carriers import jpeg

        for seg in jpeg.segments(data)[0]:
            if seg.marker == 0xE1 and seg.body(data)[:6] in jpeg.EXIF_IDS:
                return data[seg.payload + 6 : seg.end]
        return None
    if carrier.name == "png":
        from ..carriers import png

        for chunk in png.chunks(data):
            if chunk.type == b"eXIf":
                return chunk.body(data)
        return None
    if carrier.name == "webp":
        from ..carriers import webp

        for chunk in webp.chunks(data):
            if chunk.fourcc == b"EXIF":
                return webp._split_exif(chunk.payload(data))[1]
        return None
    if carrier.name == "tiff":
        return data
    return None


def _exif(carrier: Carrier, data: bytes) -> dict[str, str]:
    from ..carriers import _exif

    tiff = _exif_tiff(carrier, data)
    if not tiff:
        return {}
    tags = _exif.read_tags(tiff)
    return {k: _clip(tags[k]) for k in _EXIF_FIELDS if tags.get(k)}


def _png_text(data: bytes) -> dict[str, str]:
    from ..carriers import png

    out: dict[str, str] = {}
    for chunk in png.chunks(data):
        if chunk.type not in (b"tEXt", b"zTXt", b"iTXt"):
            continue
        text = png._parse_text(chunk, data)
        keyword = text.keyword.decode("latin-1")
        if keyword in _PNG_KEYWORDS and keyword not in out:
            encoding = "utf-8" if chunk.type == b"iTXt" else "latin-1"
            out[keyword] = _clip(text.value.decode(encoding, "replace"))
    return out


# --------------------------------------------------------------------------------------------
# Stable Diffusion's invisible-watermark mark (dwtDct)
# --------------------------------------------------------------------------------------------

#: ``imwatermark`` refuses smaller pictures; so do we (too few blocks to say anything).
SD_MIN_PIXELS = 256 * 256
#: dwtDct reads the picture at full resolution (a downscaled copy loses the mark), so the cost is
#: bounded by a pixel limit instead: larger pictures are reported "not checked".
SD_MAX_PIXELS = 4096 * 4096
SD_INSTALL_NOTE = "sd watermark: not checked (install aigc-tag[sdwm])"
#: The decoder's defaults (``EmbedMaxDct``): the U channel, quantisation step 36, 4x4 blocks of
#: the Haar LL band; a bit is 1 when its blocks' mean score exceeds 127/255.
_SD_SCALE = 36.0
_SD_BLOCK = 4


@dataclass(frozen=True)
class SdMark:
    """A published invisible-watermark payload and the agreement that counts as a match.

    ``threshold`` (agreeing bits, inclusive: a strong trace) and ``partial`` (a weak one) come
    from benchmarks/sd_watermark.py, marked pictures against unmarked ones: the threshold is
    above every unmarked picture measured and has a binomial tail P(Bin(n, 1/2) >= t) below
    1e-6; ``partial`` is Stability AI's own "likely watermarked" level for SDXL (36 of 48) and
    the same tail (about 1e-4) for the others."""

    name: str
    bits: tuple[int, ...]
    threshold: int
    partial: int


def _bits_of(data: bytes) -> tuple[int, ...]:
    return tuple((byte >> (7 - i)) & 1 for byte in data for i in range(8))


def _bits_of_int(value: int, width: int) -> tuple[int, ...]:
    return tuple(int(b) for b in format(value, f"0{width}b"))


SD_MARKS: tuple[SdMark, ...] = (
    # CompVis/stable-diffusion and Stability-AI scripts (SD 1.x): bytes "StableDiffusionV1"
    SdMark("Stable Diffusion 1.x reference scripts", _bits_of(b"StableDiffusionV1"), 100, 90),
    # Stability-AI/stablediffusion scripts (SD 2.x): bytes "SDV2"
    SdMark("Stable Diffusion 2.x reference scripts", _bits_of(b"SDV2"), 30, 28),
    # Stability-AI/generative-models (SDXL) and diffusers' SDXL pipelines: a fixed 48-bit message
    SdMark("SDXL (generative-models / diffusers)", _bits_of_int(0xB3EC907BB19E, 48), 41, 36),
)


class PixelSource(Protocol):
    """What the verifier hands over: the decoded picture (once), or why there is none."""

    error: str | None

    def shown(self) -> Image.Image | None: ...


def sd_block_scores(image: Image.Image) -> np.ndarray:
    """One 0/1 score per 4x4 block of the U channel's Haar LL band, in the order the
    invisible-watermark decoder visits them (row by row); the same arithmetic as its dwtDct
    reader, vectorised so that every payload length is read from one pass."""
    import cv2
    import numpy as np
    import pywt

    bgr = np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])
    rows, cols = bgr.shape[0] // 4 * 4, bgr.shape[1] // 4 * 4
    u = cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV)[:rows, :cols, 1]
    ll = pywt.dwt2(u, "haar")[0]
    b = _SD_BLOCK
    nr, nc = ll.shape[0] // b, ll.shape[1] // b
    blocks = ll[: nr * b, : nc * b].reshape(nr, b, nc, b).transpose(0, 2, 1, 3)
    coeffs = np.abs(blocks.reshape(nr * nc, b * b)[:, 1:])  # the DC position is never used
    strongest = coeffs[np.arange(len(coeffs)), np.argmax(coeffs, axis=1)]
    return (strongest % _SD_SCALE > 0.5 * _SD_SCALE).astype(np.uint8)


def sd_bits(scores: np.ndarray, length: int) -> np.ndarray:
    """The ``length`` bits the decoder reads from block ``scores`` (block k carries bit k % n)."""
    import numpy as np

    index = np.arange(len(scores)) % length
    sums = np.bincount(index, weights=scores, minlength=length)
    counts = np.bincount(index, minlength=length)
    return (sums / np.maximum(counts, 1) * 255 > 127).astype(np.uint8)


def sd_agreement(image: Image.Image) -> dict[str, int]:
    """Agreeing bits per :data:`SD_MARKS` entry (by name): the measured quantity."""
    import numpy as np

    scores = sd_block_scores(image)
    out = {}
    for mark in SD_MARKS:
        read = sd_bits(scores, len(mark.bits))
        out[mark.name] = int(np.sum(read == np.asarray(mark.bits, dtype=np.uint8)))
    return out


def _imwatermark_available() -> bool:
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("imwatermark", "cv2", "pywt"))


def detect_sd_watermark(image: Image.Image | None, *, error: str | None = None) -> dict:
    """The ``evidence.sd_watermark`` object: checked or why not, and each payload's agreement."""
    out: dict = {"checked": False, "reason": None, "pixels": None, "marks": [], "found": [],
                 "partial": []}  # fmt: skip
    if not _imwatermark_available():
        out["reason"] = SD_INSTALL_NOTE
        return out
    if image is None:
        out["reason"] = f"sd watermark: not checked (pixels not decoded: {error or 'no image'})"
        return out
    pixels = image.width * image.height
    out["pixels"] = pixels
    if pixels < SD_MIN_PIXELS:
        out["reason"] = "sd watermark: not checked (smaller than 256x256, as imwatermark)"
        return out
    if pixels > SD_MAX_PIXELS:
        out["reason"] = (f"sd watermark: not checked ({pixels} pixels > limit {SD_MAX_PIXELS}; "
                         "dwtDct reads full resolution only)")  # fmt: skip
        return out
    agreement = sd_agreement(image)
    out["checked"] = True
    for mark in SD_MARKS:
        agree = agreement[mark.name]
        out["marks"].append({"name": mark.name, "bits": len(mark.bits), "agreeing": agree,
                             "threshold": mark.threshold, "partial_threshold": mark.partial,
                             "match": agree >= mark.threshold})  # fmt: skip
        if agree >= mark.threshold:
            out["found"].append(mark.name)
        elif agree >= mark.partial:
            out["partial"].append(mark.name)
    return out


# --------------------------------------------------------------------------------------------
# Traces: every signal, with its strength
# --------------------------------------------------------------------------------------------

STRENGTHS = ("strong", "moderate", "weak")
#: PNG chunks that only a generator writes, and what their content must look like to count as
#: its parameters (a bare "prompt" keyword could be anything).
_PARAM_SHAPES = {
    "parameters": re.compile(r"\bSteps:\s*\d+.*\b(Sampler|Seed|CFG scale):", re.S),
    "prompt": re.compile(r'"class_type"\s*:'),
    "workflow": re.compile(r'"nodes"\s*:'),
    "invokeai_metadata": re.compile(r"."),
    "sd-metadata": re.compile(r"."),
    "Dream": re.compile(r"."),
}


def _trace(kind: str, detail: str, strength: str, source: str) -> dict:
    return {"kind": kind, "detail": detail, "strength": strength, "source": source}


def _c2pa_traces(c2pa: dict | None) -> list[dict]:
    if not c2pa or not c2pa.get("present") or not c2pa.get("ai_declared"):
        return []
    sources = ", ".join(s.rsplit("/", 1)[-1] for s in c2pa.get("digital_source_types") or [])
    state = c2pa.get("state")
    # Integrity, not trust, decides: an expired or unknown signer over an intact manifest still
    # declares what its producer signed (c2pa-rs calls an expired credential Invalid).
    if state in ("Valid", "Trusted") or c2pa.get("intact"):
        distrust = "signing credential: " + ", ".join(c2pa.get("trust_failures") or ["?"])
        trust = {"Trusted": "trusted signer", "Valid": "signer not in the trust anchors"}.get(
            state or "", distrust
        )
        detail = f"C2PA manifest declares AI ({sources}); intact, {trust}"
        return [_trace("c2pa", detail, "strong", "c2pa")]
    detail = f"C2PA manifest declares AI ({sources}) but does not validate (state {state})"
    return [_trace("c2pa", detail, "moderate", "c2pa")]


def _metadata_traces(evidence: dict) -> list[dict]:
    from ..provenance.c2pa_read import AI_SOURCE_SUFFIXES

    out = []
    for uri in evidence.get("iptc_digital_source_type") or []:
        if uri.endswith(AI_SOURCE_SUFFIXES):
            detail = f"IPTC DigitalSourceType {uri.rsplit('/', 1)[-1]} (unsigned XMP)"
            out.append(_trace("iptc", detail, "moderate", "xmp:Iptc4xmpExt:DigitalSourceType"))
    for keyword, value in (evidence.get("png_text") or {}).items():
        shape = _PARAM_SHAPES.get(keyword)
        if shape is not None:
            strength = "moderate" if shape.search(value) else "weak"
            detail = f"{_PNG_KEYWORDS[keyword]} in PNG text chunk {keyword!r}"
            out.append(_trace("generator_params", detail, strength, f"png:{keyword}"))
    for code in evidence.get("producer_codes") or []:
        detail = f"{code['field']} {code['code']} is a code of {code['vendor']}"
        out.append(_trace("producer_code", detail, "moderate", f"label:{code['field']}"))
    params = {t["source"] for t in out}
    for hit in evidence.get("generators") or []:
        if hit["source"] not in params and not hit["source"].startswith("label:"):
            detail = f"{hit['name']} named in {hit['source']}"
            out.append(_trace("generator_name", detail, "weak", hit["source"]))
    return out


def _label_traces(report: Report) -> list[dict]:
    """The explicit label and aigc-tag's invisible mark, wherever the report found them."""
    out = []
    shown = report.visible_label or {}
    if shown.get("found", shown.get("found_in_pixels")):
        source = shown.get("source") or "declared"
        detail = f"explicit label {shown.get('text')!r} in the picture ({source})"
        out.append(_trace("explicit_label", detail, "moderate", f"visible:{source}"))
    text = report.text_label or {}
    explicit = text.get("explicit") or {}
    if explicit.get("found"):
        where = explicit.get("position") or "text"
        out.append(_trace("explicit_label", f"explicit text label ({where})", "moderate", "text"))
    invisible = text.get("invisible") or {}
    if invisible.get("found"):
        detail = f"aigc-tag invisible text mark {invisible.get('payload_hex')}"
        out.append(_trace("aigc_watermark", detail, "strong", "text:invisible"))
    audible = report.audible_label or {}
    if (audible.get("declared") or {}).get("found"):
        out.append(_trace("explicit_label", "declared audible cue", "moderate", "audio:declared"))
    elif audible.get("rhythm"):
        out.append(_trace("explicit_label", "audible rhythm cue", "weak", "audio:rhythm"))
    mark = report.watermark or {}
    if mark.get("detected") and mark.get("payload"):
        detail = f"aigc-tag watermark {mark['payload']['hex']} (p = {mark.get('p_value'):.1e})"
        out.append(_trace("aigc_watermark", detail, "strong", f"watermark:{mark.get('key')}"))
    return out


def build_traces(report: Report) -> list[dict]:
    """Every trace of AI generation in a finished report, strongest first (pure: reads only
    the report). Each is ``{kind, detail, strength, source}``."""
    evidence = report.evidence or {}
    traces = _c2pa_traces(report.c2pa) + _label_traces(report) + _metadata_traces(evidence)
    sd = evidence.get("sd_watermark") or {}
    for name in sd.get("found") or []:
        detail = f"invisible-watermark dwtDct mark of {name}"
        traces.append(_trace("sd_watermark", detail, "strong", "pixels:dwtDct"))
    for name in sd.get("partial") or []:
        detail = f"partial match of the invisible-watermark dwtDct mark of {name}"
        traces.append(_trace("sd_watermark", detail, "weak", "pixels:dwtDct"))
    return sorted(traces, key=lambda t: STRENGTHS.index(t["strength"]))


def add_traces(report: Report, pixels: PixelSource | None, *, search: bool = True) -> None:
    """Finish ``report.evidence``: the Stable Diffusion mark (images, when ``search``) and the
    trace list. Called once at the end of a verification."""
    if not report.evidence:  # the container could not be parsed: nothing to add to
        return
    notes: list[str] = []
    if pixels is not None and report.media_type == "image":
        if search:
            sd = detect_sd_watermark(pixels.shown(), error=pixels.error)
        else:
            sd = {"checked": False, "reason": "sd watermark: not checked (watermark search off)",
                  "pixels": None, "marks": [], "found": [], "partial": []}  # fmt: skip
        report.evidence["sd_watermark"] = sd
        if sd["reason"]:
            notes.append(sd["reason"])
    report.evidence.setdefault("notes", []).extend(notes)
    report.evidence["traces"] = build_traces(report)
