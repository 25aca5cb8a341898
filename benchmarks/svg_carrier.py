"""SVG carrier cost: sniff, read, write and verify on SVGs from 1 KB to 20 MB; with ``--render``,
the ``<text>`` caption as a browser draws it.

    nice python benchmarks/svg_carrier.py [--fixtures DIR] [--repeat 3] [--render]

The corpus is generated here (a drawing of N ``<path>`` elements with a doctype, a comment, a
CDATA style and an Inkscape-style ``<metadata>``), plus every ``*.svg`` in ``--fixtures`` (default
``$AIGC_TAG_C2PA_FIXTURES``, e.g. c2pa-rs's sample1..5.svg extracted by tools/c2pa_fixtures.py).
Each step is timed on the unlabelled file (write) or the labelled one (read, verify without
C2PA); the table gives the median of ``--repeat`` runs in milliseconds and the bytes added.

``--render``: captions (4 texts x 4 positions x 3 canvases: 4:3, 1:4 portrait, 16:9; the Latin-only
"AI-generated" checks the 0.70 em bound and is no GB 45438 wording by itself) are added
by :meth:`SvgCarrier.add_caption`, rendered by headless Chromium with the shortest side at 480 px,
read back by the project's OCR (visible/ocr.py: found, and where), and measured on the pixels: the
ink height of the tallest glyph (largest white connected component in the caption box) over the
shortest side, against the 5 % rule and the lower bound aigc-tag declared.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from aigc_tag.carriers import sniff_content
from aigc_tag.carriers.svg import CARRIER
from aigc_tag.label import AIGCLabel
from aigc_tag.verify import verify_bytes

PRODUCER = "001191110108MA01ABCDEN10001"
HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    "<!DOCTYPE svg PUBLIC '-//W3C//DTD SVG 1.1//EN' "
    "'http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd'>\n"
    "<!-- generated for benchmarks/svg_carrier.py -->\n"
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
    ' xmlns:dc="http://purl.org/dc/elements/1.1/" viewBox="0 0 1000 1000">\n'
    '  <metadata><rdf:RDF><rdf:Description rdf:about=""><dc:title>bench</dc:title>'
    "</rdf:Description></rdf:RDF></metadata>\n"
    "  <style><![CDATA[ path { stroke: #333 } ]]></style>\n"
)


def drawing(paths: int, seed: int = 0) -> bytes:
    """An SVG of ``paths`` random cubic paths (about 120 bytes each)."""
    rng = random.Random(seed)
    body = []
    for i in range(paths):
        pts = " ".join(f"{rng.uniform(0, 1000):.2f},{rng.uniform(0, 1000):.2f}" for _ in range(7))
        body.append(f'  <path id="p{i}" d="M{pts[:13]} C{pts}" fill="none"/>\n')
    return (HEAD + "".join(body) + "</svg>\n").encode()


def timed(fn: Callable[[], object], repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs) * 1000


def render(svg: bytes, size: tuple[int, int], browser: str) -> bytes:
    """A PNG screenshot of ``svg`` in a viewport of ``size`` pixels (headless Chromium)."""
    with tempfile.TemporaryDirectory() as tmp:
        src, png = Path(tmp) / "x.svg", Path(tmp) / "x.png"
        src.write_bytes(svg)
        window = f"--window-size={size[0]},{size[1]}"
        cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               f"--screenshot={png}", window, src.as_uri()]  # fmt: skip
        subprocess.run(cmd, capture_output=True, timeout=120, check=True)
        return png.read_bytes()


def ink_height(shot, box: list[float], inset: float, scale: float) -> int:
    """Height in pixels of the tallest connected white glyph inside the caption box, ``inset``
    user units in from its (rounded) edges: the ink height of the tallest glyph."""
    import cv2
    import numpy as np

    inner = (box[0] + inset, box[1] + inset, box[2] - inset, box[3] - inset)
    x0, y0, x1, y1 = (int(round(v * scale)) for v in inner)
    crop = np.asarray(shot.convert("L"))[max(y0, 0) : y1, max(x0, 0) : x1]
    count, _, stats, _ = cv2.connectedComponentsWithStats((crop >= 128).astype("uint8"))
    return int(max((stats[i, cv2.CC_STAT_HEIGHT] for i in range(1, count)), default=0))


def render_table() -> None:
    import io

    from PIL import Image

    from aigc_tag.visible.ocr import find_label

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise SystemExit("--render needs chromium on PATH")
    canvases = {"4:3": (640, 480), "1:4": (480, 1920), "16:9": (853, 480)}
    texts = ("AI生成", "本内容由人工智能生成", "AI生成 / AI-generated", "AI-generated")
    positions = ("bottom-right", "top-left", "top-right", "bottom-left")
    print(f"{'canvas':<6} {'text':<22} {'position':<13} {'OCR found':<9} {'OCR at':<13} "
          f"{'declared':>8} {'ink':>6} {'contrast':>8}")  # fmt: skip
    measured, found = [], 0
    for cname, (w, h) in canvases.items():
        base = drawing(40, seed=w)
        base = base.replace(b'viewBox="0 0 1000 1000"', f'viewBox="0 0 {w * 3} {h * 3}"'.encode())
        for text in texts:
            for pos in positions:
                svg, declared = CARRIER.add_caption(base, text, pos)
                shot = Image.open(io.BytesIO(render(svg, (w, h), browser))).convert("RGB")
                got = find_label(shot).to_json()
                found += bool(got.get("found"))
                inset = 0.2 * declared["font_size"]  # inside the box's 0.25 em padding
                ratio = ink_height(shot, declared["box"], inset, 1 / 3) / min(w, h)
                measured.append(ratio)
                print(f"{cname:<6} {text[:22]:<22} {pos:<13} {str(got.get('found')):<9} "
                      f"{str(got.get('position')):<13} {declared['ratio']:>8.3f} {ratio:>6.3f} "
                      f"{got.get('contrast') or float('nan'):>8.1f}")  # fmt: skip
    total = len(canvases) * len(texts) * len(positions)
    low, mid = min(measured), statistics.median(measured)
    print(f"OCR found {found}/{total}; rendered ink height of the tallest glyph: min {low:.3f}, "
          f"median {mid:.3f} of the shortest side")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fixtures", default=os.environ.get("AIGC_TAG_C2PA_FIXTURES"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--render", action="store_true", help="render captions and OCR them")
    args = parser.parse_args()
    if args.render:
        render_table()
        return
    corpus = [(f"generated {n} paths", drawing(n)) for n in (5, 1_000, 10_000, 130_000)]
    if args.fixtures:
        corpus += [(p.name, p.read_bytes()) for p in sorted(Path(args.fixtures).glob("*.svg"))]
    label = AIGCLabel.for_producer(PRODUCER, "bench").to_json()
    print(f"{'file':<24} {'bytes':>10} {'sniff ms':>9} {'write ms':>9} {'read ms':>8} "
          f"{'verify ms':>10} {'added B':>8}")  # fmt: skip
    for name, data in corpus:
        out = CARRIER.write_label(data, label)
        assert [f.parsed.fields["ProduceID"] for f in CARRIER.read_labels(out)] == ["bench"]
        sniff = timed(lambda d=data, n=name: sniff_content(d, name=n), args.repeat)
        write = timed(lambda d=data: CARRIER.write_label(d, label), args.repeat)
        read = timed(lambda o=out: CARRIER.read_labels(o), args.repeat)
        verify = timed(lambda o=out, n=name: verify_bytes(o, name=n, c2pa=False), args.repeat)
        print(f"{name[:24]:<24} {len(data):>10} {sniff:>9.2f} {write:>9.1f} {read:>8.1f} "
              f"{verify:>10.1f} {len(out) - len(data):>8}")  # fmt: skip


if __name__ == "__main__":
    main()
