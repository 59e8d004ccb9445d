"""Live tracking of one ticket: the /t/{id} page (the QR code on the ticket)
and its websocket feed /ws/tickets/{id}. Public: the id is unguessable, and
the page shows the number only, never a name."""

from __future__ import annotations

import json
from typing import Any

from litestar import Response, WebSocket, get, websocket
from litestar.params import FromPath

from queue_server.api.deps import Svc
from queue_server.api.pages import page
from queue_server.api.views import ticket_view
from queue_server.api.ws import serve_feed
from queue_server.errors import AppError

# Events that can change a waiting ticket's position, status or rating.
RELEVANT = {"issue", "call", "recall", "done", "no_show", "requeue", "transfer", "pause", "resume",
            "expire", "rating", "config"}


@get("/t/{ticket_id:str}", summary="Live tracking page of a ticket (mobile)", include_in_schema=False)
async def track_page(ticket_id: FromPath[str]) -> Response:
    return page("printer.web", "track.html")


@websocket("/ws/tickets/{ticket_id:str}")
async def track_ws(socket: WebSocket, svc: Svc, ticket_id: FromPath[str]) -> None:
    """{"type":"ticket", ...ticket view} now and whenever it changes."""
    try:
        await svc.limit_address(socket)
        await svc.queue.get_ticket(ticket_id)
    except AppError as e:
        await socket.close(code=4404 if e.code == "ticket_not_found" else 4429, reason=e.code)
        return
    await socket.accept()
    lang = socket.query_params.get("lang") if socket.query_params.get("lang") in ("vi", "en") else "vi"
    last: dict[str, Any] = {"text": None}

    async def view() -> dict[str, Any]:
        ticket = await svc.queue.get_ticket(ticket_id)
        cfg = await svc.config.get()
        v = ticket_view(ticket, cfg, await svc.queue.position(ticket), lang)
        return {"type": "ticket", **v}

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

    await serve_feed(socket, svc.broadcaster, snapshot, render)


ROUTES = [track_page, track_ws]
