"""The Lua queue engine against a real Redis."""

from __future__ import annotations

import random

import pytest

from queue_server.domain.model import CounterStatus, Source, TicketStatus
from queue_server.domain.selection import Head, choose_next
from queue_server.errors import AppError
from queue_server.store.keys import counter_queue
from queue_server.store.tickets import queue_plan
from tests.helpers import Clock, make_store, run_sync, test_config

MIN = 60_000


def run(coro):
    return run_sync(coro)


async def events_of(store, etype=None):
    rows = await store.redis.xrange(store.keys.events)
    out = [dict(f) for _, f in rows]
    return [e for e in out if etype is None or e["type"] == etype]


def test_numbers_are_daily_per_category_and_roll_over_at_local_midnight(redis_url):
    async def go():
        # 23:59 in Hà Nội on 24 Nov 2026 (16:59 UTC)
        clock = Clock(1795539540000)
        s = await make_store(redis_url, clock=clock)
        a1, _ = await s.issue("HT")
        b1, _ = await s.issue("CT")
        a2, _ = await s.issue("HT")
        assert (a1.number, b1.number, a2.number) == ("A001", "B001", "A002")
        assert a1.day == "20261124"
        clock.advance(2 * MIN)  # 00:01 on the 25th
        a3, _ = await s.issue("HT")
        assert a3.number == "A001" and a3.day == "20261125"
        # yesterday's A001 is still findable by its own day, today's by today's
        assert (await s.find_ticket("a1")).id == a3.id
        assert (await s.find_ticket("A001", day="20261124")).id == a1.id
        await s.redis.aclose()

    run(go())


def test_full_visit_and_event_log(redis_url):
    async def go():
        clock = Clock()
        s = await make_store(redis_url, clock=clock)
        t, ahead = await s.issue("HT")
        assert ahead == 0 and t.status == TicketStatus.WAITING and t.source == Source.WALK_IN
        clock.advance(5 * MIN)
        r = await s.call_next(1, clerk="lan")
        assert r.ticket.id == t.id and r.ticket.status == TicketStatus.CALLED and r.ticket.counter == 1
        clock.advance(MIN)
        again = await s.recall(1, clerk="lan")
        assert again.calls == 2
        clock.advance(7 * MIN)
        done = await s.finish(1, TicketStatus.DONE, clerk="lan")
        assert done.status == TicketStatus.DONE and done.finished_at == clock.now
        evs = await events_of(s)
        assert [e["type"] for e in evs] == ["issue", "call", "recall", "done"]
        assert [int(e["seq"]) for e in evs] == [1, 2, 3, 4]
        call = evs[1]
        assert call["ticket"] == t.id and call["counter"] == "1" and call["clerk"] == "lan"
        assert call["category"] == "HT" and int(call["wait_ms"]) == 5 * MIN
        assert int(evs[3]["service_ms"]) == 8 * MIN
        # the rolling average moved from the configured 8 min toward 8 min sample
        assert int(await s.redis.hget(s.keys.averages, "HT")) == 8 * MIN
        await s.redis.aclose()

    run(go())


def test_next_while_serving_finishes_current_first(redis_url):
    async def go():
        s = await make_store(redis_url)
        t1, _ = await s.issue("HT")
        t2, _ = await s.issue("HT")
        await s.call_next(1)
        r = await s.call_next(1)
        assert r.ticket.id == t2.id and r.finished == t1.id
        assert (await s.get_ticket(t1.id)).status == TicketStatus.DONE
        with pytest.raises(AppError) as e:
            await s.call_next(1)
        assert e.value.code == "queue_empty"
        assert (await s.get_ticket(t2.id)).status == TicketStatus.DONE
        await s.redis.aclose()

    run(go())


def test_work_profile_priority_and_starvation(redis_url):
    async def go():
        clock = Clock()
        s = await make_store(redis_url, clock=clock)
        # counter 3 serves CT, HT, KD, KH in that order
        ht, _ = await s.issue("HT")
        clock.advance(MIN)
        ct, _ = await s.issue("CT")
        clock.advance(MIN)
        htp, _ = await s.issue("HT", priority=True)
        assert (await s.call_next(3)).ticket.id == htp.id  # priority first
        assert (await s.call_next(3)).ticket.id == ct.id  # then profile order (CT before HT)
        assert (await s.call_next(3)).ticket.id == ht.id
        # starvation: a DD ticket (target 20 min) waiting 41 min beats a fresh priority HT at counter 5? no:
        # counter 5 does not serve DD. Counter 4 serves DD, KD, KH.
        kd, _ = await s.issue("KD")
        clock.advance(MIN)
        kh, _ = await s.issue("KH")
        clock.advance(41 * MIN)  # KD target 20 min: both KD and KH (target 20) now starve; KD is older
        dd, _ = await s.issue("DD")
        assert (await s.call_next(4)).ticket.id == kd.id
        assert (await s.call_next(4)).ticket.id == kh.id
        assert (await s.call_next(4)).ticket.id == dd.id
        await s.redis.aclose()

    run(go())


def test_lua_order_matches_the_pure_rules_on_random_queues(redis_url):
    async def go():
        rng = random.Random(20261124)
        for round_ in range(40):
            clock = Clock(1_800_000_000_000)
            s = await make_store(redis_url, clock=clock)
            cfg = await s.config.get()
            codes = [c.code for c in cfg.categories]
            for _ in range(rng.randint(1, 25)):
                # a walk-in (rank = issue time), or a rank apart from the issue
                # time: earlier, or later (an appointment's slot)
                kind = rng.random()
                rank = (
                    None
                    if kind < 0.3
                    else clock.now - rng.randint(0, 80) * MIN
                    if kind < 0.8
                    else clock.now + rng.randint(0, 60) * MIN
                )
                await s.issue(rng.choice(codes), priority=rng.random() < 0.2, rank_ms=rank)
                clock.advance(rng.randint(0, 3) * MIN)
            # a few tickets transferred to counters
            for n in rng.sample(range(1, 6), 2):
                try:
                    await s.call_next(n)
                    await s.transfer(n, to_counter=rng.randint(1, 5))
                except AppError:
                    pass
            for _ in range(30):
                counter = rng.randint(1, 5)
                plan = queue_plan(cfg, counter)
                heads = []
                for q in plan:
                    top = await s.redis.zrange(s.keys.queue(q["name"]), 0, 0, withscores=True)
                    if top:
                        tid, score = top[0][0], int(top[0][1])
                        # rank: the ZSET score; starvation: from when it joined the queue
                        joined = (await s.get_ticket(tid)).queued_at
                        heads.append(Head(tid, q["category"], score, q["priority"], q["profile_index"], joined))
                targets = {c.code: c.target_wait_ms for c in cfg.categories}
                expected = choose_next(heads, clock.now, targets, cfg.queue.starvation_factor)
                try:
                    got = (await s.call_next(counter)).ticket.id
                except AppError as e:
                    assert e.code == "queue_empty" and expected is None
                    continue
                assert expected is not None and got == expected.ticket_id, f"round {round_}"
                clock.advance(rng.randint(0, 5) * MIN)
            await s.redis.aclose()

    run(go())


def test_transfer_keeps_issue_time_and_goes_to_the_right_queue(redis_url):
    async def go():
        clock = Clock()
        s = await make_store(redis_url, clock=clock)
        first, _ = await s.issue("HT")
        clock.advance(10 * MIN)
        later, _ = await s.issue("CT")
        await s.call_next(1)  # first (HT) at counter 1
        moved = await s.transfer(1, to_category="CT", clerk="lan")
        assert moved.category == "CT" and moved.original_category == "HT"
        assert moved.queued_at == first.issued_at and moved.source == Source.TRANSFER
        # at counter 3 (CT first) the transferred ticket ranks before the later CT ticket
        assert (await s.call_next(3)).ticket.id == first.id
        assert (await s.call_next(3)).ticket.id == later.id
        # transfer to a counter
        await s.transfer(3, to_counter=5)
        assert await s.redis.zscore(s.keys.queue(counter_queue(5)), later.id) is not None
        pos = await s.position(await s.get_ticket(later.id))
        assert pos.ahead == 0
        assert (await s.call_next(5)).ticket.id == later.id
        with pytest.raises(AppError) as e:
            await s.transfer(5)
        assert e.value.code == "transfer_target"
        with pytest.raises(AppError) as e:
            await s.transfer(5, to_category="NOPE")
        assert e.value.code == "unknown_category"
        ev = (await events_of(s, "transfer"))[0]
        assert ev["from_category"] == "HT" and ev["to_category"] == "CT" and ev["counter"] == "1"
        await s.redis.aclose()

    run(go())


def test_no_show_and_return_to_queue(redis_url):
    async def go():
        clock = Clock()
        s = await make_store(redis_url, clock=clock)
        a, _ = await s.issue("HT")
        clock.advance(MIN)
        b, _ = await s.issue("HT")
        await s.call_next(1)
        gone = await s.finish(1, TicketStatus.NO_SHOW)
        assert gone.status == TicketStatus.NO_SHOW
        with pytest.raises(AppError) as e:
            await s.requeue(b.id)
        assert e.value.code == "not_no_show"
        back = await s.requeue(a.id, clerk="lan")
        assert back.status == TicketStatus.WAITING
        # back at its old rank: ahead of b
        assert (await s.call_next(2)).ticket.id == a.id
        assert (await s.call_next(2)).ticket.id == b.id
        await s.redis.aclose()

    run(go())


def test_specific_call_pause_and_errors(redis_url):
    async def go():
        s = await make_store(redis_url)
        a, _ = await s.issue("HT")
        b, _ = await s.issue("HT")
        r = await s.call_ticket(2, b.id)
        assert r.ticket.id == b.id
        with pytest.raises(AppError) as e:
            await s.call_ticket(1, b.id)
        assert e.value.code == "ticket_not_waiting"
        assert await s.set_counter_status(1, CounterStatus.PAUSED)
        assert not await s.set_counter_status(1, CounterStatus.PAUSED)
        with pytest.raises(AppError) as e:
            await s.call_next(1)
        assert e.value.code == "counter_paused"
        await s.set_counter_status(1, CounterStatus.OPEN)
        assert (await s.call_next(1)).ticket.id == a.id
        for bad, code in (
            (lambda: s.call_next(9), "counter_not_found"),
            (lambda: s.issue("XX"), "unknown_category"),
            (lambda: s.recall(3), "no_current_ticket"),
            (lambda: s.get_ticket("nope"), "ticket_not_found"),
        ):
            with pytest.raises(AppError) as e:
                await bad()
            assert e.value.code == code
        await s.redis.aclose()

    run(go())


def test_closed_counter_and_disabled_category(redis_url):
    async def go():
        cfg_dict = test_config().to_dict()
        cfg_dict["counters"][4]["enabled"] = False
        cfg_dict["counters"][0]["categories"].append("XH")
        cfg_dict["categories"][5]["enabled"] = False
        from queue_server.domain.config import parse_config

        s = await make_store(redis_url, parse_config(cfg_dict))
        with pytest.raises(AppError) as e:
            await s.call_next(5)
        assert e.value.code == "counter_closed"
        with pytest.raises(AppError) as e:
            await s.issue("KH")
        assert e.value.code == "category_disabled"
        await s.redis.aclose()

    run(go())


def test_idempotency_key_returns_the_first_result(redis_url):
    async def go():
        s = await make_store(redis_url)
        for _ in range(3):
            await s.issue("HT")
        first = await s.call_next(1, idem="press-1")
        again = await s.call_next(1, idem="press-1")
        assert again.ticket.id == first.ticket.id and again.replayed
        assert len(await events_of(s, "call")) == 1
        # the same key at another counter is another press
        other = await s.call_next(2, idem="press-1")
        assert other.ticket.id != first.ticket.id
        # issuing with a key: one ticket
        t1, _ = await s.issue("CT", idem="tap-9", device="kiosk1")
        t2, _ = await s.issue("CT", idem="tap-9", device="kiosk1")
        assert t1.id == t2.id
        assert len(await events_of(s, "issue")) == 4
        await s.redis.aclose()

    run(go())


def test_debounce_returns_the_current_ticket(redis_url):
    async def go():
        clock = Clock()
        s = await make_store(redis_url, test_config(queue__next_debounce_ms=1500), clock=clock)
        a, _ = await s.issue("HT")
        b, _ = await s.issue("HT")  # same millisecond: still first come, first served
        await s.call_next(1)
        clock.advance(500)
        r = await s.call_next(1)
        assert r.debounced and r.ticket.id == a.id
        assert (await s.get_ticket(b.id)).status == TicketStatus.WAITING
        clock.advance(1500)
        assert (await s.call_next(1)).ticket.id == b.id
        await s.redis.aclose()

    run(go())


def test_position_and_eta(redis_url):
    async def go():
        clock = Clock()
        s = await make_store(redis_url, clock=clock)
        tickets = []
        for _ in range(5):
            t, ahead = await s.issue("CT")
            tickets.append((t, ahead))
            clock.advance(1000)
        assert [a for _, a in tickets] == [0, 1, 2, 3, 4]
        p, _ = await s.issue("CT", priority=True)
        last = await s.position(tickets[-1][0])
        assert last.ahead == 5  # the priority ticket is ahead too
        # CT: 5 min each, served by counters 1, 2, 3 -> 5 people / 3 counters * 5 min = 8.33 -> 9
        assert last.eta_minutes == 9
        assert (await s.position(p)).ahead == 0
        # the count the issue script returns gives the same position as reading it again
        q, q_ahead = await s.issue("CT")
        assert q_ahead == 6 and await s.position(q, q_ahead) == await s.position(q)
        await s.redis.aclose()

    run(go())


def test_rating_once_after_service(redis_url):
    async def go():
        s = await make_store(redis_url)
        t, _ = await s.issue("HT")
        with pytest.raises(AppError) as e:
            await s.rate(t.id, 1)
        assert e.value.code == "not_served"
        await s.call_next(1)
        await s.finish(1, TicketStatus.DONE)
        with pytest.raises(AppError) as e:
            await s.rate(t.id, 4)  # 3-level scale
        assert e.value.code == "invalid_rating"
        rated = await s.rate(t.id, 1, via="track")
        assert rated.rating == 1
        with pytest.raises(AppError) as e:
            await s.rate(t.id, 2)
        assert e.value.code == "already_rated"
        ev = await events_of(s, "rating")
        assert len(ev) == 1 and ev[0]["level"] == "1" and ev[0]["scale"] == "3"
        await s.redis.aclose()

    run(go())


def test_close_day_expires_waiting_and_called(redis_url):
    async def go():
        s = await make_store(redis_url)
        a, _ = await s.issue("HT")
        b, _ = await s.issue("CT")
        await s.call_next(1)
        assert await s.close_day() == 2
        assert (await s.get_ticket(a.id)).status == TicketStatus.EXPIRED
        assert (await s.get_ticket(b.id)).status == TicketStatus.EXPIRED
        cfg = await s.config.get()
        assert sum((await s.waiting_counts(cfg)).values()) == 0
        assert all(st["ticket"] is None for st in await s.counter_states(cfg))
        assert len(await events_of(s, "expire")) == 2
        await s.redis.aclose()

    run(go())


def test_purge_forgets_old_finished_tickets_but_keeps_their_events(redis_url):
    async def go():
        clock = Clock(1795539540000 - 40 * 86_400_000)  # 40 days ago
        s = await make_store(redis_url, clock=clock)
        old_done, _ = await s.issue("HT")
        old_waiting, _ = await s.issue("CT")
        await s.call_next(1)
        await s.finish(1, TicketStatus.DONE)
        clock.advance(40 * 86_400_000)  # today
        today, _ = await s.issue("HT")
        assert await s.purge_tickets(30, batch=2) == 1
        with pytest.raises(AppError):
            await s.get_ticket(old_done.id)
        assert (await s.get_ticket(old_waiting.id)).status == TicketStatus.WAITING  # still in a queue: kept
        assert (await s.get_ticket(today.id)).status == TicketStatus.WAITING
        assert [e["type"] for e in await events_of(s) if e["ticket"] == old_done.id] == ["issue", "call", "done"]
        await s.redis.aclose()

    run(go())


def test_waiting_list_and_todays_no_shows_of_a_counter(redis_url):
    """The counter app's lists (issue #13 item 8): read from the queues and the
    per-day no-show sets, never the event log."""

    async def go():
        clock = Clock()
        s = await make_store(redis_url, clock=clock)
        cfg = await s.config.get()
        a, _ = await s.issue("HT")
        clock.advance(1000)
        b, _ = await s.issue("HT", priority=True)
        clock.advance(1000)
        c, _ = await s.issue("CT")
        d, _ = await s.issue("DD")  # counter 1 does not serve DD
        assert [t.number for t in await s.waiting_list(cfg, 1)] == [b.number, a.number, c.number]
        assert len(await s.waiting_list(cfg, 1, limit=2)) == 2
        await s.call_ticket(1, a.id)
        await s.finish(1, TicketStatus.NO_SHOW, idem="ns-1")
        await s.finish(1, TicketStatus.NO_SHOW, idem="ns-1")  # a replay adds nothing
        await s.call_ticket(4, d.id)
        await s.finish(4, TicketStatus.NO_SHOW)
        assert [t.id for t in await s.no_shows_today(cfg, 1)] == [a.id]
        assert [t.id for t in await s.no_shows_today(cfg, 4)] == [d.id]
        again = await s.requeue_result(a.id, idem="rq-1")
        assert not again.replayed and (await s.requeue_result(a.id, idem="rq-1")).replayed
        assert await s.no_shows_today(cfg, 1) == []
        assert a.id in [t.id for t in await s.waiting_list(cfg, 1)]
        await s.redis.aclose()

    run(go())
