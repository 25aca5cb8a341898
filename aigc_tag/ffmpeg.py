"""Finding and running ffmpeg/ffprobe: the one place that starts them.

Commands are argument lists (never shell strings), so file names with spaces, quotes or leading
dashes cannot change what runs; inputs are passed as paths inside a private temporary directory
that we name ourselves. ``AIGC_TAG_FFMPEG`` / ``AIGC_TAG_FFPROBE`` override the lookup on PATH.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from functools import cache

from .errors import AigcTagError, CorruptContainer

#: Seconds one ffmpeg run may take before it is killed (a hostile file must not hang a batch).
DEFAULT_TIMEOUT = 600.0


class ToolMissing(AigcTagError):
    """ffmpeg or ffprobe is not installed (or not where the environment says)."""


@cache
def tool_path(name: str) -> str:
    """Absolute path of ``ffmpeg`` or ``ffprobe``; raises :class:`ToolMissing` with a fix."""
    override = os.environ.get(f"AIGC_TAG_{name.upper()}")
    found = override if override and os.access(override, os.X_OK) else shutil.which(name)
    if not found and name == "ffmpeg":
        found = _wheel_ffmpeg()
    if not found:
        raise ToolMissing(
            f"{name} is needed to decode and encode audio/video but was not found on PATH "
            f"(install it, e.g. 'apt-get install ffmpeg', or set AIGC_TAG_{name.upper()})"
        )
    return found


def _wheel_ffmpeg() -> str | None:
    """The ffmpeg binary shipped by the imageio-ffmpeg wheel, where that is installed (it has
    no ffprobe, so probing still needs a system ffprobe)."""
    try:
        import imageio_ffmpeg
    except ImportError:
        return None
    try:
        path = imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError:
        return None
    return path if path and os.access(path, os.X_OK) else None


def run(
    tool: str, args: list[str], *, stdin: bytes | None = None, timeout: float = DEFAULT_TIMEOUT
) -> bytes:
    """Run ``tool`` with ``args`` and return its stdout; a failure raises CorruptContainer with
    the last line ffmpeg printed (its own description of what is wrong with the input)."""
    quiet = ["-hide_banner", "-nostdin"] if tool == "ffmpeg" else []
    cmd = [tool_path(tool), *quiet, *args]
    try:
        done = subprocess.run(
            cmd, input=stdin, capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise AigcTagError(f"{tool} did not finish within {timeout:.0f} s") from None
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise CorruptContainer(f"{tool} failed: {lines[-1] if lines else 'no message'}")
    return done.stdout


def probe(path: str) -> dict:
    """ffprobe's JSON for ``path`` (format and streams)."""
    out = run(
        "ffprobe",
        ["-v", "error", "-print_format", "json", "-show_format", "-show_streams", "-i", path],
        timeout=120,
    )
    try:
        return json.loads(out)
    except ValueError:
        raise CorruptContainer("ffprobe printed no readable description") from None


class Stream:
    """One long-running ffmpeg process whose frames travel through its stdin/stdout pipes.

    A watchdog kills it at the deadline (so a hostile or stuck input cannot hang the caller),
    stderr is drained on a thread (so a chatty ffmpeg cannot block on a full pipe), and leaving
    the ``with`` block kills it if it is still running. :meth:`finish` waits for the exit and
    raises :class:`CorruptContainer` with ffmpeg's last message on a failure.
    """

    def __init__(
        self, args: list[str], *, stdin: bool = False, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        import threading

        cmd = [tool_path("ffmpeg"), "-hide_banner", "-nostdin", *args] if not stdin else [
            tool_path("ffmpeg"), "-hide_banner", *args]  # fmt: skip
        self.timeout = timeout
        self.timed_out = False
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        import collections

        _widen_pipes(self.proc)
        self._err: collections.deque[bytes] = collections.deque(maxlen=200)
        self._drain = threading.Thread(target=self._read_stderr, daemon=True)
        self._drain.start()
        self._timer = threading.Timer(timeout, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._err.append(line)  # the last 200 lines: ffmpeg's verdict comes last

    def _expire(self) -> None:
        self.timed_out = True
        self.kill()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()

    @property
    def stderr_text(self) -> str:
        return b"".join(self._err).decode("utf-8", "replace")

    def read_exact(self, size: int) -> bytes | None:
        """``size`` bytes from stdout, or None at the end of the stream (a short tail too)."""
        assert self.proc.stdout is not None
        buf = self.proc.stdout.read(size)
        return buf if len(buf) == size else None

    def read_into(self, size: int) -> bytearray | None:
        """Like :meth:`read_exact`, into a fresh writable buffer (no copy for numpy views)."""
        assert self.proc.stdout is not None
        buf = bytearray(size)
        view, got = memoryview(buf), 0
        while got < size:
            n = self.proc.stdout.readinto(view[got:])
            if not n:
                return None
            got += n
        return buf

    def finish(self) -> None:
        """Close the pipes, wait for the exit; raise on timeout or a non-zero exit status."""
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            self.proc.wait()
        self._timer.cancel()
        self._drain.join(timeout=5)
        if self.timed_out:
            raise AigcTagError(f"ffmpeg did not finish within {self.timeout:.0f} s")
        if self.proc.returncode != 0:
            lines = self.stderr_text.strip().splitlines()
            raise CorruptContainer(f"ffmpeg failed: {lines[-1] if lines else 'no message'}")

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        self.kill()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                try:
                    pipe.close()
                except OSError:
                    pass
        self.proc.wait()


def _widen_pipes(proc: subprocess.Popen) -> None:
    """Ask Linux for 1 MiB pipe buffers (64 KiB by default): a raw 1080p frame is 3 MB, and
    fewer, larger transfers cost fewer context switches. Best effort, elsewhere a no-op."""
    try:
        import fcntl
    except ImportError:
        return
    for pipe in (proc.stdin, proc.stdout):
        if pipe is not None:
            try:
                fcntl.fcntl(pipe.fileno(), 1031, 1 << 20)  # F_SETPIPE_SZ
            except OSError:
                pass


def stream(args: list[str], *, stdin: bool = False, timeout: float = DEFAULT_TIMEOUT) -> Stream:
    """Start ffmpeg with ``args`` (``-hide_banner`` added); see :class:`Stream`."""
    return Stream(args, stdin=stdin, timeout=timeout)
