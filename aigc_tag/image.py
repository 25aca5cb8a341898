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
    from .visible.inspect import declaration

    layers: list[str] = []
    placement: CaptionPlacement | None = None
    extra: dict[str, str] = {}
    if visible:
        data, placement, shown_size = _burn_caption(data, carrier, text, position)
        # Declared in XMP so that verify can check the caption on the pixels later.
        extra["Caption"] = declaration(placement.to_json(), shown_size)
        layers.append("visible")
    if metadata:
        data = carrier.write_label(data, label.to_json(), extra)
        layers.append("metadata")
    return data, layers, placement


def _burn_caption(
    data: bytes, carrier: Carrier, text: str, position: str
) -> tuple[bytes, CaptionPlacement, tuple[int, int]]:
    from .visible.caption import CaptionStyle, draw_caption

    style = CaptionStyle(text=text, position=position)
    placements: list[tuple[CaptionPlacement, tuple[int, int]]] = []
    to_display, to_stored = _orientation_transforms(data)

    def draw(frame: Image.Image) -> Image.Image:
        # Draw where the viewer sees the corner: EXIF-rotated photos are stored sideways.
        shown = frame.transpose(to_display) if to_display is not None else frame
        captioned, where = draw_caption(shown, style)
        placements.append((where, shown.size))
        return captioned.transpose(to_stored) if to_stored is not None else captioned

    out = carrier.reencode(data, draw)
    where, size = placements[0]
    return out, where, size


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
