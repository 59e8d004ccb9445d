"""The site as the public pages see it: name, time zone, opening state,
the categories a kiosk offers; and the health check."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from queue_server.domain.holidays import is_public_holiday
from queue_server.domain.hours import is_open, next_opening
from queue_server.services.views import category_view
from queue_server.store.config_store import ConfigStore

# A health check that answered within this many seconds is answered again
# without asking Redis: health checkers poll, and a flood of /healthz costs
# one Redis call a second at most.
HEALTH_CACHE_S = 1.0


class SiteService:
    def __init__(self, config: ConfigStore):
        self.config = config
        self._healthy_until = 0.0

    async def ping(self) -> None:
        """Redis answers (a failure raises); a success counts for a second."""
        if time.monotonic() < self._healthy_until:
            return
        await self.config.ping()
        self._healthy_until = time.monotonic() + HEALTH_CACHE_S

    async def categories(self, lang: str) -> list[dict[str, Any]]:
        cfg = await self.config.get()
        return [category_view(c, lang) for c in cfg.enabled_categories]

    async def info(self, now: datetime) -> dict[str, Any]:
        cfg = await self.config.get()
        open_now = is_open(now, cfg.hours, cfg.site.tz, is_public_holiday)
        nxt = next_opening(now, cfg.hours, cfg.site.tz, is_public_holiday)
        return {
            "id": cfg.site.id,
            "name": cfg.site.name,
            "name_en": cfg.site.name_en,
            "timezone": cfg.site.timezone,
            "seats": cfg.site.seats,
            "open": open_now or not cfg.hours.enforce,
            "enforce_hours": cfg.hours.enforce,
            "next_open": nxt.isoformat() if nxt else None,
            "priority_enabled": cfg.queue.priority_enabled,
            "priority_label": cfg.queue.priority_label,
            "rating_scale": cfg.queue.rating_scale,
            "ticket_footer": cfg.site.ticket_footer,
        }
