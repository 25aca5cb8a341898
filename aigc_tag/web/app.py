"""The Starlette application behind ``aigc-tag serve``.

Routes: ``GET /`` (the page), ``GET /static/*`` (its CSS/JS, all from the package),
``GET /api/health``, ``GET /api/checks``, ``POST /api/verify`` (multipart, one or more files),
``POST /api/render`` (report JSON back to the CLI's HTML page, when the renderer exists),
``POST /api/tag`` (only with a configured :class:`~aigc_tag.tagging.Tagger`), ``POST
/api/propagate`` (only with a configured :class:`~aigc_tag.propagate.Propagator`: the Art. 6
decision and the re-labelled file), ``GET /openapi.json``.

Uploads are written to a private (0700) temporary directory per request and removed when the
request ends, on error too; nothing is kept. Every request body is counted while it is read and
refused with 413 past ``max_upload_bytes``.
"""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders, UploadFile
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .. import __version__
from ..fileio import temp_prefix
from .guard import TOKEN_HEADER, OperatorGuard, new_token

STATIC = Path(__file__).with_name("static")
DEFAULT_MAX_UPLOAD_MB = 100
MAX_FILES = 50
#: Largest report JSON accepted by ``/api/render`` (never more than the upload limit).
MAX_RENDER_BYTES = 32 << 20
#: Deepest nesting of lists/objects accepted in report JSON (a real report is about 6 deep).
MAX_JSON_DEPTH = 32
PREVIEW_PX = 640
_CHUNK = 1 << 20

#: Sent with every response: the page loads nothing from elsewhere and runs no inline script.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class _TooLarge(Exception):
    pass


class _SecurityHeaders:
    """Pure ASGI middleware: adds :data:`SECURITY_HEADERS` to every HTTP response."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for key, value in SECURITY_HEADERS.items():
                    if key not in headers:
                        headers[key] = value
            await send(message)

        await self.app(scope, receive, with_headers)


class SafeJSONResponse(JSONResponse):
    """JSON that is valid UTF-8 whatever a report holds: a lone surrogate from a label value
    or an upload's name is written as a ``\\uXXXX`` escape instead of failing with 500."""

    def render(self, content: Any) -> bytes:
        from ..fileio import escape_surrogates

        text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        return escape_surrogates(text).encode("utf-8")


def _error(status: int, code: str, message: str) -> JSONResponse:
    return SafeJSONResponse({"error": code, "message": message}, status_code=status)


def _safe_name(name: str | None, index: int) -> str:
    """A harmless file name for the temporary copy; keeps the extension the sniffer may use."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = re.sub(r"[^\w.\-]+", "_", base, flags=re.ASCII).lstrip(".")[-120:]
    return base or f"upload-{index}"


def _display_name(name: str | None, index: int) -> str:
    """The client's file name without any directory part (still attacker-controlled text)."""
    base = re.split(r"[\\/]", name or "")[-1]
    return base[:255] or f"upload-{index}"


def prefer_zh(accept_language: str | None) -> bool:
    """True when the highest-weighted language in ``Accept-Language`` is Chinese."""
    best, best_q = "", -1.0
    for part in (accept_language or "").split(","):
        lang, _, params = part.strip().partition(";")
        q = 1.0
        m = re.search(r"q=([0-9.]+)", params)
        if m:
            try:
                q = float(m.group(1))
            except ValueError:
                q = 0.0
        if lang and q > best_q:
            best, best_q = lang.lower(), q
    return best.startswith("zh")


def preview(path: Path, media_type: str | None) -> dict | None:
    """A JPEG ``data:`` URI of the image (or a video's opening frame) and the source size, so
    the page can outline the caption box given in source pixels. Never raises."""
    try:
        if media_type == "image":
            data = path.read_bytes()
        elif media_type == "video":
            from ..ffmpeg import run

            data = run(
                "ffmpeg",
                ["-i", str(path), "-frames:v", "1", "-f", "image2pipe", "-vcodec", "png", "-"],
                timeout=30,
            )
        else:
            return None
        from PIL import Image, ImageOps

        with Image.open(io.BytesIO(data)) as im:
            im.seek(0)
            width, height = im.size
            from ..imaging import check_budget

            check_budget(width, height)  # a preview never costs more than the verify may
            small = ImageOps.exif_transpose(im) if media_type == "image" else im
            if small.size != (width, height):  # rotated by EXIF: the box is in stored pixels
                small = im
            small = small.convert("RGB")
            small.thumbnail((PREVIEW_PX, PREVIEW_PX))
            buf = io.BytesIO()
            small.save(buf, "JPEG", quality=80)
    except Exception:  # noqa: BLE001 - a missing preview never fails a report
        return None
    uri = "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    return {"data_uri": uri, "width": width, "height": height}


def _scrub(obj: Any, tmp: str, name: str) -> Any:
    """Replace the temporary path with the client's file name in every string of a report."""
    if isinstance(obj, str):
        return obj.replace(tmp, name)
    if isinstance(obj, list):
        return [_scrub(v, tmp, name) for v in obj]
    if isinstance(obj, dict):
        return {k: _scrub(v, tmp, name) for k, v in obj.items()}
    return obj


def _render_module():
    try:
        from ..verify import render
    except ImportError:
        return None
    return render if hasattr(render, "render_html") else None


def _report_from_json(data: dict):
    """Re-hydrate a Report from its JSON (for the HTML renderer; no check is re-run)."""
    from ..verify.report import CheckResult, Outcome, Report, Verdict

    checks = []
    for c in data.get("checks") or []:
        checks.append(
            CheckResult(
                id=str(c.get("id", "")),
                outcome=Outcome(c.get("outcome", "info")),
                severity=str(c.get("severity", "")),
                clause=str(c.get("clause", "")),
                message=str(c.get("message", "")),
            )
        )
    thumb = data.get("preview", {}) or {}
    uri = thumb.get("data_uri") if isinstance(thumb, dict) else None
    report = Report(
        path=str(data.get("path", "")),
        media_type=data.get("media_type"),
        format=data.get("format"),
        verdict=Verdict(data.get("verdict", "inconclusive")),
        metadata_label=data.get("metadata_label"),
        labels=list(data.get("labels") or []),
        visible_label=data.get("visible_label"),
        audible_label=data.get("audible_label"),
        text_label=data.get("text_label"),
        watermark=data.get("watermark"),
        c2pa=data.get("c2pa"),
        evidence=dict(data.get("evidence") or {}),
        checks=checks,
        error=data.get("error"),
    )
    if isinstance(uri, str) and re.fullmatch(r"data:image/jpeg;base64,[A-Za-z0-9+/=]+", uri):
        report.thumbnail = uri
    return report


async def _read_body(request: Request, limit: int) -> bytes:
    """The request body, read as it streams in; raises _TooLarge as soon as it passes ``limit``
    (so no more than ``limit`` bytes are ever held), whatever Content-Length says."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        raise _TooLarge
    buf = bytearray()
    async for chunk in request.stream():
        if len(buf) + len(chunk) > limit:
            raise _TooLarge
        buf += chunk
    return bytes(buf)


_REPORT_TYPES: dict[str, tuple[type, ...]] = {
    "path": (str,),
    "media_type": (str, type(None)),
    "format": (str, type(None)),
    "verdict": (str,),
    "metadata_label": (dict, type(None)),
    "labels": (list,),
    "visible_label": (dict, type(None)),
    "audible_label": (dict, type(None)),
    "text_label": (dict, type(None)),
    "watermark": (dict, type(None)),
    "c2pa": (dict, type(None)),
    "evidence": (dict,),
    "checks": (list,),
    "error": (str, type(None)),
    "preview": (dict, type(None)),
}
_CHECK_FIELDS = ("id", "outcome", "severity", "clause", "message")


def _depth(value: Any) -> int:
    """How deeply lists/objects nest in ``value`` (iterative: a deep value cannot recurse)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (list, dict)):
            deepest = max(deepest, level)
            if level > MAX_JSON_DEPTH:
                break
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


def _check_report(data: Any, where: str) -> None:
    """Raise ValueError naming the first field of ``data`` that breaks the Report schema."""
    from ..verify.report import Outcome, Verdict

    if not isinstance(data, dict):
        raise ValueError(f"{where} is not an object")
    for key, types in _REPORT_TYPES.items():
        if key in data and not isinstance(data[key], types):
            raise ValueError(f"{where}.{key} has the wrong type")
    if data.get("verdict", "inconclusive") not in {v.value for v in Verdict}:
        raise ValueError(f"{where}.verdict is not a known verdict")
    for i, check in enumerate(data.get("checks") or []):
        if not isinstance(check, dict):
            raise ValueError(f"{where}.checks[{i}] is not an object")
        for key in _CHECK_FIELDS:
            if not isinstance(check.get(key, ""), str):
                raise ValueError(f"{where}.checks[{i}].{key} is not a string")
        if check.get("outcome", "info") not in {o.value for o in Outcome}:
            raise ValueError(f"{where}.checks[{i}].outcome is not a known outcome")
    if not all(isinstance(site, dict) for site in data.get("labels") or []):
        raise ValueError(f"{where}.labels holds a non-object")


def reports_from_json(body: bytes) -> list:
    """Reports from the JSON of ``/api/render`` (one report or a list), checked against the
    Report schema first: any violation, bad UTF-8 or nesting past :data:`MAX_JSON_DEPTH` is a
    ValueError with a short message, never another exception."""
    try:
        data = json.loads(body)
    except RecursionError:
        raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not JSON ({exc})") from None
    if _depth(data) > MAX_JSON_DEPTH:
        raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels")
    items = [data] if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ValueError("the body is neither an object nor a list")
    if len(items) > 10 * MAX_FILES:
        raise ValueError(f"more than {10 * MAX_FILES} reports")
    for i, item in enumerate(items):
        _check_report(item, f"report[{i}]")
    return [_report_from_json(item) for item in items]


def propagate_upload(
    propagator: Any, data: bytes, name: str, *, declared: bool
) -> tuple[int, dict]:
    """(HTTP status, body) of ``/api/propagate``: the Art. 6 decision for ``data`` and, when a
    label was written, the file as ``file.base64``; 422 when the rules refuse the write."""
    from ..errors import AigcTagError
    from ..propagate import auto_propagate

    try:
        done = auto_propagate(data, propagator, declared=declared, name=name)
    except AigcTagError as exc:
        return 422, {"error": "cannot_propagate", "message": str(exc)}
    body = done.to_json()
    body["file"] = None
    if done.data is not None:
        stem, dot, ext = name.rpartition(".")
        fname = f"{stem}.propagated.{ext}" if dot and stem else f"{name}.propagated"
        body["file"] = {"name": re.sub(r"[^\w.\-]+", "_", fname, flags=re.ASCII),
                        "base64": base64.b64encode(done.data).decode("ascii")}  # fmt: skip
    if done.error is not None:
        return 422, {"error": "cannot_propagate", "message": done.error, **body}
    return 200, body


def create_app(
    *,
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_MB << 20,
    tagger: Any | None = None,
    tmp_root: str | Path | None = None,
    workers: int = 1,
    allowed_hosts: frozenset[str] | None = None,
    propagator: Any | None = None,
) -> Starlette:
    """The application. ``tagger`` (a :class:`~aigc_tag.tagging.Tagger`) enables ``/api/tag``;
    ``tmp_root`` is where per-request private directories are made (default: the system's);
    ``workers`` bounds how many files are verified at once (the work is CPU-bound);
    ``allowed_hosts`` (from :func:`aigc_tag.web.guard.allowed_hosts`) are the Host headers
    answered, ``None`` answers any (``serve`` always passes them); ``propagator`` (a
    :class:`~aigc_tag.propagate.Propagator`) enables ``/api/propagate``."""
    token = new_token()
    gate = threading.BoundedSemaphore(max(1, workers))
    index_html = (STATIC / "index.html").read_text(encoding="utf-8")

    async def _form(request: Request):
        """The multipart form, counted while read; raises _TooLarge past the limit."""
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > max_upload_bytes:
            raise _TooLarge
        seen = 0
        receive = request.receive

        async def counted() -> dict:
            nonlocal seen
            message = await receive()
            if message.get("type") == "http.request":
                seen += len(message.get("body", b""))
                if seen > max_upload_bytes:
                    raise _TooLarge
            return message

        limited = Request(request.scope, receive=counted)
        return await limited.form(max_files=MAX_FILES, max_fields=MAX_FILES)

    def _too_large() -> JSONResponse:
        mb = max_upload_bytes / (1 << 20)
        return _error(413, "too_large", f"the upload exceeds the limit of {mb:g} MB per request")

    async def _uploads(request: Request, field: str):
        try:
            form = await _form(request)
        except _TooLarge:
            return None, _too_large()
        except Exception as exc:  # noqa: BLE001 - a malformed body is the client's error
            return None, _error(400, "bad_request", f"cannot read the multipart body: {exc}")
        files = [f for f in form.getlist(field) if isinstance(f, UploadFile)]
        if not files:
            await form.close()
            return None, _error(400, "no_file", f"send one or more files in the field '{field}'")
        return (form, files), None

    async def _one_upload(request: Request):
        """The operator routes take exactly one file in the field ``file``: (form, bytes, display
        name), or the error response (the form then already closed)."""
        got, err = await _uploads(request, "file")
        if err is not None:
            return None, err
        form, files = got
        if len(files) != 1:
            await form.close()
            return None, _error(400, "one_file", "send exactly one file in the field 'file'")
        return (form, await files[0].read(), _display_name(files[0].filename, 0)), None

    async def _save(upload: UploadFile, target: Path) -> None:
        with open(target, "wb") as out:
            while chunk := await upload.read(_CHUNK):
                out.write(chunk)

    def _verify_one(target: Path, name: str, want_preview: bool) -> dict:
        from ..verify import verify

        with gate:
            report = verify(target, max_bytes=max_upload_bytes)
            data = _scrub(report.to_json(), str(target), name)
            data["path"] = name
            if want_preview and not report.error:
                shown = preview(target, report.media_type)
                if shown is not None:
                    data["preview"] = shown
        return data

    async def home(request: Request) -> Response:
        lang = request.query_params.get("lang")
        if lang not in ("zh", "en"):
            lang = "zh" if prefer_zh(request.headers.get("accept-language")) else "en"
        page = index_html.replace("__LANG__", lang).replace("__VERSION__", __version__)
        page = page.replace("__TOKEN__", token)
        return HTMLResponse(page, headers={"Content-Language": lang, "Vary": "Accept-Language"})

    async def favicon(request: Request) -> Response:
        # Browsers ask for /favicon.ico whatever the page links: answer with the page's icon.
        icon = (STATIC / "icon.svg").read_bytes()
        return Response(icon, media_type="image/svg+xml",
                        headers={"Cache-Control": "max-age=86400"})  # fmt: skip

    async def health(request: Request) -> Response:
        return JSONResponse(
            {
                "status": "ok",
                "version": __version__,
                "max_upload_bytes": max_upload_bytes,
                "max_files": MAX_FILES,
                "tag": tagger is not None,
                "propagate": propagator is not None,
                "render_html": _render_module() is not None,
            }
        )

    async def checks(request: Request) -> Response:
        from ..verify.checks import CHECKS

        render = _render_module()
        zh = getattr(render, "ZH_TITLES", {}) if render else {}
        return JSONResponse(
            [
                {
                    "id": s.id,
                    "severity": s.severity,
                    "clause": s.clause,
                    "question": s.question,
                    "title_zh": zh.get(s.id),
                }
                for s in CHECKS.values()
            ]
        )

    async def verify_route(request: Request) -> Response:
        got, err = await _uploads(request, "files")
        if err is not None:
            return err
        form, files = got
        want_preview = request.query_params.get("preview") in ("1", "true")
        tmp = Path(tempfile.mkdtemp(prefix=temp_prefix("web"), dir=tmp_root))
        try:
            reports = []
            for i, upload in enumerate(files):
                sub = tmp / str(i)
                sub.mkdir(mode=0o700)
                target = sub / _safe_name(upload.filename, i)
                await _save(upload, target)
                name = _display_name(upload.filename, i)
                reports.append(await run_in_threadpool(_verify_one, target, name, want_preview))
                target.unlink(missing_ok=True)
            return SafeJSONResponse(reports)
        finally:
            await form.close()
            shutil.rmtree(tmp, ignore_errors=True)

    async def render_route(request: Request) -> Response:
        render = _render_module()
        if render is None:
            return _error(404, "not_available", "the HTML report renderer is not installed")
        limit = min(max_upload_bytes, MAX_RENDER_BYTES)
        try:
            body = await _read_body(request, limit)
        except _TooLarge:
            return _error(413, "too_large", f"report JSON over the limit of {limit >> 20} MB")
        try:
            reports = reports_from_json(body)
        except ValueError as exc:
            return _error(400, "bad_report", f"not a list of report JSON objects: {exc}")
        try:
            page = await run_in_threadpool(render.render_html, reports)
        except Exception as exc:  # noqa: BLE001 - a value the schema let through is still bad input
            return _error(400, "bad_report", f"cannot render this report: {type(exc).__name__}")
        return HTMLResponse(
            page,
            headers={"Content-Disposition": 'attachment; filename="aigc-tag-report.html"'},
        )

    async def tag_route(request: Request) -> Response:
        if tagger is None:
            return _error(404, "tag_disabled", "tagging is off; start the server with --tag")
        got, err = await _one_upload(request)
        if err is not None:
            return err
        form, data, name = got
        try:
            from ..errors import AigcTagError

            def _tag() -> bytes:
                with gate:
                    return tagger.tag_bytes(data, name=name)[0]

            try:
                out = await run_in_threadpool(_tag)
            except AigcTagError as exc:
                return _error(422, "cannot_tag", str(exc))
            stem, dot, ext = name.rpartition(".")
            fname = f"{stem}.aigc.{ext}" if dot and stem else f"{name}.aigc"
            ascii_name = re.sub(r"[^\w.\-]+", "_", fname, flags=re.ASCII)
            return Response(
                out,
                media_type="application/octet-stream",
                headers={"Content-Disposition": f'attachment; filename="{ascii_name}"'},
            )
        finally:
            await form.close()

    async def propagate_route(request: Request) -> Response:
        """Measures Art. 6 for one upload: the decision JSON and the re-labelled file (base64)."""
        if propagator is None:
            message = "propagation is off; start the server with --propagator CODE"
            return _error(404, "propagate_disabled", message)
        got, err = await _one_upload(request)
        if err is not None:
            return err
        form, data, name = got
        try:
            declared = str(form.get("declared") or "").lower() in ("1", "true", "yes", "on")

            def _run() -> tuple[int, dict]:
                with gate:
                    return propagate_upload(propagator, data, name, declared=declared)

            status, body = await run_in_threadpool(_run)
            return JSONResponse(body, status_code=status)
        finally:
            await form.close()

    async def openapi(request: Request) -> Response:
        return JSONResponse(openapi_spec(tag=tagger is not None))

    app = Starlette(
        middleware=[
            Middleware(_SecurityHeaders),
            Middleware(OperatorGuard, token=token, hosts=allowed_hosts),
        ],
        routes=[
            Route("/", home),
            Route("/api/health", health),
            Route("/api/checks", checks),
            Route("/api/verify", verify_route, methods=["POST"]),
            Route("/api/render", render_route, methods=["POST"]),
            Route("/api/tag", tag_route, methods=["POST"]),
            Route("/api/propagate", propagate_route, methods=["POST"]),
            Route("/openapi.json", openapi),
            Route("/favicon.ico", favicon),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
    )

    app.state.max_upload_bytes = max_upload_bytes
    app.state.tagger = tagger
    app.state.token = token
    app.state.token_header = TOKEN_HEADER
    return app


def _upload_body(field: str, many: bool) -> dict:
    item = {"type": "string", "format": "binary"}
    prop = {"type": "array", "items": item} if many else item
    return {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {"type": "object", "properties": {field: prop}, "required": [field]}
            }
        },
    }


def openapi_spec(*, tag: bool = False) -> dict:
    """The OpenAPI 3.1 description of the JSON API."""
    err = {
        "description": "error",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    paths: dict[str, dict] = {
        "/api/health": {
            "get": {
                "summary": "Liveness, version, limits and optional features",
                "responses": {"200": {"description": "ok"}},
            }
        },
        "/api/checks": {
            "get": {
                "summary": "The check registry: id, severity, clause, question (and Chinese title)",
                "responses": {"200": {"description": "list of checks"}},
            }
        },
        "/api/verify": {
            "post": {
                "summary": "Verify one or more uploaded files; one Report JSON per file, in order",
                "description": "Files are processed in a private temporary directory and deleted "
                "afterwards. Unsupported or broken files come back as reports with the verdict "
                "'inconclusive' and an M01/M02 error check. `?preview=1` adds a small JPEG "
                "preview (images, the opening frame of videos) as `preview`.",
                "parameters": [
                    {
                        "name": "preview",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "enum": ["0", "1"]},
                    }
                ],
                "requestBody": _upload_body("files", True),
                "responses": {
                    "200": {
                        "description": "reports (see docs/report-schema.md)",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Report"},
                                }
                            }
                        },
                    },
                    "400": err,
                    "413": err,
                },
            }
        },
        "/api/render": {
            "post": {
                "summary": "Render report JSON as the CLI's self-contained HTML page",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "array",
                                "items": {"$ref": "#/components/schemas/Report"},
                            }
                        }
                    },
                },
                "responses": {
                    "200": {"description": "HTML", "content": {"text/html": {}}},
                    "400": err,
                    "404": err,
                },
            }
        },
        "/api/tag": {
            "post": {
                "summary": "Tag an upload with the operator's producer code (serve --tag only)",
                "requestBody": _upload_body("file", False),
                "responses": {
                    "200": {
                        "description": "the tagged file",
                        "content": {"application/octet-stream": {}},
                    },
                    "404": err,
                    "413": err,
                    "422": err,
                },
            }
        },
    }
    paths["/api/propagate"] = {
        "post": {
            "summary": "Measures Art. 6 for one upload (serve --propagator only): the decision "
            "(case, label, evidence) and the re-labelled file as base64 in `file`",
            "description": "Form fields: `file` (one upload), `declared` ('1' when the uploader "
            "declared it AI-generated: Label 2). Answers 404 unless the server was started with "
            "--propagator CODE; 422 when the rules refuse the write.",
            "requestBody": _upload_body("file", False),
            "responses": {"200": {"description": "decision JSON"}, "404": err, "413": err,
                          "422": err},
        }
    }  # fmt: skip
    if not tag:
        paths["/api/tag"]["post"]["description"] = "Disabled on this server: answers 404."
    return {
        "openapi": "3.1.0",
        "info": {"title": "aigc-tag verify API", "version": __version__},
        "paths": paths,
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
                    "required": ["error", "message"],
                },
                "Report": {
                    "type": "object",
                    "description": "aigc_tag.verify.Report.to_json()",
                    "properties": {
                        "path": {"type": "string"},
                        "media_type": {"type": ["string", "null"]},
                        "format": {"type": ["string", "null"]},
                        "verdict": {
                            "type": "string",
                            "enum": ["compliant", "noncompliant", "not_found", "inconclusive"],
                        },
                        "metadata_label": {"type": ["object", "null"]},
                        "labels": {"type": "array"},
                        "visible_label": {"type": ["object", "null"]},
                        "audible_label": {"type": ["object", "null"]},
                        "text_label": {"type": ["object", "null"]},
                        "watermark": {"type": ["object", "null"]},
                        "c2pa": {"type": ["object", "null"]},
                        "evidence": {"type": "object"},
                        "checks": {"type": "array"},
                        "error": {"type": ["string", "null"]},
                    },
                    "required": ["path", "verdict", "checks"],
                },
            }
        },
    }
