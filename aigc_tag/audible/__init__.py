"""Explicit (audible) labels for audio: GB 45438 §5.3 rhythm cue and voice prompts.

Submodules load on first use (PEP 562).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "DEFAULT_LEVEL_DBFS": "rhythm",
    "DEFAULT_TONE_HZ": "rhythm",
    "DEFAULT_UNIT_S": "rhythm",
    "RhythmFinding": "rhythm",
    "detect_rhythm": "rhythm",
    "rhythm_cue": "rhythm",
    "PROMPTS": "voice",
    "UnknownPrompt": "voice",
    "voice_prompt": "voice",
    "AudibleEvidence": "insert",
    "AudiblePlacement": "insert",
    "CHECKABLE_KINDS": "insert",
    "NOT_CHECKABLE": "insert",
    "PlacementCheck": "insert",
    "check_declared": "insert",
    "insert_label": "insert",
    "is_checkable": "insert",
    "loudness_db": "insert",
    "make_cue": "insert",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
