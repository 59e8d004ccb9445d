"""The waiting room in Redis: its state (domain/room.py over the live
queues, counters, service times and recent issues), the tickets sent away
until their come-back time, and the phones given for a notice."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from redis.asyncio import Redis

from queue_server.domain.config import SiteConfig
from queue_server.domain.model import Ticket
from queue_server.domain.room import (
    RATE_WINDOW_MIN,
    RoomState,
    arrivals_per_minute,
    calls_per_minute,
    mean_service_ms,
    room_state,
)
from queue_server.store.connection import text, text_map
from queue_server.store.keys import Keys
from queue_server.store.scripts import Scripts
from queue_server.store.tickets import TicketStore

EVENTS_READ = 2_000  # at most this many recent events are read for the arrival rate


class RoomStore:
    def __init__(self, redis: Redis, keys: Keys, scripts: Scripts, tickets: TicketStore):
        self.redis = redis
        self.keys = keys
        self.scripts = scripts
        self.tickets = tickets

    @property
    def clock(self) -> Callable[[], int]:
        return self.tickets.clock

    async def recent_issues(self, now: int, window_min: int = RATE_WINDOW_MIN) -> list[int]:
        """The issue times (ms, the app's clock) of the tickets issued in the
        last `window_min` minutes, read backwards from the event log."""
        since = now - window_min * 60_000
        out: list[int] = []
        last = "+"
        while True:
            rows = await self.redis.xrevrange(self.keys.events, max=last, min="-", count=200)
            if not rows:
                return out
            for _sid, fields in rows:
                f = text_map(fields or {})
                ts = int(f.get("ts") or 0)
                if ts and ts <= since:
                    return out
                if f.get("type") == "issue":
                    out.append(ts)
            last = "(" + text(rows[-1][0] or "")
            if len(out) >= EVENTS_READ:
                return out

    async def away(self, now: int) -> int:
        """Waiting tickets sent away whose come-back time is still to come."""
        found = await self.redis.zrangebyscore(self.keys.room_away, f"({now}", "+inf")
        ids = [text(i) for i in found if isinstance(i, (bytes, str))]
        if not ids:
            return 0
        raws = await self.redis.hmget(self.keys.tickets, ids)
        return sum(1 for raw in raws if raw and json.loads(raw).get("status") == "waiting")

    async def state(self, cfg: SiteConfig) -> RoomState:
        now = self.clock()
        store = self.tickets
        counts, direct, times, states, issues, away = await asyncio.gather(
            store.waiting_counts(cfg),
            store.counter_queue_counts(cfg),
            store.service_times(cfg),
            store.counter_states(cfg),
            self.recent_issues(now),
            self.away(now),
        )
        waiting = sum(counts.values()) + sum(direct.values())
        present = max(0, waiting - away)
        open_ = sum(1 for s in states if s["status"] == "open")
        service = mean_service_ms(counts, {c: t.ms for c, t in times.items()})
        return room_state(
            cfg.room,
            cfg.site.seats,
            present,
            away,
            arrivals_per_minute(issues, now),
            calls_per_minute(open_, service),
        )

    async def send_away(self, ticket: Ticket, at_ms: int, room: RoomState) -> Ticket:
        k = self.keys
        reply = await self.scripts.run(
            "room_send_away",
            [k.tickets, k.room_away, k.events, k.event_seq],
            {
                "now": self.clock(),
                "channel": k.channel,
                "clerk": "",
                "id": ticket.id,
                "at": at_ms,
                "predicted": room.predicted,
                "seats": room.seats,
            },
        )
        return Ticket.from_dict(json.loads(reply["stored"]))

    async def give_phone(self, ticket_id: str, phone: str, device: str = "", lang: str = "vi") -> Ticket:
        k = self.keys
        reply = await self.scripts.run(
            "ticket_phone",
            [k.tickets, k.room_phones, k.events, k.event_seq],
            {
                "now": self.clock(),
                "channel": k.channel,
                "clerk": "",
                "id": ticket_id,
                "phone": phone,
                "device": device,
                "lang": lang,
            },
        )
        return Ticket.from_dict(json.loads(reply["stored"]))

    async def phone_of(self, ticket_id: str) -> str | None:
        raw = await self.redis.hget(self.keys.room_phones, ticket_id)
        return text(raw) if raw else None

    async def pending_notices(self) -> list[str]:
        """The tickets whose holder gave a phone and got no notice yet."""
        return sorted(text(i) for i in await self.redis.hkeys(self.keys.room_phones))

    async def has_pending(self) -> bool:
        return bool(await self.redis.hlen(self.keys.room_phones))

    async def claim_notice(self, ticket_id: str, ahead: int) -> str | None:
        """The phone to send the ticket's one notice to, taken out of the
        store (None: no notice is due, or it went already)."""
        k = self.keys
        reply = await self.scripts.reply(
            "turn_notice",
            [k.tickets, k.room_phones, k.events, k.event_seq],
            {"now": self.clock(), "channel": k.channel, "clerk": "", "id": ticket_id, "ahead": ahead},
        )
        return None if "err" in reply else str(reply["phone"])

    async def forget_phones(self, *, every: bool = False) -> int:
        """Delete the phones of tickets no longer waiting (all of them: `every`)."""
        reply = await self.scripts.run("forget_phones", [self.keys.tickets, self.keys.room_phones], {"all": every})
        return int(reply["forgotten"])
