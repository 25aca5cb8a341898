"""The web server belongs to its operator: Host, Origin and a per-run CSRF token.

One pure ASGI middleware, :class:`OperatorGuard`, runs before every route, so a route added later
(``POST /api/propagate``, ...) gets the same checks without asking for them:

- ``Host`` must name the bound address (``127.0.0.1``, ``localhost``, ``[::1]`` and the port, or
  a name given with ``serve --allowed-host``): a DNS-rebinding page reaches the server under its
  own name and is refused with 400 before any route runs.
- A state-changing request (any method but GET/HEAD/OPTIONS) from a browser must be same-origin:
  ``Sec-Fetch-Site`` other than ``same-origin``/``none``, or an ``Origin`` that is not this
  server, is 403. Browsers attach these headers to every cross-site POST (form or fetch), and a
  page cannot remove them.
- The same request must carry the per-run token of the page (header :data:`TOKEN_HEADER`) when
  it comes from a browser (it has an ``Origin``, ``Referer``, ``Cookie`` or ``Sec-Fetch-*``
  header). A client that sends none of those (curl, a script) is no browser, so no other site
  can make it send anything; it needs no token.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Iterable
from urllib.parse import urlsplit

__all__ = ["LOOPBACK_NAMES", "TOKEN_HEADER", "OperatorGuard", "allowed_hosts", "new_token"]

TOKEN_HEADER = "x-aigc-tag-token"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_BROWSER_HEADERS = (b"origin", b"referer", b"cookie", b"sec-fetch-site", b"sec-fetch-mode")


def new_token() -> str:
    """A fresh random token for one run of the server (never written anywhere)."""
    return secrets.token_urlsafe(32)


def _host_name(host: str) -> str:
    """``host`` as it appears in a Host header: IPv6 addresses in brackets, lower case."""
    host = host.strip().lower()
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return host


def allowed_hosts(bind: str, port: int, extra: Iterable[str] = ()) -> frozenset[str]:
    """The Host header values the server answers: ``name:port`` (and ``name`` alone for port 80).

    ``bind`` is the address given to ``--host``; a loopback bind (or the wildcard) also answers
    under every loopback name. ``extra`` are ``--allowed-host`` names, with or without a port.
    Port 0 (a port the system picks) accepts any port: the entry is the bare name then."""
    names = {_host_name(bind)}
    if names & {"127.0.0.1", "localhost", "[::1]", "0.0.0.0", "[::]"}:
        names.update(LOOPBACK_NAMES)
    out: set[str] = set()
    for name in names:
        out.add(name if port == 0 else f"{name}:{port}")
        if port == 80:
            out.add(name)
    for name in extra:
        name = name.strip().lower()
        if not name:
            continue
        has_port = name.rsplit(":", 1)[-1].isdigit() and (
            not name.startswith("[") or "]:" in name
        )
        out.add(name if has_port or port == 0 else f"{_host_name(name)}:{port}")
    return frozenset(out)


def _host_ok(host: str, allowed: frozenset[str]) -> bool:
    host = host.strip().lower()
    if host in allowed:
        return True
    # an entry without a port (port 0 or a bare --allowed-host) matches the name on any port
    name, _, port = host.rpartition(":")
    return bool(name) and port.isdigit() and not name.endswith(":") and name in allowed


def _refusal(status: int, code: str, message: str):
    body = json.dumps({"error": code, "message": message}).encode("utf-8")
    start = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode("ascii")),
        ],
    }
    return start, {"type": "http.response.body", "body": body}


class OperatorGuard:
    """Pure ASGI middleware: refuses foreign ``Host`` headers, cross-origin state changes and
    browser state changes without the run's token (see the module docstring).

    ``hosts`` ``None`` skips the Host check (an embedding application that knows its names)."""

    def __init__(self, app, *, token: str, hosts: frozenset[str] | None = None) -> None:
        self.app = app
        self.token = token
        self.hosts = hosts

    def check(self, method: str, headers: dict[bytes, bytes]) -> tuple[int, str, str] | None:
        """``(status, code, message)`` when the request must be refused, else ``None``."""
        host = headers.get(b"host", b"").decode("latin-1")
        if self.hosts is not None and not _host_ok(host, self.hosts):
            return 400, "bad_host", f"this server does not answer to Host {host[:100]!r}"
        if method in _SAFE_METHODS:
            return None
        site = headers.get(b"sec-fetch-site", b"").decode("latin-1").lower()
        if site and site not in ("same-origin", "none"):
            return 403, "cross_origin", f"cross-site request refused (Sec-Fetch-Site: {site})"
        origin = headers.get(b"origin")
        if origin is not None:
            parts = urlsplit(origin.decode("latin-1"))
            if parts.scheme not in ("http", "https") or parts.netloc.lower() != host.lower():
                return 403, "cross_origin", "cross-origin request refused (Origin is elsewhere)"
        if any(name in headers for name in _BROWSER_HEADERS):
            sent = headers.get(TOKEN_HEADER.encode("ascii"), b"")
            if not hmac.compare_digest(sent, self.token.encode("ascii")):
                return 403, "csrf", "missing or wrong page token: reload the page"
        return None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: dict[bytes, bytes] = {}
        for key, value in scope.get("headers") or []:
            headers.setdefault(key.lower(), value)
        refused = self.check(scope.get("method", "GET").upper(), headers)
        if refused is None:
            await self.app(scope, receive, send)
            return
        start, body = _refusal(*refused)
        await send(start)
        await send(body)
