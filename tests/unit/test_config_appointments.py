"""[appointments] and the categories' appointment fields (issue #10)."""

from __future__ import annotations

import copy
from datetime import time

import pytest

from queue_server.domain.config import Appointments, ConfigError, load_toml, parse_config


def base():
    return copy.deepcopy(load_toml(None).to_dict())


def problems(d):
    with pytest.raises(ConfigError) as e:
        parse_config(d)
    return {p.field: p for p in e.value.problems}


def test_defaults_of_the_issue():
    a = Appointments()
    assert (a.slot_minutes, a.days_ahead, a.book_until_minutes, a.per_phone_per_day) == (15, 6, 60, 2)
    assert (a.checkin_early_minutes, a.checkin_late_minutes, a.verify) == (30, 15, "none")
    assert (a.keep_personal_days, a.reserve_walk_in_share) == (30, 0.5)
    d = base()
    del d["appointments"]
    for c in d["categories"]:
        c.pop("appointment_capacity", None)
        c.pop("last_slot", None)
    cfg = parse_config(d)
    assert cfg.appointments == Appointments()
    assert all(c.appointment_capacity == 0 and c.last_slot is None for c in cfg.categories)


def test_shipped_default_declares_them_and_round_trips():
    cfg = load_toml(None)
    assert cfg.appointments.slot_minutes == 15 and cfg.appointments.enabled is False
    assert cfg.category("HT").appointment_capacity == 2
    assert cfg.category("CT").last_slot == time(15, 0)
    assert cfg.category("DD").appointment_capacity == 0
    assert parse_config(cfg.to_dict()) == cfg
    assert cfg.to_dict()["categories"][1]["last_slot"] == "15:00"
    assert "last_slot" not in cfg.to_dict()["categories"][0]  # TOML has no null
    assert "appointments" not in cfg.extra


def test_values_are_read():
    d = base()
    d["appointments"] = {"enabled": True, "slot_minutes": 30, "verify": "otp", "reserve_walk_in_share": 0.25}
    d["categories"][0]["appointment_capacity"] = 5
    d["categories"][0]["last_slot"] = "10:45"
    cfg = parse_config(d)
    assert cfg.appointments.enabled and cfg.appointments.slot_minutes == 30 and cfg.appointments.verify == "otp"
    assert cfg.appointments.reserve_walk_in_share == 0.25 and cfg.appointments.per_phone_per_day == 2
    assert cfg.categories[0].appointment_capacity == 5 and cfg.categories[0].last_slot == time(10, 45)


@pytest.mark.parametrize(
    "key,value,words",
    [
        ("enabled", "yes", "true hoặc false"),
        ("slot_minutes", 0, "khoảng"),
        ("slot_minutes", 7, "chia hết 60"),
        ("slot_minutes", 15.5, "số nguyên"),
        ("days_ahead", -1, "khoảng"),
        ("book_until_minutes", "60", "số nguyên"),
        ("per_phone_per_day", 0, "khoảng"),
        ("checkin_early_minutes", 1000, "khoảng"),
        ("checkin_late_minutes", True, "số nguyên"),
        ("verify", "sms", "none"),
        ("keep_personal_days", 0, "khoảng"),
        ("reserve_walk_in_share", 1.5, "khoảng"),
        ("reserve_walk_in_share", "half", "phải là số"),
        ("release_delay_minutes", -5, "khoảng"),
    ],
)
def test_bad_values_name_the_field_in_both_languages(key, value, words):
    d = base()
    d["appointments"][key] = value
    got = problems(d)
    p = got[f"appointments.{key}"]
    assert words in p.vi and p.en


def test_bad_category_fields():
    d = base()
    d["categories"][0]["appointment_capacity"] = -1
    d["categories"][1]["appointment_capacity"] = 2.5
    d["categories"][2]["last_slot"] = "25:00"
    d["categories"][3]["last_slot"] = 1500
    got = problems(d)
    assert "khoảng" in got["categories[0].appointment_capacity"].vi
    assert "số nguyên" in got["categories[1].appointment_capacity"].vi
    assert "15:00" in got["categories[2].last_slot"].vi and "invalid time" in got["categories[2].last_slot"].en
    assert "categories[3].last_slot" in got


def test_appointments_must_be_a_table():
    d = base()
    d["appointments"] = ["enabled"]
    assert "bảng" in problems(d)["appointments"].vi
