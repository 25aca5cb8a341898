"""Batch plumbing shared by the commands: input discovery and a parallel, ordered map; and
the streamed, resumable batch driver of ``aigc-tag tag`` (selection options, journal, ledger,
progress, run report, engines)."""

from __future__ import annotations

import errno
import fnmatch
import functools
import glob
import json
import os
import sqlite3
import stat
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

import click

from ..fileio import ensure_regular, file_kind, text_path


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


def timeout_option(default: float = 900):
    """``--timeout``: seconds one file may take before its worker is killed and replaced."""
    return click.option(
        "--timeout",
        type=click.FloatRange(min=0),
        metavar="SECONDS",
        default=default,
        show_default=True,
        help="Seconds one file may take before its worker is killed (0: no limit).",
    )


def watermark_key_option():
    """``--watermark-key-file``: a private watermark key, read from a file (or the environment)
    so the secret never appears in a process list or a log."""
    return click.option(
        "--watermark-key-file",
        "watermark_key",
        type=click.File("r", encoding="utf-8"),
        envvar="AIGC_TAG_WATERMARK_KEY_FILE",
        help="File holding a private watermark key (default: the public key any aigc-tag reads).",
        callback=_read_watermark_key,
    )


def _read_watermark_key(ctx: click.Context, param: click.Parameter, fh) -> str | None:  # noqa: ANN001
    """The key's text; warns (like the C2PA signer key) when others can read the file."""
    if fh is None:
        return None
    if fh.name != "<stdin>":
        from ..provenance.sign import key_permission_warning

        warning = key_permission_warning(Path(fh.name))
        if warning:
            click.echo(f"aigc-tag: warning: {warning}", err=True)
    try:
        text = fh.read(_MAX_KEY_CHARS + 1)
    except UnicodeDecodeError:  # its message quotes the offending byte: a byte of the key
        raise click.BadParameter(
            "the key file is not UTF-8 text (a binary file?): write the key as text",
            param=param,
        ) from None
    if len(text) > _MAX_KEY_CHARS:
        raise click.BadParameter(f"the key file is over {_MAX_KEY_CHARS} characters", param=param)
    return text.strip()


_MAX_KEY_CHARS = 64 * 1024


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
    func: Callable[[Any], Any],
    items: list[Any],
    *,
    jobs: int,
    label: str,
    failed: Callable[[Any, str], Any],
    timeout: float | None = None,
) -> Iterator[Any]:
    """``func`` over ``items``, yielded in input order, with a progress bar on an interactive
    terminal for batches.

    The per-file safety net of ``aigc-tag tag`` for every command: each file runs in a worker
    process (the engines' :class:`~aigc_tag.engines.local.LocalEngine`), so a file that crashes
    its worker (a native decoder on hostile input) or runs past ``timeout`` seconds costs only
    that file: the worker is replaced and ``failed(item, message)`` stands in for its result.
    One file with no timeout runs in this process (nothing to protect, no fork to pay)."""
    show = len(items) > 1 and sys.stderr.isatty()
    with (
        click.progressbar(
            length=len(items), label=label, file=sys.stderr, show_eta=True, show_pos=True
        )
        if show
        else _NoBar() as bar
    ):
        if len(items) == 1 and not timeout:
            yield func(items[0])
            return
        from ..engines import TaskFailure
        from ..engines.local import LocalEngine

        engine = LocalEngine(jobs=min(jobs, len(items)), timeout=timeout)
        done: dict[int, Any] = {}  # finished out of order, waiting for an earlier file
        upcoming = 0
        indexed = functools.partial(_call_indexed, func)
        for (i, item), outcome in engine.map_unordered(indexed, enumerate(items)):
            if isinstance(outcome, TaskFailure):
                outcome = (i, failed(item, outcome.message))
            done[i] = outcome[1]
            bar.update(1)
            while upcoming in done:
                yield done.pop(upcoming)
                upcoming += 1


def _call_indexed(func: Callable[[Any], Any], pair: tuple[int, Any]) -> tuple[int, Any]:
    return pair[0], func(pair[1])


class _NoBar:
    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int) -> None:
        return None


# --------------------------------------------------------------------------------------------
# The streamed batch driver (aigc-tag tag)
# --------------------------------------------------------------------------------------------

_MAGIC = set("*?[")


class RunError(click.ClickException):
    """The batch cannot start (journal or ledger unusable): exit status 2, like an I/O error."""

    exit_code = 2


def batch_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """File selection, journal, ledger, report and engine options of a batch command."""
    options = [
        click.option(
            "--from-list",
            "from_list",
            type=click.File("r", encoding="utf-8"),
            metavar="FILE",
            help="Read input paths from FILE, one per line ('-' for stdin).",
        ),
        click.option(
            "--include",
            multiple=True,
            metavar="GLOB",
            help="Only files whose relative path or name matches (repeatable).",
        ),
        click.option(
            "--exclude",
            multiple=True,
            metavar="GLOB",
            help="Skip files whose relative path or name matches (repeatable).",
        ),
        click.option("--dry-run", is_flag=True, help="Print what would be done; write nothing."),
        click.option(
            "--report",
            "report_path",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Write a JSON Lines run report: one object per file, then a summary.",
        ),
        timeout_option(),
        click.option(
            "--engine",
            type=click.Choice(["local", "ray"]),
            default="local",
            show_default=True,
            help="local: worker processes; ray: Ray tasks (pip install 'aigc-tag[ray]').",
        ),
        click.option(
            "--ray-address",
            envvar="RAY_ADDRESS",
            metavar="ADDRESS",
            help="Ray cluster to join (default: start a local Ray). Env: RAY_ADDRESS.",
        ),
        click.option(
            "--journal",
            "journal_path",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Run journal (default: one per OUTDIR under ~/.local/state/aigc-tag/journals, "
            "never inside OUTDIR; none for --in-place).",
        ),
        click.option("--no-journal", is_flag=True, help="Do not resume; redo every file."),
        click.option(
            "--ledger",
            "--database",
            "ledger",
            metavar="PATH|URL",
            help="Provenance ledger: an SQLite path or postgresql://... URL (default: "
            "$AIGC_TAG_LEDGER or ~/.local/share/aigc-tag/ledger.sqlite).",
        ),
        click.option("--no-ledger", is_flag=True, help="Do not record the run in the ledger."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _selected(rel: PurePosixPath, include: tuple[str, ...], exclude: tuple[str, ...]) -> bool:
    def hit(patterns: tuple[str, ...]) -> bool:
        text = rel.as_posix()
        return any(fnmatch.fnmatch(text, p) or fnmatch.fnmatch(rel.name, p) for p in patterns)

    return (not include or hit(include)) and not hit(exclude)


_QUIET_WALK = threading.local()  # the ETA counting thread walks too: it warns nothing


def _walk_warning(path: str, why: str) -> None:
    if not getattr(_QUIET_WALK, "on", False):
        click.echo(f"aigc-tag: warning: {text_path(path)}: {why}; skipped", err=True)


def _walk_stream(root: Path, excluded: Path | None, rel_base: Path) -> Iterator[Job]:
    """Regular files under ``root`` in sorted order, hidden entries and ``excluded`` skipped;
    memory is bounded by one directory's listing (and one device+inode pair per folder).

    Symlinked folders are followed once: a folder met again by its device and inode (a loop
    such as ``ln -s .. loop``, or a second link to the same folder) is not walked again, said
    so on stderr. FIFOs, sockets and devices are skipped with a warning, never opened."""
    stack = [root]
    try:
        top = os.stat(root)
        seen = {(top.st_dev, top.st_ino)}
    except OSError:
        seen = set()
    while stack:
        here = stack.pop()
        try:
            with os.scandir(here) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            continue
        subdirs = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                info = entry.stat(follow_symlinks=True)
            except OSError as exc:  # a dangling link, or a loop the kernel refuses (ELOOP)
                if entry.is_symlink() and exc.errno == errno.ELOOP:
                    _walk_warning(entry.path, "symlink loop")
                continue
            if stat.S_ISDIR(info.st_mode):
                path = Path(entry.path)
                if (info.st_dev, info.st_ino) in seen:
                    _walk_warning(entry.path, "a symlink loop or a second link to a folder "
                                  "already walked")  # fmt: skip
                elif excluded is None or path.resolve() != excluded:
                    seen.add((info.st_dev, info.st_ino))
                    subdirs.append(path)
            elif stat.S_ISREG(info.st_mode):
                src = Path(entry.path)
                yield Job(src, src.relative_to(rel_base), from_walk=True)
            else:
                _walk_warning(entry.path, f"{file_kind(info.st_mode)}, not a regular file")
        stack.extend(reversed(subdirs))


def _list_rel(line: str) -> Path:
    path = Path(line)
    if path.is_absolute():
        return Path(*path.parts[1:])
    parts = [p for p in path.parts if p not in (".", "..")]
    return Path(*parts) if parts else Path(path.name)


def iter_jobs(
    paths: Iterable[str | Path],
    *,
    from_list: IO[str] | None = None,
    include: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
    outdir: Path | None = None,
) -> Iterator[Job]:
    """Every input, streamed: named files, directories walked, glob patterns expanded (relative
    to their fixed prefix), then the lines of ``from_list``. Output paths mirror the input tree.
    """
    excluded = outdir.resolve() if outdir else None
    for arg in paths:
        path = Path(arg)
        if path.is_dir():
            stream: Iterable[Job] = _walk_stream(path, excluded, path)
        elif path.exists() or not (_MAGIC & set(str(arg))):
            stream = [Job(path, Path(path.name), from_walk=False)]
        else:
            stream = _glob_stream(str(arg), excluded)
        for job in stream:
            if _selected(PurePosixPath(job.rel.as_posix()), include, exclude):
                yield job
    if from_list is not None:
        for line in from_list:
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            job = Job(Path(line), _list_rel(line), from_walk=False)
            if _selected(PurePosixPath(job.rel.as_posix()), include, exclude):
                yield job


def _glob_stream(pattern: str, excluded: Path | None) -> Iterator[Job]:
    parts = Path(pattern).parts
    fixed = []
    for part in parts:
        if _MAGIC & set(part):
            break
        fixed.append(part)
    base = Path(*fixed) if fixed else Path(".")
    for name in glob.iglob(pattern, recursive=True):
        src = Path(name)
        if not src.is_file() or any(p.startswith(".") for p in src.relative_to(base).parts):
            continue
        if excluded is not None and excluded in src.resolve().parents:
            continue
        yield Job(src, src.relative_to(base), from_walk=True)


def check_roots(paths: Iterable[str | Path]) -> None:
    """Refuse inputs that would write the same output path: top-level names of the named
    directories and files must not clash (checked on the top level only, so memory stays flat).
    """
    seen: dict[str, str] = {}
    for arg in paths:
        path = Path(arg)
        if path.is_dir():
            try:
                names = [n for n in os.listdir(path) if not n.startswith(".")]
            except OSError:
                continue
        elif path.exists():
            names = [path.name]
        else:
            continue
        for name in names:
            if name in seen and seen[name] != str(arg):
                raise click.UsageError(
                    f"{Path(arg) / name if path.is_dir() else arg} and {seen[name]} would both "
                    f"be written to {name}"
                )
            seen[name] = str(arg)


class Progress:
    """A one-line progress display on a terminal (done/total, rate, ETA); silent otherwise.

    The total may be unknown (streamed input) or filled in later by a counting thread."""

    def __init__(self, label: str, *, enabled: bool) -> None:
        self.label = label
        self.enabled = enabled
        self.total: int | None = None
        self.done = 0
        self.started = time.monotonic()
        self._drawn = 0.0

    def update(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if self.enabled and now - self._drawn > 0.2:
            self._drawn = now
            self.draw(now)

    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.done / elapsed if elapsed > 0 else 0.0

    def draw(self, now: float) -> None:
        rate = self.rate()
        if self.total:
            frac = min(1.0, self.done / self.total)
            bar = "#" * int(frac * 24)
            eta = (self.total - self.done) / rate if rate > 0 else 0
            text = (
                f"{self.label} [{bar:<24}] {self.done}/{self.total} "
                f"{rate:.1f} files/s ETA {_duration(eta)}"
            )
        else:
            text = f"{self.label} {self.done} files {rate:.1f} files/s"
        sys.stderr.write("\r" + text[:120] + "\x1b[K")
        sys.stderr.flush()

    def clear(self) -> None:
        if self.enabled:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s"


class RunReport:
    """``--report``: JSON Lines written to a temp file beside the target, renamed at the end (a
    reader never sees a partial report under the final name)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._fh: IO[str] | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, self._tmp = tempfile.mkstemp(
                prefix=f".{path.name}.", suffix=".part", dir=path.parent
            )
            self._fh = os.fdopen(fd, "w", encoding="utf-8")

    def write(self, obj: dict[str, Any]) -> None:
        if self._fh is not None:
            from ..fileio import escape_surrogates

            line = json.dumps(obj, ensure_ascii=False, default=str)
            self._fh.write(escape_surrogates(line) + "\n")  # a lone surrogate never stops it

    def finish(self, summary: dict[str, Any]) -> None:
        if self._fh is None or self.path is None:
            return
        self.write({"summary": summary})
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        self._fh = None
        os.replace(self._tmp, self.path)


def remove_stale_parts(outdir: Path) -> int:
    """Delete ``.NAME.XXXX.part`` temp files a killed run left in OUTDIR (an exclusive journal
    lock is held, so no live writer owns them)."""
    n = 0
    for dirpath, _dirnames, filenames in os.walk(outdir):
        for name in filenames:
            if name.startswith(".") and name.endswith(".part"):
                try:
                    os.unlink(os.path.join(dirpath, name))
                    n += 1
                except OSError:
                    pass
    return n


def _remove_parts_of(dst: Path) -> None:
    for stale in dst.parent.glob(f".{glob.escape(dst.name)}.*.part"):
        try:
            stale.unlink()
        except OSError:
            pass


@dataclass
class BatchStats:
    counts: dict[str, int] = field(
        default_factory=lambda: {"tagged": 0, "skipped": 0, "failed": 0, "done": 0,
                                 "done_skipped": 0}  # fmt: skip
    )
    started: float = field(default_factory=time.monotonic)


def run_tag_batch(
    *,
    worker: Callable[[Any], dict[str, Any]],
    paths: tuple[str, ...],
    outdir: Path | None,
    in_place: bool,
    settings: dict[str, Any],
    produce_id: str | None,
    jobs: int,
    on_outcome: Callable[[dict[str, Any]], None],
    supported: Callable[[Path], bool],
    from_list: IO[str] | None = None,
    include: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
    dry_run: bool = False,
    report_path: Path | None = None,
    timeout: float | None = 900,
    engine: str = "local",
    ray_address: str | None = None,
    journal_path: Path | None = None,
    no_journal: bool = False,
    ledger: str | None = None,
    no_ledger: bool = False,
) -> int:
    """Tag a stream of files; returns the exit code (0, 2 when a file failed, 130 on Ctrl-C).

    ``worker((job, outdir, settings, produce_id))`` runs in the engine and returns an outcome
    dict (status tagged/skipped/failed, src, result, input/output hashes and states). Only this
    driver writes the journal, the ledger and the report.
    """
    from ..journal import Journal, JournalBusy, default_journal_path
    from ..ledger import Ledger, LedgerError, default_ledger_path, record_for

    if not paths and from_list is None:
        raise click.UsageError("give input paths, globs or --from-list FILE")
    check_roots(paths)
    key_settings = dict(settings, produce_id=produce_id, in_place=in_place)
    if key_settings.get("watermark_key"):
        import hashlib

        secret = str(key_settings["watermark_key"]).encode()
        # A slow, salted hash: the journal is readable by whoever reads OUTDIR, and a plain
        # SHA-256 of a weak passphrase is guessable offline. Deterministic, so resume still
        # recognises the same key.
        digest = hashlib.scrypt(secret, salt=b"aigc-tag journal key", n=2**14, r=8, p=1)
        key_settings["watermark_key"] = "scrypt:" + digest.hex()
    if no_journal:
        journal_file = None
    else:
        default = default_journal_path(outdir) if outdir is not None else None
        journal_file = journal_path or default
    journal = None
    if journal_file is not None:
        try:
            journal = Journal(journal_file, key_settings, readonly=dry_run)
        except JournalBusy as exc:
            raise click.UsageError(str(exc)) from None
        except (OSError, sqlite3.Error) as exc:
            raise RunError(f"{journal_file}: cannot open the run journal: {exc}") from None
    book = None
    stats = BatchStats()
    report = RunReport(None if dry_run else report_path)
    progress = Progress("tagging", enabled=sys.stderr.isatty() and not dry_run)
    pending: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
    last_flush = time.monotonic()
    interrupted = False
    runner = None

    def flush() -> None:
        nonlocal last_flush
        last_flush = time.monotonic()
        if not pending:
            return
        rows = [row for row, _ in pending]
        records = [rec for _, rec in pending if rec is not None]
        pending.clear()
        if journal is not None:
            journal.record(rows, ledgered=book is None)
        if book is not None and records:
            try:
                book.add(records)
            except LedgerError as exc:  # the journal keeps them; the next run replays them
                raise RunError(f"{exc}; rerun the same command to record them") from None
            if journal is not None:
                journal.mark_ledgered([row["rel"] for row in rows if row.get("record")])

    def todo() -> Iterator[tuple[Job, Path | None, dict[str, Any], str | None]]:
        # Counted in a thread for the ETA; started here, after the engine forked its workers.
        if progress.enabled and from_list is None:
            _count_in_background(progress, paths, include, exclude, outdir)
        for job in iter_jobs(
            paths, from_list=from_list, include=include, exclude=exclude, outdir=outdir
        ):
            dst = job.src if outdir is None else outdir / job.rel
            state = journal.done(job.rel.as_posix(), job.src, dst) if journal else None
            if state in ("tagged", "skipped"):
                stats.counts["done" if state == "tagged" else "done_skipped"] += 1
                progress.update()
                outcome = {"status": "done", "src": str(job.src), "output": str(dst)}
                report.write(outcome)
                if dry_run:
                    click.echo(f"{job.src}: already {state} (journal)")
                continue
            if dry_run:
                if not job.src.is_file():
                    click.echo(f"{job.src}: would fail: not a readable file")
                elif job.from_walk and not supported(job.src):
                    click.echo(f"{job.src}: would skip: not a supported format")
                else:
                    verb = "would redo (input changed)" if state == "changed" else "would tag"
                    click.echo(f"{job.src}: {verb} -> {dst}")
                continue
            yield job, outdir, settings, produce_id

    try:
        if not dry_run:
            if journal is not None and journal.existed and outdir is not None:
                remove_stale_parts(outdir)
            if not no_ledger:
                first_use = ledger is None and not Path(default_ledger_path()).exists()
                try:
                    book = Ledger.open(ledger)
                except LedgerError as exc:
                    raise RunError(f"{exc} (or --no-ledger)") from None
                if first_use:
                    click.echo(
                        f"aigc-tag: provenance ledger created at {book.where} (a record per tagged "
                        "file, Measures Art. 9; --ledger PATH moves it, --no-ledger turns it off)",
                        err=True,
                    )
                if journal is not None:
                    replay = journal.unledgered()
                    if replay:
                        book.add(rec for _, rec in replay)
                        journal.mark_ledgered([rel for rel, _ in replay])
        if dry_run:
            for _ in todo():
                pass
            return 0
        from ..engines import TaskFailure, make_engine

        try:
            runner = make_engine(
                engine, jobs=jobs, timeout=timeout or None, ray_address=ray_address
            )
        except ImportError as exc:
            raise click.UsageError(str(exc)) from None
        for item, outcome in runner.map_unordered(worker, todo()):
            job = item[0]
            dst = job.src if outdir is None else outdir / job.rel
            if isinstance(outcome, TaskFailure):
                if outdir is not None:
                    _remove_parts_of(dst)
                outcome = {
                    "status": "failed",
                    "src": str(job.src),
                    "message": f"{job.src}: {outcome.message}",
                }
            stats.counts[outcome["status"]] += 1
            progress.update()
            row, rec = _journal_row(job, outcome, in_place, record_for)
            if row is not None:
                pending.append((row, rec))
            report.write(_report_line(outcome))
            progress.clear()
            on_outcome(outcome)
            # A tagged file is committed at once (one small WAL transaction): a kill -9 then
            # redoes at most the files still in flight, never finished ones. Skips are batched.
            if rec is not None or len(pending) >= 64 or time.monotonic() - last_flush > 1.0:
                flush()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        try:
            if runner is not None:
                runner.close()
            flush()
        finally:
            if journal is not None:
                journal.close()
            if book is not None:
                book.close()
    progress.clear()
    elapsed = time.monotonic() - stats.started
    c = stats.counts
    processed = c["tagged"] + c["skipped"] + c["failed"]
    summary = dict(
        c,
        seconds=round(elapsed, 3),
        files_per_second=round(processed / elapsed, 2) if elapsed > 0 else None,
        engine=engine,
        jobs=jobs,
        interrupted=interrupted,
    )
    report.finish(summary)
    if dry_run:
        return 0
    resumed = f", already done {c['done']}" if c["done"] else ""
    if c["done_skipped"]:
        resumed += f", already skipped {c['done_skipped']}"
    click.echo(
        f"aigc-tag: tagged {c['tagged']}, skipped {c['skipped']}, failed {c['failed']}"
        f"{resumed} in {elapsed:.1f}s",
        err=True,
    )
    if interrupted:
        where = f" (journal: {journal_file})" if journal_file is not None else ""
        click.echo(f"aigc-tag: interrupted; run the same command again to resume{where}", err=True)
        return 130
    return 2 if c["failed"] else 0


def _count_in_background(
    progress: Progress,
    paths: tuple[str, ...],
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    outdir: Path | None,
) -> None:
    def count() -> None:
        _QUIET_WALK.on = True
        n = 0
        for _ in iter_jobs(paths, include=include, exclude=exclude, outdir=outdir):
            n += 1
        progress.total = n

    threading.Thread(target=count, daemon=True, name="aigc-tag-count").start()


def _journal_row(
    job: Job, outcome: dict[str, Any], in_place: bool, record_for: Callable[..., dict[str, Any]]
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The journal row (and ledger record) for a finished file; ``None`` for failures."""
    status = outcome["status"]
    if status == "failed" or "input" not in outcome:
        return None, None
    state = outcome["output_state"] if in_place and status == "tagged" else outcome["input"]
    row: dict[str, Any] = {
        "rel": job.rel.as_posix(),
        "src": str(job.src),
        "status": status,
        "size": state["size"],
        "mtime_ns": state["mtime_ns"],
        "sha256": state.get("sha256"),
    }
    record = None
    if status == "tagged":
        row["out_size"] = outcome["output_state"]["size"]
        record = record_for(
            outcome["result"],
            input_sha256=outcome["input"].get("sha256"),
            output_sha256=outcome["output_state"]["sha256"],
            tagged_at=outcome["tagged_at"],
        )
        row["record"] = record
    return row, record


def _report_line(outcome: dict[str, Any]) -> dict[str, Any]:
    line = {k: v for k, v in outcome.items() if k != "result"}
    result = outcome.get("result")
    if result:
        line.update(
            output=result["output"],
            format=result["format"],
            layers=result["layers"],
            produce_id=result["label"].get("ProduceID"),
            watermark_payload=result.get("watermark_payload"),
            label=result["label"],
            warnings=result.get("warnings", []),
        )
    return line


def supported_in_walk(path: Path) -> bool:
    """Whether a directory walk takes this file (magic bytes; text only by its extension)."""
    from ..carriers import sniff_content
    from ..errors import AigcTagError

    try:
        ensure_regular(path)  # never open a FIFO or a device to sniff it
        with path.open("rb") as fh:
            sniff_content(fh.read(65536), name=str(path), walk=True)
        return True
    except (OSError, AigcTagError):
        return False


def name_file(message: str, src: Path) -> str:
    """``message`` starting with the file's name (errors name the file exactly once)."""
    return message if message.startswith(str(src)) else f"{src}: {message}"


def check_collisions(jobs: list[Job]) -> None:
    """Refuse a batch where two inputs would be written to the same output path."""
    seen: dict[Path, Path] = {}
    for job in jobs:
        if job.rel in seen:
            raise click.UsageError(
                f"{job.src} and {seen[job.rel]} would both be written to {job.rel}"
            )
        seen[job.rel] = job.src
