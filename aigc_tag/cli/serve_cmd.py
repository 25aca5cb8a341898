"""``aigc-tag serve``: the local verification web page and JSON API (needs the ``web`` extra)."""

from __future__ import annotations

import ipaddress

import click


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--max-upload-mb",
    default=100,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Largest request body accepted (413 past it).",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Files verified at once (CPU-bound).",
)
@click.option(
    "--tag",
    "tag_mode",
    is_flag=True,
    help="Also offer POST /api/tag: tag uploads with --producer (operators only).",
)
@click.option("--producer", help="Producer code (PG-20252A) used by --tag.")
def serve(
    host: str,
    port: int,
    max_upload_mb: float,
    workers: int,
    tag_mode: bool,
    producer: str | None,
) -> None:
    """Serve the verification page: drop files, see every label, download the report.

    Files are checked in a private temporary folder and deleted right after; nothing is kept.
    Binds to 127.0.0.1 unless --host says otherwise."""
    try:
        import uvicorn

        from ..web.app import create_app
    except ImportError as exc:
        raise click.ClickException(
            f"the web page needs the 'web' extra: pip install 'aigc-tag[web]' ({exc})"
        ) from exc
    tagger = None
    if tag_mode:
        if not producer:
            raise click.UsageError("--tag needs --producer CODE")
        from ..errors import AigcTagError
        from ..tagging import Tagger

        try:
            tagger = Tagger(producer)
        except AigcTagError as exc:
            raise click.UsageError(str(exc)) from exc
        for note in tagger.warnings:
            click.echo(f"warning: {note}", err=True)
    elif producer:
        raise click.UsageError("--producer is only used with --tag")
    if not _is_loopback(host):
        click.echo(
            f"warning: binding to {host}: anyone who can reach this address can upload files"
            + (" and have them tagged with your producer code" if tagger else "")
            + "; there is no authentication",
            err=True,
        )
    app = create_app(max_upload_bytes=int(max_upload_mb * (1 << 20)), tagger=tagger,
                     workers=workers)  # fmt: skip
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"aigc-tag serve: http://{shown}:{port}/  (Ctrl+C to stop)", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False)
