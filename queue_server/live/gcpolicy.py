"""When the API process lets CPython's cyclic garbage collector pause it.

Every connected websocket keeps a few hundred Python objects alive for as
long as it stays connected (its protocol, parser, task, queues...). A full
collection walks every tracked object: with 5,000 displays connected that
is a pause of about half a second (bench/bench_display.py), and a call in
flight reaches the displays that much later. CPython starts one on its own
whenever the long-lived objects have grown by a quarter, which is what
displays connecting do.

So the server turns off those automatic full collections (the young
generations are still collected as usual, and reference counting frees
everything that is not in a cycle) and runs the full collection itself:
when no event has come for `quiet_seconds` and the last one is at least
`full_seconds` old, and in any case `force_full_seconds` after the last.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger("motcua.gc")

# gc threshold2: how many collections of generation 1 before a full one
NEVER = 2**31 - 1


class GcKeeper:
    def __init__(
        self,
        check_seconds: float = 15.0,
        quiet_seconds: float = 60.0,
        full_seconds: float = 3600.0,
        force_full_seconds: float = 6 * 3600.0,
        collector: Any = gc,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.check_seconds = check_seconds
        self.quiet_seconds = quiet_seconds
        self.full_seconds = full_seconds
        self.force_full_seconds = force_full_seconds
        self._gc = collector
        self._clock = clock
        self._saved: tuple[int, ...] | None = None
        self.last_full = clock()
        self.full_runs = 0

    def install(self) -> None:
        """No automatic full collections from now on."""
        if self._saved is None:
            self._saved = tuple(self._gc.get_threshold())
            t0, t1 = self._saved[0], self._saved[1]
            self._gc.set_threshold(t0, t1, NEVER)

    def uninstall(self) -> None:
        if self._saved is not None:
            self._gc.set_threshold(*self._saved)
            self._saved = None

    def step(self, last_activity: float) -> bool:
        """Run a full collection if it is time; True when one ran."""
        now = self._clock()
        since_full = now - self.last_full
        quiet = now - last_activity >= self.quiet_seconds
        if not (since_full >= self.force_full_seconds or (quiet and since_full >= self.full_seconds)):
            return False
        freed = self._gc.collect()
        self.last_full = self._clock()
        self.full_runs += 1
        log.info("full garbage collection: %d objects freed in %.0f ms", freed, (self.last_full - now) * 1000)
        return True

    async def run(self, last_activity: Callable[[], float]) -> None:
        """install(), then step() every check_seconds until cancelled;
        `last_activity` gives the time of the latest event on `clock`."""
        self.install()
        try:
            while True:
                await asyncio.sleep(self.check_seconds)
                try:
                    self.step(last_activity())
                except Exception:  # the policy never takes the server down
                    log.exception("garbage collection policy step failed")
        finally:
            self.uninstall()

    def start(self, last_activity: Callable[[], float]) -> asyncio.Task:
        return asyncio.get_running_loop().create_task(self.run(last_activity), name="motcua-gc")


async def stop(task: asyncio.Task | None) -> None:
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
