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
        raise CorruptContainer(f"cannot {action}: {exc}") from None


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
