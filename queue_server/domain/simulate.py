"""A day at the office, simulated (discrete events, pure, seeded).

`simulate_day(arrivals, staffing, rules, seed)` plays one day: people arrive
(walk-ins, and appointments checked in before their slot), take a ticket of
their category and sit down if one of the room's seats is free; each open
counter calls the next ticket by the real call order (domain/selection.py,
the Python mirror of call_next.lua: starving first, then priority, then the
counter's work-profile order, then rank), serves it, and calls again. A
ticket's rank is its issue time, an appointment's its slot. A counter calls
only while it is open (its sessions of the staffing, and `overtime_ms` after
a session's end for the people still in the room), and the people still
waiting when the day ends are counted as not served.

Every random draw (each person's service time) is made up front in arrival
order from `random.Random(seed)`: the same seed gives the same day, and two
staffings compared with one seed serve the same people in the same times
(common random numbers), so their difference is the staffing's, not luck's.

`predict_call_ms` answers "when will this ticket be called" from a live
state (who waits, which counter is busy until when), with mean service
times: the same rules, no randomness.

What it does not model: transfers between categories or counters, a
no-show coming back (a no-show takes the counter `no_show_ms` and leaves),
people who give up and leave.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from queue_server.domain.model import Ticket
from queue_server.domain.selection import Head, choose_next

MIN = 60_000
HOUR = 3_600_000

# event kinds, in the order they are handled at one instant
_ARRIVE, _FREE, _OPEN = 0, 1, 2
_READY = "-"  # a counter's pause between two people is over


@dataclass(frozen=True)
class Arrival:
    """One person. `at_ms`: when they take their ticket (a walk-in's issue,
    an appointment's check-in) and enter the room; `slot_ms`: an appointment's
    slot (its rank in the queue; the wait counts from max(at, slot))."""

    id: str
    at_ms: int
    category: str
    priority: bool = False
    slot_ms: int | None = None
    service_ms: int | None = None  # None: drawn from the rules
    no_show: bool = False  # absent when called

    @property
    def rank_ms(self) -> int:
        return self.slot_ms if self.slot_ms is not None else self.at_ms

    @property
    def start_ms(self) -> int:
        """What the wait is measured from (as the reports do)."""
        return max(self.at_ms, self.slot_ms) if self.slot_ms is not None else self.at_ms


@dataclass(frozen=True)
class Desk:
    """An open counter: its number and work profile (categories in order)."""

    number: int
    categories: tuple[str, ...]
    speed: float = 1.0  # service time multiplier (a slower clerk > 1)


@dataclass(frozen=True)
class Shift:
    """A session with the counters open in it."""

    start_ms: int
    end_ms: int
    desks: tuple[Desk, ...]


@dataclass(frozen=True)
class Staffing:
    shifts: tuple[Shift, ...]

    def counters(self) -> int:
        return max((len(s.desks) for s in self.shifts), default=0)


@dataclass(frozen=True)
class Rules:
    targets_ms: Mapping[str, int]  # each category's target wait
    service_ms: Mapping[str, int]  # each category's mean service time
    factor: float = 2.0  # the starvation guard
    seats: int = 10
    sigma: float = 0.45  # log-normal spread of service times (0: the mean exactly)
    no_show_ms: int = 2 * MIN  # a call nobody answers keeps the counter this long
    overtime_ms: int = 30 * MIN  # calls after a session's end, for those still waiting
    min_service_ms: int = 30_000
    call_gap_ms: int = 0  # between a counter's end of service and its next call


@dataclass
class SimTicket:
    id: str
    category: str
    at_ms: int
    start_ms: int
    rank_ms: int
    priority: bool
    appointment: bool
    no_show: bool
    service_ms: int
    called_ms: int | None = None
    counter: int | None = None
    done_ms: int | None = None

    @property
    def wait_ms(self) -> int | None:
        return None if self.called_ms is None else max(0, self.called_ms - self.start_ms)


@dataclass(frozen=True)
class Step:
    """One action of the day in the order the simulator took it: a ticket
    issued ("issue") or called by a counter ("call")."""

    kind: str
    at_ms: int
    ticket: str
    counter: int | None = None


@dataclass(frozen=True)
class HourFigures:
    hour: int  # local clock hour
    arrivals: int  # tickets taken in the hour
    served: int  # of them, called (no-shows excluded)
    mean_wait_s: float | None
    p90_wait_s: float | None
    service_level: float | None  # of them, share called within their target
    present_mean: float  # people waiting in the room (the mean over the hour's minutes of each one's most)
    present_max: int
    seated_mean: float
    standing_mean: float
    standing_max: int
    standing_minutes: int  # minutes with someone standing


@dataclass
class DayResult:
    tickets: list[SimTicket]
    steps: list[Step]
    room: list[tuple[int, int]]  # (a minute's start ms, the most people waiting in it)
    by_hour: list[HourFigures] = field(default_factory=list)

    def waits_s(self) -> list[float]:
        return sorted(t.wait_ms / 1000 for t in self.tickets if t.wait_ms is not None and not t.no_show)

    def summary(self, targets_ms: Mapping[str, int], seats: int) -> dict[str, float | int | None]:
        w = self.waits_s()
        served = [t for t in self.tickets if t.called_ms is not None and not t.no_show]
        within = sum(1 for t in served if (t.wait_ms or 0) <= targets_ms.get(t.category, 0))
        present = [p for _, p in self.room]
        return {
            "arrivals": len(self.tickets),
            "served": len(served),
            "not_served": sum(1 for t in self.tickets if t.called_ms is None),
            "mean_wait_s": sum(w) / len(w) if w else None,
            "median_wait_s": quantile(w, 0.5),
            "p90_wait_s": quantile(w, 0.9),
            "max_wait_s": w[-1] if w else None,
            "service_level": within / len(served) if served else None,
            "present_max": max(present, default=0),
            "standing_max": max((max(0, p - seats) for p in present), default=0),
            "standing_minutes": sum(1 for p in present if p > seats),
        }


def quantile(sorted_values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between ranks (as domain/reports.py)."""
    n = len(sorted_values)
    if n == 0:
        return None
    pos = (n - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, n - 1)
    return float(sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo))


def draw_service(rng: random.Random, mean_ms: float, sigma: float, floor_ms: int) -> int:
    """A log-normal service time of mean `mean_ms` (sigma of its log)."""
    if sigma <= 0:
        return max(floor_ms, int(mean_ms))
    mu = math.log(max(1.0, mean_ms)) - sigma * sigma / 2
    return max(floor_ms, int(math.exp(rng.gauss(mu, sigma))))


@dataclass
class _Counter:
    desk: Desk
    windows: list[tuple[int, int]]  # [open, close) when it may call
    busy: bool = False
    idle_since: int = 0

    def open_at(self, t: int) -> bool:
        return any(lo <= t < hi for lo, hi in self.windows)


def _windows(staffing: Staffing, overtime_ms: int) -> dict[int, tuple[Desk, list[tuple[int, int]]]]:
    out: dict[int, tuple[Desk, list[tuple[int, int]]]] = {}
    shifts = sorted(staffing.shifts, key=lambda s: s.start_ms)
    for i, s in enumerate(shifts):
        # overtime never runs into the next session
        nxt = shifts[i + 1].start_ms if i + 1 < len(shifts) else None
        end = s.end_ms + overtime_ms
        if nxt is not None:
            end = min(end, nxt)
        for d in s.desks:
            _, wins = out.get(d.number, (d, []))
            wins.append((s.start_ms, end))
            # the counter's profile is its last session's (one profile a day)
            out[d.number] = (d, wins)
    return out


def simulate_day(
    arrivals: Iterable[Arrival],
    staffing: Staffing,
    rules: Rules,
    seed: int = 0,
    *,
    busy_until: Mapping[int, int] | None = None,
    start_ms: int | None = None,
    tz: ZoneInfo | None = None,
) -> DayResult:
    """Play the day. `busy_until`/`start_ms`: a live state to start from (a
    counter serving someone until then; nothing happens before start_ms)."""
    people = sorted(arrivals, key=lambda a: (a.at_ms, a.id))
    rng = random.Random(seed)
    tickets: dict[str, SimTicket] = {}
    for a in people:
        mean = rules.service_ms.get(a.category, 10 * MIN)
        service = (
            a.service_ms if a.service_ms is not None else draw_service(rng, mean, rules.sigma, rules.min_service_ms)
        )
        tickets[a.id] = SimTicket(
            id=a.id,
            category=a.category,
            at_ms=a.at_ms,
            start_ms=a.start_ms,
            rank_ms=a.rank_ms,
            priority=a.priority,
            appointment=a.slot_ms is not None,
            no_show=a.no_show,
            service_ms=service,
        )
    counters = {n: _Counter(d, w) for n, (d, w) in _windows(staffing, rules.overtime_ms).items()}
    queues: dict[tuple[str, bool], list[tuple[int, int, str]]] = {}
    events: list[tuple[int, int, int, int, str]] = []  # (t, kind, order, counter, ticket)
    order = 0

    def push(t: int, kind: int, counter: int = 0, ticket: str = "") -> None:
        nonlocal order
        order += 1
        heapq.heappush(events, (t, kind, order, counter, ticket))

    t0 = start_ms
    if t0 is None:
        t0 = min([a.at_ms for a in people] + [s.start_ms for s in staffing.shifts], default=0)
    for a in people:
        push(max(a.at_ms, t0) if start_ms is not None else a.at_ms, _ARRIVE, ticket=a.id)
    for n, c in counters.items():
        for lo, _ in c.windows:
            push(max(lo, t0), _OPEN, counter=n)
        c.idle_since = t0
        if busy_until and busy_until.get(n, 0) > t0:
            c.busy = True
            push(busy_until[n], _FREE, counter=n)
    steps: list[Step] = []
    present: list[tuple[int, int]] = []  # (t, people waiting) after each change
    waiting = 0
    targets = dict(rules.targets_ms)

    def try_call(c: _Counter, now: int) -> bool:
        nonlocal waiting
        heads = []
        for i, cat in enumerate(c.desk.categories):
            for prio in (True, False):
                q = queues.get((cat, prio))
                if q:
                    rank, _, tid = q[0]
                    heads.append(Head(tid, cat, rank, prio, i, tickets[tid].at_ms))
        best = choose_next(heads, now, targets, rules.factor)
        if best is None:
            return False
        heapq.heappop(queues[(best.category, best.priority)])
        t = tickets[best.ticket_id]
        t.called_ms, t.counter = now, c.desk.number
        length = rules.no_show_ms if t.no_show else int(t.service_ms * c.desk.speed)
        t.done_ms = now + length
        c.busy = True
        waiting -= 1
        present.append((now, waiting))
        steps.append(Step("call", now, t.id, c.desk.number))
        push(t.done_ms, _FREE, counter=c.desk.number)
        return True

    seq = 0
    while events:
        now, kind, _, n, tid = heapq.heappop(events)
        if kind == _ARRIVE:
            t = tickets[tid]
            seq += 1
            queues.setdefault((t.category, t.priority), [])
            heapq.heappush(queues[(t.category, t.priority)], (t.rank_ms, seq, tid))
            waiting += 1
            present.append((now, waiting))
            steps.append(Step("issue", now, tid))
            idle = sorted(
                (c for c in counters.values() if not c.busy and c.open_at(now) and t.category in c.desk.categories),
                key=lambda c: (c.idle_since, c.desk.number),
            )
            for c in idle:
                if try_call(c, now):
                    break
        elif kind == _FREE:
            c = counters[n]
            if tid != _READY and rules.call_gap_ms > 0:
                push(now + rules.call_gap_ms, _FREE, counter=n, ticket=_READY)  # the clerk's pause
                continue
            c.busy = False
            c.idle_since = now
            if c.open_at(now):
                try_call(c, now)
        else:  # a counter opens
            c = counters[n]
            if not c.busy and c.open_at(now):
                try_call(c, now)
    result = DayResult(list(tickets.values()), steps, _minutes(present))
    if tz is not None:
        result.by_hour = by_hour(result, rules, tz)
    return result


def _minutes(changes: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The most people waiting in each minute from the first change to the last."""
    if not changes:
        return []
    first = changes[0][0] - changes[0][0] % MIN
    last = changes[-1][0]
    out: list[tuple[int, int]] = []
    i, level = 0, 0
    m = first
    while m <= last:
        while i < len(changes) and changes[i][0] <= m:  # changes at the minute's start come first
            level = changes[i][1]
            i += 1
        peak = level
        while i < len(changes) and changes[i][0] < m + MIN:
            level = changes[i][1]
            peak = max(peak, level)
            i += 1
        out.append((m, peak))
        m += MIN
    return out


def by_hour(result: DayResult, rules: Rules, tz: ZoneInfo) -> list[HourFigures]:
    """The day's figures per local clock hour (arrivals by the hour they came)."""
    hours: dict[int, list[SimTicket]] = {}
    for t in result.tickets:
        hours.setdefault(datetime.fromtimestamp(t.at_ms / 1000, tz).hour, []).append(t)
    room: dict[int, list[int]] = {}
    for m, p in result.room:
        room.setdefault(datetime.fromtimestamp(m / 1000, tz).hour, []).append(p)
    out = []
    for h in sorted(set(hours) | set(room)):
        ts = hours.get(h, [])
        served = [t for t in ts if t.called_ms is not None and not t.no_show]
        w = sorted((t.wait_ms or 0) / 1000 for t in served)
        within = sum(1 for t in served if (t.wait_ms or 0) <= rules.targets_ms.get(t.category, 0))
        ps = room.get(h, [0])
        out.append(
            HourFigures(
                hour=h,
                arrivals=len(ts),
                served=len(served),
                mean_wait_s=sum(w) / len(w) if w else None,
                p90_wait_s=quantile(w, 0.9),
                service_level=within / len(served) if served else None,
                present_mean=sum(ps) / len(ps),
                present_max=max(ps),
                seated_mean=sum(min(p, rules.seats) for p in ps) / len(ps),
                standing_mean=sum(max(0, p - rules.seats) for p in ps) / len(ps),
                standing_max=max(max(0, p - rules.seats) for p in ps),
                standing_minutes=sum(1 for p in ps if p > rules.seats),
            )
        )
    return out


def predict_call_ms(
    ticket_id: str,
    waiting: Iterable[Arrival],
    staffing: Staffing,
    rules: Rules,
    now_ms: int,
    busy_until: Mapping[int, int] | None = None,
    expected: Iterable[Arrival] = (),
) -> int | None:
    """When `ticket_id` (one of `waiting`) will be called, from the live state:
    the people waiting (their real issue times and ranks), the counters
    serving someone until `busy_until`, and the people `expected` to arrive
    (a priority ticket or a starving one may still go first). Mean service
    times, no randomness. None: not called before the day ends."""
    rules = replace(rules, sigma=0.0)
    result = simulate_day([*waiting, *expected], staffing, rules, 0, busy_until=busy_until, start_ms=now_ms)
    for t in result.tickets:
        if t.id == ticket_id:
            return t.called_ms
    raise KeyError(ticket_id)


def waiting_arrival(ticket: Ticket) -> Arrival:
    """A ticket waiting in its category's queue as an Arrival for
    predict_call_ms: joined at its queued_at, ranked by its rank (an
    appointment's slot)."""
    slot = ticket.rank_ms if ticket.rank_ms != ticket.queued_at else None
    return Arrival(ticket.id, ticket.queued_at, ticket.category, priority=ticket.priority, slot_ms=slot)


def busy_until(serving: Mapping[int, tuple[str, int]], rules: Rules, now_ms: int) -> dict[int, int]:
    """When each counter serving someone (counter -> (category, called at))
    is expected to be free: its call plus the category's mean service time,
    or a minute from now when that is past."""
    return {n: max(called + rules.service_ms.get(cat, 10 * MIN), now_ms + MIN) for n, (cat, called) in serving.items()}
