"""The command line: batches, summaries, exit codes, error lines (run as a real subprocess)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import PRODUCER, SAMPLES


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "aigc_tag", *args]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=300)


def test_tag_a_directory_in_parallel_then_verify(tmp_path):
    src = tmp_path / "in"
    shutil.copytree(SAMPLES, src)
    (src / "nested").mkdir()
    shutil.copy(SAMPLES / "badge.png", src / "nested" / "copy.png")
    out = tmp_path / "out"
    res = run("tag", str(src), "-o", str(out), "--producer", PRODUCER, "-j", "2")
    assert res.returncode == 0, res.stderr
    count = len([p for p in SAMPLES.iterdir() if p.suffix != ".py"]) + 1  # + nested/copy.png
    assert f"tagged {count}, skipped 1, failed 0" in res.stderr  # make_samples.py is skipped
    assert (out / "nested" / "copy.png").exists()
    res = run("verify", str(out), "--json")
    assert res.returncode == 0, res.stdout + res.stderr
    lines = [json.loads(line) for line in res.stdout.splitlines()]
    assert len(lines) == count and {x["verdict"] for x in lines} == {"compliant"}
    assert {x["media_type"] for x in lines} == {"image", "audio"}
    ids = {x["metadata_label"]["ProduceID"] for x in lines}
    assert len(ids) == count, "every file needs its own ProduceID"


def test_a_bad_file_fails_alone(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(SAMPLES / "landscape.jpg", src / "good.jpg")
    (src / "bad.png").write_bytes((SAMPLES / "badge.png").read_bytes()[:500])
    out = tmp_path / "out"
    res = run(
        "tag", str(src / "good.jpg"), str(src / "bad.png"), "-o", str(out), "--producer", PRODUCER
    )
    assert res.returncode == 2
    errors = [line for line in res.stderr.splitlines() if line.startswith("aigc-tag: error:")]
    assert len(errors) == 1 and "bad.png" in errors[0]
    assert "tagged 1, skipped 0, failed 1" in res.stderr
    # Nothing but the outputs: no partial file, and the run journal lives outside OUTDIR.
    outputs = sorted(p.name for p in out.iterdir())
    assert outputs == ["good.jpg"], "partial output or tool state left in OUTDIR"


def test_verify_exit_codes(tmp_path):
    plain = tmp_path / "plain.jpg"
    shutil.copy(SAMPLES / "landscape.jpg", plain)
    assert run("verify", str(plain)).returncode == 3
    assert run("verify", str(tmp_path / "missing.jpg")).returncode == 2
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    assert run("verify", str(junk)).returncode == 4
    res = run("verify", str(plain), "--require-label")
    assert res.returncode == 1 and "M03" in res.stdout


def test_usage_errors_exit_2(tmp_path):
    res = run("tag", str(SAMPLES), "-o", str(tmp_path), "--producer", PRODUCER, "--produce-id", "x")
    assert res.returncode == 2 and "single file" in res.stderr
    res = run("tag", str(SAMPLES / "badge.png"), "-o", str(tmp_path), "--producer", "某 公司")
    assert res.returncode == 2 and "producer" in res.stderr
    res = run("tag", str(SAMPLES / "badge.png"), "--producer", PRODUCER)
    assert res.returncode == 2 and "--in-place" in res.stderr


def test_unwritable_output_is_a_clear_error(tmp_path):
    if os.geteuid() == 0:
        target = Path("/proc/aigc-tag-cannot-write-here")
    else:
        target = tmp_path / "ro"
        target.mkdir(mode=0o500)
    res = run("tag", str(SAMPLES / "badge.png"), "-o", str(target), "--producer", PRODUCER)
    assert res.returncode == 2
    assert "badge.png" in res.stderr or str(target) in res.stderr


def test_explicit_options_reach_the_file(tmp_path):
    res = run(
        "tag",
        str(SAMPLES / "landscape.jpg"),
        "-o",
        str(tmp_path),
        "--producer",
        PRODUCER,
        "--produce-id",
        "job-42",
        "--text",
        "bilingual",
        "--position",
        "top-left",
        "--json",
    )
    assert res.returncode == 0, res.stderr
    line = json.loads(res.stdout.splitlines()[0])
    assert line["result"]["label"]["ProduceID"] == "job-42"
    assert line["result"]["caption"]["position"] == "top-left"


def test_private_watermark_key_from_a_file(tmp_path):
    key = tmp_path / "wm.key"
    key.write_text("our producer's secret\n")
    res = run(
        "tag",
        str(SAMPLES / "landscape.jpg"),
        "-o",
        str(tmp_path / "out"),
        "--producer",
        PRODUCER,
        "--watermark-key-file",
        str(key),
        "--json",
    )
    assert res.returncode == 0, res.stderr
    assert "secret" not in res.stdout + res.stderr
    out = tmp_path / "out" / "landscape.jpg"
    public = json.loads(run("verify", str(out), "--json").stdout)
    assert public["watermark"]["payload"] is None  # the public key cannot read a private mark
    private = json.loads(run("verify", str(out), "--json", "--watermark-key-file", str(key)).stdout)
    assert (
        private["watermark"]["payload"]["hex"]
        == json.loads(res.stdout)["result"]["watermark_payload"]
    )
    assert {c["id"]: c["outcome"] for c in private["checks"]}["W02"] == "pass"


def test_verify_takes_globs_lists_and_filters(tmp_path):
    out = tmp_path / "out"
    res = run("tag", str(SAMPLES / "badge.png"), str(SAMPLES / "landscape.jpg"), "-o", str(out),
              "--producer", PRODUCER, "--no-watermark")  # fmt: skip
    assert res.returncode == 0, res.stderr
    res = run("verify", str(out / "*.png"), "--json", "--no-watermark")
    assert [json.loads(x)["format"] for x in res.stdout.splitlines()] == ["png"]
    listing = tmp_path / "list.txt"
    listing.write_text(f"{out / 'badge.png'}\n{out / 'landscape.jpg'}\n", encoding="utf-8")
    res = run("verify", "--from-list", str(listing), "--exclude", "*.png", "--json",
              "--no-watermark")  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert [json.loads(x)["format"] for x in res.stdout.splitlines()] == ["jpeg"]
