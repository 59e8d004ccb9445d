"""The clerk's counter app (/counter), its live feed (/ws/counters/{n}), and
the citizen-facing rating tablet (/rate/{n}, /ws/rate/{n}, POST /api/rate/{n}).

The counter feed sends one message per event: the counter's state, its
current ticket, a preview of the queues it serves (waiting counts and the
oldest wait per category) and today's stats for the counter, derived from
the event log.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from importlib import resources

from litestar import Request, Response, WebSocket, get, post, websocket
from litestar.params import FromPath
from litestar.exceptions import WebSocketDisconnect
from queue_server.api.auth import SESSION_COOKIE, require_clerk_at, require_device, socket_principal
from queue_server.api.deps import Svc
from queue_server.api.http import field, lang_of, read_json
from queue_server.api.pages import SECURITY_HEADERS, message_page, page
from queue_server.api.services import Services
from queue_server.api.views import staff_ticket_view
from queue_server.config import SiteConfig
from queue_server.domain.model import TicketStatus
from queue_server.errors import AppError
from queue_server.events import iter_events
from queue_server.security.accounts import DeviceKind, Role
from queue_server.store.keys import counter_queue, normal_queue, priority_queue

RATING_WINDOW_MS = 30_000
SESSION_RECHECK_S = 2.0
TABLET_RATING_MAX_MS = 10 * 60_000


def _now_ms() -> int:
    return int(time.time() * 1000)


def day_start_ms(cfg: SiteConfig, now_ms: int) -> int:
    local = datetime.fromtimestamp(now_ms / 1000, tz=timezone.utc).astimezone(cfg.site.tz)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return int(midnight.timestamp() * 1000)


def _int(v: Any) -> int | None:
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


# -- what the clerk sees ---------------------------------------------------------
async def queue_preview(svc: Services, cfg: SiteConfig, n: int, now: int) -> dict[str, Any]:
    """Waiting counts and oldest wait for each category this counter serves."""
    ct = cfg.counter(n)
    names = [counter_queue(n)]
    for code in ct.categories if ct else ():
        names += [priority_queue(code), normal_queue(code)]
    pipe = svc.redis.pipeline(transaction=False)
    for name in names:
        pipe.zcard(svc.keys.queue(name))
        pipe.zrange(svc.keys.queue(name), 0, 0, withscores=True)
    rows = await pipe.execute()
    per: dict[str, tuple[int, float | None]] = {}
    for i, name in enumerate(names):
        count, first = int(rows[2 * i]), rows[2 * i + 1]
        per[name] = (count, first[0][1] if first else None)

    def entry(code: str, queues: list[str]) -> dict[str, Any]:
        count = sum(per[q][0] for q in queues)
        oldest = [per[q][1] for q in queues if per[q][1] is not None]
        cat = cfg.category(code) if code else None
        return {
            "category": code or None, "prefix": cat.prefix if cat else "",
            "name": cat.name if cat else "", "name_en": cat.name_en if cat else "",
            "count": count, "priority": per[queues[0]][0] if code else 0,
            "oldest_wait_ms": max(0, now - int(min(oldest))) if oldest else None,
        }

    cats = [entry(code, [priority_queue(code), normal_queue(code)]) for code in (ct.categories if ct else ())]
    direct = entry("", [counter_queue(n)])
    waits = [c["oldest_wait_ms"] for c in cats + [direct] if c["oldest_wait_ms"] is not None]
    return {
        "categories": cats,
        "direct": {"count": direct["count"], "oldest_wait_ms": direct["oldest_wait_ms"]},
        "total": sum(c["count"] for c in cats) + direct["count"],
        "oldest_wait_ms": max(waits) if waits else None,
    }


async def counter_stats(svc: Services, cfg: SiteConfig, n: int, now: int) -> dict[str, Any]:
    """Today's served count, average service time and no-shows at counter `n`,
    from the event log (stream ids start with their ms timestamp)."""
    served = no_shows = calls = 0
    service_total = 0
    async for e in iter_events(svc.redis, svc.keys, start=f"{day_start_ms(cfg, now)}-0"):
        if _int(e.get("counter")) != n:
            continue
        kind = e.get("type")
        if kind == "done":
            served += 1
            service_total += _int(e.get("service_ms")) or 0
        elif kind == "no_show":
            no_shows += 1
        elif kind == "call":
            calls += 1
    return {"served": served, "no_shows": no_shows, "calls": calls,
            "avg_service_ms": round(service_total / served) if served else None}


async def counter_snapshot(svc: Services, n: int, lang: str = "vi") -> dict[str, Any]:
    cfg = await svc.config.get()
    ct = cfg.counter(n)
    if ct is None:
        raise AppError("counter_not_found", counter=n)
    now = _now_ms()
    seq = await svc.queue.last_seq()
    state = next(s for s in await svc.queue.counter_states(cfg) if s["counter"] == n)
    ticket = None
    if state["ticket"]:
        try:
            t = await svc.queue.get_ticket(state["ticket"])
        except AppError:
            t = None
        if t is not None and t.status == TicketStatus.CALLED:
            ticket = staff_ticket_view(t, cfg, None, lang)
            ticket["waited_ms"] = max(0, (t.called_at or now) - t.issued_at)
    preview, stats = await asyncio.gather(queue_preview(svc, cfg, n, now), counter_stats(svc, cfg, n, now))
    return {
        "type": "snapshot", "seq": seq, "now": now,
        "counter": {
            "number": n, "name": ct.label, "status": state["status"], "enabled": ct.enabled,
            "categories": [{"code": c.code, "prefix": c.prefix, "name": c.name, "name_en": c.name_en}
                           for c in (cfg.category(code) for code in ct.categories) if c],
        },
        "ticket": ticket,
        "preview": preview,
        "stats": stats,
        "all_categories": [{"code": c.code, "prefix": c.prefix, "name": c.name, "name_en": c.name_en,
                            "enabled": c.enabled} for c in cfg.categories],
        "all_counters": [{"number": c.number, "name": c.label, "enabled": c.enabled} for c in cfg.counters],
        "rating_scale": cfg.queue.rating_scale,
    }


# -- pages -----------------------------------------------------------------------
@get("/counter", summary="The clerk's counter app (HTML; logs in with the staff API)", include_in_schema=False)
async def counter_page() -> Any:
    return page("counter_app", "counter.html")


@get("/admin", summary="Admin pages (HTML; every API behind it needs the admin role)", include_in_schema=False)
async def admin_page() -> Any:
    return page("counter_app", "admin.html")


@get("/rate/{n:int}", summary="Rating tablet for a counter (HTML, rating device token in ?token=)", include_in_schema=False)
async def rate_page(request: Request, svc: Svc, n: FromPath[int]) -> Any:
    token = request.query_params.get("token")
    dev = await svc.accounts.device_for_token(token) if token else None
    if dev is None or dev.kind != DeviceKind.RATING:
        return message_page("Thiết bị chưa được cấp phép",
                            "Trang đánh giá cần mã thiết bị đánh giá hợp lệ (?token=...). Liên hệ quản trị viên.",
                            status=401, title_en="Device not authorised",
                            body_en="The rating page needs a valid rating device token (?token=...).")
    if dev.counter is not None and dev.counter != n:
        return message_page("Sai quầy", f"Thiết bị này được cấp cho quầy số {dev.counter}, không phải quầy {n}.",
                            status=403, title_en="Wrong counter",
                            body_en=f"This tablet belongs to counter {dev.counter}, not counter {n}.")
    cfg = await svc.config.get()
    if cfg.counter(n) is None:
        return message_page("Không có quầy này", f"Không có quầy số {n}.", status=404,
                            title_en="No such counter", body_en=f"There is no counter {n}.")
    return page("counter_app", "rate.html")


# -- the clerk's live feed -------------------------------------------------------------
@get("/api/counters/{n:int}/state", summary="The counter app's snapshot: state, ticket, queue preview, today's stats")
async def counter_state(request: Request, svc: Svc, n: FromPath[int]) -> dict:
    await require_clerk_at(request, svc, n)
    return await counter_snapshot(svc, n, lang_of(request))


class _Cached:
    """One snapshot per (counter, seq) shared by the sockets of this process."""

    def __init__(self) -> None:
        self.key: Any = None
        self.text = ""
        self.lock = asyncio.Lock()


@websocket("/ws/counters/{n:int}")
async def counter_ws(socket: WebSocket, svc: Svc, n: FromPath[int]) -> None:
    """The clerk's live feed (session cookie, same origin, counter assigned)."""
    from queue_server.api.ws import serve_feed

    p = await socket_principal(socket, svc)
    await socket.accept()
    if p.user is None:
        await socket.close(code=4401, reason="unauthorized")
        return
    if not p.user.may_use_counter(n):
        await socket.close(code=4403, reason="counter forbidden")
        return
    cfg = await svc.config.get()
    if cfg.counter(n) is None:
        await socket.close(code=4404, reason="no such counter")
        return
    lang = "en" if socket.query_params.get("lang") == "en" else "vi"
    caches = getattr(socket.app.state, "counter_feed_cache", None)
    if caches is None:
        caches = socket.app.state.counter_feed_cache = {}
    cache: _Cached = caches.setdefault((n, lang), _Cached())

    async def snap() -> dict:
        return await counter_snapshot(svc, n, lang)

    sid = socket.cookies.get(SESSION_COOKIE, "")
    checked = {"at": time.monotonic()}

    async def still_allowed() -> bool:
        """A password reset, a disabled account or new counters end the feed
        (checked at most every few seconds, when there is something to send)."""
        if time.monotonic() - checked["at"] < SESSION_RECHECK_S:
            return True
        checked["at"] = time.monotonic()
        loaded = await svc.accounts.load_session(sid, svc.settings.session_idle_minutes * 60)
        return bool(loaded) and loaded[0].may_use_counter(n)

    async def render(event: dict) -> str | None:
        if not await still_allowed():
            await socket.close(code=4401, reason="session ended")
            raise WebSocketDisconnect(detail="session ended", code=4401)
        key = (event.get("seq"), event.get("type"))
        async with cache.lock:
            if key != cache.key or key == (None, None):
                msg = await snap()
                msg["type"] = "event"
                msg["event"] = {k: event.get(k) for k in ("type", "seq", "ts", "ticket", "number", "category",
                                                          "counter", "clerk", "to_category", "to_counter")}
                cache.text = json.dumps(msg, ensure_ascii=False)
                cache.key = key
            return cache.text

    await serve_feed(socket, svc.broadcaster, snap, render)


# -- the rating tablet -------------------------------------------------------------------
async def _rating_device(conn, svc: Services, n: int):
    p = await require_device(conn, svc, DeviceKind.RATING, allow_roles=(Role.ADMIN, Role.SUPERVISOR))
    if p.device is not None and p.device.counter is not None and p.device.counter != n:
        raise AppError("forbidden")
    return p


async def pending_rating(svc: Services, n: int, now: int) -> dict[str, Any] | None:
    """The last ticket finished as served at counter `n` within the window, if unrated."""
    found = None
    async for e in iter_events(svc.redis, svc.keys, start=f"{now - RATING_WINDOW_MS}-0"):
        if e.get("type") == "done" and _int(e.get("counter")) == n:
            found = e
        elif e.get("type") in ("call", "recall") and _int(e.get("counter")) == n:
            found = None           # the next citizen is at the desk
    if found is None:
        return None
    try:
        t = await svc.queue.get_ticket(str(found.get("ticket")))
    except AppError:
        return None
    if t.rating is not None or t.status != TicketStatus.DONE:
        return None
    return {"ticket": t.id, "number": t.number, "until": int(found["ts"]) + RATING_WINDOW_MS}


@websocket("/ws/rate/{n:int}")
async def rate_ws(socket: WebSocket, svc: Svc, n: FromPath[int]) -> None:
    """Rating tablet feed: {"type":"rate"} after Done at counter n, {"type":"rated"|"clear"}."""
    from queue_server.api.ws import serve_feed

    p = await socket_principal(socket, svc)
    await socket.accept()
    ok = (p.device is not None and p.device.kind == DeviceKind.RATING
          and (p.device.counter is None or p.device.counter == n)) or \
         (p.user is not None and p.user.role in (Role.ADMIN, Role.SUPERVISOR))
    if not ok:
        await socket.close(code=4401 if p.user is None and p.device is None else 4403, reason="not allowed")
        return

    async def snap() -> dict:
        cfg = await svc.config.get()
        now = _now_ms()
        return {"type": "snapshot", "counter": n, "now": now, "scale": cfg.queue.rating_scale,
                "window_ms": RATING_WINDOW_MS, "pending": await pending_rating(svc, n, now)}

    async def render(event: dict) -> str | None:
        kind = event.get("type")
        if kind == "config":
            return json.dumps(await snap(), ensure_ascii=False)
        if _int(event.get("counter")) != n and kind != "rating":
            return None
        if kind == "done":
            cfg = await svc.config.get()
            ts = _int(event.get("ts")) or _now_ms()
            return json.dumps({"type": "rate", "ticket": event.get("ticket"), "number": event.get("number"),
                               "scale": cfg.queue.rating_scale, "now": _now_ms(),
                               "until": ts + RATING_WINDOW_MS}, ensure_ascii=False)
        if kind == "rating":
            return json.dumps({"type": "rated", "ticket": event.get("ticket")})
        if kind in ("call", "recall"):
            return json.dumps({"type": "clear"})
        return None

    await serve_feed(socket, svc.broadcaster, snap, render)


@post("/api/rate/{n:int}", status_code=201, summary="Rate the ticket just served at counter n (rating tablet token)")
async def rate_at_counter(request: Request, svc: Svc, n: FromPath[int]) -> dict:
    p = await _rating_device(request, svc, n)
    data = await read_json(request, max_bytes=1_000)
    ticket_id = field(data, "ticket", str)
    level = field(data, "level", int)
    t = await svc.queue.get_ticket(ticket_id)
    if t.counter != n:
        raise AppError("forbidden")
    if t.rating is None and t.finished_at and _now_ms() - t.finished_at > TABLET_RATING_MAX_MS:
        raise AppError("rating_closed")     # the tablet rates the citizen who just left the desk
    ticket = await svc.queue.rate(ticket_id, level, via=f"tablet:{n}")
    if p.user is not None:
        await svc.accounts.audit(p.user.username, "rating", ticket.number, ticket=ticket.id, level=level)
    return {"ticket": ticket.id, "number": ticket.number, "rating": ticket.rating}


ASSET_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
               ".svg": "image/svg+xml"}


@get("/static/counter-app/{name:str}", summary="Scripts and styles of the counter, rating and admin pages",
     include_in_schema=False)
async def static_asset(name: FromPath[str]) -> Response:
    suffix = Path(name).suffix
    if "/" in name or name.startswith(".") or suffix not in ASSET_TYPES:
        raise AppError("not_found")
    try:
        text = resources.files("counter_app").joinpath(name).read_text("utf-8")
    except (FileNotFoundError, IsADirectoryError, OSError):
        raise AppError("not_found") from None
    return Response(content=text, media_type=ASSET_TYPES[suffix],
                    headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})

ROUTES = [counter_page, admin_page, rate_page, counter_state, counter_ws, rate_ws, rate_at_counter, static_asset]
