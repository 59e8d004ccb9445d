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


# Stream ids are the Redis server's clock; tickets carry the app's. Start the
# scan a little before the issue time so a skew between the two loses nothing.
CLOCK_SKEW_MS = 10 * 60_000


async def ticket_events(redis: Redis, keys: Keys, ticket_id: str, issued_at: int | None = None) -> list[dict[str, Any]]:
    """A ticket's events, oldest first. With its issue time the scan starts
    there instead of at the beginning of the log (months of events)."""
    start = f"{max(0, issued_at - CLOCK_SKEW_MS)}-0" if issued_at else "-"
    return [e async for e in iter_events(redis, keys, start=start) if e.get("ticket") == ticket_id]
