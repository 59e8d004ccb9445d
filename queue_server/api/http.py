"""Request helpers and the error handlers: every failure is JSON
``{"error", "message"}`` with a 4xx status, in Vietnamese or English."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any

from litestar import MediaType, Request, Response
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException, NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from queue_server.api.auth import services_of
from queue_server.api.pages import message_page
from queue_server.errors import AppError, pick_language
from queue_server.services.input import field, parse_json
from queue_server.store.connection import UNAVAILABLE_ERRORS
from queue_server.store.keys import UnsafeKey

__all__ = ["field", "lang_of", "client_ip", "read_json", "limit"]

log = logging.getLogger("motcua.api")


def lang_of(request: Request) -> str:
    q = request.query_params.get("lang")
    if q in ("vi", "en"):
        return q
    return pick_language(request.headers.get("accept-language"))


async def limit(
    conn: ASGIConnection[Any, Any, Any, Any], bucket: str = "public", per_minute: int | None = None
) -> None:
    """Rate limit by the client's address (X-Forwarded-For when trusted)."""
    svc = services_of(conn)
    await svc.limits.address(client_ip(conn, svc.settings.trust_proxy), bucket, per_minute)


def client_ip(request: ASGIConnection[Any, Any, Any, Any], trust_proxy: bool) -> str:
    if trust_proxy:
        fwd = request.headers.get("x-forwarded-for")
        if fwd:
            return fwd.split(",")[0].strip()
    return request.client.host if request.client else "unknown"


async def limit_guard(conn: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A guard for routers we do not write ourselves (the OpenAPI schema)."""
    await limit(conn)


def schema_not_found(response: Response) -> Response:
    """After a route of the OpenAPI router: Litestar answers an unknown
    /schema/… page with an HTML 404 of its own; ours is the JSON error."""
    if response.status_code == 404:
        raise AppError("not_found")
    return response


def is_json(content_type: str) -> bool:
    mime = content_type.split(";", 1)[0].strip().lower()
    return mime == "application/json" or (mime.startswith("application/") and mime.endswith("+json"))


async def read_json(request: Request) -> dict[str, Any]:
    """The body as a JSON object. Its size limit is the route's
    ``request_max_body_size`` (the app's default otherwise): an announced
    Content-Length over it was refused before the route ran (`RequestGate`),
    and reading stops at the limit (413). An empty body is ``{}``; any other
    body must be sent as ``application/json`` (415: a browser form cannot
    send that cross-site without asking first)."""
    body = await request.body()  # Litestar stops reading past the limit
    if not body.strip():
        return {}
    if not is_json(request.headers.get("content-type", "")):
        raise AppError("unsupported_media_type")
    data = parse_json(body)
    if not isinstance(data, dict):
        raise AppError("invalid_body", detail="cần một đối tượng JSON / expected a JSON object")
    return data


def wants_page(request: Request) -> bool:
    """A browser navigating to a page (not the API) gets an HTML answer."""
    path = request.url.path
    return not path.startswith(("/api/", "/ws/", "/schema", "/healthz")) and "text/html" in request.headers.get(
        "accept", ""
    )


def error_response(request: Request, err: AppError) -> Response:
    headers = {}
    if err.code == "rate_limited" and "seconds" in err.params:
        headers["Retry-After"] = str(err.params["seconds"])
    elif err.code == "account_locked" and isinstance(err.params.get("minutes"), int):
        headers["Retry-After"] = str(err.params["minutes"] * 60)
    if wants_page(request):
        title_vi = {404: "Không tìm thấy trang", 401: "Cần đăng nhập", 403: "Không có quyền"}.get(err.status, "Có lỗi")
        title_en = {404: "Page not found", 401: "Login required", 403: "Not allowed"}.get(err.status, "Error")
        return message_page(
            title_vi, err.message("vi"), status=err.status, title_en=title_en, body_en=err.message("en")
        )
    try:
        content = json.dumps(err.body(lang_of(request)), ensure_ascii=False, separators=(",", ":")).encode()
    except (TypeError, ValueError):  # never let the error reply itself fail
        content = json.dumps(AppError(err.code, status=err.status).body(lang_of(request))).encode()
    return Response(content=content, status_code=err.status, media_type=MediaType.JSON, headers=headers)


def app_error_handler(request: Request, exc: AppError) -> Response:
    return error_response(request, exc)


_STATUS_CODES = {
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


_MISSING = re.compile(r"Missing required (?:\w+ )*parameter '([^']{1,64})'")


def _framework_detail(exc: HTTPException, lang: str) -> str:
    """Our own words, in the reply's language, for what Litestar refused (its
    English `detail` never reaches a client)."""
    en = lang == "en"
    text = str(exc.detail or "")
    if exc.status_code == 413:
        return "the request body is too large" if en else "nội dung quá lớn"
    m = _MISSING.search(text)
    if m:
        return f"the parameter “{m.group(1)}” is missing" if en else f"thiếu tham số “{m.group(1)}”"
    keys = (
        [str(e["key"]) for e in exc.extra if isinstance(e, dict) and e.get("key")]
        if isinstance(exc.extra, list)
        else []
    )
    if keys:
        names = ", ".join(f"“{k[:64]}”" for k in keys[:5])
        return f"invalid parameter {names}" if en else f"tham số {names} không hợp lệ"
    return f"the request was refused (HTTP {exc.status_code})" if en else f"yêu cầu bị từ chối (HTTP {exc.status_code})"


def http_error_handler(request: Request, exc: HTTPException) -> Response:
    status = exc.status_code
    if isinstance(exc, NotAuthorizedException):
        code = "unauthorized"
    elif isinstance(exc, PermissionDeniedException):
        code = "forbidden"
    elif status in _STATUS_CODES:
        code = _STATUS_CODES[status]
    elif status < 500:
        detail = _framework_detail(exc, lang_of(request))
        return error_response(request, AppError("invalid_body", status=status, detail=detail))
    else:
        log.error("HTTP %s on %s: %s", status, request.url.path, exc.detail)
        code = "unavailable" if status == 503 else "internal"
    return error_response(request, AppError(code, status=status))


def redis_error_handler(request: Request, exc: Exception) -> Response:
    log.error("redis unavailable on %s: %s", request.url.path, exc)
    return error_response(request, AppError("unavailable"))


def unsafe_key_handler(request: Request, exc: UnsafeKey) -> Response:
    """A path part that no key of ours can hold (``a b``, a NUL): nothing is there."""
    return error_response(request, AppError("not_found"))


def unexpected_error_handler(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s", request.url.path, exc_info=exc)
    return error_response(request, AppError("internal"))


ExceptionHandler = Callable[[Request[Any, Any, Any], Any], Response[Any]]
EXCEPTION_HANDLERS: dict[int | type[Exception], ExceptionHandler] = {
    AppError: app_error_handler,
    HTTPException: http_error_handler,
    UnsafeKey: unsafe_key_handler,
    **{exc: redis_error_handler for exc in UNAVAILABLE_ERRORS},
    Exception: unexpected_error_handler,
}
