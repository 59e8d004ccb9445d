"""Helpers for the pages' reconnect tests: change the queue straight in Redis
while the API server is down, as another process would."""

from __future__ import annotations

import asyncio
import concurrent.futures

from queue_server.domain.config import parse_config
from tests.helpers import make_store, test_config_dict


def run_async(coro):
    """asyncio.run in a worker thread (Playwright's sync API owns this thread's loop)."""
    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        return ex.submit(asyncio.run, coro).result(30)


async def _call(redis_url: str, site_id: str, counter: int, category: str | None) -> tuple[str, str]:
    store = await make_store(redis_url, parse_config(test_config_dict(site_id=site_id)))
    try:
        issued = None
        if category:
            issued, _ = await store.issue(category)
        res = await store.call_next(counter, clerk="test")
        if issued is not None:
            assert res.ticket.id == issued.id
        return res.ticket.id, res.ticket.number
    finally:
        await store.redis.aclose()


def direct_call(live, counter: int, category: str | None = None) -> tuple[str, str]:
    """Issue a ticket of `category` (if given) and call the next one at `counter`,
    outside the API process; returns the called ticket's (id, number)."""
    return run_async(_call(live.redis_url, live.site_id, counter, category))
