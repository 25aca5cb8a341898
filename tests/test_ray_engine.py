"""``--engine ray`` on a local Ray instance: the same outputs, journal and ledger semantics."""

from __future__ import annotations

import json
import sqlite3

import pytest
from click.testing import CliRunner
from conftest import PRODUCER, SAMPLES, photo

import aigc_tag
from aigc_tag.cli import main

ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'aigc-tag[ray]')")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_ray_engine_tags_resumes_and_records(local_ray, tmp_path):
    src, out, ledger = tmp_path / "in", tmp_path / "out", tmp_path / "ledger.sqlite"
    (src / "sub").mkdir(parents=True)
    for i in range(3):
        photo(160, 128, seed=i).save(src / "sub" / f"p{i}.png")
    (src / "tune.wav").write_bytes((SAMPLES / "tune.wav").read_bytes())
    (src / "broken.png").write_bytes((SAMPLES / "badge.png").read_bytes()[:300])
    args = ["tag", str(src), "-o", str(out), "--producer", PRODUCER, "--engine", "ray"]
    args += ["-j", "2", "--ledger", str(ledger), "--report", str(tmp_path / "run.jsonl")]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2, res.output  # broken.png fails alone
    assert "tagged 4, skipped 0, failed 1" in res.output
    outputs = sorted(
        p.relative_to(out).as_posix()
        for p in out.rglob("*")
        if p.is_file() and not p.name.startswith(".")
    )
    assert outputs == ["sub/p0.png", "sub/p1.png", "sub/p2.png", "tune.wav"]
    for rel in outputs:
        assert aigc_tag.verify(out / rel).verdict.value == "compliant"
    db = sqlite3.connect(ledger)
    assert db.execute("SELECT COUNT(DISTINCT output_path) FROM aigc_ledger").fetchone()[0] == 4
    summary = json.loads((tmp_path / "run.jsonl").read_text().splitlines()[-1])["summary"]
    assert summary["engine"] == "ray" and summary["tagged"] == 4

    again = CliRunner().invoke(main, args)  # the journal: only the failed file is retried
    assert "tagged 0, skipped 0, failed 1, already done 4" in again.output, again.output
    assert db.execute("SELECT COUNT(*) FROM aigc_ledger").fetchone()[0] == 4
