"""Fixed-window rate limits and login lockout, atomic in Redis (one Lua
script), so several API processes share one budget."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from redis.asyncio import Redis

from queue_server.errors import AppError
from queue_server.store.keys import Keys
from queue_server.store.scripts import Scripts

log = logging.getLogger("motcua.ratelimit")


def _bucket(name: str, who: str) -> str:
    return f"{name}.{hashlib.sha256(who.encode()).hexdigest()[:32]}"


def refusal(wait_ms: int) -> AppError:
    """rate_limited, with the whole seconds (at least 1) until the window ends."""
    return AppError("rate_limited", seconds=max(1, (wait_ms + 999) // 1000))


@dataclass(frozen=True)
class Budget:
    """A rate-limit bucket for a script that counts it itself (the kiosk's
    issue: one round trip for the limit and the ticket)."""

    key: str
    limit: int
    window_ms: int


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
            raise refusal(ttl)

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


@dataclass
class _Window:
    window_ms: int
    end: float  # when this process believes the window ends (its clock, s)
    shared: int = 0  # the count in Redis at the last sync (this process's synced hits included)
    pending: int = 0  # this process's hits since then


class LocalFirst:
    """Fixed-window limits counted in this process first and shared with the
    other processes through Redis (rate_add.lua) at most every `sync_s`, in
    a task of its own: a public read costs no round trip of its own. The
    window is the bucket's in Redis (started by its first hit, as `check`
    starts it). Exact within one process; across processes each one may let
    through, on top of the shared count, what it counted since its last sync."""

    def __init__(self, limiter: RateLimiter, sync_s: float = 0.25, clock: Callable[[], float] = time.monotonic):
        self.limiter = limiter
        self.sync_s = sync_s
        self.clock = clock
        self._windows: dict[str, _Window] = {}
        self._task: asyncio.Task[None] | None = None
        self._last_sync = 0.0

    def hit(self, name: str, who: str, limit: int, window_ms: int = 60_000) -> float:
        """One request: 0 when it may go on, else the seconds until the window ends."""
        now = self.clock()
        key = self.limiter.keys.rate(_bucket(name, who))
        w = self._windows.get(key)
        if w is None or now >= w.end:
            w = self._windows[key] = _Window(window_ms, end=now + window_ms / 1000)
        if w.shared + w.pending >= limit:
            return max(0.001, w.end - now)
        w.pending += 1
        if self._task is None and now - self._last_sync >= self.sync_s:
            self._task = asyncio.get_running_loop().create_task(self._sync())
        return 0.0

    async def _sync(self) -> None:
        """Add every bucket's pending hits to Redis and learn the shared counts."""
        try:
            now = self.clock()
            self._last_sync = now
            for key in [k for k, w in self._windows.items() if now >= w.end]:
                del self._windows[key]
            for key, w in list(self._windows.items()):
                n = w.pending
                if n == 0:
                    continue
                try:
                    count, ttl = await self.limiter.scripts.run_raw("rate_add", [key], [n, w.window_ms])
                except Exception as e:  # Redis away: the hits stay pending, counted at the next sync
                    log.debug("rate counts not shared: %s", e)
                    return
                w.pending -= n
                w.shared = int(count)
                w.end = self.clock() + int(ttl) / 1000
        finally:
            self._task = None
