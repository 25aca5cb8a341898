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
    if not found:
        raise ToolMissing(
            f"{name} is needed to decode and encode audio/video but was not found on PATH "
            f"(install it, e.g. 'apt-get install ffmpeg', or set AIGC_TAG_{name.upper()})"
        )
    return found


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
