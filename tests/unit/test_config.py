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


def test_categories_list_their_common_procedures_in_both_languages():
    """Issue #13 item 4: the kiosk shows a category's common procedures under its name."""
    cfg = load_toml(None)
    ht = cfg.category("HT")
    assert [p.name for p in ht.procedures][:4] == [
        "Đăng ký khai sinh",
        "Đăng ký kết hôn",
        "Xác nhận tình trạng hôn nhân",
        "Đăng ký khai tử",
    ]
    assert ht.procedures[0].label("en") == "Birth registration"
    assert "Chứng thực chữ ký" in [p.name for p in cfg.category("CT").procedures]
    # every shipped category has 2–8 procedures, each named in Vietnamese and English
    for c in cfg.categories:
        assert 2 <= len(c.procedures) <= 8, c.code
        assert all(p.name and p.name_en for p in c.procedures), c.code


def test_procedures_are_optional_and_validated():
    d = base()
    del d["categories"][0]["procedures"]
    d["categories"][1]["procedures"] = ["Chứng thực bản sao"]  # a plain string: Vietnamese only
    cfg = parse_config(d)
    assert cfg.categories[0].procedures == ()
    assert cfg.categories[1].procedures[0].name == "Chứng thực bản sao"
    assert cfg.categories[1].procedures[0].label("en") == "Chứng thực bản sao"
    d = base()
    d["categories"][0]["procedures"] = "Đăng ký khai sinh"
    d["categories"][1]["procedures"] = [{"name_en": "no Vietnamese name"}, 3]
    d["categories"][2]["procedures"] = [{"name": "x" * 101}]
    d["categories"][3]["procedures"] = [f"Thủ tục {i}" for i in range(9)]
    got = problems(d)
    assert "danh sách" in got["categories[0].procedures"].vi
    assert "categories[1].procedures[0].name" in got
    assert "categories[1].procedures[1]" in got
    assert "categories[2].procedures[0].name" in got
    assert "8" in got["categories[3].procedures"].vi
