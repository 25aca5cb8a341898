"""What a batch tells its user: skipped files by name, honest resume counts, where the ledger
and the journal live — and OUTDIR holds nothing but outputs."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import PRODUCER, photo


def _tag(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "aigc_tag", "tag", *args, "--producer", PRODUCER]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=180)


def test_skips_named_resume_counts_honest_ledger_announced_outdir_clean(tmp_path):
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    for i in range(2):
        photo(160, 128, seed=i).save(src / f"p{i}.png")
    (src / "notes.bin").write_bytes(b"\x00\x01 not media")
    env = {**os.environ, "AIGC_TAG_LEDGER": "", "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_STATE_HOME": str(tmp_path / "state")}  # fmt: skip

    first = _tag(str(src), "-o", str(out), "-j", "1", env=env)
    assert first.returncode == 0, first.stderr
    assert f"skipped: {src / 'notes.bin'}: not a supported format" in first.stderr
    assert "provenance ledger created at" in first.stderr
    assert str(tmp_path / "data" / "aigc-tag" / "ledger.sqlite") in first.stderr
    assert sorted(p.name for p in out.iterdir()) == ["p0.png", "p1.png"]
    assert list((tmp_path / "state" / "aigc-tag" / "journals").glob("*.sqlite"))

    again = _tag(str(src), "-o", str(out), "-j", "1", env=env)
    assert again.returncode == 0, again.stderr
    assert "already done 2, already skipped 1" in again.stderr
    assert "provenance ledger created" not in again.stderr
