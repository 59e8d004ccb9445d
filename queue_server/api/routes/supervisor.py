"""The supervisor's live view (/supervisor, issue #11): its page, its
snapshot (GET /api/supervisor) and its live feed (/ws/supervisor), for the
supervisor and admin roles. The figures come from SupervisorService."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from litestar import Request, Response, Router, WebSocket, get, websocket
from litestar.exceptions import WebSocketDisconnect

from queue_server.api import replies
from queue_server.api.auth import PUBLIC, SESSION_COOKIE, access, authorize, caller, socket_principal
from queue_server.api.deps import Live, Svc
from queue_server.api.openapi import documented
from queue_server.api.pages import message_page, page
from queue_server.api.ws import serve_feed
from queue_server.domain.accounts import Role
from queue_server.errors import AppError

SUPERVISING = (Role.SUPERVISOR, Role.ADMIN)
SESSION_RECHECK_S = 2.0
EVENT_FIELDS = ("type", "seq", "ts", "ticket", "number", "category", "counter", "clerk")


@get(
    "/supervisor",
    summary="The supervisor's live view (HTML; supervisor and admin; a clerk gets a 403 page)",
    include_in_schema=False,
    opt=PUBLIC,
)
async def supervisor_page(request: Request) -> Response[str]:
    try:
        p = await caller(request)
    except AppError:
        p = None
    if p is not None and p.user is not None and p.user.role not in SUPERVISING:
        return message_page(
            "Không có quyền truy cập",
            "Trang giám sát chỉ dành cho giám sát viên và quản trị viên. Hãy đăng nhập bằng tài khoản có quyền này.",
            status=403,
            title_en="Access denied",
            body_en="The supervisor view is for supervisors and administrators only.",
            heading_id="forbidden",
        )
    return page("counter_app", "supervisor.html")  # not logged in: the page's login form


@get(
    "/api/supervisor",
    opt=documented(access(roles=SUPERVISING), reply=replies.SupervisorSnapshot),
    summary="The supervisor view's snapshot: queues, counters, today's figures, alerts",
)
async def supervisor_state(svc: Svc) -> dict[str, Any]:
    return await svc.supervisor.snapshot()


class _Cached:
    """One message per event shared by the supervisor sockets of this process."""

    def __init__(self) -> None:
        self.key: Any = None
        self.text = ""
        self.lock = asyncio.Lock()


@websocket("/ws/supervisor", opt=PUBLIC)
async def supervisor_ws(socket: WebSocket, svc: Svc, live: Live) -> None:
    """The live feed: a snapshot, then the view again after every event
    (session cookie, same origin, supervisor or admin)."""
    p = await socket_principal(socket)
    await socket.accept()
    if p.user is None:
        await socket.close(code=4401, reason="unauthorized")
        return
    if p.user.role not in SUPERVISING:
        await socket.close(code=4403, reason="forbidden")
        return
    cache: _Cached = live.caches.setdefault("supervisor", _Cached())
    sid = socket.cookies.get(SESSION_COOKIE, "")
    checked = {"at": time.monotonic()}

    async def still_allowed() -> bool:
        if time.monotonic() - checked["at"] < SESSION_RECHECK_S:
            return True
        checked["at"] = time.monotonic()
        user = await svc.auth.session_user(sid)
        return user is not None and user.role in SUPERVISING

    async def render(event: dict[str, Any]) -> str | None:
        if not await still_allowed():
            await socket.close(code=4401, reason="session ended")
            raise WebSocketDisconnect(detail="session ended", code=4401)
        key = (event.get("seq"), event.get("type"))
        async with cache.lock:
            if key != cache.key or key == (None, None):
                msg = await svc.supervisor.snapshot()
                msg["type"] = "event"
                msg["event"] = {k: event.get(k) for k in EVENT_FIELDS}
                cache.text = json.dumps(msg, ensure_ascii=False)
                cache.key = key
            return cache.text

    await serve_feed(socket, live.broadcaster, svc.supervisor.snapshot, render)


router = Router(path="/", route_handlers=[supervisor_page, supervisor_state, supervisor_ws], guards=[authorize])
