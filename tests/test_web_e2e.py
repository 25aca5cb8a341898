"""End to end: the real ``aigc-tag serve`` app on uvicorn, driven by headless Debian Chromium.

Needs ``apt-get install chromium`` and ``pip install playwright`` (Playwright drives the system
browser through ``executable_path``; no browser is downloaded). Saves one screenshot per case
into ``build/screenshots/web-*.png`` (never into the tracked tree); the README's images in docs/
are refreshed on purpose with
``AIGC_TAG_SCREENSHOT_DIR=docs python -m pytest tests/test_web_e2e.py``.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the 'web' extra is not installed")
pytest.importorskip("multipart", reason="the 'web' extra is not installed")
uvicorn = pytest.importorskip("uvicorn", reason="the 'web' extra is not installed")
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="python playwright is not installed (pip install playwright)"
)

from conftest import PRODUCER  # noqa: E402

from aigc_tag import Tagger  # noqa: E402
from aigc_tag.web.app import create_app  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
SHOTS = Path(os.environ.get("AIGC_TAG_SCREENSHOT_DIR") or ROOT / "build" / "screenshots")
CHROMIUM = os.environ.get("AIGC_TAG_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 45_000

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).is_file(), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("web-e2e")
    tagger = Tagger(PRODUCER)
    got = {"image": out / "landscape.jpg", "audio": out / "tune.wav", "untagged": out / "badge.png"}
    tagger.tag_file(SAMPLES / "landscape.jpg", got["image"])
    tagger.tag_file(SAMPLES / "tune.wav", got["audio"])
    shutil.copy(SAMPLES / "badge.png", got["untagged"])
    return got


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    uploads = tmp_path_factory.mktemp("web-uploads")
    app = create_app(tmp_root=uploads, max_upload_bytes=32 << 20)
    config = uvicorn.Config(app, host="127.0.0.1", port=_free_port(), log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{config.port}", uploads
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as pw:
        try:
            b = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        except Exception as exc:  # noqa: BLE001 - a browser that cannot start is an environment gap
            pytest.skip(f"Chromium at {CHROMIUM} does not start under Playwright: {exc}")
        yield b
        b.close()


def _page(browser, locale: str):
    ctx = browser.new_context(locale=locale, viewport={"width": 1100, "height": 900})
    page = ctx.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    return ctx, page


def _upload(page, path: Path):
    page.set_input_files("#picker", str(path))
    card = page.locator(f'article.card[data-name="{path.name}"]')
    card.locator('.verdict:not([data-verdict="pending"])').wait_for()
    return card


def _shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def test_tagged_image(server, browser, files):
    url, uploads = server
    ctx, page = _page(browser, "en-US")
    try:
        page.goto(url + "/")
        page.locator("body[data-ready='1']").wait_for()
        assert page.locator("h1").inner_text() == "AIGC label check"
        card = _upload(page, files["image"])
        verdict = card.locator(".verdict")
        assert verdict.get_attribute("data-verdict") == "compliant"
        assert verdict.inner_text().strip() == "Compliant"
        meta = card.locator('[data-section="metadata"]')
        assert PRODUCER in meta.locator('tr[data-field="ContentProducer"] td').inner_text()
        assert "AI-generated" in meta.locator('tr[data-field="Label"] td').inner_text()
        assert card.locator('[data-role="caption-box"]').count() == 1
        box = card.locator('[data-role="caption-box"]').bounding_box()
        img = card.locator(".preview img").bounding_box()
        assert box and img and box["x"] > img["x"] + img["width"] / 2  # bottom-right caption
        assert box["y"] > img["y"] + img["height"] / 2
        for check in ("M03", "X-I1", "X-I3", "W01"):
            row = card.locator(f'tr[data-check="{check}"]')
            assert row.get_attribute("data-outcome") == "pass"
        assert "GB 45438" in card.locator('tr[data-check="M03"]').inner_text()
        assert "1a89" in card.locator('[data-section="watermark"]').inner_text()
        assert card.locator('[data-action="json"]').count() == 1
        _shoot(page, "web-image.png")
        page.click("#lang-zh")
        assert verdict.inner_text().strip() == "合规"
        assert page.locator("h1").inner_text() == "AIGC 标识检查"
        assert "含有AIGC元数据隐式标识" in card.locator('tr[data-check="M03"]').inner_text()
        assert "服务提供者" in card.locator('[data-section="metadata"]').inner_text()
        _shoot(page, "web-image-zh.png")
        with page.expect_download() as dl:
            card.locator('[data-action="json"]').click()
        assert dl.value.suggested_filename.endswith(".json")
        with page.expect_download() as dl:
            card.locator('[data-action="html"]').click()
        html = Path(dl.value.path()).read_text(encoding="utf-8")
        assert "landscape.jpg" in html and "M03" in html and "<script" not in html
        assert not any(uploads.iterdir())
    finally:
        ctx.close()


def test_tagged_audio_in_chinese_by_accept_language(server, browser, files):
    url, _ = server
    ctx, page = _page(browser, "zh-CN")
    try:
        page.goto(url + "/")
        page.locator("body[data-ready='1']").wait_for()
        assert page.locator("h1").inner_text() == "AIGC 标识检查"
        card = _upload(page, files["audio"])
        verdict = card.locator(".verdict")
        assert verdict.get_attribute("data-verdict") == "compliant"
        assert verdict.inner_text().strip() == "合规"
        assert card.locator('[data-section="audible"]').count() == 1
        wm = card.locator('[data-section="watermark"]')
        assert wm.locator(".timeline .seg-wm").count() >= 1
        assert "含水印的时间段" in wm.inner_text()
        for check in ("M03", "X-A1", "W01"):
            assert card.locator(f'tr[data-check="{check}"]').get_attribute("data-outcome") == "pass"
        _shoot(page, "web-audio.png")
        page.click("#lang-en")
        assert verdict.inner_text().strip() == "Compliant"
        assert "Marked time ranges" in wm.inner_text()
    finally:
        ctx.close()


def test_untagged_and_hostile_name(server, browser, files, tmp_path):
    url, _ = server
    hostile = tmp_path / "<img src=x onerror=window.pwned=1>.png"
    shutil.copy(files["untagged"], hostile)
    ctx, page = _page(browser, "en-US")
    try:
        page.goto(url + "/")
        page.locator("body[data-ready='1']").wait_for()
        card = _upload(page, files["untagged"])
        verdict = card.locator(".verdict")
        assert verdict.get_attribute("data-verdict") == "not_found"
        assert verdict.inner_text().strip() == "No label found"
        assert "No AIGC metadata label" in card.locator('[data-section="metadata"]').inner_text()
        assert card.locator('tr[data-check="M03"]').get_attribute("data-outcome") == "skip"
        _shoot(page, "web-untagged.png")
        odd = _upload(page, hostile)
        assert odd.locator(".fname").inner_text() == hostile.name  # shown as text
        assert page.evaluate("window.pwned") is None
        assert page.locator("img[src='x']").count() == 0
    finally:
        ctx.close()


def test_text_whose_only_label_is_the_explicit_one(server, browser, tmp_path):
    """Plain text: the wording is the label (compliant); Markdown without front matter: the
    wording was found and the metadata label is missing, so never "No label found"."""
    url, _ = server
    words = "巴黎是法国的首都，塞纳河穿城而过。\n\n本内容由人工智能生成\n"
    (tmp_path / "answer.txt").write_text(words, encoding="utf-8")
    (tmp_path / "answer.md").write_text("# 答案\n\n" + words, encoding="utf-8")
    ctx, page = _page(browser, "en-US")
    try:
        page.goto(url + "/")
        page.locator("body[data-ready='1']").wait_for()
        plain = _upload(page, tmp_path / "answer.txt").locator(".verdict")
        assert plain.get_attribute("data-verdict") == "compliant"
        md = _upload(page, tmp_path / "answer.md")
        verdict = md.locator(".verdict")
        assert verdict.get_attribute("data-verdict") == "not_found"
        assert verdict.inner_text().strip() == "No metadata label"
        assert "explicit label was found" in md.inner_text()
        page.click("#lang-zh")
        assert verdict.inner_text().strip() == "未发现隐式标识"
    finally:
        ctx.close()


def test_unreadable_label_is_inconclusive_not_absent(server, browser, tmp_path):
    import struct
    import zlib

    url, _ = server
    body = b"AIGC\0\0" + zlib.compress(b'{"AIGC":{"Label":"1"}}' + bytes(range(256)) * 4)[:200]
    crc = struct.pack(">I", zlib.crc32(b"zTXt" + body))
    cut = struct.pack(">I", len(body)) + b"zTXt" + body + crc
    src = (SAMPLES / "badge.png").read_bytes()
    at = src.index(b"IDAT") - 4
    path = tmp_path / "cut-label.png"
    path.write_bytes(src[:at] + cut + src[at:])
    ctx, page = _page(browser, "en-US")
    try:
        page.goto(url + "/")
        page.locator("body[data-ready='1']").wait_for()
        card = _upload(page, path)
        assert card.locator(".verdict").get_attribute("data-verdict") == "inconclusive"
        meta = card.locator('[data-section="metadata"]').inner_text()
        assert "could not be read or parsed" in meta and "No AIGC metadata" not in meta
        assert "truncated" in card.locator('[data-role="problem"]').inner_text()
    finally:
        ctx.close()


def test_unsupported_file_is_shown_as_inconclusive(server, browser, tmp_path):
    url, _ = server
    junk = tmp_path / "notes.bin"
    junk.write_bytes(b"this is not a media file\x00\x01" * 40)
    ctx, page = _page(browser, "en-US")
    try:
        page.goto(url + "/")
        page.locator("body[data-ready='1']").wait_for()
        card = _upload(page, junk)
        verdict = card.locator(".verdict")
        assert verdict.get_attribute("data-verdict") == "inconclusive"
        assert verdict.inner_text().strip() == "Inconclusive"
        problem = card.locator('[data-role="problem"]')
        assert "could not be checked" in problem.inner_text()
        assert "not a supported format" in problem.inner_text()
        assert card.locator('tr[data-check="M01"]').get_attribute("data-outcome") == "error"
        assert card.locator('[data-section="metadata"]').count() == 0  # nothing was searched
        _shoot(page, "web-unsupported.png")
    finally:
        ctx.close()
