"""aigc-tag: label AI-generated content (GB 45438-2025, EU AI Act Art. 50) and verify labels.

Three nouns -- :class:`AIGCLabel`, :class:`Tagger`, :class:`Report` -- and shortcuts:

>>> import aigc_tag                                                       # doctest: +SKIP
>>> out = aigc_tag.tag_bytes(png_bytes, producer="001191110108MA01ABCDEN10001")
>>> aigc_tag.verify_bytes(out).verdict                                    # doctest: +SKIP
<Verdict.COMPLIANT: 'compliant'>
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import (
    AigcTagError,
    CorruptContainer,
    ExistingManifest,
    InvalidLabel,
    LimitExceeded,
    UnsupportedFormat,
)
from .label import AIGCLabel, parse_label
from .tagging import Tagger, TagResult
from .verify import Report, Verdict, verify, verify_bytes

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

__version__ = "0.1.0"
__all__ = [
    "AIGCLabel",
    "AigcTagError",
    "CorruptContainer",
    "ExistingManifest",
    "InvalidLabel",
    "LimitExceeded",
    "Report",
    "TagResult",
    "Tagger",
    "UnsupportedFormat",
    "Verdict",
    "parse_label",
    "tag_audio",
    "tag_bytes",
    "tag_image",
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
    out, _ = Tagger(producer, **settings).tag_bytes(data, produce_id=produce_id)
    return out


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
    tagger = Tagger(producer, **settings)
    out, _ = tagger.tag_image(image, format=format, produce_id=produce_id, **(save_options or {}))
    return out


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
    """Tag in-memory audio (float samples in [-1, 1], (n,) or (n, channels)) and return the file
    in ``format`` (wav, flac, mp3, ogg, opus, m4a); ``settings`` go to Tagger (``audible``,
    ``audible_at``, ``watermark``, ...)."""
    out, _ = Tagger(producer, **settings).tag_audio(
        samples, sample_rate, format=format, bitrate_kbps=bitrate_kbps, produce_id=produce_id
    )
    return out
