"""Health and public reference data."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response, Router, get

from queue_server import __version__
from queue_server.api import replies
from queue_server.api.auth import PUBLIC, authorize
from queue_server.api.deps import Svc
from queue_server.api.http import lang_of, limit
from queue_server.api.openapi import documented


@get("/healthz", summary="Liveness and Redis reachability", opt=documented(PUBLIC, reply=replies.Health))
async def healthz(svc: Svc) -> Response[dict[str, Any]]:
    """ok only when Redis answers (a success counts for a second); else 503 in Vietnamese and English."""
    try:
        await svc.site.ping()
    except Exception as e:  # any failure: Redis does not answer
        reason = type(e).__name__
        return Response(
            {
                "status": "fail",
                "error": "unavailable",
                "message": f"Redis không trả lời ({reason}). / Redis does not answer ({reason}).",
                "version": __version__,
            },
            status_code=503,
        )
    return Response({"status": "ok", "version": __version__})


@get(
    "/api/categories",
    summary="Procedure categories the kiosk offers, with their common procedures",
    opt=documented(PUBLIC, errors=("rate_limited",), reply=replies.Categories),
)
async def categories(request: Request, svc: Svc) -> dict[str, Any]:
    await limit(request)
    return {"categories": await svc.site.categories(lang_of(request))}


@get(
    "/api/site",
    summary="Site name, time zone, opening state and next opening (public)",
    opt=documented(PUBLIC, errors=("rate_limited",), reply=replies.Site),
)
async def site(request: Request, svc: Svc) -> dict[str, Any]:
    await limit(request)
    return await svc.site.info(datetime.now(UTC))


router = Router(path="/", route_handlers=[healthz, categories, site], guards=[authorize])
