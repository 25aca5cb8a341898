"""Verify at the edges: a DASH media segment (label and C2PA through its init segment), an
encrypted PDF (C2PA "cannot check", not "absent"), and the per-file safety net."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pikepdf
import pytest
from conftest import PRODUCER

import aigc_tag
from aigc_tag import verify
from aigc_tag.verify import Verdict

needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not found")


@pytest.fixture
def dash(tmp_path):
    """A two-segment DASH presentation made by ffmpeg's dash muxer, its init segment tagged."""
    cmd = ["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i",
           "testsrc=size=160x120:rate=25:duration=4", "-c:v", "libx264", "-g", "25", "-f", "dash",
           "-init_seg_name", "init.mp4", "-media_seg_name", "seg-$Number$.m4s",
           "-seg_duration", "2", str(tmp_path / "out.mpd")]  # fmt: skip
    subprocess.run(cmd, check=True, timeout=120)
    init = tmp_path / "init.mp4"
    tagged = aigc_tag.tag_bytes(init.read_bytes(), producer=PRODUCER, visible=False,
                                watermark=False)  # fmt: skip
    init.write_bytes(tagged)
    return tmp_path


@needs_ffmpeg
def test_dash_segment_reads_the_label_of_its_init_segment(dash):
    report = verify(dash / "seg-1.m4s")
    assert report.format == "m4s" and report.verdict is Verdict.COMPLIANT
    assert report.metadata_label["ContentProducer"] == PRODUCER
    assert report.metadata_label["carrier"].startswith("init.mp4 (init segment)")


@needs_ffmpeg
def test_dash_segment_alone_is_inconclusive_and_cannot_be_tagged(dash, tmp_path):
    lone = tmp_path / "alone"
    lone.mkdir()
    shutil.copy(dash / "seg-2.m4s", lone)
    report = verify(lone / "seg-2.m4s")  # neither label nor manifest can be checked
    assert report.verdict is Verdict.INCONCLUSIVE and report.metadata_label is None
    assert "without its init segment" in report.c2pa["error"]
    with pytest.raises(aigc_tag.UnsupportedFormat, match="init segment"):
        aigc_tag.tag_bytes((lone / "seg-2.m4s").read_bytes(), producer=PRODUCER)


def test_encrypted_pdf_says_c2pa_cannot_be_checked(tmp_path):
    path = tmp_path / "locked.pdf"
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.save(path, encryption=pikepdf.Encryption(user="secret", owner="owner"))
    report = verify(path)
    assert report.verdict is Verdict.INCONCLUSIVE
    assert report.c2pa is not None and "encrypted" in (report.c2pa["error"] or "")


def test_an_unexpected_exception_is_one_inconclusive_report(monkeypatch):
    import sys

    verify_module = sys.modules["aigc_tag.verify"]  # the package attribute is the function

    def broken(*args, **kwargs):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(verify_module, "_verify_bytes", broken)
    report = verify_module.verify_bytes(b"anything", name="x.png")
    assert report.verdict is Verdict.INCONCLUSIVE
    assert "internal error while verifying: RuntimeError: simulated bug" in report.checks[0].message


def test_a_truncated_heic_is_one_line_and_leaves_nothing(thirdparty, tmp_path):
    src = tmp_path / "cut.heic"
    src.write_bytes((thirdparty / "unsigned" / "sample1.heic").read_bytes()[:5000])
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "aigc_tag", "tag", str(src), "-o", str(out), "--producer",
           PRODUCER, "--no-ledger"]  # fmt: skip
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    errors = [line for line in res.stderr.splitlines() if not line.startswith("aigc-tag: tagged")]
    assert res.returncode == 2 and len(errors) == 1 and "cut.heic" in errors[0], res.stderr
    assert not out.exists() or not any(out.iterdir())
    assert verify(src).verdict is Verdict.INCONCLUSIVE
