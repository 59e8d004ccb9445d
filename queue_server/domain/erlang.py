"""Erlang C: how long people wait at N counters, and how many counters a
target service level needs (pure functions).

The model (M/M/N, "Erlang C"): people arrive as a Poisson process at rate
λ, each is served in an exponentially distributed time of mean h by one of N
identical counters, in one first-come-first-served queue, and everyone waits
as long as it takes (infinite patience: no one leaves, no abandonment, no
no-show). The offered load is A = λ·h erlangs; the queue is stable only
while A < N.

    Erlang B   B(A, 0) = 1,  B(A, k) = A·B(A, k-1) / (k + A·B(A, k-1))
    Erlang C   C(A, N) = N·B(A, N) / (N - A·(1 - B(A, N)))      P(wait > 0)
    mean wait  W = C(A, N) · h / (N - A)
    service level within t   SL(t) = 1 - C(A, N) · exp(-(N - A)·t / h)

B is computed by its recursion (no factorials, no powers: stable for any
N a commune or a call centre has). The office's reality differs: arrivals
peak, service times are closer to log-normal, counters serve several
categories in a priority order, some people do not come back. Erlang C
per category and hour is a first estimate; domain/simulate.py replays the
real call rules.
"""

from __future__ import annotations

import math


def erlang_b(load: float, servers: int) -> float:
    """The blocking probability of `servers` lines offered `load` erlangs."""
    if load < 0 or servers < 0:
        raise ValueError("load and servers must not be negative")
    b = 1.0
    for k in range(1, servers + 1):
        b = load * b / (k + load * b)
    return b


def _stable(load: float, servers: int) -> bool:
    return servers > 0 and load < servers


def wait_probability(load: float, servers: int) -> float:
    """C(A, N): the probability that an arrival waits at all (1.0 when the
    queue is unstable, A >= N)."""
    if load <= 0:
        return 0.0
    if not _stable(load, servers):
        return 1.0
    b = erlang_b(load, servers)
    return servers * b / (servers - load * (1 - b))


def mean_wait(load: float, servers: int, service: float) -> float:
    """The mean wait of all arrivals (those served at once count 0), in the
    unit of `service` (the mean service time); inf when unstable."""
    if load <= 0:
        return 0.0
    if not _stable(load, servers):
        return math.inf
    return wait_probability(load, servers) * service / (servers - load)


def service_level(load: float, servers: int, service: float, target: float) -> float:
    """The share of arrivals that wait at most `target` (same unit as
    `service`); 0.0 when unstable."""
    if load <= 0:
        return 1.0
    if not _stable(load, servers):
        return 0.0
    c = wait_probability(load, servers)
    return max(0.0, 1.0 - c * math.exp(-(servers - load) * target / service))


def counters_needed(load: float, service: float, target: float, level: float = 0.8, most: int = 1000) -> int:
    """The fewest counters for which at least `level` of arrivals wait at most
    `target` (0 when there is no load)."""
    if not 0 < level < 1:
        raise ValueError("level must be in (0, 1)")
    if load <= 0:
        return 0
    n = max(1, math.floor(load) + 1)
    while n <= most:
        if service_level(load, n, service, target) >= level:
            return n
        n += 1
    raise ValueError("the load needs more counters than `most`")


def load_of(arrivals: float, period: float, service: float) -> float:
    """The offered load (erlangs) of `arrivals` in `period`, each served in
    `service` on average (period and service in one unit)."""
    return arrivals * service / period if period > 0 else 0.0
