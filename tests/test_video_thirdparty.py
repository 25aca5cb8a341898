"""Videos nobody here made (../shared/samples/thirdparty): tagged and verified end to end."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from aigc_tag import Tagger, verify
from aigc_tag.errors import ExistingManifest
from tests.conftest import PRODUCER

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")


def test_avi_gets_every_layer(thirdparty: Path, tmp_path: Path) -> None:
    """An AVI whose packets carry only DTS (no PTS) still has its caption timed correctly."""
    result = Tagger(PRODUCER).tag_file(thirdparty / "unsigned" / "test.avi", tmp_path / "t.avi")
    assert result.layers[:1] == ["visible"] and "metadata" in result.layers
    assert "watermark" in result.layers, result.warnings
    report = verify(tmp_path / "t.avi")
    assert report.verdict.value == "compliant", [c.to_json() for c in report.failed()]
    assert report.watermark["payload"]["hex"] == result.watermark_payload
    assert report.visible_label["found_in_pixels"] is True and report.visible_label["shown_s"] >= 2
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format_tags=AIGC",
                            "-of", "default=nw=1", str(tmp_path / "t.avi")],
                           capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert result.label.ProduceID in probe


def test_mov_label_only_and_signed_mp4_guarded(thirdparty: Path, tmp_path: Path) -> None:
    mov = thirdparty / "unsigned" / "C-recorded-as-mov.mov"
    Tagger(PRODUCER, visible=False, watermark=False).tag_file(mov, tmp_path / "c.mov")
    assert verify(tmp_path / "c.mov", watermark=False).verdict.value == "compliant"

    signed = thirdparty / "c2pa-signed" / "video1.mp4"
    with pytest.raises(ExistingManifest):
        Tagger(PRODUCER, visible=False, watermark=False).tag_file(signed, tmp_path / "v.mp4")
    assert not (tmp_path / "v.mp4").exists()
