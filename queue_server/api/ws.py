"""Websocket plumbing shared by the board, tracking and counter feeds:
a heartbeat both ways, and a resync on request or on a lost subscription."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import WebSocket
from litestar.exceptions import WebSocketDisconnect

from queue_server.live.fastsend import fast_protocol, writable
from queue_server.live.hub import TICK, Hub

HEARTBEAT_SECONDS = 15
SYNC: dict[str, Any] = {"type": "_sync"}  # a client's sync request, queued for the outgoing loop

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


async def serve_feed(
    socket: WebSocket,
    broadcaster: Hub,
    snapshot: Snapshot,
    render: Render,
    fast: bool = False,
    on_message: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Send a snapshot, then one message per event (`render` may skip one by
    returning None). The client may send {"type":"ping"} or {"type":"sync"}.

    fast=True (the board): once the snapshot and every event queued behind
    it are sent, messages that carry a pre-encoded "_frame" are written by
    the hub straight to this socket's transport (api/fastsend.py) when the
    server is uvicorn's plain websockets protocol. A sync or resync leaves
    the fast path until the new snapshot and the events queued behind it
    are sent, so no event overtakes a snapshot. The pong of a fast-path
    socket says so ({"type":"pong","fast":true}). `on_message` runs on each
    message the client sends (a display's last contact is recorded so)."""
    sub = broadcaster.subscribe()
    send_lock = asyncio.Lock()
    loop = asyncio.get_running_loop()
    last_sent = [loop.time()]
    proto = fast_protocol(socket.send) if fast else None

    async def send(text: str) -> None:
        async with send_lock:
            await socket.send_text(text)
        last_sent[0] = loop.time()

    async def send_snapshot() -> None:
        sub.proto = None  # events from now on queue behind the snapshot
        snap = await snapshot()  # a dict, or JSON text already shared by many sockets
        await send(snap if isinstance(snap, str) else json.dumps(snap, ensure_ascii=False))

    async def outgoing() -> None:
        await send_snapshot()
        while True:
            if proto is not None and sub.proto is None and sub.queue.empty() and not sub.overflowed:
                # caught up, nothing queued: later frames go straight to the transport
                if writable(proto):
                    sub.proto = proto
            event = await sub.get()
            if event is None:
                return
            if event is TICK:  # heartbeat: ping after HEARTBEAT_SECONDS of silence
                if loop.time() - max(last_sent[0], broadcaster.last_frame_at if sub.proto else 0) >= HEARTBEAT_SECONDS:
                    await send('{"type":"ping"}')
                continue
            if event.get("type") in ("resync", "_sync"):
                await send_snapshot()
                continue
            text = event.get("_text") or await render(event)  # _text: built once for all sockets
            if text is not None:
                await send(text)

    async def incoming() -> None:
        async for msg in messages(socket):
            if on_message is not None:
                await on_message()
            kind = msg.get("type")
            if kind == "ping":
                await send('{"type":"pong","fast":true}' if sub.proto is not None else '{"type":"pong"}')
            elif kind == "sync":
                if proto is None:
                    await send_snapshot()
                else:  # the outgoing loop sends it, in order with the events
                    sub.proto = None
                    with contextlib.suppress(asyncio.QueueFull):
                        sub.queue.put_nowait(SYNC)

    try:
        exc = await run_until_first_ends(outgoing(), incoming())
        if exc is not None:
            raise exc
    finally:
        sub.proto = None
        broadcaster.unsubscribe(sub)
        if sub.overflowed:
            with contextlib.suppress(Exception):
                await socket.close(code=1013)  # try again: the client resyncs
