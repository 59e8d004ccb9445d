"""Appointment slots: which slots a day offers for a category, and how many
places each may sell online.

Pure rules over the site configuration (no Redis). The day's sessions come
from `domain.hours.sessions_on`, the same opening hours, public holidays,
closures and swapped working days the walk-in flow uses: a closed day has no
slots. A session is cut into slots of `slot_minutes` from its start; a slot
must end by the session's end and start no later than the category's
`last_slot`.

Capacity is one budget. A slot sells at most ``min(appointment_capacity,
the hour's budget)`` places, and all the slots that start in one clock hour
share the hour's budget::

    floor((1 - reserve_walk_in_share) * counters serving the category * minutes / service_min)

where `minutes` is 60 for a full hour and, for an hour the sessions only
partly cover (07:30-08:00, 11:00-11:30), the minutes of it that the slots
cover: an hour never offers more online than its counters can serve in it.

Times are aware datetimes in the site's zone (`Site.tz`); booking closes
`book_until_minutes` before a slot, and only today and the `days_ahead`
days after it are offered.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from queue_server.domain.config import Category, SiteConfig
from queue_server.domain.hours import HolidayLookup, sessions_on


def _no_holidays(_: date) -> bool:
    return False


@dataclass(frozen=True)
class Slot:
    start: datetime  # aware, in the site's zone
    end: datetime
    capacity: int  # places per slot: min(appointment_capacity, the hour's budget)
    hour_budget: int  # places the slots of this clock hour share
    bookable: bool  # booking is still open (book_until_minutes before the start)

    @property
    def key(self) -> str:
        """The slot's name in Redis keys: local YYYYMMDDHHMM."""
        return slot_key(self.start)

    @property
    def hour(self) -> str:
        """The clock hour it belongs to, for the hour's budget: local YYYYMMDDHH."""
        return self.start.strftime("%Y%m%d%H")

    @property
    def start_ms(self) -> int:
        return int(self.start.timestamp() * 1000)


def slot_key(start: datetime) -> str:
    return start.strftime("%Y%m%d%H%M")


def serving_counters(cfg: SiteConfig, category: str) -> int:
    """The enabled counters whose work profile includes the category."""
    return sum(1 for c in cfg.counters if c.enabled and category in c.categories)


def hour_budget(cfg: SiteConfig, cat: Category, minutes: int = 60) -> int:
    """Online places of one clock hour of `minutes` open minutes (see the module doc)."""
    share = 1 - cfg.appointments.reserve_walk_in_share
    n = serving_counters(cfg, cat.code)
    # the epsilon keeps 0.5 * 2 * 60 / 8 = 7.5 -> 7 and 0.5 * 2 * 60 / 6 = 10.0 -> 10
    return max(0, math.floor(share * n * minutes / cat.service_min + 1e-9))


def today(now: datetime, tz: ZoneInfo) -> date:
    return now.astimezone(tz).date()


def bookable_days(cfg: SiteConfig, now: datetime) -> tuple[date, date]:
    """The first and last day that may be booked (the site's zone)."""
    first = today(now, cfg.site.tz)
    return first, first + timedelta(days=cfg.appointments.days_ahead)


def offers_appointments(cfg: SiteConfig, cat: Category | None) -> bool:
    return bool(cfg.appointments.enabled and cat is not None and cat.enabled and cat.appointment_capacity > 0)


def day_slots(
    cfg: SiteConfig, category: str, day: date, now: datetime, is_holiday: HolidayLookup = _no_holidays
) -> list[Slot]:
    """The slots of `day` for `category`; none for a closed day, a day
    outside today..today + days_ahead, a category not bookable online or
    appointments switched off. Slots whose booking has closed are listed
    with ``bookable=False``."""
    cat = cfg.category(category)
    if cat is None or not offers_appointments(cfg, cat):
        return []
    first, last = bookable_days(cfg, now)
    if not first <= day <= last:
        return []
    tz = cfg.site.tz
    step = timedelta(minutes=cfg.appointments.slot_minutes)
    closes = timedelta(minutes=cfg.appointments.book_until_minutes)
    starts: list[tuple[datetime, datetime]] = []
    for s in sessions_on(day, cfg.hours, is_holiday):
        t = datetime.combine(day, s.start, tzinfo=tz)
        end = datetime.combine(day, s.end, tzinfo=tz)
        while t + step <= end:
            if cat.last_slot is None or t.time() <= cat.last_slot:
                starts.append((t, t + step))
            t += step
    minutes: dict[str, int] = {}
    for a, b in starts:
        # the open minutes of each clock hour (a slot longer than an hour counts in its first)
        h = a.strftime("%Y%m%d%H")
        minutes[h] = min(60, minutes.get(h, 0) + int((b - a).total_seconds() // 60))
    out = []
    for a, b in starts:
        budget = hour_budget(cfg, cat, minutes[a.strftime("%Y%m%d%H")])
        out.append(
            Slot(
                start=a,
                end=b,
                capacity=min(cat.appointment_capacity, budget),
                hour_budget=budget,
                bookable=now < a - closes,
            )
        )
    return out


def places_left(slot: Slot, in_slot: int, in_hour: int) -> int:
    """Places a slot can still sell, given the places taken in it and in its
    hour (held-back cancelled places count as taken): what
    book_appointment.lua accepts (tests/integration/test_appointments_differential.py)."""
    if not slot.bookable:
        return 0
    return max(0, min(slot.capacity - in_slot, slot.hour_budget - in_hour))


def find_slot(
    cfg: SiteConfig, category: str, start: datetime, now: datetime, is_holiday: HolidayLookup = _no_holidays
) -> Slot | None:
    """The slot of `category` that starts at the instant `start` (any zone), or None."""
    local = start.astimezone(cfg.site.tz)
    for s in day_slots(cfg, category, local.date(), now, is_holiday):
        if s.start == local:
            return s
    return None


def may_change(cfg: SiteConfig, start: datetime, now: datetime) -> bool:
    """A booking may still be cancelled or moved (book_until_minutes before it)."""
    return now < start - timedelta(minutes=cfg.appointments.book_until_minutes)


@dataclass(frozen=True)
class CheckinWindow:
    opens: datetime
    closes: datetime


def checkin_window(cfg: SiteConfig, start: datetime) -> CheckinWindow:
    a = cfg.appointments
    return CheckinWindow(
        start - timedelta(minutes=a.checkin_early_minutes), start + timedelta(minutes=a.checkin_late_minutes)
    )


def iso(t: datetime, tz: ZoneInfo) -> str:
    """ISO 8601 in the site's zone, to the second: 2026-12-02T07:30:00+07:00."""
    return t.astimezone(tz).isoformat(timespec="seconds")


def parse_start(text: str) -> datetime | None:
    """An ISO 8601 instant with its offset (a start without one is refused: None)."""
    try:
        t = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    if t.tzinfo is None or t.utcoffset() is None:
        return None
    if not 2000 <= t.year <= 2999:  # far from any slot; year 1 or 9999 overflow in another zone
        return None
    return t
