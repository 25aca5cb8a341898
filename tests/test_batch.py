"""Batch runs at scale: resume after kill -9, changed inputs, selection, dry run, report, timeout.

Real files (generated PNGs and the project's samples), real subprocesses, no mocks."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from conftest import PRODUCER, SAMPLES, photo
from PIL import Image

import aigc_tag
from aigc_tag.engines import TaskFailure
from aigc_tag.engines.local import LocalEngine
from aigc_tag.journal import file_sha256


def cli(*args: str, stdin: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "aigc_tag", *args]
    return subprocess.run(cmd, capture_output=True, text=True, input=stdin, timeout=timeout)


def make_pngs(folder: Path, n: int) -> list[Path]:
    """``n`` small photo-like PNGs (big enough for the watermark) in three subfolders."""
    paths = []
    for i in range(n):
        sub = folder / f"d{i % 3}"
        sub.mkdir(parents=True, exist_ok=True)
        path = sub / f"img{i:03d}.png"
        photo(160, 128, seed=i).save(path)
        paths.append(path)
    return paths


def ledger_rows(path: Path) -> list[tuple[str, str, str]]:
    db = sqlite3.connect(path)
    try:
        return db.execute(
            "SELECT input_path, output_path, output_sha256 FROM aigc_ledger"
        ).fetchall()
    finally:
        db.close()


def test_resume_after_kill9_tags_every_file_exactly_once(tmp_path):
    src, out, ledger = tmp_path / "in", tmp_path / "out", tmp_path / "ledger.sqlite"
    inputs = make_pngs(src, 40)
    args = ["tag", str(src), "-o", str(out), "--producer", PRODUCER, "-j", "1"]
    args += ["--ledger", str(ledger)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "aigc_tag", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        if len(list(out.rglob("*.png"))) >= 12:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before it could be killed; use more files"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = len(list(out.rglob("*.png")))
    assert 12 <= partial < 40

    res = cli(*args)
    assert res.returncode == 0, res.stderr
    assert "already done" in res.stderr, res.stderr
    outputs = sorted(out.rglob("*.png"))
    assert [p.relative_to(out) for p in outputs] == [p.relative_to(src) for p in sorted(inputs)]
    assert not [p for p in out.rglob("*") if p.name.endswith(".part")], "half-written output left"
    rows = ledger_rows(ledger)
    assert len(rows) == 40, "a file was tagged twice or not at all"
    assert len({r[0] for r in rows}) == 40
    on_disk = {str(p.resolve()): file_sha256(p) for p in outputs}
    assert {r[1]: r[2] for r in rows} == on_disk, "the ledger does not describe the outputs"
    for path in outputs[::13]:
        assert aigc_tag.verify(path).verdict.value == "compliant"
    again = cli(*args)
    assert "tagged 0, skipped 0, failed 0, already done 40" in again.stderr
    assert len(ledger_rows(ledger)) == 40


def test_changed_input_is_redone_other_settings_start_afresh(tmp_path):
    src, out = tmp_path / "in", tmp_path / "out"
    first, second = make_pngs(src, 2)
    args = ["tag", str(src), "-o", str(out), "--producer", PRODUCER, "-j", "1", "--no-ledger"]
    assert cli(*args).returncode == 0
    old = (out / second.relative_to(src)).read_bytes()
    Image.new("RGB", (100, 80), "navy").save(second)
    res = cli(*args)
    assert "tagged 1, skipped 0, failed 0, already done 1" in res.stderr, res.stderr
    assert (out / second.relative_to(src)).read_bytes() != old
    os.utime(first, ns=(1, 1))  # touched but the same bytes: the hash says it is done
    assert "already done 2" in cli(*args).stderr
    other = cli(*args, "--label", "2")  # a different setting set does not reuse the journal
    assert "tagged 2, skipped 0, failed 0 in" in other.stderr, other.stderr


def test_dry_run_writes_nothing(tmp_path):
    src, out, ledger = tmp_path / "in", tmp_path / "out", tmp_path / "l.sqlite"
    make_pngs(src, 2)
    (src / "notes.bin").write_bytes(b"\x00\x01 not media")
    res = cli(
        "tag",
        str(src),
        "-o",
        str(out),
        "--producer",
        PRODUCER,
        "--dry-run",
        "--ledger",
        str(ledger),
        "--report",
        str(tmp_path / "r.jsonl"),
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.count("would tag") == 2 and "would skip" in res.stdout
    assert not out.exists() and not ledger.exists() and not (tmp_path / "r.jsonl").exists()


def test_include_exclude_globs_and_from_list(tmp_path):
    src, out = tmp_path / "in", tmp_path / "out"
    shutil.copytree(SAMPLES, src)
    common = ["-o", str(out), "--producer", PRODUCER, "--no-ledger", "--no-journal", "--dry-run"]
    selection = ["--include", "*.png", "--include", "*.jp*g", "--exclude", "land*"]
    res = cli("tag", str(src / "*.jpg"), str(src / "*.[pw][na]*"), *common, *selection)
    assert sorted(line.split(":")[0] for line in res.stdout.splitlines()) == [
        str(src / "badge.png")  # not landscape.jpg (excluded), tune.wav (not included)
    ]
    listing = f"{src / 'badge.png'}\n\n{src / 'tune.wav'}\n"
    res = cli(
        "tag",
        "--from-list",
        "-",
        "-o",
        str(out),
        "--producer",
        PRODUCER,
        "--no-ledger",
        "--include",
        "*.png",
        stdin=listing,
    )
    assert res.returncode == 0, res.stderr
    tagged = [p for p in out.rglob("*") if p.is_file() and not p.name.startswith(".")]
    assert [p.name for p in tagged] == ["badge.png"]
    assert tagged[0] == out / (src / "badge.png").relative_to("/"), "list entries mirror the path"


def test_report_is_one_line_per_file_and_a_summary(tmp_path):
    src, out, report = tmp_path / "in", tmp_path / "out", tmp_path / "run.jsonl"
    make_pngs(src, 2)
    (src / "broken.png").write_bytes((SAMPLES / "badge.png").read_bytes()[:300])
    res = cli(
        "tag",
        str(src),
        "-o",
        str(out),
        "--producer",
        PRODUCER,
        "--no-ledger",
        "-j",
        "2",
        "--report",
        str(report),
    )
    assert res.returncode == 2
    lines = [json.loads(line) for line in report.read_text().splitlines()]
    assert lines[-1]["summary"]["tagged"] == 2 and lines[-1]["summary"]["failed"] == 1
    by_status = {x["src"]: x["status"] for x in lines[:-1]}
    assert by_status[str(src / "broken.png")] == "failed"
    tagged = [x for x in lines[:-1] if x["status"] == "tagged"]
    assert all(x["produce_id"] and len(x["watermark_payload"]) == 16 for x in tagged)
    assert not list(tmp_path.glob(".run.jsonl.*"))


def test_a_file_that_hangs_times_out_alone(tmp_path):
    src, out = tmp_path / "in", tmp_path / "out"
    (good,) = make_pngs(src, 1)
    fifo = tmp_path / "stuck.png"
    # A 9 MP noise picture takes many seconds to caption and watermark: a stand-in for a worker
    # stuck on one file (a FIFO no longer serves: it is refused before it is opened).
    noise = Image.effect_noise((3000, 3000), 80).convert("RGB")
    noise.save(fifo, compress_level=1)
    started = time.monotonic()
    res = cli(
        "tag",
        str(good),
        str(fifo),
        "-o",
        str(out),
        "--producer",
        PRODUCER,
        "--no-ledger",
        "-j",
        "1",
        "--timeout",
        "1.5",
    )
    assert time.monotonic() - started < 60
    assert res.returncode == 2
    assert "stuck.png: timed out after 1.5s" in res.stderr, res.stderr
    assert "tagged 1, skipped 0, failed 1" in res.stderr
    assert (out / good.name).exists() and not (out / "stuck.png").exists()


def _slow(x: int) -> int:
    if x == 2:
        time.sleep(30)
    return x * 10


def test_local_engine_reads_the_stream_lazily_and_replaces_a_stuck_worker():
    pulled = []

    def items():
        for i in range(50):
            pulled.append(i)
            yield i

    engine = LocalEngine(jobs=2, timeout=1.5)
    results = {}
    for item, result in engine.map_unordered(_slow, items()):
        if not results:
            assert len(pulled) <= 4, "the whole stream was materialised"
        results[item] = result
    assert isinstance(results.pop(2), TaskFailure)
    assert results == {i: i * 10 for i in range(50) if i != 2}


def _crash_on_three(x: int) -> int:
    if x == 3:
        os.kill(os.getpid(), signal.SIGKILL)  # the OOM killer, or a native decoder crashing
    return x * 10


def test_run_parallel_keeps_input_order_and_outlives_a_crashed_worker():
    from aigc_tag.cli.batch import run_parallel

    out = list(run_parallel(_crash_on_three, list(range(8)), jobs=2, label="x",
                            failed=lambda item, message: ("lost", item, message)))  # fmt: skip
    assert out[:3] == [0, 10, 20] and out[4:] == [40, 50, 60, 70]
    assert out[3][:2] == ("lost", 3) and "worker process died" in out[3][2]


def test_verify_batch_times_out_one_file_and_verifies_the_rest(tmp_path):
    (good,) = make_pngs(tmp_path / "in", 1)
    slow = tmp_path / "in" / "slow.png"  # 9 MP of noise: seconds of watermark search and OCR
    Image.effect_noise((3000, 3000), 80).convert("RGB").save(slow, compress_level=1)
    res = cli("verify", str(slow), str(good), "-j", "1", "--timeout", "1")
    assert res.returncode == 4, res.stdout + res.stderr  # inconclusive beats not_found
    lines = res.stdout.splitlines()
    assert lines[0].startswith(f"{slow}: inconclusive"), res.stdout  # input order kept
    assert "timed out after 1s; the worker was replaced" in res.stdout
    assert any(line.startswith(f"{good}: not_found") for line in lines), res.stdout
