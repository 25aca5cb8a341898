"""Reading inputs with a size ceiling and writing outputs atomically (temp file + rename)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import AigcTagError, LimitExceeded

#: Largest input file read (``read_input(max_bytes=...)``); see docs/security.md for all limits.
MAX_INPUT_BYTES = 2 * 1024**3


class UnsafeOutputPath(AigcTagError):
    """An output path would leave its output directory (``..`` or a symlinked directory)."""


def check_within(path: Path, root: Path) -> None:
    """Refuse ``path`` unless its directory stays inside ``root`` once symlinks are resolved.

    Catches ``..`` components and a symlinked directory inside ``root`` that points elsewhere.
    The last component may itself be a symlink: :func:`atomic_write` replaces the link with the
    new file (``os.replace``) and never writes through it.
    """
    root_real = os.path.realpath(root)
    parent_real = os.path.realpath(path.parent)
    if os.path.commonpath([root_real, parent_real]) != root_real:
        raise UnsafeOutputPath(
            f"{path}: refusing to write outside the output directory {root} "
            f"(the path resolves to {parent_real})"
        )


def read_input(path: Path, *, max_bytes: int = MAX_INPUT_BYTES) -> bytes:
    """The file's bytes; refuses files above ``max_bytes`` before reading them."""
    size = path.stat().st_size
    if size > max_bytes:
        raise LimitExceeded(f"file is {size} bytes, above the limit of {max_bytes}")
    return path.read_bytes()


def atomic_write(
    path: Path,
    data: bytes,
    *,
    like: Path | None = None,
    durable: bool = True,
    within: Path | None = None,
) -> None:
    """Write ``data`` so that ``path`` is either the old file or the complete new one.

    The temp file lives in the target directory (same filesystem, so the rename is atomic) and is
    removed on any failure. ``like`` copies the permission bits of another file (the input);
    ``durable`` fsyncs the data before the rename. ``within`` (the output directory) refuses a
    path that resolves outside it (:func:`check_within`), checked before any directory is made.
    """
    if within is not None:
        check_within(path, within)
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


def text_path(path: str) -> str:
    """A path as text any database or JSON encoder accepts: bytes that are not UTF-8 (kept by
    Python as surrogate escapes) become ``\\xNN``; valid names are unchanged."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def output_target(src: Path, dst: Path | str | None, *, in_place: bool) -> Path:
    """Where a file operation writes: ``dst``, or ``src`` itself only when ``in_place``."""
    from .errors import AigcTagError

    if dst is None and not in_place:
        raise AigcTagError(f"{src}: give an output path or in_place=True")
    target = src if in_place else Path(dst)  # type: ignore[arg-type]
    if not in_place and target.exists() and os.path.samefile(target, src):
        raise AigcTagError(f"{src}: output would overwrite the input; use in-place explicitly")
    return target


def read_source(src: Path) -> bytes:
    """:func:`read_input` with an OS error turned into a one-line AigcTagError naming the file."""
    from .errors import AigcTagError

    try:
        return read_input(src)
    except OSError as exc:
        raise AigcTagError(f"{src}: cannot read: {exc.strerror or exc}") from None
