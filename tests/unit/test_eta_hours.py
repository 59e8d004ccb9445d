from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from queue_server.domain.config import load_toml
from queue_server.domain.eta import clamp_service_sample, estimate_wait_minutes, rolling_average
from queue_server.domain.holidays import is_public_holiday
from queue_server.domain.hours import is_open, is_working_day, next_opening

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
HOURS = load_toml(None).hours


def test_eta():
    assert estimate_wait_minutes(0, 8 * 60_000, 2) == 0
    assert estimate_wait_minutes(4, 6 * 60_000, 2) == 12
    assert estimate_wait_minutes(1, 30_000, 3) == 1  # never "0 minutes" with someone ahead
    assert estimate_wait_minutes(3, 10 * 60_000, 0) == 30  # no open counter: counts as one


def test_rolling_average_and_clamp():
    assert rolling_average(None, 100) == 100
    assert rolling_average(100, 200) == 120
    assert clamp_service_sample(1_000, 600_000) == 60_000
    assert clamp_service_sample(10_000_000, 600_000) == 3_600_000


def local(y, m, d, hh, mm):
    return datetime(y, m, d, hh, mm, tzinfo=HCM)


def test_sessions_and_lunch_break():
    # Wednesday 25 Nov 2026
    assert is_open(local(2026, 11, 25, 7, 30), HOURS, HCM)
    assert not is_open(local(2026, 11, 25, 7, 29), HOURS, HCM)
    assert not is_open(local(2026, 11, 25, 12, 0), HOURS, HCM)
    assert is_open(local(2026, 11, 25, 16, 59), HOURS, HCM)
    assert not is_open(local(2026, 11, 25, 17, 0), HOURS, HCM)
    assert not is_open(local(2026, 11, 28, 9, 0), HOURS, HCM)  # Saturday


def test_holidays_and_closures():
    assert is_public_holiday(date(2026, 9, 2))
    assert not is_working_day(date(2026, 9, 2), HOURS, is_public_holiday)
    assert not is_working_day(date(2026, 4, 27), HOURS)  # substitute day listed in closures
    assert is_working_day(date(2026, 9, 3), HOURS, is_public_holiday)


def test_next_opening_after_lunch_weekend_and_tet():
    assert next_opening(local(2026, 11, 25, 12, 0), HOURS, HCM) == local(2026, 11, 25, 13, 30)
    # Friday evening -> Monday morning
    assert next_opening(local(2026, 11, 27, 17, 5), HOURS, HCM) == local(2026, 11, 30, 7, 30)
    # during Tết 2026 (16–20 Feb) the next opening is Monday 23 Feb
    got = next_opening(local(2026, 2, 16, 9, 0), HOURS, HCM, is_public_holiday)
    assert got == local(2026, 2, 23, 7, 30)
    assert got.astimezone(UTC).hour == 0
