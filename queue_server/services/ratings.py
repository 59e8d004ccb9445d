"""Satisfaction ratings from the tablet facing a counter: which citizen
the tablet may ask, and the rating itself."""

from __future__ import annotations

from typing import Any

from queue_server.domain.accounts import User
from queue_server.domain.model import Ticket, TicketStatus
from queue_server.errors import AppError
from queue_server.services.counters import now_ms
from queue_server.services.input import as_int
from queue_server.store.audit import AuditLog
from queue_server.store.config_store import ConfigStore
from queue_server.store.tickets import TicketStore

RATING_WINDOW_MS = 30_000
TABLET_RATING_MAX_MS = 10 * 60_000


class RatingService:
    def __init__(self, config: ConfigStore, tickets: TicketStore, audit: AuditLog):
        self.config = config
        self.tickets = tickets
        self.audit = audit

    async def scale(self) -> int:
        return (await self.config.get()).queue.rating_scale

    async def pending(self, n: int) -> dict[str, Any] | None:
        """The last ticket finished as served at counter `n` (Done or the
        implicit done of Next) within the window, if unrated. Calling the next
        citizen does not close the window."""
        last = await self.tickets.last_done(n)
        if last is None or now_ms() - last[1] > RATING_WINDOW_MS:
            return None
        try:
            t = await self.tickets.get_ticket(last[0])
        except AppError:
            return None
        if t.rating is not None or t.status != TicketStatus.DONE:
            return None
        return {"ticket": t.id, "number": t.number, "until": last[1] + RATING_WINDOW_MS}

    async def snapshot(self, n: int) -> dict[str, Any]:
        """What the tablet at counter `n` shows when it connects."""
        return {
            "type": "snapshot",
            "counter": n,
            "now": now_ms(),
            "scale": await self.scale(),
            "window_ms": RATING_WINDOW_MS,
            "pending": await self.pending(n),
            "serving": await self.tickets.serving_number(n),
        }

    async def prompt(self, event: dict[str, Any]) -> dict[str, Any]:
        """The tablet's "please rate" message for a done event."""
        ts = as_int(event.get("ts")) or now_ms()
        return {
            "type": "rate",
            "ticket": event.get("ticket"),
            "number": event.get("number"),
            "scale": await self.scale(),
            "now": now_ms(),
            "until": ts + RATING_WINDOW_MS,
        }

    async def rate_at_counter(self, n: int, ticket_id: str, level: int, user: User | None) -> Ticket:
        """The tablet rates the citizen who just left counter `n`."""
        t = await self.tickets.get_ticket(ticket_id)
        if t.counter != n:
            raise AppError("forbidden")
        if t.rating is None and t.finished_at and now_ms() - t.finished_at > TABLET_RATING_MAX_MS:
            raise AppError("rating_closed")
        ticket = await self.tickets.rate(ticket_id, level, via=f"tablet:{n}")
        if user is not None:
            await self.audit.record(user.username, "rating", ticket.number, ticket=ticket.id, level=level)
        return ticket
