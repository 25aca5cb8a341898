"""The tagger: settings held once, applied to bytes, files or in-memory images.

Layers run in a fixed order -- explicit label, (watermark), metadata label, (C2PA) -- and a tag
is not done until the output's own verification finds exactly the label that was written.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import audio as audio_layers
from . import document as text_layers
from . import image as image_layers
from . import video as video_layers
from .carriers import Carrier, sniff_content
from .errors import (
    AigcTagError,
    ExistingManifest,
    InvalidInput,
    InvalidLabel,
    UnsupportedFormat,
)
from .fileio import atomic_write, output_target, read_source
from .label import AIGCLabel, charset_problems, check_provider_code
from .visible.wording import POSITIONS

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

    from .provenance.sign import C2paSigner
    from .visible.caption import CaptionPlacement
    from .watermark.keys import WatermarkKey

__all__ = ["TagResult", "Tagger", "validate_producer"]


@dataclass
class TagResult:
    """What one tag operation did."""

    source: str
    format: str
    label: AIGCLabel
    layers: list[str]
    caption: CaptionPlacement | None = None
    audible: list[dict] | None = None  # audio: the cues inserted (AudiblePlacement.to_json())
    sidecar: str | None = None  # plain text: the Annex E record for file.txt.aigc.json
    quality: dict | None = None  # video: PSNR/SSIM outside the caption, size change
    c2pa_manifest: bytes | None = None  # a detached manifest store for FILE.c2pa
    watermark_payload: str | None = None  # hex of the 64 raw bits, when the mark was embedded
    output: str | None = None
    sidecar_path: str | None = None
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "output": self.output,
            "format": self.format,
            "label": self.label.as_dict(),
            "layers": self.layers,
            "caption": self.caption.to_json() if self.caption else None,
            "audible": self.audible,
            "sidecar": self.sidecar_path,
            "quality": self.quality,
            "watermark_payload": self.watermark_payload,
            "warnings": self.warnings,
        }


def _watermark_key(key: WatermarkKey | str | bytes | None) -> WatermarkKey | None:
    if key is None:
        return None  # the public key; the engine (numpy) loads only when a mark is made
    from .watermark.layer import as_key

    return as_key(key)


def validate_producer(producer: str) -> list[str]:
    """Raise on a malformed PG-20252A code; warn on a plain ASCII name; raise on anything else."""
    if not producer:
        raise InvalidLabel("--producer is required (a PG-20252A provider code or an ASCII name)")
    if re.fullmatch(r"00[0-9A-Z]{25}", producer):
        problems = check_provider_code(producer, role="producer")
        if problems:
            raise InvalidLabel(f"producer code {producer}: " + "; ".join(problems))
        return []
    if len(producer) == 27 and producer[:2] == "00":
        raise InvalidLabel(
            f"producer code {producer}: " + "; ".join(check_provider_code(producer.upper()))
        )
    if charset_problems(producer):
        raise InvalidLabel(
            f"producer {producer!r} is neither a PG-20252A code nor a plain ASCII name without "
            "spaces or quotes (GB 45438 Annex E j)"
        )
    return [
        f"producer {producer!r} is a name, not a PG-20252A code (27 characters, TC260-PG-20252A); "
        "GB 45438 allows names but recommends the code"
    ]


def _xmp_refused_for_dtd(packet: bytes) -> bool:
    """True when the XMP reader refuses ``packet`` for its DTD (entities; defusedxml)."""
    from defusedxml import DefusedXmlException
    from defusedxml import ElementTree as SafeET

    from .xmp import _text, _xml_body

    if b"<!" not in packet:
        return False
    try:
        SafeET.fromstring(_xml_body(_text(packet)))
    except DefusedXmlException:
        return True
    except Exception:  # malformed for another reason: not a DTD refusal
        return False
    return False


class Tagger:
    """Holds the tagging settings; use one per batch or pipeline.

    >>> tagger = Tagger(producer="001191110108MA01ABCDEN10001")   # doctest: +SKIP
    >>> out, result = tagger.tag_bytes(png_bytes)                  # doctest: +SKIP
    """

    def __init__(
        self,
        producer: str,
        *,
        text: str | None = None,
        position: str = "bottom-right",
        visible: bool = True,
        watermark: bool = True,
        metadata: bool = True,
        label: str = "1",
        break_c2pa: bool = False,
        watermark_key: WatermarkKey | str | bytes | None = None,
        audible: str = "rhythm",
        audible_at: str = "start",
        text_at: str = "suffix",
        invisible_mark: bool = False,
        sidecar: bool = False,
        end_caption: bool = False,
        c2pa_signer: C2paSigner | None = None,
        c2pa_sidecar: bool = False,
    ) -> None:
        from .visible.wording import resolve_text

        self.warnings = validate_producer(producer)
        if position not in POSITIONS:
            raise InvalidLabel(f"position {position!r} is not one of {', '.join(POSITIONS)}")
        if label not in ("1", "2", "3"):
            raise InvalidLabel(f"Label must be 1, 2 or 3 (got {label!r})")
        self.producer = producer
        self.text = resolve_text(text)
        self.position = position
        self.visible = visible
        self.watermark = watermark
        self.watermark_key = _watermark_key(watermark_key)
        self.metadata = metadata
        self.label_value = label
        self.break_c2pa = break_c2pa
        audio_layers.check_audible(audible, audible_at)
        self.audible = audible if visible else "none"
        self.audible_at = audible_at
        if text_at not in text_layers.TEXT_PLACES:
            raise InvalidLabel(f"text position {text_at!r} is not one of "
                               f"{', '.join(text_layers.TEXT_PLACES)}")  # fmt: skip
        from .text import resolve_label
        from .visible.wording import TEXT_PRESETS

        # Documents get the long form unless told otherwise; an image preset ("zh") means the
        # caption text it names.
        self.text_label = resolve_label(text if text is None or text in TEXT_PRESETS else self.text)
        self.text_at = text_at
        self.invisible_mark = invisible_mark
        self.sidecar = sidecar
        self.end_caption = end_caption
        self.c2pa_sidecar = c2pa_sidecar
        # C2PA is the last layer: signed after the self-check, over the final bytes. With a
        # signer, an input manifest becomes the parent ingredient instead of a refusal.
        self.c2pa_signer = c2pa_signer
        if c2pa_signer is not None:
            self.warnings += c2pa_signer.warnings

    def warm_up(self) -> None:
        """Import what the enabled layers need, so that forked batch workers inherit it instead
        of each paying the imports (a fixed cost that dominates short batches)."""
        import importlib

        from .carriers import registry

        registry()
        modules = ["aigc_tag.imaging"]
        if self.visible:
            modules += ["aigc_tag.visible.caption", "aigc_tag.visible.inspect"]
        if self.watermark:
            modules += ["aigc_tag.watermark.layer", "aigc_tag.watermark.audio"]
        modules += ["aigc_tag.audio", "aigc_tag.video", "aigc_tag.document"]
        for name in modules:
            importlib.import_module(name)

    def __enter__(self) -> Tagger:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    # --- public entry points ------------------------------------------------------------

    def tag_bytes(
        self, data: bytes, *, produce_id: str | None = None, name: str = "<bytes>"
    ) -> tuple[bytes, TagResult]:
        """Tag file bytes; returns the new bytes and what was done.

        Raises :class:`AigcTagError` (of the specific subclass) with ``name`` in the message.
        """
        from .inputs import file_bytes

        data = file_bytes(data)
        try:
            out, result = self._tag_bytes(data, produce_id, name)
            if self.c2pa_signer is not None:
                out = self._sign_c2pa(data, out, result, name)
            return out, result
        except AigcTagError as exc:
            if str(exc).startswith(name):
                raise
            raise type(exc)(f"{name}: {exc}") from None

    def _tag_bytes(self, data: bytes, produce_id: str | None, name: str) -> tuple[bytes, TagResult]:
        carrier = sniff_content(data, name=name)
        label = AIGCLabel.for_producer(self.producer, produce_id, label=self.label_value)
        label.validate()
        self._refuse_c2pa(carrier, data, name)
        if carrier.media_type not in ("image", "audio", "text", "video"):
            raise UnsupportedFormat(f"{name}: tagging {carrier.media_type} is not supported yet")
        if not carrier.can_write:
            carrier.write_label(data, "")  # read-only carriers raise with their own reason
            raise UnsupportedFormat(f"{name}: writing {carrier.name} is not supported")
        if carrier.media_type == "audio":
            return self._tag_audio(data, carrier, label, name)
        if carrier.media_type == "text":
            return self._tag_text(data, carrier, label, name)
        if carrier.media_type == "video":
            return self._tag_video(data, carrier, label, name)
        plan = image_layers.ImageLayers(
            visible=self.visible,
            watermark=self.watermark,
            metadata=self.metadata,
            text=self.text,
            position=self.position,
            watermark_key=self.watermark_key,
        )
        out = image_layers.apply_layers(data, carrier, label, plan)
        result = TagResult(name, carrier.name, label, plan.applied, plan.caption)
        result.warnings = plan.warnings  # per file; settings warnings stay on Tagger.warnings
        self._self_check(out, carrier, label, plan, result)
        if "watermark" in result.layers and plan.payload is not None:
            result.watermark_payload = plan.payload.hex()
        return out, result

    def tag_file(
        self,
        src: str | Path,
        dst: str | Path | None = None,
        *,
        produce_id: str | None = None,
        in_place: bool = False,
    ) -> TagResult:
        """Tag ``src`` into ``dst`` (atomically); ``in_place`` overwrites ``src`` instead."""
        src = Path(src)
        target = output_target(src, dst, in_place=in_place)
        data = read_source(src)
        out, result = self.tag_bytes(data, produce_id=produce_id, name=str(src))
        try:
            # Replacing the user's only copy must survive a power cut: fsync. New outputs skip
            # it (a batch of small files would spend most of its time there); the rename still
            # makes a half-written file invisible under its final name.
            atomic_write(target, out, like=src, durable=in_place)
            if result.c2pa_manifest is not None:
                from .provenance.sign import sidecar_path as c2pa_sidecar_path

                atomic_write(c2pa_sidecar_path(target), result.c2pa_manifest, like=src,
                             durable=in_place)  # fmt: skip
            if result.sidecar is not None:
                from .text import sidecar_json, sidecar_path

                side = sidecar_path(target)
                record = sidecar_json(result.label, name=target.name, data=out)
                atomic_write(side, record.encode("utf-8"), like=src, durable=in_place)
                result.sidecar_path = str(side)
        except OSError as exc:
            raise AigcTagError(f"{target}: cannot write: {exc.strerror or exc}") from None
        result.output = str(target)
        return result

    def tag_image(
        self,
        image: Image.Image | np.ndarray,
        *,
        format: str = "PNG",
        produce_id: str | None = None,
        **save_options: Any,
    ) -> tuple[bytes, TagResult]:
        """Tag an in-memory PIL image or numpy array (H×W[×C], uint8); returns encoded bytes."""
        from . import inputs

        format = inputs.image_format(format)
        image = inputs.image_input(image)
        buf = io.BytesIO()
        try:
            image.save(buf, format=format, **save_options)
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise InvalidInput(f"cannot encode the image as {format}: {exc}") from None
        return self.tag_bytes(buf.getvalue(), produce_id=produce_id, name=f"<{format} image>")

    def tag_audio(
        self,
        samples: np.ndarray,
        sample_rate: int,
        *,
        format: str = "wav",
        bits: int = 16,
        bitrate_kbps: int = 0,
        produce_id: str | None = None,
    ) -> tuple[bytes, TagResult]:
        """Tag in-memory audio, e.g. a TTS model's output: float samples in [-1, 1] or integer
        PCM (int16/int32 scaled by full scale), (n,) or (n, channels); returns the encoded
        file. ``format`` is wav (``bits`` 16, 24 or 32 = float), flac, mp3, ogg, opus or m4a
        (``bitrate_kbps``; 0 = a sensible default).

        Lossy formats are encoded once: the layers run on a lossless intermediate, which is then
        encoded and labelled, so the output is a single generation."""
        from . import audio_io, inputs

        format, sample_rate = inputs.audio_format(format), inputs.sample_rate(sample_rate)
        samples = inputs.audio_samples(samples)
        name = f"<{format} audio>"
        if format in ("wav", "flac"):
            data = audio_io.new_file(samples, sample_rate, format, bits=bits)
            return self.tag_bytes(data, produce_id=produce_id, name=name)
        lossless = audio_io.new_file(samples, sample_rate, "wav", bits=32)
        try:
            tagged, result = self._tag_bytes(lossless, produce_id, name)
            out = audio_layers.transcode_tagged(tagged, result, format, bitrate_kbps, self)
            if self.c2pa_signer is not None:  # last, over the bytes that are handed out
                out = self._sign_c2pa(out, out, result, name)
        except AigcTagError as exc:
            raise type(exc)(f"{name}: {exc}") from None
        return out, result

    # --- internals ----------------------------------------------------------------------

    def _tag_audio(
        self, data: bytes, carrier: Carrier, label: AIGCLabel, name: str
    ) -> tuple[bytes, TagResult]:
        plan = audio_layers.AudioLayers(
            audible=self.audible,
            audible_at=self.audible_at,
            watermark=self.watermark,
            metadata=self.metadata,
            watermark_key=self.watermark_key,
        )
        out = audio_layers.apply_layers(data, carrier, label, plan)
        result = TagResult(name, carrier.name, label, plan.applied)
        result.audible = [p.to_json() for p in plan.placements] or None
        result.warnings = plan.warnings
        if plan.payload is not None:
            result.watermark_payload = plan.payload.hex()
        self._self_check_labels(out, carrier, label, name)
        if plan.placements or plan.payload is not None:
            audio_layers.self_check(out, carrier, plan, result, self.watermark_key)
        return out, result

    def _tag_video(
        self, data: bytes, carrier: Carrier, label: AIGCLabel, name: str
    ) -> tuple[bytes, TagResult]:
        plan = video_layers.VideoLayers(
            visible=self.visible,
            watermark=self.watermark,
            metadata=self.metadata,
            text=self.text,
            position=self.position,
            end_caption=self.end_caption,
            watermark_key=self.watermark_key,
        )
        out = video_layers.apply_layers(data, carrier, label, plan)
        result = TagResult(name, carrier.name, label, plan.applied, plan.caption)
        result.warnings = plan.warnings
        result.quality = plan.quality or None
        if plan.payload is not None:
            result.watermark_payload = plan.payload.hex()
        if "metadata" in plan.applied:
            self._self_check_labels(out, carrier, label, name)
        video_layers.self_check(out, carrier, plan, result, self.watermark_key)
        return out, result

    def _tag_text(
        self, data: bytes, carrier: Carrier, label: AIGCLabel, name: str
    ) -> tuple[bytes, TagResult]:
        plan = text_layers.TextLayers(
            visible=self.visible,
            where=self.text_at,
            wording=self.text_label,
            invisible=self.invisible_mark,
            metadata=self.metadata,
            sidecar=self.sidecar,
        )
        out = text_layers.apply_layers(data, carrier, label, plan, name)
        result = TagResult(name, carrier.name, label, plan.applied)
        result.warnings = plan.warnings
        if plan.payload is not None:
            result.watermark_payload = plan.payload.hex()
        if carrier.name == "txt" and "metadata" in plan.applied:
            from .text import sidecar_json

            result.sidecar = sidecar_json(label, name=Path(name).name, data=out)
        elif "metadata" in plan.applied:
            self._self_check_labels(out, carrier, label, name)
        text_layers.self_check(out, carrier, plan, result)
        return out, result

    def _self_check_labels(self, out: bytes, carrier: Carrier, label: AIGCLabel, name: str) -> None:
        if not self.metadata:
            return
        fields = [f.parsed.fields for f in carrier.read_labels(out)]
        if fields != [label.as_dict()]:
            raise AigcTagError(
                f"{name}: self-check failed: the written label does not read back exactly once"
            )

    @staticmethod
    def _input_manifest(carrier: Carrier, data: bytes) -> dict | None:
        from .provenance import inspect_c2pa, may_hold_c2pa

        # A carrier that knows where manifests live answers without scanning the whole file.
        probe = getattr(carrier, "has_c2pa", None)
        if not (probe(data) if probe else may_hold_c2pa(data)):
            return None
        return inspect_c2pa(data, carrier.mime)

    def _refuse_c2pa(self, carrier: Carrier, data: bytes, name: str) -> None:
        if self.break_c2pa or self.c2pa_signer is not None:
            return  # with a signer, _sign_c2pa keeps the manifest as the parent ingredient
        manifest = self._input_manifest(carrier, data)
        if manifest is not None:
            raise ExistingManifest(
                f"{name}: carries a C2PA manifest (state {manifest['state']}); tagging changes the "
                "bytes and would invalidate it. Sign with --c2pa --cert --key (API: c2pa_signer) "
                "to re-sign with the old manifest as parent ingredient, or pass --break-c2pa "
                "(API: break_c2pa=True) to tag anyway"
            )

    def _sign_c2pa(self, data: bytes, out: bytes, result: TagResult, name: str) -> bytes:
        """The last layer: sign the finished bytes; an input manifest becomes the parent. A
        format the SDK cannot embed into gets a detached ``FILE.c2pa`` when ``c2pa_sidecar``."""
        from .provenance.sign import sign_bytes, sign_sidecar, supports_embedding

        carrier = sniff_content(out, name=name)
        if self.c2pa_sidecar and not supports_embedding(carrier.mime):
            result.c2pa_manifest = sign_sidecar(
                out,
                carrier.mime,
                signer=self.c2pa_signer,  # type: ignore[arg-type]
                label=result.label,
                watermark_payload=result.watermark_payload,
            )
            result.layers.append("c2pa-sidecar")
            return out
        parent = self._input_manifest(carrier, data) is not None
        signed = sign_bytes(
            out,
            carrier.mime,
            signer=self.c2pa_signer,  # type: ignore[arg-type]
            label=result.label,
            watermark_payload=result.watermark_payload,
            parent=data if parent else False,
            title=Path(name).name,
        )
        if self.metadata and carrier.media_type != "text":
            try:
                again = sniff_content(signed, name=name)
                self._self_check_labels(signed, again, result.label, name)
            except AigcTagError as exc:
                raise AigcTagError(
                    f"{name}: after C2PA signing the metadata label no longer reads back ({exc}); "
                    f"the {carrier.name.upper()} manifest layout is not supported yet, sign a "
                    ".c2pa sidecar instead"
                ) from None
        result.layers.append("c2pa")
        if parent:
            result.warnings.append("input C2PA manifest kept as the parent ingredient")
        return signed

    def _self_check(
        self, out: bytes, carrier: Carrier, label: AIGCLabel, plan: Any, result: TagResult
    ) -> None:
        """Read the output back with the readers verify uses: exactly our label, once; the caption
        where we drew it; the watermark payload. Cheaper than a full verify (no checks, no C2PA).

        A missing label or caption fails the file. A watermark that does not read back (a very
        flat picture, say) is reported as a warning and left out of ``layers``: the other layers
        are still right.
        """
        name = result.source
        self._self_check_labels(out, carrier, label, name)
        check_caption = plan.caption is not None and self.metadata
        if not (check_caption or "watermark" in result.layers):
            return
        from .imaging import open_display

        shown = open_display(out)
        if check_caption:
            from .visible.inspect import inspect_declared_caption
            from .xmp import aigctag_properties

            packet = carrier.read_xmp(out) or b""
            declared = aigctag_properties(packet).get("Caption", "")
            if not declared and _xmp_refused_for_dtd(packet):
                raise AigcTagError(
                    f"{name}: the input's XMP packet has a DTD with entity declarations, which "
                    "aigc-tag refuses to parse (XML entity attacks), so the caption it declares "
                    "there cannot be read back; remove the <!DOCTYPE> from the XMP and tag again"
                )
            if not inspect_declared_caption(shown, declared).found:
                raise AigcTagError(f"{name}: self-check failed: the caption does not read back")
        if "watermark" in result.layers:
            import numpy as np

            from .watermark.layer import read_mark

            found = read_mark(shown, self.watermark_key)
            if not found.detected or not np.array_equal(found.payload_bits, plan.payload.to_bits()):
                result.layers.remove("watermark")
                result.warnings.append(
                    "watermark embedded but not detectable in the output (too flat or too small "
                    "a picture); the other layers are in place"
                )
