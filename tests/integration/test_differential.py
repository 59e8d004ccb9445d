"""Rules kept both in Lua and in Python, driven with the same random input.

(a) the service time of a category: `record_service` in _lib.lua vs
    `add_sample` + `service_estimate` in domain/eta.py (the window of recent
    samples and the estimate drawn from it);
(b) the people ahead of a new ticket: the count issue_ticket.lua returns vs
    TicketStore.position() reading the queues again.

Seeded: MOTCUA_TEST_SEED=<n> replays a run; the seed is printed (pytest -s)
and named in every failure message.
"""

from __future__ import annotations

import json
import math
import os
import random

from queue_server.domain.eta import WINDOW, add_sample, service_estimate
from queue_server.domain.model import TicketStatus
from queue_server.errors import AppError
from tests.helpers import Clock, make_store, run_sync

SEC, MIN, HOUR = 1000, 60_000, 3_600_000


def _seed(default: int) -> int:
    seed = int(os.environ.get("MOTCUA_TEST_SEED", default))
    print(f"seed={seed} (replay with MOTCUA_TEST_SEED={seed})")
    return seed


def _s(v):
    return v.decode() if isinstance(v, bytes) else v


def _duration(rng: random.Random) -> int:
    """1 s .. 2 h, log-uniform (both clamps are hit) or uniform."""
    if rng.random() < 0.5:
        return int(math.exp(rng.uniform(math.log(SEC), math.log(2 * HOUR))))
    return rng.randint(SEC, 2 * HOUR)


def test_service_time_lua_equals_python(redis_url):
    seed = _seed(9_2026_1201)
    rng = random.Random(seed)

    async def go():
        clock = Clock()
        s = await make_store(redis_url, clock=clock)
        cfg = await s.config.get()
        service = {c.code: c.service_ms for c in cfg.categories}
        model: dict[str, int] = {}  # the stored estimate per category
        windows: dict[str, list[int]] = {}  # its recent samples
        serving: dict[int, tuple[str, int]] = {}  # counter -> (category, called_at)
        done_samples = 0

        def python_done(counter: int) -> None:
            nonlocal done_samples
            cat, called_at = serving.pop(counter)
            sample = clock.now - called_at
            windows[cat] = add_sample(windows.get(cat, []), sample, service[cat])
            model[cat] = service_estimate(service[cat], windows[cat])
            done_samples += 1

        for step in range(300):
            ct = rng.choice([c for c in cfg.counters if c.enabled and c.categories])
            cat = rng.choice(ct.categories)
            r = rng.random()
            if ct.number in serving and r < 0.5:
                # an explicit finish: served, or absent (no sample)
                outcome = TicketStatus.DONE if r < 0.4 else TicketStatus.NO_SHOW
                await s.finish(ct.number, outcome)
                if outcome == TicketStatus.DONE:
                    python_done(ct.number)
                else:
                    serving.pop(ct.number)
            else:
                # a new ticket, called at once; a ticket the counter still serves
                # is finished as served by that call
                t, _ = await s.issue(cat, priority=rng.random() < 0.2)
                got = await s.call_next(ct.number)
                assert got.ticket.id == t.id, f"seed {seed} step {step}"
                if got.finished:
                    python_done(ct.number)
                serving[ct.number] = (cat, clock.now)
            clock.advance(_duration(rng))
            raw = {_s(k): _s(v) for k, v in (await s.redis.hgetall(s.keys.averages)).items()}
            stored = {k: int(v) for k, v in raw.items() if ":" not in k}
            recent = {k.split(":")[0]: json.loads(v) for k, v in raw.items() if k.endswith(":recent")}
            assert stored == model, f"seed {seed} step {step}: Lua {stored} != Python {model}"
            assert recent == windows, f"seed {seed} step {step}: Lua windows differ"
        assert done_samples > 50 and len(model) == len(service), f"seed {seed}: too few samples"
        assert any(len(w) == WINDOW for w in windows.values()), f"seed {seed}: no window filled"
        await s.redis.aclose()

    run_sync(go())


def test_people_ahead_lua_equals_position(redis_url):
    seed = _seed(9_2026_1202)
    rng = random.Random(seed)

    async def go():
        clock = Clock()
        s = await make_store(redis_url, clock=clock)
        cfg = await s.config.get()
        codes = [c.code for c in cfg.categories]
        counters = [c.number for c in cfg.counters if c.enabled]
        checked = nonzero = 0
        for step in range(400):
            r = rng.random()
            if r < 0.55:
                kind = rng.random()
                if kind < 0.6:
                    rank = None  # a walk-in
                elif kind < 0.8:
                    rank = clock.now + rng.randint(-90, 90) * MIN  # an appointment's slot
                else:
                    # the exact rank of a ticket already waiting (ties)
                    waiting = [t for t in await _waiting(s, codes)]
                    rank = rng.choice(waiting) if waiting else None
                t, ahead = await s.issue(rng.choice(codes), priority=rng.random() < 0.25, rank_ms=rank)
                again = await s.position(await s.get_ticket(t.id))
                assert ahead == again.ahead, (
                    f"seed {seed} step {step}: issue_ticket.lua says {ahead} ahead, "
                    f"position() {again.ahead} (rank {t.rank_ms}, priority {t.priority})"
                )
                checked += 1
                nonzero += ahead > 0
            elif r < 0.8:
                try:
                    await s.call_next(rng.choice(counters))
                except AppError as e:
                    assert e.code == "queue_empty"
            elif r < 0.9:
                n = rng.choice(counters)
                try:
                    if rng.random() < 0.5:
                        await s.transfer(n, to_category=rng.choice(codes))
                    else:
                        await s.transfer(n, to_counter=rng.choice(counters))
                except AppError as e:
                    assert e.code == "no_current_ticket"
            else:
                try:
                    await s.finish(rng.choice(counters), TicketStatus.DONE)
                except AppError as e:
                    assert e.code == "no_current_ticket"
            if rng.random() < 0.5:
                clock.advance(rng.randint(0, 3 * MIN))
        assert checked > 150 and nonzero > 50, f"seed {seed}: {checked} checked, {nonzero} with someone ahead"
        await s.redis.aclose()

    run_sync(go())


async def _waiting(s, codes) -> list[int]:
    """The ranks (scores) of every ticket waiting in a category queue."""
    from queue_server.store.keys import normal_queue, priority_queue

    out: list[int] = []
    for c in codes:
        for q in (priority_queue(c), normal_queue(c)):
            out += [int(score) for _, score in await s.redis.zrange(s.keys.queue(q), 0, -1, withscores=True)]
    return out
