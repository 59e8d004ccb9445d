"""Online appointments as a citizen and staff use them: the slots of a day
with the places left, booking, the holder's view, cancel and move by the
manage token, the staff's day list (phones masked) and a supervisor's
cancel, and the booking's .ics.

The checks that need the configuration live here (which slots exist, the
phone rule, the deadlines); the store's scripts hold what must be atomic."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
import time
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any, TypeVar

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
from queue_server.domain.hours import sessions_on
from queue_server.domain.notify import (
    Kind,
    Message,
    closure_text,
    confirmation_text,
    otp_text,
    reminder_text,
    when,
)
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
from queue_server.services.notify import JobQueue, Notifier
from queue_server.services.printing import PrintService
from queue_server.services.slots_cache import SlotsCache
from queue_server.services.tickets import TicketState, check_open
from queue_server.store.appointments import AppointmentStore, OtpHold, new_otp, token_digest
from queue_server.store.audit import AuditLog
from queue_server.store.config_store import ConfigStore
from queue_server.store.ratelimit import RateLimiter
from queue_server.store.tickets import TicketStore

log = logging.getLogger("motcua.appointments")
T = TypeVar("T")

MAX_NAME = 100
OTP_MINUTES = 5
OTP_TRIES = 5
# codes sent to one phone, and codes typed for one phone's holds, per hour
OTP_SENDS_PER_PHONE_HOUR = 5
OTP_CHECKS_PER_PHONE_HOUR = 20
HOUR_MS = 3600_000
_OTP_RE = re.compile(r"^\d{6}\Z")
REMIND_JOB = "queue_server.jobs.send_reminder"
EVE_AT = clock_time(16, 0)  # the day before, site time
REMINDERS = ("eve", "hour")
# a booking's notices still undone this long after it: its process died before doing them
NOTICES_LEFT_MS = 120_000


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
    """booked, or pending_otp (verify = "otp": POST …/verify with the code sent to the phone)"""
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
    # the waiting room's part (views.room_fields)
    come_back_at: int | None
    come_back_time: str | None
    come_back_text: str | None
    warn_ahead: int
    turn_near: bool
    turn_text: str | None
    notice: str | None
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
        notifier: Notifier | None = None,
        limiter: RateLimiter | None = None,
        jobs: JobQueue | None = None,
    ):
        self.config = config
        self.store = store
        self.audit = audit
        self.tickets = tickets
        self.printing = printing
        self.clock = clock
        self.notifier = notifier
        self.limiter = limiter
        self.jobs = jobs
        # the process's kept slots replies (the API process sets it, with the broadcaster feeding it events)
        self.slots_cache: SlotsCache | None = None

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
        reply, _ = await self._slots(cfg, category, parse_day(day_text), self.clock())
        return reply

    async def slots_json(self, category: str, day_text: str) -> bytes:
        """`slots` as its JSON, served from the process's `slots_cache` when it has one."""
        cfg = await self.config.get()
        self._category(cfg, category)
        day = parse_day(day_text)
        now = self.clock()

        async def build() -> tuple[bytes, int]:
            reply, valid_until = await self._slots(cfg, category, day, now)
            body = json.dumps(asdict(reply), ensure_ascii=False, separators=(",", ":")).encode()
            return body, valid_until

        if self.slots_cache is None:
            return (await build())[0]
        return await self.slots_cache.get(cfg, category, day.isoformat(), int(now.timestamp() * 1000), build)

    async def _slots(self, cfg: SiteConfig, category: str, day: date, now: datetime) -> tuple[SlotsReply, int]:
        """The day's slots with their places left, and the first instant (ms)
        the clock alone changes them: a slot's booking closes, a held place
        lapses, the day enters or leaves the bookable days (local midnight)."""
        slots = day_slots(cfg, category, day, now, is_public_holiday)
        places, lapse = await self.store.day_places(category, slots) if slots else ({}, None)
        tz = cfg.site.tz
        out = []
        for s in slots:
            p = places[s.key]
            out.append(SlotView(iso(s.start, tz), iso(s.end, tz), s.capacity, places_left(s, p.slot, p.hour)))
        midnight = datetime.combine(now.astimezone(tz).date() + timedelta(days=1), clock_time(0), tzinfo=tz)
        closes = timedelta(minutes=cfg.appointments.book_until_minutes)
        changes = [midnight, *(s.start - closes for s in slots if s.bookable)]
        valid_until = min(int(t.timestamp() * 1000) for t in changes)
        if lapse is not None:
            valid_until = min(valid_until, lapse)
        return SlotsReply(day.isoformat(), category, out), valid_until

    async def _changing(self, call: Awaitable[T]) -> T:
        """Await a store's mutation; unless the script refused it (an AppError:
        nothing changed), the kept slots replies go before the caller answers."""
        try:
            out = await call
        except AppError:
            raise
        except BaseException:  # it may have run (a lost reply)
            self._changed()
            raise
        self._changed()
        return out

    def _changed(self) -> None:
        """This process changed bookings: its kept slots replies go before it answers."""
        if self.slots_cache is not None:
            self.slots_cache.invalidate()

    async def book(
        self, category: str, start: object, name: object, phone: object, idem: str | None = None, lang: str = "vi"
    ) -> BookingReply:
        """Book a slot; with verify = "otp" hold it OTP_MINUTES for the code
        sent to the phone. The holder is sent the code, or the confirmation
        (and her reminders are booked) before this returns."""
        reply, after = await self.book_deferred(category, start, name, phone, idem, lang)
        if after is not None:
            await after()
        return reply

    async def book_deferred(
        self, category: str, start: object, name: object, phone: object, idem: str | None = None, lang: str = "vi"
    ) -> tuple[BookingReply, Callable[[], Awaitable[None]] | None]:
        """`book`, with the confirmation and the reminders left to the call
        returned (the API runs it after the reply). The booking script noted
        them as still to do (`AppointmentStore.notices_done`): should this
        process die first, a later booking's follow-up or the end-of-day job
        does them (`redo_notices`)."""
        cfg = await self.config.get()
        self._category(cfg, category)
        if not offers_appointments(cfg, cfg.category(category)):
            raise AppError("slot_closed")
        clean = clean_name(name)
        e164 = parse_vn_mobile(phone) if isinstance(phone, str) else None
        if e164 is None:
            raise AppError("invalid_phone")
        slot = self._slot(cfg, category, start, self.clock())
        hold = None
        if cfg.appointments.verify == "otp":
            if self.limiter is not None:
                await self.limiter.check(
                    "otp-send", self.store.phone_key(e164), OTP_SENDS_PER_PHONE_HOUR, window_ms=HOUR_MS
                )
            hold = OtpHold(new_otp(), int(self.clock().timestamp() * 1000) + OTP_MINUTES * 60_000)
        booked = await self._changing(
            self.store.book(
                slot,
                category,
                name=clean,
                phone=e164,
                per_phone=cfg.appointments.per_phone_per_day,
                keep_personal_days=cfg.appointments.keep_personal_days,
                idem=idem,
                lang=lang,
                otp=hold,
            )
        )
        a = booked.appointment
        reply = self.booking_reply(cfg, a, booked.token)
        if booked.replayed:
            return reply, None
        if hold is not None:  # the code goes out before the reply: the holder waits for it
            await self._notify(
                Message(e164, otp_text(hold.otp, OTP_MINUTES, a.lang), Kind.OTP, a.lang, {"otp": hold.otp}, a.id)
            )
            return reply, None
        token = booked.token

        async def after() -> None:
            await self.confirm(cfg, a, token, e164)
            try:
                left = await self.store.notices_done(a.id, older_than_ms=NOTICES_LEFT_MS)
                for other in left:
                    await self.redo_notices(other)
            except Exception:  # the end-of-day job does what is left
                log.exception("notices left undone not looked at")

        return reply, after

    async def redo_notices(self, appointment_id: str) -> bool:
        """The confirmation and reminders of a booking whose process died
        before doing them: its reminders booked, its holder sent the
        confirmation (without the manage link: its token was never stored;
        the booking's reply had it). False when another caller took them, or
        the booking is no longer booked."""
        if not await self.store.claim_notice(appointment_id):
            return False
        cfg = await self.config.get()
        try:
            a = await self.store.get(appointment_id)
        except AppError:
            return False
        if a.status != AppointmentStatus.BOOKED:
            return False
        await self.schedule_reminders(cfg, a)
        p = await self.store.personal(appointment_id)
        if p is not None:
            start, _ = self._times(cfg, a)
            text = confirmation_text(a.code, start, cfg.site.label(a.lang), "", a.lang)
            await self._notify(Message(p.phone, text, Kind.CONFIRMATION, a.lang, self._data(cfg, a), a.id))
        return True

    async def redo_left_notices(self, older_than_ms: int = 0) -> int:
        """`redo_notices` for every booking whose notices were left undone
        `older_than_ms` (the end-of-day job); how many were done."""
        done = 0
        for appointment_id in await self.store.notices_left(older_than_ms=older_than_ms):
            done += await self.redo_notices(appointment_id)
        return done

    async def verify(self, appointment_id: str, otp: object) -> BookingReply:
        """Book a held booking by the code sent to its phone (OTP_TRIES wrong
        codes, or a code after OTP_MINUTES, release the hold); then the holder
        is sent the confirmation."""
        cfg = await self.config.get()
        if not isinstance(otp, str) or not _OTP_RE.match(otp.strip()):
            raise AppError("invalid_body", detail="“otp”: 6 chữ số / 6 digits", field="otp")
        current = await self.store.get(appointment_id)
        if self.limiter is not None and current.phone_key:
            await self.limiter.check("otp-check", current.phone_key, OTP_CHECKS_PER_PHONE_HOUR, window_ms=HOUR_MS)
        was_booked = current.status == AppointmentStatus.BOOKED
        if not was_booked and self._closed(cfg, self._times(cfg, current)[0].date()):
            raise AppError("slot_closed")  # closed since it was held: the hold lapses
        booked = await self._changing(
            self.store.verify(
                appointment_id, otp.strip(), per_phone=cfg.appointments.per_phone_per_day, max_tries=OTP_TRIES
            )
        )
        if not was_booked:
            p = await self.store.personal(appointment_id)
            if p is not None:
                await self.confirm(cfg, booked.appointment, booked.token, p.phone)
        return self.booking_reply(cfg, booked.appointment, booked.token)

    # -- notices ----------------------------------------------------------------------
    async def _notify(self, message: Message) -> None:
        if self.notifier is not None:
            await self.notifier.send(message)

    def _data(self, cfg: SiteConfig, a: Appointment) -> dict[str, str]:
        start, _ = self._times(cfg, a)
        return {"code": a.code, "time": when(start, a.lang), "place": cfg.site.label(a.lang)}

    async def confirm(self, cfg: SiteConfig, a: Appointment, token: str, phone: str) -> None:
        """Send the holder her booking's code, time, place and manage link, and
        book its reminders."""
        await self.schedule_reminders(cfg, a)
        start, _ = self._times(cfg, a)
        manage, _ = self._urls(cfg, a, token)
        place = cfg.site.label(a.lang)
        text = confirmation_text(a.code, start, place, manage, a.lang)
        await self._notify(Message(phone, text, Kind.CONFIRMATION, a.lang, self._data(cfg, a), a.id))

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
        a = await self._changing(self.store.cancel(appointment_id, token=token, before_ms=before, hold_ms=hold))
        await self.cancel_reminders(cfg, a.id)
        return await self._reply(cfg, a)

    async def move(self, appointment_id: str, token: str, start: object) -> AppointmentReply:
        cfg = await self.config.get()
        current = await self._held(appointment_id, token)
        slot = self._slot(cfg, current.category, start, self.clock())
        before, hold = self._limits(cfg)
        a = await self._changing(
            self.store.move(
                appointment_id,
                slot,
                token=token,
                per_phone=cfg.appointments.per_phone_per_day,
                keep_personal_days=cfg.appointments.keep_personal_days,
                before_ms=before,
                hold_ms=hold,
            )
        )
        if a.start_ms != current.start_ms:
            await self.schedule_reminders(cfg, a)
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

    # -- reminders --------------------------------------------------------------------
    @staticmethod
    def reminder_job_id(cfg: SiteConfig, appointment_id: str, which: str) -> str:
        return f"remind-{cfg.site.id}-{appointment_id}-{which}"

    def reminder_times(self, cfg: SiteConfig, a: Appointment) -> dict[str, datetime]:
        """When the reminders of `a` go out, in the site's zone: the day before
        at 16:00 and an hour before the slot; those already past are left out."""
        start, _ = self._times(cfg, a)
        tz = cfg.site.tz
        times = {
            "eve": datetime.combine(start.date() - timedelta(days=1), EVE_AT, tzinfo=tz),
            "hour": start - timedelta(hours=1),
        }
        now = self.clock()
        return {k: v for k, v in times.items() if v > now}

    async def schedule_reminders(self, cfg: SiteConfig, a: Appointment) -> None:
        """(Re)book the reminder jobs of `a`; a reminder no longer due is dropped.
        Each job carries the slot it reminds of, and sends nothing if the
        booking has since been cancelled or moved."""
        if self.jobs is None:
            return
        due = self.reminder_times(cfg, a)
        jobs = self.jobs
        calls = []
        for which in REMINDERS:
            job_id = self.reminder_job_id(cfg, a.id, which)
            if which in due:
                calls.append(jobs.schedule(due[which], REMIND_JOB, cfg.site.id, a.id, a.start_ms, job_id=job_id))
            else:
                calls.append(jobs.cancel(job_id))
        try:
            await asyncio.gather(*calls)  # side by side: the booking's reply waits for one round, not two
        except Exception:  # the booking stands; only its reminder is missing
            log.exception("reminders of %s not scheduled", a.id)

    async def cancel_reminders(self, cfg: SiteConfig, appointment_id: str) -> None:
        """Delete the reminder jobs (one left behind sends nothing: `remind` checks the booking)."""
        if self.jobs is None:
            return
        try:
            await asyncio.gather(*(self.jobs.cancel(self.reminder_job_id(cfg, appointment_id, w)) for w in REMINDERS))
        except Exception:
            log.exception("reminders of %s not deleted (they will find it cancelled)", appointment_id)

    async def remind(self, appointment_id: str, start_ms: int) -> bool:
        """The reminder job: send the holder a reminder of the slot at `start_ms`,
        unless the booking is gone, no longer booked, or moved to another slot."""
        cfg = await self.config.get()
        try:
            a = await self.store.get(appointment_id)
        except AppError:
            return False
        if a.status != AppointmentStatus.BOOKED or a.start_ms != start_ms:
            return False
        p = await self.store.personal(appointment_id)
        if p is None:
            return False
        start, _ = self._times(cfg, a)
        text = reminder_text(a.code, start, cfg.site.label(a.lang), a.lang)
        await self._notify(Message(p.phone, text, Kind.REMINDER, a.lang, self._data(cfg, a), a.id))
        return True

    # -- closures added later ---------------------------------------------------------
    @staticmethod
    def _closed(cfg: SiteConfig, day: date) -> bool:
        holidays = is_public_holiday if cfg.hours.public_holidays else (lambda d: False)
        return not sessions_on(day, cfg.hours, holidays)

    async def cancel_for_closures(self, old: SiteConfig, new: SiteConfig, actor: str) -> list[str]:
        """The days `new` closes that `old` kept open (a closure added, a swapped
        working day taken back, holidays switched on): their bookings are
        cancelled, one script each (an appointment_cancel event each, by
        `actor`), their reminders deleted and their holders told. Their ids."""
        tz = new.site.tz
        today = self.clock().astimezone(tz).date()
        horizon = max(old.appointments.days_ahead, new.appointments.days_ahead) + 1
        cancelled: list[str] = []
        for offset in range(horizon + 1):
            day = today + timedelta(days=offset)
            if not self._closed(new, day) or self._closed(old, day):
                continue
            for a, p in await self.store.day(day.strftime("%Y%m%d")):
                if a.status != AppointmentStatus.BOOKED:
                    continue  # an unverified hold cannot be verified on a closed day (verify) and lapses
                try:
                    done = await self._changing(
                        self.store.cancel(a.id, token=None, clerk=actor, before_ms=0, hold_ms=0)
                    )
                except AppError as e:
                    if e.code in ("appointment_not_booked", "appointment_not_found"):
                        continue  # checked in or cancelled meanwhile
                    raise
                cancelled.append(done.id)
                await self.cancel_reminders(new, done.id)
                await self.audit.record(actor, "appointment_cancel", done.code, appointment=done.id, reason="closure")
                if p is not None:
                    start, _ = self._times(new, done)
                    text = closure_text(done.code, start, new.site.label(done.lang), done.lang)
                    await self._notify(
                        Message(p.phone, text, Kind.CANCELLED, done.lang, self._data(new, done), done.id)
                    )
        return cancelled

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
        a = await self._changing(
            self.store.cancel(appointment_id, token=None, clerk=actor, before_ms=before, hold_ms=hold)
        )
        await self.cancel_reminders(cfg, a.id)
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
            r = await self._changing(
                self.store.check_in(
                    a,
                    prefix=cat.prefix,
                    day=service_day(int(now.timestamp() * 1000), cfg.site.tz),
                    early_ms=appts.checkin_early_minutes * 60_000,
                    late_ms=appts.checkin_late_minutes * 60_000,
                    device=device_id or "",
                    clerk="" if device_id else actor,
                    idem=idem,
                )
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
        return await self._changing(
            self.store.sweep_no_shows(
                d.strftime("%Y%m%d"), late_ms=cfg.appointments.checkin_late_minutes * 60_000, clerk=actor
            )
        )
