"""The text and document tagger: composes the layers, each done by its own module.

explicit label (text/explicit.py for plain text, the carrier's ``add_visible`` for Markdown, HTML,
DOCX, XLSX, PPTX, EPUB, PDF) -> invisible mark (text/invisible.py; opt-in, plain text and
Markdown bodies) ->
metadata label (the carrier; plain text has no container, so its record goes to a sidecar).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .carriers import Carrier
from .errors import AigcTagError, UnsupportedFormat
from .label import AIGCLabel

if TYPE_CHECKING:
    from .tagging import TagResult
    from .watermark.payload import Payload

TEXT_PLACES = ("suffix", "prefix", "both")
#: Carriers whose body is text we can decode, mark and label ourselves.
_TEXT_BODIES = ("txt", "markdown")


@dataclass
class TextLayers:
    """What to apply to one text or document, and what was applied."""

    visible: bool
    where: str  # one of TEXT_PLACES
    wording: str  # the resolved label text
    invisible: bool
    metadata: bool
    sidecar: bool
    applied: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    payload: Payload | None = None


def apply_layers(
    data: bytes, carrier: Carrier, label: AIGCLabel, plan: TextLayers, name: str
) -> bytes:
    """Run the enabled layers on document bytes and return the new bytes (``plan`` records)."""
    if carrier.name in _TEXT_BODIES:
        data = _text_body(data, carrier, label, plan, name)
    else:
        data = _document_body(data, carrier, plan)
    if not plan.metadata:
        return data
    if carrier.name == "txt":
        if plan.sidecar:
            plan.applied.append("metadata")  # written beside the output by Tagger.tag_file
        else:
            plan.warnings.append("plain text has no metadata container: the Annex E record was "
                                 "not written (use --sidecar for file.txt.aigc.json)")  # fmt: skip
        return data
    data = carrier.write_label(data, label.to_json(), {})
    plan.applied.append("metadata")
    return data


def _text_body(
    data: bytes, carrier: Carrier, label: AIGCLabel, plan: TextLayers, name: str
) -> bytes:
    from .text import decode_text, encode_text, mark_text

    decoded = decode_text(data, name)
    if decoded.note:
        plan.warnings.append(decoded.note)
    text = decoded.text
    if plan.invisible:
        head, body = _split_front_matter(text)
        text = head + mark_text(body, label)
        from .watermark.payload import Payload

        plan.payload = Payload.for_label(label.ContentProducer, label.ProduceID)
    out = encode_text(decoded, text)
    if plan.visible:
        if carrier.name == "txt":
            from .text import add_label

            out = encode_text(decoded, add_label(text, where=plan.where, wording=plan.wording))
        else:
            out = carrier.add_visible(out, plan.wording, plan.where)
        plan.applied.append("visible")
    if plan.invisible:
        plan.applied.append("invisible-mark")
    return out


def _document_body(data: bytes, carrier: Carrier, plan: TextLayers) -> bytes:
    if plan.invisible:
        plan.warnings.append(f"the invisible text mark is for plain text and Markdown, not "
                             f"{carrier.name}: not applied")  # fmt: skip
    if not plan.visible:
        return data
    try:
        data = carrier.add_visible(data, plan.wording, plan.where)
    except UnsupportedFormat as exc:
        plan.warnings.append(f"explicit label not added: {exc}")
        return data
    plan.applied.append("visible")
    return data


def _split_front_matter(text: str) -> tuple[str, str]:
    """(front matter, body): the mark must never land inside YAML, where it changes values."""
    from .text.explicit import _front_matter_end

    end = _front_matter_end(text)
    return text[:end], text[end:]


def visible_text(data: bytes, carrier: Carrier, name: str) -> str:
    """What a reader sees at the start and end of the document (for X-T1 and the mark)."""
    if carrier.name == "txt":
        from .text import decode_text

        return decode_text(data, name).text
    reader = getattr(carrier, "read_visible", None)
    return reader(data) if reader else ""


def self_check(out: bytes, carrier: Carrier, plan: TextLayers, result: TagResult) -> None:
    """The explicit label and the mark must read back from the output as verify reads them."""
    if not ({"visible", "invisible-mark"} & set(plan.applied)):
        return
    shown = visible_text(out, carrier, result.source)
    checked = ("txt", "markdown", "html", "docx", "xlsx", "pptx", "epub", "pdf")
    if "visible" in plan.applied and carrier.name in checked:
        from .text import check_explicit

        if not check_explicit(shown).found:
            raise AigcTagError(f"{result.source}: self-check failed: the explicit label does not "
                               "read back")  # fmt: skip
    if "invisible-mark" in plan.applied:
        from .text import read_mark

        found = read_mark(shown)
        if not found.found or found.payload_hex != plan.payload.hex():
            raise AigcTagError(f"{result.source}: self-check failed: the invisible mark does not "
                               "read back")  # fmt: skip
