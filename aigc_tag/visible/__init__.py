"""Explicit (visible) labels: GB 45438 §5 wording and image captions.

Submodules load on first use (PEP 562), so importing the wording rules does not pull in numpy.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ANCHORS": "wording",
    "DEFAULT_TEXT": "wording",
    "GB_MIN_RATIO": "wording",
    "POSITIONS": "wording",
    "PRESETS": "wording",
    "check_wording": "wording",
    "has_both_elements": "wording",
    "resolve_text": "wording",
    "wording_problem": "wording",
    "CaptionPlacement": "caption",
    "CaptionStyle": "caption",
    "draw_caption": "caption",
    "load_font": "caption",
    "missing_glyphs": "caption",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
