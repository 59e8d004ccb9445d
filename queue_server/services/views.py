"""JSON shapes the API returns."""

from __future__ import annotations

from typing import Any

from queue_server.domain.config import Category, SiteConfig
from queue_server.domain.model import Ticket
from queue_server.store.tickets import Position


def ticket_view(t: Ticket, cfg: SiteConfig, pos: Position | None = None, lang: str = "vi") -> dict[str, Any]:
    cat = cfg.category(t.category)
    name = cat.label(lang) if cat else t.category
    return {
        "id": t.id,
        "number": t.number,
        "category": t.category,
        "category_name": name,
        "status": str(t.status),
        "priority": t.priority,
        "source": str(t.source),
        "issued_at": t.issued_at,
        # where it is being served, or was served (not a counter queue it waits in)
        "counter": t.counter if t.status in ("called", "done", "no_show") else None,
        "called_at": t.called_at,
        "finished_at": t.finished_at,
        "ahead": pos.ahead if pos else 0,
        "eta_minutes": pos.eta_minutes if pos else 0,
        "eta_range": list(pos.eta_range) if pos and pos.eta_range else None,
        "rating": t.rating,
        "track_url": f"{cfg.site.public_url}/t/{t.id}",
    }


def slot_start(t: Ticket) -> int | None:
    """The slot (ms) of a ticket checked in for a booking; None for any other ticket
    (a late arrival's walk-in ticket too: it is served as a walk-in)."""
    raw = t.extra.get("slot_start")
    if str(t.source) != "appointment" or raw in (None, ""):
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


def staff_ticket_view(t: Ticket, cfg: SiteConfig, pos: Position | None = None, lang: str = "vi") -> dict[str, Any]:
    """Adds what clerks need: who served it and where a transfer points."""
    v = ticket_view(t, cfg, pos, lang)
    v.update(
        {
            "counter": t.counter,
            "clerk": t.clerk,
            "calls": t.calls,
            "queued_at": t.queued_at,
            "original_category": t.original_category,
            "slot_start": slot_start(t),
        }
    )
    return v


def category_view(c: Category, lang: str = "vi") -> dict[str, Any]:
    return {
        "code": c.code,
        "prefix": c.prefix,
        "name": c.label(lang),
        "name_vi": c.name,
        "name_en": c.name_en,
        "target_wait_min": c.target_wait_min,
        "service_min": c.service_min,
        "enabled": c.enabled,
        "procedures": [{"name": p.label(lang), "name_vi": p.name, "name_en": p.name_en} for p in c.procedures],
    }


def category_brief(c: Category) -> dict[str, Any]:
    return {"code": c.code, "prefix": c.prefix, "name": c.name, "name_en": c.name_en}
