from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from queue_server.domain.numbering import format_number, normalize_number, parse_number, service_day

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def test_format():
    assert format_number("A", 1) == "A001"
    assert format_number("A", 15) == "A015"
    assert format_number("B", 999) == "B999"
    assert format_number("B", 1000) == "B1000"
    with pytest.raises(ValueError):
        format_number("A", 0)


def test_parse_and_normalize():
    assert parse_number("a15") == ("A", 15)
    assert normalize_number(" A015 ") == "A015"
    assert normalize_number("15") is None
    assert normalize_number("A0") is None
    assert normalize_number("AB1") is None


def test_day_rolls_over_at_local_midnight():
    # 2026-11-24 16:59:59 UTC is 23:59:59 in Hà Nội; one second later it is the 25th
    before = int(datetime(2026, 11, 24, 16, 59, 59, tzinfo=UTC).timestamp() * 1000)
    assert service_day(before, HCM) == "20261124"
    assert service_day(before + 1000, HCM) == "20261125"
    # 06:00 local on the 25th is still the 24th in UTC
    assert service_day(before + 1000 + 6 * 3600 * 1000, HCM) == "20261125"


def test_only_ascii_letters_and_digits_make_a_number():
    # issue #12: int("¹") raised inside normalize_number -> a 500 on /api/tickets?number=A%C2%B9
    for text in ("A¹", "Ý¹", "A١٢", "Ａ１", "A½", "Đ12", "A1²"):
        assert parse_number(text) is None, text
        assert normalize_number(text) is None, text
    assert normalize_number(" b7 ") == "B007"
