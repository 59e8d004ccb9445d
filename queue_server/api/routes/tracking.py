"""Live tracking of one ticket: the /t/{id} page (the QR code on the ticket)
and its websocket feed /ws/tickets/{id}. Public: the id is unguessable, and
the page shows the number only, never a name."""

from __future__ import annotations

import json
from typing import Any

from litestar import Request, Response, Router, WebSocket, get, websocket
from litestar.params import FromPath

from queue_server.api.auth import PUBLIC, authorize
from queue_server.api.deps import Live, Svc
from queue_server.api.http import limit
from queue_server.api.pages import message_page, page
from queue_server.api.ws import serve_feed
from queue_server.errors import AppError
from queue_server.services.views import ticket_view

# Events that can change a waiting ticket's position, status or rating.
RELEVANT = {
    "issue",
    "call",
    "recall",
    "done",
    "no_show",
    "requeue",
    "transfer",
    "pause",
    "resume",
    "expire",
    "rating",
    "config",
    "come_back",
    "ticket_phone",
    "turn_notice",
}


@get("/t/{ticket_id:str}", summary="Live tracking page of a ticket (mobile)", include_in_schema=False, opt=PUBLIC)
async def track_page(request: Request, svc: Svc, ticket_id: FromPath[str]) -> Response[str]:
    await limit(request)
    try:
        await svc.tickets.get(ticket_id)
    except AppError as e:
        if e.code != "ticket_not_found":
            raise
        return message_page(
            "Không tìm thấy số thứ tự này.",
            "Số thứ tự không có hoặc đã hết hạn. Vui lòng kiểm tra lại mã QR trên phiếu, hoặc hỏi cán bộ tại quầy.",
            status=404,
            title_en="Ticket not found",
            body_en="This ticket does not exist or has expired. Check the QR code on your ticket or ask the staff.",
            heading_id="status",
        )
    return page("printer.web", "track.html")


@websocket("/ws/tickets/{ticket_id:str}", opt=PUBLIC)
async def track_ws(socket: WebSocket, svc: Svc, live: Live, ticket_id: FromPath[str]) -> None:
    """{"type":"ticket", ...ticket view} now and whenever it changes."""
    try:
        await limit(socket)
        await svc.tickets.get(ticket_id)
    except AppError as e:
        await socket.close(code=4404 if e.code == "ticket_not_found" else 4429, reason=e.code)
        return
    await socket.accept()
    lang = "en" if socket.query_params.get("lang") == "en" else "vi"
    last: dict[str, Any] = {"text": None}

    async def view() -> dict[str, Any]:
        state = await svc.tickets.get(ticket_id)
        return {"type": "ticket", **ticket_view(state.ticket, state.cfg, state.position, lang)}

    async def snapshot() -> dict[str, Any]:
        v = await view()
        last["text"] = json.dumps(v, ensure_ascii=False, sort_keys=True)
        return v

    async def render(event: dict[str, Any]) -> str | None:
        if event.get("type") not in RELEVANT:
            return None
        text = json.dumps(await view(), ensure_ascii=False, sort_keys=True)
        if text == last["text"]:
            return None
        last["text"] = text
        return text

    await serve_feed(socket, live.broadcaster, snapshot, render)


router = Router(path="/", route_handlers=[track_page, track_ws], guards=[authorize])
