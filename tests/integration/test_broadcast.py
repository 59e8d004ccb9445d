"""The broadcaster hands on every event a Lua script publishes, in order.
On a Redis Cluster (the cluster pass of `motcua test`) each broadcaster
subscribes on a node picked at random, and a script's PUBLISH on the site's
master reaches all of them: the cluster carries it to every node."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from queue_server.live.broadcaster import Broadcaster
from queue_server.store.connection import MotcuaCluster
from tests.helpers import make_store, run_sync


async def _events(sub, want: int) -> list[dict]:
    got: list[dict] = []
    while len(got) < want:
        ev = await asyncio.wait_for(sub.get(), 10)
        if ev and ev.get("type") == "issue":
            got.append(ev)
    return got


def test_every_broadcaster_gets_every_event_in_order(redis_url):
    async def go():
        s = await make_store(redis_url)
        casters = [Broadcaster(s.redis, s.keys.channel) for _ in range(6)]
        try:
            for b in casters:
                await b.start()
            subs = [b.subscribe() for b in casters]
            issued = [(await s.issue("HT"))[0] for _ in range(5)]
            for sub in subs:
                got = await _events(sub, 5)
                assert [e["number"] for e in got] == [t.number for t in issued]
                assert [e["seq"] for e in got] == sorted(e["seq"] for e in got)
            if isinstance(s.redis, MotcuaCluster):  # the subscriptions are spread over the nodes
                listening = 0
                for node in s.redis.get_nodes():
                    r = Redis(host=node.host, port=node.port)
                    listening += bool(dict(await r.pubsub_numsub(s.keys.channel)).get(s.keys.channel.encode()))
                    await r.aclose()
                assert listening == len(s.redis.get_nodes()) >= 3  # the masters; two of them not the site's
        finally:
            for b in casters:
                await b.stop()
            await s.redis.aclose()

    run_sync(go())
