"""A realistic backdated history for the reports (`motcua demo-data`): pure,
seeded, in the event log's own format (domain/events.py).

Per working day (the site's sessions, holidays and closures): M tickets
arriving around peaks at 8:00 and 14:00, categories weighted, service times
around each category's average (log-normal), counters by their work profile
(the first free one serving the category), a few no-shows (some come back
and are served), transfers, ratings skewed to satisfied, ~10 % of visits
booked online (checked in on time or late, some bookings cancelled or not
come), and what is still waiting at the end of the day expired.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from queue_server.domain.config import SiteConfig
from queue_server.domain.events import SCHEMA
from queue_server.domain.hours import sessions_on

MIN = 60_000
PEAKS = ((time(8, 0), 0.55), (time(14, 0), 0.45))
PEAK_SD_MIN = 50


def _blank(kind: str, optional: bool) -> Any:
    if optional:
        return None
    return {"int": 0, "str": "", "bool": False}[kind]


def event(type_: str, ts: int, **fields: Any) -> dict[str, Any]:
    """An event with every declared field of its type (blank when not given)."""
    spec = SCHEMA[type_]
    e = {name: _blank(f.kind, f.optional) for name, f in spec.items()}
    e.update(type=type_, ts=ts, seq=0)
    e.update(fields)
    return e


@dataclass
class _Counter:
    number: int
    categories: tuple[str, ...]
    clerk: str
    free_at: int = 0


def _ms(day: date, t: time, tz: Any) -> int:
    return int(datetime.combine(day, t, tzinfo=tz).timestamp() * 1000)


def day_events(
    cfg: SiteConfig, day: date, per_day: int, rng: random.Random, is_holiday: Callable[[date], bool]
) -> list[dict[str, Any]]:
    """The events of one day, oldest first (no events on a closed day)."""
    sessions = sessions_on(day, cfg.hours, is_holiday)
    if not sessions:
        return []
    tz = cfg.site.tz
    spans = [(_ms(day, s.start, tz), _ms(day, s.end, tz)) for s in sessions]
    close = spans[-1][1]
    cats = list(cfg.categories)
    weights = [max(1.0, 10 - 1.5 * i) for i in range(len(cats))]
    counters = [_Counter(c.number, tuple(c.categories), f"canbo{c.number}", spans[0][0]) for c in cfg.counters]
    out: list[dict[str, Any]] = []
    arrivals: list[int] = []
    while len(arrivals) < per_day:
        peak, _ = rng.choices(PEAKS, weights=[w for _, w in PEAKS])[0]
        t = _ms(day, peak, tz) + int(rng.gauss(0, PEAK_SD_MIN) * MIN)
        if any(lo <= t < hi - 10 * MIN for lo, hi in spans):
            arrivals.append(t)
    arrivals.sort()
    numbers: dict[str, int] = {}
    for i, at in enumerate(arrivals):
        cat = rng.choices(cats, weights=weights)[0]
        numbers[cat.code] = numbers.get(cat.code, 0) + 1
        number = f"{cat.prefix}{numbers[cat.code]:03d}"
        tid = f"d{day:%Y%m%d}{i:05d}"
        base = {"ticket": tid, "number": number, "category": cat.code, "priority": False}
        source = "walk_in"
        start = at
        if rng.random() < 0.12:  # booked online (any category: the demo shows the figures)
            appt = f"a{tid}"
            slot = at - at % (15 * MIN) + 15 * MIN
            booked = slot - rng.randint(1, 5) * 86_400_000 - rng.randint(0, 600) * MIN
            fate = rng.random()
            out.append(event("appointment_book", booked, appointment=appt, category=cat.code, start=slot))
            if fate < 0.08:
                out.append(
                    event("appointment_cancel", booked + 3600_000, appointment=appt, category=cat.code, start=slot)
                )
                continue
            if fate < 0.15:
                out.append(event("appointment_no_show", close, appointment=appt, category=cat.code, start=slot))
                continue
            late = fate > 0.93
            at = slot + (rng.randint(20, 40) * MIN if late else -rng.randint(0, 25) * MIN)
            out.append(
                event("appointment_checkin", at, appointment=appt, category=cat.code, start=slot, ticket=tid, late=late)
            )
            source = "walk_in" if late else "appointment"
            start = at if late else max(at, slot)
        out.append(event("issue", at, **base, source=source, counter=None, clerk="", ahead=0, device="kiosk"))
        serving = [c for c in counters if cat.code in c.categories] or counters
        c = min(serving, key=lambda k: (k.free_at, k.categories.index(cat.code) if cat.code in k.categories else 9))
        call = max(start, c.free_at) + rng.randint(5, 40) * 1000
        if call > close:
            out.append(event("expire", close + 30 * MIN, **base, source=source, counter=None, clerk="system"))
            continue
        fields = {**base, "source": source, "counter": c.number, "clerk": c.clerk}
        out.append(event("call", call, **fields, wait_ms=call - start, issued_at=at))
        r = rng.random()
        if r < 0.05:  # no-show; a third come back and are served later
            out.append(event("no_show", call + 2 * MIN, **fields))
            c.free_at = call + 2 * MIN
            if rng.random() < 0.35:
                back = call + rng.randint(10, 40) * MIN
                out.append(event("requeue", back, **fields))
                call = max(back, c.free_at) + 30_000
                out.append(event("call", call, **fields, wait_ms=call - start, issued_at=at))
            else:
                continue
        elif r < 0.08 and len(cats) > 1:  # transferred to another category, served at once elsewhere
            other = rng.choice([k for k in cats if k.code != cat.code])
            out.append(
                event(
                    "transfer",
                    call + MIN,
                    **fields,
                    from_category=cat.code,
                    from_counter=c.number,
                    to_category=other.code,
                    to_counter=None,
                )
            )
            c.free_at = call + MIN
            dest = [k for k in counters if other.code in k.categories] or counters
            c = min(dest, key=lambda k: k.free_at)
            call = max(call + MIN, c.free_at) + 20_000
            fields = {**fields, "category": other.code, "counter": c.number, "clerk": c.clerk}
            out.append(event("call", call, **fields, wait_ms=call - start, issued_at=at))
            cat = other
        if rng.random() < 0.1:
            out.append(event("recall", call + 40_000, **fields, calls=2))
        service = int(cat.service_min * MIN * math.exp(rng.gauss(-0.1, 0.45)))
        done = call + max(30_000, service)
        out.append(event("done", done, **fields, service_ms=done - call))
        c.free_at = done
        if rng.random() < 0.55:
            scale = cfg.queue.rating_scale
            level = rng.choices(range(1, scale + 1), weights=[1] + [2] * (scale - 3) + [6, 14])[0]
            out.append(event("rating", done + 20_000, **fields, level=level, scale=scale, via="tablet"))
    out.sort(key=lambda e: e["ts"])
    return out


def history(
    cfg: SiteConfig,
    today: date,
    days: int,
    per_day: int,
    seed: int,
    is_holiday: Callable[[date], bool] = lambda d: False,
) -> Iterator[tuple[date, list[dict[str, Any]]]]:
    """The events of each of the `days` calendar days before `today`, oldest first."""
    rng = random.Random(seed)
    for back in range(days, 0, -1):
        day = today - timedelta(days=back)
        yield day, day_events(cfg, day, per_day, rng, is_holiday)
