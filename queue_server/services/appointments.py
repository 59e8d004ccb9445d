"""Online appointments as a citizen and staff use them: the slots of a day
with the places left, booking, the holder's view, cancel and move by the
manage token, the staff's day list (phones masked) and a supervisor's
cancel, and the booking's .ics.

The checks that need the configuration live here (which slots exist, the
phone rule, the deadlines); the store's scripts hold what must be atomic."""

from __future__ import annotations

import hmac
import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from icalendar import Calendar
from icalendar import Event as IcsEvent

from queue_server.domain.appointments import (
    Appointment,
    AppointmentStatus,
    mask_phone,
    normalize_code,
    parse_vn_mobile,
)
from queue_server.domain.config import SiteConfig
from queue_server.domain.holidays import is_public_holiday
from queue_server.domain.numbering import service_day
from queue_server.domain.slots import (
    Slot,
    checkin_window,
    day_slots,
    find_slot,
    iso,
    may_change,
    offers_appointments,
    parse_start,
    places_left,
)
from queue_server.errors import AppError
from queue_server.services.printing import PrintService
from queue_server.services.tickets import TicketState, check_open
from queue_server.store.appointments import AppointmentStore, token_digest
from queue_server.store.audit import AuditLog
from queue_server.store.config_store import ConfigStore
from queue_server.store.tickets import TicketStore

MAX_NAME = 100


def now_utc() -> datetime:
    return datetime.fromtimestamp(time.time(), UTC)


# -- what the API answers (typed: the OpenAPI documents them) ---------------------------------------
@dataclass
class SlotView:
    start: str
    """ISO 8601 in the site's zone, e.g. 2026-12-02T07:30:00+07:00"""
    end: str
    capacity: int
    """places this slot offers online: min(appointment_capacity, the hour's budget)"""
    available: int
    """places left now (0 once booking has closed, book_until_minutes before the start)"""


@dataclass
class SlotsReply:
    date: str
    category: str
    slots: list[SlotView]


@dataclass
class BookingReply:
    id: str
    code: str
    """short code typed or scanned at the kiosk (no 0/O/1/I/L)"""
    category: str
    start: str
    end: str
    status: str
    """booked, cancelled, checked_in or no_show"""
    manage_url: str
    """the holder's page to see, cancel or move the booking (/book/manage/{id}?token=…, the secret
    manage token; the JSON is GET /api/appointments/{id}?token=…)"""
    ics_url: str


@dataclass
class AppointmentReply:
    id: str
    code: str
    category: str
    start: str
    end: str
    status: str
    name: str
    phone: str
    """masked, e.g. 09xx xxx 678"""
    may_change: bool
    """the holder may still cancel or move it (until book_until_minutes before)"""


@dataclass
class CheckedIn:
    """A check-in's ticket (as a walk-in's), the booking, and whether it came late."""

    state: TicketState
    appointment: Appointment
    late: bool
    slot_start: str


@dataclass
class BookingRef:
    id: str
    code: str
    start: str


@dataclass
class CheckInReply:
    """The ticket as POST /api/tickets gives it (`views.ticket_view`), with the booking."""

    id: str
    number: str
    category: str
    category_name: str
    status: str
    priority: bool
    source: str
    """appointment; walk_in when it came too late"""
    issued_at: int
    counter: int | None
    called_at: int | None
    finished_at: int | None
    ahead: int
    eta_minutes: int
    eta_range: list[int] | None
    rating: int | None
    track_url: str
    late: bool
    """it came after its window: a walk-in ticket, the booking counted late (not a no-show)"""
    appointment: BookingRef
    print: dict[str, Any] | None = None
    """the kiosk's print job, as POST /api/tickets gives it"""

    @classmethod
    def of(cls, view: dict[str, Any], done: CheckedIn) -> CheckInReply:
        a = done.appointment
        return cls(
            **view,
            late=done.late,
            appointment=BookingRef(a.id, a.code, done.slot_start),
            print=done.state.print,
        )


@dataclass
class DayEntry:
    id: str
    code: str
    category: str
    start: str
    status: str
    name: str
    phone: str
    """masked, e.g. 09xx xxx 678"""
    cancelled_by: str


@dataclass
class DayReply:
    date: str
    appointments: list[DayEntry]


def clean_name(raw: object) -> str:
    if not isinstance(raw, str):
        raise AppError("invalid_body", detail="trường “name” sai kiểu / wrong type for “name”", field="name")
    name = " ".join(raw.split())
    if not name or len(name) > MAX_NAME or any(unicodedata.category(ch).startswith("C") for ch in name):
        raise AppError(
            "invalid_body",
            detail=f"họ tên 1–{MAX_NAME} ký tự / the name must be 1–{MAX_NAME} characters",
            field="name",
        )
    return unicodedata.normalize("NFC", name)


_DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}\Z")


def parse_day(text: str) -> date:
    try:
        if _DAY_RE.match(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise AppError("invalid_body", detail="ngày dạng YYYY-MM-DD / date as YYYY-MM-DD", field="date")


class AppointmentService:
    def __init__(
        self,
        config: ConfigStore,
        store: AppointmentStore,
        audit: AuditLog,
        tickets: TicketStore | None = None,
        printing: PrintService | None = None,
        clock: Callable[[], datetime] = now_utc,
    ):
        self.config = config
        self.store = store
        self.audit = audit
        self.tickets = tickets
        self.printing = printing
        self.clock = clock

    # -- helpers ----------------------------------------------------------------------
    @staticmethod
    def _category(cfg: SiteConfig, code: str) -> None:
        if cfg.category(code) is None:
            raise AppError("unknown_category", category=code)

    def _slot(self, cfg: SiteConfig, category: str, start_text: object, now: datetime) -> Slot:
        start = parse_start(start_text) if isinstance(start_text, str) else None
        if start is None:
            raise AppError(
                "invalid_body",
                detail="“start” dạng ISO 8601 có múi giờ / “start” as ISO 8601 with an offset",
                field="start",
            )
        slot = find_slot(cfg, category, start, now, is_public_holiday)
        if slot is None or not slot.bookable or slot.capacity <= 0:
            raise AppError("slot_closed")
        return slot

    def _times(self, cfg: SiteConfig, a: Appointment) -> tuple[datetime, datetime]:
        start = datetime.fromtimestamp(a.start_ms / 1000, cfg.site.tz)
        return start, start + timedelta(minutes=cfg.appointments.slot_minutes)

    def _urls(self, cfg: SiteConfig, a: Appointment, token: str) -> tuple[str, str]:
        """The holder's page (/book/manage/{id}, see, cancel, move) and the .ics."""
        base = cfg.site.public_url
        return (
            f"{base}/book/manage/{a.id}?token={token}",
            f"{base}/api/appointments/{a.id}/calendar.ics?token={token}",
        )

    async def _held(self, appointment_id: str, token: str) -> Appointment:
        """The booking its holder names by id and manage token (a wrong token: not found)."""
        a = await self.store.get(appointment_id)
        if not token or not hmac.compare_digest(a.token_digest, token_digest(token)):
            raise AppError("appointment_not_found")
        return a

    def _limits(self, cfg: SiteConfig) -> tuple[int, int]:
        a = cfg.appointments
        return a.book_until_minutes * 60_000, a.release_delay_minutes * 60_000

    # -- the citizen ------------------------------------------------------------------
    async def slots(self, category: str, day_text: str) -> SlotsReply:
        cfg = await self.config.get()
        self._category(cfg, category)
        day = parse_day(day_text)
        slots = day_slots(cfg, category, day, self.clock(), is_public_holiday)
        places = await self.store.places(category, slots) if slots else {}
        tz = cfg.site.tz
        out = []
        for s in slots:
            p = places[s.key]
            out.append(SlotView(iso(s.start, tz), iso(s.end, tz), s.capacity, places_left(s, p.slot, p.hour)))
        return SlotsReply(day.isoformat(), category, out)

    async def book(
        self, category: str, start: object, name: object, phone: object, idem: str | None = None
    ) -> BookingReply:
        cfg = await self.config.get()
        self._category(cfg, category)
        if not offers_appointments(cfg, cfg.category(category)):
            raise AppError("slot_closed")
        clean = clean_name(name)
        e164 = parse_vn_mobile(phone) if isinstance(phone, str) else None
        if e164 is None:
            raise AppError("invalid_phone")
        slot = self._slot(cfg, category, start, self.clock())
        booked = await self.store.book(
            slot,
            category,
            name=clean,
            phone=e164,
            per_phone=cfg.appointments.per_phone_per_day,
            keep_personal_days=cfg.appointments.keep_personal_days,
            idem=idem,
        )
        return self.booking_reply(cfg, booked.appointment, booked.token)

    def booking_reply(self, cfg: SiteConfig, a: Appointment, token: str) -> BookingReply:
        start, end = self._times(cfg, a)
        manage, ics = self._urls(cfg, a, token)
        tz = cfg.site.tz
        return BookingReply(a.id, a.code, a.category, iso(start, tz), iso(end, tz), str(a.status), manage, ics)

    async def view(self, appointment_id: str, token: str) -> AppointmentReply:
        cfg = await self.config.get()
        a = await self._held(appointment_id, token)
        return await self._reply(cfg, a)

    async def _reply(self, cfg: SiteConfig, a: Appointment) -> AppointmentReply:
        start, end = self._times(cfg, a)
        p = await self.store.personal(a.id)
        tz = cfg.site.tz
        changeable = a.status == AppointmentStatus.BOOKED and may_change(cfg, start, self.clock())
        return AppointmentReply(
            a.id,
            a.code,
            a.category,
            iso(start, tz),
            iso(end, tz),
            str(a.status),
            p.name if p else "",
            mask_phone(p.phone) if p else "",
            changeable,
        )

    async def cancel(self, appointment_id: str, token: str) -> AppointmentReply:
        cfg = await self.config.get()
        await self._held(appointment_id, token)
        before, hold = self._limits(cfg)
        a = await self.store.cancel(appointment_id, token=token, before_ms=before, hold_ms=hold)
        return await self._reply(cfg, a)

    async def move(self, appointment_id: str, token: str, start: object) -> AppointmentReply:
        cfg = await self.config.get()
        current = await self._held(appointment_id, token)
        slot = self._slot(cfg, current.category, start, self.clock())
        before, hold = self._limits(cfg)
        a = await self.store.move(
            appointment_id,
            slot,
            token=token,
            per_phone=cfg.appointments.per_phone_per_day,
            keep_personal_days=cfg.appointments.keep_personal_days,
            before_ms=before,
            hold_ms=hold,
        )
        return await self._reply(cfg, a)

    async def ics(self, appointment_id: str, token: str) -> bytes:
        """The booking as an iCalendar event, its times in the site's zone."""
        cfg = await self.config.get()
        a = await self._held(appointment_id, token)
        start, end = self._times(cfg, a)
        cat = cfg.category(a.category)
        cal = Calendar()
        cal.add("prodid", "-//motcua//appointments//VI")
        cal.add("version", "2.0")
        ev = IcsEvent()
        ev.add("uid", f"{a.id}@{cfg.site.id}.motcua")
        ev.add("dtstamp", datetime.fromtimestamp(a.created_at / 1000, UTC))
        ev.add("dtstart", start)
        ev.add("dtend", end)
        ev.add("summary", f"Lịch hẹn {cat.name if cat else a.category} – mã {a.code}")
        ev.add("location", cfg.site.name)
        ev.add(
            "description",
            f"Mã lịch hẹn: {a.code}. Đến sớm tối đa {cfg.appointments.checkin_early_minutes} phút, "
            f"nhập mã tại máy lấy số. / Booking code {a.code}: check in at the kiosk.",
        )
        cal.add_component(ev)
        cal.add_missing_timezones()
        ics: bytes = cal.to_ical()
        return ics

    # -- staff ------------------------------------------------------------------------
    async def day_list(self, day_text: str) -> DayReply:
        cfg = await self.config.get()
        day = parse_day(day_text)
        tz = cfg.site.tz
        rows = await self.store.day(day.strftime("%Y%m%d"))
        out = [
            DayEntry(
                a.id,
                a.code,
                a.category,
                iso(datetime.fromtimestamp(a.start_ms / 1000, tz), tz),
                str(a.status),
                p.name if p else "",
                mask_phone(p.phone) if p else "",
                a.cancelled_by,
            )
            for a, p in rows
        ]
        return DayReply(day.isoformat(), out)

    async def cancel_by_staff(self, appointment_id: str, actor: str) -> AppointmentReply:
        cfg = await self.config.get()
        before, hold = self._limits(cfg)
        a = await self.store.cancel(appointment_id, token=None, clerk=actor, before_ms=before, hold_ms=hold)
        await self.audit.record(actor, "appointment_cancel", a.code, appointment=a.id)
        return await self._reply(cfg, a)

    # -- the kiosk --------------------------------------------------------------------
    async def check_in(
        self,
        code_text: str,
        *,
        device_id: str | None = None,
        actor: str = "",
        idem: str | None = None,
        lang: str = "vi",
    ) -> CheckedIn:
        """A citizen types (or scans) her booking code at the kiosk: in its
        window she gets a ticket ranked by her slot; too early she is told
        when to come back; too late she gets a walk-in ticket (the booking
        counts as late). A kiosk's ticket is printed."""
        assert self.tickets is not None, "AppointmentService built without a TicketStore"
        cfg = await self.config.get()
        code = normalize_code(code_text)
        if code is None:
            raise AppError("appointment_not_found")
        a = await self.store.by_code(code)
        cat = cfg.category(a.category)
        if cat is None:
            raise AppError("unknown_category", category=a.category)
        now = self.clock()
        start, _ = self._times(cfg, a)
        window = checkin_window(cfg, start)
        if now > window.closes:
            check_open(cfg, now, lang)  # a late arrival is a walk-in: only in opening hours
        appts = cfg.appointments
        try:
            r = await self.store.check_in(
                a,
                prefix=cat.prefix,
                day=service_day(int(now.timestamp() * 1000), cfg.site.tz),
                early_ms=appts.checkin_early_minutes * 60_000,
                late_ms=appts.checkin_late_minutes * 60_000,
                device=device_id or "",
                clerk="" if device_id else actor,
                idem=idem,
            )
        except AppError as e:
            if e.code != "too_early":
                raise
            opens = window.opens.astimezone(cfg.site.tz)
            text = f"{opens:%H:%M} ngày {opens:%d/%m/%Y}" if lang != "en" else f"{opens:%H:%M} on {opens:%d/%m/%Y}"
            raise AppError("too_early", opens=text, opens_at=iso(opens, cfg.site.tz)) from None
        ticket = await self.tickets.get_ticket(r.ticket)
        pos = await self.tickets.position(ticket, r.ahead)
        printed = None
        if device_id is not None and self.printing is not None:
            printed = await self.printing.print_new_ticket(ticket, cfg, pos, lang)
        return CheckedIn(
            TicketState(ticket, cfg, pos, printed), await self.store.get(a.id), r.late, iso(start, cfg.site.tz)
        )

    async def sweep_no_shows(self, day: date | None = None, actor: str = "system") -> list[str]:
        """The bookings of `day` (default: today) not checked in by the end of
        their window become no-shows; their ids."""
        cfg = await self.config.get()
        d = day or self.clock().astimezone(cfg.site.tz).date()
        return await self.store.sweep_no_shows(
            d.strftime("%Y%m%d"), late_ms=cfg.appointments.checkin_late_minutes * 60_000, clerk=actor
        )
