"""Worked example: tag the images a generation pipeline makes, then check them.

    python docs/examples/tag_image.py OUTDIR

A long-lived Tagger (fonts, keys and the watermark engine set up once) tags numpy arrays as a
diffusion pipeline returns them, writes JPEG and PNG, and turns any missing layer into an error.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

import aigc_tag

PRODUCER = "001191110108MA01ABCDEN10001"  # the service's code: USCC + service type + serial


def generated_picture(seed: int, size: int = 768) -> np.ndarray:
    """A stand-in for a model's output: float RGB in [0, 1], shape (H, W, 3)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size] / size
    base = np.stack([x, y, 1 - x * y], axis=-1)
    texture = rng.normal(0, 0.08, (size // 8, size // 8, 3)).repeat(8, 0).repeat(8, 1)
    return np.clip(base * 0.8 + texture + 0.1, 0, 1)


def main(outdir: Path) -> int:
    outdir.mkdir(parents=True, exist_ok=True)
    # A pipeline must learn when a layer could not be applied: make the warning an error.
    warnings.simplefilter("error", aigc_tag.AigcTagWarning)
    with aigc_tag.Tagger(PRODUCER, position="bottom-right") as tagger:
        for i, fmt in enumerate(("JPEG", "PNG")):
            data, result = tagger.tag_image(
                generated_picture(i), format=fmt, produce_id=f"job-{i}", quality=92
            )
            path = outdir / f"generated-{i}.{fmt.lower()}"
            path.write_bytes(data)
            print(f"{path.name}: layers {', '.join(result.layers)}; ProduceID "
                  f"{result.label.ProduceID}")  # fmt: skip
    failures = 0
    for path in sorted(outdir.glob("generated-*")):
        report = aigc_tag.verify(path)
        payload = (report.watermark or {}).get("payload") or {}
        print(f"{path.name}: {report.verdict.value}, watermark {payload.get('hex')}")
        failures += report.verdict is not aigc_tag.Verdict.COMPLIANT
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "out/examples")))
