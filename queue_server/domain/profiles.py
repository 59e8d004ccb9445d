"""The office's own history as the simulator's input (pure).

From the reports' facts (one TicketFacts per ticket, domain/reports.py,
read from the Parquet archive and the stream by store/archive.py):

- arrivals per category per 15 minutes of the day, per weekday (the mean
  over the days of that weekday the office was open in the period);
- service times per category (count, mean, median, p90, and the spread of
  their logarithm, for a log-normal draw), and per clerk and category where
  a clerk has at least MIN_CLERK_SAMPLES;
- each counter's speed (its service times over its categories' means);
- the share of no-shows and of appointments per category.

`arrivals_for` draws a day of arrivals from them (Poisson per bin, seeded).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from queue_server.domain.config import WEEKDAYS, Session, SiteConfig
from queue_server.domain.reports import TicketFacts
from queue_server.domain.simulate import Arrival, Desk, Rules, Shift, Staffing, quantile

MIN = 60_000
BIN_MIN = 15
BINS = 24 * 60 // BIN_MIN
MIN_CLERK_SAMPLES = 30
EARLY_MAX_MIN = 25  # an appointment checks in up to this long before its slot


@dataclass(frozen=True)
class ServiceTimes:
    count: int
    mean_s: float
    median_s: float
    p90_s: float
    sigma: float  # the standard deviation of log(service)


@dataclass
class Profiles:
    first: date | None
    last: date | None
    days: dict[int, int]  # weekday (0 = Monday) -> open days seen
    arrivals: dict[int, dict[str, list[float]]]  # weekday -> category -> mean arrivals per bin
    service: dict[str, ServiceTimes]
    clerk_service: dict[str, dict[str, ServiceTimes]]
    counter_speed: dict[int, float]
    no_show_share: dict[str, float]
    appointment_share: dict[str, float]
    tickets: int = 0
    categories: list[str] = field(default_factory=list)

    def day_total(self, weekday: int) -> float:
        return sum(sum(b) for b in self.arrivals.get(weekday, {}).values())


def _times(values: Sequence[float]) -> ServiceTimes | None:
    v = sorted(x for x in values if x > 0)
    if not v:
        return None
    logs = [math.log(x) for x in v]
    m = sum(logs) / len(logs)
    sd = math.sqrt(sum((x - m) ** 2 for x in logs) / (len(logs) - 1)) if len(logs) > 1 else 0.0
    return ServiceTimes(len(v), sum(v) / len(v), quantile(v, 0.5) or 0.0, quantile(v, 0.9) or 0.0, sd)


def bin_of(ms: int, tz: ZoneInfo) -> tuple[date, int]:
    d = datetime.fromtimestamp(ms / 1000, tz)
    return d.date(), (d.hour * 60 + d.minute) // BIN_MIN


def build_profiles(facts: Iterable[TicketFacts], tz: ZoneInfo) -> Profiles:
    """The profiles of the tickets in `facts` (a period's, any order)."""
    fs = list(facts)
    seen_days: set[date] = set()
    counts: dict[int, dict[str, list[int]]] = {}
    service: dict[str, list[float]] = {}
    clerk: dict[tuple[str, str], list[float]] = {}
    by_counter: dict[int, list[tuple[str, float]]] = {}
    issued: dict[str, int] = {}
    no_show: dict[str, int] = {}
    appt: dict[str, int] = {}
    for f in fs:
        day, b = bin_of(f.issued_ms, tz)
        seen_days.add(day)
        row = counts.setdefault(day.weekday(), {}).setdefault(f.category, [0] * BINS)
        row[b] += 1
        issued[f.category] = issued.get(f.category, 0) + 1
        if f.outcome == "no_show":
            no_show[f.category] = no_show.get(f.category, 0) + 1
        if f.source == "appointment":
            appt[f.category] = appt.get(f.category, 0) + 1
        if f.outcome == "done" and f.service_s is not None and not f.transferred:
            service.setdefault(f.category, []).append(f.service_s)
            if f.clerk:
                clerk.setdefault((f.clerk, f.category), []).append(f.service_s)
            if f.counter is not None:
                by_counter.setdefault(f.counter, []).append((f.category, f.service_s))
    days: dict[int, int] = {}
    for d in seen_days:
        days[d.weekday()] = days.get(d.weekday(), 0) + 1
    arrivals = {
        wd: {cat: [n / days[wd] for n in row] for cat, row in cats.items()} for wd, cats in sorted(counts.items())
    }
    svc = {c: t for c, v in sorted(service.items()) if (t := _times(v)) is not None}
    clerks: dict[str, dict[str, ServiceTimes]] = {}
    for (who, cat), v in sorted(clerk.items()):
        t = _times(v)
        if t is not None and t.count >= MIN_CLERK_SAMPLES:
            clerks.setdefault(who, {})[cat] = t
    speed: dict[int, float] = {}
    for n, rows in sorted(by_counter.items()):
        if len(rows) >= MIN_CLERK_SAMPLES:
            expected = sum(svc[c].mean_s for c, _ in rows if c in svc)
            speed[n] = sum(s for _, s in rows) / expected if expected > 0 else 1.0
    return Profiles(
        first=min(seen_days) if seen_days else None,
        last=max(seen_days) if seen_days else None,
        days=dict(sorted(days.items())),
        arrivals=arrivals,
        service=svc,
        clerk_service=clerks,
        counter_speed=speed,
        no_show_share={c: no_show.get(c, 0) / n for c, n in sorted(issued.items())},
        appointment_share={c: appt.get(c, 0) / n for c, n in sorted(issued.items())},
        tickets=len(fs),
        categories=sorted(issued),
    )


def _poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw (Knuth's product method; the rates here are small)."""
    if lam <= 0:
        return 0
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def arrivals_for(
    profiles: Profiles,
    weekday: int,
    day: date,
    tz: ZoneInfo,
    seed: int,
    *,
    sessions: Sequence[tuple[time, time]] = (),
    appointment_share: float | Mapping[str, float] | None = None,
    slot_minutes: int = 15,
) -> list[Arrival]:
    """One day of people drawn from the weekday's profile: a Poisson number
    per category and 15 minutes, at uniform times in it; a share of them
    (the history's per category, or `appointment_share`) booked the next
    slot and check in up to EARLY_MAX_MIN before it; a share are absent
    when called (the history's no-shows). Only arrivals inside `sessions`
    (when given) are kept."""
    rng = random.Random(seed)
    base = int(datetime.combine(day, time(0), tzinfo=tz).timestamp() * 1000)
    spans = [
        (
            int(datetime.combine(day, a, tzinfo=tz).timestamp() * 1000),
            int(datetime.combine(day, b, tzinfo=tz).timestamp() * 1000),
        )
        for a, b in sessions
    ]
    slot = slot_minutes * MIN
    out: list[Arrival] = []
    for cat, bins in sorted(profiles.arrivals.get(weekday, {}).items()):
        if appointment_share is None:
            share = profiles.appointment_share.get(cat, 0.0)
        elif isinstance(appointment_share, Mapping):
            share = float(appointment_share.get(cat, 0.0))
        else:
            share = float(appointment_share)
        absent = profiles.no_show_share.get(cat, 0.0)
        for b, lam in enumerate(bins):
            for _ in range(_poisson(rng, lam)):
                at = base + b * BIN_MIN * MIN + int(rng.random() * BIN_MIN * MIN)
                booked = rng.random() < share
                no_show = rng.random() < absent
                early = int(rng.random() * EARLY_MAX_MIN * MIN)
                if spans and not any(lo <= at < hi for lo, hi in spans):
                    continue
                slot_ms = None
                if booked:
                    slot_ms = at - at % slot + slot
                    span = next((s for s in spans if s[0] <= at < s[1]), None)
                    at = max(slot_ms - early, span[0] if span else slot_ms - early)
                out.append(Arrival(f"{cat}{len(out):04d}", at, cat, slot_ms=slot_ms, no_show=no_show))
    out.sort(key=lambda a: (a.at_ms, a.id))
    return out


def replay_arrivals(facts: Iterable[TicketFacts]) -> list[Arrival]:
    """A past day's people as they came, each with the service time they
    really took (served tickets; no-shows absent when called). Transferred
    tickets are kept with their first category's service time unknown (the
    simulator draws it)."""
    out = []
    for f in sorted(facts, key=lambda f: (f.issued_ms, f.ticket)):
        if f.outcome not in ("done", "no_show", "expired"):
            continue
        slot = f.start_ms if f.source == "appointment" and f.start_ms > f.issued_ms else None
        service = int(f.service_s * 1000) if f.service_s is not None and not f.transferred else None
        out.append(
            Arrival(f.ticket, f.issued_ms, f.category, slot_ms=slot, service_ms=service, no_show=f.outcome == "no_show")
        )
    return out


def sessions_of(cfg: SiteConfig, weekday: int) -> tuple[Session, ...]:
    """The weekday's working sessions (0 = Monday), holidays aside."""
    return cfg.hours.weekly.get(WEEKDAYS[weekday], ())


def staffing_for(
    cfg: SiteConfig,
    day: date,
    sessions: Sequence[Session],
    open_counts: Sequence[int] | None = None,
    work_profiles: Mapping[int, Sequence[str]] | None = None,
    speed: Mapping[int, float] | None = None,
    cover: bool = True,
) -> Staffing:
    """Which counters are open in each session: the first `open_counts[i]`
    enabled counters of the configuration in session i (all of them when not
    given), each with its work profile (or `work_profiles`' replacement).
    `cover`: a category that no open counter serves is added at the end of
    the profile of the open counter serving the fewest (a supervisor who
    closes counters has the others take their categories)."""
    tz = cfg.site.tz
    enabled = [c for c in cfg.counters if c.enabled]
    shifts = []
    for i, s in enumerate(sessions):
        n = len(enabled) if open_counts is None or i >= len(open_counts) else max(0, int(open_counts[i]))
        profiles = {c.number: list((work_profiles or {}).get(c.number, c.categories)) for c in enabled[:n]}
        if cover:
            # a category no open counter serves goes last on the open counter with the shortest profile
            for cat in cfg.categories:
                if profiles and not any(cat.code in p for p in profiles.values()):
                    min(profiles.values(), key=len).append(cat.code)
        desks = tuple(Desk(num, tuple(p), (speed or {}).get(num, 1.0)) for num, p in profiles.items())
        lo = int(datetime.combine(day, s.start, tzinfo=tz).timestamp() * 1000)
        hi = int(datetime.combine(day, s.end, tzinfo=tz).timestamp() * 1000)
        shifts.append(Shift(lo, hi, desks))
    return Staffing(tuple(shifts))


def rules_for(cfg: SiteConfig, profiles: Profiles | None = None) -> Rules:
    """The call rules and the room of the site, with the history's service
    times where there are some (the configured averages otherwise)."""
    svc = profiles.service if profiles else {}
    service = {c.code: int(svc[c.code].mean_s * 1000) if c.code in svc else c.service_ms for c in cfg.categories}
    sigmas = [t.sigma for t in svc.values() if t.count > 1]
    return Rules(
        targets_ms={c.code: c.target_wait_ms for c in cfg.categories},
        service_ms=service,
        factor=cfg.queue.starvation_factor,
        seats=cfg.site.seats,
        sigma=sorted(sigmas)[len(sigmas) // 2] if sigmas else 0.45,
    )
