"""The waiting room as the kiosk, the board, the tracking page and the
notice job use it: its state, a come-back time for a new ticket when it is
full, the phone a citizen gives for one notice, and the notices due."""

from __future__ import annotations

import logging
from typing import Any

from queue_server.domain.appointments import mask_phone, parse_vn_mobile
from queue_server.domain.config import SiteConfig
from queue_server.domain.model import Ticket, TicketStatus
from queue_server.domain.notify import Message
from queue_server.domain.room import RoomState, come_back_at, notice_text, turn_near
from queue_server.errors import AppError
from queue_server.services.notify import JobQueue, Notifier
from queue_server.store.config_store import ConfigStore
from queue_server.store.room import RoomStore
from queue_server.store.tickets import Position, TicketStore

log = logging.getLogger("motcua.room")

NOTICE_JOB = "queue_server.jobs.turn_notices"
NOTICE_KIND = "turn_near"


def room_view(state: RoomState, cfg: SiteConfig, lang: str = "vi") -> dict[str, Any]:
    """The room's state as the board and the kiosk show it."""
    return {
        **state.to_dict(),
        "text": cfg.room.full(lang) if state.full else "",
        "text_en": cfg.room.full("en") if state.full else "",
    }


class RoomService:
    def __init__(
        self,
        config: ConfigStore,
        tickets: TicketStore,
        room: RoomStore,
        notifier: Notifier | None = None,
        jobs: JobQueue | None = None,
    ):
        self.config = config
        self.tickets = tickets
        self.room = room
        self.notifier = notifier
        self.jobs = jobs

    async def state(self, cfg: SiteConfig | None = None) -> RoomState:
        return await self.room.state(cfg or await self.config.get())

    async def view(self, lang: str = "vi") -> dict[str, Any]:
        cfg = await self.config.get()
        return room_view(await self.room.state(cfg), cfg, lang)

    async def maybe_send_away(self, ticket: Ticket, pos: Position, cfg: SiteConfig, before: RoomState) -> Ticket:
        """A new ticket when the room was full (`before` it was issued) and its
        call is far enough off: it gets its come-back time. Otherwise (or a
        replayed issue that has one already) the ticket as it is."""
        if not before.full or ticket.status != TicketStatus.WAITING or ticket.extra.get("come_back_at"):
            return ticket
        at = come_back_at(self.room.clock(), pos.eta_minutes, cfg.room.margin_minutes, cfg.site.tz)
        if at is None:
            return ticket
        return await self.room.send_away(ticket, int(at.timestamp() * 1000), before)

    async def give_phone(self, ticket_id: str, phone: str, device: str = "", lang: str = "vi") -> dict[str, Any]:
        """The phone a citizen gives at the kiosk for one "your turn is near"
        notice; shown back masked."""
        e164 = parse_vn_mobile(phone)
        if e164 is None:
            raise AppError("invalid_phone")
        ticket = await self.room.give_phone(ticket_id, e164, device, lang)
        await self.poke()  # her turn may be near already
        return {"ticket": ticket.id, "phone": mask_phone(e164), "notice": "pending"}

    async def masked_phone(self, ticket_id: str) -> str | None:
        phone = await self.room.phone_of(ticket_id)
        return mask_phone(phone) if phone else None

    async def poke(self) -> None:
        """After a call: when anyone waits for a notice, the notice job runs
        (an RQ job; nothing is queued on a day nobody gave a phone)."""
        try:
            if self.jobs is not None and await self.room.has_pending():
                await self.jobs.enqueue(NOTICE_JOB, self.room.keys.site)
        except Exception:  # a notice must never fail the call it follows
            log.exception("turn notices not queued")

    async def send_due_notices(self) -> int:
        """Send the notice of every ticket whose turn is near now (at most
        warn_ahead people before it), once each; forget the phones of tickets
        that stopped waiting. How many notices went."""
        cfg = await self.config.get()
        sent = 0
        for tid in await self.room.pending_notices():
            try:
                t = await self.tickets.get_ticket(tid)
            except AppError:
                continue
            if t.status != TicketStatus.WAITING:
                continue
            pos = await self.tickets.position(t, cfg=cfg)
            if not turn_near(str(t.status), pos.ahead, cfg.room.warn_ahead):
                continue
            phone = await self.room.claim_notice(t.id, pos.ahead)
            if phone is None or self.notifier is None:
                continue
            lang = "en" if t.extra.get("notice_lang") == "en" else "vi"  # the kiosk's language
            track = f"{cfg.site.public_url}/t/{t.id}"
            text = notice_text(t.number, pos.ahead, cfg.site.label(lang), track, lang)
            await self.notifier.send(Message(phone, text, NOTICE_KIND, lang, {"number": t.number}, t.id))
            sent += 1
        await self.room.forget_phones()
        return sent
