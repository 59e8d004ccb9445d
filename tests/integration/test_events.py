"""Reading the event log."""

from __future__ import annotations

import time

from queue_server.domain.model import TicketStatus
from queue_server.store.events import EventLog
from tests.helpers import make_store, run_sync


def test_iter_events_pages_through_the_whole_log(redis_url):
    async def go():
        s = await make_store(redis_url)
        for _ in range(25):
            await s.issue("HT")
        got = [e async for e in EventLog(s.redis, s.keys).iter(batch=7)]
        assert [e["seq"] for e in got] == list(range(1, 26))
        assert all(e["type"] == "issue" and e["category"] == "HT" for e in got)
        await s.redis.aclose()

    run_sync(go())


def test_ticket_events_start_at_the_issue_time(redis_url):
    async def go():
        s = await make_store(redis_url)
        t, _ = await s.issue("HT")
        await s.call_next(1)
        await s.finish(1, TicketStatus.DONE)
        full = await EventLog(s.redis, s.keys).for_ticket(t.id)
        since = await EventLog(s.redis, s.keys).for_ticket(t.id, issued_at=int(time.time() * 1000))
        assert [e["type"] for e in full] == [e["type"] for e in since] == ["issue", "call", "done"]
        # a scan that starts after the events finds none: the start bound is used
        later = await EventLog(s.redis, s.keys).for_ticket(t.id, issued_at=int(time.time() * 1000) + 3_600_000)
        assert later == []
        await s.redis.aclose()

    run_sync(go())
