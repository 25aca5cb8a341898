"""The image tagger: composes the layers, each done by its own module.

explicit caption (visible/) -> invisible watermark (watermark/) -> metadata label (the carrier).
Caption and watermark share one decode/re-encode pass; metadata-only tagging is a container edit.
Both pixel layers work on the picture as the viewer sees it (EXIF orientation applied), which is
also how platforms re-encode it, and the frames are turned back before encoding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .carriers import Carrier
from .label import AIGCLabel

if TYPE_CHECKING:
    from PIL import Image

    from .visible.caption import CaptionPlacement
    from .watermark.keys import WatermarkKey
    from .watermark.payload import Payload


@dataclass
class ImageLayers:
    """What to apply to one image, and what was applied."""

    visible: bool
    watermark: bool
    metadata: bool
    text: str
    position: str
    watermark_key: WatermarkKey | None = None
    applied: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    caption: CaptionPlacement | None = None
    payload: Payload | None = None


def apply_layers(data: bytes, carrier: Carrier, label: AIGCLabel, plan: ImageLayers) -> bytes:
    """Run the enabled layers on image bytes and return the new bytes (``plan`` records them)."""
    from .visible.inspect import declaration

    extra: dict[str, str] = {}
    if carrier.name == "svg":
        data = _vector_layers(data, carrier, plan, extra)
    if plan.watermark:
        plan.watermark = _watermark_possible(data, carrier, plan)
    if plan.visible or plan.watermark:
        data, shown_size = _pixel_pass(data, carrier, label, plan)
        if plan.caption is not None:
            # Declared in XMP so that verify can check the caption on the pixels later.
            extra["Caption"] = declaration(plan.caption.to_json(), shown_size)
    if plan.metadata:
        data = carrier.write_label(data, label.to_json(), extra)
        plan.applied.append("metadata")
    return data


def _vector_layers(data: bytes, carrier: Carrier, plan: ImageLayers, extra: dict) -> bytes:
    """SVG: the caption is a ``<text>`` element added to the document (no pixels, so no
    watermark); a drawing the caption cannot be sized for is tagged without it, with a warning."""
    import json

    from .carriers.svg import NO_WATERMARK_WARNING
    from .errors import AigcTagError, UnsupportedFormat

    if plan.watermark:
        plan.warnings.append(NO_WATERMARK_WARNING)
    if plan.visible:
        try:
            data, declared = carrier.add_caption(data, plan.text, plan.position)  # type: ignore[attr-defined]
        except UnsupportedFormat as exc:
            plan.warnings.append(f"SVG: explicit caption not applied: {exc}")
        else:
            if carrier.read_caption(data) is None:  # type: ignore[attr-defined]
                raise AigcTagError("self-check failed: the SVG caption does not read back")
            extra["Caption"] = json.dumps(declared, ensure_ascii=False)
            plan.applied.append("visible")
    plan.visible = plan.watermark = False  # done here: no pixel pass
    return data


def _watermark_possible(data: bytes, carrier: Carrier, plan: ImageLayers) -> bool:
    from .imaging import open_header
    from .watermark.image import MIN_EMBED_SIDE
    from .watermark.layer import can_hold

    header = open_header(data)
    reason = can_hold(carrier.name, header.mode)
    if reason is None and min(header.size) < MIN_EMBED_SIDE:
        reason = f"the image is {header.size[0]}x{header.size[1]}, below {MIN_EMBED_SIDE} px"
    if reason:
        plan.warnings.append(f"watermark not embedded: {reason}")
        return False
    return True


def _pixel_pass(
    data: bytes, carrier: Carrier, label: AIGCLabel, plan: ImageLayers
) -> tuple[bytes, tuple[int, int]]:
    from .imaging import check_budget, open_header
    from .visible.caption import CaptionStyle, draw_caption
    from .watermark.image import NotWatermarkable
    from .watermark.layer import mark_frame
    from .watermark.payload import Payload

    check_budget(*open_header(data).size)  # every carrier's decode path, 16-bit PNG too
    style = CaptionStyle(text=plan.text, position=plan.position) if plan.visible else None
    if plan.watermark:
        plan.payload = Payload.for_label(label.ContentProducer, label.ProduceID)
    to_display, to_stored = _orientation_transforms(data)
    sizes: list[tuple[int, int]] = []

    def draw(frame: Image.Image) -> Image.Image:
        shown = frame.transpose(to_display) if to_display is not None else frame
        sizes.append(shown.size)
        if style is not None:
            shown, where = draw_caption(shown, style)
            plan.caption = plan.caption or where
        if plan.payload is not None:
            try:
                shown = mark_frame(shown, plan.payload, plan.watermark_key, plan.warnings)
            except NotWatermarkable as exc:  # too flat or too small: tag without the mark
                plan.warnings.append(f"watermark not embedded: {exc}")
                plan.payload, plan.watermark = None, False
        return shown.transpose(to_stored) if to_stored is not None else shown

    out = carrier.reencode(data, draw)
    plan.applied += [name for name, on in (("visible", plan.visible), ("watermark", plan.watermark))
                     if on]  # fmt: skip
    return out, sizes[0]


# EXIF Orientation -> (stored-to-display transpose, its inverse).
_ORIENTATIONS = {
    2: ("FLIP_LEFT_RIGHT", "FLIP_LEFT_RIGHT"),
    3: ("ROTATE_180", "ROTATE_180"),
    4: ("FLIP_TOP_BOTTOM", "FLIP_TOP_BOTTOM"),
    5: ("TRANSPOSE", "TRANSPOSE"),
    6: ("ROTATE_270", "ROTATE_90"),
    7: ("TRANSVERSE", "TRANSVERSE"),
    8: ("ROTATE_90", "ROTATE_270"),
}


def _orientation_transforms(data: bytes) -> tuple[Image.Transpose | None, Image.Transpose | None]:
    from PIL import Image

    from .errors import AigcTagError
    from .imaging import open_header

    try:
        orientation = open_header(data).getexif().get(0x0112, 1)
    except (AigcTagError, OSError, ValueError, SyntaxError):
        return None, None
    names = _ORIENTATIONS.get(orientation)
    if names is None:
        return None, None
    return Image.Transpose[names[0]], Image.Transpose[names[1]]
