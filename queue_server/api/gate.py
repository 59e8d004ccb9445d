"""The first look at every HTTP request, before its guard or handler does
any work: a browser's cross-site write is refused (403), and a body whose
Content-Length exceeds the route's ``request_max_body_size`` is refused
(413) before a byte of it is read. (Reading stops at the same limit for a
body without Content-Length: `Request.body` counts, see api/http.read_json.)"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar.datastructures import Headers
from litestar.types import ASGIApp, Receive, Scope, Send

from queue_server.errors import AppError

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def cross_site(headers: Headers, trust_proxy: bool) -> bool:
    """A browser says where a request comes from (`Sec-Fetch-Site`, `Origin`);
    a request that says nothing (curl, the print agent, the tests) is no
    browser's cross-site form or script."""
    if headers.get("sec-fetch-site", "").lower() in ("cross-site", "same-site"):
        return True
    origin = headers.get("origin")
    if origin is None:
        return False
    hosts = {headers.get("host", "").lower()}
    if trust_proxy and headers.get("x-forwarded-host"):
        hosts.add(headers["x-forwarded-host"].split(",")[0].strip().lower())
    netloc = urlsplit(origin.strip()).netloc.lower()  # "null" (a sandboxed frame) has none
    return not netloc or netloc not in hosts


def _announced_length(headers: Headers) -> int | None:
    value = headers.get("content-length")
    if value is None:
        return None
    if not value.strip().isdigit() or not value.strip().isascii():
        raise AppError("invalid_body", detail="Content-Length")
    return int(value)


def request_gate(app: ASGIApp) -> ASGIApp:
    """Litestar middleware: runs after routing (so it knows the route's
    limit) and before the route's guards."""

    async def gate(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = Headers.from_scope(scope)
            if scope.get("method") in WRITE_METHODS:
                settings: Any = scope["app"].state.settings
                if cross_site(headers, settings.trust_proxy):
                    raise AppError("cross_site")
            length = _announced_length(headers)
            if length:
                handler: Any = scope.get("route_handler")
                limit = handler.resolve_request_max_body_size() if handler is not None else None
                if limit is not None and length > limit:
                    raise AppError("body_too_large")
        await app(scope, receive, send)

    return gate
