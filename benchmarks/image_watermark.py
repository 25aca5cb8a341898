"""Invisible image watermark benchmark: aigc-tag against the anchors that run offline from PyPI.

Run by hand (prints Markdown tables, writes ``benchmarks/results/image_watermark.json``)::

    python benchmarks/image_watermark.py              # full robustness run (long: use nohup)
    python benchmarks/image_watermark.py --quick      # 3 photos, 8 attacks, a few minutes
    python benchmarks/image_watermark.py --unmarked   # false-positive sweep (10000, --quick: 300)
    python benchmarks/image_watermark.py --methods aigc-tag dwtDctSvd/64 -j 2

Images: the six scikit-image colour photos (astronaut, coffee, chelsea, rocket, motorcycle left,
astronaut upsampled to 1024x1024), the JPEG/PNG/WebP/GIF/TIFF files of
``../shared/samples/thirdparty/unsigned`` (first frame, RGB), and three synthetic generator-sized
squares (512, 1024, 2048 px: smooth gradients and flat shapes plus band-limited texture).

Methods: ``aigc-tag`` (64-bit ``Payload.for_label`` bits, its own detector), and the anchors
``dwtDct``, ``dwtDctSvd`` (invisible-watermark; 64 and 32 bits), ``rivaGan`` (32 bits, its ONNX
weights ship in the wheel) and ``blind`` (blind-watermark; 64 and 32 bits), all at library
defaults and called through their documented APIs (imwatermark gets BGR and the bit count,
blind-watermark the watermark length). Every method gets the same images, bits (the 32-bit
variants carry the last 32 of the 64) and attacked pixels. An anchor that is not installed is
skipped with a message.

Attacks (``benchmarks/_attacks.py``, decoding is blind: no original, no attack parameters): none;
JPEG q50, q40; WebP q75; downscale 0.5 kept (short side >= 512 only); rescale kept 0.6, 0.8, 1.25,
1.5 and one random factor in [0.6, 1.5] per image; crop keeping 75 % of the area at the centre and
at the top-left corner; rotation +-2 degrees (same size, black corners); brightness and contrast
+-20 %; Gaussian noise sigma 5; Gaussian blur sigma 1; grayscale (back to 3 channels); screenshot
(bilinear rescale 0.6-1.5 + PNG); JPEG 40 + crop 71 % area + brightness 0.5 (Meta's combined).

Metrics per method x attack: mean bit accuracy, exact-payload rate, and TPR at FPR <= 1e-6. The
anchors have no detector: they "detect" when the matching bits reach the smallest k with
P(Binomial(n, 1/2) >= k) <= 1e-6 (51/64, 30/32). aigc-tag detects by its own ``detected`` (FPR
<= 1e-6 and a valid CRC); when it returns no bits, its bit accuracy counts as 0.5. Errors (e.g.
imwatermark refuses images under 256x256 px) count as misses and are left out of the bit accuracy.
Every run also decodes the unmarked images and their attacked versions and reports the false-
detection rate. Quality: PSNR mean / min and SSIM mean (skimage.metrics). Cost: CPU time
(``time.process_time``, all threads of the process) per megapixel, summed over images; BLAS/OpenMP,
OpenCV and torch are held to one thread and rivaGan's onnxruntime sessions are created with one
intra-op and one inter-op thread, so every number is one core's work. ``-j N`` runs N methods in
parallel processes (CPU times stay per process; the machine is shared, so read them as +-20 %).

``--unmarked [N]`` runs only aigc-tag's detector over N unmarked images: random crops and rescales
of the photos, flat colours, uniform and Gaussian noise, gradients, rendered text on plain
backgrounds and checkerboards. It reports detections (goal 0), max score and min p-value per kind.

``--fake-engine`` swaps aigc-tag for a naive tiled spread-spectrum stand-in defined here, to test
the plumbing while the real engine (``aigc_tag.watermark.image``) is being written.
"""

# ruff: noqa: E402 - the thread limits must be in the environment before numpy is imported
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse
import contextlib
import json
import math
import multiprocessing
import platform
import sys
import tempfile
import time
import zlib
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

import _attacks

from aigc_tag.watermark.payload import Payload

cv2.setNumThreads(1)

REPO = Path(__file__).resolve().parents[1]
THIRDPARTY = REPO.parent / "shared/samples/thirdparty/unsigned"
RESULTS = REPO / "benchmarks/results/image_watermark.json"
THIRDPARTY_EXT = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".tif", ".tiff"}
PRODUCER = "001191110108MA01ABCDEN10001"
FAKE_JSON = "image_watermark_fake.json"
FPR = 1e-6
QUICK_PHOTOS = ("astronaut", "coffee", "chelsea")
QUICK_METHODS = ("aigc-tag", "dwtDct/64", "dwtDctSvd/64", "rivaGan/32", "blind/64")


# --------------------------------------------------------------------------------------- images


def _photo_loaders() -> dict:
    from skimage import data

    def upsampled() -> np.ndarray:
        img = Image.fromarray(data.astronaut()).resize((1024, 1024), Image.Resampling.BICUBIC)
        return np.asarray(img)

    return {
        "astronaut": data.astronaut,
        "coffee": data.coffee,
        "chelsea": data.chelsea,
        "rocket": data.rocket,
        "motorcycle": lambda: data.stereo_motorcycle()[0],
        "astronaut-1024": upsampled,
    }


def photos(names: tuple[str, ...] | None = None) -> list[tuple[str, np.ndarray]]:
    loaders = _photo_loaders()
    chosen = names or tuple(loaders)
    return [(n, np.ascontiguousarray(loaders[n]()[..., :3], dtype=np.uint8)) for n in chosen]


def thirdparty_images() -> list[tuple[str, np.ndarray]]:
    if not THIRDPARTY.is_dir():
        print(f"> note: {THIRDPARTY} is absent: third-party images skipped", file=sys.stderr)
        return []
    out = []
    for path in sorted(THIRDPARTY.iterdir()):
        if path.suffix.lower() not in THIRDPARTY_EXT:
            continue
        try:
            with Image.open(path) as img:
                img.seek(0)
                if img.mode == "P" and "transparency" in img.info:
                    img = img.convert("RGBA")  # Pillow warns when P+transparency goes to RGB
                out.append((f"tp:{path.name}", np.asarray(img.convert("RGB")).copy()))
        except (OSError, ValueError) as exc:
            print(f"> note: {path.name} not opened by Pillow ({exc}); skipped", file=sys.stderr)
    return out


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    noise = cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (0, 0), sigma)
    return noise / (noise.std() + 1e-9)


def synthetic(size: int) -> np.ndarray:
    """Generator-like content: colour gradients, flat discs, a textured band and fine texture."""
    rng = np.random.default_rng(size)
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    img = (
        np.stack([110 + 80 * x, 90 + 70 * np.sin(3 * y + 1), 150 - 60 * (x * y)], axis=-1)
        + 25 * _smooth_noise(rng, (size, size), size / 16)[..., None]
    )
    for _ in range(6):  # flat shapes, as in illustrations and renders
        cy, cx, r = rng.uniform(0.1, 0.9), rng.uniform(0.1, 0.9), rng.uniform(0.04, 0.15)
        disc = (y - cy) ** 2 + (x - cx) ** 2 < r**2
        img[disc] = rng.uniform(20, 235, 3)
    band = (x > 0.55) & (x < 0.95) & (y > 0.5)  # grass/fabric-like texture
    texture = 35 * _smooth_noise(rng, (size, size), 1.2)
    img[band] += texture[band][:, None]
    img += 3 * rng.standard_normal(img.shape)  # sensor-like grain everywhere
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def load_images(quick: bool) -> list[tuple[str, np.ndarray]]:
    if quick:
        return photos(QUICK_PHOTOS)
    synth = [(f"synthetic-{s}", synthetic(s)) for s in (512, 1024, 2048)]
    return photos() + thirdparty_images() + synth


def payload_bits(image_name: str) -> np.ndarray:
    return Payload.for_label(PRODUCER, f"bench-{image_name}").to_bits()


# -------------------------------------------------------------------------------------- methods


class MethodUnavailable(RuntimeError):
    """An anchor whose package is not installed."""


@dataclass
class Decoded:
    bits: np.ndarray | None
    detected: bool | None = None  # None: the binomial rule decides
    score: float | None = None
    p_value: float | None = None


def binomial_threshold(n: int, fpr: float = FPR) -> int:
    """Smallest k with P(Binomial(n, 1/2) >= k) <= fpr."""
    tail = 0
    for k in range(n, -1, -1):
        tail += math.comb(n, k)
        if tail / 2**n > fpr:
            return k + 1
    return 0


def binomial_p(n: int, k: int) -> float:
    return sum(math.comb(n, j) for j in range(k, n + 1)) / 2**n


class Method:
    name = ""
    nbits = 64
    install = ""

    def setup(self) -> None:
        """Import what the method needs; raise MethodUnavailable when it is not installed."""

    def embed(self, rgb: np.ndarray, bits: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def decode(self, rgb: np.ndarray) -> Decoded:
        raise NotImplementedError

    def version(self) -> str:
        return ""


class AigcTag(Method):
    name = "aigc-tag"
    nbits = 64

    def __init__(self, fake: bool = False) -> None:
        self.fake = fake
        self.engine = None

    def setup(self) -> None:
        if self.fake:
            self.engine = FakeEngine()
            return
        from aigc_tag.watermark import image as engine

        self.engine = engine

    def embed(self, rgb: np.ndarray, bits: np.ndarray) -> np.ndarray:
        return self.engine.embed(rgb, bits)

    def decode(self, rgb: np.ndarray) -> Decoded:
        det = self.engine.detect(rgb)
        bits = None if det.payload_bits is None else np.asarray(det.payload_bits, np.uint8)
        return Decoded(bits, bool(det.detected), _num(det.score), _num(det.p_value))

    def version(self) -> str:
        return "fake stand-in engine" if self.fake else "aigc_tag.watermark.image (work tree)"


def _num(value) -> float | None:
    return None if value is None else float(value)


class ImWatermark(Method):
    install = "pip install torch==2.13.0 onnxruntime invisible-watermark"

    def __init__(self, method: str, nbits: int) -> None:
        self.method, self.nbits, self.name = method, nbits, f"{method}/{nbits}"

    def setup(self) -> None:
        try:
            import imwatermark
            import torch
        except ImportError as exc:
            raise MethodUnavailable(f"{exc}; install with: {self.install}") from exc
        torch.set_num_threads(1)
        self.lib = imwatermark
        if self.method == "rivaGan":
            self._load_riva_one_thread()

    def _load_riva_one_thread(self) -> None:
        """rivaGan's own loadModel() uses onnxruntime's default pool; use one thread instead."""
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise MethodUnavailable(f"{exc}; install with: {self.install}") from exc
        from imwatermark.rivaGan import RivaWatermark

        options = ort.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        folder = Path(self.lib.__file__).parent
        for part in ("encoder", "decoder"):
            session = ort.InferenceSession(
                str(folder / f"rivagan_{part}.onnx"), options, providers=["CPUExecutionProvider"]
            )
            setattr(RivaWatermark, part, session)

    def embed(self, rgb: np.ndarray, bits: np.ndarray) -> np.ndarray:
        encoder = self.lib.WatermarkEncoder()
        encoder.set_watermark("bits", [int(b) for b in bits])
        bgr = encoder.encode(np.ascontiguousarray(rgb[..., ::-1]), self.method)
        return np.ascontiguousarray(np.clip(bgr, 0, 255).astype(np.uint8)[..., ::-1])

    def decode(self, rgb: np.ndarray) -> Decoded:
        decoder = self.lib.WatermarkDecoder("bits", self.nbits)
        bits = decoder.decode(np.ascontiguousarray(rgb[..., ::-1]), self.method)
        return Decoded(np.asarray(bits, dtype=np.uint8))

    def version(self) -> str:
        return _dist_version("invisible-watermark")


class BlindWatermark(Method):
    install = "pip install blind-watermark"

    def __init__(self, nbits: int) -> None:
        self.nbits, self.name = nbits, f"blind/{nbits}"

    def setup(self) -> None:
        try:
            with _start_method_forced():
                import blind_watermark
        except ImportError as exc:
            raise MethodUnavailable(f"{exc}; install with: {self.install}") from exc
        blind_watermark.bw_notes.close()  # its banner would go to our stdout
        self.lib = blind_watermark

    def embed(self, rgb: np.ndarray, bits: np.ndarray) -> np.ndarray:
        bwm = self.lib.WaterMark(password_wm=1, password_img=1)
        bwm.read_img(img=np.ascontiguousarray(rgb[..., ::-1]))
        bwm.read_wm(bits.astype(bool).copy(), mode="bit")  # read_wm shuffles in place
        bgr = bwm.embed()
        return np.ascontiguousarray(np.clip(np.rint(bgr), 0, 255).astype(np.uint8)[..., ::-1])

    def decode(self, rgb: np.ndarray) -> Decoded:
        bwm = self.lib.WaterMark(password_wm=1, password_img=1)
        bits = bwm.extract(
            embed_img=np.ascontiguousarray(rgb[..., ::-1]), wm_shape=self.nbits, mode="bit"
        )
        return Decoded(np.asarray(bits, dtype=np.uint8))

    def version(self) -> str:
        return _dist_version("blind-watermark")


@contextlib.contextmanager
def _start_method_forced():
    """blind_watermark calls multiprocessing.set_start_method("fork") on import, which raises
    in a worker process whose context is already set; let it force the (same) method there."""
    original = multiprocessing.set_start_method
    multiprocessing.set_start_method = lambda method, force=False: original(method, force=True)
    try:
        yield
    finally:
        multiprocessing.set_start_method = original


def _dist_version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{dist} {version(dist)}"
    except PackageNotFoundError:
        return f"{dist} (not installed)"


def make_methods(fake: bool) -> dict[str, Method]:
    methods: list[Method] = [
        AigcTag(fake),
        ImWatermark("dwtDct", 64),
        ImWatermark("dwtDct", 32),
        ImWatermark("dwtDctSvd", 64),
        ImWatermark("dwtDctSvd", 32),
        ImWatermark("rivaGan", 32),
        BlindWatermark(64),
        BlindWatermark(32),
    ]
    return {m.name: m for m in methods}


# ----------------------------------------------------------------------------------- fake engine


@dataclass
class FakeDetection:
    detected: bool
    payload_bits: np.ndarray | None
    score: float
    p_value: float
    bit_confidence: np.ndarray = field(default_factory=lambda: np.zeros(64))


class FakeEngine:
    """A naive stand-in (NOT the product): 64 keyed +-1 chip sets on a 32-px tile, added to luma.

    Decoding folds the high-passed luma modulo the tile from the top-left pixel, so it survives
    JPEG, noise, brightness and a top-left crop, and loses rescales, rotations and centre crops.
    Its p-value is a placeholder (2^-16 when the CRC holds): it only exercises the harness.
    """

    TILE = 32

    def __init__(self) -> None:
        rng = np.random.default_rng(20240601)
        self.owner = rng.integers(0, 64, (self.TILE, self.TILE))
        self.chip = rng.choice([-1.0, 1.0], (self.TILE, self.TILE))

    def embed(self, rgb, bits, *, key=None, target_psnr=42.0):
        h, w = rgb.shape[:2]
        tile = (2.0 * np.asarray(bits, float) - 1.0)[self.owner] * self.chip
        pattern = np.tile(tile, (h // self.TILE + 1, w // self.TILE + 1))[:h, :w]
        amplitude = 255.0 / 10 ** (target_psnr / 20.0)  # the pattern has unit RMS
        return np.clip(np.rint(rgb + amplitude * pattern[..., None]), 0, 255).astype(np.uint8)

    def detect(self, rgb, *, key=None):
        luma = rgb.astype(np.float32).mean(axis=2)
        high = luma - cv2.GaussianBlur(luma, (0, 0), 2.0)
        h, w = (s // self.TILE * self.TILE for s in high.shape)
        folded = high[:h, :w].reshape(h // self.TILE, self.TILE, w // self.TILE, self.TILE)
        acc = folded.sum(axis=(0, 2)) * self.chip
        soft = np.bincount(self.owner.ravel(), acc.ravel(), minlength=64)
        spread = np.sqrt(np.bincount(self.owner.ravel(), (acc**2).ravel(), minlength=64)) + 1e-9
        z = soft / spread
        bits = (soft > 0).astype(np.uint8)
        valid = Payload.from_bits(bits) is not None
        score = float(np.abs(z).mean())
        return FakeDetection(valid and score > 2.0, bits, score, 2.0**-16 if valid else 1.0, z)


# ------------------------------------------------------------------------------------- measuring


@dataclass
class Record:
    method: str
    image: str
    attack: str
    marked: bool
    nbits: int
    correct: int | None = None
    exact: bool = False
    detected: bool = False
    error: str | None = None
    no_payload: bool = False  # the detector returned no bits
    cpu_ms: float = 0.0
    mpix: float = 0.0
    score: float | None = None
    p_value: float | None = None


def attack_rng(seed: int, image: str, attack: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(image.encode()), zlib.crc32(attack.encode())])


def mpix(rgb: np.ndarray) -> float:
    return rgb.shape[0] * rgb.shape[1] / 1e6


def decode_record(method: Method, rgb: np.ndarray, truth: np.ndarray, rec: Record) -> Record:
    rec.mpix = mpix(rgb)
    start = time.process_time()
    try:
        got = method.decode(rgb)
    except Exception as exc:  # noqa: BLE001 - an anchor refusing an image is a result
        rec.error = f"{type(exc).__name__}: {exc}"[:200]
        return rec
    finally:
        rec.cpu_ms = (time.process_time() - start) * 1e3
    threshold = binomial_threshold(len(truth))
    if got.bits is None or got.bits.size != truth.size:
        rec.correct, rec.no_payload = len(truth) // 2, True  # counted at chance level
    else:
        rec.correct = int((got.bits == truth).sum())
        rec.exact = rec.correct == len(truth)
    if got.detected is None:
        rec.detected = rec.correct >= threshold
        rec.score, rec.p_value = float(rec.correct), binomial_p(len(truth), rec.correct)
    else:
        rec.detected, rec.score, rec.p_value = got.detected, got.score, got.p_value
    return rec


@dataclass
class Quality:
    method: str
    image: str
    mpix: float
    psnr: float | None = None
    ssim: float | None = None
    embed_ms: float | None = None
    error: str | None = None


def quality_of(original: np.ndarray, marked: np.ndarray) -> tuple[float, float]:
    try:
        from skimage.metrics import peak_signal_noise_ratio, structural_similarity
    except ImportError:  # the same Gaussian SSIM, written out (scikit-image is optional)
        import _corpus_bench

        return _corpus_bench.psnr(original, marked), _corpus_bench.ssim(original, marked)

    psnr = peak_signal_noise_ratio(original, marked, data_range=255)
    ssim = structural_similarity(original, marked, channel_axis=2, data_range=255)
    return float(psnr), float(ssim)


def run_image(method: Method, name: str, rgb: np.ndarray, attacks, seed: int):
    """Embed into one image, then decode every attack of the marked and of the unmarked image."""
    bits = payload_bits(name)[-method.nbits :]
    quality = Quality(method.name, name, mpix(rgb))
    start = time.process_time()
    try:
        marked = method.embed(rgb, bits)
        quality.embed_ms = (time.process_time() - start) * 1e3
        quality.psnr, quality.ssim = quality_of(rgb, marked)
    except Exception as exc:  # noqa: BLE001
        quality.error, marked = f"{type(exc).__name__}: {exc}"[:200], None
    records = []
    for attack in attacks:
        if min(rgb.shape[:2]) < attack.min_side:
            continue
        for is_marked, source in ((True, marked), (False, rgb)):
            rec = Record(method.name, name, attack.name, is_marked, method.nbits)
            if source is None:
                rec.error = f"embed failed: {quality.error}"
            else:
                attacked = attack.fn(source, attack_rng(seed, name, attack.name))
                rec = decode_record(method, attacked, bits, rec)
            records.append(rec)
    return quality, records


def run_method(name: str, fake: bool, images, attacks, seed: int) -> dict:
    """Everything for one method (runs in a worker process)."""
    method = make_methods(fake)[name]
    try:
        method.setup()
    except Exception as exc:  # noqa: BLE001 - not installed, or an engine mid-edit
        return {"method": name, "skipped": f"{type(exc).__name__}: {exc}"}
    started = time.time()
    qualities, records = [], []
    for i, (img_name, rgb) in enumerate(images, 1):
        t0 = time.time()
        quality, recs = run_image(method, img_name, rgb, attacks, seed)
        qualities.append(quality)
        records.extend(recs)
        print(
            f"  [{name}] {i}/{len(images)} {img_name} {rgb.shape[1]}x{rgb.shape[0]}: "
            f"{time.time() - t0:.0f} s",
            file=sys.stderr,
            flush=True,
        )
    return {
        "method": name,
        "version": method.version(),
        "wall_s": time.time() - started,
        "quality": [asdict(q) for q in qualities],
        "records": [asdict(r) for r in records],
    }


def run_all(names: list[str], fake: bool, images, attacks, seed: int, jobs: int, done) -> None:
    """Run every method; ``done(result)`` is called as each one finishes (so it can be saved).

    In parallel, the quick run starts the slow anchors first (shortest wall time); the full run
    keeps the given order, so the fast methods' results are saved early in a run of hours.
    """
    args = [(n, fake, images, attacks, seed) for n in names]
    if jobs <= 1:
        for a in args:
            done(run_method(*a))
        return
    if len(images) <= len(QUICK_PHOTOS):
        args.sort(key=lambda a: ("rivaGan" not in a[0], "blind" not in a[0]))
    ctx = multiprocessing.get_context("fork")  # fork: no re-import of this script in workers
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
        for future in as_completed([pool.submit(run_method, *a) for a in args]):
            done(future.result())


# ------------------------------------------------------------------------------------ summarising


def summarise_cell(recs: list[dict]) -> dict:
    ok = [r for r in recs if r["error"] is None]
    n = len(recs)
    return {
        "n": n,
        "errors": n - len(ok),
        "bit_accuracy": (float(np.mean([r["correct"] / r["nbits"] for r in ok])) if ok else None),
        "exact_rate": sum(r["exact"] for r in recs) / n if n else None,
        "detect_rate": sum(r["detected"] for r in recs) / n if n else None,
        "detected_wrong_payload": sum(r["detected"] and not r["exact"] for r in recs),
    }


def summarise(result: dict, attacks) -> dict:
    recs = result["records"]
    by_attack = {}
    for attack in attacks:
        for marked in (True, False):
            cell = [r for r in recs if r["attack"] == attack.name and r["marked"] is marked]
            if cell:
                key = attack.name if marked else f"unmarked: {attack.name}"
                by_attack[key] = summarise_cell(cell)
    unmarked = [r for r in recs if not r["marked"]]
    by_attack["unmarked: all attacks"] = summarise_cell(unmarked)
    return {"robustness": by_attack, "quality": summarise_quality(result)}


def _per_mp(ms: list[float], mps: list[float]) -> float | None:
    return sum(ms) / sum(mps) if ms and sum(mps) else None


def summarise_quality(result: dict) -> dict:
    good = [q for q in result["quality"] if q["error"] is None]
    recs = [r for r in result["records"] if r["error"] is None]
    clean = [r for r in recs if r["attack"] == "none" and r["marked"]]
    return {
        "images": len(result["quality"]),
        "embed_errors": len(result["quality"]) - len(good),
        "psnr_mean": float(np.mean([q["psnr"] for q in good])) if good else None,
        "psnr_min": float(np.min([q["psnr"] for q in good])) if good else None,
        "ssim_mean": float(np.mean([q["ssim"] for q in good])) if good else None,
        "embed_ms_per_mp": _per_mp([q["embed_ms"] for q in good], [q["mpix"] for q in good]),
        "detect_ms_per_mp_clean": _per_mp([r["cpu_ms"] for r in clean], [r["mpix"] for r in clean]),
        "detect_ms_per_mp_all": _per_mp([r["cpu_ms"] for r in recs], [r["mpix"] for r in recs]),
    }


def _fmt(value: float | None, spec: str) -> str:
    return "–" if value is None else format(value, spec)


def quality_table(summaries: dict) -> str:
    lines = [
        "| method | bits | PSNR dB mean / min | SSIM mean | embed CPU ms/MP | detect CPU ms/MP "
        "(unattacked) | detect CPU ms/MP (all decodes) | embed errors |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, s in summaries.items():
        q = s["quality"]
        cells = [
            name,
            str(s["nbits"]),
            f"{_fmt(q['psnr_mean'], '.1f')} / {_fmt(q['psnr_min'], '.1f')}",
            _fmt(q["ssim_mean"], ".3f"),
            _fmt(q["embed_ms_per_mp"], ".0f"),
            _fmt(q["detect_ms_per_mp_clean"], ".0f"),
            _fmt(q["detect_ms_per_mp_all"], ".0f"),
            f"{q['embed_errors']}/{q['images']}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(c: dict | None, unmarked: bool, own_detector: bool) -> str:
    if not c:
        return "–"
    acc = _fmt(c["bit_accuracy"], ".3f")
    text = f"{acc} ({100 * c['exact_rate']:.0f}, {100 * c['detect_rate']:.0f})"
    if unmarked:
        text = f"{acc}, FD {sum_detected(c)}/{c['n']}"
    if c["errors"]:
        text += f", err {c['errors']}/{c['n']}"
    if own_detector and not unmarked and c["detected_wrong_payload"]:
        text += f", WRONG ID {c['detected_wrong_payload']}"
    return text


def sum_detected(c: dict) -> int:
    return round(c["detect_rate"] * c["n"])


def robustness_table(summaries: dict, attack_names: list[str]) -> str:
    names = list(summaries)
    head = "| attack | " + " | ".join(names) + " |"
    lines = [head, "| --- |" + " --- |" * len(names)]
    for row in ["unmarked: none", "unmarked: all attacks", *attack_names]:
        unmarked = row.startswith("unmarked")
        cells = [
            _cell(summaries[n]["robustness"].get(row), unmarked, n == "aigc-tag") for n in names
        ]
        if any(c != "–" for c in cells):
            lines.append(f"| {row} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def misses(records: list[dict]) -> list[str]:
    """aigc-tag's marked decodes that were not detected or not exact, grouped by image."""
    by_image: dict[str, list[str]] = {}
    for r in records:
        if r["method"] == "aigc-tag" and r["marked"] and not (r["detected"] and r["exact"]):
            what = "no payload" if r.get("no_payload") else f"{r['correct']}/{r['nbits']} bits"
            what = f"err: {r['error']}" if r["error"] else what
            what += " (detected)" if r["detected"] else ""
            what += f", p {r['p_value']:.2g}" if r["p_value"] is not None else ""
            by_image.setdefault(r["image"], []).append(f"{r['attack']}: {what}")
    applicable = {}
    for r in records:
        if r["method"] == "aigc-tag" and r["marked"]:
            applicable[r["image"]] = applicable.get(r["image"], 0) + 1
    out = []
    for image, items in by_image.items():
        if len(items) == applicable[image] and len({i.split(": ", 1)[1] for i in items}) == 1:
            out.append(f"{image}: all {len(items)} attacks, {items[0].split(': ', 1)[1]}")
        else:
            out.append(f"{image}: {len(items)}/{applicable[image]}: " + "; ".join(items))
    return out


# ------------------------------------------------------------------------------- unmarked sweep

UNMARKED_KINDS = (
    "photo crop",
    "flat",
    "uniform noise",
    "gaussian noise",
    "gradient",
    "text",
    "checkerboard",
)


def _random_size(rng: np.random.Generator) -> tuple[int, int]:
    return int(rng.integers(160, 769)), int(rng.integers(160, 769))


def _photo_crop(rng: np.random.Generator, pool) -> np.ndarray:
    rgb = pool[int(rng.integers(len(pool)))][1]
    rgb = _attacks.rescale_by(rgb, float(rng.uniform(0.5, 1.6)))
    h, w = rgb.shape[:2]
    ch, cw = (int(rng.integers(min(128, s), s + 1)) for s in (h, w))
    y0, x0 = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    return rgb[y0 : y0 + ch, x0 : x0 + cw]


def _gradient(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    t = (x * np.cos(angle) + y * np.sin(angle)) / max(h, w)
    a, b = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    return np.clip(a + (b - a) * t[..., None], 0, 255).astype(np.uint8)


def _text(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A screenshot-like rendering: lines of text on a plain background."""
    bg = tuple(int(v) for v in rng.choice([rng.integers(200, 256, 3), rng.integers(0, 50, 3)]))
    fg = tuple(255 - v for v in bg)
    img = Image.new("RGB", (w, h), bg)
    draw = ImageDraw.Draw(img)
    size = int(rng.integers(10, 36))
    font = ImageFont.load_default(size=size)
    words = "aigc tag watermark label content producer screenshot benchmark 2025 ID".split()
    for row in range(0, h, int(size * 1.5)):
        line = " ".join(rng.choice(words, int(rng.integers(2, 12))))
        draw.text((int(rng.integers(0, 20)), row), line, fill=fg, font=font)
    return np.asarray(img)


def _checkerboard(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    cell = int(rng.integers(1, 65))
    y, x = np.mgrid[0:h, 0:w]
    mask = ((y // cell + x // cell) % 2).astype(bool)
    a, b = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    return np.where(mask[..., None], a, b).astype(np.uint8)


def unmarked_image(kind: str, rng: np.random.Generator, pool) -> np.ndarray:
    h, w = _random_size(rng)
    if kind == "photo crop":
        return _photo_crop(rng, pool)
    if kind == "flat":
        return np.broadcast_to(rng.integers(0, 256, 3).astype(np.uint8), (h, w, 3)).copy()
    if kind == "uniform noise":
        return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    if kind == "gaussian noise":
        mean, sigma = rng.uniform(40, 215), rng.uniform(2, 60)
        return np.clip(rng.normal(mean, sigma, (h, w, 3)), 0, 255).astype(np.uint8)
    if kind == "gradient":
        return _gradient(rng, h, w)
    if kind == "text":
        return _text(rng, h, w)
    return _checkerboard(rng, h, w)


def sweep_chunk(fake: bool, indices: range, seed: int, pool) -> list[dict]:
    method = AigcTag(fake)
    method.setup()
    rows = []
    for i in indices:
        kind = UNMARKED_KINDS[i % len(UNMARKED_KINDS)]
        rgb = np.ascontiguousarray(unmarked_image(kind, np.random.default_rng([seed, i]), pool))
        row = {"i": i, "kind": kind, "shape": rgb.shape[:2], "error": None}
        start = time.process_time()
        try:
            det = method.decode(rgb)
            row.update(detected=det.detected, score=det.score, p_value=det.p_value)
        except Exception as exc:  # noqa: BLE001
            row["error"] = f"{type(exc).__name__}: {exc}"[:200]
        row["cpu_ms"] = (time.process_time() - start) * 1e3
        rows.append(row)
    return rows


def unmarked_sweep(n: int, fake: bool, seed: int, jobs: int) -> dict:
    pool = photos()
    started = time.time()
    bounds = np.linspace(0, n, max(1, jobs) + 1).astype(int)
    chunks = [range(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    if jobs <= 1:
        rows = sweep_chunk(fake, chunks[0], seed, pool)
    else:
        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as ex:
            futures = [ex.submit(sweep_chunk, fake, c, seed, pool) for c in chunks]
            rows = [row for f in futures for row in f.result()]
    return {
        "n": n,
        "wall_s": time.time() - started,
        "per_kind": sweep_stats(rows),
        "detections": [r for r in rows if r.get("detected")],
    }


def sweep_stats(rows: list[dict]) -> dict:
    stats = {}
    for kind in (*UNMARKED_KINDS, "all"):
        sel = [r for r in rows if kind == "all" or r["kind"] == kind]
        ok = [r for r in sel if r["error"] is None]
        scores = [r["score"] for r in ok if r["score"] is not None]
        pvals = [r["p_value"] for r in ok if r["p_value"] is not None]
        stats[kind] = {
            "n": len(sel),
            "errors": len(sel) - len(ok),
            "detections": sum(bool(r["detected"]) for r in ok),
            "max_score": max(scores) if scores else None,
            "min_p_value": min(pvals) if pvals else None,
            "cpu_ms_mean": float(np.mean([r["cpu_ms"] for r in sel])) if sel else None,
        }
    return stats


def sweep_table(sweep: dict) -> str:
    lines = [
        "| kind | images | detections | max score | min p-value | errors | detect CPU ms |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for kind, s in sweep["per_kind"].items():
        lines.append(
            f"| {kind} | {s['n']} | {s['detections']} | {_fmt(s['max_score'], '.3g')} | "
            f"{_fmt(s['min_p_value'], '.3g')} | {s['errors']} | {_fmt(s['cpu_ms_mean'], '.0f')} |"
        )
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------ main


def environment() -> dict:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    import PIL

    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "opencv": cv2.__version__,
        "pillow": PIL.__version__,
        "cpu": cpu,
        "cores": os.cpu_count(),
        "load_average": os.getloadavg(),
    }


def load_json(path: Path) -> dict:
    if path.exists():
        with contextlib.suppress(ValueError):
            return json.loads(path.read_text())
    return {}


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, default=_json_default) + "\n")
    tmp.replace(path)


def save_json(section: str, payload: dict, path: Path) -> None:
    data = load_json(path)
    data[section] = payload
    write_json(path, data)


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (tuple, np.ndarray)):
        return list(value)
    raise TypeError(type(value))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 photos, 8 attacks, 5 methods")
    parser.add_argument("--methods", nargs="+", help=f"any of {list(make_methods(False))}")
    parser.add_argument("--attacks", nargs="+", help="attack names (see benchmarks/_attacks.py)")
    parser.add_argument(
        "--unmarked",
        nargs="?",
        type=int,
        const=-1,
        default=None,
        metavar="N",
        help="only the false-positive sweep of aigc-tag over N unmarked images "
        "(default 10000, 300 with --quick)",
    )
    parser.add_argument(
        "--fake-engine",
        action="store_true",
        help="use the naive stand-in instead of aigc_tag.watermark.image",
    )
    parser.add_argument(
        "-j", "--jobs", type=int, default=min(2, os.cpu_count() or 1), help="parallel processes"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--max-mpix", type=float, default=math.inf, help="leave out larger images (all methods)"
    )
    parser.add_argument("--report", action="store_true", help="only print the tables of --json")
    parser.add_argument(
        "--corpus", action="store_true", help="the issue-15 corpus run (see _corpus_bench.py)"
    )
    parser.add_argument(
        "--corpus-unmarked", type=int, metavar="N", help="false positives on N corpus variants"
    )
    parser.add_argument("--per-image", type=int, default=8, help="--corpus: attacks per image")
    parser.add_argument("--anchor-every", type=int, default=4, help="--corpus: anchor subset")
    parser.add_argument("--max-large", type=int, default=4, help="--corpus: images above 3 MP")
    parser.add_argument("--stride", type=int, default=1, help="--corpus: every N-th image only")
    parser.add_argument(
        "--json",
        type=Path,
        help=f"results file (default {RESULTS.relative_to(REPO)}; a temp file "
        "with --fake-engine, so the stand-in never overwrites real results)",
    )
    args = parser.parse_args(argv)
    if args.json is None:
        args.json = Path(tempfile.gettempdir(), FAKE_JSON) if args.fake_engine else RESULTS
    return args


def main_sweep(args: argparse.Namespace) -> None:
    n = args.unmarked if args.unmarked > 0 else (300 if args.quick else 10000)
    print(f"## aigc-tag on {n} unmarked images{' (FAKE ENGINE)' if args.fake_engine else ''}\n")
    sweep = unmarked_sweep(n, args.fake_engine, args.seed, args.jobs)
    print(sweep_table(sweep))
    total = sweep["per_kind"]["all"]
    print(
        f"\n{total['detections']} detections in {n} unmarked images (goal 0); "
        f"wall {sweep['wall_s']:.0f} s."
    )
    for row in sweep["detections"][:20]:
        print(f"- false detection: #{row['i']} {row['kind']} {row['shape']} score {row['score']}")
    section = "unmarked_sweep_quick" if args.quick else "unmarked_sweep"
    save_json(section, {"env": environment(), "args": _args_dict(args), **sweep}, args.json)


def _args_dict(args: argparse.Namespace) -> dict:
    return {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}


def main_robustness(args: argparse.Namespace) -> None:
    all_methods = make_methods(args.fake_engine)
    names = args.methods or list(QUICK_METHODS if args.quick else all_methods)
    unknown = [n for n in names if n not in all_methods]
    if unknown:
        raise SystemExit(f"unknown method(s) {unknown}; known: {list(all_methods)}")
    attacks = _attacks.select(tuple(args.attacks or (_attacks.QUICK_ATTACKS if args.quick else ())))
    images = [(n, a) for n, a in load_images(args.quick) if mpix(a) <= args.max_mpix]
    started = time.time()
    print(f"> {len(images)} images, {len(attacks)} attacks, methods {names}", file=sys.stderr)
    section = "robustness_quick" if args.quick else "robustness_full"
    common = {
        "env": environment(),
        "args": _args_dict(args),
        "images": [{"name": n, "width": a.shape[1], "height": a.shape[0]} for n, a in images],
        "attacks": [a.name for a in attacks],
    }

    def done(res: dict) -> None:
        name = res["method"]
        if "skipped" in res:
            entry = {**common, "skipped": res["skipped"]}
            print(f"> {name} skipped: {res['skipped']}", file=sys.stderr)
        else:
            entry = {
                **common,
                "nbits": all_methods[name].nbits,
                "version": res["version"],
                "wall_s": res["wall_s"],
                **summarise(res, attacks),
                "image_quality": res["quality"],
                "records": res["records"],
            }
            print(f"> {name} done in {res['wall_s']:.0f} s", file=sys.stderr, flush=True)
        save_method(args.json, section, name, entry)

    run_all(names, args.fake_engine, images, attacks, args.seed, args.jobs, done)
    print(f"> wall time {time.time() - started:.0f} s with -j {args.jobs}", file=sys.stderr)
    print_report(load_json(args.json)[section], names)


def save_method(path: Path, section: str, method: str, entry: dict) -> None:
    """Store one method's results; other methods' earlier results in the section are kept."""
    data = load_json(path)
    methods = data.setdefault(section, {})
    if "skipped" in entry and "records" in methods.get(method, {}):
        print(f"> {method}: earlier results kept in {path}", file=sys.stderr)
        return
    methods[method] = entry
    data[section] = {m: methods[m] for m in _method_order(methods)}
    write_json(path, data)


def _method_order(methods) -> list[str]:
    known = list(make_methods(False))
    return sorted(methods, key=lambda m: known.index(m) if m in known else len(known))


def print_report(section: dict, only: list[str] | None = None) -> None:
    """The Markdown tables of a robustness section of the JSON file (one entry per method)."""
    entries = {m: e for m, e in section.items() if only is None or m in only}
    for name, entry in entries.items():
        if "skipped" in entry:
            print(f"> {name} skipped: {entry['skipped']}\n")
    summaries = {m: e for m, e in entries.items() if "skipped" not in e}
    if not summaries:
        return
    first = next(iter(summaries.values()))
    attack_names = [
        a.name
        for a in _attacks.ALL_ATTACKS
        if any(a.name in e["attacks"] for e in summaries.values())
    ]
    fake = any(e["args"]["fake_engine"] for e in summaries.values())
    engine = "FAKE stand-in, not aigc-tag" if fake else "aigc_tag.watermark.image"
    print(
        f"## Invisible image watermark: {len(first['images'])} images, "
        f"{len(attack_names)} attacks\n"
    )
    print(f"aigc-tag = {engine}; {first['env']['cpu']}, {first['env']['cores']} cores.\n")
    print(
        "Images: " + ", ".join(f"{i['name']} {i['width']}x{i['height']}" for i in first["images"])
    )
    for name, e in summaries.items():
        if e["images"] != first["images"] or e["attacks"] != first["attacks"]:
            print(f"\n> {name} was run on other images or attacks ({e['env']['date']})")
    print("\n### Quality and cost (CPU time, one thread per process; per MP summed over images)\n")
    print(quality_table(summaries) + "\n")
    print("### Robustness (blind decoding)\n")
    print(
        "Cells: mean bit accuracy (exact-payload %, TPR % at FPR ≤ 1e-6). TPR for the anchors "
        "by the binomial rule on matching bits (≥ 51/64, ≥ 30/32); for aigc-tag its own "
        "detector (p ≤ 1e-6 and CRC valid; when it returns no payload, its bits count as 0.5). "
        "'unmarked' rows: the same decoders on the images that were never marked, FD = false "
        "detections. err = the decoder refused the image (counted as a miss). WRONG ID "
        "(aigc-tag only) = detected, but the payload read is not the one embedded.\n"
    )
    print(robustness_table(summaries, attack_names) + "\n")
    if "aigc-tag" in summaries:
        missed = misses(summaries["aigc-tag"]["records"])
        print("### aigc-tag: marked decodes not detected or not exact, by image\n")
        print("\n".join(f"- {m}" for m in missed) or "- none")
        print()
    runs = "; ".join(
        f"{n}: {e['version']}, {e['wall_s']:.0f} s, {e['env']['date']}"
        for n, e in summaries.items()
    )
    print(f"Runs (method: version, wall time, date): {runs}.")


def main_report(args: argparse.Namespace) -> None:
    data = load_json(args.json)
    for section in ("robustness_full", "robustness_quick"):
        if section in data:
            print(f"# {section}\n")
            print_report(data[section], args.methods)
    for section in ("unmarked_sweep", "unmarked_sweep_quick"):
        if section in data:
            sweep = data[section]
            print(f"\n## aigc-tag on {sweep['n']} unmarked images ({sweep['env']['date']})\n")
            print(sweep_table(sweep))


def main_corpus(args: argparse.Namespace) -> None:
    import _corpus_bench

    path = REPO / "benchmarks/results/image_watermark_corpus.json"
    if args.corpus_unmarked:
        res = _corpus_bench.run_unmarked(args.corpus_unmarked, args.jobs, args.seed,
                                         args.max_large)  # fmt: skip
        _corpus_bench.save(path, "unmarked", res)
        _corpus_bench.print_unmarked(res)
        return
    args.partial = path.with_name("image_watermark_corpus_partial.json")
    res = _corpus_bench.run(args)
    _corpus_bench.save(path, "robustness", res)
    _corpus_bench.print_corpus(res)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.corpus or args.corpus_unmarked:
        main_corpus(args)
    elif args.report:
        main_report(args)
    elif args.unmarked is not None:
        main_sweep(args)
    else:
        main_robustness(args)


if __name__ == "__main__":
    main()
