"""Verification throughput, run by hand: ``python benchmarks/verify.py``.

A mixed folder is made in a private temporary directory (deleted afterwards): ``--images`` tagged
images (half JPEG, half PNG, 640x480), ``--audio`` tagged WAV clips (8 s, 16 kHz) and ``--videos``
tagged MP4 clips (3 s, 320x240, H.264), all with aigc-tag's default layers (caption or audible
cue, metadata label, watermark). To keep the set-up short, ``--distinct`` different images are
tagged and copied under new names up to ``--images`` (the verifier does not cache anything, so a
copy costs what an original costs). The "with C2PA" set is the same files signed with c2pa-python
directly (ES256 test certificate from ../shared/samples/thirdparty/test-certs, thumbnails off).

Timed, single process, one file after another (files/s over the whole folder; the modes run in
interleaved rounds so that they share the background load of a shared machine, and the median
pass of each mode is reported; the load average is printed with the table):

* ``c2pa Reader``: c2pa-python alone: read the bytes, ``Reader.try_create`` with the test trust
  anchors, ``json()``; the bare C2PA read the goal is measured against;
* ``verify --no-watermark``: aigc-tag's verify without the watermark search;
* ``verify (full)``: every layer, including the watermark search (images, audio, video).

Prints a Markdown table and writes benchmarks/results/verify.json.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aigc_tag import Tagger  # noqa: E402
from aigc_tag.verify import verify  # noqa: E402

PRODUCER = "001191110108MA01ABCDEN10001"
CERTS = ROOT.parent / "shared" / "samples" / "thirdparty" / "test-certs"
MIME = {".jpg": "image/jpeg", ".png": "image/png", ".wav": "audio/wav", ".mp4": "video/mp4"}


def _photo(i: int) -> bytes:
    from PIL import Image

    rng = np.random.default_rng(i)
    y, x = np.mgrid[0:480, 0:640]
    arr = np.stack([(x * (i + 1)) % 256, (y * 255 // 480 + i * 7) % 256, (x + y) % 256], -1)
    arr = np.clip(arr + rng.integers(-12, 12, arr.shape), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    fmt = "JPEG" if i % 2 == 0 else "PNG"
    Image.fromarray(arr).save(buf, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return buf.getvalue()


def _wav(i: int) -> bytes:
    import wave

    rate = 16000
    t = np.arange(rate * 8) / rate
    rng = np.random.default_rng(100 + i)
    sig = 0.3 * np.sin(2 * np.pi * (220 + 20 * i) * t) + 0.05 * rng.standard_normal(t.size)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((sig * 32767 * 0.8).astype("<i2").tobytes())
    return buf.getvalue()


def _mp4(i: int, dst: Path) -> None:
    src = ["testsrc2", "mandelbrot", "smptehdbars", "rgbtestsrc", "testsrc"][i % 5]
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"{src}=size=320x240:rate=25",
         "-f", "lavfi", "-i", f"sine=frequency={300 + 40 * i}:sample_rate=44100", "-t", "3",
         "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(dst)],
        check=True, timeout=300,
    )  # fmt: skip


def make_folder(folder: Path, images: int, distinct: int, audio: int, videos: int) -> list[Path]:
    tagger = Tagger(producer=PRODUCER)
    files: list[Path] = []
    bases = []
    for i in range(min(distinct, images)):
        out, _ = tagger.tag_bytes(_photo(i), produce_id=f"img-{i}")
        bases.append((out, ".jpg" if i % 2 == 0 else ".png"))
    for i in range(images):
        data, ext = bases[i % len(bases)]
        path = folder / f"img{i:04d}{ext}"
        path.write_bytes(data)
        files.append(path)
    for i in range(audio):
        out, _ = tagger.tag_bytes(_wav(i), produce_id=f"wav-{i}")
        path = folder / f"clip{i:03d}.wav"
        path.write_bytes(out)
        files.append(path)
    for i in range(videos):
        raw = folder / f"raw{i:03d}.mp4"
        _mp4(i, raw)
        path = folder / f"video{i:03d}.mp4"
        tagger.tag_file(raw, path, produce_id=f"vid-{i}")
        raw.unlink()
        files.append(path)
    return files


def sign_folder(files: list[Path], folder: Path) -> list[Path]:
    """The same files signed by c2pa-python directly (c2pa.created + trainedAlgorithmicMedia)."""
    import c2pa

    cert = (CERTS / "es256_certs.pem").read_bytes()
    key = (CERTS / "es256_private.key").read_bytes()
    info = c2pa.C2paSignerInfo(b"es256", cert, key, None)
    manifest = {
        "claim_generator_info": [{"name": "aigc-tag-benchmark", "version": "0"}],
        "assertions": [{"label": "c2pa.actions", "data": {"actions": [{
            "action": "c2pa.created",
            "digitalSourceType":
                "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
        }]}}],
    }  # fmt: skip
    settings = {"builder": {"thumbnail": {"enabled": False}}}
    out = []
    with c2pa.Signer.from_info(info) as signer, c2pa.Context.from_dict(settings) as ctx:
        for src in files:
            dst = folder / src.name
            with c2pa.Builder(manifest, context=ctx) as builder:
                with open(src, "rb") as fin, open(dst, "w+b") as fout:
                    builder.sign(signer, MIME[src.suffix], fin, fout)
            out.append(dst)
    return out


def read_c2pa(files: list[Path], anchors: str) -> None:
    import c2pa

    ctx_settings = {"verify": {"remote_manifest_fetch": False}, "trust": {"user_anchors": anchors}}
    for path in files:
        data = path.read_bytes()
        with c2pa.Context.from_dict(ctx_settings) as ctx:
            try:
                reader = c2pa.Reader.try_create(MIME[path.suffix], io.BytesIO(data), context=ctx)
            except c2pa.C2paError:
                continue
            if reader is not None:
                with reader:
                    json.loads(reader.json())


def verify_all(files: list[Path], anchors: str, watermark: bool) -> list[str]:
    return [verify(p, trust_anchors_pem=anchors, watermark=watermark).verdict.value for p in files]


def _seconds(fn) -> float:  # noqa: ANN001
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=500)
    ap.add_argument("--distinct", type=int, default=50)
    ap.add_argument("--audio", type=int, default=20)
    ap.add_argument("--videos", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3, help="passes of the cheap modes")
    ap.add_argument("--full-repeats", type=int, default=2, help="passes of the full verify")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "verify.json")
    args = ap.parse_args()
    anchors = (CERTS / "c2pa_test_root_bundle.pem").read_text()
    tmp = Path(tempfile.mkdtemp(prefix="aigc-verify-bench-"))
    rows = []
    try:
        plain_dir, signed_dir = tmp / "plain", tmp / "signed"
        plain_dir.mkdir()
        signed_dir.mkdir()
        t = time.perf_counter()
        plain = make_folder(plain_dir, args.images, args.distinct, args.audio, args.videos)
        signed = sign_folder(plain, signed_dir)
        print(f"set-up: {len(plain)} files tagged and signed in {time.perf_counter() - t:.0f} s",
              file=sys.stderr)  # fmt: skip
        verdicts: dict[str, list[str]] = {}
        sets = (("without C2PA", plain), ("with C2PA", signed))
        modes = ("c2pa Reader alone", "verify --no-watermark", "verify (full)")
        times: dict[tuple[str, str], list[float]] = {(s, m): [] for s, _ in sets for m in modes}
        # Interleaved rounds: on a shared machine every mode sees the same background load.
        for round_no in range(max(args.repeats, args.full_repeats)):
            for name, files in sets:
                if round_no < args.repeats:
                    times[name, modes[0]].append(_seconds(lambda f=files: read_c2pa(f, anchors)))
                    times[name, modes[1]].append(
                        _seconds(lambda f=files: verify_all(f, anchors, False))
                    )
                if round_no < args.full_repeats:

                    def run_full(f: list[Path] = files, k: str = name) -> None:
                        verdicts[k] = verify_all(f, anchors, True)

                    times[name, modes[2]].append(_seconds(run_full))
        for name, files in sets:
            base = statistics.median(times[name, modes[0]])
            for mode in modes:
                secs = statistics.median(times[name, mode])
                rows.append({"set": name, "mode": mode, "files": len(files),
                             "seconds": round(secs, 2), "files_per_s": round(len(files) / secs, 1),
                             "ratio_to_reader": round(secs / base, 1),
                             "runs": [round(t, 2) for t in times[name, mode]]})  # fmt: skip
        counts = {k: {v: vs.count(v) for v in sorted(set(vs))} for k, vs in verdicts.items()}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result = {
        "images": args.images,
        "distinct_images": args.distinct,
        "audio": args.audio,
        "videos": args.videos,
        "repeats": args.repeats,
        "full_repeats": args.full_repeats,
        "verdicts_full": counts,
        "load": [round(x, 1) for x in os.getloadavg()],
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"\nMixed folder: {args.images} images ({args.distinct} distinct), {args.audio} WAV, "
          f"{args.videos} MP4; single process; median of {args.repeats} passes "
          f"({args.full_repeats} for the full verify).\n")  # fmt: skip
    print("| set | mode | files | s | files/s | × Reader time |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['set']} | {r['mode']} | {r['files']} | {r['seconds']} | {r['files_per_s']} "
              f"| {r['ratio_to_reader']} |")  # fmt: skip
    print(f"\nverdicts (full verify): {counts}; load average at the end: {result['load']}")


if __name__ == "__main__":
    main()
