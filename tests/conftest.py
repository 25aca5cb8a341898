"""Shared fixtures: the third-party sample folder, exiftool, small image factories."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

PRODUCER = "001191110108MA01ABCDEN10001"
THIRDPARTY = Path(__file__).resolve().parents[1].parent / "shared" / "samples" / "thirdparty"
SAMPLES = Path(__file__).resolve().parents[1] / "samples"


@pytest.fixture
def thirdparty() -> Path:
    if not THIRDPARTY.is_dir():
        pytest.skip(f"third-party samples not present at {THIRDPARTY}")
    return THIRDPARTY


def exiftool_json(path: Path, *tags: str) -> dict:
    """What exiftool (an independent reader) sees in ``path``."""
    if not shutil.which("exiftool"):
        pytest.skip("exiftool is not installed (apt-get install libimage-exiftool-perl)")
    out = subprocess.run(
        ["exiftool", "-j", "-a", "-G1", *tags, str(path)], capture_output=True, text=True
    )
    return json.loads(out.stdout)[0]


def photo(width: int = 320, height: int = 240, seed: int = 0, mode: str = "RGB") -> Image.Image:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    arr = np.stack([x * 255 // width, y * 255 // height, (x + y) % 256], -1).astype(np.int16)
    arr = np.clip(arr + rng.integers(-10, 10, arr.shape), 0, 255).astype(np.uint8)
    return Image.fromarray(arr).convert(mode)


def encode(image: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **kw)
    return buf.getvalue()
