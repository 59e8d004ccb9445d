"""Fixed-window rate limits and login lockout, atomic in Redis (one Lua
script), so several API processes share one budget."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from redis.asyncio import Redis

from queue_server.errors import AppError
from queue_server.store.keys import Keys
from queue_server.store.scripts import Scripts


def _bucket(name: str, who: str) -> str:
    return f"{name}.{hashlib.sha256(who.encode()).hexdigest()[:32]}"


@dataclass(frozen=True)
class Budget:
    """A rate-limit bucket for a script that counts it itself (the kiosk's
    issue: one round trip for the limit and the ticket)."""

    key: str
    limit: int
    window_ms: int

    def refusal(self, ttl_ms: int) -> AppError:
        return AppError("rate_limited", seconds=max(1, (ttl_ms + 999) // 1000))


class RateLimiter:
    def __init__(self, redis: Redis, scripts: Scripts, keys: Keys):
        self.redis = redis
        self.scripts = scripts
        self.keys = keys

    async def hit(self, name: str, who: str, limit: int, window_ms: int) -> tuple[int, int]:
        count, ttl = await self.scripts.run_raw("rate_limit", [self.keys.rate(_bucket(name, who))], [limit, window_ms])
        return int(count), int(ttl)

    def budget(self, name: str, who: str, limit: int, window_ms: int = 60_000) -> Budget:
        return Budget(self.keys.rate(_bucket(name, who)), limit, window_ms)

    async def check(self, name: str, who: str, limit: int, window_ms: int = 60_000) -> None:
        count, ttl = await self.hit(name, who, limit, window_ms)
        if count > limit:
            raise self.budget(name, who, limit, window_ms).refusal(ttl)

    # -- login lockout ----------------------------------------------------------
    # Failures are counted per account and client address, in one hash per
    # account. An address that fails `limit` times is locked out of that
    # account; all addresses together may fail `limit` x GLOBAL_FACTOR times
    # before the account is locked everywhere. So a stranger on the Wi-Fi
    # cannot lock a clerk out of her own counter PC with five wrong passwords,
    # and a spread-out guessing attack still hits a wall.
    GLOBAL_FACTOR = 10

    def _fail_key(self, username: str) -> str:
        return self.keys.rate(_bucket("loginfail", username))

    async def lockout(self, username: str, address: str, limit: int) -> int:
        """Milliseconds this address stays locked out of the account (0 = not locked)."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.hgetall(self._fail_key(username))
        pipe.pttl(self._fail_key(username))
        counts, ttl = await pipe.execute()
        mine = int(counts.get(address, 0))
        total = sum(int(v) for v in counts.values())
        if mine >= limit or total >= limit * self.GLOBAL_FACTOR:
            return max(int(ttl), 1)
        return 0

    async def record_failure(self, username: str, address: str, window_ms: int) -> int:
        """Count one failure; returns this address's failures in the window."""
        key = self._fail_key(username)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hincrby(key, address, 1)
        pipe.pexpire(key, window_ms)
        mine, _ = await pipe.execute()
        return int(mine)

    async def clear_failures(self, username: str) -> None:
        await self.redis.delete(self._fail_key(username))
