"""The provenance ledger: lookup by payload, ProduceID, hash and stripped file; export; concurrent
writers; PostgreSQL when a local server can be started."""

from __future__ import annotations

import csv
import io
import json
import multiprocessing as mp
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import PRODUCER, photo
from PIL import Image

from aigc_tag.ledger import Ledger, LedgerError, record_for


def cli(*args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "aigc_tag", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def fake_record(i: int, *, when: str = "2026-01-01T00:00:00Z") -> dict:
    label = {"Label": "1", "ContentProducer": PRODUCER, "ProduceID": f"id-{i}"}
    result = {
        "label": label,
        "layers": ["metadata"],
        "source": f"/in/{i}.png",
        "output": f"/out/{i}.png",
        "format": "png",
        "watermark_payload": None,
    }
    return record_for(result, input_sha256="a" * 64, output_sha256=f"{i:064x}", tagged_at=when)


@pytest.fixture(scope="module")
def tagged(tmp_path_factory) -> tuple[Path, Path, list[dict]]:
    tmp = tmp_path_factory.mktemp("ledger")
    src, out, ledger = tmp / "in", tmp / "out", tmp / "ledger.sqlite"
    src.mkdir()
    for i in range(2):
        photo(320, 240, seed=i).save(src / f"p{i}.png")
    res = cli("tag", str(src), "-o", str(out), "--producer", PRODUCER, "--ledger", str(ledger))
    assert res.returncode == 0, res.stderr
    records = [
        json.loads(x) for x in cli("ledger", "export", "--ledger", str(ledger)).stdout.splitlines()
    ]
    return out, ledger, records


def test_every_tag_is_recorded_with_label_hashes_and_payload(tagged):
    out, _ledger, records = tagged
    assert len(records) == 2
    for rec in records:
        assert rec["producer"] == PRODUCER and rec["label"]["ProduceID"] == rec["produce_id"]
        assert rec["layers"] == ["visible", "watermark", "metadata"]
        assert len(rec["payload_hex"]) == 16 and isinstance(rec["payload_serial"], int)
        assert len(rec["input_sha256"]) == 64 and Path(rec["output_path"]).parent == out


def test_lookup_by_payload_produce_id_and_hash(tagged):
    _out, ledger, records = tagged
    rec = records[0]
    for key in (rec["payload_hex"], rec["produce_id"], rec["output_sha256"]):
        res = cli("ledger", "lookup", key, "--ledger", str(ledger))
        assert res.returncode == 0, res.stderr
        assert json.loads(res.stdout)["produce_id"] == rec["produce_id"]
    assert cli("ledger", "lookup", "0123456789abcdef", "--ledger", str(ledger)).returncode == 3


def test_a_stripped_file_resolves_through_its_watermark(tagged, tmp_path):
    _out, ledger, records = tagged
    rec = records[1]
    stripped = tmp_path / "stripped.png"
    Image.open(rec["output_path"]).convert("RGB").save(stripped)  # no metadata, new bytes
    res = cli("ledger", "lookup", str(stripped), "--ledger", str(ledger))
    assert res.returncode == 0, res.stderr
    found = json.loads(res.stdout)
    assert found["found_by"] == "watermark" and found["label"] == rec["label"]


def test_export_csv_and_since(tmp_path):
    path = tmp_path / "l.sqlite"
    with Ledger.open(path) as book:
        book.add([fake_record(1, when="2025-03-01T10:00:00Z"), fake_record(2)])
        book.add([fake_record(2)])  # a replay is ignored
        assert book.count() == 2
    res = cli("ledger", "export", "--format", "csv", "--since", "2025-12-01", "--ledger", str(path))
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert [r["produce_id"] for r in rows] == ["id-2"]
    assert json.loads(rows[0]["label"])["ProduceID"] == "id-2"
    assert "exported 1 records" in res.stderr


def _writer(path: str, start: int) -> None:
    with Ledger.open(path) as book:
        for i in range(start, start + 100, 5):
            book.add([fake_record(j) for j in range(i, i + 5)])


def test_two_processes_write_one_sqlite_ledger(tmp_path):
    path = str(tmp_path / "shared.sqlite")
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, n * 1000)) for n in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    with Ledger.open(path) as book:
        assert book.count() == 200


def test_postgresql_ledger(tmp_path):
    pytest.importorskip("psycopg", reason="psycopg not installed (aigc-tag[postgres])")
    pg = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if not pg:
        pytest.skip("no Debian PostgreSQL server (/usr/lib/postgresql/*/bin) to start")
    bindir = pg[-1].parent
    prefix: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            pytest.skip("running as root and runuser is missing: initdb refuses root")
        prefix = ["runuser", "-u", "postgres", "--"]
    base = Path(tempfile.mkdtemp(prefix="aigc-pg-"))  # pytest's tmp is private to root
    os.chmod(base, 0o777)
    data, sock = base / "pgdata", base

    def run(*cmd: object) -> subprocess.CompletedProcess:
        return subprocess.run([*prefix, *map(str, cmd)], capture_output=True, text=True)

    init = run(bindir / "initdb", "-D", data, "-U", "aigc", "--auth=trust")
    if init.returncode:
        shutil.rmtree(base, ignore_errors=True)
        pytest.skip(f"initdb failed: {init.stderr.strip()[:200]}")
    port = 20000 + os.getpid() % 20000
    opts = f"-k {sock} -c listen_addresses='' -p {port}"
    start = subprocess.run(  # the server inherits no pipe of ours: pg_ctl would never return
        [
            *prefix,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            opts,
            "-l",
            str(base / "log"),
            "-w",
            "-t",
            "30",
            "start",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if start.returncode:
        shutil.rmtree(base, ignore_errors=True)
        pytest.skip("PostgreSQL did not start")
    try:
        url = f"postgresql://aigc@/postgres?host={sock}&port={port}"
        with Ledger.open(url) as book:
            book.add([fake_record(1), fake_record(2)])
            book.add([fake_record(2)])
            assert book.count() == 2
            assert book.lookup("id-2")[0]["label"]["ProduceID"] == "id-2"
            buf = io.StringIO()
            assert book.export(buf, fmt="jsonl") == 2
    finally:
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        shutil.rmtree(base, ignore_errors=True)
    with pytest.raises(LedgerError):
        Ledger.open("postgresql://nobody@/x?host=/nonexistent&port=1")


def test_export_and_lookup_read_a_ledger_on_a_read_only_disk(tmp_path):
    """An archived ledger (the >= 6-month log, Measures Art. 9) is read without writing a byte."""
    import os
    import shutil
    import subprocess
    import sys

    from conftest import PRODUCER, photo

    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root to mount a read-only tmpfs")
    book = tmp_path / "ledger.sqlite"
    src = tmp_path / "in.png"
    photo(160, 128, seed=3).save(src)
    aigc = [sys.executable, "-m", "aigc_tag"]
    tag = [*aigc, "tag", str(src), "-o", str(tmp_path / "out"), "--producer", PRODUCER,
           "--ledger", str(book)]  # fmt: skip
    assert subprocess.run(tag, capture_output=True, timeout=120).returncode == 0
    mnt = tmp_path / "ro"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)]).returncode:
        pytest.skip("mount -t tmpfs is not permitted here")
    try:
        shutil.copy(book, mnt / "ledger.sqlite")
        subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
        export = [*aigc, "ledger", "export", "--ledger", str(mnt / "ledger.sqlite")]
        res = subprocess.run(export, capture_output=True, text=True, timeout=60)
        assert res.returncode == 0, res.stderr
        assert PRODUCER in res.stdout
        assert sorted(p.name for p in mnt.iterdir()) == ["ledger.sqlite"]
    finally:
        subprocess.run(["umount", "-l", str(mnt)])
