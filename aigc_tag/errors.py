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
