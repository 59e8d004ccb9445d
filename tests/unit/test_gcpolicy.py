"""The API process's garbage-collection policy: no automatic full
collections; a full one when the board is quiet, or after a long while."""

from __future__ import annotations

import asyncio
import gc

from queue_server.live.gcpolicy import NEVER, GcKeeper


class FakeGc:
    def __init__(self):
        self.threshold = (700, 10, 10)
        self.collections: list[int] = []

    def get_threshold(self):
        return self.threshold

    def set_threshold(self, *t):
        self.threshold = t

    def collect(self, generation: int = 2) -> int:
        self.collections.append(generation)
        return 3


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def keeper(fake, clock) -> GcKeeper:
    return GcKeeper(
        check_seconds=15, quiet_seconds=60, full_seconds=3600, force_full_seconds=6 * 3600, collector=fake, clock=clock
    )


def test_install_turns_off_automatic_full_collections_and_uninstall_restores():
    fake, clock = FakeGc(), Clock()
    k = keeper(fake, clock)
    k.install()
    assert fake.threshold == (700, 10, NEVER)
    k.uninstall()
    assert fake.threshold == (700, 10, 10)


def test_full_collection_waits_for_a_quiet_board_or_a_long_while():
    fake, clock = FakeGc(), Clock()
    k = keeper(fake, clock)
    clock.t += 3599
    assert not k.step(last_activity=clock.t - 600)  # quiet, but collected less than an hour ago
    clock.t += 2
    assert not k.step(last_activity=clock.t - 10)  # an hour, but a call 10 s ago
    assert k.step(last_activity=clock.t - 60)  # an hour and a quiet minute
    assert fake.collections == [2] and k.full_runs == 1
    assert not k.step(last_activity=clock.t - 600)  # just collected
    clock.t += 6 * 3600
    assert k.step(last_activity=clock.t)  # busy all along: after six hours anyway
    assert fake.collections == [2, 2]


def test_the_keeper_task_restores_the_thresholds_when_stopped():
    before = gc.get_threshold()

    async def run():
        task = GcKeeper(check_seconds=0.01).start(lambda: 0.0)
        await asyncio.sleep(0.05)
        assert gc.get_threshold()[2] == NEVER
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass

    try:
        asyncio.run(run())
    finally:
        gc.set_threshold(*before)
    assert gc.get_threshold() == before
