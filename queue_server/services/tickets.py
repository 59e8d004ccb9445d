"""Tickets as the kiosk, the tracking page and staff use them: issuing a
walk-in (opening hours, issue, print), reading, rating, requeueing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from queue_server.domain.config import SiteConfig
from queue_server.domain.holidays import is_public_holiday
from queue_server.domain.hours import is_open, next_opening
from queue_server.domain.model import Ticket
from queue_server.errors import AppError
from queue_server.services.printing import PrintService
from queue_server.services.room import RoomService
from queue_server.store.audit import AuditLog
from queue_server.store.config_store import ConfigStore
from queue_server.store.events import EventLog
from queue_server.store.ratelimit import Budget
from queue_server.store.tickets import Position, TicketStore

WEEKDAYS_VI = ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"]


def opening_text(nxt: datetime | None, lang: str) -> str:
    """When the desk opens next, as a citizen reads it."""
    if nxt is None:
        return "—"
    if lang == "en":
        return nxt.strftime("%H:%M on %A %d/%m/%Y")
    return f"{nxt:%H:%M} {WEEKDAYS_VI[nxt.weekday()]}, {nxt:%d/%m/%Y}"


def check_open(cfg: SiteConfig, now: datetime, lang: str) -> None:
    """Refuse a ticket outside opening hours (when the site enforces them)."""
    if cfg.hours.enforce and not is_open(now, cfg.hours, cfg.site.tz, is_public_holiday):
        nxt = next_opening(now, cfg.hours, cfg.site.tz, is_public_holiday)
        raise AppError("site_closed", next_open=opening_text(nxt, lang), next_open_at=nxt.isoformat() if nxt else "")


@dataclass
class TicketState:
    """A ticket with what a view of it needs."""

    ticket: Ticket
    cfg: SiteConfig
    position: Position
    print: dict[str, Any] | None = None


class TicketService:
    def __init__(
        self,
        config: ConfigStore,
        tickets: TicketStore,
        events: EventLog,
        audit: AuditLog,
        printing: PrintService,
        room: RoomService | None = None,
    ):
        self.config = config
        self.tickets = tickets
        self.events = events
        self.audit = audit
        self.printing = printing
        self.room = room

    async def issue_walk_in(
        self,
        category: str,
        *,
        priority: bool = False,
        idem: str | None = None,
        device_id: str | None = None,
        actor: str = "",
        lang: str = "vi",
        budget: Budget | None = None,
    ) -> TicketState:
        """A walk-in ticket: refused outside opening hours; a kiosk's ticket
        (`device_id`) is also queued for printing, and is valid either way.
        When the waiting room is predicted full (domain/room.py), the ticket
        says when to come back instead of "please wait here". `budget`: the
        kiosk's rate limit, counted in the issue's own round trip."""
        cfg = await self.config.get()
        check_open(cfg, datetime.now(UTC), lang)
        before = await self.room.state(cfg) if self.room is not None else None
        ticket, pos = await self.tickets.issue_walk_in(  # its position read in the same round trip
            category,
            priority=priority,
            idem=idem,
            device=device_id or "",
            clerk="" if device_id else actor,
            cfg=cfg,
            budget=budget,
        )
        if self.room is not None and before is not None:
            ticket = await self.room.maybe_send_away(ticket, pos, cfg, before)
        printed = None
        if device_id is not None:
            printed = await self.printing.print_new_ticket(ticket, cfg, pos, lang)
        return TicketState(ticket, cfg, pos, printed)

    async def state(self, ticket: Ticket) -> TicketState:
        cfg = await self.config.get()
        return TicketState(ticket, cfg, await self.tickets.position(ticket, cfg=cfg))

    async def get(self, ticket_id: str) -> TicketState:
        return await self.state(await self.tickets.get_ticket(ticket_id))

    async def find(self, number: str) -> TicketState:
        """Today's ticket by its number (staff)."""
        return await self.state(await self.tickets.find_ticket(number))

    async def history(self, ticket_id: str) -> list[dict[str, Any]]:
        ticket = await self.tickets.get_ticket(ticket_id)
        return await self.events.for_ticket(ticket_id, ticket.issued_at)

    async def rate(self, ticket_id: str, level: int, via: str) -> Ticket:
        return await self.tickets.rate(ticket_id, level, via=via)

    async def requeue(self, ticket_id: str, clerk: str, idem: str | None = None) -> TicketState:
        """A no-show citizen came back: the ticket waits again. A repeated
        Idempotency-Key replays the first result and is not audited again."""
        result = await self.tickets.requeue_result(ticket_id, clerk=clerk, idem=idem)
        if not result.replayed:
            await self.audit.record(clerk, "requeue", result.ticket.number, ticket=result.ticket.id)
        return await self.state(result.ticket)
