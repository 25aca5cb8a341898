"""Image tagging throughput, run by hand: ``python benchmarks/bench_image_tagging.py``.

1. Metadata-only tagging of N JPEGs of about 2 MP, against the anchor: exiftool writing the same
   XMP property (``XMP-TC260:AIGC``, defined by a config file) to every file in ONE batch process
   (``exiftool -@ argfile`` with ``-execute`` per file). Every side writes every output file and
   gives each file its own ProduceID. Rows: aigc-tag in one process (the library) and as the CLI
   with ``-j`` = all cores; exiftool as one process (the anchor) and as one process per core
   (the argfile split), so ratios can be read on equal cores. Files/s, median of R rounds.
2. Full tagging of one JPEG at 1, 12 and 48 MP, with and without the watermark (caption +
   metadata, and the default caption + watermark + metadata): seconds per file (median of R runs,
   self-check included) and peak RSS of a fresh process.

Prints Markdown tables. The machine is shared and noisy: medians, and the anchor runs in the same
round as us.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
from PIL import Image

PRODUCER = "001191110108MA01ABCDEN10001"
EXIFTOOL_CONFIG = """%Image::ExifTool::UserDefined = (
    'Image::ExifTool::XMP::Main' => {
        TC260 => { SubDirectory => { TagTable => 'Image::ExifTool::UserDefined::TC260' } },
    },
);
%Image::ExifTool::UserDefined::TC260 = (
    GROUPS => { 0 => 'XMP', 1 => 'XMP-TC260', 2 => 'Image' },
    NAMESPACE => { 'TC260' => 'http://www.tc260.org.cn/ns/AIGC/1.0/' },
    WRITABLE => 'string',
    AIGC => { },
);
1;
"""


def make_jpeg(width: int, height: int, seed: int) -> bytes:
    """A photo-like JPEG (smooth gradients + texture) with EXIF, quality 90."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack(
        [
            128 + 90 * np.sin(x / width * 4 + seed),
            128 + 90 * np.cos(y / height * 3),
            128 + 60 * np.sin((x + y) / (width + height) * 9),
        ],
        -1,
    )
    base += rng.normal(0, 8, base.shape).astype(np.float32)
    im = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
    exif = Image.Exif()
    exif[0x0131] = "bench-generator"
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=90, exif=exif)
    return buf.getvalue()


def label_json() -> str:
    from aigc_tag import AIGCLabel

    return AIGCLabel.for_producer(PRODUCER, str(uuid.uuid4())).to_json()


def run_ours(inputs: list[Path], outdir: Path) -> float:
    from aigc_tag import Tagger

    tagger = Tagger(PRODUCER, visible=False, watermark=False)
    start = time.perf_counter()
    for src in inputs:
        tagger.tag_file(src, outdir / src.name)
    return time.perf_counter() - start


def run_cli(src_dir: Path, outdir: Path, jobs: int) -> float:
    cmd = [sys.executable, "-m", "aigc_tag", "tag", str(src_dir), "-o", str(outdir),
           "--producer", PRODUCER, "--no-visible", "--no-watermark", "-j", str(jobs)]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def run_exiftool(inputs: list[Path], outdir: Path, config: Path, processes: int = 1) -> float:
    argfiles = []
    for k in range(processes):
        lines = []
        for src in inputs[k::processes]:
            lines += [f"-XMP-TC260:AIGC={label_json()}", "-o", str(outdir / src.name), str(src)]
            lines.append("-execute")
        argfile = outdir / f"args{k}.txt"
        argfile.write_text("\n".join(lines) + "\n")
        argfiles.append(argfile)
    cmd = ["exiftool", "-config", str(config), "-q", "-q", "-@"]
    start = time.perf_counter()
    procs = [subprocess.Popen([*cmd, str(a)], stdout=subprocess.DEVNULL) for a in argfiles]
    if any(p.wait() for p in procs):
        raise RuntimeError("exiftool failed")
    return time.perf_counter() - start


def bench_metadata(count: int, rounds: int, work: Path) -> list[str]:
    src_dir = work / "in"
    src_dir.mkdir()
    for i in range(count):
        (src_dir / f"img{i:04d}.jpg").write_bytes(make_jpeg(1732, 1155, i % 7))  # ~2.0 MP
    inputs = sorted(src_dir.iterdir())
    config = work / "tc260.config"
    config.write_text(EXIFTOOL_CONFIG)
    cores = os.cpu_count() or 1
    runs = {
        "aigc-tag, library, 1 process": lambda d: run_ours(inputs, d),
        f"aigc-tag CLI, -j {cores}": lambda d: run_cli(src_dir, d, cores),
        "exiftool -@ argfile, 1 process (anchor)": lambda d: run_exiftool(inputs, d, config),
        f"exiftool -@ argfile, {cores} processes": lambda d: run_exiftool(inputs, d, config, cores),
    }
    rates: dict[str, list[float]] = {name: [] for name in runs}
    for r in range(rounds):
        for name, fn in runs.items():
            out = work / f"out-{r}"
            out.mkdir()
            rates[name].append(count / fn(out))
            shutil.rmtree(out)
    _check_exiftool_reads_ours(work, inputs[0], config)
    med = {name: statistics.median(v) for name, v in rates.items()}
    names = list(runs)
    rows = [
        f"| metadata-only, {count} JPEGs of 2.0 MP | files/s (median of {rounds}) |",
        "|---|---|",
    ]
    rows += [f"| {name} | {med[name]:.0f} |" for name in names]
    ratios = [
        ("library 1 process / exiftool 1 process", names[0], names[2]),
        (f"CLI -j {cores} / exiftool 1 process (the anchor)", names[1], names[2]),
        (f"CLI -j {cores} / exiftool {cores} processes", names[1], names[3]),
    ]
    rows += [f"| ratio: {text} | **{med[a] / med[b]:.1f}×** |" for text, a, b in ratios]
    return rows


def _check_exiftool_reads_ours(work: Path, src: Path, config: Path) -> None:
    """Same property both ways: exiftool must read back what we wrote."""
    from aigc_tag import Tagger

    out = work / "check.jpg"
    Tagger(PRODUCER, visible=False, watermark=False).tag_file(src, out)
    got = subprocess.run(
        ["exiftool", "-config", str(config), "-j", "-XMP-TC260:AIGC", str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "AIGC" in json.loads(got.stdout)[0], "exiftool did not read our label"


CHILD = """
import sys, time, statistics, resource
from aigc_tag import Tagger
data = open(sys.argv[1], 'rb').read()
runs = int(sys.argv[2])
tagger = Tagger('{producer}', watermark=sys.argv[3] == 'wm')
times = []
for _ in range(runs):
    t = time.perf_counter(); tagger.tag_bytes(data); times.append(time.perf_counter() - t)
print(statistics.median(times), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def bench_full(sizes: list[tuple[str, int, int]], runs: int, work: Path) -> list[str]:
    rows = [
        "| full tagging of one JPEG | layers | s/file (median) | files/s | peak RSS |",
        "|---|---|---|---|---|",
    ]
    for name, w, h in sizes:
        path = work / f"full-{name}.jpg"
        path.write_bytes(make_jpeg(w, h, 3))
        for mode, layers in (
            ("nowm", "caption + metadata"),
            ("wm", "caption + watermark + metadata"),
        ):
            code = CHILD.format(producer=PRODUCER)
            out = subprocess.run(
                [sys.executable, "-c", code, str(path), str(runs), mode],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
            secs, rss_kib = float(out[0]), int(out[1])
            rows.append(
                f"| {name} ({w}×{h}) | {layers} | {secs:.3f} | {1 / secs:.1f} | "
                f"{rss_kib / 1024:.0f} MiB |"
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not shutil.which("exiftool"):
        sys.exit("exiftool is needed for the anchor (apt-get install libimage-exiftool-perl)")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        print("\n".join(bench_metadata(args.files, args.rounds, work)))
        print()
        sizes = [("1 MP", 1155, 866), ("12 MP", 4000, 3000), ("48 MP", 8000, 6000)]
        print("\n".join(bench_full(sizes, args.runs, work)))
    print(f"\n(python {sys.version.split()[0]}, {resource.getpagesize()} B pages)")


if __name__ == "__main__":
    main()
