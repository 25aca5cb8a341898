"""aigc-tag: label AI-generated content (GB 45438-2025, EU AI Act Art. 50) and verify labels.

Three nouns -- :class:`AIGCLabel`, :class:`Tagger`, :class:`Report` -- and shortcuts:

>>> import aigc_tag                                                       # doctest: +SKIP
>>> out = aigc_tag.tag_bytes(png_bytes, producer="001191110108MA01ABCDEN10001")
>>> aigc_tag.verify_bytes(out).verdict                                    # doctest: +SKIP
<Verdict.COMPLIANT: 'compliant'>
"""

from __future__ import annotations

import sys
import types
import warnings
from typing import TYPE_CHECKING, Any

from .errors import (
    AigcTagError,
    AigcTagWarning,
    CorruptContainer,
    ExistingManifest,
    InvalidInput,
    InvalidLabel,
    LimitExceeded,
    UnsupportedFormat,
)

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

    from .label import AIGCLabel, parse_label
    from .propagate import Art6Decision, AutoPropagation, Propagator, auto_propagate, decide
    from .tagging import Tagger, TagResult
    from .verify import Report, Verdict, verify, verify_bytes

# Loaded on first use (PEP 562): `aigc-tag --version` and a command that needs only metadata
# must not pay for numpy, OpenCV and the codecs.
_LAZY = {
    "AIGCLabel": "label",
    "parse_label": "label",
    "Art6Decision": "propagate",
    "AutoPropagation": "propagate",
    "Propagator": "propagate",
    "auto_propagate": "propagate",
    "decide": "propagate",
    "Tagger": "tagging",
    "TagResult": "tagging",
    "Report": "verify",
    "Verdict": "verify",
    "verify": "verify",
    "verify_bytes": "verify",
}


class _Package(types.ModuleType):
    """The package module. Importing the subpackage ``aigc_tag.verify`` makes Python set the
    package attribute ``verify`` to that module, which would shadow the function ``verify()``
    once imports are lazy; this keeps the attribute for the function."""

    def __setattr__(self, name: str, value: object) -> None:
        if name in _LAZY and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # once loaded, a plain attribute
    return value

__version__ = "0.1.0"
__all__ = [
    "AIGCLabel",
    "Art6Decision",
    "AutoPropagation",
    "AigcTagError",
    "AigcTagWarning",
    "CorruptContainer",
    "ExistingManifest",
    "InvalidInput",
    "InvalidLabel",
    "LimitExceeded",
    "Propagator",
    "Report",
    "TagResult",
    "Tagger",
    "UnsupportedFormat",
    "Verdict",
    "auto_propagate",
    "decide",
    "parse_label",
    "tag_audio",
    "tag_bytes",
    "tag_image",
    "tag_text",
    "tag_video",
    "verify",
    "verify_bytes",
]


def tag_bytes(
    data: bytes, *, producer: str, produce_id: str | None = None, **settings: Any
) -> bytes:
    """Tag file bytes (any supported format) and return the tagged bytes.

    ``settings`` are :class:`Tagger` keyword arguments (``text``, ``position``, ``visible``,
    ``metadata``, ``label``, ``break_c2pa``).
    """
    from .tagging import Tagger

    out, result = Tagger(producer, **settings).tag_bytes(data, produce_id=produce_id)
    return _warned(out, result)


def tag_image(
    image: Image.Image | np.ndarray,
    *,
    producer: str,
    produce_id: str | None = None,
    format: str = "PNG",
    save_options: dict[str, Any] | None = None,
    **settings: Any,
) -> bytes:
    """Tag an in-memory PIL image or numpy array and return encoded bytes in ``format``.

    ``save_options`` go to Pillow's encoder (e.g. ``{"quality": 90}``); ``settings`` to Tagger.
    """
    from .tagging import Tagger

    tagger = Tagger(producer, **settings)
    out, result = tagger.tag_image(
        image, format=format, produce_id=produce_id, **(save_options or {})
    )
    return _warned(out, result)


def tag_audio(
    samples: np.ndarray,
    sample_rate: int,
    *,
    producer: str,
    produce_id: str | None = None,
    format: str = "wav",
    bitrate_kbps: int = 0,
    **settings: Any,
) -> bytes:
    """Tag in-memory audio (float samples in [-1, 1] or int16/int32 PCM, (n,) or (n, channels))
    and return the file in ``format`` (wav, flac, mp3, ogg, opus, m4a); ``settings`` go to Tagger
    (``audible``, ``audible_at``, ``watermark``, ...). Out-of-range floats and NaN raise
    :class:`InvalidInput`."""
    from .tagging import Tagger

    out, result = Tagger(producer, **settings).tag_audio(
        samples, sample_rate, format=format, bitrate_kbps=bitrate_kbps, produce_id=produce_id
    )
    return _warned(out, result)


def tag_text(text: str, *, producer: str, produce_id: str | None = None, **settings: Any) -> str:
    """Label a model's text answer: the explicit wording line (``text_at``, ``text`` presets)
    and, with ``invisible_mark=True``, the invisible mark. Plain text has no metadata container,
    so the Annex E record is not embedded (an :class:`AigcTagWarning` says so; keep the record
    in your own store or write a sidecar with ``Tagger.tag_file(..., sidecar=True)``)."""
    if not isinstance(text, str):
        raise InvalidInput(f"tag_text takes a str, not {type(text).__name__}")
    from .tagging import Tagger

    out, result = Tagger(producer, **settings).tag_bytes(
        text.encode("utf-8"), produce_id=produce_id, name="<text>"
    )
    return _warned(out, result).decode("utf-8")


def tag_video(
    data: bytes, *, producer: str, produce_id: str | None = None, **settings: Any
) -> bytes:
    """Tag a video file held in memory (MP4/MOV, MKV/WebM, AVI, FLV) and return the new bytes:
    opening caption, frame and soundtrack watermark, metadata label (``settings`` as Tagger)."""
    from .carriers import sniff_content
    from .inputs import file_bytes
    from .tagging import Tagger

    data = file_bytes(data)
    kind = sniff_content(data, name="<video>").media_type
    if kind != "video":
        raise InvalidInput(f"tag_video: the bytes are {kind}, not a video (use tag_bytes)")
    tagger = Tagger(producer, **settings)
    out, result = tagger.tag_bytes(data, produce_id=produce_id, name="<video>")
    return _warned(out, result)


def _warned(out: bytes, result: TagResult) -> bytes:
    """Hand each per-file warning to :mod:`warnings`: a pipeline must learn a layer is missing."""
    for message in result.warnings:
        warnings.warn(f"{result.source}: {message}", AigcTagWarning, stacklevel=3)
    return out
