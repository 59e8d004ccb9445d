"""Login lockout is per account and address, with a wall for all addresses."""

from __future__ import annotations

from queue_server.store.connection import open_redis
from queue_server.store.keys import Keys
from queue_server.store.ratelimit import RateLimiter
from queue_server.store.scripts import Scripts
from tests.helpers import run_sync

WINDOW = 60_000


def test_one_address_cannot_lock_the_account_for_everyone(redis_url):
    async def go():
        r = open_redis(redis_url)  # a cluster too
        lim = RateLimiter(r, Scripts(r), Keys("t-lockout-1"))
        for _ in range(5):
            assert await lim.lockout("lan", "10.0.0.66", 5) == 0
            await lim.record_failure("lan", "10.0.0.66", WINDOW)
        assert 0 < await lim.lockout("lan", "10.0.0.66", 5) <= WINDOW  # the guesser is locked out
        assert await lim.lockout("lan", "10.0.0.21", 5) == 0  # the clerk's PC is not
        assert await lim.lockout("minh", "10.0.0.66", 5) == 0  # nor another account
        await lim.clear_failures("lan")  # an admin unlock clears it all
        assert await lim.lockout("lan", "10.0.0.66", 5) == 0
        await r.aclose()

    run_sync(go())


def test_many_addresses_together_lock_the_account(redis_url):
    async def go():
        r = open_redis(redis_url)  # a cluster too
        lim = RateLimiter(r, Scripts(r), Keys("t-lockout-2"))
        for i in range(50):  # 4 tries each from 12.5 addresses: no address reaches 5
            await lim.record_failure("lan", f"10.1.0.{i // 4}", WINDOW)
        assert await lim.lockout("lan", "10.0.0.21", 5) > 0
        await r.aclose()

    run_sync(go())
