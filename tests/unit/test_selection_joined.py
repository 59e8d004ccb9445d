"""The starvation guard measures from when a ticket joined its queue; the
order otherwise follows the rank."""

from queue_server.domain.selection import Head, choose_next

MIN = 60_000
TARGETS = {"HT": 15 * MIN, "KH": 20 * MIN}
NOW = 1_000 * MIN


def test_a_future_slot_that_joined_long_ago_starves():
    ap = Head("ap", "KH", NOW + 60 * MIN, False, 2, joined_ms=NOW - 41 * MIN)
    walk = Head("w", "HT", NOW - MIN, False, 0, joined_ms=NOW - MIN)
    assert choose_next([walk, ap], NOW, TARGETS).ticket_id == "ap"


def test_an_old_rank_that_just_joined_does_not_starve():
    late = Head("late", "KH", NOW - 300 * MIN, False, 2, joined_ms=NOW)
    walk = Head("w", "HT", NOW - MIN, False, 0, joined_ms=NOW - MIN)
    assert choose_next([late, walk], NOW, TARGETS).ticket_id == "w"


def test_starving_heads_first_joined_first_then_rank():
    a = Head("a", "KH", NOW + 5 * MIN, False, 0, joined_ms=NOW - 50 * MIN)
    b = Head("b", "HT", NOW - 90 * MIN, False, 1, joined_ms=NOW - 45 * MIN)
    c = Head("c", "HT", NOW - 95 * MIN, True, 1, joined_ms=NOW - 50 * MIN)
    assert choose_next([b, a, c], NOW, TARGETS).ticket_id == "c"  # joined with a, ranks earlier


def test_without_a_joining_time_the_rank_is_used():
    h = Head("x", "HT", NOW - 31 * MIN, False, 1)
    assert h.joined == h.rank_ms
    assert choose_next([Head("y", "HT", NOW, True, 0), h], NOW, TARGETS).ticket_id == "x"
