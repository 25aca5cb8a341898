"""The one place Pillow opens untrusted image bytes: pixel limits and error conversion."""

from __future__ import annotations

import io
import warnings

from PIL import Image, UnidentifiedImageError

from .errors import CorruptContainer, LimitExceeded, UnsupportedFormat

#: Default pixel ceiling per frame: Pillow's own bomb threshold (2 x MAX_IMAGE_PIXELS), far
#: above 48 MP generator output. Checked from the header, before any pixel is decoded.
MAX_PIXELS = 2 * Image.MAX_IMAGE_PIXELS


def open_image(data: bytes, *, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Open and fully load image bytes, refusing decompression bombs before decoding pixels."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
            w, h = im.size
            if w * h > max_pixels:
                raise LimitExceeded(
                    f"image is {w}x{h} = {w * h} pixels, above the limit of {max_pixels}"
                )
            im.load()
            return im
    except Image.DecompressionBombError as exc:
        raise LimitExceeded(f"decompression bomb: {exc}") from None
    except UnidentifiedImageError:
        raise UnsupportedFormat("Pillow cannot identify the image") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise CorruptContainer(f"cannot decode image: {exc}") from None


def open_header(data: bytes) -> Image.Image:
    """Open image bytes lazily (header and metadata only, no pixel decoding)."""
    try:
        return Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise LimitExceeded(f"decompression bomb: {exc}") from None
    except UnidentifiedImageError:
        raise UnsupportedFormat("Pillow cannot identify the image") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise CorruptContainer(f"cannot read image header: {exc}") from None
