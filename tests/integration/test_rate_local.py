"""The public rate limit counted in the process first (store/ratelimit.py
LocalFirst): exact within one process with no Redis command per request,
shared with another process through Redis so that two of them together keep
one budget, a new window after the old one ends, and requests still counted
(and served) while Redis is away. On the real Redis."""

from __future__ import annotations

import asyncio

from queue_server.store.ratelimit import LocalFirst, RateLimiter
from queue_server.store.scripts import Scripts
from tests.helpers import make_store, run_sync


async def _synced(lim: LocalFirst) -> None:
    for _ in range(200):
        await asyncio.sleep(0.005)
        if lim._task is None and not any(w.pending for w in lim._windows.values()):
            return
    raise AssertionError("not synced")


def _local(s, sync_s: float) -> LocalFirst:
    """A process's limiter on the test's Redis."""
    return LocalFirst(RateLimiter(s.redis, Scripts(s.redis), s.keys), sync_s=sync_s)


async def _incrby_calls(redis) -> int:
    return int((await redis.info("commandstats")).get("cmdstat_incrby", {}).get("calls", 0))


def test_exact_in_one_process_without_a_command_per_request(redis_url):
    async def go():
        s = await make_store(redis_url)
        lim = _local(s, sync_s=60)
        try:
            before = await _incrby_calls(s.redis)
            waits = [lim.hit("public", "10.0.0.1", 5) for _ in range(8)]
            assert waits[:5] == [0.0] * 5 and all(w > 0 for w in waits[5:])
            assert lim.hit("public", "10.0.0.2", 5) == 0.0  # another address has its own budget
            await _synced(lim)
            assert await _incrby_calls(s.redis) - before == 2  # one sync of each address, not one per request
        finally:
            await s.redis.aclose()

    run_sync(go())


def test_two_processes_keep_one_budget_and_the_window_ends(redis_url):
    async def go():
        s = await make_store(redis_url)
        a = _local(s, sync_s=0)
        b = _local(s, sync_s=0)
        try:
            for _ in range(8):
                assert a.hit("public", "10.0.0.9", 10, window_ms=1500) == 0.0
                await asyncio.sleep(0.005)
            await _synced(a)
            allowed_b = 0
            for _ in range(10):  # requests a little apart, as a client's are
                if b.hit("public", "10.0.0.9", 10, window_ms=1500) == 0.0:
                    allowed_b += 1
                await _synced(b)
            assert 8 + allowed_b == 10  # one budget: not 10 each
            # a's next request learns of b's share at its sync and is refused after it
            a.hit("public", "10.0.0.9", 10, window_ms=1500)
            await _synced(a)
            assert a.hit("public", "10.0.0.9", 10, window_ms=1500) > 0
            await asyncio.sleep(1.6)  # the window (started by the first hit in Redis) ends
            assert b.hit("public", "10.0.0.9", 10, window_ms=1500) == 0.0
        finally:
            await s.redis.aclose()

    run_sync(go())


def test_redis_away_the_hits_are_still_counted_and_served(redis_url):
    async def go():
        s = await make_store(redis_url)
        lim = _local(s, sync_s=0)

        async def gone(*_a, **_k):
            raise ConnectionError("redis restarting")

        lim.limiter.scripts.run_raw = gone  # type: ignore[method-assign]
        try:
            waits = []
            for _ in range(6):
                waits.append(lim.hit("public", "10.0.0.3", 4))
                await asyncio.sleep(0.005)
            assert waits[:4] == [0.0] * 4 and all(w > 0 for w in waits[4:])
            assert sum(w.pending for w in lim._windows.values()) == 4  # kept for the next sync
        finally:
            await s.redis.aclose()

    run_sync(go())
