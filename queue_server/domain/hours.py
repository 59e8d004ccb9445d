"""Opening hours: sessions per weekday, holidays and closures."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from queue_server.domain.config import WEEKDAYS, Hours, Session

HolidayLookup = Callable[[date], bool]


def _no_holidays(_: date) -> bool:
    return False


def is_working_day(day: date, hours: Hours, is_holiday: HolidayLookup = _no_holidays) -> bool:
    if day in hours.extra_open_days:
        return True
    if day in hours.closures:
        return False
    if hours.public_holidays and is_holiday(day):
        return False
    return bool(hours.weekly.get(WEEKDAYS[day.weekday()]))


def sessions_on(day: date, hours: Hours, is_holiday: HolidayLookup = _no_holidays) -> tuple[Session, ...]:
    if not is_working_day(day, hours, is_holiday):
        return ()
    sessions = hours.weekly.get(WEEKDAYS[day.weekday()], ())
    if not sessions and day in hours.extra_open_days:
        sessions = hours.weekly.get("mon", ())  # a swapped working day keeps normal hours
    return sessions


def is_open(now: datetime, hours: Hours, tz: ZoneInfo, is_holiday: HolidayLookup = _no_holidays) -> bool:
    local = now.astimezone(tz)
    t = local.time()
    return any(s.start <= t < s.end for s in sessions_on(local.date(), hours, is_holiday))


def next_opening(
    now: datetime, hours: Hours, tz: ZoneInfo, is_holiday: HolidayLookup = _no_holidays, horizon_days: int = 60
) -> datetime | None:
    """The start of the next session after `now` (local time), or None if none within the horizon."""
    local = now.astimezone(tz)
    for offset in range(horizon_days + 1):
        day = local.date() + timedelta(days=offset)
        for s in sessions_on(day, hours, is_holiday):
            start = datetime.combine(day, s.start, tzinfo=tz)
            if start > local:
                return start
    return None
