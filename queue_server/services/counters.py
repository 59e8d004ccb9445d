"""What a clerk does at a counter (Next, Call, Recall, Done, No-show,
Transfer, Pause), each recorded in the audit log, and what the counter app
shows: the counter's state, its current ticket, a preview of its queues
and today's figures."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from queue_server.domain.accounts import User
from queue_server.domain.config import SiteConfig
from queue_server.domain.model import CounterStatus, Ticket, TicketStatus
from queue_server.errors import AppError
from queue_server.services.room import RoomService
from queue_server.services.views import category_brief, slot_start, staff_ticket_view
from queue_server.store.audit import AuditLog
from queue_server.store.clock import steady_ms
from queue_server.store.config_store import ConfigStore
from queue_server.store.events import EventLog
from queue_server.store.keys import counter_queue, normal_queue, priority_queue
from queue_server.store.tickets import CallResult, Position, TicketStore

LIST_LIMIT = 20  # waiting tickets and no-shows shown by the counter app


def now_ms() -> int:
    return steady_ms()  # the stores' clock: never steps back


def _brief(t: Ticket, cfg: SiteConfig, lang: str) -> dict[str, Any]:
    """A line of the counter app's waiting or no-show list."""
    cat = cfg.category(t.category)
    return {
        "id": t.id,
        "number": t.number,
        "category": t.category,
        "category_name": cat.label(lang) if cat else t.category,
        "priority": t.priority,
        "source": str(t.source),
        "counter": t.counter,
        "slot_start": slot_start(t),
    }


@dataclass
class Acted:
    """A clerk action's outcome with what its view needs."""

    ticket: Ticket
    cfg: SiteConfig
    position: Position | None = None
    call: CallResult | None = None


class CounterService:
    def __init__(
        self,
        config: ConfigStore,
        tickets: TicketStore,
        events: EventLog,
        audit: AuditLog,
        room: RoomService | None = None,
    ):
        self.config = config
        self.tickets = tickets
        self.events = events
        self.audit = audit
        self.room = room  # after a call: the "your turn is near" notices due

    async def _called(self, result: CallResult) -> None:
        if self.room is not None and not result.replayed and not result.debounced:
            await self.room.poke()

    # -- clerk actions ------------------------------------------------------------
    async def next(self, n: int, user: User, idem: str | None) -> Acted:
        """Finish the current ticket (if any) and call the next."""
        result = await self.tickets.call_next(n, clerk=user.username, idem=idem)
        if not result.replayed and not result.debounced:
            await self.audit.record(user.username, "next", f"counter:{n}", number=result.ticket.number)
        await self._called(result)
        return Acted(result.ticket, await self.config.get(), call=result)

    async def call(
        self, n: int, user: User, idem: str | None, *, ticket_id: str | None = None, number: str | None = None
    ) -> Acted:
        """Call a specific waiting ticket, by id or by today's number."""
        if ticket_id is None:
            ticket_id = (await self.tickets.find_ticket(number or "")).id
        result = await self.tickets.call_ticket(n, ticket_id, clerk=user.username, idem=idem)
        if not result.replayed:
            await self.audit.record(user.username, "call", f"counter:{n}", number=result.ticket.number)
        await self._called(result)
        return Acted(result.ticket, await self.config.get(), call=result)

    async def recall(self, n: int, user: User, idem: str | None) -> Acted:
        result = await self.tickets.recall_result(n, clerk=user.username, idem=idem)
        t = result.ticket
        if not result.replayed:
            await self.audit.record(user.username, "recall", f"counter:{n}", number=t.number)
        return Acted(t, await self.config.get(), call=result)

    async def finish(self, n: int, user: User, outcome: TicketStatus, idem: str | None) -> Acted:
        result = await self.tickets.finish_result(n, outcome, clerk=user.username, idem=idem)
        t = result.ticket
        if not result.replayed:
            await self.audit.record(user.username, str(outcome), f"counter:{n}", number=t.number)
        return Acted(t, await self.config.get(), call=result)

    async def transfer(
        self, n: int, user: User, idem: str | None, *, to_category: str | None = None, to_counter: int | None = None
    ) -> Acted:
        result = await self.tickets.transfer_result(
            n, to_category=to_category, to_counter=to_counter, clerk=user.username, idem=idem
        )
        t = result.ticket
        if not result.replayed:
            await self.audit.record(
                user.username,
                "transfer",
                f"counter:{n}",
                number=t.number,
                to_category=to_category,
                to_counter=to_counter,
            )
        return Acted(t, await self.config.get(), await self.tickets.position(t), call=result)

    async def set_status(self, n: int, user: User, status: CounterStatus) -> bool:
        changed = await self.tickets.set_counter_status(n, status, clerk=user.username)
        if changed:
            await self.audit.record(user.username, str(status), f"counter:{n}")
        return changed

    # -- reads -----------------------------------------------------------------------
    async def states(self, user: User) -> list[dict[str, Any]]:
        """Every counter's state, with whether this user may work at it."""
        states = await self.tickets.counter_states(await self.config.get())
        for s in states:
            s["allowed"] = user.may_use_counter(s["counter"])
        return states

    async def exists(self, n: int) -> bool:
        return (await self.config.get()).counter(n) is not None

    async def queue_preview(self, cfg: SiteConfig, n: int, now: int) -> dict[str, Any]:
        """Waiting counts and oldest wait for each category this counter serves."""
        ct = cfg.counter(n)
        codes = list(ct.categories) if ct else []
        names = [counter_queue(n)]
        for code in codes:
            names += [priority_queue(code), normal_queue(code)]
        per = await self.tickets.queue_summaries(names)  # count, and when the head joined

        def entry(code: str, queues: list[str]) -> dict[str, Any]:
            count = sum(per[q][0] for q in queues)
            oldest = [h for h in (per[q][1] for q in queues) if h is not None]
            cat = cfg.category(code) if code else None
            return {
                "category": code or None,
                "prefix": cat.prefix if cat else "",
                "name": cat.name if cat else "",
                "name_en": cat.name_en if cat else "",
                "count": count,
                "priority": per[queues[0]][0] if code else 0,
                "oldest_wait_ms": max(0, now - int(min(oldest))) if oldest else None,
            }

        cats = [entry(code, [priority_queue(code), normal_queue(code)]) for code in codes]
        direct = entry("", [counter_queue(n)])
        waits = [c["oldest_wait_ms"] for c in [*cats, direct] if c["oldest_wait_ms"] is not None]
        return {
            "categories": cats,
            "direct": {"count": direct["count"], "oldest_wait_ms": direct["oldest_wait_ms"]},
            "total": sum(c["count"] for c in cats) + direct["count"],
            "oldest_wait_ms": max(waits) if waits else None,
        }

    async def snapshot(self, n: int, lang: str = "vi") -> dict[str, Any]:
        """The counter app's view of counter `n`."""
        cfg = await self.config.get()
        ct = cfg.counter(n)
        if ct is None:
            raise AppError("counter_not_found", counter=n)
        now = now_ms()
        seq = await self.events.last_seq()
        state = next(s for s in await self.tickets.counter_states(cfg) if s["counter"] == n)
        ticket = None
        if state["ticket"]:
            try:
                t: Ticket | None = await self.tickets.get_ticket(state["ticket"])
            except AppError:
                t = None
            if t is not None and t.status == TicketStatus.CALLED:
                ticket = staff_ticket_view(t, cfg, None, lang)
                ticket["waited_ms"] = max(0, (t.called_at or now) - t.issued_at)
        preview, stats, waiting, no_shows = await asyncio.gather(
            self.queue_preview(cfg, n, now),
            self.tickets.counter_day_stats(n),
            self.tickets.waiting_list(cfg, n, LIST_LIMIT),
            self.tickets.no_shows_today(cfg, n, LIST_LIMIT),
        )
        return {
            "type": "snapshot",
            "seq": seq,
            "now": now,
            "counter": {
                "number": n,
                "name": ct.label,
                "status": state["status"],
                "enabled": ct.enabled,
                "categories": [category_brief(c) for c in (cfg.category(code) for code in ct.categories) if c],
            },
            "ticket": ticket,
            "preview": preview,
            "stats": stats,
            "waiting": [_brief(t, cfg, lang) | {"wait_ms": max(0, now - t.queued_at)} for t in waiting],
            "no_shows": [_brief(t, cfg, lang) | {"finished_at": t.finished_at} for t in no_shows],
            "all_categories": [{**category_brief(c), "enabled": c.enabled} for c in cfg.categories],
            "all_counters": [{"number": c.number, "name": c.label, "enabled": c.enabled} for c in cfg.counters],
            "rating_scale": cfg.queue.rating_scale,
        }
