"""``aigc-tag survive``: which label layers of a tagged file outlive the platforms' pipelines."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ..errors import AigcTagError
from ..fileio import printable
from .batch import watermark_key_option
from .limits import max_megapixels_option

#: Exit status for a file that could not be read or is not an image, audio or video file.
EXIT_UNREADABLE = 2


def _list_pipelines() -> None:
    from ..survive import PIPELINES

    width = max(len(p.name) for p in PIPELINES)
    for p in PIPELINES:
        click.echo(f"{p.media:5}  {p.name.ljust(width)}  {p.description}")


def _names(value: str | None) -> list[str] | None:
    if not value:
        return None
    from ..survive import select

    try:
        return select([n.strip() for n in value.split(",") if n.strip()])
    except AigcTagError as exc:
        raise click.BadParameter(str(exc), param_hint="--pipelines") from None


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--list", "list_only", is_flag=True, help="List the pipelines and exit.")
@click.option(
    "--pipelines",
    metavar="A,B",
    help="Only these pipelines (comma-separated names from --list); default: all for the media.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of tables.")
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write a self-contained HTML page to PATH.",
)
@click.option(
    "--no-ocr",
    is_flag=True,
    help="Do not read undeclared explicit labels by OCR (they are then 'not checked').",
)
@watermark_key_option()
@max_megapixels_option
def survive(
    paths: tuple[Path, ...],
    list_only: bool,
    pipelines: str | None,
    as_json: bool,
    html_path: Path | None,
    no_ocr: bool,
    watermark_key: str | None,
) -> None:
    """Run the common platform pipelines (chat apps, feeds, screenshots, re-encodes, crops,
    trims) on copies of tagged FILES and show, per pipeline, which layers survive: metadata
    label, C2PA manifest, explicit label and invisible watermark (exact payload and margin).

    The files themselves are never changed. Exit codes: 0 the run worked (whatever survived),
    2 a file could not be read or is not an image, audio or video file.
    """
    if list_only:
        _list_pipelines()
        return
    if not paths:
        raise click.UsageError("give FILES to check, or --list")
    names = _names(pipelines)
    from ..survive import survive_file

    key = None
    if watermark_key:
        from ..watermark.layer import as_key

        key = as_key(watermark_key)
    results, errors = [], []
    for path in paths:
        try:
            results.append(survive_file(path, pipelines=names, watermark_key=key, ocr=not no_ocr))
        except AigcTagError as exc:
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            click.echo(f"aigc-tag: error: {printable(message)}", err=True)
            errors.append((str(path), message))
    _emit(results, errors, as_json=as_json, html_path=html_path)
    sys.exit(EXIT_UNREADABLE if errors else 0)


def _emit(results: list, errors: list[tuple[str, str]], *, as_json: bool,
          html_path: Path | None) -> None:  # fmt: skip
    from ..survive import render

    if as_json:
        click.echo(render.to_json(results, errors))
    elif results:
        click.echo(render.to_table(results))
    if html_path is None:
        return
    from ..fileio import atomic_write

    umask = os.umask(0)
    os.umask(umask)
    try:
        atomic_write(html_path, render.to_html(results, errors).encode("utf-8"), durable=False)
        html_path.chmod(0o666 & ~umask)
    except OSError as exc:
        click.echo(f"aigc-tag: error: cannot write {printable(html_path)}: {exc}", err=True)
        sys.exit(EXIT_UNREADABLE)
