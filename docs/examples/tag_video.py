"""Worked example: tag a generated video clip held in memory, then check it.

    python docs/examples/tag_video.py OUTDIR

The clip is encoded here with PyAV (what aigc-tag itself uses to read video) as a video model's
pipeline would hand it over: MP4 bytes. ``tag_video`` adds the opening caption (the first 2 s),
the frame watermark and the metadata label, and returns new MP4 bytes.
"""

from __future__ import annotations

import io
import sys
import warnings
from pathlib import Path

import av
import numpy as np

import aigc_tag

PRODUCER = "001191110108MA01ABCDEN10001"


def generated_clip(seconds: int = 3, fps: int = 24, size: tuple[int, int] = (480, 320)) -> bytes:
    """A stand-in for a video model's output: moving gradients with texture, H.264 in MP4."""
    width, height = size
    rng = np.random.default_rng(7)
    texture = rng.integers(0, 40, (height, width, 1), dtype=np.uint8)
    y, x = np.mgrid[0:height, 0:width]
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(seconds * fps):
            shift = 4 * i
            frame = np.stack([(x + shift) % 256, (y + shift // 2) % 256, (x + y) // 4 % 256], -1)
            rgb = np.clip(frame * 0.8 + texture, 0, 255).astype(np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(stream.encode())
    return buffer.getvalue()


def main(outdir: Path) -> int:
    outdir.mkdir(parents=True, exist_ok=True)
    warnings.simplefilter("error", aigc_tag.AigcTagWarning)  # a missing layer is an error here
    tagged = aigc_tag.tag_video(generated_clip(), producer=PRODUCER, produce_id="clip-1")
    path = outdir / "clip.mp4"
    path.write_bytes(tagged)
    report = aigc_tag.verify(path)
    label = report.metadata_label or {}
    print(f"{path.name}: {report.verdict.value}, Label {label.get('Label')} in "
          f"{label.get('carrier')}")  # fmt: skip
    for check in report.checks:
        print(f"  {check.id} {check.outcome.value:5} {check.message}")
    return 0 if report.verdict is aigc_tag.Verdict.COMPLIANT else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "out/examples")))
