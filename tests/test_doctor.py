"""``aigc-tag doctor`` reports what the code paths would find, and says how to add the rest."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def _doctor(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aigc_tag", "doctor", "--json"], env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def test_core_parts_present_and_every_missing_part_has_a_fix():
    proc = _doctor(dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    parts = {p["name"]: p for p in map(json.loads, proc.stdout.splitlines())}
    assert parts["c2pa-python"]["present"] and parts["caption font"]["present"]
    assert all(p["fix"] for p in parts.values())


def test_missing_ffmpeg_is_reported_with_the_command_that_adds_it(tmp_path):
    missing = str(tmp_path / "none")
    env = {**os.environ, "PATH": str(tmp_path), "AIGC_TAG_FFMPEG": missing}
    # hide the imageio-ffmpeg wheel's binary too
    env["IMAGEIO_FFMPEG_EXE"] = missing
    proc = _doctor(env)
    parts = {p["name"]: p for p in map(json.loads, proc.stdout.splitlines())}
    if parts["ffmpeg"]["present"]:
        pytest.skip(f"an ffmpeg is still found: {parts['ffmpeg']['detail']}")
    assert "imageio-ffmpeg" in parts["ffmpeg"]["fix"]
    assert proc.returncode == 2  # ffmpeg is a core part since pip alone is the install
