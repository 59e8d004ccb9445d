"""The supervisor view's alert rules (domain/supervision.py)."""

from __future__ import annotations

from queue_server.domain.supervision import CategoryWait, CounterPause, alerts

NOW = 1_800_000_000_000
MIN = 60_000


def test_a_wait_alerts_only_once_past_its_target():
    cats = [CategoryWait("HT", NOW - 15 * MIN, 15 * MIN), CategoryWait("CT", NOW - 10 * MIN - 1, 10 * MIN)]
    out = alerts(NOW, cats, [], waiting=2, seats=10, pause_alert_ms=15 * MIN)
    assert out == [{"kind": "wait", "category": "CT", "wait_ms": 10 * MIN + 1, "target_ms": 10 * MIN}]
    assert alerts(NOW + 1, cats, [], 2, 10, 15 * MIN)[0]["category"] == "HT"  # HT passes a ms later


def test_an_empty_queue_never_alerts():
    assert alerts(NOW, [CategoryWait("HT", None, MIN)], [], 0, 10, MIN) == []


def test_seats_full_as_the_board_says():
    assert alerts(NOW, [], [], waiting=9, seats=10, pause_alert_ms=MIN) == []
    assert alerts(NOW, [], [], waiting=10, seats=10, pause_alert_ms=MIN) == [
        {"kind": "seats", "waiting": 10, "seats": 10}
    ]
    assert alerts(NOW, [], [], waiting=50, seats=0, pause_alert_ms=MIN) == []  # no seats configured


def test_a_counter_paused_for_long():
    counters = [
        CounterPause(1, "paused", NOW - 15 * MIN),
        CounterPause(2, "paused", NOW - 15 * MIN + 1),
        CounterPause(3, "open", NOW - 60 * MIN),
        CounterPause(4, "paused", None),
    ]
    out = alerts(NOW, [], counters, 0, 10, 15 * MIN)
    assert out == [{"kind": "paused", "counter": 1, "paused_ms": 15 * MIN, "limit_ms": 15 * MIN}]
