"""Reading the event log (the Redis Stream every Lua script appends to)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from redis.asyncio import Redis

from queue_server.domain.events import SCHEMA, Event, FieldSpec, fields_of, text_fields
from queue_server.store.connection import entries, text
from queue_server.store.keys import Keys

# Stream ids are the Redis server's clock; tickets carry the app's. Start the
# scan a little before the issue time so a skew between the two loses nothing.
CLOCK_SKEW_MS = 10 * 60_000

# the fields of every event, for an entry of a type the schema does not know
COMMON = fields_of(Event)


def _legacy(spec: FieldSpec | None, v: str) -> Any:
    """A decoded value in the shape callers have always had: declared integers
    as int (None when empty), everything else (bools too: '0'/'1') as str."""
    if spec is None or spec.kind != "int":
        return v
    if v == "":
        return None
    try:
        return int(v)
    except ValueError:
        return v


def decode_event(stream_id: bytes | str, fields: Mapping[Any, Any]) -> dict[str, Any]:
    """One stream entry as a dict: the fields, typed by the declared schema
    (queue_server/domain/events.py), and `id`, the stream id. Accepts the
    bytes or str replies of either kind of Redis client."""
    f = text_fields(fields)
    spec = SCHEMA.get(f.get("type", ""), {})
    e: dict[str, Any] = {k: _legacy(spec.get(k) or COMMON.get(k), v) for k, v in f.items()}
    e["id"] = text(stream_id)
    return e


class EventLog:
    """The event log of one site."""

    def __init__(self, redis: Redis, keys: Keys):
        self.redis = redis
        self.keys = keys

    async def iter(self, start: str = "-", end: str = "+", batch: int = 1000) -> AsyncIterator[dict[str, Any]]:
        """Every event from `start` to `end` (stream ids), oldest first."""
        cursor = start
        while True:
            rows = entries(await self.redis.xrange(self.keys.events, min=cursor, max=end, count=batch))
            for sid, fields in rows:
                yield decode_event(sid, fields)
            if len(rows) < batch:
                return
            cursor = "(" + rows[-1][0]  # exclusive: continue after the last one

    async def for_ticket(self, ticket_id: str, issued_at: int | None = None) -> list[dict[str, Any]]:
        """A ticket's events, oldest first. With its issue time the scan starts
        there instead of at the beginning of the log (months of events)."""
        start = f"{max(0, issued_at - CLOCK_SKEW_MS)}-0" if issued_at else "-"
        return [e async for e in self.iter(start=start) if e.get("ticket") == ticket_id]

    async def last_seq(self) -> int:
        """The sequence number of the newest event (0 when there is none)."""
        return int(await self.redis.get(self.keys.event_seq) or 0)

    async def last_ts(self) -> int | None:
        """The `ts` of the newest event (the app's clock when it happened), or None."""
        rows = entries(await self.redis.xrevrange(self.keys.events, count=1))
        if not rows:
            return None
        ts = rows[0][1].get("ts")
        return int(ts) if ts and str(ts).isdigit() else None
