"""The board's notice line and voice settings: one hash per site, changed
together with a "notice" event so every board updates live."""

from __future__ import annotations

import json
import time
from typing import Any

from redis.asyncio import Redis

from queue_server.store.connection import text_map
from queue_server.store.keys import Keys
from queue_server.store.scripts import Scripts


class DisplaySettings:
    def __init__(self, redis: Redis, keys: Keys, scripts: Scripts):
        self.redis = redis
        self.keys = keys
        self.scripts = scripts

    async def get(self) -> dict[str, str]:
        """The stored fields (``notice``, ``voice.*``); absent ones keep their defaults."""
        return text_map(await self.redis.hgetall(self.keys.settings))

    async def put(self, fields: dict[str, str], actor: str) -> int:
        """HSET the fields and record a "notice" event in one MULTI, through the
        shared emit_event script (which publishes it to every board). Returns
        the event's sequence number."""
        k = self.keys
        async with self.redis.pipeline(transaction=True) as pipe:
            mapping: dict[Any, Any] = dict(fields)
            pipe.hset(k.settings, mapping=mapping)
            await self.scripts.queue_on(
                pipe,
                "emit_event",
                [k.events, k.event_seq, k.settings],
                {
                    "now": int(time.time() * 1000),
                    "channel": k.channel,
                    "event": {"type": "notice", "clerk": actor, "changed": ",".join(sorted(fields))},
                },
            )
            _, reply = await pipe.execute()
        return int(json.loads(reply)["seq"])
