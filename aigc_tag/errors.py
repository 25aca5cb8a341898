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


class TextDecodeError(UnsupportedFormat, ValueError):
    """The bytes are not text in an encoding we can tell (or the new text does not fit it)."""


class NotWatermarkable(UnsupportedFormat, ValueError):
    """The image cannot carry a detectable mark at the requested PSNR (too small or too flat)."""


class UnsafeOutputPath(AigcTagError):
    """An output path would leave its output directory (``..`` or a symlinked directory)."""


class ToolMissing(AigcTagError):
    """ffmpeg (or PyAV) is not installed, or not where the environment says."""


class MissingLLMExtra(AigcTagError, ImportError):
    """torch/transformers are not installed."""


class SigningError(AigcTagError):
    """C2PA signing failed (bad credentials, unsupported format, SDK refusal)."""


class UnknownPrompt(AigcTagError, KeyError):
    """No packaged voice prompt of that name."""

    def __str__(self) -> str:  # KeyError would print the repr of its argument
        return str(self.args[0]) if self.args else "unknown voice prompt"


class LedgerError(AigcTagError, RuntimeError):
    """The ledger cannot be opened or written."""


class JournalBusy(AigcTagError, RuntimeError):
    """Another run holds the journal of this OUTDIR."""


# Not under the root on purpose: callers treat it as the OSError it is and report
# "cannot read: ..." for it, exactly as for a missing or unreadable file.
class NotRegularFile(OSError):
    """The input is a FIFO, socket, device or directory: refused before it is opened for
    reading (an ``OSError``, so every caller reports it as "cannot read: ...")."""


class AigcTagWarning(UserWarning):
    """A layer was not applied or a value was adjusted; the shortcuts raise these through
    :mod:`warnings` so a pipeline learns of it (``TagResult.warnings`` holds the same text)."""
