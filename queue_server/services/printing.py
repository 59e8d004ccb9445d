"""Printing tickets: print jobs for kiosk tickets and reprints, the
printer's status, and the print agent's side of the job queue."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from queue_server.domain.config import SiteConfig
from queue_server.domain.model import Ticket
from queue_server.services.views import come_back_fields
from queue_server.store.audit import AuditLog
from queue_server.store.config_store import ConfigStore
from queue_server.store.printing import STATUSES, PrintQueue
from queue_server.store.tickets import Position, TicketStore

log = logging.getLogger("motcua.printing")

# the longest a kiosk's "is it printed?" may wait, and how often a waiting
# one reads the state again (an answer seen by another API process)
MAX_WAIT_S = 5.0
RECHECK_S = 0.5


def job_data(
    t: Ticket, cfg: SiteConfig, ahead: int, eta: int, lang: str = "vi", eta_range: tuple[int, int] | None = None
) -> dict[str, Any]:
    """Everything the agent needs to lay out and render the ticket."""
    cat = cfg.category(t.category)
    name = cat.label(lang) if cat else t.category
    site = cfg.site.label(lang)
    return {
        "ticket": t.id,
        "number": t.number,
        "category": t.category,
        "category_name": name,
        "site_name": site,
        "issued_at": t.issued_at,
        "ahead": ahead,
        "eta_minutes": eta,
        "eta_range": list(eta_range) if eta_range else None,
        "track_url": f"{cfg.site.public_url}/t/{t.id}",
        "footer": cfg.site.ticket_footer,
        "priority": bool(t.priority),
        "timezone": cfg.site.timezone,
        "lang": lang,
        # the room was full: "Vui lòng quay lại lúc khoảng 10:40" (domain/room.py)
        "come_back": come_back_fields(t, cfg, lang)["come_back_text"] or "",
    }


class PrintService:
    def __init__(self, config: ConfigStore, tickets: TicketStore, queue: PrintQueue, audit: AuditLog):
        self.config = config
        self.tickets = tickets
        self.queue = queue
        self.audit = audit

    async def print_new_ticket(
        self, ticket: Ticket, cfg: SiteConfig, pos: Position, lang: str = "vi"
    ) -> dict[str, Any]:
        """Queue a kiosk ticket for printing. Never fails the issue: the ticket
        is valid whether or not it can be printed."""
        try:
            reply, st = await self.queue.enqueue_first(
                ticket.id, job_data(ticket, cfg, pos.ahead, pos.eta_minutes, lang, pos.eta_range), lang
            )
        except Exception as e:
            log.error("could not queue ticket %s for printing: %s", ticket.id, e)
            return {"queued": False, "job": None, "printer": "offline", "ok": False}
        return {
            "queued": bool(reply.get("queued")),
            "job": reply.get("job"),
            "state": reply.get("state"),
            "printer": st["status"],
            "ok": st["ok"],
        }

    async def status(self, lang: str = "vi") -> dict[str, Any]:
        return await self.queue.status(lang)

    async def ticket_state(self, ticket_id: str, lang: str = "vi", wait_s: float = 0) -> dict[str, Any]:
        """Whether a ticket's original print job is queued, printed, not
        printed (dropped: too old, or the ticket no longer waiting) or absent.
        With `wait_s`, a job still queued on a working printer is waited for
        up to that long (a long poll: the kiosk asks once per ticket instead
        of every 300 ms), woken when this process sees it answered and
        rechecked every RECHECK_S for an agent on another process."""
        await self.tickets.get_ticket(ticket_id)
        deadline = time.monotonic() + min(max(wait_s, 0.0), MAX_WAIT_S)
        while True:
            out = await self.queue.job_state(ticket_id, lang)  # with the printer's status, one round trip
            left = deadline - time.monotonic()
            if out["state"] != "queued" or out["error"] or not out["printer"]["ok"] or left <= 0:
                return out
            await self.queue.wait_answer(ticket_id, min(left, RECHECK_S))

    async def reprint(self, ticket_id: str, actor: str, lang: str = "vi") -> dict[str, Any]:
        ticket = await self.tickets.get_ticket(ticket_id)
        cfg = await self.config.get()
        pos = await self.tickets.position(ticket)
        reply = await self.queue.enqueue(
            ticket.id, job_data(ticket, cfg, pos.ahead, pos.eta_minutes, eta_range=pos.eta_range), reprint=True
        )
        await self.audit.record(actor, "reprint", ticket.number, ticket=ticket.id)
        return {
            "ticket": ticket.id,
            "number": ticket.number,
            "job": reply.get("job"),
            "queued": bool(reply.get("queued")),
            "printer": await self.queue.status(lang),
        }

    # -- the print agent's side --------------------------------------------------
    def add_waker(self, event: asyncio.Event) -> None:
        self.queue.add_waker(event)

    def remove_waker(self, event: asyncio.Event) -> None:
        self.queue.remove_waker(event)

    async def agent_seen(self, agent: str) -> None:
        await self.queue.set_status(agent=agent)

    async def agent_status(self, agent: str, status: str, detail: str) -> bool:
        """The agent reports its printer's state; False for an unknown state."""
        if status not in STATUSES:
            return False
        await self.queue.set_status(status, detail, agent=agent)
        return True

    async def claim(self, limit: int = 10) -> list[dict[str, Any]]:
        cfg = await self.config.get()
        return await self.queue.claim(limit=limit, max_age_ms=cfg.queue.print_max_age_s * 1000)

    async def answer(self, job_id: str, ok: bool, error: str = "") -> dict[str, Any]:
        return await self.queue.answer(job_id, ok, error)

    async def agent_gone(self, agent: str, inflight: list[str]) -> None:
        """The agent disconnected: its jobs are due again, the printer is offline."""
        try:
            await self.queue.release(inflight)
        finally:
            await self.queue.set_status("offline", "print agent disconnected", agent=agent)
