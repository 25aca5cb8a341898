"""AI-written text: explicit labels, token streams, the invisible mark, text files.

Submodules load on first use (PEP 562), so ``import aigc_tag.text`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "TextLabelEvidence": "explicit",
    "add_label": "explicit",
    "check_explicit": "explicit",
    "resolve_label": "explicit",
    "label_stream": "stream",
    "alabel_stream": "stream",
    "InvisibleEvidence": "invisible",
    "mark_text": "invisible",
    "read_mark": "invisible",
    "strip_mark": "invisible",
    "DecodedText": "decode",
    "SidecarEvidence": "decode",
    "TextDecodeError": "decode",
    "decode_text": "decode",
    "encode_text": "decode",
    "read_sidecar": "decode",
    "sidecar_json": "decode",
    "sidecar_path": "decode",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
