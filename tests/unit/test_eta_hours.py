from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from queue_server.domain.config import load_toml
from queue_server.domain.eta import (
    CONFIDENT_SAMPLES,
    WINDOW,
    add_sample,
    clamp_service_sample,
    estimate_wait_minutes,
    median_ms,
    service_estimate,
    shared_wait_minutes,
    wait_range_minutes,
)
from queue_server.domain.holidays import is_public_holiday
from queue_server.domain.hours import is_open, is_working_day, next_opening

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
HOURS = load_toml(None).hours


def test_eta():
    assert estimate_wait_minutes(0, 8 * 60_000, 2) == 0
    assert estimate_wait_minutes(4, 6 * 60_000, 2) == 12
    assert estimate_wait_minutes(1, 30_000, 3) == 1  # never "0 minutes" with someone ahead
    assert estimate_wait_minutes(3, 10 * 60_000, 0) == 30  # no open counter: counts as one


def test_clamp_keeps_samples_within_20_to_400_percent_of_the_configured_time():
    assert clamp_service_sample(1_000, 600_000) == 120_000
    assert clamp_service_sample(10_000_000, 600_000) == 2_400_000
    assert clamp_service_sample(450_000, 600_000) == 450_000


def test_one_quick_service_barely_moves_the_estimate():
    # configured 10 min, one 1-minute service: the old rolling average said 1 min
    after = service_estimate(600_000, add_sample([], 60_000, 600_000))
    assert after == (4 * 600_000 + 120_000) // 5 == 504_000  # 8.4 min
    assert service_estimate(600_000, []) == 600_000


def test_the_estimate_follows_a_steady_real_time_and_ignores_one_outlier():
    recent: list[int] = []
    for _ in range(WINDOW):
        recent = add_sample(recent, 300_000, 600_000)  # really 5 min each
    assert len(recent) == WINDOW
    steady = service_estimate(600_000, recent)
    assert steady == (4 * 600_000 + WINDOW * 300_000) // (4 + WINDOW)
    with_outlier = service_estimate(600_000, add_sample(recent, 7_200_000, 600_000))  # one 2-hour visit
    assert with_outlier == steady  # the median did not move
    assert median_ms([1, 3, 2, 10]) == 2 and median_ms([5]) == 5


def test_an_unsure_estimate_is_a_range():
    assert wait_range_minutes(20, samples=0) == (14, 30)
    assert wait_range_minutes(20, samples=CONFIDENT_SAMPLES) is None
    assert wait_range_minutes(0, samples=0) is None


def test_the_wait_counts_the_other_categories_of_the_same_counters():
    service = {"HT": 600_000.0, "CT": 300_000.0, "DD": 900_000.0}
    serves = {1: ("HT", "CT"), 2: ("HT",), 3: ("DD",)}
    # 2 HT ahead on counters 1-2; 4 CT (only counter 1 serves CT: it competes fully)
    ahead = {"HT": 2, "CT": 4, "DD": 5}
    # work: 2 x 10 + 4 x 5 = 40 min over 2 counters; DD's counter is not ours
    assert shared_wait_minutes("HT", ahead, service, serves) == 20
    assert shared_wait_minutes("HT", {"HT": 0, "CT": 4}, service, serves) == 0  # nobody of ours ahead: next
    # a category shared with a counter of ours counts by the share of its counters that are ours
    serves = {1: ("HT", "CT"), 2: ("HT",), 3: ("CT",)}
    assert shared_wait_minutes("HT", ahead, service, serves) == 15  # (20 + 4 x 5 / 2) / 2


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
