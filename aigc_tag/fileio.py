"""Reading inputs with a size ceiling and writing outputs atomically (temp file + rename)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import LimitExceeded

MAX_INPUT_BYTES = 2 * 1024**3


def read_input(path: Path, *, max_bytes: int = MAX_INPUT_BYTES) -> bytes:
    """The file's bytes; refuses files above ``max_bytes`` before reading them."""
    size = path.stat().st_size
    if size > max_bytes:
        raise LimitExceeded(f"file is {size} bytes, above the limit of {max_bytes}")
    return path.read_bytes()


def atomic_write(
    path: Path, data: bytes, *, like: Path | None = None, durable: bool = True
) -> None:
    """Write ``data`` so that ``path`` is either the old file or the complete new one.

    The temp file lives in the target directory (same filesystem, so the rename is atomic) and is
    removed on any failure. ``like`` copies the permission bits of another file (the input);
    ``durable`` fsyncs the data before the rename.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        if like is not None:
            os.chmod(tmp, os.stat(like).st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
