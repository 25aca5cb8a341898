"""Explicit (visible) labels: GB 45438 §5 wording and image captions."""

from __future__ import annotations

from .caption import (
    GB_MIN_RATIO,
    POSITIONS,
    CaptionPlacement,
    CaptionStyle,
    draw_caption,
    load_font,
    missing_glyphs,
)
from .wording import (
    DEFAULT_TEXT,
    PRESETS,
    check_wording,
    has_both_elements,
    resolve_text,
    wording_problem,
)

__all__ = [
    "DEFAULT_TEXT",
    "GB_MIN_RATIO",
    "POSITIONS",
    "PRESETS",
    "CaptionPlacement",
    "CaptionStyle",
    "check_wording",
    "draw_caption",
    "has_both_elements",
    "load_font",
    "missing_glyphs",
    "resolve_text",
    "wording_problem",
]
