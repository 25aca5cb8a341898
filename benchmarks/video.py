"""Video tagging speed and watermark robustness, run by hand: ``python benchmarks/video.py``.

1. Speed. A 1080p30, 60 s H.264 clip with an AAC soundtrack is made with ffmpeg lavfi in a
   private temporary directory (deleted afterwards). In the same round, each timed R times
   (medians): the anchor, a plain ``ffmpeg -i in -c:v libx264 -crf 18 -c:a copy out``; aigc-tag
   metadata-only (when the MP4 carrier exists: a stream copy); caption only; full tagging
   (caption + frame watermark + soundtrack watermark). aigc-tag rows include the tagger's own
   read-back (caption on the opening frames, watermark on the first 10 s), as Tagger does.
2. Robustness. C tagged 1080p clips of 6 s from different lavfi sources; each attacked by
   H.264 CRF 28, scaling to 720p (and re-encoding at CRF 23), and a 5 s trim (``-ss 0.5 -t 5``,
   re-encoded); survival = the exact payload is decoded at p <= 1e-6.
3. False detections: U untagged 640x360 clips of 3 s from varied lavfi sources and seeds.

Prints Markdown tables and writes benchmarks/results/video.json. The machine is shared: the
anchor runs in the same round as us.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aigc_tag import video  # noqa: E402
from aigc_tag.errors import AigcTagError  # noqa: E402
from aigc_tag.label import AIGCLabel  # noqa: E402
from aigc_tag.watermark.payload import Payload  # noqa: E402

PRODUCER = "001191110108MA01ABCDEN10001"

SOURCES = [
    "testsrc2=size={s}:rate=25",
    "mandelbrot=size={s}:rate=25",
    "life=size={s}:rate=25:mold=10:ratio=0.3:seed={seed}:death_color=#203040:life_color=#c0d080",
    "cellauto=size={s}:rate=25:rule={rule}:seed={seed}",
    "gradients=size={s}:rate=25:seed={seed}:speed=0.02",
    "smptehdbars=size={s}:rate=25,noise=alls=12:allf=t",
    "testsrc=size={s}:rate=25",
    "rgbtestsrc=size={s}:rate=25,noise=alls=20:allf=t",
]


def ff(*args: str, timeout: float = 1800) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True, timeout=timeout)


def source(i: int, size: str) -> str:
    return SOURCES[i % len(SOURCES)].format(s=size, seed=1000 + i, rule=[30, 90, 110, 150][i % 4])


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def tag(src: Path, dst: Path, *, visible: bool, watermark: bool, produce_id: str) -> dict:
    """What Tagger does for a video, minus the carrier when it does not exist yet."""
    label = AIGCLabel.for_producer(PRODUCER, produce_id)
    plan = video.VideoLayers(visible=visible, watermark=watermark, metadata=False, text="AI生成",
                             position="bottom-right")  # fmt: skip
    out = video.render(src.read_bytes(), "mp4", label, plan)
    carrier = _carrier(out)
    if carrier is not None:
        out = carrier.write_label(out, label.to_json(), {"Caption": plan.declaration or ""})
    dst.write_bytes(out)
    if plan.declaration:
        assert video.caption_evidence(str(dst), plan.declaration)["evidence"].found
    if plan.payload is not None:
        found = video.detect_watermark(str(dst), None, max_seconds=video.SELF_CHECK_SECONDS)
        assert found.detected
    return {"quality": plan.quality, "warnings": plan.warnings, "audio_marked": plan.audio_marked}


def _carrier(data: bytes):  # noqa: ANN202
    from aigc_tag.carriers import sniff

    try:
        carrier = sniff(data[:64])
    except AigcTagError:
        return None
    return carrier if carrier.media_type == "video" else None


def speed(tmp: Path, runs: int, seconds: int) -> dict:
    src = tmp / "bench1080.mp4"
    ff("-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate=30:duration={seconds}",
       "-f", "lavfi", "-i", f"anoisesrc=color=pink:amplitude=0.2:duration={seconds}",
       "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
       "-c:a", "aac", "-b:a", "128k", "-shortest", str(src))  # fmt: skip
    rows: dict[str, list[float]] = {"plain": [], "caption": [], "full": [], "metadata": []}
    info: dict = {}
    carrier = _carrier(src.read_bytes())
    for r in range(runs):
        rows["plain"].append(timed(lambda: ff(
            "-i", str(src), "-c:v", "libx264", "-crf", "18", "-c:a", "copy",
            str(tmp / "plain.mp4"))))  # fmt: skip
        rows["caption"].append(timed(lambda r=r: info.update(caption=tag(
            src, tmp / "cap.mp4", visible=True, watermark=False, produce_id=f"c{r}"))))
        rows["full"].append(timed(lambda r=r: info.update(full=tag(
            src, tmp / "full.mp4", visible=True, watermark=True, produce_id=f"f{r}"))))
        if carrier is not None:
            label = AIGCLabel.for_producer(PRODUCER, f"m{r}").to_json()
            rows["metadata"].append(timed(lambda label=label: carrier.write_label(
                src.read_bytes(), label, {})))
        print(f"  round {r + 1}: " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in rows.items()
                                               if v), flush=True)  # fmt: skip
    med = {k: statistics.median(v) for k, v in rows.items() if v}
    return {"seconds": seconds, "runs": runs, "median_s": med, "all_s": rows,
            "size_in": src.stat().st_size, "details": info}  # fmt: skip


ATTACKS = {
    "h264_crf28": ["-c:v", "libx264", "-crf", "28"],
    "scale_720p": ["-vf", "scale=-2:720", "-c:v", "libx264", "-crf", "23"],
    "trim_5s": None,
}


def robustness(tmp: Path, clips: int, first: int = 0, keep: list | None = None) -> dict:
    results = list(keep or [])
    for i in range(first, first + clips):
        src = tmp / f"r{i}.mp4"
        ff("-f", "lavfi", "-i", source(i, "1920x1080"), "-t", "6", "-c:v", "libx264",
           "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", str(src))  # fmt: skip
        out = tmp / f"r{i}-tagged.mp4"
        label = AIGCLabel.for_producer(PRODUCER, f"robust-{i}")
        plan = video.VideoLayers(visible=True, watermark=True, metadata=False, text="AI生成",
                                 position="bottom-right")  # fmt: skip
        out.write_bytes(video.render(src.read_bytes(), "mp4", label, plan))
        want = Payload.for_label(PRODUCER, f"robust-{i}").hex()
        row = {"source": source(i, "1920x1080"), "psnr_db": plan.quality.get("psnr_db"),
               "ssim": plan.quality.get("ssim")}  # fmt: skip
        for name, args in {"none": [], **ATTACKS}.items():
            attacked = tmp / f"r{i}-{name}.mp4"
            if name == "none":
                attacked = out
            elif args is None:
                ff("-ss", "0.5", "-i", str(out), "-t", "5", "-c:v", "libx264", "-crf", "23",
                   str(attacked))  # fmt: skip
            else:
                ff("-i", str(out), *args, str(attacked))
            found = video.detect_watermark(str(attacked), None)
            bits = found.payload_bits
            got = Payload.from_bits(bits).hex() if bits is not None else None
            row[name] = {"ok": got == want, "z": round(found.detection.score, 2),
                         "ranges": found.ranges}  # fmt: skip
        print(f"  clip {i}: " + " ".join(f"{k}={'ok' if v['ok'] else 'FAIL'}({v['z']})"
                                         for k, v in row.items() if isinstance(v, dict)),
              flush=True)  # fmt: skip
        results.append(row)
    return {"clips": results}


def false_positives(tmp: Path, count: int) -> dict:
    hits, scores = 0, []
    for i in range(count):
        clip = tmp / f"u{i}.mp4"
        ff("-f", "lavfi", "-i", source(i, "640x360"), "-t", "3", "-c:v", "libx264",
           "-preset", "veryfast", "-crf", str(18 + 3 * (i % 4)), str(clip))  # fmt: skip
        found = video.detect_watermark(str(clip), None)
        hits += bool(found.detected)
        scores.append(round(found.detection.score, 2))
        clip.unlink()
    return {"clips": count, "false_detections": hits, "max_z": max(scores), "z": scores}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--clips", type=int, default=8)
    ap.add_argument("--first", type=int, default=0, help="first robustness source index")
    ap.add_argument("--untagged", type=int, default=50)
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--skip-robustness", action="store_true")
    ap.add_argument("--merge", action="store_true", help="keep the other parts of the JSON")
    args = ap.parse_args()
    path = ROOT / "benchmarks" / "results" / "video.json"
    out: dict = json.loads(path.read_text()) if args.merge and path.exists() else {}
    with tempfile.TemporaryDirectory(prefix="aigc-video-bench-") as tmp:
        t = Path(tmp)
        if not args.skip_speed:
            print("speed:", flush=True)
            out["speed"] = speed(t, args.runs, args.seconds)
        if not args.skip_robustness:
            print("robustness:", flush=True)
            keep = out.get("robustness", {}).get("clips", []) if args.first else []
            out["robustness"] = robustness(t, args.clips, args.first, keep)
            print("untagged:", flush=True)
            out["untagged"] = false_positives(t, args.untagged)
    path.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
    report(out)


def report(out: dict) -> None:
    if "speed" in out:
        s = out["speed"]
        med = s["median_s"]
        plain = med["plain"]
        print(f"\n### Tagging a 1080p30 H.264 clip of {s['seconds']} s "
              f"(median of {s['runs']}, same round)\n")  # fmt: skip
        print("| what | seconds | × plain re-encode |")
        print("| --- | ---: | ---: |")
        names = {"plain": "ffmpeg -c:v libx264 -crf 18 -c:a copy (anchor)",
                 "metadata": "aigc-tag metadata only (stream copy)",
                 "caption": "aigc-tag caption only (+ read-back)",
                 "full": "aigc-tag caption + frame & soundtrack watermark (+ read-back)"}
        for key in ("plain", "metadata", "caption", "full"):
            if key in med:
                print(f"| {names[key]} | {med[key]:.1f} | {med[key] / plain:.2f} |")
        if "metadata" not in med:
            print("| aigc-tag metadata only | n/a: no MP4 carrier in this tree yet | |")
        q = s["details"].get("full", {}).get("quality", {})
        if q:
            print(f"\nCaption-free region, full tagging: PSNR {q.get('psnr_db'):.2f} dB, SSIM "
                  f"{q.get('ssim'):.4f}; size {q.get('size_change', 0) * 100:+.1f} %.")
    if "robustness" not in out:
        return
    rows = out["robustness"]["clips"]
    print(f"\n### Watermark survival over {len(rows)} tagged 1080p clips (6 s)\n")
    print("| attack | survived | min z |")
    print("| --- | ---: | ---: |")
    for name in ("none", *ATTACKS):
        ok = sum(r[name]["ok"] for r in rows)
        print(f"| {name} | {ok}/{len(rows)} ({100 * ok / len(rows):.0f} %) | "
              f"{min(r[name]['z'] for r in rows):.1f} |")
    psnr = [r["psnr_db"] for r in rows if r["psnr_db"]]
    if psnr:
        print(f"\nPSNR of the caption-free region after tagging: {min(psnr):.1f}–"
              f"{max(psnr):.1f} dB")
    u = out["untagged"]
    print(f"\nUntagged clips: {u['false_detections']} false detections in {u['clips']} "
          f"(max pilot z {u['max_z']}).")


if __name__ == "__main__":
    main()
