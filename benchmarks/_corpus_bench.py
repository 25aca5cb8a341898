"""The issue-15 corpus run of the image watermark benchmark (``image_watermark.py --corpus``).

Corpus: ``benchmarks/_image_corpus.py`` (built into ``build/image_corpus`` when absent); the
composition is printed with every table. At most ``--max-large`` images above 3 MP are kept
(evenly spaced), so a run stays within minutes on one shared core.

Per image: aigc-tag embeds (``embed_with_info``: the strength ladder 42 -> 38 dB), PSNR and SSIM
(Gaussian 11x11 sigma 1.5 SSIM per channel, averaged) against the original, then ``--per-image``
attacks of ``_attacks.ISSUE_ATTACKS`` plus "none", assigned round-robin (image i gets attacks
i*K .. i*K+K-1 modulo the suite), so every attack meets every kind and size. Each attacked image
is decoded blind; "exact" = detected (p <= 1e-6 and a valid CRC) with all 64 bits right;
"wrong" = detected with other bits (must be 0). The unmarked original, under the same attack,
is decoded too (a false detection must never happen;
the ``--corpus-unmarked`` sweep does many more). Every ``--anchor-every``-th image also
runs invisible-watermark's dwtDct and dwtDctSvd (64 bits, library defaults, BGR input) on the
same attacked pixels: exact = all 64 bits right, detected = at least 51/64 bits right (the
binomial rule at FPR 1e-6). imwatermark refuses images under 256 px: counted as misses.

``--corpus-unmarked N``: aigc-tag's detector on N unmarked images: the corpus originals, random
crops/rescales/attacks of them, and corpus images marked by dwtDct / dwtDctSvd (other schemes'
marks must not read as ours). Reports detections and wrong payloads (goal 0 and 0).
"""

from __future__ import annotations

import json
import math
import time
import zlib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import _attacks
import _image_corpus
import cv2
import numpy as np

from aigc_tag.watermark import image as engine
from aigc_tag.watermark.payload import Payload

PRODUCER = "001191110108MA01ABCDEN10001"
ANCHORS = ("dwtDct", "dwtDctSvd")
ANCHOR_THRESHOLD = 51  # smallest k with P(Binomial(64, 1/2) >= k) <= 1e-6
LARGE_MPIX = 3.0


def payload_bits(name: str) -> np.ndarray:
    return Payload.for_label(PRODUCER, f"corpus-{name}").to_bits()


def attack_rng(seed: int, image: str, attack: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(image.encode()), zlib.crc32(attack.encode())])


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM (Wang et al. 2004: Gaussian window sigma 1.5, K1 0.01, K2 0.03) over channels."""
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    vals = []
    for ch in range(a.shape[2]):
        x, y = a[..., ch].astype(np.float64), b[..., ch].astype(np.float64)

        def blur(img):
            return cv2.GaussianBlur(img, (11, 11), 1.5)

        mx, my = blur(x), blur(y)
        sxx, syy, sxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
        num = (2 * mx * my + c1) * (2 * sxy + c2)
        den = (mx * mx + my * my + c1) * (sxx + syy + c2)
        vals.append(float(np.mean(num / den)))
    return float(np.mean(vals))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b) ** 2))
    return 99.0 if mse == 0 else 10 * math.log10(255.0**2 / mse)


def select_images(images, max_large: int):
    large = [i for i, (_, _, rgb) in enumerate(images) if rgb.shape[0] * rgb.shape[1] > 3e6]
    keep_large = set(large[:: max(1, math.ceil(len(large) / max(max_large, 1)))][:max_large])
    return [im for i, im in enumerate(images) if i not in large or i in keep_large]


def assigned_attacks(index: int, per_image: int) -> list[_attacks.Attack]:
    suite = [a for a in _attacks.ISSUE_ATTACKS if a.name != "none"]
    picks = [suite[(index * per_image + j) % len(suite)] for j in range(per_image)]
    return [_attacks.ISSUE_ATTACKS[0], *picks]


class _Anchor:
    def __init__(self, method: str) -> None:
        import imwatermark

        self.lib, self.method = imwatermark, method

    def embed(self, rgb: np.ndarray, bits: np.ndarray) -> np.ndarray:
        enc = self.lib.WatermarkEncoder()
        enc.set_watermark("bits", [int(b) for b in bits])
        bgr = enc.encode(np.ascontiguousarray(rgb[..., ::-1]), self.method)
        return np.ascontiguousarray(np.clip(bgr, 0, 255).astype(np.uint8)[..., ::-1])

    def correct(self, rgb: np.ndarray, bits: np.ndarray) -> int:
        dec = self.lib.WatermarkDecoder("bits", 64)
        got = np.asarray(dec.decode(np.ascontiguousarray(rgb[..., ::-1]), self.method), np.uint8)
        return int((got == bits).sum()) if got.size == 64 else 32


def _ours(rgb: np.ndarray, bits: np.ndarray) -> dict:
    det = engine.detect(rgb)
    exact = bool(det.detected and np.array_equal(det.payload_bits, bits))
    return {"detected": bool(det.detected), "exact": exact, "z": round(float(det.score), 2),
            "wrong": bool(det.detected and not exact)}  # fmt: skip


def bench_image(task: tuple) -> dict:
    """Embed, measure quality, attack and decode one corpus image (run in a worker)."""
    index, file, kind, rgb, per_image, anchors, seed = task
    bits = payload_bits(file)
    out = {"file": file, "kind": kind, "size": [rgb.shape[1], rgb.shape[0]], "records": []}
    start = time.process_time()
    try:
        marked, info = engine.embed_with_info(rgb, bits)
    except engine.NotWatermarkable as exc:
        out["refused"] = str(exc)
        return out
    out["embed_ms_per_mp"] = (time.process_time() - start) * 1e3 / (rgb.size / 3e6)
    out["info"] = info.to_json()
    out["psnr"], out["ssim"] = psnr(rgb, marked), ssim(rgb, marked)
    others = {}
    if anchors and min(rgb.shape[:2]) >= 256:
        for name in ANCHORS:
            try:
                others[name] = (_Anchor(name), None)
                others[name] = (others[name][0], others[name][0].embed(rgb, bits))
            except Exception as exc:  # noqa: BLE001 - an anchor refusing is a result
                others[name] = (None, f"{type(exc).__name__}: {exc}"[:120])
    for attack in assigned_attacks(index, per_image):
        if min(rgb.shape[:2]) < attack.min_side:
            continue
        rec = {"attack": attack.name}
        start = time.process_time()
        try:
            attacked = attack.fn(marked, attack_rng(seed, file, attack.name))
            rec.update(_ours(attacked, bits))
            rec["detect_ms"] = round((time.process_time() - start) * 1e3, 1)
            if attack.name == "none":  # the --corpus-unmarked sweep does the rest
                unmarked = attack.fn(rgb, attack_rng(seed, file, attack.name))
                rec["unmarked_detected"] = bool(engine.detect(unmarked).detected)
        except Exception as exc:  # noqa: BLE001 - an attack failing is reported, not fatal
            rec["error"] = f"{type(exc).__name__}: {exc}"[:160]
        for name, (anchor, their) in others.items():
            if anchor is None or not isinstance(their, np.ndarray):
                rec[name] = {"exact": False, "detected": False, "error": their}
                continue
            try:
                k = anchor.correct(attack.fn(their, attack_rng(seed, file, attack.name)), bits)
            except Exception as exc:  # noqa: BLE001 - e.g. under 256 px after a rescale: a miss
                rec[name] = {"exact": False, "detected": False, "error": str(exc)[:120]}
                continue
            rec[name] = {"exact": k == 64, "detected": k >= ANCHOR_THRESHOLD}
        out["records"].append(rec)
    return out


def _tasks(images, per_image: int, anchor_every: int, seed: int):
    for i, (file, kind, rgb) in enumerate(images):
        yield (i, file, kind, rgb, per_image, anchor_every > 0 and i % anchor_every == 0, seed)


def run(args) -> dict:
    images = select_images(_image_corpus.load(), args.max_large)[:: args.stride]
    print(_image_corpus.composition(images), flush=True)
    results = []
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        tasks = _tasks(images, args.per_image, args.anchor_every, args.seed)
        for n, res in enumerate(pool.map(bench_image, tasks, chunksize=2), 1):
            results.append(res)
            if n % 25 == 0:  # partial results survive an interrupted run
                print(f"> {n}/{len(images)} images", flush=True)
                save(args.partial, "robustness-partial", _result(images[:n], results, args))
    return _result(images, results, args)


def _result(images, results, args) -> dict:
    return {"composition": _image_corpus.composition(images), "images": results,
            "per_image": args.per_image, "anchor_every": args.anchor_every}  # fmt: skip


# ------------------------------------------------------------------------------------ tables


def _pct(k: int, n: int) -> str:
    return "-" if n == 0 else f"{100 * k / n:.1f} %"


def coverage_table(res: dict) -> str:
    rows = {}
    for im in res["images"]:
        rows.setdefault(im["kind"], []).append(im)
    lines = ["| kind | images | marked | weak | refused | PSNR mean (min) | SSIM mean | "
             "ladder steps used (dB/flat cap) |", "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    every = [im for ims in rows.values() for im in ims]
    for kind, ims in sorted(rows.items()) + [("**all**", every)]:
        ok = [im for im in ims if "info" in im]
        weak = sum(im["info"]["weak"] for im in ok)
        ps, ss = [im["psnr"] for im in ok], [im["ssim"] for im in ok]
        steps = {}
        for im in ok:
            i = im["info"]
            key = f"{i['psnr_target']:g}/{i['flat_cap']:g}{'L' if i['lifted'] else ''}"
            steps[key] = steps.get(key, 0) + 1
        q = f"{np.mean(ps):.1f} ({min(ps):.1f})" if ps else "-"
        lines.append(f"| {kind} | {len(ims)} | {len(ok)} | {weak} | {len(ims) - len(ok)} | {q} | "
                     f"{np.mean(ss):.4f} | "
                     + ", ".join(f"{k}: {v}" for k, v in sorted(steps.items())) + " |")  # fmt: skip
    return "\n".join(lines)


def robustness_table(res: dict) -> str:
    cells = {}
    for im in res["images"]:
        for rec in im["records"]:
            cells.setdefault(rec["attack"], []).append((im["kind"], rec))
    lines = ["| attack | n | aigc-tag exact | wrong | unmarked detected | failing kinds | "
             "dwtDct exact (n) | dwtDctSvd exact (n) |", "|---|---|---|---|---|---|---|---|"]
    for attack in [a.name for a in _attacks.ISSUE_ATTACKS]:
        recs = cells.get(attack, [])
        ok = [r for _, r in recs if "error" not in r]
        exact = sum(r["exact"] for r in ok)
        fails = {}
        for kind, r in recs:
            if not r.get("exact"):
                fails[kind] = fails.get(kind, 0) + 1
        anchors = []
        for name in ANCHORS:
            arecs = [r[name] for _, r in recs if name in r]
            anchors.append(f"{_pct(sum(a['exact'] for a in arecs), len(arecs))} ({len(arecs)})")
        lines.append(
            f"| {attack} | {len(recs)} | {_pct(exact, len(recs))} | "
            f"{sum(r['wrong'] for r in ok)} | "
            f"{sum(r.get('unmarked_detected', False) for r in ok)} | "
            + ", ".join(f"{k} {v}" for k, v in sorted(fails.items(), key=lambda kv: -kv[1]))
            + f" | {anchors[0]} | {anchors[1]} |"
        )
    return "\n".join(lines)


def summary_lines(res: dict) -> str:
    ims = [im for im in res["images"] if "info" in im]
    ms = [im["embed_ms_per_mp"] for im in ims]
    det = [r["detect_ms"] for im in ims for r in im["records"] if "detect_ms" in r]
    recs = [r for im in ims for r in im["records"] if "error" not in r]
    return (f"images {len(res['images'])}, marked {len(ims)}; attacked decodes {len(recs)}; "
            f"wrong payloads {sum(r['wrong'] for r in recs)}; unmarked detections "
            f"{sum(r.get('unmarked_detected', False) for r in recs)} of "
            f"{sum('unmarked_detected' in r for r in recs)}; "
            f"embed CPU mean {np.mean(ms):.0f} ms/MP; "
            f"detect CPU mean {np.mean(det):.0f} ms per image")  # fmt: skip


def print_corpus(res: dict) -> None:
    print("\n" + res["composition"] + "\n")
    print(f"### Coverage and quality ({res['per_image']} attacks per image)\n")
    print(coverage_table(res) + "\n")
    print("### Robustness per attack (exact 64-bit payload, FPR <= 1e-6 with a valid CRC)\n")
    print(res["composition"] + "\n")
    print(robustness_table(res) + "\n")
    print(summary_lines(res))


# ---------------------------------------------------------------------- false-positive sweep


def _unmarked_variant(task: tuple) -> list[dict]:
    """Detection on several unmarked variants of one corpus image (run in a worker)."""
    file, kind, rgb, count, seed = task
    rng = np.random.default_rng([seed, zlib.crc32(file.encode())])
    suite = [a for a in _attacks.ISSUE_ATTACKS if a.name != "none"]
    rows = []
    for k in range(count):
        variant, label = rgb, "original"
        if k % 4 == 1 and min(rgb.shape[:2]) >= 256:
            name = ANCHORS[(k // 4) % 2]
            bits = rng.integers(0, 2, 64).astype(np.uint8)
            variant, label = _Anchor(name).embed(rgb, bits), f"marked by {name}"
        if k:
            attack = suite[int(rng.integers(len(suite)))]
            variant = attack.fn(variant, rng)
            label += f" + {attack.name}"
        det = engine.detect(variant)
        rows.append({"file": file, "kind": kind, "variant": label,
                     "detected": bool(det.detected), "z": float(det.score),
                     "p": float(det.p_value),
                     "crc_ok": bool(det.geometry.get("crc_ok", False))})  # fmt: skip
    return rows


def run_unmarked(n: int, jobs: int, seed: int, max_large: int) -> dict:
    images = select_images(_image_corpus.load(), max_large)
    per = max(1, math.ceil(n / len(images)))
    tasks = [(f, k, rgb, per, seed) for f, k, rgb in images]
    rows = []
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for part in pool.map(_unmarked_variant, tasks, chunksize=2):
            rows += part
    return {"composition": _image_corpus.composition(images), "rows": rows[: max(n, len(rows))]}


def print_unmarked(res: dict) -> None:
    rows = res["rows"]
    print("\n" + res["composition"] + "\n")
    print(f"### aigc-tag on {len(rows)} unmarked images (corpus variants, other schemes' marks)\n")
    print("| variant family | n | detected | CRC valid | max z | min p |")
    print("|---|---|---|---|---|---|")
    fams = {}
    for r in rows:
        fam = r["variant"].split(" + ")[0] + (" + attack" if " + " in r["variant"] else "")
        fams.setdefault(fam, []).append(r)
    for fam, rs in sorted(fams.items()) + [("**all**", rows)]:
        print(f"| {fam} | {len(rs)} | {sum(r['detected'] for r in rs)} | "
              f"{sum(r['crc_ok'] for r in rs)} | {max(r['z'] for r in rs):.2f} | "
              f"{min(r['p'] for r in rs):.2g} |")  # fmt: skip


def save(path: Path, section: str, data: dict) -> None:
    old = json.loads(path.read_text()) if path.is_file() else {}
    old[section] = data
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(old, indent=1, default=str))
