#!/usr/bin/env python3
"""Run the fuzz targets for a fixed budget each.

    python fuzz/run.py --budget-seconds 60 --target all [--jobs 2] [--engine atheris|random]

Each target runs in its own process (so a crash, a hang or a memory blow-up is contained and
measured per target). Inside it, every input gets a deadline (SIGALRM, ``--deadline``, 2 s); any
exception other than ``AigcTagError``, and any input over the deadline, is a finding: the input is
saved under ``tests/fuzz_regressions/<target>/`` (one file per unique failure site) for
tests/test_fuzz_regressions.py to replay. The RSS ceiling (``--rss-mb``) is enforced by
``RLIMIT_AS``-free means: libFuzzer's ``-rss_limit_mb`` with atheris, and a peak-RSS check after
every input with the random engine. ``--engine atheris`` (coverage-guided, needs
``pip install atheris``; the default when it imports) or ``random`` (fuzz/mutate.py).
Per-target counts go to ``fuzz/results/<target>.json`` and a table on stdout.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results"


class Hang(Exception):
    """An input ran past the per-input deadline."""


def _site(exc: BaseException) -> str:
    """Where the failure was raised, as type + innermost aigc_tag frame (the dedup key)."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "aigc_tag" in f.filename] or frames
    where = f"{Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else "?"
    return f"{type(exc).__name__}@{where}"


class Recorder:
    def __init__(self, target: str, deadline: float, rss_mb: int, engine: str) -> None:
        from fuzz.targets import REGRESSIONS

        self.target, self.deadline, self.rss_mb, self.engine = target, deadline, rss_mb, engine
        self.out_dir = REGRESSIONS / target
        self.inputs = 0
        self.failures: dict[str, dict] = {}
        self.slowest = 0.0
        self.started = time.monotonic()
        self._last_dump = 0.0
        signal.signal(signal.SIGALRM, self._alarm)

    def _alarm(self, *_: object) -> None:
        raise Hang(f"input ran past the {self.deadline}s deadline")

    def run(self, data: bytes) -> None:
        from fuzz.targets import run_one

        t0 = time.monotonic()
        signal.setitimer(signal.ITIMER_REAL, self.deadline)
        try:
            exc = run_one(self.target, data)
        except Hang as hang:
            exc = hang
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        took = time.monotonic() - t0
        self.inputs += 1
        self.slowest = max(self.slowest, took)
        if exc is not None:
            self._record(_site(exc), exc, data)
        elif self.peak_rss_mb() > self.rss_mb:
            self._record("RSS-ceiling", MemoryError(f"peak RSS {self.peak_rss_mb()} MB"), data)
            self.dump()
            os._exit(3)
        if t0 - self._last_dump > 2:
            self.dump()

    def _record(self, key: str, exc: BaseException, data: bytes) -> None:
        entry = self.failures.setdefault(key, {"count": 0, "message": str(exc)[:200]})
        entry["count"] += 1
        if entry["count"] == 1:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            name = hashlib.sha1(data).hexdigest()[:16]
            (self.out_dir / name).write_bytes(data)
            entry["saved"] = name
            print(f"[{self.target}] NEW {key}: {str(exc)[:160]} -> {name}", flush=True)

    @staticmethod
    def peak_rss_mb() -> int:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024

    def dump(self) -> None:
        self._last_dump = time.monotonic()
        RESULTS.mkdir(exist_ok=True)
        stats = {
            "target": self.target,
            "engine": self.engine,
            "inputs": self.inputs,
            "seconds": round(time.monotonic() - self.started, 1),
            "unique_failures": len(self.failures),
            "failures": self.failures,
            "slowest_input_s": round(self.slowest, 3),
            "peak_rss_mb": self.peak_rss_mb(),
        }
        (RESULTS / f"{self.target}.json").write_text(json.dumps(stats, indent=1))


def worker(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(ROOT.parent))
    engine = args.engine
    if engine == "atheris":
        import atheris

        with atheris.instrument_imports(include=["aigc_tag"]):
            import aigc_tag.carriers  # noqa: F401
            from aigc_tag import label, xmp  # noqa: F401
            from aigc_tag.carriers import registry
            from fuzz import targets  # noqa: F401

            registry()
    from fuzz.targets import seeds

    rec = Recorder(args.target, args.deadline, args.rss_mb, engine)
    corpus = seeds(args.target)
    for data in corpus:  # the seeds themselves must pass
        rec.run(data)
    if engine == "atheris":
        work = Path(tempfile.mkdtemp(prefix=f"fuzz-{args.target}-"))
        seed_dir = work / "seeds"
        seed_dir.mkdir()
        for i, data in enumerate(corpus):
            (seed_dir / f"s{i}").write_bytes(data)
        max_len = max([len(d) for d in corpus] + [4096]) * 2
        flags = [
            sys.argv[0],
            f"-max_total_time={args.budget_seconds}",
            f"-timeout={int(args.deadline * 5) + 1}",  # hard backstop behind the SIGALRM deadline
            f"-rss_limit_mb={args.rss_mb}",
            f"-max_len={max_len}",
            f"-artifact_prefix={work}/",
            "-print_final_stats=1",
            str(work / "corpus"),
            str(seed_dir),
        ]
        (work / "corpus").mkdir()
        print(f"[{args.target}] atheris workdir {work}", flush=True)
        atheris.Setup(flags, rec.run)
        try:
            atheris.Fuzz()
        finally:
            rec.dump()
        return
    rng = random.Random(args.seed)
    from fuzz.mutate import mutate

    end = time.monotonic() + args.budget_seconds
    while time.monotonic() < end:
        rec.run(mutate(rng.choice(corpus), rng, rng.choice(corpus)))
    rec.dump()


def _engine_default() -> str:
    try:
        import atheris  # noqa: F401

        return "atheris"
    except ImportError:
        return "random"


def main() -> None:
    global RESULTS
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--budget-seconds", type=float, default=60)
    ap.add_argument("--target", default="all", help="a target name, a comma list, or all")
    ap.add_argument("--engine", choices=("atheris", "random"), default=None)
    ap.add_argument("--deadline", type=float, default=2.0, help="seconds per input")
    ap.add_argument("--rss-mb", type=int, default=2048, help="peak RSS ceiling per target")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--results", default="", help="folder for per-target stats (fuzz/results)")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.results:
        RESULTS = Path(args.results)
    args.engine = args.engine or _engine_default()
    if args.worker:
        worker(args)
        return
    from fuzz.targets import TARGETS  # after the worker branch: atheris instruments on import

    names = sorted(TARGETS) if args.target == "all" else args.target.split(",")
    unknown = set(names) - set(TARGETS)
    if unknown:
        ap.error(f"unknown target(s) {sorted(unknown)}; known: {sorted(TARGETS)}")
    pending, running = list(names), {}
    while pending or running:
        while pending and len(running) < args.jobs:
            name = pending.pop(0)
            cmd = [sys.executable, str(Path(__file__)), "--worker", "--target", name]
            cmd += ["--budget-seconds", str(args.budget_seconds), "--engine", args.engine]
            cmd += ["--deadline", str(args.deadline), "--rss-mb", str(args.rss_mb)]
            cmd += ["--seed", str(args.seed), "--results", str(RESULTS)]
            RESULTS.mkdir(exist_ok=True)
            log = open(RESULTS / f"{name}.log", "w")  # noqa: SIM115 - closed when it exits
            running[name] = (subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT), log)
        time.sleep(0.5)
        for name, (proc, log) in list(running.items()):
            if proc.poll() is not None:
                log.close()
                _collect_artifacts(name)
                del running[name]
                print(_summary_line(name, proc.returncode), flush=True)


def _collect_artifacts(name: str) -> None:
    """libFuzzer's own crash/timeout/oom artifacts (hard kills) join the regression inputs."""
    from fuzz.targets import REGRESSIONS

    log = (RESULTS / f"{name}.log").read_text(errors="replace")
    for line in log.splitlines():
        if "Test unit written to " in line:
            src = Path(line.split("Test unit written to ", 1)[1].strip())
            if src.is_file():
                dest = REGRESSIONS / name
                dest.mkdir(parents=True, exist_ok=True)
                shutil.copy(src, dest / src.name.replace("-", "_"))


def _summary_line(name: str, rc: int) -> str:
    path = RESULTS / f"{name}.json"
    if not path.exists():
        return f"{name:10} rc={rc} (no stats)"
    s = json.loads(path.read_text())
    return (
        f"{name:10} rc={rc} inputs={s['inputs']:>7} unique_failures={s['unique_failures']} "
        f"slowest={s['slowest_input_s']}s peak_rss={s['peak_rss_mb']}MB"
    )


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT.parent))
    main()
