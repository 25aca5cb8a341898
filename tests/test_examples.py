"""The README's worked examples run as a user runs them, and the API reference builds.

Each script in docs/examples/ tags one modality through the public API only, writes into the
folder it is given and verifies what it wrote (exit 0 only when every file is compliant). The API
reference is rendered from the docstrings with pdoc; a public name that stops importing, or a
shortcut that loses its docstring, fails here."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "docs" / "examples").glob("tag_*.py"))


def test_there_is_one_example_per_modality():
    assert {p.stem for p in EXAMPLES} == {"tag_image", "tag_audio", "tag_video", "tag_text"}


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs_and_its_outputs_verify(script, tmp_path):
    res = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True,
                         text=True, timeout=300, cwd=tmp_path)  # fmt: skip
    assert res.returncode == 0, res.stdout + res.stderr
    assert "compliant" in res.stdout and "noncompliant" not in res.stdout, res.stdout
    written = [p for p in tmp_path.iterdir() if p.is_file()]
    assert written, "the example wrote nothing"


def test_api_reference_builds_with_every_public_name(tmp_path):
    pytest.importorskip("pdoc")
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        from build_api_docs import MODULES, build
    finally:
        sys.path.remove(str(ROOT / "tools"))
    pages = build(tmp_path)
    names = {p.relative_to(tmp_path).as_posix() for p in pages}
    for module in MODULES:
        assert module.replace(".", "/") + ".html" in names, names
    import aigc_tag

    package_page = (tmp_path / "aigc_tag.html").read_text(encoding="utf-8")
    for name in ("tag_image", "tag_audio", "tag_video", "tag_text", "tag_bytes", "verify_bytes"):
        assert f'id="{name}"' in package_page, name
        summary = re.split(r"[`(:;,]", getattr(aigc_tag, name).__doc__)[0][:25]
        assert summary in package_page, (name, summary)
    tagging_page = (tmp_path / "aigc_tag" / "tagging.html").read_text(encoding="utf-8")
    assert 'id="Tagger.tag_image"' in tagging_page
    # ``aigc_tag.verify`` is both the function and its subpackage: pdoc lists the subpackage on
    # the package page, and the function on the subpackage's page.
    verify_page = (tmp_path / "aigc_tag" / "verify.html").read_text(encoding="utf-8")
    assert 'id="verify"' in verify_page and 'id="Report.to_json"' in verify_page
