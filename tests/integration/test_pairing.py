"""Pairing a display by code, on a real Redis: a code is claimed once, the
token is handed out once, and everything expires."""

from __future__ import annotations

import asyncio
import uuid

from redis.asyncio import Redis

from queue_server.store.keys import Keys
from queue_server.store.pairing import Pairings
from tests.helpers import run_sync


def test_code_claimed_once_token_delivered_once(redis_url):
    async def go():
        r = Redis.from_url(redis_url, decode_responses=True)
        pairings = Pairings(r, Keys(f"pair-{uuid.uuid4().hex[:8]}"))
        p = await pairings.start()
        assert len(p.code) == 6 and p.code.isdigit() and len(p.poll_id) >= 32
        assert await pairings.poll(p.poll_id) == {"status": "waiting"}
        assert await pairings.claim("000000" if p.code != "000000" else "111111") is None  # another code
        assert await pairings.claim(p.code) == p.poll_id
        assert await pairings.claim(p.code) is None  # only once
        assert await pairings.poll(p.poll_id) == {"status": "waiting"}  # claimed, no token yet
        assert await pairings.deliver(p.poll_id, "display_tok")
        assert await pairings.poll(p.poll_id) == {"status": "paired", "token": "display_tok"}
        assert await pairings.poll(p.poll_id) is None  # the token left once
        assert await pairings.poll("no-such-poll-id") is None
        # parallel claims of one code: exactly one wins
        q = await pairings.start()
        wins = await asyncio.gather(*(pairings.claim(q.code) for _ in range(20)))
        assert [w for w in wins if w] == [q.poll_id]
        await r.aclose()

    run_sync(go())


def test_everything_expires(redis_url):
    async def go():
        r = Redis.from_url(redis_url, decode_responses=True)
        pairings = Pairings(r, Keys(f"pair-{uuid.uuid4().hex[:8]}"), ttl=1)
        p = await pairings.start()
        await asyncio.sleep(1.2)
        assert await pairings.claim(p.code) is None
        assert await pairings.poll(p.poll_id) is None
        q = await pairings.start()
        assert await pairings.claim(q.code) == q.poll_id
        await asyncio.sleep(1.2)
        assert not await pairings.deliver(q.poll_id, "tok")  # expired meanwhile
        await r.aclose()

    run_sync(go())
