"""The print-job queue on a real Redis: kept until acked, deduplicated by
ticket id, retried with exponential backoff, released on disconnect or when
the printer comes back."""

from __future__ import annotations

import asyncio
import secrets

from redis.asyncio import Redis

from queue_server.services.printing import job_data
from queue_server.store.keys import Keys
from queue_server.store.printing import (
    AGENT_STALE_MS,
    BACKOFF_MAX_MS,
    BACKOFF_MS,
    FIRST_PRINT_GRACE_MS,
    LEASE_MS,
    PrintQueue,
)
from queue_server.store.scripts import Scripts
from tests.helpers import Clock, make_store
from tests.server import run_sync


def _pq(redis_url: str, clock: Clock) -> tuple[PrintQueue, Redis]:
    r = Redis.from_url(redis_url, decode_responses=True)
    keys = Keys("t-" + secrets.token_hex(4))
    return PrintQueue(r, keys, Scripts(r), clock=clock), r


def run(coro):
    # run_sync: also works after a browser test left Playwright's loop running
    return run_sync(coro)


def test_job_kept_until_acked_and_deduplicated(redis_url):
    async def go():
        clock = Clock()
        pq, r = _pq(redis_url, clock)
        try:
            a = await pq.enqueue("T1", {"number": "A001"})
            assert a == {"job": "T1", "queued": True, "state": "queued"}
            again = await pq.enqueue("T1", {"number": "A001"})
            assert again["queued"] is False and again["state"] == "duplicate"
            jobs = await pq.claim()
            assert [(j["id"], j["attempts"], j["data"]["number"]) for j in jobs] == [("T1", 1, "A001")]
            assert await pq.claim() == []  # leased to the agent
            assert (await pq.job_state("T1"))["state"] == "queued"
            assert (await pq.answer("T1", True))["state"] == "done"
            assert await r.hlen(pq.keys.print_jobs()) == 0 and await r.zcard(pq.keys.print_due) == 0
            assert (await pq.job_state("T1"))["state"] == "printed"
            # an acked ticket is never queued again, and a late second ack is harmless
            late = await pq.enqueue("T1", {"number": "A001"})
            assert late["queued"] is False and late["state"] == "done"
            assert (await pq.answer("T1", True)) == {"state": "done", "duplicate": True}
            assert (await pq.answer("nope", True))["state"] == "unknown"
            clock.advance(LEASE_MS * 10)
            assert await pq.claim() == []
        finally:
            await r.aclose()

    run(go())


def test_failures_back_off_exponentially_up_to_the_cap(redis_url):
    async def go():
        clock = Clock()
        pq, r = _pq(redis_url, clock)
        try:
            await pq.enqueue("T2", {"number": "B001"})
            delays = []
            for attempt in range(1, 9):
                jobs = await pq.claim()
                assert [j["attempts"] for j in jobs] == [attempt]
                reply = await pq.answer("T2", False, "Connection refused")
                assert reply["state"] == "retry"
                delays.append(reply["retry_in"])
                clock.advance(reply["retry_in"] - 1)
                assert await pq.claim() == []  # not before its time
                clock.advance(1)
            assert delays[:4] == [BACKOFF_MS, 2 * BACKOFF_MS, 4 * BACKOFF_MS, 8 * BACKOFF_MS]
            assert max(delays) == BACKOFF_MAX_MS
            st = await pq.job_state("T2")
            assert st["state"] == "queued" and st["error"] == "Connection refused"
        finally:
            await r.aclose()

    run(go())


def test_lease_expiry_and_release_resend_the_job(redis_url):
    async def go():
        clock = Clock()
        pq, r = _pq(redis_url, clock)
        try:
            await pq.enqueue("T3", {})
            assert len(await pq.claim()) == 1
            clock.advance(LEASE_MS - 1)
            assert await pq.claim() == []
            clock.advance(1)
            assert [j["attempts"] for j in await pq.claim()] == [2]  # the agent never answered
            await pq.release(["T3", "not-a-job"])  # its socket closed
            assert [j["attempts"] for j in await pq.claim()] == [3]
        finally:
            await r.aclose()

    run(go())


def test_printer_back_online_makes_backed_off_jobs_due(redis_url):
    async def go():
        clock = Clock()
        pq, r = _pq(redis_url, clock)
        try:
            await pq.set_status("online")
            await pq.enqueue("T4", {})
            await pq.claim()
            await pq.answer("T4", False, "offline")
            await pq.set_status("offline", "Connection refused")
            st = await pq.status()
            assert st["status"] == "offline" and st["ok"] is False and st["pending_jobs"] == 1
            assert await pq.claim() == []
            reply = await pq.set_status("online")
            assert reply["changed"] is True and reply["released"] == 1
            assert [j["id"] for j in await pq.claim()] == ["T4"]
            assert (await pq.set_status("online"))["changed"] is False
        finally:
            await r.aclose()

    run(go())


def test_status_goes_offline_when_the_agent_is_silent(redis_url):
    async def go():
        clock = Clock()
        pq, r = _pq(redis_url, clock)
        try:
            assert (await pq.status())["status"] == "offline"  # never seen
            await pq.set_status("paper_low", "near end")
            st = await pq.status("vi")
            assert st["status"] == "paper_low" and st["ok"] is True and st["agent_connected"]
            assert st["message"] == "Máy in sắp hết giấy"
            clock.advance(AGENT_STALE_MS)
            assert (await pq.status())["status"] == "paper_low"
            clock.advance(1)  # silent too long
            st = await pq.status("en")
            assert st["status"] == "offline" and st["agent_connected"] is False
            assert st["message"] == "Printer offline"
            await pq.set_status(agent="kiosk-pc")  # heard from again
            assert (await pq.status())["status"] == "paper_low"
        finally:
            await r.aclose()

    run(go())


def test_reprints_get_their_own_jobs(redis_url):
    async def go():
        clock = Clock()
        pq, r = _pq(redis_url, clock)
        try:
            await pq.enqueue("T5", {"number": "C001"})
            await pq.claim()
            await pq.answer("T5", True)
            r1 = await pq.enqueue("T5", {"number": "C001"}, reprint=True)
            r2 = await pq.enqueue("T5", {"number": "C001"}, reprint=True)
            assert (r1["job"], r2["job"]) == ("T5.r1", "T5.r2") and r1["queued"] and r2["queued"]
            jobs = await pq.claim()
            assert sorted(j["id"] for j in jobs) == ["T5.r1", "T5.r2"]
            assert all(j["data"]["reprint"] is True for j in jobs)
        finally:
            await r.aclose()

    run(go())


def test_concurrent_claims_never_hand_out_a_job_twice(redis_url):
    async def go():
        clock = Clock()
        pq, r = _pq(redis_url, clock)
        clients = [Redis.from_url(redis_url, decode_responses=True) for _ in range(4)]
        others = [PrintQueue(c, pq.keys, Scripts(c), clock) for c in clients]
        try:
            for i in range(40):
                await pq.enqueue(f"J{i}", {})
            got = await asyncio.gather(*[o.claim(limit=7) for o in others for _ in range(3)])
            ids = [j["id"] for batch in got for j in batch]
            assert len(ids) == len(set(ids)) == 40
        finally:
            await r.aclose()
            for c in clients:
                await c.aclose()

    run(go())


def test_job_data_from_a_real_ticket(redis_url):
    async def go():
        store = await make_store(redis_url)
        try:
            cfg = await store.config.get()
            t, _ = await store.issue("DD", priority=True)
            d = job_data(t, cfg, 3, 24)
            assert d["number"] == t.number and d["category_name"] == "Đất đai – Xây dựng – Môi trường"
            assert d["site_name"] == cfg.site.name and d["footer"] == cfg.site.ticket_footer
            assert d["track_url"].endswith(f"/t/{t.id}") and d["priority"] is True
            assert (d["ahead"], d["eta_minutes"]) == (3, 24)
            from printer.layout import TicketData

            assert TicketData.from_job(d).category_name == d["category_name"]
        finally:
            await store.redis.aclose()

    run(go())


def test_first_print_of_a_ticket_no_longer_waiting_is_dropped_but_reprint_prints(redis_url):
    async def go():
        clock = Clock()
        store = await make_store(redis_url, clock=clock)
        pq = PrintQueue(store.redis, store.keys, store.scripts, clock=clock)
        try:
            waiting, _ = await store.issue("HT")
            called, _ = await store.issue("HT")
            await pq.enqueue(waiting.id, {"number": waiting.number})
            await pq.enqueue(called.id, {"number": called.number})
            await store.call_ticket(1, called.id)  # served while the printer was down
            clock.advance(FIRST_PRINT_GRACE_MS)  # the citizen has left the kiosk
            jobs = await pq.claim()
            assert [j["id"] for j in jobs] == [waiting.id]
            assert await store.redis.hexists(pq.keys.print_jobs(), called.id) == 0
            # a staff reprint of the called ticket still prints
            r = await pq.enqueue(called.id, {"number": called.number}, reprint=True)
            assert [j["id"] for j in await pq.claim()] == [r["job"]]
        finally:
            await store.redis.aclose()

    run(go())


def test_a_ticket_called_moments_after_it_was_issued_still_prints(redis_url):
    """Found by the soak (bench/bench_soak.py): a free clerk's Next can call a
    ticket between the kiosk's issue and the agent's claim; the citizen is
    still at the kiosk and gets the paper. Past the grace it is dropped."""

    async def go():
        clock = Clock()
        store = await make_store(redis_url, clock=clock)
        pq = PrintQueue(store.redis, store.keys, store.scripts, clock=clock)
        try:
            quick, _ = await store.issue("HT")
            late, _ = await store.issue("HT")
            await pq.enqueue(late.id, {"number": late.number})
            clock.advance(FIRST_PRINT_GRACE_MS)
            await pq.enqueue(quick.id, {"number": quick.number})
            await store.call_ticket(1, late.id)
            clock.advance(300)
            await store.call_ticket(2, quick.id)  # called 300 ms after it was queued
            assert [j["id"] for j in await pq.claim(max_age_ms=60_000)] == [quick.id]
            st = await pq.job_state(late.id)
            assert st["state"] == "not_printed" and st["reason"] == "not_waiting"
        finally:
            await store.redis.aclose()

    run(go())


def test_a_first_print_older_than_the_limit_is_not_printed_but_a_reprint_is(redis_url):
    """Issue #13: a ticket the kiosk told to photograph must not print a minute
    later into the next person's hand."""

    async def go():
        clock = Clock()
        store = await make_store(redis_url, clock=clock)
        pq = PrintQueue(store.redis, store.keys, store.scripts, clock=clock)
        try:
            old, _ = await store.issue("HT")
            young, _ = await store.issue("HT")
            await pq.enqueue(old.id, {"number": old.number})
            assert [j["id"] for j in await pq.claim(max_age_ms=60_000)] == [old.id]
            await pq.answer(old.id, False, "printer down")  # failing, backing off
            clock.advance(59_000)
            await pq.enqueue(young.id, {"number": young.number})
            clock.advance(1_001)  # old: 60.001 s since it was queued; young: 1 s
            jobs = await pq.claim(max_age_ms=60_000)
            assert [j["id"] for j in jobs] == [young.id]
            assert await store.redis.hexists(pq.keys.print_jobs(), old.id) == 0
            st = await pq.job_state(old.id)
            assert st["state"] == "not_printed" and st["reason"] == "too_old"
            assert (await pq.job_state(young.id))["state"] == "queued"
            # the kiosk's late retry of the same ticket does not queue it again
            again = await pq.enqueue(old.id, {"number": old.number})
            assert again["queued"] is False
            assert (await pq.status())["not_printed"][0]["ticket"] == old.id
            # a staff reprint of the old ticket prints, however old the ticket
            r = await pq.enqueue(old.id, {"number": old.number}, reprint=True)
            clock.advance(10 * 60_000)
            assert [j["id"] for j in await pq.claim(max_age_ms=60_000)] == [r["job"]]
        finally:
            await store.redis.aclose()

    run(go())
