"""What a generation pipeline hands to the in-memory API, checked and normalised in one place.

A pipeline passes whatever its model produced: int16 PCM from a TTS engine, float images in
[0, 1] from a diffusion pipeline, ``"JPG"`` or ``"WAV"`` as a format name. Each function here
turns such a value into the one form the layers expect, or raises :class:`InvalidInput` with a
message that says what was wrong — never a clipped square wave, a ``KeyError`` or a Pillow
``TypeError`` from deep inside.
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any

from .errors import InvalidInput

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

__all__ = ["audio_format", "audio_samples", "file_bytes", "image_format", "image_input",
           "sample_rate"]  # fmt: skip

#: Image format names Pillow writes, by every spelling a caller uses.
_IMAGE_FORMATS = {"PNG": "PNG", "JPEG": "JPEG", "JPG": "JPEG", "WEBP": "WEBP", "TIFF": "TIFF",
                  "TIF": "TIFF", "GIF": "GIF"}  # fmt: skip
_AUDIO_FORMATS = ("wav", "flac", "mp3", "ogg", "opus", "m4a")
_MAX_SAMPLE_RATE = 768_000


def image_format(name: object) -> str:
    """``"jpg"``/``"JPG"``/``".jpeg"`` -> ``"JPEG"``; anything else names the accepted set."""
    key = str(name).strip().lstrip(".").upper() if isinstance(name, str) else None
    if key not in _IMAGE_FORMATS:
        raise InvalidInput(
            f"image format {name!r} is not one of png, jpeg (jpg), webp, tiff (tif), gif"
        )
    return _IMAGE_FORMATS[key]


def audio_format(name: object) -> str:
    """``"WAV"``/``".wav"`` -> ``"wav"``; anything else names the accepted set."""
    key = str(name).strip().lstrip(".").lower() if isinstance(name, str) else None
    if key not in _AUDIO_FORMATS:
        raise InvalidInput(f"audio format {name!r} is not one of {', '.join(_AUDIO_FORMATS)}")
    return key


def sample_rate(rate: object) -> int:
    """An integral, positive sample rate (``16000.0`` is accepted as 16000, ``22050.5`` is not)."""
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real):
        raise InvalidInput(f"sample_rate must be a number of samples per second, not {rate!r}")
    if rate != int(rate) or not 0 < int(rate) <= _MAX_SAMPLE_RATE:
        raise InvalidInput(
            f"sample_rate {rate!r} must be a whole number of Hz in 1..{_MAX_SAMPLE_RATE}"
        )
    return int(rate)


def audio_samples(samples: Any) -> np.ndarray:
    """Samples as float32 in [-1, 1], shape (n, channels).

    Integer PCM is scaled by its type's full scale (int16 / 32768, int32 / 2**31, uint8 centred
    at 128), as every audio library reads it. Float input must already be in [-1, 1]: a peak
    above 1 would be clipped into distortion, so it is refused with its peak (normalise first);
    NaN or infinity is refused. Shapes (n,) and (n, channels) with 1–64 channels are accepted.
    """
    import numpy as np

    try:
        array = np.asarray(samples)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"audio samples are not an array: {exc}") from None
    array = _pcm_to_float(array)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or not 1 <= array.shape[1] <= 64 or array.shape[0] == 0:
        raise InvalidInput(
            f"audio samples must be (n,) or (n, channels) with 1-64 channels, got shape "
            f"{tuple(np.shape(samples))}"
        )
    if not np.isfinite(array).all():
        raise InvalidInput("audio samples contain NaN or infinity")
    peak = float(np.abs(array).max())
    if peak > 1.0 + 1e-6:
        raise InvalidInput(
            f"float audio samples must lie in [-1, 1]; the peak is {peak:.3g} (normalise first: "
            "clipping would distort the audio)"
        )
    return np.ascontiguousarray(array, dtype=np.float32)


def _pcm_to_float(array: np.ndarray) -> np.ndarray:
    import numpy as np

    kind = array.dtype.kind
    if kind == "f":
        return array.astype(np.float32, copy=False)
    if kind == "i":
        scale = float(2 ** (8 * array.dtype.itemsize - 1))
        return (array.astype(np.float64) / scale).astype(np.float32)
    if kind == "u":
        half = float(2 ** (8 * array.dtype.itemsize - 1))
        return ((array.astype(np.float64) - half) / half).astype(np.float32)
    if kind == "b":
        raise InvalidInput("audio samples are booleans, not PCM")
    raise InvalidInput(f"audio samples of dtype {array.dtype} are not numbers")


def image_input(image: Any) -> Image.Image:
    """A PIL image from a PIL image or an H×W[×1|3|4] array.

    uint8 arrays are taken as they are; float arrays must lie in [0, 1] (what diffusion
    pipelines return with ``output_type="np"``) and are scaled to 8 bits; other dtypes, NaN and
    out-of-range floats are refused with the reason.
    """
    import numpy as np
    from PIL import Image as PILImage

    if isinstance(image, PILImage.Image):
        return image
    if not isinstance(image, np.ndarray):
        kind = type(image).__name__
        raise InvalidInput(f"image must be a PIL image or a numpy array, not {kind}")
    array = image[..., 0] if image.ndim == 3 and image.shape[2] == 1 else image
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise InvalidInput(f"image array must be H×W, H×W×3 or H×W×4, got shape {image.shape}")
    if min(array.shape[:2]) == 0:
        raise InvalidInput(f"image array is empty (shape {image.shape})")
    if array.dtype == np.uint8:
        return PILImage.fromarray(array)
    if array.dtype.kind != "f":
        raise InvalidInput(
            f"image array of dtype {array.dtype}: pass uint8 (0-255) or float in [0, 1]"
        )
    if not np.isfinite(array).all():
        raise InvalidInput("image array contains NaN or infinity")
    low, high = float(array.min()), float(array.max())
    if low < -1e-6 or high > 1.0 + 1e-6:
        raise InvalidInput(
            f"float image values must lie in [0, 1]; found {low:.3g}..{high:.3g} (pass uint8 for "
            "0-255 data)"
        )
    return PILImage.fromarray(np.round(np.clip(array, 0.0, 1.0) * 255.0).astype(np.uint8))


def file_bytes(data: object) -> bytes:
    """File content as bytes (bytes, bytearray or memoryview); a ``str`` is refused with a hint."""
    if isinstance(data, bytes):
        return data
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    if isinstance(data, str):
        raise InvalidInput(
            "tag_bytes takes the file's bytes, not a str: for text pass text.encode('utf-8') or "
            "use tag_text(); for a path use Tagger().tag_file(path)"
        )
    raise InvalidInput(f"tag_bytes takes bytes, not {type(data).__name__}")
