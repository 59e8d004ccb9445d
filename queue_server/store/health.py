"""What the health checks ask Redis: a PING, the AOF state (INFO
persistence) and the RQ workers' heartbeats. Read-only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis

from queue_server.store.connection import text, text_map
from queue_server.store.keys import rq_workers_key


class HealthProbe:
    """`workers`: the Redis RQ keeps its workers on, when it is not `redis`
    (the live state on a Redis Cluster, RQ on its own Redis)."""

    def __init__(self, redis: Redis, workers: Redis | None = None):
        self.redis = redis
        self.workers = workers if workers is not None else redis

    async def ping(self) -> None:
        """Redis answers (a failure raises)."""
        await self.redis.ping()

    async def persistence(self) -> dict[str, Any]:
        """INFO persistence: aof_enabled, aof_last_write_status, aof_last_bgrewrite_status, …"""
        info: dict[str, Any] = await self.redis.info("persistence")
        return info

    async def worker_heartbeats(self, queue_name: str) -> dict[str, float]:
        """The RQ workers registered for the queue: name -> their last heartbeat
        (epoch seconds). A worker whose key has expired (RQ lets it lapse when
        the heartbeat stops) is left out."""
        names = [text(n) for n in await self.workers.smembers(rq_workers_key(queue_name))]
        if not names:
            return {}
        pipe = self.workers.pipeline(transaction=False)
        for name in names:
            pipe.hgetall(name)
        rows = await pipe.execute()
        out: dict[str, float] = {}
        for name, row in zip(names, rows, strict=True):
            h = text_map(row)
            beat = h.get("last_heartbeat") or h.get("birth")
            if not beat:
                continue
            try:
                at = datetime.strptime(beat, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
            except ValueError:
                continue
            out[name.rsplit(":", 1)[-1]] = at.timestamp()
        return out
