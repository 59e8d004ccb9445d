"""The public board: a JSON snapshot and a live websocket feed."""

from __future__ import annotations

from litestar import Request, WebSocket, get, websocket

from queue_server.api.auth import authenticate
from queue_server.api.deps import Svc
from queue_server.api.services import Services
from queue_server.api.ws import serve_feed
from queue_server.board import BoardFeed, prebuilt, snapshot
from queue_server.errors import AppError
from queue_server.security.accounts import DeviceKind


@get("/api/board", summary="Board snapshot: counters, recent calls, waiting counts (numbers only)")
async def board(request: Request, svc: Svc) -> dict:
    await svc.limit_address(request)
    return await snapshot(svc.queue)


def _feed(socket: WebSocket, svc: Services) -> BoardFeed:
    """The process's BoardFeed, attached to its Broadcaster on first use."""
    app_state = socket.app.state
    if getattr(app_state, "board_feed", None) is None:
        app_state.board_feed = BoardFeed(svc.queue, fanout_threads=svc.settings.fanout_thread_count).attach(svc.broadcaster)
    return app_state.board_feed


@websocket("/ws/board")
async def board_ws(socket: WebSocket, svc: Svc) -> None:
    """Display feed (display token in ``?token=``, or a staff session)."""
    feed = _feed(socket, svc)
    try:
        async with feed.gate:
            p = await authenticate(socket, svc)
    except AppError:
        p = None
    if p is None or not (p.user or (p.device and p.device.kind == DeviceKind.DISPLAY)):
        await socket.close(code=4401, reason="unauthorized")
        return
    await socket.accept()
    await serve_feed(socket, feed, feed.snapshot_text, prebuilt, fast=True)


ROUTES = [board, board_ws]
