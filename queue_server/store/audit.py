"""The audit log of one site: who did what, in a capped Redis Stream."""

from __future__ import annotations

import json
import time
from typing import Any

from redis.asyncio import Redis

from queue_server.store.connection import entries
from queue_server.store.keys import Keys

MAX_ENTRIES = 200_000


class AuditLog:
    def __init__(self, redis: Redis, keys: Keys):
        self.redis = redis
        self.keys = keys

    async def record(self, actor: str, action: str, target: str = "", **detail: Any) -> None:
        await self.redis.xadd(
            self.keys.audit,
            {
                "ts": str(int(time.time() * 1000)),
                "actor": actor,
                "action": action,
                "target": target,
                "detail": json.dumps(detail, ensure_ascii=False, default=str),
            },
            maxlen=MAX_ENTRIES,
            approximate=True,
        )

    async def entries(self, count: int = 100) -> list[dict[str, Any]]:
        out = []
        for sid, f in entries(await self.redis.xrevrange(self.keys.audit, count=count)):
            e: dict[str, Any] = dict(f)
            e["id"] = sid
            e["ts"] = int(e["ts"])
            e["detail"] = json.loads(e.get("detail") or "{}")
            out.append(e)
        return out
