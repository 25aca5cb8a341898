"""Issue 17, hardening second round: the web server belongs to its operator, bodies stream with
their limit, bombs are refused by what they cost, no crash from a name or a value, the walk.

Bomb cases run ``aigc-tag`` in a subprocess under ``RLIMIT_AS`` (about 3 GiB) and check the clean
one-line refusal and the exit code: memory is the thing under test, so it is bounded for real.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import resource
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
AS_LIMIT = 3 << 30


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (AS_LIMIT, AS_LIMIT))


def run_cli(*args: str, timeout: float = 60, env: dict | None = None):
    """``aigc-tag ARGS`` in a child under a 3 GiB address-space limit."""
    return subprocess.run(
        [sys.executable, "-m", "aigc_tag", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=_limited,
        env={**os.environ, **(env or {})},
    )


def _no_traceback(proc) -> None:
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "MemoryError" not in proc.stderr, proc.stderr


# --------------------------------------------------------------------------- web server


def _web():
    pytest.importorskip("starlette")
    pytest.importorskip("multipart")
    from starlette.testclient import TestClient

    from aigc_tag.web.app import create_app
    from aigc_tag.web.guard import allowed_hosts

    return TestClient, create_app, allowed_hosts


def _asgi_post(app, path: str, chunks, headers=()) -> tuple[int, int, bytes]:
    """POST ``chunks`` to ``app`` straight through ASGI, chunk by chunk as a socket would;
    returns (status, bytes the app pulled, body)."""
    pulled = 0
    it = iter(chunks)
    out: dict = {"body": b""}

    async def receive():
        nonlocal pulled
        chunk = next(it, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message):
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
        elif message["type"] == "http.response.body":
            out["body"] += message.get("body", b"")

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8765"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8765),
    }
    asyncio.run(app(scope, receive, send))
    return out["status"], pulled, out["body"]


def test_render_streams_its_body_and_stops_at_the_limit(tmp_path):
    _, create_app, _ = _web()
    pytest.importorskip("aigc_tag.verify.render")
    app = create_app(tmp_root=tmp_path, max_upload_bytes=1 << 20)
    chunk = b" " * (64 << 10)
    endless = (chunk for _ in range(1 << 20))  # 64 GiB if it were read whole
    status, pulled, body = _asgi_post(app, "/api/render", endless)
    assert status == 413 and json.loads(body)["error"] == "too_large"
    assert pulled <= (1 << 20) + len(chunk)
    # a lying Content-Length is refused before a byte is read
    status, pulled, _ = _asgi_post(
        app, "/api/render", [chunk], headers=[(b"content-length", b"99999999999")]
    )
    assert status == 413 and pulled == 0


def test_multipart_upload_stops_at_the_limit(tmp_path):
    _, create_app, _ = _web()
    app = create_app(tmp_root=tmp_path, max_upload_bytes=1 << 20)
    head = (
        b'--B\r\nContent-Disposition: form-data; name="files"; filename="a.png"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n"
    )
    chunks = [head] + [b"\0" * (64 << 10)] * 10_000
    status, pulled, _ = _asgi_post(
        app, "/api/verify", chunks, headers=[(b"content-type", b"multipart/form-data; boundary=B")]
    )
    assert status == 413 and pulled <= (1 << 20) + (64 << 10)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 200_000 + b"]" * 200_000,
        json.dumps({"path": "x", "verdict": "compliant", "checks": 5}).encode(),
        json.dumps({"path": "x", "verdict": "bogus", "checks": []}).encode(),
        json.dumps({"path": 1, "verdict": "compliant", "checks": []}).encode(),
        json.dumps({"path": "x", "verdict": "compliant", "checks": [{"outcome": 5}]}).encode(),
        json.dumps({"path": "x", "verdict": "compliant", "checks": [7]}).encode(),
        json.dumps({"path": "x", "verdict": "compliant", "metadata_label": "s"}).encode(),
        json.dumps({"path": "x", "verdict": "compliant", "labels": [1, 2]}).encode(),
        ('{"evidence": {"a": ' + "[" * 40 + "1" + "]" * 40 + "}}").encode(),
        json.dumps("a string").encode(),
        b"\xff\xfe not utf-8",
    ],
    ids=["deep", "checks-int", "verdict", "path-int", "outcome-int", "check-int",
         "label-str", "labels-int", "deep-evidence", "string", "bad-utf8"],
)  # fmt: skip
def test_render_rejects_bad_report_json_with_400(tmp_path, body):
    TestClient, create_app, _ = _web()
    pytest.importorskip("aigc_tag.verify.render")
    client = TestClient(create_app(tmp_root=tmp_path))
    resp = client.post("/api/render", content=body)
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"] == "bad_report" and resp.json()["message"]


def test_host_header_must_name_the_server(tmp_path):
    TestClient, create_app, allowed_hosts = _web()
    hosts = allowed_hosts("127.0.0.1", 8765, ["box.lan"])
    client = TestClient(create_app(tmp_root=tmp_path, allowed_hosts=hosts),
                        base_url="http://127.0.0.1:8765")  # fmt: skip
    assert client.get("/api/health").status_code == 200
    for good in ("localhost:8765", "[::1]:8765", "box.lan:8765", "LOCALHOST:8765"):
        assert client.get("/api/health", headers={"Host": good}).status_code == 200, good
    for bad in ("evil.example", "evil.example:8765", "127.0.0.1:9999", "127.0.0.1", ""):
        resp = client.get("/", headers={"Host": bad})
        assert resp.status_code == 400 and resp.json()["error"] == "bad_host", bad
        assert "content-security-policy" in resp.headers


def test_allowed_hosts_forms():
    _, _, allowed_hosts = _web()
    assert allowed_hosts("::1", 80) >= {"[::1]:80", "[::1]", "localhost:80", "127.0.0.1"}
    assert allowed_hosts("192.168.1.5", 8000) == {"192.168.1.5:8000"}
    assert "box:9000" in allowed_hosts("127.0.0.1", 8000, ["box:9000"])
    assert "box" in allowed_hosts("127.0.0.1", 0, ["box"])


@pytest.fixture
def tag_client(tmp_path):
    TestClient, create_app, allowed_hosts = _web()
    from conftest import PRODUCER

    from aigc_tag import Tagger

    app = create_app(tmp_root=tmp_path, tagger=Tagger(PRODUCER),
                     allowed_hosts=allowed_hosts("127.0.0.1", 8765))  # fmt: skip
    return TestClient(app, base_url="http://127.0.0.1:8765"), app.state.token


def _tag(client, **headers):
    src = (SAMPLES / "badge.png").read_bytes()
    return client.post("/api/tag", files={"file": ("badge.png", src, "image/png")},
                       headers=headers)  # fmt: skip


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://127.0.0.1:9999"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "http://127.0.0.1:8765", "Sec-Fetch-Site": "cross-site"},
    ],
)
def test_cross_origin_state_change_is_403(tag_client, headers):
    client, token = tag_client
    resp = _tag(client, **headers, **{"X-AIGC-Tag-Token": token})
    assert resp.status_code == 403 and resp.json()["error"] == "cross_origin"
    verify = client.post("/api/verify", files={"files": ("a.png", b"x")}, headers=headers)
    assert verify.status_code == 403


def test_browser_post_needs_the_page_token(tag_client):
    client, token = tag_client
    same = {"Origin": "http://127.0.0.1:8765", "Sec-Fetch-Site": "same-origin"}
    assert _tag(client, **same).status_code == 403
    assert _tag(client, **same, **{"X-AIGC-Tag-Token": "x" * 43}).json()["error"] == "csrf"
    assert _tag(client, Referer="http://127.0.0.1:8765/").status_code == 403
    ok = _tag(client, **same, **{"X-AIGC-Tag-Token": token})
    assert ok.status_code == 200 and ok.content[:4] == b"\x89PNG"
    # the page carries the token; a client with no browser headers (curl) needs none
    page = client.get("/").text
    assert f'<meta name="aigc-tag-token" content="{token}">' in page
    assert _tag(client).status_code == 200
    # reading is not state-changing: a cross-site GET is answered (and unreadable to the site)
    assert client.get("/api/health", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 200


def test_each_app_has_its_own_token(tmp_path):
    _, create_app, _ = _web()
    assert create_app(tmp_root=tmp_path).state.token != create_app(tmp_root=tmp_path).state.token


def test_serve_has_allowed_host_option():
    from click.testing import CliRunner

    from aigc_tag.cli import main

    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0 and "--allowed-host" in result.output


def test_render_a_valid_report_still_works(tmp_path):
    TestClient, create_app, _ = _web()
    pytest.importorskip("aigc_tag.verify.render")
    client = TestClient(create_app(tmp_root=tmp_path))
    badge = io.BytesIO((SAMPLES / "badge.png").read_bytes())
    (report,) = client.post("/api/verify", files={"files": ("badge.png", badge)}).json()
    resp = client.post("/api/render", content=json.dumps(report))
    assert resp.status_code == 200 and "badge.png" in resp.text


# --------------------------------------------------------------------------- bombs


def _deflate_spaces(n_mib: int, prefix: bytes = b"") -> bytes:
    """A zlib stream inflating to ``prefix`` + ``n_mib`` MiB of spaces, made in milliseconds by
    repeating one full-flush block (the compressor state resets after it). The checksum is
    wrong on purpose: nothing may inflate far enough to see it."""
    c = zlib.compressobj(9)
    head = c.compress(prefix) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(b" " * (1 << 20)) + c.flush(zlib.Z_FULL_FLUSH)
    return head + block * n_mib + c.flush()[:-4] + b"\0\0\0\0"


def _stream(entries: bytes, data: bytes) -> bytes:
    return b"<< " + entries + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


_PAGES = [b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
          b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"]  # fmt: skip


def _pdf(objs: list[bytes], trailer: bytes = b"") -> bytes:
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objs) + 1, trailer, xref)  # fmt: skip
    return bytes(out)


def pdf_xmp_bomb(n_mib: int) -> bytes:
    """The XMP metadata stream inflates to ``n_mib`` MiB."""
    data = _deflate_spaces(n_mib, b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>')
    meta = _stream(b"/Type /Metadata /Subtype /XML /Filter /FlateDecode", data)
    return _pdf([b"<< /Type /Catalog /Pages 2 0 R /Metadata 4 0 R >>", *_PAGES, meta])


def pdf_objstm_bomb(n_mib: int) -> bytes:
    """The Info dictionary (object 5) lives in an object stream that inflates to ``n_mib`` MiB
    (found through an xref stream, as PDF 1.5 writers do)."""
    head = b"5 0 "
    data = _deflate_spaces(n_mib, head + b"<< /Title (x) >>")
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", *_PAGES,
            _stream(b"/Type /ObjStm /N 1 /First %d /Filter /FlateDecode" % len(head), data)]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    rows = [struct.pack(">BIH", 0, 0, 65535)]
    for i, body in enumerate(objs, 1):
        rows.append(struct.pack(">BIH", 1, len(out), 0))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    rows.append(struct.pack(">BIH", 2, 4, 0))  # object 5: in object stream 4, index 0
    rows.append(struct.pack(">BIH", 1, len(out), 0))  # object 6: the xref stream itself
    xref = len(out)
    xref_stream = _stream(b"/Type /XRef /Size 7 /W [1 4 2] /Root 1 0 R /Info 5 0 R",
                          b"".join(rows))  # fmt: skip
    out += b"6 0 obj\n" + xref_stream + b"\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def big_png(side: int, color_type: int = 0, depth: int = 8) -> bytes:
    """A ``side`` x ``side`` black PNG, a few hundred KB on disk (under the 179 MP cap)."""
    c = zlib.compressobj(9)
    row = b"\0" * (1 + side * {0: 1, 2: 3, 6: 4}[color_type] * depth // 8)
    rows_per = max(1, (1 << 20) // len(row))
    block = c.compress(row * rows_per) + c.flush(zlib.Z_FULL_FLUSH)
    n, rest = divmod(side, rows_per)
    idat = block * n + c.compress(row * rest) + c.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, depth, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat)
            + _chunk(b"IEND", b""))  # fmt: skip


BOMBS = {
    "pdf-xmp": ("bomb.pdf", lambda: pdf_xmp_bomb(4096), "PDF XMP metadata stream inflates"),
    "pdf-objstm": ("objstm.pdf", lambda: pdf_objstm_bomb(4096), "PDF stream object 4 inflates"),
    "png-13000": ("big.png", lambda: big_png(13000), "image 13000x13000 = 169.0 MP"),
    "png16-13000": ("big16.png", lambda: big_png(13000, 2, 16), "13000x13000 = 169.0 MP"),
}


@pytest.fixture(scope="module")
def bombs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bombs")
    out = {}
    for key, (name, make, _) in BOMBS.items():
        out[key] = folder / name
        out[key].write_bytes(make())
    return out


@pytest.mark.parametrize("kind", list(BOMBS))
def test_bomb_verify_is_inconclusive_under_3gib(bombs, kind):
    proc = run_cli("verify", str(bombs[kind]))
    _no_traceback(proc)
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert "too large to process" in proc.stdout and BOMBS[kind][2] in proc.stdout


@pytest.mark.parametrize("kind", list(BOMBS))
def test_bomb_tag_is_a_one_line_error_exit_2_under_3gib(bombs, kind, tmp_path):
    proc = run_cli("tag", "--producer", "PG-20252A-XX", "-o", str(tmp_path / "out"),
                   str(bombs[kind]))  # fmt: skip
    _no_traceback(proc)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and str(bombs[kind]) in errors[0]
    # tagging saves through qpdf first: the XMP bomb may be met there, as stream object 4
    expected = "PDF stream object 4 inflates" if kind == "pdf-xmp" else BOMBS[kind][2]
    assert "too large to process" in errors[0] and (
        expected in errors[0] or BOMBS[kind][2] in errors[0]
    )
    assert not list((tmp_path / "out").glob("*")) if (tmp_path / "out").exists() else True


def test_bomb_json_report_and_web_api(bombs, tmp_path):
    proc = run_cli("verify", "--json", str(bombs["pdf-xmp"]), str(bombs["png-13000"]))
    _no_traceback(proc)
    reports = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["verdict"] for r in reports] == ["inconclusive", "inconclusive"]
    TestClient, create_app, _ = _web()
    client = TestClient(create_app(tmp_root=tmp_path, max_upload_bytes=16 << 20))
    resp = client.post(
        "/api/verify?preview=1",
        files=[("files", ("big.png", bombs["png-13000"].read_bytes())),
               ("files", ("bomb.pdf", bombs["pdf-xmp"].read_bytes()))],
    )  # fmt: skip
    assert resp.status_code == 200
    assert [r["verdict"] for r in resp.json()] == ["inconclusive", "inconclusive"]
    assert "preview" not in resp.json()[0]


def test_max_megapixels_option_and_env(tmp_path):
    from PIL import Image

    src = tmp_path / "two-mp.png"
    Image.new("RGB", (2000, 1000), (90, 120, 200)).save(src)
    tag = run_cli("tag", "--max-megapixels", "1.5", "--producer", "PG-20252A-XX",
                  "-o", str(tmp_path / "out"), str(src))  # fmt: skip
    assert tag.returncode == 2 and "(limit 1.5 MP, --max-megapixels" in tag.stderr
    verify = run_cli("verify", str(src), env={"AIGC_TAG_MAX_MEGAPIXELS": "1"})
    assert verify.returncode == 4 and "too large to process" in verify.stdout
    ok = run_cli("verify", "--max-megapixels", "3", "--no-watermark", str(src),
                 env={"AIGC_TAG_MAX_MEGAPIXELS": "1"})  # fmt: skip
    assert "too large" not in ok.stdout and ok.returncode == 3


def test_budget_api():
    from aigc_tag import imaging
    from aigc_tag.errors import LimitExceeded

    imaging.set_max_megapixels(0.01)
    try:
        with pytest.raises(LimitExceeded, match=r"too large to process: image 200x100 = 0\.0 MP"):
            imaging.check_budget(200, 100)
        imaging.check_budget(100, 100)
    finally:
        imaging.set_max_megapixels(None)
    with pytest.raises(ValueError):
        imaging.set_max_megapixels(0)


# --------------------------------------------------------------------------- names and values


def _hostile_report(name: str, value: str):
    from aigc_tag.verify.report import CheckResult, Outcome, Report, Verdict

    label = {"Label": "1", "ContentProducer": value, "ProduceID": value}
    return Report(
        path=name,
        media_type="image",
        format="png",
        verdict=Verdict.NONCOMPLIANT,
        metadata_label=label,
        labels=[{"carrier": "png-text", "fields": label}],
        checks=[CheckResult("M08", Outcome.FAIL, "E", "Annex E j)", f"value {value!r}")],
    )


def _same_json(a, b) -> bool:
    """Equal once both are ASCII JSON: a high surrogate followed by a low one becomes one
    character when any JSON is read back, which no writer can avoid."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def _name_and_value_strategies():
    st = pytest.importorskip("hypothesis.strategies")
    # file names are bytes on Linux: any byte but NUL and "/", decoded as Python does
    names = st.binary(min_size=1, max_size=24).map(
        lambda b: os.fsdecode(b.replace(b"\0", b"_").replace(b"/", b"_"))
    )
    values = st.text(
        alphabet=st.one_of(
            st.characters(min_codepoint=0, max_codepoint=0x7F),
            st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),  # lone surrogates
            st.characters(),
        ),
        max_size=24,
    )
    return names, values


def _property(check):
    hypothesis = pytest.importorskip("hypothesis")
    names, values = _name_and_value_strategies()
    settings = hypothesis.settings(max_examples=150, deadline=None, derandomize=True)
    settings(hypothesis.given(name=names, value=values)(check))()


def test_property_json_line_is_utf8_and_round_trips():
    def check(name, value):
        report = _hostile_report(name, value)
        line = report.to_json_line()
        line.encode("utf-8")
        assert "\n" not in line
        back = json.loads(line)
        assert _same_json(back["metadata_label"]["ContentProducer"], value)

    _property(check)


def test_property_html_and_csv_are_utf8_and_escaped():
    pytest.importorskip("aigc_tag.verify.render")
    import csv

    from aigc_tag.verify.render import render_csv, render_html

    def check(name, value):
        report = _hostile_report(name, value)
        page = render_html([report])
        page.encode("utf-8")
        assert "\0" not in page and "\x1b" not in page
        body = page.split("<body>", 1)[1]
        assert "<script" not in body.lower()
        table = render_csv([report])
        table.encode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(table)))
        assert len(rows) == 2 and len(rows[1]) == len(rows[0])
        assert not any(ch in cell for cell in rows[1] for ch in "\0\x1b")

    _property(check)


def test_property_run_report_lines_are_utf8(tmp_path):
    from aigc_tag.cli.batch import RunReport

    target = tmp_path / "run.jsonl"

    def check(name, value):
        run = RunReport(target)
        run.write({"src": name, "status": "tagged", "label": {"ProduceID": value}})
        run.finish({"tagged": 1})
        lines = target.read_bytes().decode("utf-8").split("\n")  # JSON Lines: "\n" only
        assert len(lines) == 3 and lines[2] == ""
        assert _same_json(json.loads(lines[0])["label"]["ProduceID"], value)

    _property(check)


def test_property_api_json_is_utf8():
    pytest.importorskip("starlette")
    from aigc_tag.web.app import SafeJSONResponse

    def check(name, value):
        report = _hostile_report(name, value).to_json()
        body = SafeJSONResponse([report]).body
        back = json.loads(body.decode("utf-8"))
        assert _same_json(back[0]["metadata_label"]["ProduceID"], value)

    _property(check)


def _hostile_png(folder: Path) -> list[Path]:
    """A PNG whose label holds a lone-surrogate escape, NUL and a terminal escape, under a
    plain name and under a name that is not UTF-8."""
    from PIL import Image

    src = folder / "plain.png"
    Image.new("RGB", (64, 64), (10, 20, 30)).save(src)
    raw = src.read_bytes()
    label = r'{"AIGC":{"Label":"1","ContentProducer":"\ud800x","ProduceID":"y\u0000z\u001b[31m"}}'
    at = raw.index(b"IEND") - 4
    data = raw[:at] + _chunk(b"tEXt", b"AIGC\0" + label.encode()) + raw[at:]
    paths = [folder / "surrogate.png", Path(os.fsdecode(bytes(folder) + b"/bad\xff\xfe.png"))]
    for path in paths:
        path.write_bytes(data)
    src.unlink()
    return paths


def test_hostile_label_and_name_every_cli_writer(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    _hostile_png(folder)
    html_out, csv_out = tmp_path / "r.html", tmp_path / "r.csv"
    proc = run_cli("verify", "--no-watermark", "--html", str(html_out), "--csv", str(csv_out),
                   str(folder))  # fmt: skip
    _no_traceback(proc)
    assert proc.returncode == 1  # noncompliant (M08: control characters), not a crash
    page = html_out.read_text(encoding="utf-8")
    assert "bad\\xff\\xfe.png" in page and "\\ud800x" in page and "\x1b" not in page
    table = csv_out.read_text(encoding="utf-8-sig")
    assert table.count("\\ud800x") == 2 and "y\\x00z\\x1b[31m" in table
    cmd = [sys.executable, "-m", "aigc_tag", "verify", "--json", "--no-watermark", str(folder)]
    proc = subprocess.run(cmd, capture_output=True, timeout=120)
    lines = proc.stdout.decode("utf-8").splitlines()
    assert len(lines) == 2 and proc.returncode == 1
    assert {json.loads(line)["metadata_label"]["ContentProducer"] for line in lines} == {
        "\ud800x"
    }
    human = run_cli("verify", "--no-watermark", str(folder))
    _no_traceback(human)
    assert "\x00" not in human.stdout and "\x1b" not in human.stdout
    assert "ProduceID=y\\x00z\\x1b[31m" in human.stdout and "bad\\xff\\xfe.png" in human.stdout
    report = tmp_path / "tag.jsonl"
    proc = run_cli("tag", "--producer", "PG-20252A-XX", "--no-watermark", "--no-visible",
                   "--report", str(report), "-o", str(tmp_path / "out"), str(folder))  # fmt: skip
    _no_traceback(proc)
    lines = report.read_bytes().decode("utf-8").splitlines()
    assert len(lines) == 3 and json.loads(lines[-1])["summary"]


def test_hostile_label_and_name_web_api(tmp_path):
    TestClient, create_app, _ = _web()
    folder = tmp_path / "in"
    folder.mkdir()
    path = _hostile_png(folder)[0]
    client = TestClient(create_app(tmp_root=tmp_path))
    resp = client.post("/api/verify", files={"files": ("名字\x7f.png", path.read_bytes())})
    assert resp.status_code == 200  # was 500: UnicodeEncodeError in the JSON response
    (report,) = json.loads(resp.content.decode("utf-8"))
    assert report["metadata_label"]["ContentProducer"] == "\ud800x"


# --------------------------------------------------------------------------- the walk, inputs


@pytest.fixture
def odd_tree(tmp_path) -> Path:
    """in/a/badge.png, a loop in/a/loop -> .., a second link to in/a, a FIFO, a socket and a
    link to /dev/zero."""
    import socket

    root = tmp_path / "in"
    (root / "a").mkdir(parents=True)
    (root / "a" / "badge.png").write_bytes((SAMPLES / "badge.png").read_bytes())
    (root / "a" / "loop").symlink_to("..")
    (root / "again").symlink_to("a")
    os.mkfifo(root / "fifo.png")
    (root / "zero.png").symlink_to("/dev/zero")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(root / "sock"))
    sock.close()
    return root


def test_walk_skips_loops_and_special_files_with_a_message(odd_tree, tmp_path):
    out = tmp_path / "out"
    proc = run_cli("tag", "--producer", "PG-20252A-XX", "--no-watermark", "-o", str(out),
                   str(odd_tree), timeout=60)  # fmt: skip
    _no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png")) == ["a/badge.png"]
    for name, why in [("fifo.png", "a FIFO"), ("sock", "a socket"),
                      ("zero.png", "a character device"), ("a/loop", "a symlink loop"),
                      ("again", "a symlink loop")]:  # fmt: skip
        assert f"{odd_tree / name}: {why}" in proc.stderr, name
    proc = run_cli("verify", "--no-watermark", "--json", str(odd_tree), timeout=60)
    _no_traceback(proc)
    assert [json.loads(x)["path"] for x in proc.stdout.splitlines()] == [
        str(odd_tree / "a" / "badge.png")
    ]


@pytest.mark.parametrize("name,why", [("fifo.png", "a FIFO"), ("zero.png", "a character device")])
def test_named_fifo_or_device_is_refused_not_read(odd_tree, tmp_path, name, why):
    target = str(odd_tree / name)
    tag = run_cli("tag", "--producer", "PG-20252A-XX", "-o", str(tmp_path / "o"), target,
                  timeout=30)  # fmt: skip
    assert tag.returncode == 2 and f"{target}: cannot read: {why}, not a regular file" in tag.stderr
    verify = run_cli("verify", "--json", target, timeout=30)
    _no_traceback(verify)
    assert verify.returncode in (2, 4) and why in verify.stdout + verify.stderr


def test_read_input_bounds_the_real_stream_not_st_size(tmp_path):
    from aigc_tag.errors import LimitExceeded
    from aigc_tag.fileio import NotRegularFile, read_input

    proc_file = Path("/proc/self/maps")  # st_size 0, yet it holds kilobytes
    if proc_file.exists():
        assert os.stat(proc_file).st_size == 0
        with pytest.raises(LimitExceeded):
            read_input(proc_file, max_bytes=64)
    os.mkfifo(tmp_path / "p")
    with pytest.raises(NotRegularFile, match="a FIFO"):
        read_input(tmp_path / "p")  # would block forever if opened
    small = tmp_path / "s.bin"
    small.write_bytes(b"x" * 100)
    assert read_input(small, max_bytes=100) == b"x" * 100
    with pytest.raises(LimitExceeded):
        read_input(small, max_bytes=99)


# --------------------------------------------------------------------------- temp copies, keys


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_temp_copies_of_a_killed_run_are_removed_by_the_next(tmp_path):
    from aigc_tag.fileio import remove_stale_temp_dirs, temp_prefix

    assert temp_prefix("video") == f"aigc-tag-video-p{os.getpid()}-"
    dead = tmp_path / f"aigc-tag-p{_dead_pid()}-abc"
    dead.mkdir()
    (dead / "input.mp3").write_bytes(b"ID3 copy of an input")
    dead_video = tmp_path / f"aigc-tag-video-p{_dead_pid()}-def"
    dead_video.mkdir()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        live = tmp_path / f"aigc-tag-p{sleeper.pid}-ghi"
        live.mkdir()
        other = tmp_path / "aigc-tag-something-else"
        other.mkdir()
        # the next run (any command) cleans the temp folder it uses
        proc = run_cli("verify", "--no-watermark", str(SAMPLES / "badge.png"),
                       env={"TMPDIR": str(tmp_path)})  # fmt: skip
        _no_traceback(proc)
        assert not dead.exists() and not dead_video.exists()
        assert live.exists() and other.exists()
        assert remove_stale_temp_dirs(str(tmp_path)) == 0
    finally:
        sleeper.kill()
        sleeper.wait()


def test_binary_watermark_key_file_is_a_clean_error_without_key_bytes(tmp_path):
    key = tmp_path / "key.bin"
    key.write_bytes(b"\xfe\x9csecret\x00\x01")
    key.chmod(0o600)
    proc = run_cli("verify", "--watermark-key-file", str(key), str(SAMPLES / "badge.png"))
    _no_traceback(proc)
    assert proc.returncode == 2
    assert "the key file is not UTF-8 text" in proc.stderr
    for leak in ("0xfe", "\\xfe", "xfe", "0x9c", "secret"):
        assert leak not in proc.stderr + proc.stdout


def test_in_place_follows_a_symlink_and_refuses_a_read_only_file(tmp_path):
    from aigc_tag.verify import verify

    real = tmp_path / "real.png"
    real.write_bytes((SAMPLES / "badge.png").read_bytes())
    link = tmp_path / "link.png"
    link.symlink_to(real.name)
    proc = run_cli("tag", "--producer", "PG-20252A-XX", "--no-watermark", "--no-visible",
                   "--no-ledger", "--in-place", str(link))  # fmt: skip
    _no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink() and os.readlink(link) == real.name
    assert verify(real, watermark=False).metadata_label["ContentProducer"] == "PG-20252A-XX"
    locked = tmp_path / "locked.png"
    locked.write_bytes((SAMPLES / "badge.png").read_bytes())
    locked.chmod(0o444)
    before = locked.read_bytes()
    proc = run_cli("tag", "--producer", "PG-20252A-XX", "--no-watermark", "--no-visible",
                   "--no-ledger", "--in-place", str(locked))  # fmt: skip
    _no_traceback(proc)
    assert proc.returncode == 2
    assert "read-only file (mode 0444): not changed in place" in proc.stderr
    assert locked.read_bytes() == before


def test_big_file_without_container_magic_is_refused_before_it_is_read(tmp_path):
    import tracemalloc

    from aigc_tag.errors import LimitExceeded
    from aigc_tag.fileio import read_input

    big = tmp_path / "big.txt"
    with open(big, "wb") as fh:  # sparse: 200 MiB on paper, nothing on disk
        fh.write(b"plain text " * 100)
        fh.truncate(200 << 20)
    with pytest.raises(LimitExceeded):  # once first: the carrier registry loads on first use
        read_input(big)
    tracemalloc.start()
    try:
        with pytest.raises(LimitExceeded, match="no container magic; text formats are read up"):
            read_input(big)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20
    proc = run_cli("verify", str(big))
    assert proc.returncode == 4 and "too large to process" in proc.stdout
    # a container with magic that size is still read (a sparse PDF-headed file: parsed, not refused
    # for size)
    pdf = tmp_path / "big.pdf"
    with open(pdf, "wb") as fh:
        fh.write(b"%PDF-1.7\n")
        fh.truncate(70 << 20)
    assert len(read_input(pdf)) == 70 << 20


def test_every_post_route_is_guarded_including_later_ones(tmp_path):
    TestClient, create_app, allowed_hosts = _web()
    app = create_app(tmp_root=tmp_path, allowed_hosts=allowed_hosts("127.0.0.1", 8765))
    client = TestClient(app, base_url="http://127.0.0.1:8765")
    posts = sorted(r.path for r in app.routes if "POST" in (getattr(r, "methods", None) or ()))
    assert {"/api/verify", "/api/render", "/api/tag"} <= set(posts)
    for path in posts:
        resp = client.post(path, content=b"x", headers={"Origin": "http://evil.example"})
        assert resp.status_code == 403, path
        resp = client.post(path, content=b"x", headers={"Host": "evil.example"})
        assert resp.status_code == 400, path


# --------------------------------------------------------------------------- ID3 and XMP DTD

#: One MPEG-1 layer III frame (128 kbit/s, 44.1 kHz: 417 bytes) of silence.
_MPEG_FRAME = b"\xff\xfb\x90\x64" + b"\0" * 413


def _syncsafe(n: int) -> bytes:
    return bytes((n >> s) & 0x7F for s in (21, 14, 7, 0))


def mp3_with_apic(path: Path, apic_bytes: int) -> Path:
    """An MP3 whose ID3v2.3 tag holds one APIC frame of ``apic_bytes`` (written in chunks, so
    the test itself stays small), then a second of MPEG frames."""
    head = b"\0image/png\0\x03\0"  # Latin-1, MIME, front cover, empty description
    frame_size = len(head) + apic_bytes
    with path.open("wb") as fh:
        fh.write(b"ID3\x03\x00\x00" + _syncsafe(10 + frame_size))
        fh.write(b"APIC" + struct.pack(">I", frame_size) + b"\0\0" + head)
        chunk = b"\x89" * (1 << 20)
        for _ in range(apic_bytes >> 20):
            fh.write(chunk)
        fh.write(b"\x89" * (apic_bytes & ((1 << 20) - 1)))
        fh.write(_MPEG_FRAME * 38)
    return path


def test_a_250_mib_id3_tag_is_refused_from_its_header_under_3gib(tmp_path):
    big = mp3_with_apic(tmp_path / "cover.mp3", 250 << 20)
    verify = run_cli("verify", str(big))
    _no_traceback(verify)
    assert verify.returncode == 4, verify.stdout + verify.stderr
    assert "too large to process: ID3v2 tag of 250.0 MiB" in verify.stdout
    assert "AIGC_TAG_MAX_ID3_MB" in verify.stdout
    tag = run_cli("tag", "--producer", "PG-20252A-XX", "-o", str(tmp_path / "out"), str(big))
    _no_traceback(tag)
    assert tag.returncode == 2, tag.stdout + tag.stderr
    errors = [line for line in tag.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and str(big) in errors[0] and "too large to process" in errors[0]


def test_id3_tag_within_its_limit_reads_and_the_limit_is_configurable(tmp_path):
    src = mp3_with_apic(tmp_path / "cover.mp3", 2 << 20)
    ok = run_cli("verify", "--no-watermark", str(src))
    _no_traceback(ok)
    assert ok.returncode == 3 and "too large" not in ok.stdout, ok.stdout + ok.stderr
    low = run_cli("verify", "--no-watermark", str(src), env={"AIGC_TAG_MAX_ID3_MB": "1"})
    assert low.returncode == 4 and "(limit 1 MiB, AIGC_TAG_MAX_ID3_MB)" in low.stdout


@pytest.mark.parametrize(("value", "mib"), [("", 64), ("8", 8), ("0.5", 0.5), ("x", 64),
                                            ("-3", 64), ("100000", 256)])  # fmt: skip
def test_id3_limit_from_the_environment(monkeypatch, value, mib):
    from aigc_tag.carriers import id3

    monkeypatch.setenv("AIGC_TAG_MAX_ID3_MB", value)
    expected = id3.MAX_TAG_BYTES if mib == 256 else int(mib * (1 << 20))
    assert id3.max_tag_bytes() == expected


def _png_with_xmp(path: Path, doctype: str) -> Path:
    from PIL import Image, PngImagePlugin

    packet = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n' + doctype + "\n"
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
        '22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/'
        '1.1/"><dc:format>image/png</dc:format></rdf:Description></rdf:RDF></x:xmpmeta>\n'
        '<?xpacket end="w"?>'
    )
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", packet)
    Image.new("RGB", (640, 480), (120, 160, 200)).save(path, pnginfo=info)
    return path


def test_xmp_with_an_entity_dtd_says_so_instead_of_caption_does_not_read_back(tmp_path):
    src = _png_with_xmp(tmp_path / "dtd.png", '<!DOCTYPE x:xmpmeta [<!ENTITY a "b">]>')
    proc = run_cli("tag", "--producer", "PG-20252A-XX", "-o", str(tmp_path / "out"), str(src))
    _no_traceback(proc)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and str(src) in errors[0]
    assert "XMP packet has a DTD" in errors[0] and "does not read back" not in errors[0]


def test_xmp_with_a_plain_doctype_still_tags(tmp_path):
    src = _png_with_xmp(tmp_path / "doctype.png", "<!DOCTYPE x:xmpmeta>")
    proc = run_cli("tag", "--producer", "PG-20252A-XX", "-o", str(tmp_path / "out"), str(src))
    assert proc.returncode == 0, proc.stdout + proc.stderr
