"""Reading the event log (the Redis Stream every Lua script appends to)."""

from __future__ import annotations

from typing import Any, AsyncIterator

from redis.asyncio import Redis

from queue_server.store.keys import Keys

INT_FIELDS = {"seq", "ts", "counter", "wait_ms", "service_ms", "ahead", "issued_at", "calls", "level", "scale"}


def decode_event(stream_id: bytes | str, fields: dict) -> dict[str, Any]:
    e: dict[str, Any] = {}
    for k, v in fields.items():
        k = k.decode() if isinstance(k, bytes) else k
        v = v.decode() if isinstance(v, bytes) else v
        if k in INT_FIELDS and v.lstrip("-").isdigit():
            e[k] = int(v)
        elif k in INT_FIELDS and v == "":
            e[k] = None
        else:
            e[k] = v
    e["id"] = stream_id.decode() if isinstance(stream_id, bytes) else stream_id
    return e


async def iter_events(redis: Redis, keys: Keys, start: str = "-", end: str = "+", batch: int = 1000) -> AsyncIterator[dict[str, Any]]:
    """Every event from `start` to `end` (stream ids), oldest first."""
    cursor = start
    while True:
        rows = await redis.xrange(keys.events, min=cursor, max=end, count=batch)
        for sid, fields in rows:
            yield decode_event(sid, fields)
        if len(rows) < batch:
            return
        cursor = "(" + rows[-1][0].decode()   # exclusive: continue after the last one


async def ticket_events(redis: Redis, keys: Keys, ticket_id: str) -> list[dict[str, Any]]:
    return [e async for e in iter_events(redis, keys) if e.get("ticket") == ticket_id]
