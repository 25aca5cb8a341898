"""``aigc-tag propagate``: a distribution platform's re-labelling (Measures Art. 6)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from ..errors import AigcTagError
from ..fileio import atomic_write, output_target
from ..propagate import Propagator, auto_propagate
from .batch import (
    Job,
    RunReport,
    check_collisions,
    discover,
    jobs_option,
    name_file,
    run_parallel,
    supported_in_walk,
    timeout_option,
)
from .keys_cmd import c2pa_options, signer_settings, with_signer

_PROPAGATORS: dict[str, Propagator] = {}


def _propagator(settings: dict[str, Any]) -> Propagator:
    key = json.dumps(settings, sort_keys=True)
    if key not in _PROPAGATORS:
        _PROPAGATORS[key] = Propagator(**with_signer(settings))
    return _PROPAGATORS[key]


def _propagate_one(args: tuple[Job, Path | None, dict[str, Any], str | None]) -> dict[str, Any]:
    """Worker: one file; never raises (the batch goes on)."""
    job, outdir, settings, propagate_id = args
    try:
        if job.from_walk and not supported_in_walk(job.src):
            return {"status": "skipped", "src": str(job.src), "message": "not a supported format"}
        dst = None if outdir is None else outdir / job.rel
        result = _propagator(settings).propagate_file(
            job.src, dst, propagate_id=propagate_id, in_place=outdir is None
        )
        return {"status": "propagated", "src": str(job.src), "result": result.to_json()}
    except AigcTagError as exc:
        return {"status": "failed", "src": str(job.src), "message": name_file(str(exc), job.src)}
    except Exception as exc:  # a bug must not stop the batch; report it with its type
        message = f"{job.src}: internal error: {type(exc).__name__}: {exc}"
        return {"status": "failed", "src": str(job.src), "message": message}


def _worker_lost(args: tuple[Any, ...], message: str) -> dict[str, Any]:
    """The outcome of a file whose worker crashed or timed out (``run_parallel``)."""
    job = args[0]
    return {"status": "failed", "src": str(job.src), "message": f"{job.src}: {message}"}


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "-o",
    "--output",
    "outdir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for the re-labelled files (mirrors input directories).",
)
@click.option("--in-place", is_flag=True, help="Overwrite the inputs instead of writing to -o.")
@click.option(
    "--propagator",
    envvar="AIGC_TAG_PROPAGATOR",
    required=True,
    help="ContentPropagator: the platform's PG-20252A code (service digit 2) or an ASCII name. "
    "Env: AIGC_TAG_PROPAGATOR.",
)
@click.option("--propagate-id", help="PropagateID for a single file (default: a new UUID).")
@click.option("--reserved-code2", default="", help="ReservedCode2: the platform's integrity data.")
@click.option(
    "--declared",
    is_flag=True,
    help="Unlabelled files: the user declared them AI-generated (writes Label 2).",
)
@click.option(
    "--suspected",
    is_flag=True,
    help="Unlabelled files: the platform detected AI traces (writes Label 3).",
)
@click.option(
    "--producer",
    help="Unlabelled files: ContentProducer when known (default: the propagator code).",
)
@click.option(
    "--auto",
    is_flag=True,
    help="Decide Measures Art. 6 per file: verify it, keep a label, Label 3 on traces of AI "
    "(explicit label, C2PA/IPTC declaration, known watermark, generator parameters), else leave "
    "it alone.",
)
@click.option(
    "--declared-list",
    "declared_list",
    type=click.File("r", encoding="utf-8", errors="surrogateescape"),
    metavar="FILE",
    help="With --auto: the uploads the users declared AI-generated (Label 2), one path per line "
    "('-' = stdin). --declared with --auto declares every file.",
)
@click.option(
    "--min-strength",
    type=click.Choice(["strong", "moderate", "weak"]),
    default="moderate",
    show_default=True,
    help="With --auto: the weakest trace that makes an unlabelled file Label 3.",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a JSON Lines run report: one object per file (case, evidence, output), then a "
    "summary.",
)
@click.option(
    "--break-c2pa",
    is_flag=True,
    help="Write into files with a C2PA manifest without a signer (the manifest becomes invalid).",
)
@c2pa_options("Keep an input C2PA manifest valid: append a signed update manifest.")
@jobs_option()
@timeout_option(300)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per file.")
def propagate(
    paths: tuple[Path, ...],
    outdir: Path | None,
    in_place: bool,
    propagator: str,
    propagate_id: str | None,
    reserved_code2: str,
    declared: bool,
    suspected: bool,
    producer: str | None,
    auto: bool,
    declared_list,
    min_strength: str,
    report_path: Path | None,
    break_c2pa: bool,
    c2pa: bool,
    c2pa_cert: str | None,
    c2pa_key: str | None,
    c2pa_tsa: str | None,
    jobs: int,
    timeout: float,
    as_json: bool,
) -> None:
    """Re-label received files as a distribution platform (Measures Art. 6, GB 45438 §6.3).

    A labelled file keeps Label and the producer fields; ContentPropagator, PropagateID and
    ReservedCode2 become the platform's. An unlabelled file needs --declared (Label 2) or
    --suspected (Label 3), or --auto decides per file from what verify finds (files with no
    trace are left alone and reported). Media data is never re-encoded; exactly one label
    stays. There is no option that removes a label.
    """
    if (outdir is None) == (not in_place):
        raise click.UsageError("give exactly one of -o/--output DIR and --in-place")
    if not auto and (declared_list is not None or min_strength != "moderate"):
        raise click.UsageError("--declared-list and --min-strength need --auto")
    if auto and suspected:
        raise click.UsageError("--auto decides Label 3 itself; --suspected is for the manual mode")
    settings = dict(
        propagator=propagator,
        declared=declared,
        suspected=suspected,
        producer=producer,
        reserved_code2=reserved_code2,
        break_c2pa=break_c2pa,
        c2pa=signer_settings(c2pa, c2pa_cert, c2pa_key, c2pa_tsa),
    )
    try:
        probe = Propagator(**with_signer(settings))  # validate options once, before any file
    except AigcTagError as exc:
        raise click.UsageError(str(exc)) from None
    for warning in probe.warnings:
        click.echo(f"aigc-tag: warning: {warning}", err=True)
    found = discover(paths, exclude=outdir)
    if propagate_id and len(found) > 1:
        raise click.UsageError("--propagate-id names one content item; give a single file")
    check_collisions(found)
    if auto:
        declared_set = _declared_paths(declared_list) if declared_list is not None else set()
        _run_auto(found, outdir, settings, propagate_id, declared, declared_set, min_strength,
                  report_path, jobs, timeout, as_json)  # fmt: skip
        return
    run_report = RunReport(report_path)
    started = time.monotonic()
    counts = {"propagated": 0, "skipped": 0, "failed": 0}
    work = [(job, outdir, settings, propagate_id) for job in found]
    for outcome in run_parallel(_propagate_one, work, jobs=jobs, label="propagating",
                                failed=_worker_lost, timeout=timeout):  # fmt: skip
        counts[outcome["status"]] += 1
        _report(outcome, as_json)
        run_report.write(outcome)
    elapsed = time.monotonic() - started
    run_report.finish({**counts, "seconds": round(elapsed, 3)})
    click.echo(
        f"aigc-tag: propagated {counts['propagated']}, skipped {counts['skipped']}, "
        f"failed {counts['failed']} in {elapsed:.1f}s",
        err=True,
    )
    sys.exit(2 if counts["failed"] else 0)


def _report(outcome: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(outcome, ensure_ascii=False))
    if outcome["status"] == "failed":
        click.echo(f"aigc-tag: error: {outcome['message']}", err=True)
    for warning in outcome.get("result", {}).get("warnings", []):
        click.echo(f"aigc-tag: warning: {outcome['src']}: {warning}", err=True)
    if outcome["status"] == "propagated" and not as_json:
        result = outcome["result"]
        label = result["label"]
        c2pa = f" c2pa={result['c2pa']}" if result["c2pa"] != "none" else ""
        click.echo(
            f"{result['output']}: {result['case']} Label={label['Label']} "
            f"PropagateID={label['PropagateID']}{c2pa}"
        )


# --------------------------------------------------------------------------------------------
# --auto: Measures Art. 6 per file
# --------------------------------------------------------------------------------------------


def _declared_paths(fh) -> set[Path]:  # noqa: ANN001 - a click text file
    """The resolved paths listed in ``--declared-list`` (blank lines and # comments skipped)."""
    out = set()
    for line in fh:
        line = line.rstrip("\r\n")
        if line.strip() and not line.lstrip().startswith("#"):
            out.add(Path(line).resolve())
    return out


def _auto_one(args: tuple[Job, Path | None, dict[str, Any], str | None, bool, str]) -> dict:
    """Worker: verify, decide and (maybe) re-label one file; never raises."""
    job, outdir, settings, propagate_id, declared, min_strength = args
    src = str(job.src)
    if job.from_walk and not supported_in_walk(job.src):
        return {"status": "skipped", "src": src, "message": "not a supported format"}
    outcome: dict[str, Any] = {"status": "failed", "src": src, "case": None, "output": None}
    try:
        done = auto_propagate(job.src, _propagator(settings), declared=declared,
                              propagate_id=propagate_id, min_strength=min_strength)  # fmt: skip
        outcome.update(done.to_json())
        del outcome["path"]  # the same as src
        if done.error is not None:
            outcome["message"] = name_file(done.error, job.src)
            return outcome
        if done.data is None:
            outcome["status"] = "left"
            return outcome
        dst = None if outdir is None else outdir / job.rel
        target = output_target(job.src, dst, in_place=outdir is None)
        atomic_write(target, done.data, like=job.src, durable=outdir is None, within=outdir)
        outcome.update(status="propagated", output=str(target), result=done.result.to_json())
        outcome["result"]["output"] = str(target)
    except AigcTagError as exc:
        outcome["message"] = name_file(str(exc), job.src)
    except OSError as exc:
        outcome["message"] = f"{job.src}: cannot write: {exc.strerror or exc}"
    except Exception as exc:  # a bug must not stop the batch; report it with its type
        outcome["message"] = f"{job.src}: internal error: {type(exc).__name__}: {exc}"
    return outcome


def _run_auto(
    found: list[Job],
    outdir: Path | None,
    settings: dict[str, Any],
    propagate_id: str | None,
    declared_all: bool,
    declared_set: set[Path],
    min_strength: str,
    report_path: Path | None,
    jobs: int,
    timeout: float,
    as_json: bool,
) -> None:
    """The --auto batch: one outcome per file to stdout and the run report; exit 2 on failures."""
    inputs = {job.src.resolve() for job in found}
    unmatched = sorted(str(p) for p in declared_set - inputs)
    if unmatched:
        shown = ", ".join(unmatched[:5]) + (" …" if len(unmatched) > 5 else "")
        click.echo(f"aigc-tag: warning: --declared-list names {len(unmatched)} path(s) that are "
                   f"not among the inputs: {shown}", err=True)  # fmt: skip
    work = [(job, outdir, settings, propagate_id,
             declared_all or job.src.resolve() in declared_set, min_strength)
            for job in found]  # fmt: skip
    run_report = RunReport(report_path)
    started = time.monotonic()
    counts = {"propagated": 0, "left": 0, "skipped": 0, "failed": 0}
    cases: dict[str, int] = {}
    for outcome in run_parallel(_auto_one, work, jobs=jobs, label="propagating",
                                failed=_worker_lost, timeout=timeout):  # fmt: skip
        counts[outcome["status"]] += 1
        if outcome.get("case"):
            cases[outcome["case"]] = cases.get(outcome["case"], 0) + 1
        _report_auto(outcome, as_json)
        run_report.write(outcome)
    elapsed = time.monotonic() - started
    run_report.finish({**counts, "cases": cases, "seconds": round(elapsed, 3)})
    shown = ", ".join(f"{k} {v}" for k, v in sorted(cases.items())) or "none"
    click.echo(
        f"aigc-tag: propagated {counts['propagated']}, left alone {counts['left']}, skipped "
        f"{counts['skipped']}, failed {counts['failed']} (cases: {shown}) in {elapsed:.1f}s",
        err=True,
    )
    sys.exit(2 if counts["failed"] else 0)


def _report_auto(outcome: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(outcome, ensure_ascii=False, default=str))
    if outcome["status"] == "failed":
        case = f" (case {outcome['case']})" if outcome.get("case") else ""
        click.echo(f"aigc-tag: error: {outcome['message']}{case}", err=True)
    for warning in (outcome.get("result") or {}).get("warnings", []):
        click.echo(f"aigc-tag: warning: {outcome['src']}: {warning}", err=True)
    if as_json or outcome["status"] in ("failed", "skipped"):
        return
    kinds = ", ".join(dict.fromkeys(t["kind"] for t in outcome.get("evidence") or []))
    why = f" [{kinds}]" if kinds else ""
    if outcome["status"] == "propagated":
        click.echo(f"{outcome['output']}: {outcome['case']} Label={outcome['label']}{why}")
    else:
        click.echo(f"{outcome['src']}: {outcome['case']}, left alone: {outcome['reason']}")
