"""Batch plumbing shared by the commands: input discovery and a parallel, ordered map."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click


def jobs_option(help_text: str = "Worker processes."):
    """The shared ``-j/--jobs`` option (default: every core)."""
    return click.option(
        "-j",
        "--jobs",
        type=click.IntRange(min=1),
        default=os.cpu_count() or 1,
        show_default="all cores",
        help=help_text,
    )


def watermark_key_option():
    """``--watermark-key-file``: a private watermark key, read from a file (or the environment)
    so the secret never appears in a process list or a log."""
    return click.option(
        "--watermark-key-file",
        "watermark_key",
        type=click.File("r"),
        envvar="AIGC_TAG_WATERMARK_KEY_FILE",
        help="File holding a private watermark key (default: the public key any aigc-tag reads).",
        callback=lambda ctx, param, fh: fh.read().strip() if fh else None,
    )


@dataclass(frozen=True)
class Job:
    """One input file and where its output goes (relative to OUTDIR)."""

    src: Path
    rel: Path
    from_walk: bool  # found by walking a directory (unsupported files are skipped, not failed)


def discover(paths: Iterable[Path], *, exclude: Path | None = None) -> list[Job]:
    """Files named directly, plus every file under named directories (sorted, hidden skipped).

    ``exclude`` (the output directory) is never walked, so OUTDIR inside an input tree is safe.
    """
    jobs: list[Job] = []
    excluded = exclude.resolve() if exclude else None
    for path in paths:
        if path.is_dir():
            jobs += _walk(path, excluded)
        else:
            jobs.append(Job(path, Path(path.name), from_walk=False))
    return jobs


def _walk(root: Path, excluded: Path | None) -> Iterator[Job]:
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(
            d for d in dirnames if not d.startswith(".") and (here / d).resolve() != excluded
        )
        for name in sorted(filenames):
            if not name.startswith("."):
                src = here / name
                yield Job(src, src.relative_to(root), from_walk=True)


def run_parallel(
    func: Callable[[Any], Any], items: list[Any], *, jobs: int, label: str
) -> Iterator[Any]:
    """``func`` over ``items`` in ``jobs`` worker processes, in input order, with a progress bar
    on an interactive terminal for batches."""
    show = len(items) > 1 and sys.stderr.isatty()
    with (
        click.progressbar(
            length=len(items), label=label, file=sys.stderr, show_eta=True, show_pos=True
        )
        if show
        else _NoBar() as bar
    ):
        if jobs <= 1 or len(items) <= 1:
            for item in items:
                yield func(item)
                bar.update(1)
            return
        # Small chunks keep the bar moving and the load even; large batches amortise the IPC.
        chunksize = max(1, min(16, len(items) // (jobs * 8)))
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            for outcome in pool.map(func, items, chunksize=chunksize):
                yield outcome
                bar.update(1)


class _NoBar:
    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int) -> None:
        return None
