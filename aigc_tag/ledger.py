"""The provenance ledger: one record per tag operation, kept for audits (Measures Art. 9).

The watermark carries only a 64-bit payload (producer hash + ProduceID serial); the ledger maps it
back to the full Annex E label, the input and output hashes and the layers applied. An embedded
SQLite database by default (WAL, busy timeout: several processes may write it), or PostgreSQL for a
fleet sharing one ledger (``postgresql://...``, needs ``psycopg``: ``pip install
'aigc-tag[postgres]'``). One SQL schema serves both.

>>> with Ledger.open("ledger.sqlite") as ledger:          # doctest: +SKIP
...     ledger.lookup("8f3a51c2d09b4e77")                  # payload, ProduceID or SHA-256
"""

from __future__ import annotations

import csv
import json
import os
import re
import socket
import sqlite3
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from .errors import LedgerError

__all__ = ["COLUMNS", "Ledger", "LedgerError", "default_ledger_path", "record_for"]

COLUMNS = (
    "produce_id",
    "producer",
    "tagged_at",
    "input_path",
    "input_sha256",
    "output_path",
    "output_sha256",
    "format",
    "payload_hex",
    "payload_serial",
    "layers",
    "label",
    "host",
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS aigc_ledger (
    produce_id TEXT NOT NULL,
    producer TEXT NOT NULL,
    tagged_at TEXT NOT NULL,
    input_path TEXT,
    input_sha256 TEXT,
    output_path TEXT,
    output_sha256 TEXT NOT NULL,
    format TEXT,
    payload_hex TEXT,
    payload_serial BIGINT,
    layers TEXT NOT NULL,
    label TEXT NOT NULL,
    host TEXT,
    UNIQUE (produce_id, output_sha256)
);
CREATE INDEX IF NOT EXISTS aigc_ledger_payload ON aigc_ledger (payload_hex);
CREATE INDEX IF NOT EXISTS aigc_ledger_produce_id ON aigc_ledger (produce_id);
CREATE INDEX IF NOT EXISTS aigc_ledger_input ON aigc_ledger (input_sha256);
CREATE INDEX IF NOT EXISTS aigc_ledger_output ON aigc_ledger (output_sha256);
CREATE INDEX IF NOT EXISTS aigc_ledger_time ON aigc_ledger (tagged_at);
"""

_INSERT = (
    f"INSERT INTO aigc_ledger ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))}) "
    "ON CONFLICT (produce_id, output_sha256) DO NOTHING"
)
_HOST = socket.gethostname()


def default_ledger_path() -> str:
    """``AIGC_TAG_LEDGER``, else ``$XDG_DATA_HOME/aigc-tag/ledger.sqlite``."""
    env = os.environ.get("AIGC_TAG_LEDGER")
    if env:
        return env
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return os.path.join(base, "aigc-tag", "ledger.sqlite")


def record_for(
    result: dict[str, Any], *, input_sha256: str | None, output_sha256: str, tagged_at: str
) -> dict[str, Any]:
    """A ledger record from a ``TagResult.to_json()`` and the hashes of input and output."""
    label = result["label"]
    payload = result.get("watermark_payload")
    serial = None
    if payload:
        from .watermark.payload import Payload

        decoded = Payload.from_hex(payload)
        serial = decoded.serial if decoded else None
    return {
        "produce_id": label.get("ProduceID", ""),
        "producer": label.get("ContentProducer", ""),
        "tagged_at": tagged_at,
        "input_path": _abs(result.get("source")),
        "input_sha256": input_sha256,
        "output_path": _abs(result.get("output")),
        "output_sha256": output_sha256,
        "format": result.get("format"),
        "payload_hex": payload,
        "payload_serial": serial,
        "layers": list(result.get("layers", [])),
        "label": label,
        "host": _HOST,
    }


class Ledger:
    """A connection to one ledger; a context manager. Use :meth:`open`."""

    def __init__(self, conn: Any, *, postgres: bool, where: str) -> None:
        self._conn = conn
        self._pg = postgres
        self.where = where

    @classmethod
    def open(
        cls, location: str | os.PathLike[str] | None = None, *, readonly: bool = False
    ) -> Ledger:
        """A path or ``sqlite:///path`` (SQLite), or ``postgresql://...`` (PostgreSQL).

        ``readonly`` (lookups, exports) opens an existing SQLite ledger without writing a byte
        — no schema, no WAL switch — so a ledger on a read-only disk or an archive copy reads."""
        where = str(location) if location is not None else default_ledger_path()
        if re.match(r"postgres(ql)?://", where):
            try:
                import psycopg
            except ImportError:
                raise LedgerError(
                    "a PostgreSQL ledger needs psycopg: pip install 'aigc-tag[postgres]'"
                ) from None
            try:
                conn = psycopg.connect(where, autocommit=True)
                with conn.transaction():  # one creator at a time across the fleet
                    conn.execute("SELECT pg_advisory_xact_lock(45438)")
                    for statement in filter(str.strip, SCHEMA.split(";")):
                        conn.execute(statement)
            except psycopg.Error as exc:
                raise LedgerError(f"cannot open the ledger {_redact(where)}: {exc}") from None
            return cls(conn, postgres=True, where=_redact(where))
        if where.startswith("sqlite:///"):
            where = where[len("sqlite:///") - 1 :]
        path = Path(where).expanduser()
        if readonly:
            return cls._open_readonly(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, timeout=60, isolation_level=None)
            conn.execute("PRAGMA busy_timeout=60000")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise LedgerError(f"cannot open the ledger {path}: {exc}") from None
        return cls(conn, postgres=False, where=str(path))

    @classmethod
    def _open_readonly(cls, path: Path) -> Ledger:
        if not path.is_file():
            raise LedgerError(f"cannot open the ledger {path}: no such file")
        try:
            # immutable=1: no locks, no -wal/-shm files (which a read-only disk cannot hold);
            # right for a ledger no run is writing to, which is what a lookup/export reads
            uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
            conn = sqlite3.connect(uri, uri=True, timeout=60, isolation_level=None)
            conn.execute("SELECT 1 FROM aigc_ledger LIMIT 1")
        except sqlite3.Error as exc:
            raise LedgerError(f"cannot open the ledger {path}: {exc}") from None
        return cls(conn, postgres=False, where=str(path))

    # -- writing ---------------------------------------------------------------------------

    def add(self, records: Iterable[dict[str, Any]]) -> None:
        """Insert records in one transaction; a record already present (same ProduceID and
        output hash) is left as is, so replays are harmless."""
        rows = [self._row(r) for r in records]
        if not rows:
            return
        try:
            if self._pg:
                with self._conn.transaction(), self._conn.cursor() as cur:
                    cur.executemany(_INSERT.replace("?", "%s"), rows)
            else:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    self._conn.executemany(_INSERT, rows)
                    self._conn.execute("COMMIT")
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
        except Exception as exc:
            raise LedgerError(f"cannot write the ledger {self.where}: {exc}") from None

    @staticmethod
    def _row(r: dict[str, Any]) -> tuple[Any, ...]:
        row = dict(r)
        row["layers"] = json.dumps(row["layers"])
        row["label"] = json.dumps(row["label"], ensure_ascii=False, sort_keys=True)
        return tuple(row.get(c) for c in COLUMNS)

    # -- reading ---------------------------------------------------------------------------

    def _select(self, where: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
        sql = f"SELECT {', '.join(COLUMNS)} FROM aigc_ledger {where}"
        return list(self._iter(sql, params))

    def _iter(self, sql: str, params: tuple[Any, ...]) -> Iterator[dict[str, Any]]:
        cursor = self._conn.execute(sql.replace("?", "%s") if self._pg else sql, params)
        for row in cursor:
            yield self._record(row)

    @staticmethod
    def _record(row: tuple[Any, ...]) -> dict[str, Any]:
        rec = dict(zip(COLUMNS, row, strict=True))
        rec["layers"] = json.loads(rec["layers"])
        rec["label"] = json.loads(rec["label"])
        return rec

    def lookup(self, key: str) -> list[dict[str, Any]]:
        """Records for a watermark payload (16 hex digits), a SHA-256 of an input or output
        (64 hex digits) or a ProduceID, oldest first."""
        key = key.strip()
        order = "ORDER BY tagged_at, produce_id"
        if re.fullmatch(r"[0-9a-fA-F]{16}", key):
            found = self._select(f"WHERE payload_hex = ? {order}", (key.lower(),))
            if found:
                return found
        if re.fullmatch(r"[0-9a-fA-F]{64}", key):
            k = key.lower()
            return self._select(f"WHERE output_sha256 = ? OR input_sha256 = ? {order}", (k, k))
        return self._select(f"WHERE produce_id = ? {order}", (key,))

    def lookup_file(
        self, path: str | os.PathLike[str], *, watermark_key: Any = None
    ) -> tuple[str, list[dict[str, Any]]]:
        """Records for a file, and how they were found: by its SHA-256 (a tagged output or an
        input), else by the label it carries, else by the watermark payload read from its pixels
        or samples (a file whose metadata was stripped still resolves)."""
        from .journal import file_sha256

        path = Path(path)
        digest = file_sha256(path)
        found = self._select(
            "WHERE output_sha256 = ? OR input_sha256 = ? ORDER BY tagged_at", (digest, digest)
        )
        if found:
            return "sha256", found
        from .verify import verify

        report = verify(path, watermark_key=watermark_key).to_json()
        label = report.get("metadata_label") or {}
        if label.get("ProduceID"):
            found = self.lookup(str(label["ProduceID"]))
            if found:
                return "label", found
        mark = report.get("watermark") or {}
        payload = (mark.get("payload") or {}).get("hex") if isinstance(mark, dict) else None
        if payload:
            found = self._select("WHERE payload_hex = ? ORDER BY tagged_at", (payload.lower(),))
            if found:
                return "watermark", found
        return "none", []

    def iter_since(self, since: str | None = None) -> Iterator[dict[str, Any]]:
        """Records tagged at or after ``since`` (an ISO date or time, UTC), streamed."""
        sql = f"SELECT {', '.join(COLUMNS)} FROM aigc_ledger"
        if since:
            yield from self._iter(f"{sql} WHERE tagged_at >= ? ORDER BY tagged_at", (since,))
        else:
            yield from self._iter(f"{sql} ORDER BY tagged_at", ())

    def export(self, fh: IO[str], *, fmt: str = "jsonl", since: str | None = None) -> int:
        """Write the records (``jsonl`` or ``csv``) tagged at or after ``since``; the count."""
        n = 0
        if fmt == "csv":
            writer = csv.writer(fh)
            writer.writerow(COLUMNS)
            for rec in self.iter_since(since):
                rec["layers"] = "+".join(rec["layers"])
                rec["label"] = json.dumps(rec["label"], ensure_ascii=False, sort_keys=True)
                writer.writerow([rec[c] for c in COLUMNS])
                n += 1
        else:
            for rec in self.iter_since(since):
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
                n += 1
        return n

    def count(self) -> int:
        return int(self._conn.execute("SELECT COUNT(*) FROM aigc_ledger").fetchone()[0])

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _abs(path: str | None) -> str | None:
    from .fileio import text_path

    return text_path(os.path.abspath(path)) if path and "://" not in path else path


def _redact(url: str) -> str:
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


def utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
