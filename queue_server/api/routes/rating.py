"""The citizen-facing rating tablet: /rate/{n}, its feed /ws/rate/{n}, and
POST /api/rate/{n}."""

from __future__ import annotations

import json
from typing import Any

from litestar import Request, Response, Router, WebSocket, get, post, websocket
from litestar.params import FromPath

from queue_server.api import replies
from queue_server.api.auth import PUBLIC, access, authorize, device_of, socket_principal
from queue_server.api.deps import Caller, Live, Svc
from queue_server.api.http import field, read_json
from queue_server.api.openapi import documented, integer, obj, string
from queue_server.api.pages import message_page, page
from queue_server.api.ws import serve_feed
from queue_server.domain.accounts import DeviceKind, Role
from queue_server.errors import AppError
from queue_server.services.input import as_int

SUPERVISING = (Role.ADMIN, Role.SUPERVISOR)


@get(
    "/rate/{n:int}",
    summary="Rating tablet for a counter (HTML, rating device token in ?token=)",
    include_in_schema=False,
    opt=PUBLIC,
)
async def rate_page(request: Request, svc: Svc, n: FromPath[int]) -> Response[str]:
    dev = await device_of(request, DeviceKind.RATING)
    if dev is None:
        return message_page(
            "Thiết bị chưa được cấp phép",
            "Trang đánh giá cần mã thiết bị đánh giá hợp lệ (?token=...). Liên hệ quản trị viên.",
            status=401,
            title_en="Device not authorised",
            body_en="The rating page needs a valid rating device token (?token=...).",
        )
    if dev.counter is not None and dev.counter != n:
        return message_page(
            "Sai quầy",
            f"Thiết bị này được cấp cho quầy số {dev.counter}, không phải quầy {n}.",
            status=403,
            title_en="Wrong counter",
            body_en=f"This tablet belongs to counter {dev.counter}, not counter {n}.",
        )
    if not await svc.counters.exists(n):
        return message_page(
            "Không có quầy này",
            f"Không có quầy số {n}.",
            status=404,
            title_en="No such counter",
            body_en=f"There is no counter {n}.",
        )
    return page("counter_app", "rate.html")


@websocket("/ws/rate/{n:int}", opt=PUBLIC)
async def rate_ws(socket: WebSocket, svc: Svc, live: Live, n: FromPath[int]) -> None:
    """Rating tablet feed: {"type":"rate"} after a ticket is served at counter n
    (Done or Next), {"type":"rated"}, {"type":"serving","number"} when the
    counter calls someone (the open rating stays open)."""
    p = await socket_principal(socket)
    await socket.accept()
    ok = (
        p.device is not None
        and p.device.kind == DeviceKind.RATING
        and (p.device.counter is None or p.device.counter == n)
    ) or (p.user is not None and p.user.role in SUPERVISING)
    if not ok:
        await socket.close(code=4401 if p.user is None and p.device is None else 4403, reason="not allowed")
        return

    async def snap() -> dict[str, Any]:
        return await svc.ratings.snapshot(n)

    async def render(event: dict[str, Any]) -> str | None:
        kind = event.get("type")
        if kind == "config":
            return json.dumps(await snap(), ensure_ascii=False)
        if as_int(event.get("counter")) != n and kind != "rating":
            return None
        if kind == "done":
            return json.dumps(await svc.ratings.prompt(event), ensure_ascii=False)
        if kind == "rating":
            return json.dumps({"type": "rated", "ticket": event.get("ticket")})
        if kind in ("call", "recall"):
            return json.dumps({"type": "serving", "number": event.get("number")})
        if kind == "no_show":
            return json.dumps({"type": "serving", "number": None})
        return None

    dev = p.device

    async def seen() -> None:  # the tablet's pings keep its last contact fresh
        if dev is not None:
            await svc.auth.touch(dev)

    await serve_feed(socket, live.broadcaster, snap, render, on_message=seen)


@post(
    "/api/rate/{n:int}",
    request_max_body_size=1_000,
    status_code=201,
    opt=documented(
        access(roles=SUPERVISING, devices=(DeviceKind.RATING,)),
        body=obj(
            required=("ticket", "level"),
            ticket=string("The id of the ticket the tablet was asked to rate"),
            level=integer("1 = least satisfied … the configured scale", minimum=1),
        ),
        errors=(
            "counter_not_found",
            "ticket_not_found",
            "not_served",
            "already_rated",
            "rating_closed",
            "invalid_rating",
        ),
        reply=replies.RatedAtCounter,
    ),
    summary="Rate the ticket just served at counter n (rating tablet token)",
)
async def rate_at_counter(request: Request, svc: Svc, caller: Caller, n: FromPath[int]) -> dict[str, Any]:
    if caller.device is not None and caller.device.counter is not None and caller.device.counter != n:
        raise AppError("forbidden")
    data = await read_json(request)
    ticket_id = field(data, "ticket", str)
    level = field(data, "level", int)
    ticket = await svc.ratings.rate_at_counter(n, ticket_id, level, caller.user)
    return {"ticket": ticket.id, "number": ticket.number, "rating": ticket.rating}


router = Router(path="/", route_handlers=[rate_page, rate_ws, rate_at_counter], guards=[authorize])
