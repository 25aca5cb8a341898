"""Shared fixtures: the third-party sample folder, exiftool, small image factories."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

PRODUCER = "001191110108MA01ABCDEN10001"
THIRDPARTY = Path(__file__).resolve().parents[1].parent / "shared" / "samples" / "thirdparty"
UNSIGNED = THIRDPARTY / "unsigned"
SAMPLES = Path(__file__).resolve().parents[1] / "samples"

needs_exiftool = pytest.mark.skipif(shutil.which("exiftool") is None, reason="exiftool not found")


def _perl_has(module: str) -> bool:
    if shutil.which("perl") is None:
        return False
    return subprocess.run(["perl", f"-M{module}", "-e", "1"], capture_output=True).returncode == 0


# exiftool reads the members of a ZIP (DOCX, XLSX, PPTX, EPUB) only with Perl's Archive::Zip, a
# package Debian merely recommends: without it exiftool warns and reports no XML tags at all.
needs_exiftool_zip = pytest.mark.skipif(
    shutil.which("exiftool") is None or not _perl_has("Archive::Zip"),
    reason="exiftool or Perl's Archive::Zip missing (apt-get install libarchive-zip-perl)",
)
needs_samples = pytest.mark.skipif(
    not UNSIGNED.is_dir(), reason=f"third-party samples folder {UNSIGNED} is absent"
)


@pytest.fixture
def thirdparty() -> Path:
    if not THIRDPARTY.is_dir():
        pytest.skip(f"third-party samples not present at {THIRDPARTY}")
    return THIRDPARTY


def exiftool_records(*paths: Path, args: tuple[str, ...] = ("-XMP-TC260:all",)) -> list[dict]:
    """What exiftool (an independent reader) sees in each of ``paths``."""
    if not shutil.which("exiftool"):
        pytest.skip("exiftool is not installed (apt-get install libimage-exiftool-perl)")
    cmd = ["exiftool", "-j", "-a", "-G1", *args, *map(str, paths)]
    return json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)


def exiftool_json(path: Path, *tags: str) -> dict:
    """exiftool's record for one file, with the given tag selectors."""
    return exiftool_records(path, args=tags)[0]


def aigc_values(record: dict) -> list[str]:
    """Label values in an exiftool record (exiftool spells the tag ``Aigc``)."""
    return [v for k, v in record.items() if k.upper().endswith(":AIGC")]


def box_caption(im: Image.Image) -> Image.Image:
    """A stand-in for the caption drawer in carrier tests: a white box in the top-left corner."""
    out = im.copy()
    fill = {"L": 255, "LA": (255, 255), "RGB": (255,) * 3, "RGBA": (255,) * 4}[im.mode]
    ImageDraw.Draw(out).rectangle([1, 1, 20, 8], fill=fill)
    return out


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


#: Tests that need a heavy extra or service (node-id prefixes): .ci/run installs those extras and
#: runs these in its second stage (``-m heavy``), so the core suite stays light.
HEAVY = (
    "test_ray_engine.py",
    "test_web_e2e.py",
    "test_ledger.py::test_postgresql_ledger",
    "test_llm_watermark.py::test_hf_",
    "test_llm_watermark.py::test_numpy_hook_equals_hf_processor",
    "test_llm_watermark.py::test_no_false_positive_on_500_unwatermarked",
    "test_tag_text.py::test_verify_finds_the_generation_time_watermark",
    # invisible-watermark (aigc-tag[sdwm]) depends on torch
    "test_art6.py::test_stable_diffusion_watermark",
    "test_art6.py::test_unmarked_photo_has_no_sd_watermark",
    "test_evidence.py::test_sd_",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid.rsplit("/", 1)[-1].startswith(HEAVY):
            item.add_marker(pytest.mark.heavy)


@pytest.fixture(autouse=True, scope="session")
def _private_ledger(tmp_path_factory):
    """Tests (and the CLI subprocesses they start) record into a throw-away provenance ledger,
    never the user's ~/.local/share/aigc-tag/ledger.sqlite."""
    import os

    os.environ["AIGC_TAG_LEDGER"] = str(tmp_path_factory.mktemp("ledger") / "ledger.sqlite")
    # Run journals live in the user's state folder: keep the tests' out of the real one.
    os.environ["XDG_STATE_HOME"] = str(tmp_path_factory.mktemp("state"))
    yield
