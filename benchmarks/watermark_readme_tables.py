"""Print the README's watermark tables from benchmarks/results/image_watermark.json.

Run ``python benchmarks/watermark_readme_tables.py`` after ``image_watermark.py``. Two tables,
because the slow anchors ran on a subset: all 16 images for aigc-tag and invisible-watermark's
DWT methods; the 9 images of at most 0.4 MP for rivaGan and blind-watermark, with aigc-tag's
records on the same 9 images beside them. Cells: TPR at FPR <= 1e-6 in % (exact 64/32-bit
payload in %); images a method refuses count as misses; for aigc-tag a second figure gives the
TPR over the images it accepts (it refuses, with a message, those it cannot mark robustly).
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "image_watermark.json"


def _rates(records: list[dict], images: set[str]) -> dict[str, tuple[int, int, int, int]]:
    """attack -> (detected, exact, total, accepted) over the marked images in ``images``."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for r in records:
        if not r["marked"] or r["image"] not in images:
            continue
        row = out[r["attack"]]
        row[0] += bool(r["detected"]) and not r["error"]
        row[1] += bool(r["exact"]) and not r["error"]
        row[2] += 1
        row[3] += not (r["error"] or "").startswith("embed failed")
    return {k: tuple(v) for k, v in out.items()}


def _cell(rate: tuple[int, int, int, int], ours: bool) -> str:
    det, exact, total, accepted = rate
    text = f"{100 * det / total:.0f} ({100 * exact / total:.0f})"
    if ours and accepted < total:
        text += f"; {100 * det / accepted:.0f} of {accepted} marked"
    return text


def table(data: dict, methods: list[str], images: set[str], title: str) -> str:
    rates = {m: _rates(data[m]["records"], images) for m in methods}
    attacks = data[methods[0]]["attacks"]
    lines = [f"| {title} | " + " | ".join(methods) + " |", "|---" * (len(methods) + 1) + "|"]
    for attack in attacks:
        cells = [_cell(rates[m][attack], m == "aigc-tag") for m in methods if attack in rates[m]]
        lines.append(f"| {attack} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    data = json.loads(RESULTS.read_text())["robustness_full"]
    every = {i["name"] for i in data["aigc-tag"]["images"]}
    small = {i["name"] for i in data["rivaGan/32"]["images"]}
    print(table(data, ["aigc-tag", "dwtDct/64", "dwtDctSvd/64"], every, "attack (16 images)"))
    print()
    print(table(data, ["aigc-tag", "rivaGan/32", "blind/64"], small, "attack (9 images ≤ 0.4 MP)"))
    print()
    print("| method | images | PSNR mean / min | SSIM | embed CPU ms/MP | detect CPU ms/MP |")
    print("|---|---|---|---|---|---|")
    for name, entry in data.items():
        q = entry["quality"]
        print(
            f"| {name} | {len(entry['images'])} | {q['psnr_mean']:.1f} / {q['psnr_min']:.1f} | "
            f"{q['ssim_mean']:.3f} | {q['embed_ms_per_mp']:.0f} | {q['detect_ms_per_mp_all']:.0f} |"
        )


if __name__ == "__main__":
    main()
