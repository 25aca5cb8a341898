"""Evidence: signals that are not the GB label, reported and never judged.

What real AI-generated files carry besides (or instead of) an Annex E label: the IPTC
``DigitalSourceType`` in XMP, generator names in EXIF (``Software``, ``ImageDescription``, ``Make``,
``Artist``...), the PNG text chunks of the Stable Diffusion tools (A1111 ``parameters``, ComfyUI
``prompt``/``workflow``, InvokeAI), the C2PA claim generator and signer, and the PG-20252A producer
codes of known vendors. None of it changes a verdict: a ``Software: Midjourney`` tag is trivially
forged or stripped. The consistency check K03 mentions them when no GB label is present.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..errors import AigcTagError

if TYPE_CHECKING:
    from ..carriers import Carrier

__all__ = ["GENERATORS", "KNOWN_PRODUCERS", "collect", "generator_names"]

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
