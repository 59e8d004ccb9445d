"""Ticket and counter state as plain data."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class TicketStatus(StrEnum):
    WAITING = "waiting"  # in a queue
    CALLED = "called"  # called to a counter, being served
    DONE = "done"  # served
    NO_SHOW = "no_show"  # called, did not come (may return to the queue)
    EXPIRED = "expired"  # still waiting when the day closed


class Source(StrEnum):
    WALK_IN = "walk_in"
    APPOINTMENT = "appointment"
    TRANSFER = "transfer"


class CounterStatus(StrEnum):
    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"  # disabled in the configuration


class EventType(StrEnum):
    ISSUE = "issue"
    CALL = "call"
    RECALL = "recall"
    DONE = "done"
    NO_SHOW = "no_show"
    REQUEUE = "requeue"
    TRANSFER = "transfer"
    PAUSE = "pause"
    RESUME = "resume"
    EXPIRE = "expire"
    RATING = "rating"
    CONFIG = "config"
    NOTICE = "notice"
    PRINTER = "printer"
    APPOINTMENT_BOOK = "appointment_book"
    APPOINTMENT_CANCEL = "appointment_cancel"
    APPOINTMENT_MOVE = "appointment_move"
    APPOINTMENT_CHECKIN = "appointment_checkin"
    APPOINTMENT_NO_SHOW = "appointment_no_show"
    APPOINTMENT_HOLD = "appointment_hold"
    APPOINTMENT_RELEASE = "appointment_release"
    SITE_ADD = "site_add"
    COME_BACK = "come_back"
    TICKET_PHONE = "ticket_phone"
    TURN_NOTICE = "turn_notice"


@dataclass
class Ticket:
    id: str
    number: str
    category: str
    status: TicketStatus
    issued_at: int  # ms since epoch
    queued_at: int  # when it joined the queue (ms): issue or check-in time
    priority: bool = False
    source: Source = Source.WALK_IN
    day: str = ""
    counter: int | None = None  # serving counter, or the target of a counter transfer
    clerk: str | None = None
    called_at: int | None = None
    finished_at: int | None = None
    calls: int = 0
    original_category: str = ""
    rating: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    rank_ms: int = 0  # its rank in the queue (ZSET score): issue time of a walk-in,
    # slot of an appointment; records without one: queued_at

    def __post_init__(self) -> None:
        if not self.rank_ms:
            self.rank_ms = self.queued_at

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Ticket:
        def opt_int(v: Any) -> int | None:
            return None if v in (None, "", False) else int(v)

        known = {
            "id",
            "number",
            "category",
            "status",
            "issued_at",
            "queued_at",
            "priority",
            "source",
            "day",
            "counter",
            "clerk",
            "called_at",
            "finished_at",
            "calls",
            "original_category",
            "rating",
            "rank_ms",
        }
        queued_at = int(d.get("queued_at") or d["issued_at"])
        return cls(
            id=str(d["id"]),
            number=str(d["number"]),
            category=str(d["category"]),
            status=TicketStatus(d["status"]),
            issued_at=int(d["issued_at"]),
            queued_at=queued_at,
            rank_ms=int(d.get("rank_ms") or queued_at),
            priority=bool(d.get("priority")),
            source=Source(d.get("source") or "walk_in"),
            day=str(d.get("day") or ""),
            counter=opt_int(d.get("counter")),
            clerk=d.get("clerk") or None,
            called_at=opt_int(d.get("called_at")),
            finished_at=opt_int(d.get("finished_at")),
            calls=int(d.get("calls") or 0),
            original_category=str(d.get("original_category") or d["category"]),
            rating=opt_int(d.get("rating")),
            extra={k: v for k, v in d.items() if k not in known},
        )
