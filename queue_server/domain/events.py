"""The declared schema of the event log.

Every Lua script that changes state appends one entry per event to the
site's Redis Stream (``emit`` / ``ticket_event`` in ``store/lua/_lib.lua``);
``emit_event.lua`` does it for events composed in Python (config, notice).
A stream entry is a flat map of strings. This module declares, per event
type, which fields an entry carries and what each one means and holds, and
decodes an entry into typed values. ``tests/integration/test_event_schema.py``
drives every emitting script and checks that the fields emitted and the
fields declared here are the same sets, so neither side can drift.

How values are written to the stream (``nz`` in _lib.lua):

- ``int``: decimal digits (maybe a leading ``-``);
- ``int | None`` / ``str | None``: the empty string stands for "none";
- ``bool``: ``'1'`` or ``'0'``;
- ``str``: as is (may be empty, e.g. an event with no clerk).

Pure Python: no Redis here.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Union


def _f(doc: str) -> Any:
    """A declared field with its documentation line."""
    return field(metadata={"doc": doc})


# -- the records ---------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class Event:
    """Fields every event carries."""

    TYPE: ClassVar[str] = ""
    type: str = _f("the event type (the key of EVENT_TYPES)")
    seq: int = _f("the site's event sequence number (1, 2, ...; INCR of the sequence key)")
    ts: int = _f("when it happened, ms since the epoch (the app's clock, passed as `now`)")


@dataclass(frozen=True, kw_only=True)
class TicketEvent(Event):
    """Fields of every event about one ticket (`ticket_event` in _lib.lua)."""

    ticket: str = _f("the ticket id")
    number: str = _f("the ticket's daily number as printed, e.g. 'A015'")
    category: str = _f("the ticket's category code (after a transfer: the new one)")
    counter: int | None = _f(
        "the counter serving the ticket (or the counter queue it waits in); none while it waits in a category queue"
    )
    clerk: str = _f("who did it: the staff user's name, or '' (a kiosk's ticket: see `device`)")
    priority: bool = _f("a priority ticket (elderly, disabled, ...)")
    source: str = _f("how the ticket entered the queue: walk_in, appointment or transfer")


@dataclass(frozen=True, kw_only=True)
class IssueEvent(TicketEvent):
    """A ticket was issued (issue_ticket.lua)."""

    TYPE: ClassVar[str] = "issue"
    ahead: int = _f("people ahead of it in its category when it was issued")
    device: str = _f("the id of the kiosk that issued it, or '' (issued by staff: see `clerk`)")


@dataclass(frozen=True, kw_only=True)
class CallEvent(TicketEvent):
    """A counter called a waiting ticket (call_next.lua, call_ticket.lua)."""

    TYPE: ClassVar[str] = "call"
    wait_ms: int = _f("how long the ticket waited since it joined its queue (ms)")
    issued_at: int = _f("when the ticket was issued (ms since the epoch)")


@dataclass(frozen=True, kw_only=True)
class RecallEvent(TicketEvent):
    """The counter called its current ticket again (recall.lua)."""

    TYPE: ClassVar[str] = "recall"
    calls: int = _f("how many times the ticket has been called so far, this one included")


@dataclass(frozen=True, kw_only=True)
class DoneEvent(TicketEvent):
    """The counter finished serving its ticket (finish.lua; call_next.lua and
    call_ticket.lua finish the current ticket before calling another)."""

    TYPE: ClassVar[str] = "done"
    service_ms: int = _f("time from the (last) call to the finish, unclamped (ms)")


@dataclass(frozen=True, kw_only=True)
class NoShowEvent(TicketEvent):
    """The called citizen did not come (finish.lua)."""

    TYPE: ClassVar[str] = "no_show"


@dataclass(frozen=True, kw_only=True)
class RequeueEvent(TicketEvent):
    """A no-show ticket went back to its queue at its old rank (requeue.lua)."""

    TYPE: ClassVar[str] = "requeue"


@dataclass(frozen=True, kw_only=True)
class TransferEvent(TicketEvent):
    """The counter moved its ticket to another category or counter (transfer.lua).
    `counter` is the counter it left."""

    TYPE: ClassVar[str] = "transfer"
    from_category: str = _f("the ticket's category before the transfer")
    from_counter: int | None = _f("the counter the ticket left")
    to_category: str | None = _f("the target category, for a transfer to a category")
    to_counter: int | None = _f("the target counter, for a transfer to a counter's own queue")


@dataclass(frozen=True, kw_only=True)
class ExpireEvent(TicketEvent):
    """A ticket still waiting or being served when the day closed (close_day.lua)."""

    TYPE: ClassVar[str] = "expire"


@dataclass(frozen=True, kw_only=True)
class RatingEvent(TicketEvent):
    """A citizen rated the service of a ticket (rate_ticket.lua)."""

    TYPE: ClassVar[str] = "rating"
    level: int = _f("the rating, 1..scale")
    scale: int = _f("the rating scale in force (levels offered)")
    via: str = _f("where the rating came from (e.g. 'tablet', 'track'), or ''")


@dataclass(frozen=True, kw_only=True)
class ComeBackEvent(TicketEvent):
    """The room was full when the ticket was issued: its holder was told to come
    back at about a time (room_send_away.lua; domain/room.py)."""

    TYPE: ClassVar[str] = "come_back"
    come_back_at: int = _f("the come-back time printed on the ticket, ms since the epoch")
    predicted: int = _f("the people predicted in the room over the horizon at the issue")
    seats: int = _f("the room's seats then")


@dataclass(frozen=True, kw_only=True)
class TicketPhoneEvent(TicketEvent):
    """The holder gave a phone for one "your turn is near" notice (ticket_phone.lua).
    The phone itself is never in the log."""

    TYPE: ClassVar[str] = "ticket_phone"
    device: str = _f("the kiosk where it was given, or ''")


@dataclass(frozen=True, kw_only=True)
class TurnNoticeEvent(TicketEvent):
    """The ticket's "your turn is near" notice was claimed for sending (turn_notice.lua)."""

    TYPE: ClassVar[str] = "turn_notice"
    ahead: int = _f("people still before it when the notice went")


@dataclass(frozen=True, kw_only=True)
class PauseEvent(Event):
    """A counter paused (counter_status.lua)."""

    TYPE: ClassVar[str] = "pause"
    counter: int = _f("the counter")
    clerk: str = _f("the clerk who paused it, or ''")


@dataclass(frozen=True, kw_only=True)
class ResumeEvent(Event):
    """A paused counter opened again (counter_status.lua)."""

    TYPE: ClassVar[str] = "resume"
    counter: int = _f("the counter")
    clerk: str = _f("the clerk who resumed it, or ''")


@dataclass(frozen=True, kw_only=True)
class ConfigEvent(Event):
    """The site configuration was replaced (emit_event.lua via store/config_store.py)."""

    TYPE: ClassVar[str] = "config"
    clerk: str = _f("the admin who stored it, or ''")


@dataclass(frozen=True, kw_only=True)
class NoticeEvent(Event):
    """The display settings changed (emit_event.lua via api/routes/display.py)."""

    TYPE: ClassVar[str] = "notice"
    clerk: str = _f("the admin who changed them")
    changed: str = _f("the names of the changed settings, comma-separated, sorted")


@dataclass(frozen=True, kw_only=True)
class SiteAddEvent(Event):
    """A province admin added a site to the deployment (add_site.lua via
    store/sites.py); in the default site's log."""

    TYPE: ClassVar[str] = "site_add"
    clerk: str = _f("the province user who added it")
    changed: str = _f("the id of the site added")


@dataclass(frozen=True, kw_only=True)
class AppointmentEvent(Event):
    """Fields of every event about one booking: its id only, never the
    holder's name or phone."""

    appointment: str = _f("the booking id")
    category: str = _f("the booking's category code")
    start: int = _f("the slot's start, ms since the epoch (after a move: the new slot)")


@dataclass(frozen=True, kw_only=True)
class AppointmentBookEvent(AppointmentEvent):
    """A slot was booked online (book_appointment.lua)."""

    TYPE: ClassVar[str] = "appointment_book"


@dataclass(frozen=True, kw_only=True)
class AppointmentHoldEvent(AppointmentEvent):
    """A slot was held for a booking until its holder types the OTP sent to her
    (book_appointment.lua with verify = "otp"; verify_appointment.lua books it)."""

    TYPE: ClassVar[str] = "appointment_hold"
    until_ms: int = _f("the hold lapses at this time, ms since the epoch, unless verified")


@dataclass(frozen=True, kw_only=True)
class AppointmentReleaseEvent(AppointmentEvent):
    """A hold for an OTP was released unverified (verify_appointment.lua)."""

    TYPE: ClassVar[str] = "appointment_release"
    reason: str = _f("expired (the code came too late), tries (too many wrong codes) or phone_limit")


@dataclass(frozen=True, kw_only=True)
class AppointmentCancelEvent(AppointmentEvent):
    """A booking was cancelled (cancel_appointment.lua)."""

    TYPE: ClassVar[str] = "appointment_cancel"
    clerk: str = _f("the staff user who cancelled it, or '' (its holder, by the manage token)")


@dataclass(frozen=True, kw_only=True)
class AppointmentMoveEvent(AppointmentEvent):
    """Its holder moved a booking to another slot (move_appointment.lua)."""

    TYPE: ClassVar[str] = "appointment_move"
    from_start: int = _f("the slot it left, ms since the epoch")


@dataclass(frozen=True, kw_only=True)
class AppointmentCheckinEvent(AppointmentEvent):
    """A booking was checked in at the kiosk and got a ticket (check_in_appointment.lua;
    the ticket's own `issue` event follows it)."""

    TYPE: ClassVar[str] = "appointment_checkin"
    ticket: str = _f("the ticket issued for it")
    late: bool = _f("it came after its window: the ticket is a walk-in, ranked at check-in")


@dataclass(frozen=True, kw_only=True)
class AppointmentNoShowEvent(AppointmentEvent):
    """A booking was not checked in by the end of its window (no_show_appointments.lua)."""

    TYPE: ClassVar[str] = "appointment_no_show"


RECORDS: tuple[type[Event], ...] = (
    IssueEvent,
    CallEvent,
    RecallEvent,
    DoneEvent,
    NoShowEvent,
    RequeueEvent,
    TransferEvent,
    ExpireEvent,
    RatingEvent,
    ComeBackEvent,
    TicketPhoneEvent,
    TurnNoticeEvent,
    PauseEvent,
    ResumeEvent,
    ConfigEvent,
    SiteAddEvent,
    NoticeEvent,
    AppointmentBookEvent,
    AppointmentHoldEvent,
    AppointmentReleaseEvent,
    AppointmentCancelEvent,
    AppointmentMoveEvent,
    AppointmentCheckinEvent,
    AppointmentNoShowEvent,
)
EVENT_TYPES: dict[str, type[Event]] = {r.TYPE: r for r in RECORDS}


# -- the schema as data -----------------------------------------------------------
@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: str  # 'int' | 'str' | 'bool'
    optional: bool  # '' decodes to None
    doc: str


def _spec(name: str, hint: Any, doc: str) -> FieldSpec:
    args = typing.get_args(hint)
    optional = (typing.get_origin(hint) in (Union, types.UnionType)) and type(None) in args
    base = next(a for a in args if a is not type(None)) if optional else hint
    kind = {int: "int", str: "str", bool: "bool"}[base]
    return FieldSpec(name, kind, optional, doc)


def fields_of(record: type[Event]) -> dict[str, FieldSpec]:
    hints = typing.get_type_hints(record)
    return {f.name: _spec(f.name, hints[f.name], f.metadata.get("doc", "")) for f in dataclasses.fields(record)}


SCHEMA: dict[str, dict[str, FieldSpec]] = {t: fields_of(r) for t, r in EVENT_TYPES.items()}


# -- decoding ---------------------------------------------------------------------
class EventDecodeError(ValueError):
    pass


def _text(v: Any) -> str:
    return v.decode() if isinstance(v, (bytes, bytearray)) else str(v)


def decode_value(spec: FieldSpec, raw: str) -> Any:
    if spec.optional and raw == "":
        return None
    if spec.kind == "int":
        try:
            return int(raw)
        except ValueError:
            raise EventDecodeError(f"{spec.name}: not an integer: {raw!r}") from None
    if spec.kind == "bool":
        if raw not in ("0", "1"):
            raise EventDecodeError(f"{spec.name}: not '0'/'1': {raw!r}")
        return raw == "1"
    return raw


def text_fields(fields: Mapping[Any, Any]) -> dict[str, str]:
    """A stream entry's fields as str -> str (Redis clients give bytes or str)."""
    return {_text(k): _text(v) for k, v in fields.items()}


def decode(fields: Mapping[Any, Any], *, strict: bool = False) -> dict[str, Any]:
    """One stream entry's fields -> typed values by the schema of its type.

    Undeclared fields (and every field of an undeclared type) are kept as
    str, unless `strict`, when they raise EventDecodeError, as does a
    declared field missing from the entry or a value of the wrong form.
    """
    f = text_fields(fields)
    spec = SCHEMA.get(f.get("type", ""))
    if spec is None:
        if strict:
            raise EventDecodeError(f"undeclared event type {f.get('type')!r}")
        return dict(f)
    out: dict[str, Any] = {}
    for k, v in f.items():
        s = spec.get(k)
        if s is None:
            if strict:
                raise EventDecodeError(f"{f['type']}: undeclared field {k!r}")
            out[k] = v
        else:
            out[k] = decode_value(s, v)
    if strict:
        missing = set(spec) - set(f)
        if missing:
            raise EventDecodeError(f"{f['type']}: missing fields {sorted(missing)}")
    return out


def parse(fields: Mapping[Any, Any]) -> Event:
    """One stream entry -> its typed record (strict)."""
    d = decode(fields, strict=True)
    return EVENT_TYPES[d["type"]](**d)
