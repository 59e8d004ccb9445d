"""Fixed-window rate limits and login lockout, atomic in Redis (one Lua
script), so several API processes share one budget."""

from __future__ import annotations

import hashlib

from queue_server.errors import AppError
from queue_server.store.keys import Keys
from queue_server.store.scripts import Scripts


def _bucket(name: str, who: str) -> str:
    return f"{name}.{hashlib.sha256(who.encode()).hexdigest()[:32]}"


class RateLimiter:
    def __init__(self, scripts: Scripts, keys: Keys):
        self.scripts = scripts
        self.keys = keys

    async def hit(self, name: str, who: str, limit: int, window_ms: int) -> tuple[int, int]:
        count, ttl = await self.scripts.run_raw("rate_limit", [self.keys.rate(_bucket(name, who))], [limit, window_ms])
        return int(count), int(ttl)

    async def check(self, name: str, who: str, limit: int, window_ms: int = 60_000) -> None:
        count, ttl = await self.hit(name, who, limit, window_ms)
        if count > limit:
            raise AppError("rate_limited", seconds=max(1, (ttl + 999) // 1000))

    # -- login lockout: N failures within the window lock the account ----------
    async def failures(self, username: str) -> tuple[int, int]:
        key = self.keys.rate(_bucket("loginfail", username))
        pipe = self.scripts.redis.pipeline(transaction=False)
        pipe.get(key)
        pipe.pttl(key)
        n, ttl = await pipe.execute()
        return int(n or 0), int(ttl)

    async def record_failure(self, username: str, window_ms: int) -> int:
        count, _ = await self.hit("loginfail", username, 0, window_ms)
        return count

    async def clear_failures(self, username: str) -> None:
        await self.scripts.redis.delete(self.keys.rate(_bucket("loginfail", username)))
