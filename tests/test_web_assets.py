"""The page looks the same on a machine without a CJK font: its own web font covers every
character its files use; a favicon is served; the text panel is not raw JSON."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the 'web' extra is not installed")
from fontTools.ttLib import TTFont  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from aigc_tag.web.app import create_app  # noqa: E402

STATIC = Path(__file__).resolve().parents[1] / "aigc_tag" / "web" / "static"


@pytest.fixture
def client(tmp_path) -> TestClient:
    return TestClient(create_app(tmp_root=tmp_path))


def test_the_web_font_covers_every_cjk_character_of_the_page(client):
    resp = client.get("/static/PageSansSC-Regular.otf")
    assert resp.status_code == 200
    cmap = TTFont(io.BytesIO(resp.content)).getBestCmap()
    used = set()
    for name in ("index.html", "i18n.js", "app.js"):
        used |= {c for c in (STATIC / name).read_text(encoding="utf-8") if ord(c) > 0x2E7F}
    missing = sorted(c for c in used if ord(c) not in cmap)
    assert not missing, f"run python tools/make_web_font.py: {''.join(missing)}"
    css = client.get("/static/app.css").text
    assert re.search(r'@font-face\{font-family:"AIGC Page Sans";src:url\("/static/PageSansSC', css)
    assert 'font:15px/1.5 "AIGC Page Sans"' in css


def test_favicon(client):
    resp = client.get("/favicon.ico")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in resp.content
    assert 'rel="icon"' in client.get("/").text


def test_text_panel_reads_fields_not_raw_json():
    js = (STATIC / "app.js").read_text(encoding="utf-8")
    body = js[js.index("function textSection"): js.index("function metadataSection")]
    assert "Object.keys(tl)" not in body and '"t_explicit"' in body
