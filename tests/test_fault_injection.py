"""No data lost: SIGKILL at random points, a full disk, read-only outputs and permission errors.

``aigc-tag tag`` runs in a subprocess over a few files (images, audio, a document). It is killed
with SIGKILL after random delays; after every kill the inputs are untouched (hash), every file
visible under its final name is a complete tagged output (it parses and carries its label), and
only hidden ``.<name>.*.part`` temp files may be left (they are counted and reported). A rerun
then completes. A full disk (a small tmpfs when we may mount, else ``RLIMIT_FSIZE``), a read-only
file system and a permission error each give an error and leave nothing half-written.
"""

from __future__ import annotations

import hashlib
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from conftest import PRODUCER, SAMPLES

from aigc_tag.carriers import sniff_content
from aigc_tag.errors import AigcTagError

ROOT = Path(__file__).resolve().parents[1]
INPUTS = ("badge.png", "landscape.jpg", "loop.gif", "portrait.webp")
DOC = "# Notes\n\nA paragraph written by a model.\n\n- one\n- two\n"


def _propagate_cmd(inputs: Path, out: Path) -> list[str]:
    return [
        sys.executable, "-m", "aigc_tag", "propagate", str(inputs), "-o", str(out),
        "--propagator", "PLATFORM-X", "--declared", "-j", "1",
    ]  # fmt: skip


def _cmd(inputs: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "aigc_tag", "tag", str(inputs), "-o", str(out),
        "--producer", PRODUCER, "--no-watermark", "-j", "1", *extra,
    ]  # fmt: skip


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _inputs(tmp: Path) -> Path:
    src = tmp / "in"
    src.mkdir()
    for name in INPUTS:
        shutil.copy(SAMPLES / name, src / name)
    (src / "notes.md").write_text(DOC, encoding="utf-8")
    return src


def _visible_outputs(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if p.is_file() and not p.name.startswith(".")]


def _parts(out: Path) -> list[Path]:
    return [p for p in out.rglob("*.part")]


def _assert_complete(path: Path) -> None:
    data = path.read_bytes()
    try:
        carrier = sniff_content(data, name=path.name)
        labels = carrier.read_labels(data)
    except AigcTagError as exc:
        raise AssertionError(f"{path.name} is visible but broken: {exc}") from None
    assert labels, f"{path.name} is visible under its final name but carries no label"


@pytest.mark.parametrize("mode,trials", [("tag", 3), ("propagate", 2)])
def test_sigkill_at_random_points_loses_nothing(tmp_path, mode, trials):
    cmd = _cmd if mode == "tag" else _propagate_cmd
    src = _inputs(tmp_path)
    before = _hashes(src)
    # One full run first, to know how long a run takes on this machine.
    t0 = time.monotonic()
    subprocess.run(cmd(src, tmp_path / "ref"), env=_env(), check=True, capture_output=True)
    full = time.monotonic() - t0
    rng = random.Random(9)
    out = tmp_path / "out"
    leftovers, killed_mid_run = [], 0
    for _trial in range(trials):
        proc = subprocess.Popen(
            cmd(src, out), env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(0.3, full))
        if proc.poll() is None:
            killed_mid_run += 1
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        assert _hashes(src) == before, "an input changed"
        for path in _visible_outputs(out):
            _assert_complete(path)
        leftovers += [p.name for p in _parts(out)]
        shutil.rmtree(out, ignore_errors=True) if _trial % 2 else None  # fresh and resumed runs
    assert killed_mid_run >= 1, "the kills all came after the run had finished"
    done = subprocess.run(cmd(src, out), env=_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    names = {p.name for p in _visible_outputs(out)}
    assert names >= {*INPUTS, "notes.md"}, names
    for path in _visible_outputs(out):
        _assert_complete(path)
    assert _hashes(src) == before
    # Kill-time leftovers are hidden temp files only; record how many the kills left behind.
    print(f"killed {killed_mid_run}x mid-run; .part files left by the kills: {leftovers}")


# --- full disk, read-only, permissions ---------------------------------------------------------


def _can_mount() -> bool:
    return os.geteuid() == 0 and shutil.which("mount") is not None


@pytest.fixture
def small_fs():
    """A 120 KiB tmpfs: room for small outputs, not for a 144 KB PNG (the journal is elsewhere)."""
    if not _can_mount():
        pytest.skip("needs root to mount a tmpfs (the RLIMIT_FSIZE test covers the rest)")
    mnt = Path(tempfile.mkdtemp(prefix="aigc-fs-"))
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=120k", "tmpfs", str(mnt)])
    if r.returncode:
        mnt.rmdir()
        pytest.skip("mount -t tmpfs is not permitted here")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)])
    mnt.rmdir()


def test_full_disk_fails_the_file_and_leaves_nothing_half_written(tmp_path, small_fs):
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(SAMPLES / "badge.png", src)  # ~144 KB output: does not fit
    shutil.copy(SAMPLES / "portrait.webp", src)  # ~13 KB output: fits
    before = _hashes(src)
    out = small_fs / "out"
    r = subprocess.run(_cmd(src, out), env=_env(), capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    assert "badge.png" in r.stderr + r.stdout
    assert "No space" in r.stderr + r.stdout or "space" in (r.stderr + r.stdout).lower()
    assert not (out / "badge.png").exists()
    assert _parts(out) == [], "a temp file was left on the full disk"
    _assert_complete(out / "portrait.webp")
    assert _hashes(src) == before


def _fsize_limit(limit: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_file_size_limit_leaves_nothing_half_written(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(SAMPLES / "badge.png", src)
    out = tmp_path / "out"
    out.mkdir()
    r = subprocess.run(
        _cmd(src, out), env=_env(), capture_output=True, text=True, timeout=120,
        preexec_fn=_fsize_limit(100_000),  # the journal fits, the 144 KB output does not
    )  # fmt: skip
    assert r.returncode != 0
    assert not (out / "badge.png").exists()
    assert _parts(out) == []
    assert _hashes(src) == {
        "badge.png": hashlib.sha256((SAMPLES / "badge.png").read_bytes()).hexdigest()
    }


@pytest.fixture
def readonly_fs():
    if not _can_mount():
        pytest.skip("needs root to mount a read-only tmpfs")
    mnt = Path(tempfile.mkdtemp(prefix="aigc-ro-"))
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,ro", "tmpfs", str(mnt)]).returncode:
        mnt.rmdir()
        pytest.skip("mount -t tmpfs is not permitted here")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)])
    mnt.rmdir()


@pytest.fixture
def unwritable_dir():
    """A directory the tag process may not write to (root ignores modes: EROFS covers it)."""
    if os.geteuid() == 0:
        yield None, None
        return
    base = Path(tempfile.mkdtemp(prefix="aigc-perm-"))
    base.chmod(0o755)
    out = base / "out"
    out.mkdir()
    out.chmod(0o555)
    yield base, out
    out.chmod(0o755)
    shutil.rmtree(base)


def test_read_only_output_and_permission_errors(tmp_path, readonly_fs, unwritable_dir):
    _base, denied = unwritable_dir
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(SAMPLES / "portrait.webp", src)
    before = _hashes(src)
    for target in [readonly_fs / "out", readonly_fs, *([denied] if denied else [])]:
        r = subprocess.run(
            _cmd(src, target), env=_env(), capture_output=True, text=True, timeout=120
        )
        assert r.returncode != 0, r.stdout
        assert "Read-only" in r.stderr or "ermission" in r.stderr, r.stderr[-400:]
        assert not (target / "portrait.webp").exists()
        assert _hashes(src) == before


def test_output_errors_are_one_line_not_tracebacks(tmp_path, readonly_fs):
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(SAMPLES / "portrait.webp", src)
    r = subprocess.run(
        _cmd(src, readonly_fs / "out"), env=_env(), capture_output=True, text=True, timeout=120
    )
    assert r.returncode != 0
    assert "Traceback" not in r.stderr, r.stderr[-600:]
    assert len(r.stderr.strip().splitlines()) <= 3 and "Read-only" in r.stderr, r.stderr
