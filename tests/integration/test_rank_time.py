"""A ticket's rank (rank_ms, its place in the queue) apart from the time it
joined the queue (queued_at, what its wait and the starvation guard measure)."""

from __future__ import annotations

from queue_server.domain.model import Source, TicketStatus
from queue_server.store.keys import normal_queue
from tests.helpers import Clock, make_store, run_sync, test_config

MIN = 60_000


def _s(v):
    return v.decode() if isinstance(v, bytes) else v


async def last_event(s, etype):
    rows = await s.redis.xrange(s.keys.events)
    evs = [{_s(k): _s(v) for k, v in f.items()} for _, f in rows]
    return [e for e in evs if e["type"] == etype][-1]


def test_an_appointment_keeps_its_rank_through_transfer_and_requeue(redis_url):
    async def go():
        clock = Clock()
        t0 = clock.now
        # no starvation in this test (HT, CT: 20 x 15, 10 min): the order is by rank alone
        s = await make_store(redis_url, test_config(queue__starvation_factor=20.0), clock=clock)
        slot = t0 + 60 * MIN
        ap, ap_ahead = await s.issue("HT", rank_ms=slot, source=Source.APPOINTMENT)
        assert (ap.rank_ms, ap.queued_at, ap.issued_at) == (slot, t0, t0)
        assert ap_ahead == 0
        clock.advance(MIN)
        walk, walk_ahead = await s.issue("HT")
        assert walk.rank_ms == walk.queued_at == walk.issued_at == t0 + MIN
        # the walk-in ranks before the 60-minute slot: nobody ahead of it, one ahead of the appointment
        assert walk_ahead == 0 and (await s.position(walk)).ahead == 0
        assert (await s.position(await s.get_ticket(ap.id))).ahead == 1
        clock.advance(4 * MIN)
        await s.call_ticket(1, ap.id)
        assert int((await last_event(s, "call"))["wait_ms"]) == 5 * MIN  # since it joined, not since its slot
        moved = await s.transfer(1, to_category="CT")
        assert moved.category == "CT" and moved.source == Source.TRANSFER
        assert (moved.rank_ms, moved.queued_at) == (slot, t0)
        assert int(await s.redis.zscore(s.keys.queue(normal_queue("CT")), ap.id)) == slot
        clock.advance(MIN)
        ct, ct_ahead = await s.issue("CT")
        assert ct_ahead == 0  # it ranks before the transferred appointment
        assert (await s.position(await s.get_ticket(ap.id))).ahead == 1
        # counter 3 serves CT first: the CT walk-in (earlier rank), then the appointment
        assert (await s.call_next(3)).ticket.id == ct.id
        assert (await s.call_next(3)).ticket.id == ap.id
        assert int((await last_event(s, "call"))["wait_ms"]) == clock.now - t0
        # a no-show that comes back keeps rank and joining time too
        await s.finish(3, TicketStatus.NO_SHOW)
        back = await s.requeue(ap.id)
        assert (back.rank_ms, back.queued_at) == (slot, t0)
        assert int(await s.redis.zscore(s.keys.queue(normal_queue("CT")), ap.id)) == slot
        await s.redis.aclose()

    run_sync(go())


def test_starvation_is_measured_from_joining_not_from_rank(redis_url):
    async def go():
        clock = Clock()
        s = await make_store(redis_url, clock=clock)  # starvation factor 2; KH target 20 min
        # counter 1 serves HT, CT, KH in that order
        ap, _ = await s.issue("KH", rank_ms=clock.now + 120 * MIN, source=Source.APPOINTMENT)
        clock.advance(41 * MIN)  # joined 41 min ago > 2 x 20 min
        walk, _ = await s.issue("HT")
        # its slot is still 79 minutes away, but it has waited too long: it goes first
        assert (await s.call_next(1)).ticket.id == ap.id
        # a ticket ranked 5 hours ago that joined just now does not starve
        late, _ = await s.issue("KH", rank_ms=clock.now - 300 * MIN)
        assert late.queued_at == clock.now and late.rank_ms == clock.now - 300 * MIN
        assert (await s.call_next(1)).ticket.id == walk.id
        assert (await s.call_next(1)).ticket.id == late.id
        await s.redis.aclose()

    run_sync(go())


def test_records_without_rank_ms_rank_by_queued_at():
    from queue_server.domain.model import Ticket

    old = Ticket.from_dict(
        {"id": "x", "number": "A001", "category": "HT", "status": "waiting", "issued_at": 100, "queued_at": 150}
    )
    assert old.rank_ms == 150 and "rank_ms" not in old.extra
    new = Ticket.from_dict(
        {
            "id": "x",
            "number": "A001",
            "category": "HT",
            "status": "waiting",
            "issued_at": 100,
            "queued_at": 100,
            "rank_ms": 9000,
        }
    )
    assert (new.rank_ms, new.queued_at) == (9000, 100) and "rank_ms" not in new.extra
