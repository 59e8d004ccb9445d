"""The day simulator calls in the real call order (issue #15): random days
(arrivals, priority tickets, appointments by slot, counters with random work
profiles open in two sessions, service times wide enough for queues and the
starvation guard) are simulated, then the same arrivals and the same "Next"
presses, at the same instants, are played on the real store (issue_ticket.lua
and call_next.lua on the suite's Redis): every call must pick the ticket the
simulator picked.

Seeded: MOTCUA_TEST_SEED=<n> replays a run; the seed is printed (pytest -s)
and named in every failure message.
"""

from __future__ import annotations

import os
import random

from queue_server.domain.config import parse_config
from queue_server.domain.model import Source
from queue_server.domain.simulate import Arrival, Desk, Rules, Shift, Staffing, simulate_day
from tests.helpers import Clock, make_store, run_sync, test_config_dict

MIN, HOUR = 60_000, 3_600_000
T0 = 1_764_030_600_000  # 07:30 in Hanoi, 2025-11-25


def _seed(default: int) -> int:
    seed = int(os.environ.get("MOTCUA_TEST_SEED", default))
    print(f"seed={seed} (replay with MOTCUA_TEST_SEED={seed})")
    return seed


def _random_day(rng: random.Random, codes: list[str]):
    counters = []
    for n in range(1, rng.randint(2, 4) + 1):
        cats = rng.sample(codes, rng.randint(1, len(codes)))
        counters.append(Desk(n, tuple(cats)))
    # every category served by someone
    for c in codes:
        if not any(c in d.categories for d in counters):
            d = rng.choice(counters)
            counters[counters.index(d)] = Desk(d.number, (*d.categories, c))
    morning = Shift(T0, T0 + 4 * HOUR, tuple(rng.sample(counters, rng.randint(1, len(counters)))))
    afternoon = Shift(T0 + 6 * HOUR, T0 + 9 * HOUR, tuple(rng.sample(counters, rng.randint(1, len(counters)))))
    people = []
    used_slots: set[tuple[str, int]] = set()
    for i in range(rng.randint(40, 90)):
        session = rng.choice([(T0, T0 + 4 * HOUR - 10 * MIN), (T0 + 6 * HOUR, T0 + 9 * HOUR - 10 * MIN)])
        at = rng.randint(*session)
        cat = rng.choice(codes)
        slot = None
        if rng.random() < 0.2:
            s = at - at % (15 * MIN) + 15 * MIN
            if (cat, s) not in used_slots:  # one booking per slot and category: no tied ranks
                used_slots.add((cat, s))
                slot = s
        service = int(rng.choice([0.5, 1, 3, 6, 12, 25]) * MIN) + rng.randint(0, 59_999)
        people.append(
            Arrival(
                f"p{i}",
                at,
                cat,
                priority=rng.random() < 0.15,
                slot_ms=slot,
                service_ms=service,
                no_show=rng.random() < 0.05,
            )
        )
    return counters, Staffing((morning, afternoon)), people


def test_simulated_call_order_equals_lua(redis_url):
    seed = _seed(15_2026_1201)
    rng = random.Random(seed)

    async def go():
        calls = starving_days = 0
        for day in range(6):
            base = test_config_dict()
            base["categories"] = base["categories"][:4]
            codes = [c["code"] for c in base["categories"]]
            counters, staffing, people = _random_day(rng, codes)
            base["counters"] = [{"number": d.number, "categories": list(d.categories)} for d in counters]
            cfg = parse_config(base)
            rules = Rules(
                targets_ms={c.code: c.target_wait_ms for c in cfg.categories},
                service_ms={c.code: c.service_ms for c in cfg.categories},
                factor=cfg.queue.starvation_factor,
                overtime_ms=rng.choice([0, 20 * MIN]),
            )
            result = simulate_day(people, staffing, rules, seed)
            clock = Clock(T0)
            s = await make_store(redis_url, cfg=cfg, clock=clock)
            by_id = {a.id: a for a in people}
            real: dict[str, str] = {}  # simulated id -> the store's ticket id
            for k, step in enumerate(result.steps):
                clock.now = step.at_ms
                where = f"seed {seed} day {day} step {k} ({step.kind} {step.ticket} at +{(step.at_ms - T0) // 1000}s)"
                if step.kind == "issue":
                    a = by_id[step.ticket]
                    t, _ = await s.issue(
                        a.category,
                        priority=a.priority,
                        rank_ms=a.slot_ms,
                        source=Source.APPOINTMENT if a.slot_ms is not None else Source.WALK_IN,
                        cfg=cfg,
                    )
                    real[a.id] = t.id
                else:
                    got = await s.call_next(step.counter)
                    assert got.ticket.id == real[step.ticket], f"{where}: Lua called another ticket"
                    calls += 1
            sim = {t.id: t for t in result.tickets}
            starving_days += any(
                t.called_ms is not None and t.called_ms - t.at_ms > 2 * rules.targets_ms[t.category]
                for t in sim.values()
            )
            await s.redis.aclose()
        assert calls > 220, f"seed {seed}: only {calls} calls compared"
        assert starving_days >= 2, f"seed {seed}: the starvation guard was hardly exercised"

    run_sync(go())
