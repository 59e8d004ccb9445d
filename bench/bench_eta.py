"""How well the printed wait estimate matches the real wait: a replay of
simulated office days through the real queue engine (Lua on a private Redis,
a settable clock).

Each day: citizens arrive during the opening sessions (more in the morning),
each category's real service times are log-normal around a median that is
NOT the configured one (offices drift: 0.5x to 1.6x, drawn per category), and
the 5 counters call with the real rules (work profiles, Next finishes the
current citizen). For every ticket the estimate given at issue (what the
kiosk prints) is compared with the real wait until its call. The old rule
(a rolling average, 0.2 weight, samples clamped to 10 %-600 %) is computed on
the same day from the same people ahead and open counters, for comparison,
and so is the new service time without the counter mix (only the ticket's
own category ahead), to show what each part brings.

    .venv/bin/python -m bench.bench_eta [--days 5] [--seed 1]
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import math
import platform
import random
import statistics
import subprocess
import tempfile
from datetime import datetime
from typing import Any

from queue_server import redis_server
from queue_server.domain.eta import estimate_wait_minutes
from queue_server.errors import AppError
from queue_server.store.tickets import serving_map

MIN = 60_000
DAY_START = 1_795_568_400_000  # 08:00 on 25 Nov 2026 in Hà Nội
SESSIONS = [(0, 210 * MIN), (330 * MIN, 540 * MIN)]  # 08:00-11:30, 13:30-17:00


def old_rule(prev: float | None, sample: int, configured: int) -> float:
    """The rolling average this replaced."""
    s = min(max(sample, configured * 0.1), configured * 6)
    return s if prev is None or prev <= 0 else 0.2 * s + 0.8 * prev


async def one_day(url: str, rng: random.Random, per_hour: float) -> list[dict[str, Any]]:
    from tests.helpers import Clock, make_store

    clock = Clock(DAY_START)
    s = await make_store(url, clock=clock)
    cfg = await s.config.get()
    cats = [c for c in cfg.categories if c.enabled]
    weight = {c.code: rng.uniform(0.5, 2.0) for c in cats}
    bias = {c.code: rng.uniform(0.5, 1.6) for c in cats}
    configured = {c.code: c.service_ms for c in cats}
    events: list[tuple[int, int, str, Any]] = []  # (time, order, kind, data)
    order = 0

    def push(at: int, kind: str, data: Any = None) -> None:
        nonlocal order
        order += 1
        heapq.heappush(events, (at, order, kind, data))

    for start, end in SESSIONS:
        t = start
        while True:
            rate = per_hour * (1.3 if t < 120 * MIN else 0.9) / 3_600_000
            t += int(rng.expovariate(rate))
            if t >= end:
                break
            cat = rng.choices(cats, weights=[weight[c.code] for c in cats])[0].code
            push(DAY_START + t, "arrive", cat)

    records: dict[str, dict[str, Any]] = {}
    old_avg: dict[str, float] = {}
    busy: dict[int, tuple[str, int] | None] = {c.number: None for c in cfg.counters if c.enabled}

    def service_time(cat: str) -> int:
        return int(configured[cat] * bias[cat] * math.exp(rng.gauss(0, 0.6)))

    async def call(counter: int) -> None:
        prev = busy[counter]
        try:
            r = await s.call_next(counter)
        except AppError:  # queue_empty: the current citizen was still finished, and the counter idles
            r = None
        if prev is not None:
            cat, called_at = prev
            old_avg[cat] = old_rule(old_avg.get(cat), clock.now - called_at, configured[cat])
        busy[counter] = None
        if r is not None and r.ticket.id in records:
            rec = records[r.ticket.id]
            rec["wait_min"] = (clock.now - rec["issued"]) / MIN
            busy[counter] = (r.ticket.category, clock.now)
            push(clock.now + service_time(r.ticket.category), "free", counter)

    while events:
        at, _, kind, data = heapq.heappop(events)
        clock.now = at
        if kind == "arrive":
            t, ahead = await s.issue(data)
            pos = await s.position(t, ahead)
            states = await s.counter_states(cfg)
            n = sum(1 for cats in serving_map(cfg, states, data).values() if data in cats)
            old = estimate_wait_minutes(ahead, old_avg.get(data, configured[data]), n)
            own = estimate_wait_minutes(ahead, (await s.service_times(cfg))[data].ms, n)
            records[t.id] = {"issued": at, "new": pos.eta_minutes, "range": pos.eta_range, "old": old, "own": own}
            for counter, cur in busy.items():
                ct = cfg.counter(counter)
                if cur is None and ct is not None and data in ct.categories:
                    await call(counter)
                    break
        else:
            await call(data)
    await s.redis.aclose()
    return [r for r in records.values() if "wait_min" in r]


def score(rows: list[dict[str, Any]], key: str) -> tuple[float, float]:
    err = [abs(r[key] - r["wait_min"]) for r in rows]
    return statistics.median(err), sum(e <= 5 for e in err) / len(err)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--per-hour", type=float, default=26.0, help="mean arrivals per hour")
    a = ap.parse_args()
    proc = redis_server.start(tempfile.mkdtemp(prefix="motcua-bench-eta-"))
    try:
        days = [asyncio.run(one_day(proc.url, random.Random(a.seed + d), a.per_hour)) for d in range(a.days)]
    finally:
        proc.stop()
    rows = [r for day in days for r in day]
    ranged = [r for r in rows if r["range"]]
    version = subprocess.run([redis_server.find_binary(), "--version"], capture_output=True, text=True).stdout
    print(
        f"Date: {datetime.now():%Y-%m-%d %H:%M} UTC. Machine: {platform.platform()}, {platform.machine()}; "
        f"Python {platform.python_version()}; {version.split()[2] if version else ''}"
    )
    print(f"{a.days} simulated days, seed {a.seed}, ~{a.per_hour:g} arrivals/hour, {len(rows)} tickets called\n")
    waits = [r["wait_min"] for r in rows]
    print(f"Real wait: median {statistics.median(waits):.1f} min, p90 {sorted(waits)[int(len(waits) * 0.9)]:.1f} min\n")
    print("| estimate at issue | median abs. error (min) | median signed error (min) | within ±5 min |")
    print("|---|---|---|---|")
    for name, key in (
        ("motcua now: windowed median + configured prior, counter mix", "new"),
        ("same service time, own category only", "own"),
        ("before: rolling average, own category only", "old"),
    ):
        mae, within = score(rows, key)
        bias = statistics.median(r[key] - r["wait_min"] for r in rows)
        print(f"| {name} | {mae:.1f} | {bias:+.1f} | {within:.0%} |")
    if ranged:
        inside = sum(r["range"][0] - 5 <= r["wait_min"] <= r["range"][1] + 5 for r in ranged) / len(ranged)
        print(
            f"\nTickets shown a range (few samples yet): {len(ranged)}; real wait within the range ±5 min: {inside:.0%}"
        )


if __name__ == "__main__":
    main()
