"""JSON shapes the API returns."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from queue_server.domain.config import Category, SiteConfig
from queue_server.domain.model import Ticket
from queue_server.domain.room import near_text, turn_near
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
        **room_fields(t, cfg, pos, lang),
    }


def room_fields(t: Ticket, cfg: SiteConfig, pos: Position | None, lang: str) -> dict[str, Any]:
    """The waiting room's part of a ticket (domain/room.py): its come-back
    time when the room was full at its issue, and the warning that its turn
    is near (at most [room] warn_ahead people before it)."""
    ahead = pos.ahead if pos else 0
    near = turn_near(str(t.status), ahead, cfg.room.warn_ahead) if pos else False
    notice = t.extra.get("notice")
    return {
        **come_back_fields(t, cfg, lang),
        "warn_ahead": cfg.room.warn_ahead,
        "turn_near": near,
        "turn_text": near_text(ahead, lang) if near else None,
        "notice": notice if notice in ("pending", "sent") else None,
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


def come_back_fields(t: Ticket, cfg: SiteConfig, lang: str = "vi") -> dict[str, Any]:
    """A ticket's come-back time (ms and HH:MM in the site's zone) and its line, or nones."""
    raw = t.extra.get("come_back_at")
    if raw in (None, ""):
        return {"come_back_at": None, "come_back_time": None, "come_back_text": None}
    at = datetime.fromtimestamp(int(raw) / 1000, UTC).astimezone(cfg.site.tz)
    hhmm = f"{at:%H:%M}"
    return {"come_back_at": int(raw), "come_back_time": hhmm, "come_back_text": cfg.room.come_back(hhmm, lang)}
