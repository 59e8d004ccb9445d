"""Health and public reference data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response, Router, get
from litestar.openapi import ResponseSpec

from queue_server import __version__
from queue_server.api.auth import PUBLIC, authorize
from queue_server.api.deps import Svc
from queue_server.api.http import lang_of, limit
from queue_server.api.openapi import documented


@get("/healthz", summary="Liveness and Redis reachability", opt=PUBLIC)
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


# The reply of GET /api/categories, for the OpenAPI (the route returns the
# service's dicts of this shape: services.views.category_view).
@dataclass
class ProcedureOut:
    """A common procedure of the category, shown under its name on the kiosk. `name` is in the asked
    language (English with `?lang=en` when the procedure has an English name), else Vietnamese;
    `name_en` is empty when the configuration gives none."""

    name: str
    name_vi: str
    name_en: str


@dataclass
class CategoryOut:
    """A category the kiosk offers. `code` is what `POST /api/tickets` takes (e.g. `HT`), `prefix` the
    ticket number's letter (e.g. `A`), `name` in the asked language; `procedures` lists its common
    procedures in the configuration's order (`procedures` of the category in the site configuration,
    at most 8, possibly none)."""

    code: str
    prefix: str
    name: str
    name_vi: str
    name_en: str
    target_wait_min: float
    service_min: float
    enabled: bool
    procedures: list[ProcedureOut]


@dataclass
class CategoriesReply:
    """The enabled categories, in the configuration's order."""

    categories: list[CategoryOut]


@get(
    "/api/categories",
    summary="Procedure categories the kiosk offers, with their common procedures",
    opt=documented(PUBLIC, errors=("rate_limited",)),
    responses={
        200: ResponseSpec(data_container=CategoriesReply, description="The kiosk's categories", generate_examples=False)
    },
)
async def categories(request: Request, svc: Svc) -> dict[str, Any]:
    await limit(request)
    return {"categories": await svc.site.categories(lang_of(request))}


@get(
    "/api/site",
    summary="Site name, time zone, opening state and next opening (public)",
    opt=documented(PUBLIC, errors=("rate_limited",)),
)
async def site(request: Request, svc: Svc) -> dict[str, Any]:
    await limit(request)
    return await svc.site.info(datetime.now(UTC))


router = Router(path="/", route_handlers=[healthz, categories, site], guards=[authorize])
