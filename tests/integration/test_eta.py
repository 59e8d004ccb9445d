"""The estimated wait on a real Redis: the counter mix and the range."""

from __future__ import annotations

from queue_server.domain.config import parse_config
from queue_server.domain.model import TicketStatus
from tests.helpers import Clock, make_store, run_sync, test_config_dict

MIN = 60_000


def _two_counters():
    """Counter 1 serves HT then CT; counter 2 serves HT only (HT 8 min, CT 5
    min); the other categories have a counter of their own."""
    d = test_config_dict()
    d["counters"] = [
        {"number": 1, "categories": ["HT", "CT"]},
        {"number": 2, "categories": ["HT"]},
        {"number": 3, "categories": ["DD", "XH", "KD", "KH"]},
    ]
    return parse_config(d)


def test_people_of_another_category_on_the_same_counter_count_in_the_wait(redis_url):
    async def go():
        clock = Clock()
        s = await make_store(redis_url, _two_counters(), clock=clock)
        for _ in range(4):
            await s.issue("CT")  # only counter 1 serves CT: they compete with HT there
            clock.advance(1_000)
        await s.issue("HT")
        clock.advance(1_000)
        t, ahead = await s.issue("HT")
        pos = await s.position(t, ahead)
        assert pos.ahead == 1
        # work ahead: 1 HT x 8 min + 4 CT x 5 min = 28 min over the 2 counters of HT
        assert pos.eta_minutes == 14
        first, _ = await s.issue("XH")  # counter 3's line is empty: no wait
        assert (await s.position(first)).eta_minutes == 0
        await s.redis.aclose()

    run_sync(go())


def test_the_wait_is_a_range_until_the_category_has_enough_services(redis_url):
    async def go():
        clock = Clock()
        s = await make_store(redis_url, _two_counters(), clock=clock)

        async def fourth_in_line():
            for _ in range(3):
                await s.issue("HT")
                clock.advance(1_000)
            t, ahead = await s.issue("HT")
            return await s.position(t, ahead)

        unsure = await fourth_in_line()
        assert unsure.eta_range is not None and unsure.eta_range[0] < unsure.eta_minutes < unsure.eta_range[1]
        for _ in range(5):  # these four and one more served, 8 minutes each
            if _ == 4:
                await s.issue("HT")
            await s.call_next(2)
            clock.advance(8 * MIN)
            await s.finish(2, TicketStatus.DONE)
        sure = await fourth_in_line()
        assert sure.eta_range is None and sure.eta_minutes == unsure.eta_minutes
        await s.redis.aclose()

    run_sync(go())
