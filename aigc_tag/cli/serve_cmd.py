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
@click.option(
    "--propagator",
    metavar="CODE",
    help="Also offer POST /api/propagate: decide Measures Art. 6 for uploads and re-label them "
    "with this platform code (operators only).",
)
@click.option(
    "--allowed-host",
    "allowed_host",
    multiple=True,
    metavar="NAME[:PORT]",
    help="Also answer requests whose Host header is NAME (repeatable); other names get 400.",
)
def serve(
    host: str,
    port: int,
    max_upload_mb: float,
    workers: int,
    tag_mode: bool,
    producer: str | None,
    propagator: str | None,
    allowed_host: tuple[str, ...],
) -> None:
    """Serve the verification page: drop files, see every label, download the report.

    Files are checked in a private temporary folder and deleted right after; nothing is kept.
    Binds to 127.0.0.1 unless --host says otherwise. Answers only under the bound address
    (and 127.0.0.1/localhost/[::1] for a loopback bind) or an --allowed-host name; a page of
    another site cannot make it verify or tag anything."""
    try:
        import uvicorn

        from ..web.app import create_app
        from ..web.guard import allowed_hosts
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
    platform = _platform(propagator)
    if not _is_loopback(host):
        click.echo(
            f"warning: binding to {host}: anyone who can reach this address can upload files"
            + (" and have them tagged with your producer code" if tagger else "")
            + "; there is no authentication",
            err=True,
        )
    app = create_app(max_upload_bytes=int(max_upload_mb * (1 << 20)), tagger=tagger,
                     workers=workers, propagator=platform,
                     allowed_hosts=allowed_hosts(host, port, allowed_host))  # fmt: skip
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"aigc-tag serve: http://{shown}:{port}/  (Ctrl+C to stop)", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False)


def _platform(propagator: str | None):  # noqa: ANN202 - a Propagator, imported lazily
    """The Propagator behind ``/api/propagate`` (``None``: the route answers 404)."""
    if not propagator:
        return None
    from ..errors import AigcTagError
    from ..propagate import Propagator

    try:
        platform = Propagator(propagator)
    except AigcTagError as exc:
        raise click.UsageError(str(exc)) from exc
    for note in platform.warnings:
        click.echo(f"warning: {note}", err=True)
    return platform
