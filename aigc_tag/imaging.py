"""The one place Pillow opens untrusted image bytes: pixel limits and error conversion.

Two limits. :data:`MAX_PIXELS` is a hard ceiling on what a header may declare. Below it, the
*processing budget* (:func:`max_megapixels`) says how large a picture the pipeline may take on:
tagging costs about :data:`PIPELINE_BYTES_PER_PIXEL` bytes per pixel (float copies for the
caption check and the watermark's transforms), so the default of
:data:`DEFAULT_MAX_MEGAPIXELS` keeps one file under about 4 GB. It is set by ``--max-megapixels``
on ``tag`` and ``verify`` or the environment variable :data:`ENV_MAX_MEGAPIXELS`; past it the file
is refused from its header with "too large to process: ...", before a pixel is decoded.
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from PIL import Image, UnidentifiedImageError

from .errors import CorruptContainer, LimitExceeded, UnsupportedFormat

#: Default pixel ceiling per frame: Pillow's own bomb threshold (2 x MAX_IMAGE_PIXELS), far
#: above 48 MP generator output. Checked from the header, before any pixel is decoded.
MAX_PIXELS = 2 * Image.MAX_IMAGE_PIXELS

#: Peak bytes per pixel of the heaviest pipeline (tag with caption and watermark), measured
#: with benchmarks/image_memory.py: 80-84 for tag and about 40 for verify, plus ~110 MB.
PIPELINE_BYTES_PER_PIXEL = 85
DEFAULT_MAX_MEGAPIXELS = 50.0
ENV_MAX_MEGAPIXELS = "AIGC_TAG_MAX_MEGAPIXELS"
_budget_mp: float | None = None


def set_max_megapixels(megapixels: float | None) -> None:
    """Set the processing budget for this process (``None``: back to the env var / default)."""
    global _budget_mp
    if megapixels is not None and not megapixels > 0:
        raise ValueError(f"the megapixel budget must be positive, got {megapixels}")
    _budget_mp = megapixels


def max_megapixels() -> float:
    """The processing budget in megapixels: :func:`set_max_megapixels`, else the environment
    variable :data:`ENV_MAX_MEGAPIXELS`, else :data:`DEFAULT_MAX_MEGAPIXELS`."""
    if _budget_mp is not None:
        return _budget_mp
    raw = os.environ.get(ENV_MAX_MEGAPIXELS, "").strip()
    try:
        value = float(raw) if raw else DEFAULT_MAX_MEGAPIXELS
    except ValueError:
        value = DEFAULT_MAX_MEGAPIXELS  # a typo in the env never lifts the limit
    return value if value > 0 else DEFAULT_MAX_MEGAPIXELS


def check_budget(width: int, height: int, *, what: str = "image") -> None:
    """Raise :class:`LimitExceeded` ("too large to process: ...") when a ``width`` x ``height``
    picture is over the processing budget."""
    limit = max_megapixels()
    mp = width * height / 1e6
    if mp > limit:
        gb = width * height * PIPELINE_BYTES_PER_PIXEL / 1e9
        raise LimitExceeded(
            f"too large to process: {what} {width}x{height} = {mp:.1f} MP, about {gb:.1f} GB "
            f"to process (limit {limit:g} MP, --max-megapixels or {ENV_MAX_MEGAPIXELS})"
        )


_HEIF_READY = False


def _heif_opener(data: bytes) -> None:
    """Teach Pillow HEIC/AVIF (pillow-heif) the first time such a file shows up."""
    global _HEIF_READY
    if _HEIF_READY or data[4:8] != b"ftyp":
        return
    import pillow_heif

    pillow_heif.register_heif_opener()
    _HEIF_READY = True


@contextmanager
def _pillow_errors(action: str) -> Iterator[None]:
    """Pillow's many exception types, converted to ours at this one boundary."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            yield
    except Image.DecompressionBombError as exc:
        raise LimitExceeded(f"decompression bomb: {exc}") from None
    except UnidentifiedImageError:
        raise UnsupportedFormat("Pillow cannot identify the image") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        # libheif ends its messages with a newline: an error stays one line
        raise CorruptContainer(f"cannot {action}: {' '.join(str(exc).split())}") from None


def open_image(data: bytes, *, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Open and fully load image bytes, refusing decompression bombs before decoding pixels."""
    _heif_opener(data)
    with _pillow_errors("decode image"):
        im = Image.open(io.BytesIO(data))
        w, h = im.size
        if w * h > max_pixels:
            raise LimitExceeded(
                f"image is {w}x{h} = {w * h} pixels, above the limit of {max_pixels}"
            )
        check_budget(w, h)
        im.load()
        return im


def open_header(data: bytes) -> Image.Image:
    """Open image bytes lazily (header and metadata only, no pixel decoding)."""
    _heif_opener(data)
    with _pillow_errors("read image header"):
        return Image.open(io.BytesIO(data))


def open_display(data: bytes, *, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """The picture as a viewer shows it: decoded, first frame, EXIF orientation applied."""
    from PIL import ImageOps

    image = open_image(data, max_pixels=max_pixels)
    with _pillow_errors("apply EXIF orientation"):
        rotated = ImageOps.exif_transpose(image, in_place=True)  # no copy when upright
    return image if rotated is None else rotated
