from queue_server.domain.selection import DIRECT_QUEUE_INDEX, Head, choose_next

MIN = 60_000
TARGETS = {"HT": 15 * MIN, "CT": 10 * MIN, "DD": 20 * MIN}
NOW = 1_000 * MIN


def h(tid, cat, age_min, prio=False, idx=0):
    return Head(tid, cat, NOW - age_min * MIN, prio, idx)


def test_empty():
    assert choose_next([], NOW, TARGETS) is None


def test_profile_order_beats_age():
    # counter serves HT first, then CT; an older CT ticket waits for HT
    picked = choose_next([h("ct", "CT", 9, idx=1), h("ht", "HT", 1, idx=0)], NOW, TARGETS)
    assert picked.ticket_id == "ht"


def test_earliest_within_equal_profile():
    picked = choose_next([h("late", "HT", 1), h("early", "HT", 5)], NOW, TARGETS)
    assert picked.ticket_id == "early"


def test_priority_first_even_from_a_later_category():
    picked = choose_next([h("ht", "HT", 10, idx=0), h("ctp", "CT", 1, prio=True, idx=1)], NOW, TARGETS)
    assert picked.ticket_id == "ctp"


def test_priority_in_profile_order():
    picked = choose_next([h("p2", "CT", 5, prio=True, idx=1), h("p1", "HT", 1, prio=True, idx=0)], NOW, TARGETS)
    assert picked.ticket_id == "p1"


def test_starvation_guard():
    # CT target 10 min; a CT ticket waiting 21 min (> 2x) jumps priority and profile
    heads = [h("ht", "HT", 1, idx=0), h("p", "HT", 1, prio=True, idx=0), h("ct", "CT", 21, idx=1)]
    assert choose_next(heads, NOW, TARGETS).ticket_id == "ct"
    # exactly 2x is not yet starving
    heads[-1] = h("ct", "CT", 20, idx=1)
    assert choose_next(heads, NOW, TARGETS).ticket_id == "p"


def test_oldest_starving_first():
    heads = [h("a", "CT", 25, idx=1), h("b", "HT", 40, idx=0)]
    assert choose_next(heads, NOW, TARGETS).ticket_id == "b"


def test_counter_queue_before_profile_but_after_priority():
    heads = [h("direct", "CT", 1, idx=DIRECT_QUEUE_INDEX), h("ht", "HT", 5, idx=0)]
    assert choose_next(heads, NOW, TARGETS).ticket_id == "direct"
    heads.append(h("p", "HT", 1, prio=True, idx=0))
    assert choose_next(heads, NOW, TARGETS).ticket_id == "p"


def test_factor_is_configurable():
    heads = [h("ht", "HT", 1, idx=0), h("ct", "CT", 15, idx=1)]
    assert choose_next(heads, NOW, TARGETS, factor=2.0).ticket_id == "ht"
    assert choose_next(heads, NOW, TARGETS, factor=1.2).ticket_id == "ct"
