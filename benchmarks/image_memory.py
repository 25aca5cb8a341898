"""Peak memory per pixel of ``aigc-tag tag`` and ``verify``, run by hand (a few minutes):
``nice python benchmarks/image_memory.py [--sides 1000 2000 3000]``.

Corpus: synthetic RGB pictures (upscaled random noise, so the watermark has texture to work
with) of side x side pixels, saved as PNG and as JPEG (quality 90). Each command runs in a fresh
process; its peak RSS comes from ``wait4``. The slope between the smallest and the largest size
is the cost per pixel that ``aigc_tag.imaging.PIPELINE_BYTES_PER_PIXEL`` (the processing budget
of ``--max-megapixels``) is set from. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image


def _picture(side: int, folder: Path, ext: str) -> Path:
    rng = np.random.default_rng(side)
    small = (rng.random((side // 8, side // 8, 3)) * 255).astype("uint8")
    path = folder / f"n{side}.{ext}"
    Image.fromarray(small).resize((side, side), Image.BICUBIC).save(path, quality=90)
    return path


def _peak(args: list[str]) -> tuple[float, float, int]:
    """(seconds, peak RSS in MB, exit code) of ``aigc-tag ARGS`` in a fresh process."""
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "aigc_tag", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    _, status, usage = os.wait4(proc.pid, 0)
    return time.monotonic() - t0, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sides", type=int, nargs="+", default=[1000, 2000, 3000])
    sides = sorted(parser.parse_args().sides)
    rows, peaks = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for ext in ("png", "jpg"):
            for side in sides:
                src = _picture(side, folder, ext)
                out = folder / f"out-{ext}-{side}"
                tag = _peak(["tag", "--producer", "PG-20252A-BENCH", "--no-ledger",
                             "--max-megapixels", "500", "-o", str(out), str(src)])  # fmt: skip
                verify = _peak(["verify", "--max-megapixels", "500", str(out / src.name)])
                peaks[(ext, side)] = (tag[1], verify[1])
                rows.append((ext, side, side * side / 1e6, tag, verify))
    print("| format | pixels | MP | tag s | tag peak MB | verify s | verify peak MB |")
    print("|---|---|---|---|---|---|---|")
    for ext, side, mp, tag, verify in rows:
        print(f"| {ext} | {side}x{side} | {mp:.1f} | {tag[0]:.1f} | {tag[1]:.0f} | "
              f"{verify[0]:.1f} | {verify[1]:.0f} |")  # fmt: skip
    lo, hi = sides[0], sides[-1]
    if hi > lo:
        print()
        for ext in ("png", "jpg"):
            dpx = hi * hi - lo * lo
            slope = [(peaks[(ext, hi)][i] - peaks[(ext, lo)][i]) * 2**20 / dpx for i in (0, 1)]
            print(f"{ext}: tag {slope[0]:.0f} B/px, verify {slope[1]:.0f} B/px "
                  f"(slope {lo}² → {hi}²)")  # fmt: skip


if __name__ == "__main__":
    main()
