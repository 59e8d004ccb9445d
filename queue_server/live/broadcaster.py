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
from typing import Any

from redis.asyncio import Redis

from queue_server.live.hub import TICK, Hub
from queue_server.store.connection import STATS

log = logging.getLogger("motcua.live")


class Broadcaster(Hub):
    """The process's one Redis subscription, fanned out locally."""

    def __init__(
        self,
        redis: Redis,
        channel: str,
        queue_size: int = 256,
        tick_seconds: float = 5.0,
        shared: SharedSubscription | None = None,
    ):
        super().__init__(queue_size)
        self._redis = redis
        self._channel = channel
        self._tick_seconds = tick_seconds
        self._shared = shared
        self._own: SharedSubscription | None = None  # when it subscribes on its own
        self._ticker: asyncio.Task | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        if self._shared is None:  # its own subscription: a SharedSubscription of one site
            self._shared = self._own = SharedSubscription(self._redis)
        self._shared.join(self._channel, self)
        self._ticker = asyncio.create_task(self._tick(), name="motcua-heartbeat-tick")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._ready.wait(), 5)

    async def stop(self) -> None:
        if self._shared is not None:
            await self._shared.leave(self._channel)
        if self._own is not None:
            await self._own.stop()
        if self._ticker:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._ticker
        self.close_all()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self._tick_seconds)
            self.publish_local(TICK)

    def subscribed(self) -> None:
        """The subscription is (again) in place: events may have been missed."""
        self._ready.set()
        self.publish_local({"type": "resync"})

    def deliver(self, data: Any) -> None:
        """One message of the site's channel, as Redis gave it."""
        try:
            event = json.loads(data)
        except (ValueError, TypeError):
            return
        if not isinstance(event, dict):
            return
        if isinstance(event.get("seq"), str) and event["seq"].isdigit():
            event["seq"] = int(event["seq"])
        self.publish_local(event)


class SharedSubscription:
    """One Redis subscription for the channels of many sites in one process
    (api/sites.py: a province's 150 sites would otherwise hold 150 of the
    pool's connections, one per site's Broadcaster, and exhaust it). Each
    message goes to the Broadcaster of its channel; a lost subscription is
    made again for every channel, and each site's subscribers resync."""

    def __init__(self, redis: Redis):
        self._redis = redis
        self._sites: dict[str, Broadcaster] = {}
        self._pubsub: Any = None
        self._task: asyncio.Task | None = None
        self._adding: set[asyncio.Task] = set()  # held: the loop keeps only weak references to tasks

    def join(self, channel: str, site: Broadcaster) -> None:
        self._sites[channel] = site
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="motcua-shared-subscription")
        elif self._pubsub is not None:  # in place: add this channel to it
            task = asyncio.create_task(self._add(channel))
            self._adding.add(task)
            task.add_done_callback(self._adding.discard)

    async def _add(self, channel: str) -> None:
        pubsub = self._pubsub
        try:
            await pubsub.subscribe(channel)
        except Exception as e:  # the loop makes the subscription again, this channel included
            log.warning("could not subscribe to %s: %s", channel, e)
            return
        site = self._sites.get(channel)
        if site is not None and pubsub is self._pubsub:
            site.subscribed()

    async def leave(self, channel: str) -> None:
        self._sites.pop(channel, None)
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.unsubscribe(channel)

    async def stop(self) -> None:
        self._sites.clear()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None

    async def _run(self) -> None:
        backoff = 0.2
        lost = False
        while True:
            if not self._sites:  # every site left: nothing to listen to
                await asyncio.sleep(0.5)
                continue
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                channels = list(self._sites)
                await pubsub.subscribe(*channels)
                self._pubsub = pubsub
                late = [c for c in self._sites if c not in channels]  # joined while it subscribed
                if late:
                    await pubsub.subscribe(*late)
                if lost:
                    STATS.reconnects += 1
                    lost = False
                backoff = 0.2
                for site in list(self._sites.values()):
                    site.subscribed()
                async for msg in pubsub.listen():
                    if msg.get("type") != "message":
                        continue
                    ch = msg.get("channel")
                    target = self._sites.get(ch.decode() if isinstance(ch, bytes) else str(ch))
                    if target is not None:
                        target.deliver(msg["data"])
            except asyncio.CancelledError:
                self._pubsub = None
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                raise
            except Exception as e:  # Redis restarted or the network blinked
                self._pubsub = None
                STATS.errors += 1
                lost = True
                log.warning("event subscription lost (%s); retrying in %.1fs", e, backoff)
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
