"""Many sites' broadcasters on one Redis subscription (SharedSubscription,
as a province deployment's added sites use it): 80 sites on a client whose
pool has 8 connections all get their own events and no other site's; a
site joining later gets its events too; and after the subscription's
connection is killed every site resyncs and hears its next events."""

from __future__ import annotations

import asyncio
import json

from redis.asyncio import BlockingConnectionPool, Redis

from queue_server.live.broadcaster import Broadcaster, SharedSubscription
from tests.helpers import run_sync

SITES = 80


async def _next(sub, kind: str, timeout: float = 10.0) -> dict:
    while True:
        ev = await asyncio.wait_for(sub.get(), timeout)
        if ev and ev.get("type") == kind:
            return ev


def test_many_sites_share_one_subscription(redis_url):
    async def go():
        pool = BlockingConnectionPool.from_url(redis_url, max_connections=8, timeout=5)
        redis = Redis(connection_pool=pool)
        shared = SharedSubscription(redis)
        channels = [f"mc:{{site-{i}}}:events" for i in range(SITES)]
        casters = [Broadcaster(redis, ch, shared=shared) for ch in channels]
        try:
            for b in casters:
                await b.start()
            subs = [b.subscribe() for b in casters]
            for i, ch in enumerate(channels):
                await redis.publish(ch, json.dumps({"type": "issue", "site": i, "seq": "7"}))
            for i, sub in enumerate(subs):
                ev = await _next(sub, "issue")
                assert ev["site"] == i and ev["seq"] == 7  # its own, and only its own (the first one it hears)
            numsub = dict(await redis.pubsub_numsub(*channels[:3]))
            assert all(numsub[c.encode()] == 1 for c in channels[:3])  # one subscription, not one per site
            clients = (await redis.execute_command("CLIENT", "LIST", "TYPE", "pubsub")).decode().splitlines()
            assert any(f" sub={SITES} " in c for c in clients), clients  # 80 sites, one connection (the pool has 8)

            late = Broadcaster(redis, "mc:{site-late}:events", shared=shared)
            await late.start()
            late_sub = late.subscribe()
            await redis.publish("mc:{site-late}:events", json.dumps({"type": "call", "n": 1}))
            assert (await _next(late_sub, "call"))["n"] == 1

            # the subscription's connection dies: every site resyncs, then hears again
            await redis.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
            for sub in (subs[0], subs[-1], late_sub):
                await _next(sub, "resync")
            await redis.publish(channels[5], json.dumps({"type": "issue", "site": 5}))
            assert (await _next(subs[5], "issue"))["site"] == 5
        finally:
            await shared.stop()
            for b in [*casters]:
                await b.stop()
            await redis.aclose()
            await pool.aclose()

    run_sync(go())
