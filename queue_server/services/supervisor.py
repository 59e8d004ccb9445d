"""The supervisor's live view (/supervisor, issue #11): per category who
waits now, the longest wait and the ETA of the next to join; per counter its
status, clerk and current service time; today's figures; and the alerts.

Every figure is read from what the scripts keep up to date at each event:
the queues (sorted sets), the counters' hashes, the per counter and day
statistics hash, the day's number sequences. Nothing here reads the event
stream, so a snapshot costs the same at the first and the ten-thousandth
event of the day.
"""

from __future__ import annotations

import asyncio
from typing import Any

from queue_server.domain.config import SiteConfig
from queue_server.domain.eta import shared_wait_minutes
from queue_server.domain.supervision import CategoryWait, CounterPause, alerts
from queue_server.store.clock import steady_ms
from queue_server.store.config_store import ConfigStore
from queue_server.store.events import EventLog
from queue_server.store.keys import counter_queue, normal_queue, priority_queue
from queue_server.store.tickets import DEFAULT_SERVICE_MS, Position, ServiceTime, TicketStore, serving_map


def now_ms() -> int:
    return steady_ms()  # the stores' clock: never steps back


class SupervisorService:
    def __init__(self, config: ConfigStore, tickets: TicketStore, events: EventLog):
        self.config = config
        self.tickets = tickets
        self.events = events

    async def snapshot(self) -> dict[str, Any]:
        cfg = await self.config.get()
        seq = await self.events.last_seq()  # first: what follows reflects at least every event up to it
        store = self.tickets
        names: list[str] = []
        for c in cfg.categories:
            names += [priority_queue(c.code), normal_queue(c.code)]
        names += [counter_queue(ct.number) for ct in cfg.counters]
        states, queues, times, issued, *stats = await asyncio.gather(
            store.counter_states(cfg),
            store.queue_summaries(names),
            store.service_times(cfg),
            store.issued_today(cfg),
            *(store.counter_day_stats(ct.number) for ct in cfg.counters),
        )
        now = now_ms()
        counts = {c.code: queues[priority_queue(c.code)][0] + queues[normal_queue(c.code)][0] for c in cfg.categories}
        categories = [self._category(cfg, c.code, queues, counts, times, states, issued, now) for c in cfg.categories]
        categories = [c for c in categories if c["enabled"] or c["count"]]
        counters = []
        for s, st in zip(states, stats, strict=True):
            direct = queues[counter_queue(s["counter"])]
            counters.append(
                {
                    "counter": s["counter"],
                    "name": s["name"],
                    "status": s["status"],
                    "since": s["since"],
                    "clerk": s["clerk"],
                    "number": s["number"],
                    "category": s["category"],
                    "called_at": s["called_at"],
                    "service_ms": max(0, now - s["called_at"]) if s["called_at"] else None,
                    "direct_count": direct[0],
                    "categories": s["categories"],
                    **st,
                }
            )
        waiting = sum(counts.values()) + sum(queues[counter_queue(ct.number)][0] for ct in cfg.counters)
        served = sum(st["served"] for st in stats)
        service_total = sum(st["avg_service_ms"] * st["served"] for st in stats if st["avg_service_ms"] is not None)
        pause_ms = cfg.queue.pause_alert_minutes * 60_000
        raised = alerts(
            now,
            [CategoryWait(c["category"], c["oldest_since"], c["target_ms"]) for c in categories],
            [CounterPause(c["counter"], c["status"], c["since"]) for c in counters],
            waiting,
            cfg.site.seats,
            pause_ms,
        )
        return {
            "type": "snapshot",
            "seq": seq,
            "now": now,
            "site": {"name": cfg.site.name, "name_en": cfg.site.name_en, "timezone": cfg.site.timezone},
            "seats": cfg.site.seats,
            "waiting_total": waiting,
            "full": cfg.site.seats > 0 and waiting >= cfg.site.seats,
            "pause_alert_ms": pause_ms,
            "categories": categories,
            "counters": counters,
            "today": {
                "issued": sum(issued.values()),
                "served": served,
                "no_shows": sum(st["no_shows"] for st in stats),
                "calls": sum(st["calls"] for st in stats),
                "avg_service_ms": round(service_total / served) if served else None,
                "waiting": waiting,
                "counters_open": sum(1 for c in counters if c["status"] == "open"),
                "counters_paused": sum(1 for c in counters if c["status"] == "paused"),
            },
            "alerts": raised,
        }

    @staticmethod
    def _category(
        cfg: SiteConfig,
        code: str,
        queues: dict[str, tuple[int, int | None]],
        counts: dict[str, int],
        times: dict[str, ServiceTime],
        states: list[dict[str, Any]],
        issued: dict[str, int],
        now: int,
    ) -> dict[str, Any]:
        cat = cfg.category(code)
        assert cat is not None
        heads = [h for h in (queues[priority_queue(code)][1], queues[normal_queue(code)][1]) if h is not None]
        oldest = min(heads) if heads else None
        eta = shared_wait_minutes(code, counts, {c: t.ms for c, t in times.items()}, serving_map(cfg, states, code))
        pos = Position.of(counts[code], eta, times.get(code, ServiceTime(DEFAULT_SERVICE_MS, 0)).samples)
        return {
            "category": code,
            "prefix": cat.prefix,
            "name": cat.name,
            "name_en": cat.name_en,
            "enabled": cat.enabled,
            "count": counts[code],
            "priority": queues[priority_queue(code)][0],
            "oldest_since": oldest,
            "oldest_wait_ms": max(0, now - oldest) if oldest is not None else None,
            "target_ms": cat.target_wait_ms,
            "eta_minutes": pos.eta_minutes,
            "eta_range": list(pos.eta_range) if pos.eta_range else None,
            "issued_today": issued.get(code, 0),
            "avg_service_ms": round(times[code].ms) if code in times else None,
        }
