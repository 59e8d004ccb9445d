"""The clerk's counter app (/counter), the admin page shell (/admin), their
scripts, and the counter's live feed (/ws/counters/{n}).

The counter feed sends one message per event: the counter's state, its
current ticket, a preview of the queues it serves (waiting counts and the
oldest wait per category) and today's stats for the counter.
"""

from __future__ import annotations

import asyncio
import json
import time
from importlib import resources
from pathlib import Path
from typing import Any

from litestar import Request, Response, Router, WebSocket, get, websocket
from litestar.exceptions import WebSocketDisconnect
from litestar.params import FromPath

from queue_server.api import replies
from queue_server.api.auth import PUBLIC, SESSION_COOKIE, access, authorize, socket_principal
from queue_server.api.deps import Live, Svc
from queue_server.api.http import lang_of
from queue_server.api.openapi import documented
from queue_server.api.pages import SECURITY_HEADERS, asset_name_ok, page
from queue_server.api.ws import serve_feed
from queue_server.errors import AppError

SESSION_RECHECK_S = 2.0
EVENT_FIELDS = ("type", "seq", "ts", "ticket", "number", "category", "counter", "clerk", "to_category", "to_counter")


@get(
    "/counter",
    summary="The clerk's counter app (HTML; logs in with the staff API)",
    include_in_schema=False,
    opt=PUBLIC,
)
async def counter_page() -> Response[str]:
    return page("counter_app", "counter.html")


@get(
    "/admin",
    summary="Admin pages (HTML; every API behind it needs the admin role)",
    include_in_schema=False,
    opt=PUBLIC,
)
async def admin_page() -> Response[str]:
    return page("counter_app", "admin.html")


@get(
    "/appointments",
    summary="A day's appointments for the supervisor, printable (HTML; GET /api/appointments needs staff)",
    include_in_schema=False,
    opt=PUBLIC,
)
async def appointments_page() -> Response[str]:
    return page("counter_app", "appointments.html")


@get(
    "/api/counters/{n:int}/state",
    opt=documented(access(counter=True), reply=replies.CounterSnapshot),
    summary="The counter app's snapshot: state, ticket, queue preview, today's stats",
)
async def counter_state(request: Request, svc: Svc, n: FromPath[int]) -> dict[str, Any]:
    return await svc.counters.snapshot(n, lang_of(request))


class _Cached:
    """One snapshot per (counter, seq) shared by the sockets of this process."""

    def __init__(self) -> None:
        self.key: Any = None
        self.text = ""
        self.lock = asyncio.Lock()


@websocket("/ws/counters/{n:int}", opt=PUBLIC)
async def counter_ws(socket: WebSocket, svc: Svc, live: Live, n: FromPath[int]) -> None:
    """The clerk's live feed (session cookie, same origin, counter assigned)."""
    p = await socket_principal(socket)
    await socket.accept()
    if p.user is None:
        await socket.close(code=4401, reason="unauthorized")
        return
    if not p.user.may_use_counter(n):
        await socket.close(code=4403, reason="counter forbidden")
        return
    if not await svc.counters.exists(n):
        await socket.close(code=4404, reason="no such counter")
        return
    lang = "en" if socket.query_params.get("lang") == "en" else "vi"
    cache: _Cached = live.caches.setdefault(("counter", n, lang), _Cached())

    async def snap() -> dict[str, Any]:
        return await svc.counters.snapshot(n, lang)

    sid = socket.cookies.get(SESSION_COOKIE, "")
    checked = {"at": time.monotonic()}

    async def still_allowed() -> bool:
        """A password reset, a disabled account or new counters end the feed
        (checked at most every few seconds, when there is something to send)."""
        if time.monotonic() - checked["at"] < SESSION_RECHECK_S:
            return True
        checked["at"] = time.monotonic()
        user = await svc.auth.session_user(sid)
        return user is not None and user.may_use_counter(n)

    async def render(event: dict[str, Any]) -> str | None:
        if not await still_allowed():
            await socket.close(code=4401, reason="session ended")
            raise WebSocketDisconnect(detail="session ended", code=4401)
        key = (event.get("seq"), event.get("type"))
        async with cache.lock:
            if key != cache.key or key == (None, None):
                msg = await snap()
                msg["type"] = "event"
                msg["event"] = {k: event.get(k) for k in EVENT_FIELDS}
                cache.text = json.dumps(msg, ensure_ascii=False)
                cache.key = key
            return cache.text

    await serve_feed(socket, live.broadcaster, snap, render)


ASSET_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}


@get(
    "/static/counter-app/{name:str}",
    summary="Scripts and styles of the counter, rating and admin pages",
    include_in_schema=False,
    opt=PUBLIC,
)
async def static_asset(name: FromPath[str]) -> Response[str]:
    suffix = Path(name).suffix
    if not asset_name_ok(name) or suffix not in ASSET_TYPES:
        raise AppError("not_found")
    try:
        text = resources.files("counter_app").joinpath(name).read_text("utf-8")
    except (FileNotFoundError, IsADirectoryError, OSError):
        raise AppError("not_found") from None
    return Response(
        content=text, media_type=ASSET_TYPES[suffix], headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"}
    )


router = Router(
    path="/",
    route_handlers=[counter_page, admin_page, appointments_page, counter_state, counter_ws, static_asset],
    guards=[authorize],
)
