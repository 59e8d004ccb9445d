"""The slots replies of one process (GET /api/appointments/slots), kept as
JSON bytes per (category, day) while nothing can have changed them.

Under a booking rush every citizen reads the day's slots first; computing
the day and counting each slot's and hour's places in Redis for each read
(80 commands) made the read cost more than the booking. A kept reply is
served with no Redis command of its own. It is dropped

- when this process's own booking, cancel, move, check-in or no-show sweep
  has run (before that call answers: a citizen never sees her own booking's
  place still on sale),
- on every appointment or configuration event of the site, which the API
  process receives for every process and the worker through its one
  subscription (`live/broadcaster.py`), and on a resubscription ("resync"),
- when the configuration object changes (ConfigStore hands out the same
  object while the stored configuration is the same),
- at the first instant its figures change by the clock alone: a slot's
  booking closes (book_until_minutes before it), a held place lapses, the
  day enters or leaves the bookable days (local midnight),
- and after `max_age_s` at most, which bounds what an event lost with a
  dropped subscription can leave stale.

A reply built while an event came in is not kept (the generation moved).
Concurrent reads of a reply not kept share one build.

The figures stay advice: book_appointment.lua checks the places itself."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from queue_server.domain.config import SiteConfig

MAX_AGE_S = 2.0
# the event types after which a kept reply may be wrong
_TYPES = ("config", "resync")


@dataclass(frozen=True)
class _Entry:
    gen: int
    cfg: SiteConfig
    built_ms: int  # the service clock at the build
    valid_until_ms: int  # the first instant the clock alone changes it
    expires: float  # monotonic
    body: bytes


Build = Callable[[], Awaitable[tuple[bytes, int]]]


class SlotsCache:
    def __init__(self, max_age_s: float = MAX_AGE_S, monotonic: Callable[[], float] = time.monotonic):
        self.max_age_s = max_age_s
        self._monotonic = monotonic
        self._gen = 0
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._building: dict[tuple[str, str, int, int], asyncio.Future[bytes]] = {}
        self.builds = 0  # replies built (tests, the benchmark)

    def invalidate(self) -> None:
        """Drop every kept reply, and keep none built before now."""
        self._gen += 1
        self._entries.clear()

    def on_event(self, event: dict[str, Any] | None) -> None:
        """A broadcaster listener: the site's events (None when it stops)."""
        if event is None:
            self.invalidate()
            return
        kind = event.get("type")
        if isinstance(kind, str) and (kind.startswith("appointment") or kind in _TYPES):
            self.invalidate()

    async def get(self, cfg: SiteConfig, category: str, day: str, now_ms: int, build: Build) -> bytes:
        """The kept reply for (category, day), or the one `build` makes: the
        JSON bytes and the instant (ms) until which the clock alone leaves them right."""
        e = self._entries.get((category, day))
        if (
            e is not None
            and e.gen == self._gen
            and e.cfg is cfg
            and e.built_ms <= now_ms < e.valid_until_ms
            and self._monotonic() < e.expires
        ):
            return e.body
        gen = self._gen
        flight = (category, day, gen, id(cfg))
        task = self._building.get(flight)
        if task is None:  # built in a task of its own: a reader who goes away cancels no one's build
            task = asyncio.ensure_future(self._build(flight, cfg, now_ms, build))
            task.add_done_callback(_retrieved)
            self._building[flight] = task
        return await asyncio.shield(task)

    async def _build(self, flight: tuple[str, str, int, int], cfg: SiteConfig, now_ms: int, build: Build) -> bytes:
        category, day, gen, _ = flight
        try:
            started = self._monotonic()
            body, valid_until_ms = await build()
            self.builds += 1
            if gen == self._gen:
                self._entries[(category, day)] = _Entry(
                    gen, cfg, now_ms, valid_until_ms, started + self.max_age_s, body
                )
            return body
        finally:
            self._building.pop(flight, None)


def _retrieved(task: asyncio.Future[bytes]) -> None:
    if not task.cancelled():
        task.exception()  # its readers got it; none left is no "never retrieved" error
