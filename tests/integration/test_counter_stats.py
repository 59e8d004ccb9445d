"""Per-counter day statistics and the last served ticket, kept by the Lua
scripts as the actions happen, against the full scans of the event log that
the counter app did before (copied here as the reference)."""

from __future__ import annotations

import os
import random
from typing import Any

from queue_server.domain.model import CounterStatus, TicketStatus
from queue_server.domain.numbering import service_day
from queue_server.errors import AppError
from queue_server.store.events import EventLog
from tests.helpers import Clock, make_store, run_sync

MIN = 60_000
DAY = 86_400_000
MORNING = 1_795_568_400_000  # 08:00 on 25 Nov 2026 in Hà Nội


def _int(v: Any) -> int | None:
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


async def scan_counter_stats(redis, keys, n: int, start: str = "-") -> dict[str, Any]:
    """counter_app.counter_stats() as it was: every event of the day, counted."""
    served = no_shows = calls = 0
    service_total = 0
    async for e in EventLog(redis, keys).iter(start=start):
        if _int(e.get("counter")) != n:
            continue
        kind = e.get("type")
        if kind == "done":
            served += 1
            service_total += _int(e.get("service_ms")) or 0
        elif kind == "no_show":
            no_shows += 1
        elif kind == "call":
            calls += 1
    return {
        "served": served,
        "no_shows": no_shows,
        "calls": calls,
        "avg_service_ms": round(service_total / served) if served else None,
    }


async def scan_last_done(redis, keys, n: int) -> tuple[str, int] | None:
    """counter_app.pending_rating()'s scan without its time window: the last
    'done' at counter n (issue #13: a later call or recall there does not
    forget it)."""
    found = None
    async for e in EventLog(redis, keys).iter():
        if e.get("type") == "done" and _int(e.get("counter")) == n:
            found = e
    return None if found is None else (str(found["ticket"]), int(found["ts"]))


def test_incremental_counter_stats_equal_the_full_scan_after_a_random_day(redis_url):
    seed = int(os.environ.get("MOTCUA_TEST_SEED", 4_2026_1125))
    print(f"seed={seed} (replay with MOTCUA_TEST_SEED={seed})")
    rng = random.Random(seed)

    async def go():
        clock = Clock(MORNING)
        s = await make_store(redis_url, clock=clock)
        cfg = await s.config.get()
        codes = [c.code for c in cfg.categories]
        counters = [c.number for c in cfg.counters]
        issued: list[str] = []

        async def act(step: int) -> None:
            n = rng.choice(counters)
            r = rng.random()
            if r < 0.30:
                t, _ = await s.issue(rng.choice(codes), priority=rng.random() < 0.2)
                issued.append(t.id)
            elif r < 0.50:
                idem = f"press-{step}" if rng.random() < 0.3 else None
                await s.call_next(n, idem=idem)
                if idem and rng.random() < 0.5:
                    await s.call_next(n, idem=idem)  # a replay counts nothing twice
            elif r < 0.58 and issued:
                await s.call_ticket(n, rng.choice(issued))
            elif r < 0.66:
                await s.recall(n)
            elif r < 0.80:
                await s.finish(n, TicketStatus.DONE, idem=f"done-{step}" if rng.random() < 0.2 else None)
            elif r < 0.86:
                await s.finish(n, TicketStatus.NO_SHOW)
            elif r < 0.92:
                if rng.random() < 0.5:
                    await s.transfer(n, to_category=rng.choice(codes))
                else:
                    await s.transfer(n, to_counter=rng.choice(counters))
            elif r < 0.96 and issued:
                await s.requeue(rng.choice(issued))
            else:
                await s.set_counter_status(n, rng.choice([CounterStatus.PAUSED, CounterStatus.OPEN]))

        for step in range(500):
            try:
                await act(step)
            except AppError:
                pass  # the queue was empty, nothing to finish, ...
            clock.advance(rng.randint(0, 90_000))
            if step % 50 == 49 or step == 499:
                for n in counters:
                    want = await scan_counter_stats(s.redis, s.keys, n)
                    got = await s.counter_day_stats(n)
                    assert got == want, f"seed {seed} step {step} counter {n}: {got} != {want}"
                    assert await s.last_done(n) == await scan_last_done(s.redis, s.keys, n), (
                        f"seed {seed} step {step} counter {n}"
                    )
        assert service_day(clock.now, cfg.site.tz) == service_day(MORNING, cfg.site.tz)
        totals = [await s.counter_day_stats(n) for n in counters]
        assert sum(t["served"] for t in totals) > 30 and sum(t["calls"] for t in totals) > 50, f"seed {seed}"
        assert sum(t["no_shows"] for t in totals) > 0, f"seed {seed}"
        # the hash expires after a few days
        ttl = await s.redis.pttl(s.keys.counter_stats(service_day(clock.now, cfg.site.tz), 1))
        assert 2 * DAY < ttl <= 3 * DAY
        # the next day starts from zero
        clock.advance(DAY)
        assert await s.counter_day_stats(1) == {"served": 0, "no_shows": 0, "calls": 0, "avg_service_ms": None}
        await s.redis.aclose()

    run_sync(go())


def test_last_done_stays_through_the_next_call_and_recall(redis_url):
    """Issue #13 changed the rule: a ticket served (Done, or the implicit done
    of Next) keeps its rating window when the counter calls or recalls the
    next citizen; only the next ticket served at that counter replaces it."""

    async def go():
        clock = Clock(MORNING)
        s = await make_store(redis_url, clock=clock)
        assert await s.last_done(1) is None
        a, _ = await s.issue("HT")
        b, _ = await s.issue("HT")
        c, _ = await s.issue("HT")
        await s.call_next(1)
        clock.advance(5 * MIN)
        await s.finish(1, TicketStatus.DONE)
        a_done = clock.now
        assert await s.last_done(1) == (a.id, a_done)
        assert await s.last_done(2) is None  # per counter
        clock.advance(MIN)
        await s.call_next(1)  # the next citizen: a's rating stays open
        assert await s.last_done(1) == (a.id, a_done)
        await s.recall(1)
        assert await s.last_done(1) == (a.id, a_done)
        clock.advance(MIN)
        await s.call_next(1)  # finishes b as served (Next without Done), calls c at once
        assert await s.last_done(1) == (b.id, clock.now)
        b_done = clock.now
        await s.finish(1, TicketStatus.NO_SHOW)  # c did not come: nothing new to rate
        assert await s.last_done(1) == (b.id, b_done)
        assert await s.last_done(1) == await scan_last_done(s.redis, s.keys, 1)
        d, _ = await s.issue("CT")
        await s.call_next(2)
        await s.recall(2)
        await s.finish(2, TicketStatus.DONE)
        done_at = clock.now
        clock.advance(MIN)
        # an empty queue: the next press finds nobody, the prompt stays
        try:
            await s.call_next(2)
        except AppError as e:
            assert e.code == "queue_empty"
        assert await s.last_done(2) == (d.id, done_at)
        assert await s.last_done(2) == await scan_last_done(s.redis, s.keys, 2)
        # a call of a ticket typed in by number, and its recall, keep it too
        e_, _ = await s.issue("CT")
        await s.call_ticket(2, e_.id)
        assert await s.last_done(2) == (d.id, done_at)
        await s.recall(2)
        assert await s.last_done(2) == (d.id, done_at) == await scan_last_done(s.redis, s.keys, 2)
        stats = await s.counter_day_stats(1)
        assert stats == {"served": 2, "no_shows": 1, "calls": 3, "avg_service_ms": round((5 * MIN + MIN) / 2)}
        assert await s.counter_day_stats(2) == await scan_counter_stats(s.redis, s.keys, 2)
        await s.redis.aclose()

    run_sync(go())
