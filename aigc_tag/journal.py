"""The run journal: what a batch has finished, so a rerun of the same command resumes.

One SQLite file per OUTDIR, kept in the user's state folder (:func:`default_journal_path`), not in
OUTDIR: an output folder that gets published must not carry the tool's state. Written only
by the driver process in small transactions. Rows are keyed by the run's settings digest and the
output path relative to OUTDIR: a different set of settings starts afresh. A file counts as done
when its input still has the recorded size and mtime (or, failing that, the recorded SHA-256) and
its output still exists with the recorded size. An exclusive ``flock`` on the journal file keeps
two runs from sharing one OUTDIR (SQLite's own locks are POSIX locks, which do not interact).

Each tagged row also keeps the ledger record and a ``ledgered`` flag: the driver journals a result,
then writes the ledger, then sets the flag; rows left unflagged by a crash are replayed into the
ledger on the next run (ledger inserts are idempotent), so the ledger holds each output exactly
once.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import JournalBusy
from .fileio import text_path

__all__ = ["JOURNAL_NAME", "FileState", "Journal", "JournalBusy", "default_journal_path",
           "file_sha256", "settings_key"]  # fmt: skip

#: Where releases up to 0.1 kept the journal (inside OUTDIR); still used when it is there, so an
#: unfinished run of an older release resumes.
JOURNAL_NAME = ".aigc-tag-journal.sqlite"


def default_journal_path(outdir: Path) -> Path:
    """The journal of the runs into ``outdir``: ``$XDG_STATE_HOME/aigc-tag/journals/`` (default
    ``~/.local/state``), one file named by a digest of OUTDIR's resolved path, so reruns into the
    same OUTDIR find it and two OUTDIRs never share one. A journal an older release left inside
    OUTDIR is used instead while it exists."""
    legacy = outdir / JOURNAL_NAME
    if legacy.exists():
        return legacy
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(Path.home(), ".local", "state")
    key = hashlib.sha256(os.fsencode(Path(outdir).resolve())).hexdigest()[:24]
    return Path(base) / "aigc-tag" / "journals" / f"{key}.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run TEXT PRIMARY KEY,       -- settings digest
    settings TEXT NOT NULL,     -- the settings (JSON, secrets replaced by their digest)
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS files (
    run TEXT NOT NULL,
    rel TEXT NOT NULL,          -- output path relative to OUTDIR (POSIX)
    src TEXT NOT NULL,
    status TEXT NOT NULL,       -- tagged | skipped
    size INTEGER NOT NULL,      -- input size, mtime (ns) and SHA-256 when it was tagged
    mtime_ns INTEGER NOT NULL,
    sha256 TEXT,
    out_size INTEGER,           -- output size (NULL for skipped)
    record TEXT,                -- the ledger record (JSON)
    ledgered INTEGER NOT NULL DEFAULT 0,
    updated TEXT NOT NULL,
    PRIMARY KEY (run, rel)
);
CREATE INDEX IF NOT EXISTS files_unledgered ON files (run) WHERE ledgered = 0;
"""


@dataclass(frozen=True)
class FileState:
    """An input file's identity at one moment."""

    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> FileState:
        st = path.stat()
        return cls(st.st_size, st.st_mtime_ns)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def settings_key(settings: dict[str, Any]) -> str:
    text = json.dumps(settings, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Journal:
    """Open (or create) the journal at ``path`` for the run identified by ``settings``.

    ``readonly`` opens an existing journal without locking or writing (for ``--dry-run``); a
    missing one then behaves as empty.
    """

    def __init__(self, path: Path, settings: dict[str, Any], *, readonly: bool = False) -> None:
        self.path = Path(path)
        self.run = settings_key(settings)
        self.readonly = readonly
        self.existed = self.path.exists()
        self._lock_fh = None
        self._db: sqlite3.Connection | None = None
        if readonly:
            if self.existed:
                self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_fh = open(self.path, "ab")  # noqa: SIM115  (creates it; SQLite adopts it)
        try:
            fcntl.flock(self._lock_fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_fh.close()
            raise JournalBusy(f"another aigc-tag run is using {self.path.parent}") from None
        self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._db.execute(
            "INSERT OR IGNORE INTO runs VALUES (?, ?, ?)",
            (self.run, json.dumps(settings, sort_keys=True, default=str), _now()),
        )

    # -- reading ---------------------------------------------------------------------------

    def done(self, rel: str, src: Path, dst: Path | None) -> str | None:
        """``"tagged"`` or ``"skipped"`` when ``rel`` is done; ``"changed"`` when it was done but
        its input or output changed since; ``None`` when the journal has never seen it.

        The input is compared by size and mtime, and by SHA-256 when those differ (a copy or a
        ``touch`` does not force a redo); the output must still exist with its recorded size.
        """
        if self._db is None:
            return None
        row = self._db.execute(
            "SELECT status, size, mtime_ns, sha256, out_size FROM files WHERE run=? AND rel=?",
            (self.run, text_path(rel)),
        ).fetchone()
        if row is None:
            return None
        status, size, mtime_ns, sha, out_size = row
        try:
            now = FileState.of(src)
            if (now.size, now.mtime_ns) != (size, mtime_ns):
                if sha is None or now.size != size or file_sha256(src) != sha:
                    return "changed"
            if status == "tagged" and dst is not None and dst.stat().st_size != out_size:
                return "changed"
        except OSError:
            return "changed"
        return status

    def unledgered(self) -> list[tuple[str, dict[str, Any]]]:
        """Tagged rows whose ledger write may not have happened (a crash in between)."""
        if self._db is None:
            return []
        rows = self._db.execute(
            "SELECT rel, record FROM files WHERE run=? AND ledgered=0 AND record IS NOT NULL",
            (self.run,),
        ).fetchall()
        return [(rel, json.loads(record)) for rel, record in rows]

    # -- writing (driver only) -----------------------------------------------------------------

    def record(self, rows: list[dict[str, Any]], *, ledgered: bool) -> None:
        """Mark rows done in one transaction. Each row: rel, src, status, size, mtime_ns,
        sha256, out_size, record."""
        if not rows or self._db is None or self.readonly:
            return
        now = _now()
        with _transaction(self._db):
            self._db.executemany(
                "INSERT OR REPLACE INTO files VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        self.run,
                        text_path(r["rel"]),
                        text_path(str(r["src"])),
                        r["status"],
                        r["size"],
                        r["mtime_ns"],
                        r.get("sha256"),
                        r.get("out_size"),
                        json.dumps(r["record"]) if r.get("record") else None,  # ASCII-safe
                        1 if ledgered or not r.get("record") else 0,
                        now,
                    )
                    for r in rows
                ],
            )

    def mark_ledgered(self, rels: list[str]) -> None:
        if not rels or self._db is None or self.readonly:
            return
        with _transaction(self._db):
            self._db.executemany(
                "UPDATE files SET ledgered=1 WHERE run=? AND rel=?",
                [(self.run, text_path(r)) for r in rels],
            )

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._lock_fh is not None:
            fcntl.flock(self._lock_fh, fcntl.LOCK_UN)
            self._lock_fh.close()
            self._lock_fh = None

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.db.execute("COMMIT" if exc_type is None else "ROLLBACK")
