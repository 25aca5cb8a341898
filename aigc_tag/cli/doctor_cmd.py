"""``aigc-tag doctor``: which optional parts are present, what each enables, how to add it.

Each part is probed the way the code that needs it finds it (the same lookup, the same import),
so "present" here means the feature works, not that some package is somewhere on disk.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import json
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import click


@dataclass(frozen=True)
class Part:
    """One optional (or core) part and how it was found."""

    name: str
    enables: str
    present: bool
    detail: str
    fix: str
    core: bool = False


def _module(module: str, dist: str | None = None, *, load: bool = True) -> tuple[bool, str]:
    """Importable (``load``: really imported, for native wheels that can fail to load; else
    only found, for packages that take seconds to import such as Ray and transformers)."""
    try:
        if load:
            importlib.import_module(module)
        elif importlib.util.find_spec(module) is None:
            return False, "not installed"
    except Exception as exc:  # a broken native wheel raises more than ImportError
        return False, f"{type(exc).__name__}: {exc}".splitlines()[0][:120]
    try:
        return True, importlib.metadata.version(dist or module)
    except importlib.metadata.PackageNotFoundError:
        return True, "importable"


def _tool(name: str) -> tuple[bool, str]:
    from ..ffmpeg import ToolMissing, tool_path

    try:
        return True, tool_path(name)
    except ToolMissing:
        return False, "not found on PATH"


def _ocr_models() -> tuple[bool, str]:
    ok, detail = _module("rapidocr_onnxruntime", "rapidocr-onnxruntime")
    if not ok:
        return ok, detail
    import rapidocr_onnxruntime

    models = sorted(Path(rapidocr_onnxruntime.__file__).parent.glob("models/*.onnx"))
    if not models:
        return False, f"{detail}, but no .onnx models in the package"
    return True, f"{detail}, {len(models)} models in the wheel"


def _opencv() -> tuple[bool, str]:
    ok, detail = _module("cv2", "opencv-python-headless")
    if not ok:
        return ok, detail
    import cv2

    # Extras that pull opencv-python overwrite the headless cv2 with a build that needs libGL.
    info = cv2.getBuildInformation().splitlines()
    gui = [line for line in info if line.strip().startswith("GUI")]
    build = "headless" if not gui or "NONE" in gui[0].upper() else "GUI build (needs libGL)"
    return True, f"{cv2.__version__}, {build}"


def _system(command: str) -> tuple[bool, str]:
    found = shutil.which(command)
    return (True, found) if found else (False, "not found on PATH")


def _font() -> tuple[bool, str]:
    path = Path(__file__).resolve().parent.parent / "fonts" / "LabelSansSC-Bold.otf"
    return (True, str(path)) if path.is_file() else (False, f"{path} is missing")


#: (name, what it enables, probe, command that adds it, core?)
_PARTS: list[tuple[str, str, Callable[[], tuple[bool, str]], str, bool]] = [
    ("c2pa-python", "C2PA read/sign", lambda: _module("c2pa", "c2pa-python"),
     "pip install c2pa-python", True),
    ("opencv", "image pipeline", _opencv, "pip install opencv-python-headless", True),
    ("caption font", "explicit image/video captions", _font, "reinstall aigc-tag", True),
    ("PyAV", "audio/video probing and audio decoding", lambda: _module("av"),
     "pip install av", True),
    ("ffmpeg", "audio/video filters and encoders", lambda: _tool("ffmpeg"),
     "pip install imageio-ffmpeg (or apt-get install ffmpeg)", True),
    ("OCR (rapidocr)", "explicit labels drawn by other tools", _ocr_models,
     "pip install 'aigc-tag[ocr]'", False),
    ("invisible-watermark", "Stable Diffusion watermark as evidence",
     lambda: _module("imwatermark", "invisible-watermark", load=False),
     "pip install 'aigc-tag[sdwm]'", False),
    ("web page", "aigc-tag serve", lambda: _module("uvicorn"), "pip install 'aigc-tag[web]'",
     False),
    ("Ray", "--engine ray", lambda: _module("ray", load=False), "pip install 'aigc-tag[ray]'",
     False),
    ("PostgreSQL driver", "--database postgresql://…", lambda: _module("psycopg"),
     "pip install 'aigc-tag[postgres]'", False),
    ("transformers", "LLM generation-time watermark (torch)",
     lambda: _module("transformers", load=False), "pip install 'aigc-tag[llm]'", False),
    ("exiftool", "the test suite's external reader", lambda: _system("exiftool"),
     "apt-get install libimage-exiftool-perl", False),
]  # fmt: skip


def diagnose() -> list[Part]:
    """Probe every part once."""
    parts = []
    for name, enables, probe, fix, core in _PARTS:
        present, detail = probe()
        parts.append(Part(name, enables, present, detail, fix, core))
    return parts


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per part.")
def doctor(as_json: bool) -> None:
    """Show which optional parts are present and the command that adds each missing one.

    Exit code 0 when every core part works, 2 when one is missing.
    """
    parts = diagnose()
    for part in parts:
        if as_json:
            click.echo(json.dumps(asdict(part), ensure_ascii=False))
            continue
        mark = "ok " if part.present else ("MISSING" if part.core else "absent")
        line = f"{mark:8} {part.name:20} {part.enables:42} {part.detail}"
        click.echo(line if part.present else f"{line}\n{'':8} add it: {part.fix}")
    if any(p.core and not p.present for p in parts):
        raise SystemExit(2)
