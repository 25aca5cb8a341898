"""``aigc-tag tag``: label files, in parallel, atomically, with a summary."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from ..errors import AigcTagError
from ..fileio import check_within, ensure_regular, escape_surrogates
from ..journal import FileState, file_sha256
from ..ledger import utc_now
from ..tagging import POSITIONS, Tagger
from .batch import (
    Job,
    batch_options,
    jobs_option,
    name_file,
    run_tag_batch,
    supported_in_walk,
    watermark_key_option,
)
from .keys_cmd import c2pa_options, signer_settings, with_signer
from .limits import max_megapixels_option


def _tag_one(args: tuple[Job, Path | None, dict[str, Any], str | None]) -> dict[str, Any]:
    """Worker: tag one file; never raises (the batch goes on)."""
    job, outdir, settings, produce_id = args
    try:
        ensure_regular(job.src)  # before the hash below opens it: a FIFO would block forever
        if job.from_walk and not supported_in_walk(job.src):
            st = FileState.of(job.src)
            return {
                "status": "skipped",
                "src": str(job.src),
                "message": "not a supported format",
                "input": {"size": st.size, "mtime_ns": st.mtime_ns},
            }
        tagger = _tagger(settings)
        dst = None if outdir is None else outdir / job.rel
        if dst is not None:
            check_within(dst, outdir)  # a symlinked folder in OUTDIR must not lead elsewhere
        before = FileState.of(job.src)  # the journal and the ledger identify the input by these
        input_sha = file_sha256(job.src)
        result = tagger.tag_file(job.src, dst, produce_id=produce_id, in_place=outdir is None)
        out = Path(result.output or job.src)
        after = FileState.of(out)
        return {
            "status": "tagged",
            "src": str(job.src),
            "result": result.to_json(),
            "input": {"size": before.size, "mtime_ns": before.mtime_ns, "sha256": input_sha},
            "output_state": {
                "size": after.size,
                "mtime_ns": after.mtime_ns,
                "sha256": file_sha256(out),
            },
            "tagged_at": utc_now(),
        }
    except AigcTagError as exc:
        return {"status": "failed", "src": str(job.src), "message": name_file(str(exc), job.src)}
    except OSError as exc:  # a named file that is missing or unreadable: say so plainly
        message = f"{job.src}: cannot read: {exc.strerror or exc}"
        return {"status": "failed", "src": str(job.src), "message": message}
    except Exception as exc:  # a bug must not stop the batch; report it with its type
        message = f"{job.src}: internal error: {type(exc).__name__}: {exc}"
        return {"status": "failed", "src": str(job.src), "message": message}


_TAGGERS: dict[str, Tagger] = {}


def _tagger(settings: dict[str, Any]) -> Tagger:
    """One Tagger per worker process and settings (options are validated once, fonts cached)."""
    key = json.dumps(settings, sort_keys=True)
    if key not in _TAGGERS:
        _TAGGERS[key] = Tagger(**with_signer(settings))
    return _TAGGERS[key]


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option(
    "-o",
    "--output",
    "outdir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for tagged files (mirrors input directories).",
)
@click.option("--in-place", is_flag=True, help="Overwrite the inputs instead of writing to -o.")
@click.option(
    "--producer",
    envvar="AIGC_TAG_PRODUCER",
    required=True,
    help="ContentProducer: a PG-20252A provider code (or an ASCII name, with a warning). "
    "Env: AIGC_TAG_PRODUCER.",
)
@click.option("--produce-id", help="ProduceID for a single file (default: a new UUID per file).")
@click.option(
    "--label",
    "label_value",
    type=click.Choice(["1", "2", "3"]),
    default="1",
    show_default=True,
    help="Annex E Label: 1 is / 2 possibly / 3 suspected AI-generated.",
)
@click.option(
    "--text",
    help="Caption text or preset (zh, bilingual, zh-long); must contain 人工智能/AI and 生成/合成.",
)
@click.option("--position", type=click.Choice(POSITIONS), default="bottom-right", show_default=True)
@click.option(
    "--audible",
    default="rhythm",
    show_default=True,
    metavar="rhythm|voice-zh|voice-en|voice-bilingual|clip:PATH|none",
    help="Audio: the audible label (Morse 'AI' rhythm cue, a spoken prompt, or your own clip).",
)
@click.option(
    "--audible-at",
    type=click.Choice(["start", "end", "both"]),
    default="start",
    show_default=True,
    help="Audio: where the audible label goes.",
)
@click.option(
    "--text-at",
    type=click.Choice(["suffix", "prefix", "both"]),
    default="suffix",
    show_default=True,
    help="Text and documents: where the explicit label line goes.",
)
@click.option(
    "--invisible-mark",
    is_flag=True,
    help="Text/Markdown: also hide the payload in invisible Unicode (variation selectors).",
)
@click.option(
    "--sidecar",
    is_flag=True,
    help="Plain text: write the Annex E record beside the output as FILE.aigc.json.",
)
@click.option(
    "--end-caption",
    is_flag=True,
    help="Video: also show the caption on the closing frames.",
)
@click.option(
    "--no-visible",
    is_flag=True,
    help="Do not add the explicit label (image caption, audio cue).",
)
@click.option("--no-watermark", is_flag=True, help="Do not embed the invisible watermark.")
@watermark_key_option()
@click.option("--no-metadata", is_flag=True, help="Do not write the metadata label.")
@click.option(
    "--break-c2pa",
    is_flag=True,
    help="Tag files that carry a C2PA manifest although it becomes invalid.",
)
@c2pa_options()
@click.option(
    "--c2pa-sidecar",
    is_flag=True,
    help="With --c2pa: formats C2PA cannot embed into (OGG, MKV, text, Office…) get a signed "
    "FILE.c2pa manifest beside the output instead of an error.",
)
@jobs_option()
@max_megapixels_option
@batch_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per file.")
def tag(
    paths: tuple[str, ...],
    outdir: Path | None,
    in_place: bool,
    producer: str,
    produce_id: str | None,
    label_value: str,
    text: str | None,
    position: str,
    audible: str,
    audible_at: str,
    text_at: str,
    invisible_mark: bool,
    sidecar: bool,
    end_caption: bool,
    no_visible: bool,
    no_watermark: bool,
    watermark_key: str | None,
    no_metadata: bool,
    break_c2pa: bool,
    c2pa: bool,
    c2pa_cert: str | None,
    c2pa_key: str | None,
    c2pa_tsa: str | None,
    c2pa_sidecar: bool,
    jobs: int,
    as_json: bool,
    **batch: Any,
) -> None:
    """Label images (JPEG, PNG, WebP, TIFF, GIF), audio (WAV, MP3, FLAC, OGG, Opus, M4A), video
    (MP4, MOV, MKV, WebM, AVI, FLV), text and documents (TXT, Markdown, HTML, DOCX, XLSX, PPTX,
    PDF, EPUB) with the GB 45438 layers.

    Directories are walked recursively; files of other formats found there are skipped.
    """  # noqa: D301
    if (outdir is None) == (not in_place):
        raise click.UsageError("give exactly one of -o/--output DIR and --in-place")
    if no_visible and no_metadata and no_watermark:
        raise click.UsageError("--no-visible, --no-watermark and --no-metadata leave nothing to do")
    settings = dict(
        producer=producer,
        text=text,
        position=position,
        audible=audible,
        audible_at=audible_at,
        text_at=text_at,
        invisible_mark=invisible_mark,
        sidecar=sidecar,
        end_caption=end_caption,
        visible=not no_visible,
        watermark=not no_watermark,
        watermark_key=watermark_key,
        metadata=not no_metadata,
        label=label_value,
        break_c2pa=break_c2pa,
        c2pa=signer_settings(c2pa, c2pa_cert, c2pa_key, c2pa_tsa),
        c2pa_sidecar=c2pa_sidecar,
    )
    try:
        probe = Tagger(**with_signer(settings))  # validate options once, before any file
    except AigcTagError as exc:
        raise click.UsageError(str(exc)) from None
    if jobs > 1:
        probe.warm_up()
    for warning in probe.warnings:
        click.echo(f"aigc-tag: warning: {warning}", err=True)
    if produce_id and (len(paths) != 1 or Path(paths[0]).is_dir() or batch["from_list"]):
        raise click.UsageError("--produce-id names one content item; give a single file")
    code = run_tag_batch(
        worker=_tag_one,
        paths=paths,
        outdir=outdir,
        in_place=in_place,
        settings=settings,
        produce_id=produce_id,
        jobs=jobs,
        on_outcome=lambda outcome: _report(outcome, as_json),
        supported=supported_in_walk,
        **batch,
    )
    sys.exit(code)


def _report(outcome: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(escape_surrogates(json.dumps(outcome, ensure_ascii=False)))
    if outcome["status"] == "failed":
        click.echo(f"aigc-tag: error: {outcome['message']}", err=True)
    if outcome["status"] == "skipped" and not as_json:
        click.echo(f"aigc-tag: skipped: {outcome['src']}: {outcome.get('message', '')}", err=True)
    for warning in outcome.get("result", {}).get("warnings", []):
        click.echo(f"aigc-tag: warning: {outcome['src']}: {warning}", err=True)
    if outcome["status"] == "tagged" and not as_json:
        result = outcome["result"]
        click.echo(
            f"{result['output']}: {'+'.join(result['layers'])} "
            f"ProduceID={result['label']['ProduceID']}"
        )
