import copy

import pytest

from queue_server.domain.config import ConfigError, load_toml, parse_config


def base():
    return copy.deepcopy(load_toml(None).to_dict())


def test_shipped_default_is_a_commune_desk():
    cfg = load_toml(None)
    assert cfg.site.timezone == "Asia/Ho_Chi_Minh"
    assert cfg.site.seats == 10
    assert len(cfg.counters) == 5
    assert 5 <= len(cfg.categories) <= 8
    assert cfg.category("HT").name == "Hộ tịch"
    assert [str(s) for s in cfg.hours.weekly["mon"]] == ["07:30-11:30", "13:30-17:00"]
    assert cfg.hours.weekly["sat"] == ()
    # every category has a distinct prefix, a target and a service time
    assert len({c.prefix for c in cfg.categories}) == len(cfg.categories)
    assert all(c.target_wait_min > 0 and c.service_min > 0 for c in cfg.categories)


def test_round_trip_through_dict():
    cfg = load_toml(None)
    assert parse_config(cfg.to_dict()) == cfg


def problems(d):
    with pytest.raises(ConfigError) as e:
        parse_config(d)
    return {p.field: p for p in e.value.problems}


def test_errors_name_the_field_in_vietnamese():
    d = base()
    d["categories"][1]["prefix"] = "A"  # duplicate of Hộ tịch's
    d["counters"][0]["categories"] = ["HT", "ZZ"]  # unknown category
    d["hours"]["mon"] = ["11:30-07:30"]
    d["site"]["timezone"] = "Mars/Olympus"
    d["site"]["seats"] = -1
    got = problems(d)
    assert "trùng" in got["categories[1].prefix"].vi
    assert "ZZ" in got["counters[0].categories"].vi
    assert "kết thúc" in got["hours.mon[0]"].vi
    assert "múi giờ" in got["site.timezone"].vi
    assert "site.seats" in got


def test_overlapping_sessions_and_uncovered_category():
    d = base()
    d["hours"]["tue"] = ["07:30-11:30", "11:00-12:00"]
    for c in d["counters"]:
        c["categories"] = [x for x in c["categories"] if x != "DD"]
    got = problems(d)
    assert "chồng nhau" in got["hours.tue"].vi
    assert any("DD" in p.vi for p in got.values() if p.field == "counters")


def test_wrong_types_are_reported_not_crashed():
    d = base()
    d["categories"][0]["target_wait_min"] = "fifteen"
    d["counters"][0]["number"] = True
    d["queue"]["rating_scale"] = 4
    got = problems(d)
    assert "categories[0].target_wait_min" in got
    assert "counters[0].number" in got
    assert "queue.rating_scale" in got
    with pytest.raises(ConfigError):
        parse_config([])  # not a table at all


def test_print_max_age_default_and_bounds():
    """Issue #13: how old a first print may be and still print (seconds)."""
    assert parse_config(base()).queue.print_max_age_s == 60
    d = base()
    d["queue"]["print_max_age_s"] = 120
    assert parse_config(d).queue.print_max_age_s == 120
    for bad in (0, 2, 100_000, "soon"):
        d = base()
        d["queue"]["print_max_age_s"] = bad
        assert "queue.print_max_age_s" in problems(d), bad
