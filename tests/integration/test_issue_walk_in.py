"""A kiosk's walk-in issue reads its position in the same round trip as the
issue script (TicketStore.issue_walk_in): the position must be the one a
separate read gives, a replayed Idempotency-Key must give the first ticket,
and a Redis that lost its scripts (restart, SCRIPT FLUSH) must still issue
and queue the print job."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from queue_server.domain.model import CounterStatus
from queue_server.errors import AppError
from queue_server.store.printing import PrintQueue
from queue_server.store.ratelimit import Budget
from tests.helpers import make_store, test_config
from tests.server import run_sync


def test_position_in_the_issue_round_trip_is_the_separate_read(redis_url):
    async def go():
        s = await make_store(redis_url, test_config(queue__priority_enabled=True))
        cfg = await s.config.get()
        await s.set_counter_status(2, CounterStatus.PAUSED)  # the counter mix sees a paused desk
        codes = [c.code for c in cfg.categories if c.enabled]
        for i in range(24):
            cat, prio = codes[i % len(codes)], i % 5 == 0
            t, pos = await s.issue_walk_in(cat, priority=prio, idem=f"k{i}", device="kiosk-1", clerk="", cfg=cfg)
            assert t.category == cat and t.priority == prio
            assert pos == await s.position(t, None, cfg), (i, cat, prio)
            if i == 11:
                await s.call_next(1)  # people leave the queues in between
        first, pos1 = await s.issue_walk_in(codes[0], priority=False, idem="k0", device="kiosk-1", clerk="", cfg=cfg)
        again, pos2 = await s.issue_walk_in(codes[0], priority=False, idem="k0", device="kiosk-1", clerk="", cfg=cfg)
        assert again.id == first.id and pos2 == pos1 == await s.position(first, None, cfg)
        await s.redis.aclose()

    run_sync(go())


def test_issue_and_print_enqueue_after_redis_lost_its_scripts(redis_url):
    async def go():
        s = await make_store(redis_url)
        cfg = await s.config.get()
        await s.redis.script_flush()
        t, pos = await s.issue_walk_in("HT", priority=False, idem=None, device="kiosk-1", clerk="", cfg=cfg)
        assert pos == await s.position(t, None, cfg)
        pq = PrintQueue(s.redis, s.keys, s.scripts)
        await s.redis.script_flush()
        reply, status = await pq.enqueue_first(t.id, {"ticket": t.id, "n": secrets.token_hex(2)})
        assert reply["queued"] is True and reply["job"] == t.id
        assert status["pending_jobs"] == 1 and status["status"] == "offline"
        again, _ = await pq.enqueue_first(t.id, {"ticket": t.id})
        assert again["queued"] is False and again["state"] == "duplicate"
        await s.redis.aclose()

    run_sync(go())


def test_the_kiosk_budget_is_counted_by_the_issue_script(redis_url):
    """The kiosk's rate limit is counted inside the issue script: 12 presses at
    once against a budget of 5 give exactly 5 tickets and 7 rate_limited
    refusals (with the seconds to wait), nothing issued for a refused one; a
    replayed press counts too; another kiosk has its own budget."""

    async def go():
        s = await make_store(redis_url)
        cfg = await s.config.get()
        mine = Budget(s.keys.rate(f"issue.test-{secrets.token_hex(4)}"), 5, 60_000)

        async def press(i: int):
            try:
                t, _ = await s.issue_walk_in(
                    "HT", priority=False, idem=f"p{i}", device="kiosk-1", clerk="", cfg=cfg, budget=mine
                )
                return t.id
            except AppError as e:
                assert e.code == "rate_limited" and e.params["seconds"] >= 1
                return None

        got = await asyncio.gather(*(press(i) for i in range(12)))
        issued = [t for t in got if t]
        assert len(issued) == len(set(issued)) == 5
        assert len(await s.waiting_list(cfg, 1, limit=50)) == 5  # the refused ones issued nothing
        with pytest.raises(AppError):  # a replay of an issued press is a hit too
            await s.issue_walk_in("HT", priority=False, idem="p0", device="kiosk-1", clerk="", cfg=cfg, budget=mine)
        other = Budget(s.keys.rate(f"issue.test-{secrets.token_hex(4)}"), 5, 60_000)
        t, _ = await s.issue_walk_in("HT", priority=False, idem="x", device="kiosk-2", clerk="", cfg=cfg, budget=other)
        assert t.id not in issued
        await s.redis.aclose()

    run_sync(go())
