"""The process's kept slots replies (services/slots_cache.py): served while
nothing can have changed them; rebuilt after an appointment or configuration
event, a resubscription, a new configuration object, the first instant the
clock alone changes them, or their maximum age; one build for concurrent
readers; a build overtaken by an event is not kept."""

from __future__ import annotations

import asyncio

import pytest

from queue_server.domain.config import parse_config
from queue_server.services.slots_cache import SlotsCache
from tests.helpers import test_config_dict

CFG = parse_config(test_config_dict())


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


class Builder:
    """A build that counts its calls and answers b"1", b"2", ... valid until `until`."""

    def __init__(self, until: int = 10_000) -> None:
        self.calls = 0
        self.until = until
        self.gate: asyncio.Event | None = None

    async def __call__(self) -> tuple[bytes, int]:
        self.calls += 1
        n = self.calls
        if self.gate is not None:
            await self.gate.wait()
        return str(n).encode(), self.until


def run(coro):
    return asyncio.run(coro)


def test_a_kept_reply_is_served_until_an_appointment_event():
    async def body():
        cache, build = SlotsCache(monotonic=Clock()), Builder()
        a = await cache.get(CFG, "HT", "2026-12-02", 1_000, build)
        b = await cache.get(CFG, "HT", "2026-12-02", 2_000, build)
        cache.on_event({"type": "call", "seq": 5})  # a walk-in's call changes no slot
        c = await cache.get(CFG, "HT", "2026-12-02", 2_000, build)
        cache.on_event({"type": "appointment_book", "appointment": "x"})
        d = await cache.get(CFG, "HT", "2026-12-02", 2_000, build)
        return a, b, c, d, build.calls

    assert run(body()) == (b"1", b"1", b"1", b"2", 2)


@pytest.mark.parametrize(
    "event",
    [{"type": "config"}, {"type": "resync"}, {"type": "appointment_cancel"}, {"type": "appointment_move"}, None],
)
def test_config_resync_changes_and_a_stopped_feed_drop_kept_replies(event):
    async def body():
        cache, build = SlotsCache(monotonic=Clock()), Builder()
        await cache.get(CFG, "HT", "2026-12-02", 1_000, build)
        cache.on_event(event)
        return await cache.get(CFG, "HT", "2026-12-02", 1_000, build)

    assert run(body()) == b"2"


def test_kept_per_category_and_day_and_dropped_by_this_process_changes():
    async def body():
        cache, build = SlotsCache(monotonic=Clock()), Builder()
        out = [
            await cache.get(CFG, "HT", "2026-12-02", 1_000, build),
            await cache.get(CFG, "CT", "2026-12-02", 1_000, build),
            await cache.get(CFG, "HT", "2026-12-03", 1_000, build),
            await cache.get(CFG, "HT", "2026-12-02", 1_000, build),
        ]
        cache.invalidate()  # the service's own booking, before it answers
        out.append(await cache.get(CFG, "HT", "2026-12-02", 1_000, build))
        return out

    assert run(body()) == [b"1", b"2", b"3", b"1", b"4"]


def test_a_new_configuration_object_is_a_new_reply():
    other = parse_config(test_config_dict())

    async def body():
        cache, build = SlotsCache(monotonic=Clock()), Builder()
        await cache.get(CFG, "HT", "2026-12-02", 1_000, build)
        return await cache.get(other, "HT", "2026-12-02", 1_000, build)

    assert run(body()) == b"2"


def test_the_clock_ends_a_kept_reply():
    async def body():
        mono = Clock()
        cache, build = SlotsCache(max_age_s=2.0, monotonic=mono), Builder(until=5_000)
        out = [await cache.get(CFG, "HT", "d", 1_000, build)]
        out.append(await cache.get(CFG, "HT", "d", 4_999, build))  # still before a booking closes
        build.until = 90_000
        out.append(await cache.get(CFG, "HT", "d", 5_000, build))  # a slot's booking has closed
        out.append(await cache.get(CFG, "HT", "d", 6_000, build))
        out.append(await cache.get(CFG, "HT", "d", 4_000, build))  # a clock set back: built later than now
        out.append(await cache.get(CFG, "HT", "d", 4_000, build))
        mono.t += 2.5  # older than max_age_s: an event lost with the subscription is not kept longer
        out.append(await cache.get(CFG, "HT", "d", 4_000, build))
        return out

    assert run(body()) == [b"1", b"1", b"2", b"2", b"3", b"3", b"4"]


def test_concurrent_readers_share_one_build():
    async def body():
        cache, build = SlotsCache(monotonic=Clock()), Builder()
        build.gate = asyncio.Event()
        readers = [asyncio.create_task(cache.get(CFG, "HT", "d", 1_000, build)) for _ in range(20)]
        await asyncio.sleep(0)
        build.gate.set()
        return await asyncio.gather(*readers), build.calls

    bodies, calls = run(body())
    assert bodies == [b"1"] * 20 and calls == 1


def test_a_build_overtaken_by_an_event_is_not_kept_nor_shared_after_it():
    async def body():
        cache, build = SlotsCache(monotonic=Clock()), Builder()
        build.gate = asyncio.Event()
        early = asyncio.create_task(cache.get(CFG, "HT", "d", 1_000, build))
        await asyncio.sleep(0)
        cache.on_event({"type": "appointment_book"})  # a booking lands while the counts are read
        late = asyncio.create_task(cache.get(CFG, "HT", "d", 1_000, build))  # must not get the old build
        await asyncio.sleep(0)
        build.gate.set()
        got = await early, await late
        again = await cache.get(CFG, "HT", "d", 1_000, build)
        return got, again, build.calls

    (first, second), again, calls = run(body())
    assert first == b"1" and second == b"2" and again == b"2" and calls == 2


def test_a_failed_build_reaches_its_readers_and_is_not_kept():
    async def body():
        cache = SlotsCache(monotonic=Clock())

        async def broken() -> tuple[bytes, int]:
            raise ConnectionError("redis gone")

        with pytest.raises(ConnectionError):
            await cache.get(CFG, "HT", "d", 1_000, broken)
        return await cache.get(CFG, "HT", "d", 1_000, Builder())

    assert run(body()) == b"1"


def test_a_reader_who_leaves_cancels_no_one_elses_build():
    async def body():
        cache, build = SlotsCache(monotonic=Clock()), Builder()
        build.gate = asyncio.Event()
        leaver = asyncio.create_task(cache.get(CFG, "HT", "d", 1_000, build))
        stayer = asyncio.create_task(cache.get(CFG, "HT", "d", 1_000, build))
        await asyncio.sleep(0)
        leaver.cancel()
        await asyncio.sleep(0)
        build.gate.set()
        return await stayer, leaver.cancelled(), build.calls

    assert run(body()) == (b"1", True, 1)
