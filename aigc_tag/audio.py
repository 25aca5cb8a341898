"""The audio tagger: composes the layers, each done by its own module.

audible label (audible/) -> invisible watermark (watermark/audio.py) -> metadata label (carrier).
The audible label and the watermark share one decode/encode pass (audio_io); metadata-only tagging
is a container edit and leaves every sample byte as it was.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .carriers import Carrier
from .errors import InvalidLabel
from .label import AIGCLabel

if TYPE_CHECKING:
    from .audible import AudiblePlacement
    from .audio_io import Decoded
    from .tagging import Tagger, TagResult
    from .watermark.keys import WatermarkKey
    from .watermark.payload import Payload

#: --audible values; "clip:PATH" takes a user's own clip.
AUDIBLE_KINDS = ("rhythm", "voice-zh", "voice-en", "voice-bilingual", "none")
AUDIBLE_PLACES = ("start", "end", "both")


def check_audible(kind: str, at: str) -> None:
    """Raise InvalidLabel for an unknown --audible / --audible-at value (checked once)."""
    if kind not in AUDIBLE_KINDS and not kind.startswith("clip:"):
        raise InvalidLabel(
            f"audible label {kind!r} is not one of {', '.join(AUDIBLE_KINDS)} or clip:PATH"
        )
    if kind.startswith("clip:") and not Path(kind[5:]).is_file():
        raise InvalidLabel(f"audible clip {kind[5:]!r} is not a file")
    if at not in AUDIBLE_PLACES:
        raise InvalidLabel(f"audible position {at!r} is not one of {', '.join(AUDIBLE_PLACES)}")


@dataclass
class AudioLayers:
    """What to apply to one audio file, and what was applied."""

    audible: str  # one of AUDIBLE_KINDS or "clip:PATH"
    audible_at: str
    watermark: bool
    metadata: bool
    watermark_key: WatermarkKey | None = None
    applied: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    placements: list[AudiblePlacement] = field(default_factory=list)
    payload: Payload | None = None
    seconds: float = 0.0


def apply_layers(data: bytes, carrier: Carrier, label: AIGCLabel, plan: AudioLayers) -> bytes:
    """Run the enabled layers on audio bytes and return the new bytes (``plan`` records them)."""
    extra: dict[str, str] = {}
    if plan.audible != "none" or plan.watermark:
        from . import audio_io

        decoded = audio_io.decode(data, carrier)
        samples = _sample_pass(decoded, label, plan)
        data = audio_io.encode(samples, decoded, data, carrier)
        if plan.placements:
            # Declared in the file so that verify can check exactly this cue later.
            extra["Audible"] = json.dumps(
                [p.to_json() for p in plan.placements], separators=(",", ":")
            )
    if plan.metadata:
        data = carrier.write_label(data, label.to_json(), extra)
        plan.applied.append("metadata")
    return data


def _sample_pass(decoded: Decoded, label: AIGCLabel, plan: AudioLayers) -> np.ndarray:
    samples = decoded.samples
    rate = decoded.stream.sample_rate
    if plan.audible != "none":
        from .audible import insert_label

        cue, kind = _cue(plan.audible, rate, samples.shape[1])
        samples, plan.placements = insert_label(
            samples, rate, cue, where=plan.audible_at, kind=kind
        )
        plan.applied.append("audible")
    if plan.watermark:
        samples = _watermark(samples, rate, label, plan)
    plan.seconds = len(samples) / rate
    return samples


def _cue(kind: str, rate: int, channels: int) -> tuple[np.ndarray, str]:
    from .audible import make_cue

    if kind.startswith("clip:"):
        return _user_clip(Path(kind[5:]), rate, channels), "clip"
    return make_cue(kind, rate, channels), kind


def _user_clip(path: Path, rate: int, channels: int) -> np.ndarray:
    """The user's clip, decoded by ffmpeg straight to the programme's rate and channel count."""
    from . import ffmpeg

    raw = ffmpeg.run(
        "ffmpeg",
        ["-v", "error", "-i", str(path.resolve()), "-map", "0:a:0", "-vn", "-f", "f32le",
         "-acodec", "pcm_f32le", "-ar", str(rate), "-ac", str(channels), "pipe:1"],
    )  # fmt: skip
    clip = np.frombuffer(raw, dtype="<f4").reshape(-1, channels)
    if not len(clip):
        raise InvalidLabel(f"audible clip {path}: no audio in it")
    return clip.astype(np.float32)


def _watermark(samples: np.ndarray, rate: int, label: AIGCLabel, plan: AudioLayers) -> np.ndarray:
    from .watermark.audio import embed
    from .watermark.image import NotWatermarkable
    from .watermark.payload import Payload

    payload = Payload.for_label(label.ContentProducer, label.ProduceID)
    try:
        marked = embed(samples, rate, payload.to_bits(), key=plan.watermark_key)
    except NotWatermarkable as exc:  # too short or silent: tag without the mark
        plan.warnings.append(f"watermark not embedded: {exc}")
        plan.watermark = False
        return samples
    plan.payload = payload
    plan.applied.append("watermark")
    return marked


def self_check(
    out: bytes, carrier: Carrier, plan: AudioLayers, result: TagResult, key: WatermarkKey | None
) -> None:
    """Decode the output as verify will: the declared cue must be there; a watermark that does
    not read back (a lossy codec at a very low bitrate, say) is a warning, not a failure."""
    from . import audio_io
    from .errors import AigcTagError

    decoded = audio_io.decode(out, carrier)
    rate = decoded.stream.sample_rate
    if plan.placements:
        from .audible import check_declared

        if not check_declared(decoded.samples, rate, plan.placements).found:
            raise AigcTagError(f"{result.source}: self-check failed: the audible label does not "
                               "read back")  # fmt: skip
    if plan.payload is not None:
        from .watermark.audio import detect

        found = detect(decoded.samples, rate, key=key)
        if not found.detected or not np.array_equal(found.payload_bits, plan.payload.to_bits()):
            result.layers.remove("watermark")
            result.watermark_payload = None
            result.warnings.append(
                "watermark embedded but not detectable in the output (too quiet, too short or "
                "too low a bitrate); the other layers are in place"
            )


def transcode_tagged(
    tagged_wav: bytes, result: TagResult, fmt: str, bitrate_kbps: int, tagger: Tagger
) -> bytes:
    """Encode a tagged float WAV to ``fmt`` and move its label and declarations across, then
    check the new file the way tagging checks any output."""
    from . import audio_io
    from .audible import AudiblePlacement
    from .carriers import registry, riff
    from .watermark.payload import Payload

    decoded = audio_io.decode(tagged_wav, riff.CARRIER)
    encoded = audio_io.new_file(
        decoded.samples, decoded.stream.sample_rate, fmt, bitrate_kbps=bitrate_kbps
    )
    carrier = registry()[fmt]
    if tagger.metadata:
        extras = riff.CARRIER.read_extras(tagged_wav)
        encoded = carrier.write_label(encoded, result.label.to_json(), extras)
    tagger._self_check_labels(encoded, carrier, result.label, result.source)
    plan = AudioLayers(tagger.audible, tagger.audible_at, tagger.watermark, tagger.metadata)
    plan.placements = [AudiblePlacement.from_json(p) for p in result.audible or []]
    if result.watermark_payload:
        plan.payload = Payload.for_label(result.label.ContentProducer, result.label.ProduceID)
    result.format = fmt
    if plan.placements or plan.payload is not None:
        self_check(encoded, carrier, plan, result, tagger.watermark_key)
    return encoded
