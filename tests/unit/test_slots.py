"""domain/slots.py: the slots of a day, each rule (issue #10)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from queue_server.domain.config import parse_config
from queue_server.domain.holidays import is_public_holiday
from queue_server.domain.slots import (
    bookable_days,
    checkin_window,
    day_slots,
    find_slot,
    hour_budget,
    iso,
    may_change,
    parse_start,
    serving_counters,
)
from tests.helpers import test_config_dict

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
TUE = date(2026, 12, 1)  # a Tuesday
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=TZ)  # Monday morning


def cfg(**appt):
    d = test_config_dict()
    d["appointments"] |= {"enabled": True, **appt}
    d["categories"][0]["appointment_capacity"] = 10  # HT
    return parse_config(d)


def starts(slots):
    return [f"{s.start:%H:%M}" for s in slots]


def test_sessions_cut_into_slots_in_the_site_zone():
    slots = day_slots(cfg(), "HT", TUE, NOW)
    # 07:30-11:30 and 13:30-17:00 in 15-minute slots: 16 + 14
    assert len(slots) == 30
    assert starts(slots)[:3] == ["07:30", "07:45", "08:00"]
    assert starts(slots)[15:17] == ["11:15", "13:30"] and starts(slots)[-1] == "16:45"
    assert all(s.end - s.start == timedelta(minutes=15) for s in slots)
    assert iso(slots[0].start, TZ) == "2026-12-01T07:30:00+07:00"
    assert iso(slots[0].end, TZ) == "2026-12-01T07:45:00+07:00"
    assert slots[0].key == "202612010730" and slots[0].hour == "2026120107"
    assert slots[0].start_ms == int(datetime(2026, 12, 1, 0, 30, tzinfo=ZoneInfo("UTC")).timestamp() * 1000)


def test_slot_length_must_fit_the_session():
    slots = day_slots(cfg(slot_minutes=60), "HT", TUE, NOW)
    # 07:30-11:30: 4 slots; 13:30-17:00: 13:30, 14:30, 15:30 (16:30-17:30 does not fit)
    assert starts(slots) == ["07:30", "08:30", "09:30", "10:30", "13:30", "14:30", "15:30"]


def test_weekend_closure_and_holiday_have_no_slots():
    c = cfg(days_ahead=60)
    assert day_slots(c, "HT", date(2026, 12, 5), NOW) == []  # Saturday
    assert day_slots(c, "HT", date(2026, 12, 6), NOW) == []  # Sunday
    d = test_config_dict()
    d["appointments"] |= {"enabled": True, "days_ahead": 6}
    d["categories"][0]["appointment_capacity"] = 2
    d["hours"]["closures"] = ["2026-12-02"]
    closed = parse_config(d)
    assert day_slots(closed, "HT", date(2026, 12, 2), NOW) == []
    assert day_slots(closed, "HT", date(2026, 12, 3), NOW) != []
    # 2 September 2027 is National Day, a Thursday: closed with the holiday lookup
    national = date(2027, 9, 2)
    far = datetime(2027, 8, 31, 9, 0, tzinfo=TZ)
    assert is_public_holiday(national)
    assert day_slots(closed, "HT", national, far, is_public_holiday) == []
    assert day_slots(closed, "HT", national, far) != []  # the same day without the lookup
    d["hours"]["public_holidays"] = False
    assert day_slots(parse_config(d), "HT", national, far, is_public_holiday) != []


def test_a_swapped_working_saturday_has_the_weekday_slots():
    d = test_config_dict()
    d["appointments"] |= {"enabled": True}
    d["categories"][0]["appointment_capacity"] = 2
    d["hours"]["extra_open_days"] = ["2026-12-05"]
    c = parse_config(d)
    sat = day_slots(c, "HT", date(2026, 12, 5), NOW)
    assert starts(sat) == starts(day_slots(c, "HT", TUE, NOW))


def test_last_slot_of_a_same_day_procedure():
    d = test_config_dict()
    d["appointments"] |= {"enabled": True}
    d["categories"][1] |= {"appointment_capacity": 2, "last_slot": "15:00"}  # CT
    slots = day_slots(parse_config(d), "CT", TUE, NOW)
    assert starts(slots)[-1] == "15:00" and "15:15" not in starts(slots)


def test_booking_closes_book_until_minutes_before():
    c = cfg(book_until_minutes=60)
    slot_930 = datetime(2026, 12, 1, 9, 30, tzinfo=TZ)
    just_open = slot_930 - timedelta(minutes=60, seconds=1)
    closed = slot_930 - timedelta(minutes=60)
    assert find_slot(c, "HT", slot_930, just_open).bookable
    assert not find_slot(c, "HT", slot_930, closed).bookable
    assert may_change(c, slot_930, just_open) and not may_change(c, slot_930, closed)
    listed = day_slots(c, "HT", TUE, closed)
    assert [s.bookable for s in listed][:9] == [False] * 9 and listed[9].bookable  # 07:30 .. 09:30 closed


def test_days_ahead():
    c = cfg(days_ahead=6)
    assert bookable_days(c, NOW) == (date(2026, 11, 30), date(2026, 12, 6))
    assert day_slots(c, "HT", date(2026, 12, 4), NOW) != []  # Friday, 4 days on
    assert day_slots(c, "HT", date(2026, 12, 7), NOW) == []  # Monday, 7 days on
    assert day_slots(c, "HT", date(2026, 11, 27), NOW) == []  # the past
    # "today" is the site's day: 23:30 UTC on the 30th is already 1 December in Hà Nội
    late = datetime(2026, 11, 30, 23, 30, tzinfo=ZoneInfo("UTC"))
    assert bookable_days(c, late)[0] == date(2026, 12, 1)


def test_capacity_is_the_smaller_of_the_category_and_the_hours_budget():
    c = cfg(reserve_walk_in_share=0.5)
    ht = c.category("HT")
    # HT (8 min) is served by counters 1, 2, 3 and 5
    assert serving_counters(c, "HT") == 4
    assert hour_budget(c, ht) == 15  # floor(0.5 * 4 * 60 / 8)
    slots = {f"{s.start:%H:%M}": s for s in day_slots(c, "HT", TUE, NOW)}
    assert slots["08:00"].hour_budget == 15 and slots["08:00"].capacity == 10
    # 07:30-08:00 is half an hour open: half the budget, rounded down
    assert slots["07:30"].hour_budget == 7 and slots["07:30"].capacity == 7
    assert slots["11:15"].hour_budget == 7
    assert hour_budget(c, ht, 30) == 7
    small = cfg()
    d = small.to_dict()
    d["categories"][0]["appointment_capacity"] = 2
    assert {s.capacity for s in day_slots(parse_config(d), "HT", TUE, NOW)} == {2}


def test_walk_in_share_and_counters_change_the_budget():
    ht = cfg().category("HT")
    assert hour_budget(cfg(reserve_walk_in_share=1.0), ht) == 0
    assert hour_budget(cfg(reserve_walk_in_share=0.0), ht) == 30
    assert hour_budget(cfg(reserve_walk_in_share=0.75), ht) == 7  # 0.25 * 4 * 60 / 8 = 7.5
    d = cfg().to_dict()
    for ct in d["counters"]:
        if ct["number"] in (1, 2):
            ct["enabled"] = False
    fewer = parse_config(d)
    assert serving_counters(fewer, "HT") == 2 and hour_budget(fewer, ht) == 7
    none_online = day_slots(cfg(reserve_walk_in_share=1.0), "HT", TUE, NOW)
    assert none_online and {s.capacity for s in none_online} == {0}


def test_not_bookable_categories_and_switched_off():
    c = cfg()
    assert day_slots(c, "DD", TUE, NOW) == []  # appointment_capacity 0
    assert day_slots(c, "ZZ", TUE, NOW) == []
    assert day_slots(cfg(enabled=False), "HT", TUE, NOW) == []
    d = c.to_dict()
    d["categories"][0]["enabled"] = False
    assert day_slots(parse_config(d), "HT", TUE, NOW) == []


def test_find_slot_takes_any_offset_and_only_slot_starts():
    c = cfg()
    utc = datetime(2026, 12, 1, 0, 45, tzinfo=ZoneInfo("UTC"))  # 07:45 in Hà Nội
    s = find_slot(c, "HT", utc, NOW)
    assert s is not None and f"{s.start:%H:%M}" == "07:45" and s.start.tzinfo == TZ
    assert find_slot(c, "HT", datetime(2026, 12, 1, 7, 40, tzinfo=TZ), NOW) is None
    assert find_slot(c, "HT", datetime(2026, 12, 1, 12, 0, tzinfo=TZ), NOW) is None  # lunch


def test_parse_start_needs_an_offset():
    assert parse_start("2026-12-01T07:30:00+07:00") == datetime(2026, 12, 1, 7, 30, tzinfo=TZ)
    assert parse_start("2026-12-01T00:30:00Z") == datetime(2026, 12, 1, 7, 30, tzinfo=TZ)
    assert parse_start("2026-12-01T07:30:00") is None
    assert parse_start("tomorrow") is None and parse_start("") is None
    assert parse_start("0001-01-01T00:00:00+07:00") is None  # would overflow in UTC
    assert parse_start("9999-12-31T23:59:59-07:00") is None


def test_checkin_window():
    c = cfg(checkin_early_minutes=30, checkin_late_minutes=15)
    start = datetime(2026, 12, 1, 9, 0, tzinfo=TZ)
    w = checkin_window(c, start)
    assert (w.opens.time(), w.closes.time()) == (time(8, 30), time(9, 15))
