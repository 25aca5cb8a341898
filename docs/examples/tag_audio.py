"""Worked example: tag a text-to-speech clip (int16 PCM, 24 kHz) as MP3 and WAV, then check it.

    python docs/examples/tag_audio.py OUTDIR

Integer PCM is scaled by its dtype (int16 / 32768); the audible label (the rhythm cue, or a voice
prompt with ``audible="voice-bilingual"``), the watermark and the metadata label are applied on a
lossless intermediate, and the MP3 is encoded once.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

import aigc_tag

PRODUCER = "001191110108MA01ABCDEN10001"
RATE = 24_000


def tts_clip(seconds: float = 6.0, seed: int = 0) -> np.ndarray:
    """A stand-in for a TTS engine's output, int16 PCM of shape (n,): voiced syllables (a
    harmonic series on a moving pitch) with the breath noise real speech has. (A pure harmonic
    tone leaves the watermark's bands empty: the tagger then warns that the mark is not
    detectable, and this script would stop on that warning.)"""
    t = np.arange(int(seconds * RATE)) / RATE
    pitch = 140 + 30 * np.sin(2 * np.pi * 0.7 * t)
    voice = sum(np.sin(2 * np.pi * k * np.cumsum(pitch) / RATE) / k for k in range(1, 8))
    syllables = np.clip(np.sin(2 * np.pi * 3.1 * t), 0, None) ** 0.5
    breath = np.random.default_rng(seed).normal(0, 0.13, t.size)
    return (np.clip((voice + breath) * syllables, -5, 5) * 6000).astype(np.int16)


def main(outdir: Path) -> int:
    outdir.mkdir(parents=True, exist_ok=True)
    warnings.simplefilter("error", aigc_tag.AigcTagWarning)  # a missing layer is an error here
    samples = tts_clip()
    for fmt in ("mp3", "wav"):
        data = aigc_tag.tag_audio(samples, RATE, producer=PRODUCER, format=fmt,
                                  produce_id=f"tts-{fmt}")  # fmt: skip
        (outdir / f"speech.{fmt}").write_bytes(data)
    failures = 0
    for fmt in ("mp3", "wav"):
        report = aigc_tag.verify(outdir / f"speech.{fmt}")
        label = report.metadata_label or {}
        print(f"speech.{fmt}: {report.verdict.value}, Label {label.get('Label')} in "
              f"{label.get('carrier')}")  # fmt: skip
        failures += report.verdict is not aigc_tag.Verdict.COMPLIANT
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "out/examples")))
