"""Health and public reference data."""

from __future__ import annotations

from datetime import datetime, timezone

from litestar import Request, get

from queue_server import __version__
from queue_server.api.deps import Svc
from queue_server.api.http import lang_of
from queue_server.api.views import category_view
from queue_server.domain.hours import is_open, next_opening
from queue_server.holidays_vn import is_public_holiday


@get("/healthz", summary="Liveness and Redis reachability")
async def healthz(svc: Svc) -> dict:
    await svc.redis.ping()
    return {"status": "ok", "version": __version__}


@get("/api/categories", summary="Procedure categories the kiosk offers")
async def categories(request: Request, svc: Svc) -> dict:
    cfg = await svc.config.get()
    lang = lang_of(request)
    return {"categories": [category_view(c, lang) for c in cfg.enabled_categories]}


@get("/api/site", summary="Site name, opening state and next opening (public)")
async def site(svc: Svc) -> dict:
    cfg = await svc.config.get()
    now = datetime.now(timezone.utc)
    open_now = is_open(now, cfg.hours, cfg.site.tz, is_public_holiday)
    nxt = next_opening(now, cfg.hours, cfg.site.tz, is_public_holiday)
    return {
        "id": cfg.site.id, "name": cfg.site.name, "name_en": cfg.site.name_en, "timezone": cfg.site.timezone,
        "seats": cfg.site.seats, "open": open_now or not cfg.hours.enforce, "enforce_hours": cfg.hours.enforce,
        "next_open": nxt.isoformat() if nxt else None,
        "priority_enabled": cfg.queue.priority_enabled, "priority_label": cfg.queue.priority_label,
        "rating_scale": cfg.queue.rating_scale, "ticket_footer": cfg.site.ticket_footer,
    }


ROUTES = [healthz, categories, site]
