"""The waiting room in Redis: its state (domain/room.py over the live
queues, counters, service times and recent issues), the tickets sent away
until their come-back time, and the phones given for a notice."""

from __future__ import annotations

import json
from collections.abc import Callable

from redis.asyncio import Redis

from queue_server.domain.config import SiteConfig
from queue_server.domain.model import Ticket
from queue_server.domain.room import (
    RATE_WINDOW_MIN,
    RoomState,
    calls_per_minute,
    mean_service_ms,
    room_state,
)
from queue_server.store.connection import text
from queue_server.store.keys import Keys, counter_queue, normal_queue, priority_queue
from queue_server.store.scripts import Scripts
from queue_server.store.tickets import TicketStore, parse_counter_states, parse_service_times


class RoomStore:
    def __init__(self, redis: Redis, keys: Keys, scripts: Scripts, tickets: TicketStore):
        self.redis = redis
        self.keys = keys
        self.scripts = scripts
        self.tickets = tickets

    @property
    def clock(self) -> Callable[[], int]:
        return self.tickets.clock

    async def state(self, cfg: SiteConfig) -> RoomState:
        """The room now, from one pipelined read: the queues, the counters,
        the service times, the arrivals and the tickets sent away whose
        come-back time is still to come (none of them called yet: a call
        takes a ticket out of the away set)."""
        now = self.clock()
        k = self.keys
        pipe = self.redis.pipeline(transaction=False)
        for c in cfg.categories:
            pipe.zcard(k.queue(priority_queue(c.code)))
            pipe.zcard(k.queue(normal_queue(c.code)))
        for ct in cfg.counters:
            pipe.zcard(k.queue(counter_queue(ct.number)))
        for ct in cfg.counters:
            pipe.hgetall(k.counter(ct.number))
        pipe.hgetall(k.averages)
        pipe.zcount(k.room_arrivals, f"({now - RATE_WINDOW_MIN * 60_000}", now)
        pipe.zcount(k.room_away, f"({now}", "+inf")  # a called ticket leaves it (call_ticket in _lib.lua)
        rows = await pipe.execute()
        nc, nk = len(cfg.categories), len(cfg.counters)
        counts = {c.code: int(rows[2 * i]) + int(rows[2 * i + 1]) for i, c in enumerate(cfg.categories)}
        direct = sum(int(n) for n in rows[2 * nc : 2 * nc + nk])
        states = parse_counter_states(cfg, rows[2 * nc + nk : 2 * nc + 2 * nk])
        times = parse_service_times(cfg, rows[2 * nc + 2 * nk])
        issued, away = int(rows[-2]), int(rows[-1])
        waiting = sum(counts.values()) + direct
        present = max(0, waiting - away)
        open_ = sum(1 for s in states if s["status"] == "open")
        service = mean_service_ms(counts, {c: t.ms for c, t in times.items()})
        return room_state(
            cfg.room,
            cfg.site.seats,
            present,
            away,
            issued / RATE_WINDOW_MIN,
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
