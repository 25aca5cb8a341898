"""Which label layers outlive the platforms: run a tagged file through the pipelines chat apps,
feeds, screenshots and re-encoders apply, and read every layer back.

>>> result = survive_file("tagged.png")                      # doctest: +SKIP
>>> [(r.pipeline.name, r.layers["watermark"].state.value) for r in result.results]  # doctest: +SKIP
[('chat-app', 'kept'), ('social-feed', 'kept'), ...]

The pipelines are in :mod:`.pipelines`; the layers are read by the verifier itself
(:func:`aigc_tag.verify.verify_bytes`) on the file as given and on each pipeline's output, and
:mod:`.layers` compares the two. The user's file is never written: pipelines work on bytes in
memory and on a copy inside a private temporary folder.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import AigcTagError, UnsupportedFormat
from ..fileio import MAX_INPUT_BYTES, read_input, temp_prefix, text_path
from .layers import LAYERS, LayerResult, State, baseline, compare, findings
from .pipelines import PIPELINES, Output, Pipeline, Source, pipelines_for, select

if TYPE_CHECKING:
    from ..watermark.keys import WatermarkKey

__all__ = [
    "LAYERS",
    "PIPELINES",
    "SCHEMA",
    "LayerResult",
    "Pipeline",
    "PipelineResult",
    "State",
    "Survival",
    "select",
    "survive_bytes",
    "survive_file",
]

#: The JSON document's ``schema`` token; bumped only when a key changes meaning or goes away.
SCHEMA = "aigc-tag/survive/1"

_MEDIA = ("image", "audio", "video")


@dataclass
class PipelineResult:
    """One pipeline run on one file: the layers after it, or why it could not run."""

    pipeline: Pipeline
    layers: dict[str, LayerResult] = field(default_factory=dict)
    output_format: str | None = None
    output_bytes: int | None = None
    error: str | None = None

    def to_json(self) -> dict:
        return {
            "name": self.pipeline.name,
            "description": self.pipeline.description,
            "output_format": self.output_format,
            "output_bytes": self.output_bytes,
            "error": self.error,
            "layers": {k: v.to_json() for k, v in self.layers.items()} if not self.error else None,
        }


@dataclass
class Survival:
    """Everything ``survive`` found for one file."""

    path: str
    media_type: str
    format: str
    original: dict[str, LayerResult]
    results: list[PipelineResult] = field(default_factory=list)

    @property
    def tagged(self) -> bool:
        """Whether the file as given holds any layer at all."""
        return any(r.state is State.PRESENT for r in self.original.values())

    def to_json(self) -> dict:
        return {
            "path": text_path(self.path),
            "media_type": self.media_type,
            "format": self.format,
            "original": {k: v.to_json() for k, v in self.original.items()},
            "pipelines": [r.to_json() for r in self.results],
        }


def survive_file(
    path: str | os.PathLike[str],
    *,
    pipelines: list[str] | None = None,
    watermark_key: WatermarkKey | None = None,
    ocr: bool = True,
    trust_anchors_pem: str | None = None,
    max_bytes: int = MAX_INPUT_BYTES,
) -> Survival:
    """Run the pipelines for the file's media on it (all, or those named in ``pipelines``).

    Raises :class:`AigcTagError` with the file name for a file that cannot be read or is not
    an image, audio or video file; a pipeline that fails is recorded in its result instead."""
    path = Path(path)
    try:
        data = read_input(path, max_bytes=max_bytes)
    except OSError as exc:
        raise AigcTagError(f"{text_path(str(path))}: cannot read: {exc.strerror or exc}") from None
    except AigcTagError as exc:
        raise type(exc)(f"{text_path(str(path))}: {exc}") from None
    return survive_bytes(data, name=str(path), pipelines=pipelines, watermark_key=watermark_key,
                         ocr=ocr, trust_anchors_pem=trust_anchors_pem)  # fmt: skip


def survive_bytes(
    data: bytes,
    *,
    name: str = "<bytes>",
    pipelines: list[str] | None = None,
    watermark_key: WatermarkKey | None = None,
    ocr: bool = True,
    trust_anchors_pem: str | None = None,
) -> Survival:
    """:func:`survive_file` on file bytes; ``name`` only names the file in messages."""
    from ..carriers import sniff_content

    shown = text_path(name)
    try:
        carrier = sniff_content(data, name=name)
    except AigcTagError as exc:
        raise type(exc)(f"{shown}: {exc}") from None
    if carrier.media_type not in _MEDIA or carrier.name in ("svg", "m4s"):
        raise UnsupportedFormat(f"{shown}: survive handles raster images, audio and video, "
                                f"not {carrier.name} ({carrier.media_type})")  # fmt: skip
    read = _Reader(watermark_key, ocr, trust_anchors_pem)
    with tempfile.TemporaryDirectory(prefix=temp_prefix("survive")) as tmp:
        src = Source(data, carrier.name, carrier.media_type, Path(tmp))
        _check_decodes(src, shown)
        original = read(data, name)
        out = Survival(name, carrier.media_type, carrier.name, baseline(original))
        for pipeline in pipelines_for(carrier.media_type, pipelines):
            out.results.append(_run(pipeline, src, original, read))
    return out


class _Reader:
    """The verifier with this run's settings: file bytes to the four layer findings."""

    def __init__(self, key: WatermarkKey | None, ocr: bool, anchors: str | None) -> None:
        self.key, self.ocr, self.anchors = key, ocr, anchors

    def __call__(self, data: bytes, name: str) -> dict[str, dict]:
        from ..verify import verify_bytes

        report = verify_bytes(data, name=name, watermark_key=self.key, ocr=self.ocr,
                              trust_anchors_pem=self.anchors)  # fmt: skip
        return findings(report)


def _check_decodes(src: Source, shown: str) -> None:
    """Refuse, with one line, a file whose pixels or samples do not decode: every pipeline
    would fail on it the same way."""
    try:
        if src.media == "image":
            src.rgb()
        elif src.media == "audio":
            from ..audio_io import decode
            from ..carriers import registry

            decode(src.data, registry()[src.carrier])
        else:
            from ..video_io import probe_video

            probe_video(str(src.path()))
    except AigcTagError as exc:
        raise type(exc)(f"{shown}: cannot decode the {src.media}: {exc}") from None


def _run(
    pipeline: Pipeline, src: Source, original: dict[str, dict], read: _Reader
) -> PipelineResult:
    result = PipelineResult(pipeline)
    try:
        made: Output = pipeline.apply(src)
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:  # noqa: BLE001 - one pipeline's failure must not end the run
        result.error = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        return result
    result.output_format, result.output_bytes = made.suffix.lstrip("."), len(made.data)
    result.layers = compare(original, read(made.data, f"{pipeline.name}{made.suffix}"))
    return result
