"""The waiting-room model (domain/room.py): the people predicted in the
room, when it is full, and the come-back time of a new ticket."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from queue_server.domain.config import ConfigError, load_toml, parse_config
from queue_server.domain.room import (
    RoomRules,
    arrivals_per_minute,
    calls_per_minute,
    come_back_at,
    mean_service_ms,
    near_text,
    predicted_in_room,
    room_state,
    round_down,
    turn_near,
)

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
MIN = 60_000


def at(hh: int, mm: int, ss: int = 0) -> int:
    return int(datetime(2026, 12, 1, hh, mm, ss, tzinfo=HCM).timestamp() * 1000)


def test_the_prediction_is_the_peak_of_the_line_over_the_horizon():
    # arrivals outrun the counters: the end of the horizon
    assert predicted_in_room(8, arrivals=1.0, calls=0.6, horizon_min=15) == 14
    # the counters win: the room now
    assert predicted_in_room(8, arrivals=0.2, calls=0.6, horizon_min=15) == 8
    assert predicted_in_room(0, arrivals=0.0, calls=1.0, horizon_min=15) == 0
    # a part of a person stands too
    assert predicted_in_room(10, arrivals=0.51, calls=0.5, horizon_min=15) == 11


def test_rates_from_recent_issues_and_open_counters():
    now = at(9, 0)
    issues = [now - k * MIN for k in range(0, 45, 3)]  # one every 3 minutes for 45 minutes
    assert arrivals_per_minute(issues, now, 30) == pytest.approx(10 / 30)
    assert arrivals_per_minute([now + MIN], now, 30) == 0  # the future is not an arrival
    # 5 counters, 10-minute services: half a person a minute
    assert calls_per_minute(5, 10 * MIN) == pytest.approx(0.5)
    assert calls_per_minute(0, 10 * MIN) == 0
    # the service time of those waiting: weighted by how many wait
    assert mean_service_ms({"HT": 3, "DD": 1}, {"HT": 8 * MIN, "DD": 16 * MIN, "CT": 5 * MIN}) == 10 * MIN
    assert mean_service_ms({}, {"HT": 8 * MIN, "DD": 16 * MIN}) == 12 * MIN


def test_full_above_the_threshold_only():
    rules = RoomRules()
    assert not room_state(rules, 10, 10, 0, 0.0, 0.5).full  # 10 people on 10 seats: seated
    s = room_state(rules, 10, 9, 2, 1.0, 0.5)  # 9 + 0.5/min over 15 min
    assert s.predicted == 17 and s.full and s.limit == 10 and s.away == 2
    assert s.to_dict()["taken"] == 9
    assert not room_state(RoomRules(threshold=20), 10, 9, 0, 1.0, 0.5).full
    assert not room_state(RoomRules(enabled=False), 10, 30, 0, 1.0, 0.5).full
    assert not room_state(rules, 0, 30, 0, 1.0, 0.5).full  # no seats configured: no room model


def test_come_back_is_the_call_less_the_margin_rounded_down_to_five_minutes_local():
    now = at(9, 47, 20)
    # called in about 63 min (10:50:20), 10 min margin: 10:40:20 -> 10:40
    back = come_back_at(now, 63, 10, HCM)
    assert back is not None and f"{back:%H:%M}" == "10:40" and back.tzinfo is not None
    assert back.utcoffset().total_seconds() == 7 * 3600
    # always before the predicted call by the margin at least
    for eta in range(25, 200, 7):
        b = come_back_at(now, eta, 10, HCM)
        assert b is not None
        assert b.timestamp() * 1000 <= now + (eta - 10) * MIN
        assert b.minute % 5 == 0 and b.second == 0
    # too close to be worth leaving: she waits
    assert come_back_at(now, 15, 10, HCM) is None
    assert round_down(datetime(2026, 12, 1, 10, 44, 59, tzinfo=HCM)).minute == 40


def test_turn_near_and_its_words():
    assert turn_near("waiting", 3, 3) and turn_near("waiting", 0, 3)
    assert not turn_near("waiting", 4, 3) and not turn_near("called", 0, 3) and not turn_near("waiting", 0, 0)
    assert near_text(3) == "Sắp đến lượt bạn: còn 3 người"
    assert near_text(0) == "Sắp đến lượt bạn: bạn là người tiếp theo"
    assert near_text(2, "en") == "Your turn is near: 2 people before you"


def test_room_settings_parse_and_round_trip():
    cfg = load_toml(None)
    assert cfg.site.seats == 10 and cfg.room.warn_ahead == 3 and cfg.room.margin_minutes == 10
    assert cfg.room.come_back("10:40") == "Vui lòng quay lại lúc khoảng 10:40"
    assert cfg.room.come_back("10:40", "en") == "Please come back at about 10:40"
    assert cfg.room.full() == "Phòng chờ đã đủ chỗ – mời quay lại theo giờ trên phiếu"
    d = cfg.to_dict()
    assert parse_config(d) == cfg
    d["room"] = {**d["room"], "seats": 12, "warn_ahead": 5, "come_back_text": "Mời quay lại lúc {time}"}
    c2 = parse_config(d)
    assert c2.site.seats == 12 and c2.room.warn_ahead == 5 and c2.room.come_back("11:05") == "Mời quay lại lúc 11:05"
    bad = cfg.to_dict()
    bad["room"] = {"warn_ahead": -1, "come_back_text": "không có giờ", "horizon_minutes": "x"}
    with pytest.raises(ConfigError) as e:
        parse_config(bad)
    fields = {p.field for p in e.value.problems}
    assert fields == {"room.warn_ahead", "room.come_back_text", "room.horizon_minutes"}
