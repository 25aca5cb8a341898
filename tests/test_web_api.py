"""The web API (``aigc-tag serve``) through the ASGI test client: no network, no browser."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("multipart")
from conftest import PRODUCER  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from aigc_tag import Tagger  # noqa: E402
from aigc_tag.verify import verify  # noqa: E402
from aigc_tag.web.app import create_app, prefer_zh  # noqa: E402

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


@pytest.fixture(scope="module")
def tagged(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("web-tagged")
    tagger = Tagger(PRODUCER)
    files = {"image": out / "landscape.jpg", "audio": out / "tune.wav"}
    tagger.tag_file(SAMPLES / "landscape.jpg", files["image"])
    tagger.tag_file(SAMPLES / "tune.wav", files["audio"])
    return files


@pytest.fixture
def tmp_root(tmp_path) -> Path:
    root = tmp_path / "uploads"
    root.mkdir()
    return root


@pytest.fixture
def client(tmp_root) -> TestClient:
    return TestClient(create_app(tmp_root=tmp_root, max_upload_bytes=8 << 20))


def _post(client: TestClient, *files: tuple[str, bytes], query: str = ""):
    body = [("files", (name, io.BytesIO(data), "application/octet-stream")) for name, data in files]
    return client.post("/api/verify" + query, files=body)


def test_health_and_headers(client):
    resp = client.get("/api/health")
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "ok" and body["tag"] is False
    assert body["max_upload_bytes"] == 8 << 20
    csp = resp.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp


def test_page_is_self_contained_and_follows_accept_language(client):
    zh = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})
    assert zh.status_code == 200 and 'data-lang="zh"' in zh.text
    en = client.get("/", headers={"Accept-Language": "en-US,en;q=0.9,zh;q=0.5"})
    assert 'data-lang="en"' in en.text
    assert 'data-lang="en"' in client.get("/?lang=en", headers={"Accept-Language": "zh"}).text
    for page in (zh.text, en.text):
        assert "http://" not in page.replace('href="/openapi.json"', "")
        assert "https://" not in page
    for asset in ("app.js", "app.css", "i18n.js"):
        got = client.get(f"/static/{asset}")
        assert got.status_code == 200 and "https://" not in got.text
    js = client.get("/static/app.js").text
    assert "innerHTML" not in js and "insertAdjacentHTML" not in js and "eval(" not in js


def test_prefer_zh():
    assert prefer_zh("zh-TW") and prefer_zh("en;q=0.3, zh-CN;q=0.8")
    assert not prefer_zh(None) and not prefer_zh("en-GB,zh;q=0.1") and not prefer_zh("q=;;,")


def test_verify_tagged_image(client, tagged, tmp_root):
    resp = _post(client, ("landscape.jpg", tagged["image"].read_bytes()), query="?preview=1")
    assert resp.status_code == 200
    (report,) = resp.json()
    assert report["path"] == "landscape.jpg"
    assert report["verdict"] == "compliant"
    assert report["media_type"] == "image"
    assert report["metadata_label"]["ContentProducer"] == PRODUCER
    assert report["visible_label"]["found_in_pixels"] is True
    assert len(report["visible_label"]["box"]) == 4
    assert report["watermark"]["detected"] is True
    ids = {c["id"]: c["outcome"] for c in report["checks"]}
    assert ids["M03"] == "pass" and ids["X-I1"] == "pass" and ids["W01"] == "pass"
    assert all(c["clause"] for c in report["checks"])
    assert report["preview"]["data_uri"].startswith("data:image/jpeg;base64,")
    assert (report["preview"]["width"], report["preview"]["height"]) == (640, 480)
    # the same report as the library gives, but for the name and the preview
    lib = verify(tagged["image"]).to_json()
    assert [c["id"] for c in lib["checks"]] == [c["id"] for c in report["checks"]]
    assert not any(tmp_root.iterdir()), "uploads must be deleted after the request"
    assert str(tmp_root) not in resp.text


def test_verify_many_files_in_one_request(client, tagged, tmp_root):
    resp = _post(
        client,
        ("tune.wav", tagged["audio"].read_bytes()),
        ("badge.png", (SAMPLES / "badge.png").read_bytes()),
    )
    assert resp.status_code == 200
    audio, untagged = resp.json()
    assert audio["path"] == "tune.wav" and audio["verdict"] == "compliant"
    assert audio["media_type"] == "audio"
    assert audio["watermark"]["detected"] is True and audio["watermark"]["ranges"]
    assert audio["audible_label"]["declared"]["found"] is True
    assert "preview" not in audio
    assert untagged["path"] == "badge.png" and untagged["verdict"] == "not_found"
    assert untagged["metadata_label"] is None
    assert not any(tmp_root.iterdir())


def test_unsupported_and_broken_files_are_inconclusive(client, tmp_root):
    resp = _post(
        client,
        ("../../etc/evil<img src=x onerror=alert(1)>.bin", b"hello\x00\x01 not a media file" * 20),
        ("cut.png", (SAMPLES / "badge.png").read_bytes()[:200]),
    )
    assert resp.status_code == 200
    unsupported, broken = resp.json()
    # the directory part is dropped, the rest is kept verbatim (the page escapes it)
    assert unsupported["path"] == "evil<img src=x onerror=alert(1)>.bin"
    assert unsupported["verdict"] == "inconclusive"
    assert unsupported["checks"][0]["id"] == "M01"
    assert unsupported["checks"][0]["outcome"] == "error"
    assert "not a supported format" in unsupported["checks"][0]["message"]
    assert str(tmp_root) not in unsupported["checks"][0]["message"]
    assert broken["verdict"] == "inconclusive"
    assert any(c["outcome"] == "error" for c in broken["checks"])
    assert not any(tmp_root.iterdir())


def test_no_file_is_a_clear_400(client):
    resp = client.post("/api/verify", data={"x": "1"})
    assert resp.status_code == 400
    assert resp.json()["error"] == "no_file"


def test_oversize_upload_is_413(tmp_root):
    client = TestClient(create_app(tmp_root=tmp_root, max_upload_bytes=64 << 10))
    resp = _post(client, ("big.png", b"\x89PNG\r\n\x1a\n" + bytes(200 << 10)))
    assert resp.status_code == 413
    body = resp.json()
    assert body["error"] == "too_large" and "MB" in body["message"]
    assert not any(tmp_root.iterdir())


def test_oversize_upload_without_content_length_is_413(tmp_root):
    client = TestClient(create_app(tmp_root=tmp_root, max_upload_bytes=64 << 10))
    boundary = "xyzzy"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="a.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()

    def body():
        yield head
        for _ in range(20):
            yield bytes(16 << 10)
        yield f"\r\n--{boundary}--\r\n".encode()

    resp = client.post(
        "/api/verify",
        content=body(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert resp.status_code == 413
    assert not any(tmp_root.iterdir())


def test_openapi_lists_the_routes(client):
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    for path in ("/api/verify", "/api/health", "/api/tag", "/api/render", "/api/checks"):
        assert path in spec["paths"]
    assert "413" in spec["paths"]["/api/verify"]["post"]["responses"]


def test_checks_registry_has_every_check(client):
    from aigc_tag.verify.checks import CHECKS

    checks = {c["id"]: c for c in client.get("/api/checks").json()}
    assert set(checks) == set(CHECKS)
    assert checks["M03"]["clause"] and checks["M03"]["question"]


def test_render_html_report(client, tagged):
    render = pytest.importorskip("aigc_tag.verify.render")
    assert hasattr(render, "render_html")
    (report,) = _post(
        client, ("x<script>.jpg", tagged["image"].read_bytes()), query="?preview=1"
    ).json()
    resp = client.post("/api/render", content=json.dumps([report]))
    assert resp.status_code == 200
    assert "attachment" in resp.headers["content-disposition"]
    assert "x&lt;script&gt;.jpg" in resp.text and "<script>" not in resp.text
    assert "data:image/jpeg;base64," in resp.text
    bad = client.post("/api/render", content=b"not json")
    assert bad.status_code == 400


def test_tag_is_off_by_default(client):
    resp = client.post("/api/tag", files={"file": ("a.jpg", b"x", "image/jpeg")})
    assert resp.status_code == 404
    assert resp.json()["error"] == "tag_disabled"


def test_tag_on_returns_a_compliant_file(tmp_root, tmp_path):
    client = TestClient(create_app(tmp_root=tmp_root, tagger=Tagger(PRODUCER)))
    assert client.get("/api/health").json()["tag"] is True
    src = (SAMPLES / "landscape.jpg").read_bytes()
    resp = client.post("/api/tag", files={"file": ("landscape.jpg", src, "image/jpeg")})
    assert resp.status_code == 200
    assert 'filename="landscape.aigc.jpg"' in resp.headers["content-disposition"]
    out = tmp_path / "landscape.aigc.jpg"
    out.write_bytes(resp.content)
    report = verify(out)
    assert report.verdict.value == "compliant"
    assert report.metadata_label["ContentProducer"] == PRODUCER
    junk = client.post("/api/tag", files={"file": ("junk.bin", b"\x00" * 100, "x/y")})
    assert junk.status_code == 422 and junk.json()["error"] == "cannot_tag"
    assert not any(tmp_root.iterdir())


def test_serve_command_is_registered():
    from click.testing import CliRunner

    from aigc_tag.cli import main

    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    assert "--max-upload-mb" in result.output and "--tag" in result.output
    bad = CliRunner().invoke(main, ["serve", "--tag"])
    assert bad.exit_code != 0 and "--producer" in bad.output


def test_verify_video_has_opening_frame_preview(client, tmp_path, tmp_root):
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed")
    src = tmp_path / "clip.mp4"
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
         "testsrc=size=320x240:rate=10", "-t", "2", "-pix_fmt", "yuv420p", str(src)],
        check=True, timeout=60,
    )  # fmt: skip
    out = tmp_path / "clip.aigc.mp4"
    Tagger(PRODUCER).tag_file(src, out)
    (report,) = _post(client, ("clip.mp4", out.read_bytes()), query="?preview=1").json()
    assert report["media_type"] == "video" and report["verdict"] == "compliant"
    assert report["preview"]["width"] == 320 and report["preview"]["height"] == 240
    assert len(report["visible_label"]["box"]) == 4
    assert report["watermark"]["ranges"]
    assert not any(tmp_root.iterdir())
