"""Websocket plumbing shared by the board, tracking and counter feeds:
a heartbeat both ways, and a resync on request or on a lost subscription."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any, Awaitable, Callable

from litestar import WebSocket
from litestar.exceptions import WebSocketDisconnect

from queue_server.live import TICK, Hub

HEARTBEAT_SECONDS = 15

Render = Callable[[dict[str, Any]], Awaitable[str | None]]
Snapshot = Callable[[], Awaitable[dict[str, Any] | str]]


async def messages(socket: WebSocket):
    """The JSON objects a client sends; text that is not a JSON object is skipped."""
    while True:
        raw = await socket.receive_text()
        try:
            msg = json.loads(raw)
        except ValueError:
            continue
        if isinstance(msg, dict):
            yield msg


async def run_until_first_ends(*coros: Awaitable[None]) -> BaseException | None:
    """Run a socket's loops (outgoing, incoming) until one ends, cancel the
    rest, and return what ended it unless that was the client leaving."""
    tasks = [asyncio.ensure_future(c) for c in coros]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for t in done:
            exc = t.exception()
            if exc and not isinstance(exc, (WebSocketDisconnect, ConnectionError)):
                return exc
        return None
    finally:
        for t in tasks:
            t.cancel()
            with contextlib.suppress(BaseException):
                await t


async def serve_feed(socket: WebSocket, broadcaster: Hub, snapshot: Snapshot, render: Render) -> None:
    """Send a snapshot, then one message per event (`render` may skip one by
    returning None). The client may send {"type":"ping"} or {"type":"sync"}."""
    sub = broadcaster.subscribe()
    send_lock = asyncio.Lock()
    loop = asyncio.get_running_loop()
    last_sent = [loop.time()]

    async def send(text: str) -> None:
        async with send_lock:
            await socket.send_text(text)
        last_sent[0] = loop.time()

    async def send_snapshot() -> None:
        snap = await snapshot()           # a dict, or JSON text already shared by many sockets
        await send(snap if isinstance(snap, str) else json.dumps(snap, ensure_ascii=False))

    async def outgoing() -> None:
        await send_snapshot()
        while True:
            event = await sub.get()
            if event is None:
                return
            if event is TICK:       # heartbeat: ping after HEARTBEAT_SECONDS of silence
                if loop.time() - last_sent[0] >= HEARTBEAT_SECONDS:
                    await send('{"type":"ping"}')
                continue
            if event.get("type") == "resync":
                await send_snapshot()
                continue
            text = event.get("_text") or await render(event)   # _text: built once for all sockets
            if text is not None:
                await send(text)

    async def incoming() -> None:
        async for msg in messages(socket):
            kind = msg.get("type")
            if kind == "ping":
                await send('{"type":"pong"}')
            elif kind == "sync":
                await send_snapshot()

    try:
        exc = await run_until_first_ends(outgoing(), incoming())
        if exc is not None:
            raise exc
    finally:
        broadcaster.unsubscribe(sub)
        if sub.overflowed:
            with contextlib.suppress(Exception):
                await socket.close(code=1013)   # try again: the client resyncs
