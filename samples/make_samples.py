"""Make the small sample media bundled in samples/ (run from the repo root).

They are synthetic (gradients, shapes, noise; espeak-ng speech; numpy tones) so the project owns
them outright. Each one exercises something a real generator output has: EXIF + ICC in a JPEG,
alpha in a PNG, lossy WebP, an animated GIF, a TIFF; an MP3 with an ID3v2.3 tag (TTS-like
speech) and a 16-bit WAV with a LIST/INFO chunk (music-like). Audio needs espeak-ng and ffmpeg.
"""

from __future__ import annotations

import struct
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, ImageDraw

OUT = Path(__file__).parent


def scene(w: int, h: int, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    r = 120 + 100 * np.sin(x / w * 3.1) * np.cos(y / h * 2.0)
    g = 90 + 120 * (y / h)
    b = 160 + 80 * np.cos((x + y) / (w + h) * 6.0)
    img = np.stack([r, g, b], -1) + rng.normal(0, 6, (h, w, 3))
    im = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(im)
    for _ in range(6):
        cx, cy, rad = rng.integers(0, w), rng.integers(0, h), rng.integers(h // 12, h // 4)
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        draw.ellipse((cx - rad, cy - rad, cx + rad, cy + rad), fill=colour)
    return im


def main() -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    photo = scene(640, 480, 1)
    exif = Image.Exif()
    exif[0x0131] = "sample-generator 1.0"  # Software
    exif[0x010F] = "aigc-tag samples"  # Make
    photo.save(OUT / "landscape.jpg", quality=88, exif=exif, icc_profile=srgb)
    rgba = scene(320, 320, 2).convert("RGBA")
    alpha = Image.new("L", rgba.size, 0)
    ImageDraw.Draw(alpha).ellipse((10, 10, 310, 310), fill=255)
    rgba.putalpha(alpha)
    rgba.save(OUT / "badge.png", optimize=True)
    scene(400, 300, 3).save(OUT / "portrait.webp", quality=80)
    frames = [scene(160, 120, 10 + i).quantize(64) for i in range(4)]
    frames[0].save(OUT / "loop.gif", save_all=True, append_images=frames[1:], duration=200, loop=0)
    scene(256, 192, 4).save(OUT / "scan.tif", compression="tiff_deflate")
    make_audio()


def make_audio() -> None:
    text = (
        "This narration was written and spoken by a machine. It stands in for the output of a "
        "text to speech service, so that aigc-tag has something to label."
    )
    with tempfile.TemporaryDirectory() as tmp:
        speech = Path(tmp) / "speech.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "160", "-w", str(speech), text],
                       check=True)  # fmt: skip
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-i", str(speech), "-ar", "22050", "-ac", "1",
             "-c:a", "libmp3lame", "-b:a", "48k", "-id3v2_version", "3",
             "-metadata", "title=Sample narration", "-metadata", "artist=aigc-tag samples",
             str(OUT / "narration.mp3")],
            check=True,
        )  # fmt: skip
    (OUT / "tune.wav").write_bytes(_wav_with_info(_tune(16000, 8.0), 16000))


def _tune(rate: int, seconds: float) -> np.ndarray:
    """Plucked chords over a bass line: music-like, with attacks and decays."""
    t = np.arange(int(rate * seconds)) / rate
    out = np.zeros_like(t)
    chords = ((220.0, 277.2, 329.6), (196.0, 246.9, 293.7), (174.6, 220.0, 261.6))
    for i, start in enumerate(np.arange(0.0, seconds, 0.5)):
        env = np.where(t >= start, np.exp(-(t - start) * 4.0), 0.0)
        for f in chords[(i // 4) % 3]:
            out += 0.08 * env * np.sin(2 * np.pi * f * (t - start))
        out += 0.12 * env * np.sin(2 * np.pi * chords[(i // 4) % 3][0] / 2 * (t - start))
    out += 0.003 * np.random.default_rng(5).standard_normal(len(t))
    return np.clip(out, -1, 1)


def _wav_with_info(samples: np.ndarray, rate: int) -> bytes:
    pcm = np.rint(samples * 32767).astype("<i2").tobytes()
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    info = b"INFO" + b"ISFT" + struct.pack("<I", 24) + b"aigc-tag make_samples.py"
    chunks = [b"fmt " + struct.pack("<I", len(fmt)) + fmt,
              b"LIST" + struct.pack("<I", len(info)) + info,
              b"data" + struct.pack("<I", len(pcm)) + pcm]  # fmt: skip
    body = b"WAVE" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


if __name__ == "__main__":
    main()
