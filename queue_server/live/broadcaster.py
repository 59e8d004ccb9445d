"""The process's one Redis subscription to the site's events.

Every Lua script PUBLISHes the event it appends to the stream. Each API
process runs one `Broadcaster`: a single subscription whose messages are
handed to local subscribers (a `Hub`). So a call made through any process,
or by an RQ worker, reaches every display connected to any process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from redis.asyncio import Redis

from queue_server.live.hub import TICK, Hub
from queue_server.store.connection import STATS

log = logging.getLogger("motcua.live")


class Broadcaster(Hub):
    """The process's one Redis subscription, fanned out locally."""

    def __init__(self, redis: Redis, channel: str, queue_size: int = 256, tick_seconds: float = 5.0):
        super().__init__(queue_size)
        self._redis = redis
        self._channel = channel
        self._tick_seconds = tick_seconds
        self._task: asyncio.Task | None = None
        self._ticker: asyncio.Task | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="motcua-broadcaster")
        self._ticker = asyncio.create_task(self._tick(), name="motcua-heartbeat-tick")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._ready.wait(), 5)

    async def stop(self) -> None:
        for task in (self._task, self._ticker):
            if task:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self.close_all()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self._tick_seconds)
            self.publish_local(TICK)

    async def _run(self) -> None:
        backoff = 0.2
        lost = False
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._channel)
                if lost:
                    STATS.reconnects += 1
                    lost = False
                self._ready.set()
                backoff = 0.2
                # after a lost subscription, tell subscribers to resync
                self.publish_local({"type": "resync"})
                async for msg in pubsub.listen():
                    if msg.get("type") != "message":
                        continue
                    try:
                        event = json.loads(msg["data"])
                    except (ValueError, TypeError):
                        continue
                    if isinstance(event.get("seq"), str) and event["seq"].isdigit():
                        event["seq"] = int(event["seq"])
                    self.publish_local(event)
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                raise
            except Exception as e:  # Redis restarted or the network blinked
                STATS.errors += 1
                lost = True
                log.warning("event subscription lost (%s); retrying in %.1fs", e, backoff)
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
