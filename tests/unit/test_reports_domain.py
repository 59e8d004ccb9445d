"""The report definitions of domain/reports.py on hand-made event stories."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from queue_server.domain.reports import (
    DEFINITIONS,
    Filters,
    bucket_of,
    definitions_text,
    quantile,
    stats,
    summarize,
)

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = date(2026, 11, 25)
T0 = int(datetime(2026, 11, 25, 8, 0, tzinfo=HCM).timestamp() * 1000)
MIN = 60_000
TARGETS = {"HT": 15 * 60.0, "CT": 10 * 60.0}


def ev(type_, at_min, ticket=None, **kw):
    e = {"type": type_, "ts": T0 + int(at_min * MIN)}
    if ticket:
        e["ticket"] = ticket
    e.update(kw)
    return e


def issue(at, t, cat="HT", source="walk_in"):
    return ev("issue", at, t, category=cat, source=source, counter=None, clerk="")


def call(at, t, counter=1, clerk="an"):
    return ev("call", at, t, counter=counter, clerk=clerk)


def summary(events, **kw):
    return summarize(events, start=DAY, end=DAY, tz=HCM, targets_s=TARGETS, **kw)


def test_quantiles_interpolate_linearly_like_numpy():
    v = [1.0, 2.0, 3.0, 4.0, 10.0]
    assert quantile(v, 0.5) == 3.0
    assert quantile(v, 0.9) == pytest.approx(7.6)  # numpy.percentile(v, 90)
    assert quantile([5.0], 0.9) == 5.0
    assert quantile([], 0.5) is None
    assert stats([4, 1, 3, 2]) == {"mean": 2.5, "median": 2.5, "p90": pytest.approx(3.7), "max": 4.0}
    assert stats([])["mean"] is None


def test_buckets_include_the_lower_bound_only():
    assert [bucket_of(s) for s in (0, 299.9, 300, 899, 900, 1800, 3599, 3600, 99999)] == [
        "0-5",
        "0-5",
        "5-15",
        "5-15",
        "15-30",
        "30-60",
        "30-60",
        "60+",
        "60+",
    ]


def test_wait_runs_to_the_last_call_before_done_and_recall_is_not_a_call():
    events = [
        issue(0, "a"),
        call(10, "a", counter=1, clerk="an"),
        ev("recall", 12, "a"),
        ev("no_show", 13, "a"),
        ev("requeue", 20, "a"),
        call(25, "a", counter=2, clerk="binh"),
        ev("recall", 26, "a"),
        ev("done", 30, "a"),
    ]
    s = summary(events)
    assert s["totals"] == {"issued": 1, "served": 1, "no_show": 0, "expired": 0, "transferred": 0}
    assert s["wait_s"]["mean"] == 25 * 60
    assert s["service_s"]["mean"] == 5 * 60
    assert s["by_counter"][0]["counter"] == 2 and s["by_clerk"][0]["clerk"] == "binh"
    assert s["service_level"] == 0.0  # 25 min > the 15 min target
    assert s["wait_buckets"]["15-30"] == 1


def test_outcomes_transfers_and_the_period():
    events = [
        issue(0, "a"),
        call(5, "a"),
        ev("no_show", 6, "a"),  # final: no-show
        issue(1, "b", cat="CT"),
        call(3, "b"),
        ev("transfer", 4, "b", from_category="CT", to_category="HT"),
        call(9, "b", counter=3),
        ev("done", 12, "b"),
        issue(2, "c"),
        ev("expire", 600, "c"),
        ev("issue", -24 * 60, "old", category="HT", source="walk_in"),  # the day before
        ev("done", 1, "old"),
        ev("done", 2, "unknown"),
    ]
    s = summary(events)
    assert s["totals"] == {"issued": 3, "served": 1, "no_show": 1, "expired": 1, "transferred": 1}
    # b counts under its issue category, served at counter 3, wait 8 min <= CT's 10
    assert s["by_category"][0]["category"] == "CT" and s["by_category"][0]["served"] == 1
    assert s["service_level"] == 1.0
    assert [r["counter"] for r in s["by_counter"]] == [1, 3]
    assert [r["hour"] for r in s["by_hour"]] == [8]


def test_an_appointment_waits_from_the_later_of_check_in_and_slot():
    slot = T0 + 30 * MIN
    events = [
        ev("appointment_book", -3000, None, appointment="p1", category="HT", start=slot),
        ev("appointment_checkin", 10, "t1", appointment="p1", category="HT", start=slot, late=False),
        issue(10, "t1", source="appointment"),
        call(35, "t1"),
        ev("done", 40, "t1"),
        ev("appointment_book", -3000, None, appointment="p2", category="HT", start=slot),
        ev("appointment_cancel", -100, None, appointment="p2", category="HT", start=slot),
        ev("appointment_book", -3000, None, appointment="p3", category="HT", start=slot),
        ev("appointment_checkin", 50, "t3", appointment="p3", category="HT", start=slot, late=True),
        issue(50, "t3", source="walk_in"),
        call(60, "t3"),
        ev("done", 61, "t3"),
        ev("appointment_book", -3000, None, appointment="p4", category="CT", start=slot),
        ev("appointment_no_show", 600, None, appointment="p4", category="CT", start=slot),
        issue(0, "w"),
    ]
    s = summary(events)
    assert s["wait_s"]["max"] == 10 * 60  # t1: 35 - 30 (slot); t3 (late): 60 - 50
    assert sorted(r["wait_s"]["mean"] for r in s["by_category"]) == [7.5 * 60]
    assert s["appointments"] == {
        "booked": 4,
        "cancelled": 1,
        "checked_in_on_time": 1,
        "checked_in_late": 1,
        "checked_in": 2,
        "no_show": 1,
        "online_share": 1 / 3,
    }
    assert s["by_source"] == {"appointment": 1, "walk_in": 2}
    assert summary(events, filters=Filters(category="CT"))["appointments"]["booked"] == 1


def test_ratings_per_level_and_the_satisfied_share_of_each_scale():
    events = [issue(0, "a"), issue(1, "b"), issue(2, "c"), issue(3, "d")]
    events += [
        ev("rating", 10, "a", level=3, scale=3),
        ev("rating", 10, "b", level=2, scale=3),
        ev("rating", 10, "c", level=1, scale=3),
        ev("rating", 10, "d", level=3, scale=5),
    ]
    r = summary(events)["ratings"]
    assert r["count"] == 4
    assert r["by_level"] == {"1": 1, "2": 1, "3": 2, "4": 0, "5": 0}
    assert r["satisfied_share"] == 0.5


def test_filters_keep_tickets_by_category_counter_clerk_and_source():
    events = [
        issue(0, "a"),
        call(1, "a", counter=1, clerk="an"),
        ev("done", 2, "a"),
        issue(0, "b", cat="CT", source="appointment"),
        call(1, "b", counter=2, clerk="binh"),
        ev("done", 2, "b"),
    ]
    assert summary(events, filters=Filters(counter=2))["totals"]["issued"] == 1
    assert summary(events, filters=Filters(clerk="an"))["by_clerk"][0]["clerk"] == "an"
    assert summary(events, filters=Filters(source="appointment"))["by_category"][0]["category"] == "CT"
    assert summary(events, filters=Filters(category="XX"))["totals"]["issued"] == 0


def test_daily_rows_and_the_empty_period():
    s = summary([issue(0, "a")], daily=True)
    assert s["by_category_day"][0]["day"] == "2026-11-25" and s["by_category_day"][0]["category"] == "HT"
    e = summary([])
    assert e["service_level"] is None and e["ratings"]["satisfied_share"] is None
    assert e["appointments"]["online_share"] is None


def test_definitions_are_bilingual():
    assert all(vi and en and vi != en for _, vi, en in DEFINITIONS)
    assert "lần gọi (call) cuối cùng" in definitions_text("vi")
    assert "last call before its done" in definitions_text("en")


def test_the_readme_prints_every_definition():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    for _, vi, en in DEFINITIONS:
        assert vi in readme and en in readme


def test_a_period_in_the_words_of_a_report_title():
    from datetime import date

    from queue_server.domain.reports import period_words

    assert period_words(date(2026, 10, 1), date(2026, 12, 31)) == "Quý IV năm 2026"
    assert period_words(date(2026, 1, 1), date(2026, 3, 31)) == "Quý I năm 2026"
    assert period_words(date(2026, 12, 1), date(2026, 12, 31)) == "Tháng 12 năm 2026"
    assert period_words(date(2026, 2, 1), date(2026, 2, 28)) == "Tháng 2 năm 2026"
    assert period_words(date(2026, 1, 1), date(2026, 6, 30)) == "6 tháng đầu năm 2026"
    assert period_words(date(2026, 7, 1), date(2026, 12, 31)) == "6 tháng cuối năm 2026"
    assert period_words(date(2026, 1, 1), date(2026, 12, 31)) == "Năm 2026"
    assert period_words(date(2026, 12, 1), date(2026, 12, 1)) == "Ngày 01/12/2026"
    assert period_words(date(2026, 10, 1), date(2026, 10, 15)) == "Từ ngày 01/10/2026 đến ngày 15/10/2026"
    assert period_words(date(2026, 2, 1), date(2026, 4, 30)) == "Từ ngày 01/02/2026 đến ngày 30/04/2026"


def test_the_previous_period_has_as_many_days_and_ends_the_day_before():
    from datetime import date

    from queue_server.domain.reports import previous_period

    assert previous_period(date(2026, 11, 1), date(2026, 11, 30)) == (date(2026, 10, 2), date(2026, 10, 31))
    assert previous_period(date(2026, 12, 1), date(2026, 12, 1)) == (date(2026, 11, 30), date(2026, 11, 30))
    assert previous_period(date(2026, 1, 1), date(2026, 3, 31)) == (date(2025, 10, 3), date(2025, 12, 31))


def test_the_closed_month_and_quarter_and_their_names():
    from datetime import date

    from queue_server.domain.reports import Periodic, closed_periods, parse_periodic_name

    m, q = closed_periods(date(2026, 12, 1))
    assert (m.label(), q.label()) == ("Tháng 11/2026", "Quý III/2026")
    assert (m.start, m.end, q.start, q.end) == (
        date(2026, 11, 1),
        date(2026, 11, 30),
        date(2026, 7, 1),
        date(2026, 9, 30),
    )
    m, q = closed_periods(date(2027, 1, 1))
    assert (m.label(), q.label(), q.label("en")) == ("Tháng 12/2026", "Quý IV/2026", "Q4 2026")
    assert (q.name, q.start, q.end) == ("quy-2026-04", date(2026, 10, 1), date(2026, 12, 31))
    m, q = closed_periods(date(2026, 3, 31))
    assert (m.name, q.name, m.end) == ("thang-2026-02", "quy-2025-04", date(2026, 2, 28))
    assert closed_periods(date(2026, 4, 1))[1] == Periodic("quarter", 2026, 1)
    for p in (Periodic("month", 2026, 1), Periodic("month", 2026, 12), Periodic("quarter", 2026, 2)):
        assert parse_periodic_name(p.name) == p
    for bad in ("thang-2026-13", "quy-2026-05", "quy-2026-00", "thang-2026-1", "nam-2026-01", "thang-2026-01.pdf"):
        assert parse_periodic_name(bad) is None
