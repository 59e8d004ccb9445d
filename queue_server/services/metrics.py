"""What `/metrics` reads from the site at scrape time: each category's queue
length and its longest wait, and the print jobs by state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from queue_server.store.clock import steady_ms
from queue_server.store.config_store import ConfigStore
from queue_server.store.keys import normal_queue, priority_queue
from queue_server.store.printing import PrintQueue
from queue_server.store.tickets import TicketStore


def _now_ms() -> int:
    return steady_ms()  # the stores' clock: never steps back


class MetricsService:
    def __init__(
        self, config: ConfigStore, tickets: TicketStore, printing: PrintQueue, clock: Callable[[], int] = _now_ms
    ):
        self.config = config
        self.tickets = tickets
        self.printing = printing
        self.clock = clock

    async def queues(self) -> dict[str, dict[str, Any]]:
        """category code -> {length, longest_wait_s}: who waits in its normal
        and priority queues, and how long the one at the head of either has
        waited since joining (0 when nobody waits)."""
        cfg = await self.config.get()
        names: list[str] = []
        for c in cfg.categories:
            names += [priority_queue(c.code), normal_queue(c.code)]
        per = await self.tickets.queue_summaries(names)
        now = self.clock()
        out: dict[str, dict[str, Any]] = {}
        for c in cfg.categories:
            qs = [priority_queue(c.code), normal_queue(c.code)]
            heads = [h for h in (per[q][1] for q in qs) if h is not None]
            out[c.code] = {
                "length": sum(per[q][0] for q in qs),
                "longest_wait_s": max(0, now - min(heads)) / 1000 if heads else 0.0,
            }
        return out

    async def print_jobs(self) -> dict[str, int]:
        return await self.printing.counts()
