"""The public board: a JSON snapshot and a live websocket feed."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, WebSocket, get, websocket

from queue_server.api import replies
from queue_server.api.auth import PUBLIC, authorize, caller
from queue_server.api.deps import Live, Svc
from queue_server.api.http import limit
from queue_server.api.openapi import documented
from queue_server.api.ws import serve_feed
from queue_server.domain.accounts import DeviceKind
from queue_server.errors import AppError
from queue_server.live.board_feed import prebuilt


@get(
    "/api/board",
    summary="Board snapshot: counters, recent calls, waiting counts (numbers only)",
    opt=documented(PUBLIC, errors=("rate_limited",), reply=replies.Board),
)
async def board(request: Request, svc: Svc) -> dict[str, Any]:
    await limit(request)
    return await svc.board.snapshot()


@websocket("/ws/board", opt=PUBLIC)
async def board_ws(socket: WebSocket, live: Live, svc: Svc) -> None:
    """Display feed (display token in ``?token=``, or a staff session)."""
    feed = live.board_feed
    try:
        async with feed.gate:
            p = await caller(socket)
    except AppError:
        p = None
    if p is None or not (p.user or (p.device and p.device.kind == DeviceKind.DISPLAY)):
        await socket.close(code=4401, reason="unauthorized")
        return
    await socket.accept()
    dev = p.device

    async def seen() -> None:  # the board's pings keep its last contact fresh
        if dev is not None:
            await svc.auth.touch(dev)

    await serve_feed(socket, feed, feed.snapshot_text, prebuilt, fast=True, on_message=seen)


router = Router(path="/", route_handlers=[board, board_ws], guards=[authorize])
