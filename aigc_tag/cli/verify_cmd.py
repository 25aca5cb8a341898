"""``aigc-tag verify``: every label layer of every file, clause by clause."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..verify import Outcome, Report, exit_code_for
from ..verify import verify as verify_file
from .batch import Job, discover, jobs_option, run_parallel, watermark_key_option

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
    args: tuple[Job, bool, str | None, bool, str | None, bool, str | None],
) -> Report | None:
    job, require_label, anchors, watermark, key_secret, thorough, tokenizer = args
    if job.from_walk:
        from .tag_cmd import _supported

        if not _supported(job.src):
            return None
    key = None
    if key_secret:
        from ..watermark.layer import as_key

        key = as_key(key_secret)
    return verify_file(
        job.src,
        require_label=require_label,
        trust_anchors_pem=anchors,
        watermark=watermark,
        watermark_key=key,
        thorough=thorough,
        tokenizer=_tokenizer(tokenizer),
    )


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file (JSON Lines).")
@click.option(
    "--require-label",
    is_flag=True,
    help="Treat a missing label as non-compliant (M03) instead of not_found.",
)
@click.option(
    "--trust-anchors",
    type=click.File("r"),
    help="PEM file of C2PA trust anchors (root certificates).",
)
@click.option("--no-watermark", is_flag=True, help="Skip the watermark search (faster).")
@click.option(
    "--thorough",
    is_flag=True,
    help="Audio: also search replay speeds of ±5 %% for the watermark (slower).",
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
def verify(
    paths: tuple[Path, ...],
    as_json: bool,
    require_label: bool,
    trust_anchors,
    no_watermark: bool,
    watermark_key: str | None,
    thorough: bool,
    tokenizer: str | None,
    verbose: bool,
    jobs: int,
) -> None:
    """Check the AIGC labels of files and print a verdict per file.

    Exit codes: 0 all compliant, 1 some non-compliant, 3 no label found, 4 inconclusive,
    2 usage or I/O error (the most severe across files wins).
    """
    anchors = trust_anchors.read() if trust_anchors else None
    work = [
        (job, require_label, anchors, not no_watermark, watermark_key, thorough, tokenizer)
        for job in discover(paths)
    ]
    reports: list[Report] = []
    skipped = 0
    for report in run_parallel(_verify_one, work, jobs=jobs, label="verifying"):
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
    sys.exit(exit_code_for(reports))


def _print_human(report: Report, verbose: bool) -> None:
    if report.error:
        click.echo(f"aigc-tag: error: {report.path}: {report.error}", err=True)
        return
    colour = {"compliant": "green", "noncompliant": "red", "not_found": "yellow"}
    verdict = click.style(report.verdict.value, fg=colour.get(report.verdict.value, "magenta"))
    fmt = report.format or "unknown format"
    click.echo(f"{report.path}: {verdict} ({fmt})")
    if report.metadata_label:
        label = report.metadata_label
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
    _print_audible(report.audible_label)
    if report.c2pa:
        click.echo(
            f"  c2pa: {report.c2pa.get('state')} (AI declared: {report.c2pa.get('ai_declared')})"
        )
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
