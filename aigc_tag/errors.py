"""One error root for the whole toolkit.

Carriers convert ``OSError``/``struct.error`` into these at their edge, so callers catch
``AigcTagError`` and nothing else escapes from parsing a hostile file.
"""

from __future__ import annotations


class AigcTagError(Exception):
    """Root of every error aigc-tag raises on purpose."""


class UnsupportedFormat(AigcTagError):
    """The bytes are not a format aigc-tag can read (or write, for writers)."""


class CorruptContainer(AigcTagError, ValueError):
    """The container is truncated or malformed; names the structure that broke."""


class LimitExceeded(AigcTagError):
    """A size, count or pixel limit was hit (decompression bomb, absurd chunk sizes)."""


class InvalidLabel(AigcTagError, ValueError):
    """A label record or a user-supplied value breaks GB 45438 Annex E or PG-20252A."""


class ExistingManifest(AigcTagError):
    """The input carries a C2PA manifest that tagging would invalidate."""


class InvalidInput(AigcTagError, ValueError):
    """A value handed to the Python API is not what it accepts (dtype, range, format name)."""


class AigcTagWarning(UserWarning):
    """A layer was not applied or a value was adjusted; the shortcuts raise these through
    :mod:`warnings` so a pipeline learns of it (``TagResult.warnings`` holds the same text)."""
