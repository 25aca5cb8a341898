"""Generation-time statistical text watermark (KGW green list) and its detector.

The numpy core (:mod:`aigc_tag.llm.kgw`) needs nothing beyond the base install; the Hugging Face
``transformers`` LogitsProcessor (:mod:`aigc_tag.llm.hf`) needs the ``aigc-tag[llm]`` extra and is
imported only when :class:`AigcWatermarkLogitsProcessor` is first used.

>>> from aigc_tag.llm import GreenListHook, detect_tokens  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .kgw import (
    DEFAULT_CONTEXT_WIDTH,
    DEFAULT_DELTA,
    DEFAULT_GAMMA,
    DEFAULT_Z_THRESHOLD,
    MIN_CONCLUSIVE_TOKENS,
    SCHEME,
    GreenListHook,
    TextWatermarkDetection,
    detect_text,
    detect_tokens,
    green_mask,
    tokenize,
    watermark_logits,
)

if TYPE_CHECKING:
    from .hf import AigcWatermarkLogitsProcessor

__all__ = [
    "DEFAULT_CONTEXT_WIDTH",
    "DEFAULT_DELTA",
    "DEFAULT_GAMMA",
    "DEFAULT_Z_THRESHOLD",
    "MIN_CONCLUSIVE_TOKENS",
    "SCHEME",
    "AigcWatermarkLogitsProcessor",
    "GreenListHook",
    "TextWatermarkDetection",
    "detect_text",
    "detect_tokens",
    "green_mask",
    "tokenize",
    "watermark_logits",
]


def __getattr__(name: str) -> Any:
    if name == "AigcWatermarkLogitsProcessor":
        from .hf import AigcWatermarkLogitsProcessor

        return AigcWatermarkLogitsProcessor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
