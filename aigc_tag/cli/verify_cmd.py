"""``aigc-tag verify``: every label layer of every file, clause by clause."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ..fileio import printable
from ..verify import Outcome, Report, exit_code_for
from ..verify import verify as verify_file
from .batch import (
    Job,
    iter_jobs,
    jobs_option,
    run_parallel,
    supported_in_walk,
    timeout_option,
    watermark_key_option,
)
from .limits import max_megapixels_option

_SHOWN = {Outcome.FAIL, Outcome.ERROR, Outcome.WARN}


_TOKENIZERS: dict[str, object] = {}


def _tokenizer(path: str | None) -> object | None:
    """The generator's tokenizer, loaded once per worker from local files only (no downloads)."""
    if path is None:
        return None
    if path not in _TOKENIZERS:
        from transformers import AutoTokenizer

        _TOKENIZERS[path] = AutoTokenizer.from_pretrained(path, local_files_only=True)
    return _TOKENIZERS[path]


def _verify_one(
    args: tuple[Job, bool, str | None, bool, str | None, bool, str | None, bool, bool],
) -> Report | None:
    job, require_label, anchors, watermark, key_secret, thorough, tokenizer, thumbs, ocr = args
    if job.from_walk:
        if not supported_in_walk(job.src):
            return None
    key = None
    if key_secret:
        from ..watermark.layer import as_key

        key = as_key(key_secret)
    report = verify_file(
        job.src,
        require_label=require_label,
        trust_anchors_pem=anchors,
        watermark=watermark,
        watermark_key=key,
        thorough=thorough,
        tokenizer=_tokenizer(tokenizer),
        ocr=ocr,
    )
    if thumbs and not report.error:
        from ..verify.render import thumbnail

        report.thumbnail = thumbnail(job.src, report.media_type)
    return report


def _worker_lost(args: tuple[Job, ...], message: str) -> Report:
    """The report of a file whose worker crashed or ran past --timeout: inconclusive (exit 4),
    naming what happened, so the rest of the batch is still verified."""
    from ..verify import failed_report

    return failed_report(str(args[0].src), f"{args[0].src}: {message}")


def config_path() -> Path:
    """``$AIGC_TAG_CONFIG``, else ``$XDG_CONFIG_HOME/aigc-tag/config.toml`` (``~/.config``)."""
    explicit = os.environ.get("AIGC_TAG_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "aigc-tag" / "config.toml"


def config_trust_anchors() -> tuple[str | None, str | None]:
    """(PEM text, note) from ``[verify] trust_anchors = "roots.pem"`` in the config file.

    A relative path is relative to the config file. No config file → (None, None). Python 3.10
    without ``tomli`` → the config is ignored with a note. A broken config is a usage error."""
    path = config_path()
    if not path.is_file():
        if os.environ.get("AIGC_TAG_CONFIG"):
            raise click.UsageError(f"AIGC_TAG_CONFIG: {path} does not exist")
        return None, None
    try:
        import tomllib
    except ImportError:  # Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ImportError:
            return None, f"{path} ignored: reading it needs Python 3.11+ or the tomli package"
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise click.UsageError(f"config {path}: {exc}") from None
    section = config.get("verify")
    anchors = section.get("trust_anchors") if isinstance(section, dict) else None
    if not anchors:
        return None, None
    pem_path = Path(str(anchors)).expanduser()
    if not pem_path.is_absolute():
        pem_path = path.parent / pem_path
    try:
        return pem_path.read_text(encoding="utf-8"), f"C2PA trust anchors from {pem_path}"
    except (OSError, UnicodeDecodeError) as exc:
        raise click.UsageError(f"config {path}: trust_anchors {pem_path}: {exc}") from None


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--from-list",
    type=click.File("r", encoding="utf-8", errors="surrogateescape"),
    help="Also verify the paths listed in FILE, one per line ('-' = stdin).",
)
@click.option("--include", multiple=True, metavar="GLOB", help="Only files matching GLOB.")
@click.option("--exclude", multiple=True, metavar="GLOB", help="Skip files matching GLOB.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file (JSON Lines).")
@click.option(
    "--require-label",
    is_flag=True,
    help="Treat a missing label as non-compliant (M03) instead of not_found.",
)
@click.option(
    "--trust-anchors",
    type=click.File("r"),
    help="PEM file of C2PA trust anchors (root certificates); default: [verify] trust_anchors "
    "in ~/.config/aigc-tag/config.toml or $AIGC_TAG_CONFIG. Nothing is fetched from the network.",
)
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write one self-contained HTML page for the batch (zh/en, thumbnails).",
)
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write a CSV table, one row per file.",
)
@click.option("--no-watermark", is_flag=True, help="Skip the watermark search (faster).")
@click.option(
    "--no-ocr",
    is_flag=True,
    help="Images/video: do not read explicit labels aigc-tag did not declare (OCR, faster).",
)
@click.option(
    "--thorough",
    is_flag=True,
    help="Audio: also search replay speeds of ±5 % for the watermark (slower).",
)
@click.option(
    "--tokenizer",
    metavar="PATH",
    help="Text: the generator's Hugging Face tokenizer (a local directory) to test the "
    "generation-time watermark with the watermark key (needs aigc-tag[llm]).",
)
@watermark_key_option()
@click.option("-v", "--verbose", is_flag=True, help="Show every check, not only problems.")
@jobs_option()
@timeout_option(300)
@max_megapixels_option
def verify(
    paths: tuple[Path, ...],
    from_list,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    as_json: bool,
    require_label: bool,
    trust_anchors,
    html_path: Path | None,
    csv_path: Path | None,
    no_watermark: bool,
    no_ocr: bool,
    watermark_key: str | None,
    thorough: bool,
    tokenizer: str | None,
    verbose: bool,
    jobs: int,
    timeout: float,
) -> None:
    """Check the AIGC labels of files and print a verdict per file.

    PATHS are files, directories (walked) and quoted glob patterns ('in/**/*.png').

    Exit codes: 0 all compliant, 1 some non-compliant, 3 no label found, 4 inconclusive,
    2 usage or I/O error (the most severe across files wins).
    """
    if not paths and from_list is None:
        raise click.UsageError("give PATHS or --from-list FILE")
    if trust_anchors:
        anchors = trust_anchors.read()
    else:
        anchors, note = config_trust_anchors()
        if note:
            click.echo(f"aigc-tag: {note}", err=True)
    thumbs = html_path is not None
    work = [
        (job, require_label, anchors, not no_watermark, watermark_key, thorough, tokenizer, thumbs,
         not no_ocr)  # fmt: skip
        for job in iter_jobs(paths, from_list=from_list, include=include, exclude=exclude)
    ]
    reports: list[Report] = []
    skipped = 0
    for report in run_parallel(_verify_one, work, jobs=jobs, label="verifying",
                               failed=_worker_lost, timeout=timeout):  # fmt: skip
        if report is None:
            skipped += 1
            continue
        reports.append(report)
        if as_json:
            click.echo(report.to_json_line())
        else:
            _print_human(report, verbose)
    if skipped:
        click.echo(f"aigc-tag: skipped {skipped} file(s) of unsupported formats", err=True)
    if not reports:
        click.echo("aigc-tag: error: no files of a supported format found", err=True)
        sys.exit(2)
    if html_path is not None or csv_path is not None:
        _write_reports(reports, html_path, csv_path)
    sys.exit(exit_code_for(reports))


def _write_reports(reports: list[Report], html_path: Path | None, csv_path: Path | None) -> None:
    from ..fileio import atomic_write
    from ..verify.render import render_csv, render_html

    umask = os.umask(0)
    os.umask(umask)
    try:
        if html_path is not None:
            atomic_write(html_path, render_html(reports).encode("utf-8"), durable=False)
            html_path.chmod(0o666 & ~umask)
        if csv_path is not None:
            atomic_write(csv_path, render_csv(reports).encode("utf-8-sig"), durable=False)
            csv_path.chmod(0o666 & ~umask)
    except OSError as exc:
        click.echo(f"aigc-tag: error: cannot write the report: {exc}", err=True)
        sys.exit(2)


def _print_human(report: Report, verbose: bool) -> None:
    if report.error:
        click.echo(f"aigc-tag: error: {report.path}: {report.error}", err=True)
        return
    colour = {"compliant": "green", "noncompliant": "red", "not_found": "yellow"}
    verdict = click.style(report.verdict.value, fg=colour.get(report.verdict.value, "magenta"))
    fmt = report.format or "unknown format"
    click.echo(f"{printable(report.path)}: {verdict} ({fmt})")
    if report.metadata_label:
        label = {k: printable(v) for k, v in report.metadata_label.items()}  # NUL, ESC escaped
        click.echo(
            f"  label: Label={label.get('Label')} ContentProducer="
            f"{label.get('ContentProducer')} ProduceID={label.get('ProduceID')} "
            f"in {label.get('carrier')}"
        )
    if report.watermark and report.watermark.get("payload"):
        mark = report.watermark
        click.echo(
            f"  watermark: {mark['payload']['hex']} (p = {mark['p_value']:.1e}, {mark['key']} key)"
        )
    visible = report.visible_label or {}
    if visible.get("source") == "ocr" and visible.get("found"):
        click.echo(f"  explicit label: {visible.get('text')!r} at the {visible.get('position')} "
                   f"(read by OCR)")  # fmt: skip
    _print_audible(report.audible_label)
    c2pa = report.c2pa
    if c2pa and c2pa.get("present"):
        if c2pa.get("remote"):
            click.echo(f"  c2pa: remote manifest {c2pa.get('remote_url')} (not fetched)")
        else:
            failures = ", ".join(c2pa.get("failures") or []) or "none"
            click.echo(
                f"  c2pa: {c2pa.get('state')}, signer {c2pa.get('trust')} "
                f"({c2pa.get('signer')}), AI declared: {c2pa.get('ai_declared')}, "
                f"failures: {failures}"
            )
    evidence = report.evidence or {}
    for uri in evidence.get("iptc_digital_source_type") or []:
        click.echo(f"  evidence: IPTC DigitalSourceType {uri}")
    for hit in evidence.get("generators") or []:
        click.echo(f"  evidence: {hit['name']} ({hit['source']})")
    for code in evidence.get("producer_codes") or []:
        click.echo(f"  evidence: {code['field']} is a code of {code['vendor']}")
    for check in report.checks:
        if verbose or check.outcome in _SHOWN:
            click.echo(f"  {check.id} {check.outcome.value:5} [{check.clause}] {check.message}")


def _print_audible(audible: dict | None) -> None:
    if not audible or audible.get("error"):
        return
    declared = audible.get("declared")
    if declared is not None:
        state = "in place" if declared.get("found") else "MISSING"
        click.echo(f"  audible label: declared cue {state}")
    for cue in audible.get("rhythm") or []:
        click.echo(
            f"  audible label: rhythm cue at {cue['start_s']:.2f}-{cue['end_s']:.2f} s "
            f"({cue.get('gaps')} gaps)"
        )
