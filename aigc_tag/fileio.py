"""Reading inputs with a size ceiling and writing outputs atomically (temp file + rename)."""

from __future__ import annotations

import errno
import os
import re
import stat
import tempfile
from pathlib import Path

from .errors import LimitExceeded, NotRegularFile, UnsafeOutputPath

#: Largest input file read (``read_input(max_bytes=...)``); see docs/security.md for all limits.
MAX_INPUT_BYTES = 2 * 1024**3


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


_KINDS = {stat.S_IFIFO: "a FIFO", stat.S_IFSOCK: "a socket", stat.S_IFCHR: "a character device",
          stat.S_IFBLK: "a block device", stat.S_IFDIR: "a directory"}  # fmt: skip
_READ_CHUNK = 1 << 20


def file_kind(mode: int) -> str:
    """What a ``st_mode`` is, in words ("a FIFO", "a character device", ...)."""
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def ensure_regular(path: Path) -> os.stat_result:
    """The stat of ``path`` (symlinks followed); :class:`NotRegularFile` for a FIFO, socket,
    device or directory, so nothing opens one (a FIFO blocks, ``/dev/zero`` never ends)."""
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        raise NotRegularFile(errno.EINVAL, f"{file_kind(info.st_mode)}, not a regular file")
    return info


#: Largest input without a container's magic bytes (text, HTML, Markdown, SVG: each refuses
#: more than this itself): checked before such a file is read.
MAX_TEXT_INPUT_BYTES = 64 * 1024 * 1024


def _check_container(head: bytes, size: int) -> None:
    """A big input must be a container a carrier knows by its magic: text formats stop at
    :data:`MAX_TEXT_INPUT_BYTES`, so a 1 GB text file is refused before it is read."""
    from .carriers import sniff
    from .errors import UnsupportedFormat

    try:
        sniff(head)
    except UnsupportedFormat:
        raise LimitExceeded(
            f"too large to process: {size} bytes with no container magic; text formats are "
            f"read up to {MAX_TEXT_INPUT_BYTES >> 20} MiB"
        ) from None


def read_input(path: Path, *, max_bytes: int = MAX_INPUT_BYTES) -> bytes:
    """The file's bytes; refuses files above ``max_bytes`` and anything but a regular file.

    The size is checked from the stat first and then again while reading, from the real
    stream (a file that grows, or reports a size it does not have, stops at ``max_bytes``).
    FIFOs, sockets and devices (a symlink to ``/dev/zero``) are refused from their stat; the
    file is opened non-blocking so one swapped in for a FIFO after the stat cannot hang."""
    info = ensure_regular(path)
    if info.st_size > max_bytes:
        raise LimitExceeded(f"file is {info.st_size} bytes, above the limit of {max_bytes}")
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb", buffering=0) as fh:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):
            raise NotRegularFile(errno.EINVAL, f"{file_kind(opened.st_mode)}, not a regular file")
        if opened.st_size > MAX_TEXT_INPUT_BYTES:
            _check_container(os.pread(fd, 64, 0), opened.st_size)
        chunks, total = [], 0
        want = opened.st_size + 1  # one read for the usual file, then chunks past its size
        while chunk := fh.read(max(1, min(want, max_bytes + 1 - total))):
            want = _READ_CHUNK
            chunks.append(chunk)
            total += len(chunk)
            if total > max_bytes:
                raise LimitExceeded(f"file is over the limit of {max_bytes} bytes (still growing)")
        return b"".join(chunks)


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


_SURROGATES = re.compile("[\ud800-\udfff]")


def text_path(path: str) -> str:
    """A path as text any database or JSON encoder accepts: bytes that are not UTF-8 (kept by
    Python as surrogate escapes) become ``\\xNN``, any other lone surrogate ``\\uXXXX``; valid
    names are unchanged."""

    def one(m: re.Match) -> str:
        code = ord(m.group())
        return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"

    return _SURROGATES.sub(one, path)


_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def printable(value: object) -> str:
    """``value`` as text for a person (terminal, HTML, CSV): :func:`text_path`, and NUL and the
    other control characters (terminal escapes) as ``\\xNN``; tab and line breaks stay."""
    text = text_path("" if value is None else str(value))
    return _CONTROLS.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def escape_surrogates(text: str) -> str:
    """``text`` with every lone surrogate (a ``"\\ud800"`` escape in a label, a non-UTF-8 byte
    of a file name) written as the JSON escape ``\\uXXXX``, so it encodes as UTF-8. Applied to
    JSON text the result is valid UTF-8 JSON that decodes back to the very same strings (a
    surrogate can only occur inside a JSON string)."""
    return _SURROGATES.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


_TEMP_NAME = re.compile(r"aigc-tag-(?:[a-z]+-)?p(\d+)-")


def temp_prefix(kind: str = "") -> str:
    """The prefix of a private temporary folder: ``aigc-tag-[kind-]p<pid>-``. The pid lets a
    later run remove what a killed one left (:func:`remove_stale_temp_dirs`)."""
    return f"aigc-tag-{kind + '-' if kind else ''}p{os.getpid()}-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_stale_temp_dirs(root: str | None = None) -> int:
    """Delete the temporary folders (copies of inputs for ffmpeg) that aigc-tag processes killed
    with SIGKILL left in ``root`` (the system temp folder): only this user's, only those whose
    process is gone. Returns how many were removed; never raises."""
    import shutil

    root = root or tempfile.gettempdir()
    removed = 0
    try:
        entries = list(os.scandir(root))
    except OSError:
        return 0
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if not match or int(match.group(1)) == os.getpid() or _alive(int(match.group(1))):
            continue
        try:
            if entry.is_dir(follow_symlinks=False) and entry.stat().st_uid == os.getuid():
                shutil.rmtree(entry.path)
                removed += 1
        except OSError:
            pass
    return removed


def output_target(src: Path, dst: Path | str | None, *, in_place: bool) -> Path:
    """Where a file operation writes: ``dst``, or ``src`` itself only when ``in_place``.

    In place, a symlink is followed: its target is rewritten and the link stays a link. A file
    without its owner's write bit (0444) is refused, not replaced (the rename would ignore it)."""
    from .errors import AigcTagError

    if dst is None and not in_place:
        raise AigcTagError(f"{src}: give an output path or in_place=True")
    if in_place:
        target = Path(os.path.realpath(src))
        try:
            mode = os.stat(target).st_mode
        except OSError:
            return target  # missing or unreadable: read_source says so
        if not mode & stat.S_IWUSR:
            raise AigcTagError(
                f"{src}: read-only file (mode {stat.S_IMODE(mode):04o}): not changed in place; "
                "make it writable (chmod u+w) or write the output elsewhere (-o)"
            )
        return target
    target = Path(dst)  # type: ignore[arg-type]
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
