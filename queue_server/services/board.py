"""The display board's snapshot: counters, recent calls and waiting counts.

Public data only: ticket numbers, never names or phone numbers.
"""

from __future__ import annotations

import asyncio
from typing import Any

from queue_server.domain.announce import announcement, settings_from_hash
from queue_server.domain.config import SiteConfig
from queue_server.domain.eta import shared_wait_minutes
from queue_server.services.room import RoomService, room_view
from queue_server.store.clock import steady_ms
from queue_server.store.config_store import ConfigStore
from queue_server.store.display_settings import DisplaySettings
from queue_server.store.events import EventLog
from queue_server.store.tickets import Position, ServiceTime, TicketStore, serving_map


class BoardService:
    def __init__(
        self,
        config: ConfigStore,
        tickets: TicketStore,
        events: EventLog,
        display: DisplaySettings,
        room: RoomService | None = None,
    ):
        self.config = config
        self.tickets = tickets
        self.events = events
        self.display = display
        self.room = room

    async def last_seq(self) -> int:
        return await self.events.last_seq()

    @staticmethod
    def _eta(
        cfg: SiteConfig,
        category: str,
        counts: dict[str, int],
        times: dict[str, ServiceTime],
        states: list[dict[str, Any]],
    ) -> dict[str, Any]:
        """The wait of the next citizen to join a category's line (after
        everyone waiting now, of every category its counters serve)."""
        eta = shared_wait_minutes(
            category, counts, {c: t.ms for c, t in times.items()}, serving_map(cfg, states, category)
        )
        pos = Position.of(counts.get(category, 0), eta, times[category].samples)
        return {"eta_minutes": pos.eta_minutes, "eta_range": list(pos.eta_range) if pos.eta_range else None}

    async def snapshot(self, recent: int = 8) -> dict[str, Any]:
        cfg = await self.config.get()
        seq = await self.events.last_seq()  # first: what follows reflects at least every event up to it
        store = self.tickets
        states, counts, direct, avgs, calls, settings = await asyncio.gather(
            store.counter_states(cfg),
            store.waiting_counts(cfg),
            store.counter_queue_counts(cfg),
            store.service_times(cfg),
            store.recent_calls(recent),
            self.display.get(),
        )
        names = {c.code: c.name for c in cfg.categories}
        names_en = {c.code: c.name_en for c in cfg.categories}
        counters = [
            {
                "counter": s["counter"],
                "name": s["name"],
                "status": s["status"],
                "number": s["number"],
                "category": s["category"],
                "category_name": names.get(s["category"] or "", None),
                "category_name_en": names_en.get(s["category"] or "", None),
                "called_at": s["called_at"],
            }
            for s in states
        ]
        waiting = []
        for c in cfg.categories:
            if not c.enabled and not counts.get(c.code):
                continue
            n = counts.get(c.code, 0)
            waiting.append(
                {
                    "category": c.code,
                    "prefix": c.prefix,
                    "name": c.name,
                    "name_en": c.name_en,
                    "count": n,
                    **self._eta(cfg, c.code, counts, avgs, states),
                }
            )
        total = sum(counts.values()) + sum(direct.values())
        room = room_view(await self.room.state(cfg), cfg) if self.room is not None else None
        voice = settings_from_hash(settings)
        for call in calls:
            call["category_name"] = names.get(call.get("category"), "")
            call["category_name_en"] = names_en.get(call.get("category"), "")
            said = announcement({**call, "type": call.get("type") or "call"}, voice)
            if said is not None:
                call["text"], call["speech"] = said["text"], said["speech"]
        return {
            "type": "snapshot",
            "seq": seq,
            "now": steady_ms(),  # the clock of the tickets' times
            "site": {
                "id": cfg.site.id,
                "name": cfg.site.name,
                "name_en": cfg.site.name_en,
                "timezone": cfg.site.timezone,
            },
            "counters": counters,
            "recent": calls,
            "waiting": waiting,
            "waiting_total": total,
            "seats": cfg.site.seats,
            "full": cfg.site.seats > 0 and total >= cfg.site.seats,
            **({"room": room} if room is not None else {}),
            "notice": settings.get("notice", cfg.site.notice),
            "voice": {**{k[6:]: v for k, v in settings.items() if k.startswith("voice.")}, **voice.to_dict()},
        }
