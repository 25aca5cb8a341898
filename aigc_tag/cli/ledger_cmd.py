"""``aigc-tag ledger``: look up and export the provenance ledger written by ``aigc-tag tag``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..ledger import Ledger, LedgerError
from .batch import watermark_key_option


def _open(location: str | None) -> Ledger:
    try:
        return Ledger.open(location, readonly=True)  # lookups and exports never write
    except LedgerError as exc:
        raise click.ClickException(str(exc)) from None


_ledger_option = click.option(
    "--ledger",
    "--database",
    "location",
    metavar="PATH|URL",
    help="SQLite path or postgresql://... URL (default: $AIGC_TAG_LEDGER or "
    "~/.local/share/aigc-tag/ledger.sqlite).",
)


@click.group()
def ledger() -> None:
    """The provenance ledger: every tag operation's label, hashes and watermark payload."""


@ledger.command()
@click.argument("key")
@_ledger_option
@watermark_key_option()
def lookup(key: str, location: str | None, watermark_key: str | None) -> None:
    """Print the records (JSON Lines) for KEY: a watermark payload (16 hex digits), a
    ProduceID, a SHA-256, or a FILE (by its hash, its label, else the watermark read from it).

    Exit status 0 when found, 3 when nothing matches.
    """
    with _open(location) as book:
        if Path(key).is_file():
            wm_key = None
            if watermark_key:
                from ..watermark.layer import as_key

                wm_key = as_key(watermark_key)
            how, records = book.lookup_file(key, watermark_key=wm_key)
        else:
            how, records = "key", book.lookup(key)
    for rec in records:
        click.echo(json.dumps(dict(rec, found_by=how), ensure_ascii=False))
    if not records:
        click.echo(f"aigc-tag: no ledger record for {key}", err=True)
        sys.exit(3)


@ledger.command()
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl")
@click.option("--since", metavar="DATE", help="Only records tagged at or after DATE (ISO, UTC).")
@click.option(
    "-o", "--output", type=click.File("w", encoding="utf-8"), default="-", help="Default: stdout."
)
@_ledger_option
def export(fmt: str, since: str | None, output, location: str | None) -> None:
    """Write the ledger (or the records since DATE) as JSON Lines or CSV for auditors."""
    with _open(location) as book:
        n = book.export(output, fmt=fmt, since=since)
    click.echo(f"aigc-tag: exported {n} records", err=True)
