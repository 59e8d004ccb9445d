"""The day simulator against history (issue #15): replay past demo-data days
(`motcua demo-data`'s generator, queue_server/domain/demo.py) with their
real staffing (every counter of the configuration, its work profile, in
each session of the day) and each person's real arrival and service time,
and compare the simulated waits with the recorded ones: the error of the
day's mean, median and p90 wait, and of each ticket's wait.

Pure computation (no Redis, no clock): its figures do not depend on the
machine's load.

    .venv/bin/python -m bench.bench_staffing [--days 60] [--per-day 300] [--seed 1]
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from datetime import date

from queue_server.domain.config import Session, load_toml
from queue_server.domain.demo import history
from queue_server.domain.hours import sessions_on
from queue_server.domain.profiles import replay_arrivals, rules_for, staffing_for
from queue_server.domain.reports import fold_tickets
from queue_server.domain.simulate import quantile, simulate_day


def replay_day(cfg, day, events, seed=0, gap_ms=0):
    """(real waits, simulated waits) of the day's served tickets (s)."""
    facts = fold_tickets(events)
    simple = {f.ticket: f for f in facts.values() if f.outcome == "done" and not f.transferred and f.wait_s is not None}
    arrivals = replay_arrivals(facts.values())
    sessions = sessions_on(day, cfg.hours)
    # the generator's counters serve from the opening to the closing, through
    # the lunch break, and call nobody after the closing
    staffing = staffing_for(cfg, day, [Session(sessions[0].start, sessions[-1].end)])
    rules = replace(rules_for(cfg), overtime_ms=0, call_gap_ms=gap_ms)
    result = simulate_day(arrivals, staffing, rules, seed)
    real, sim = [], []
    for t in result.tickets:
        f = simple.get(t.id)
        if f is not None and t.wait_ms is not None:
            real.append(f.wait_s)
            sim.append(t.wait_ms / 1000)
    return real, sim


def compare(days: int, per_day: int, seed: int, today: date | None = None, gap_ms: int = 22_500) -> dict[str, float]:
    cfg = load_toml(None)
    today = today or date(2026, 12, 1)
    errs = {"mean": [], "median": [], "p90": []}
    ticket_abs: list[float] = []
    n_days = 0
    real_means = []
    for day, events in history(cfg, today, days, per_day, seed):
        if not events:
            continue
        real, sim = replay_day(cfg, day, events, gap_ms=gap_ms)
        n_days += 1
        r, s = sorted(real), sorted(sim)
        for name, q in (("mean", None), ("median", 0.5), ("p90", 0.9)):
            a = sum(r) / len(r) if q is None else quantile(r, q)
            b = sum(s) / len(s) if q is None else quantile(s, q)
            errs[name].append(b - a)
        real_means.append(sum(r) / len(r))
        ticket_abs += [abs(x - y) for x, y in zip(real, sim, strict=True)]
    out = {"days": n_days, "real_mean_wait_s": sum(real_means) / len(real_means)}
    for name, e in errs.items():
        out[f"{name}_bias_s"] = sum(e) / len(e)
        out[f"{name}_mae_s"] = sum(abs(x) for x in e) / len(e)
    ticket_abs.sort()
    out["ticket_mae_s"] = sum(ticket_abs) / len(ticket_abs)
    out["ticket_median_abs_s"] = quantile(ticket_abs, 0.5) or 0.0
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=60)
    ap.add_argument("--per-day", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    r = compare(a.days, a.per_day, a.seed)
    for k, v in r.items():
        print(f"{k:24s} {v:10.1f}")


if __name__ == "__main__":
    main()
