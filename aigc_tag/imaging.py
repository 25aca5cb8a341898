"""The one place Pillow opens untrusted image bytes: pixel limits and error conversion."""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from PIL import Image, UnidentifiedImageError

from .errors import CorruptContainer, LimitExceeded, UnsupportedFormat

#: Default pixel ceiling per frame: Pillow's own bomb threshold (2 x MAX_IMAGE_PIXELS), far
#: above 48 MP generator output. Checked from the header, before any pixel is decoded.
MAX_PIXELS = 2 * Image.MAX_IMAGE_PIXELS


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
        raise CorruptContainer(f"cannot {action}: {exc}") from None


def open_image(data: bytes, *, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Open and fully load image bytes, refusing decompression bombs before decoding pixels."""
    with _pillow_errors("decode image"):
        im = Image.open(io.BytesIO(data))
        w, h = im.size
        if w * h > max_pixels:
            raise LimitExceeded(
                f"image is {w}x{h} = {w * h} pixels, above the limit of {max_pixels}"
            )
        im.load()
        return im


def open_header(data: bytes) -> Image.Image:
    """Open image bytes lazily (header and metadata only, no pixel decoding)."""
    with _pillow_errors("read image header"):
        return Image.open(io.BytesIO(data))
