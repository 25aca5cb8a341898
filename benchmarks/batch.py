"""Batch throughput and resume, run by hand: ``python benchmarks/batch.py``.

Workload (issue 8): mixed photo-like JPEG/PNG images of 1-12 MP and short WAV clips (5 s, 44.1 kHz
stereo), made in a private temporary directory. The issue's full size is ``--images 2000 --audio
50``; the default is scaled down so a round fits a few minutes on a 2-core machine.

Rows, each timed ``--repeats`` times in the same round (medians):
- the naive loop ``for f in files: tagger.tag_file(f, out)`` in one process (the anchor);
- ``aigc-tag tag DIR -o OUT -j 1`` and ``-j 2`` (local process pool, with journal and ledger);
- ``aigc-tag tag ... --engine ray -j 2`` (starts a local Ray: its start-up is included).
files/s counts the time inside the run (the summary line), not the Python start-up, so the rows
compare like with like; the naive row also includes making its Tagger.

Then resume: a ``-j 2`` run is killed with SIGKILL half way and rerun; the ledger must hold each
file exactly once and every output must match its ledger record (lost 0, repeated 0).

Prints a Markdown table and writes benchmarks/results/batch.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aigc_tag.tagging import Tagger  # noqa: E402

PRODUCER = "001191110108MA01ABCDEN10001"
SIZES_MP = [1, 1, 2, 2, 3, 4, 6, 12]  # cycled: mostly small, some large (mean ~3.9 MP)


def make_workload(root: Path, n_images: int, n_audio: int) -> int:
    rng = np.random.default_rng(0)
    for i in range(n_images):
        mp = SIZES_MP[i % len(SIZES_MP)]
        w = int((mp * 1e6 * 4 / 3) ** 0.5)
        h = int(w * 3 / 4)
        y, x = np.mgrid[0:h, 0:w]
        base = np.stack([x * 255 // w, y * 255 // h, (x // 3 + y // 5) % 256], -1)
        arr = np.clip(base + rng.integers(-12, 12, base.shape), 0, 255).astype(np.uint8)
        sub = root / f"batch{i % 4}"
        sub.mkdir(parents=True, exist_ok=True)
        im = Image.fromarray(arr)
        if i % 2:
            im.save(sub / f"img{i:05d}.png", compress_level=1)
        else:
            im.save(sub / f"img{i:05d}.jpg", quality=90)
    sr = 44100
    t = np.arange(5 * sr) / sr
    for i in range(n_audio):
        tone = 0.3 * np.sin(2 * np.pi * (220 + 40 * i) * t) + 0.05 * rng.standard_normal(t.size)
        pcm = (np.stack([tone, tone[::-1]], -1) * 32767).astype("<i2")
        (root / "audio").mkdir(exist_ok=True)
        with wave.open(str(root / "audio" / f"clip{i:03d}.wav"), "wb") as fh:
            fh.setnchannels(2)
            fh.setsampwidth(2)
            fh.setframerate(sr)
            fh.writeframes(pcm.tobytes())
    return n_images + n_audio


def files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def naive(src: Path, out: Path) -> float:
    started = time.perf_counter()
    tagger = Tagger(producer=PRODUCER)
    for f in files(src):
        tagger.tag_file(f, out / f.relative_to(src))
    return time.perf_counter() - started


def cli_run(src: Path, out: Path, ledger: Path, *extra: str) -> float:
    report = out.parent / f"{out.name}.jsonl"
    cmd = [sys.executable, "-m", "aigc_tag", "tag", str(src), "-o", str(out)]
    cmd += ["--producer", PRODUCER, "--ledger", str(ledger), "--report", str(report), *extra]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{res.stderr[-2000:]}")
    summary = json.loads(report.read_text().splitlines()[-1])["summary"]
    return float(summary["seconds"])


def resume_check(src: Path, work: Path, n: int) -> dict:
    out, ledger = work / "resume_out", work / "resume.sqlite"
    cmd = [sys.executable, "-m", "aigc_tag", "tag", str(src), "-o", str(out)]
    cmd += ["--producer", PRODUCER, "--ledger", str(ledger), "-j", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while proc.poll() is None and len([p for p in out.rglob("*") if p.is_file()]) < n // 2:
        time.sleep(0.05)
    killed = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    subprocess.run(cmd, capture_output=True, check=True)
    db = sqlite3.connect(ledger)
    rows = db.execute("SELECT input_path, output_path, output_sha256 FROM aigc_ledger").fetchall()
    db.close()
    outputs = [p for p in out.rglob("*") if p.is_file() and not p.name.startswith(".")]
    disk = {str(p.resolve()): hashlib.sha256(p.read_bytes()).hexdigest() for p in outputs}
    recorded = {r[1]: r[2] for r in rows}
    return {
        "killed_mid_run": killed,
        "files": n,
        "outputs": len(outputs),
        "ledger_records": len(rows),
        "lost": n - len({r[0] for r in rows}),
        "repeated": len(rows) - len({r[0] for r in rows}),
        "outputs_match_ledger": recorded == disk,
        "part_files_left": len([p for p in out.rglob("*.part")]),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=16)
    ap.add_argument("--audio", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-ray", action="store_true")
    args = ap.parse_args()
    try:
        import ray  # noqa: F401

        have_ray = not args.no_ray
    except ImportError:
        have_ray = False
    rows = {"naive loop, 1 process": [], "aigc-tag -j 1": [], "aigc-tag -j 2": []}
    if have_ray:
        rows["aigc-tag --engine ray -j 2"] = []
    with tempfile.TemporaryDirectory(prefix="aigc-batch-bench-") as tmp:
        work = Path(tmp)
        src = work / "in"
        n = make_workload(src, args.images, args.audio)
        for r in range(args.repeats):
            rows["naive loop, 1 process"].append(naive(src, work / f"naive{r}"))
            rows["aigc-tag -j 1"].append(cli_run(src, work / f"j1_{r}", work / "l.sqlite", "-j1"))
            rows["aigc-tag -j 2"].append(cli_run(src, work / f"j2_{r}", work / "l.sqlite", "-j2"))
            if have_ray:
                rows["aigc-tag --engine ray -j 2"].append(
                    cli_run(src, work / f"ray{r}", work / "l.sqlite", "--engine", "ray", "-j2")
                )
        resume = resume_check(src, work, n)
    medians = {k: statistics.median(v) for k, v in rows.items()}
    base = medians["aigc-tag -j 1"]
    print(
        f"\n{n} files ({args.images} images of 1-12 MP, {args.audio} WAV clips of 5 s), "
        f"{os.cpu_count()} CPUs, median of {args.repeats}\n"
    )
    print("| run | seconds | files/s | vs -j 1 |")
    print("|---|---:|---:|---:|")
    for k, v in medians.items():
        print(f"| {k} | {v:.1f} | {n / v:.2f} | {base / v:.2f}x |")
    print(
        f"\nresume after kill -9: killed mid-run {resume['killed_mid_run']}, lost "
        f"{resume['lost']}, repeated {resume['repeated']}, outputs match the ledger "
        f"{resume['outputs_match_ledger']}, .part files left {resume['part_files_left']}"
    )
    result = {
        "files": n,
        "images": args.images,
        "audio": args.audio,
        "cpus": os.cpu_count(),
        "repeats": args.repeats,
        "seconds": rows,
        "median_seconds": medians,
        "files_per_second": {k: n / v for k, v in medians.items()},
        "resume": resume,
    }
    out = ROOT / "benchmarks" / "results" / "batch.json"
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
