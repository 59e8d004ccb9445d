"""The last backup's result of a site (`motcua backup`, the daily job), for
the admin page: time, file, size, ok or the error."""

from __future__ import annotations

import json
from typing import Any

from redis.asyncio import Redis

from queue_server.store.connection import text
from queue_server.store.keys import Keys


class BackupLog:
    def __init__(self, redis: Redis, keys: Keys):
        self.redis = redis
        self.keys = keys

    async def record(self, result: dict[str, Any]) -> None:
        """Keep `result` ({at, file, size, ok, error}) as the last one."""
        await self.redis.set(self.keys.backup_last, json.dumps(result, ensure_ascii=False))

    async def last(self) -> dict[str, Any] | None:
        raw = await self.redis.get(self.keys.backup_last)
        if raw is None:
            return None
        value: dict[str, Any] = json.loads(text(raw))
        return value
