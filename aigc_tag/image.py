"""The image tagger: composes the layers, each done by its own module.

explicit caption (visible/) -> [watermark, later] -> metadata label (the format's carrier).
Pixels are re-encoded only when a caption is drawn; metadata-only tagging is a container edit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .carriers import Carrier
from .label import AIGCLabel

if TYPE_CHECKING:
    from PIL import Image

    from .visible.caption import CaptionPlacement


def apply_layers(
    data: bytes,
    carrier: Carrier,
    label: AIGCLabel,
    *,
    visible: bool,
    metadata: bool,
    text: str,
    position: str,
) -> tuple[bytes, list[str], CaptionPlacement | None]:
    """Run the enabled layers on image bytes; returns new bytes, layer names, caption geometry."""
    layers: list[str] = []
    placement: CaptionPlacement | None = None
    if visible:
        data, placement = _burn_caption(data, carrier, text, position)
        layers.append("visible")
    if metadata:
        data = carrier.write_label(data, label.to_json())
        layers.append("metadata")
    return data, layers, placement


def _burn_caption(
    data: bytes, carrier: Carrier, text: str, position: str
) -> tuple[bytes, CaptionPlacement]:
    from .visible.caption import CaptionStyle, draw_caption

    style = CaptionStyle(text=text, position=position)
    placements: list[CaptionPlacement] = []

    def draw(frame: Image.Image) -> Image.Image:
        captioned, where = draw_caption(frame, style)
        placements.append(where)
        return captioned

    out = carrier.reencode(data, draw)
    return out, placements[0]
