"""FACTS_SQL and SUMMARY_SQL (DuckDB over the archive) and fold_tickets and
summarize (Python) are the same definitions: on generated days (no-shows, requeues, transfers, recalls, ratings,
bookings on time and late), every ticket's facts are equal."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import date, datetime, timedelta

import pytest

from queue_server.domain.config import load_toml
from queue_server.domain.demo import history
from queue_server.domain.reports import (
    Filters,
    facts_from_rows,
    filter_params,
    fold_tickets,
    period_bounds,
    summarize,
    summary_from_groups,
)
from queue_server.store.archive import EventArchive
from queue_server.store.keys import Keys


class NoRedis:
    """The archive reads no stream here: an empty tail, no checkpoint."""

    async def get(self, key):
        return None

    async def xrange(self, *a, **kw):
        return []


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sql_facts_equal_the_python_fold(tmp_path, seed):
    cfg = load_toml(None)
    tz = cfg.site.tz
    today = date(2026, 11, 28)  # a Saturday: the five days before are working days
    archive = EventArchive(NoRedis(), Keys("sqltest"), None, tmp_path)
    events = []
    for day, evs in history(cfg, today, 5, 150, seed):
        archive.import_events(evs, tz, day.toordinal() * 100_000)
        events += evs
    lo, hi = period_bounds(date(2026, 11, 24), date(2026, 11, 26), tz)
    rows, _ = asyncio.run(archive.report_facts(lo, hi, tz))
    sql = {f.ticket: dataclasses.asdict(f) for f in facts_from_rows(rows)}
    events.sort(key=lambda e: e["ts"])  # the log's order (the import's ids follow ts within a day)
    py = {t: dataclasses.asdict(f) for t, f in fold_tickets(events).items() if lo <= f.issued_ms < hi}
    assert len(sql) > 300 and sql.keys() == py.keys()
    outcomes = {f["outcome"] for f in py.values()}
    assert {"done", "no_show"} <= outcomes and any(f["transferred"] for f in py.values())
    assert any(f["source"] == "appointment" for f in py.values()) and any(f["ratings"] for f in py.values())
    for t in py:
        assert sql[t] == py[t], t


def close(a, b, path="$"):
    if isinstance(a, float) or isinstance(b, float):
        assert a is not None and b is not None and abs(a - b) <= 1e-9 * max(1.0, abs(b)), f"{path}: {a} != {b}"
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), f"{path}: {sorted(a)} != {sorted(b)}"
        for k in a:
            close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), f"{path}: {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            close(x, y, f"{path}[{i}]")
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


@pytest.mark.parametrize("when", ["closed_month", "recent"])
@pytest.mark.parametrize(
    "filters",
    [Filters(), Filters(category="HT"), Filters(counter=3), Filters(clerk="canbo2"), Filters(source="appointment")],
    ids=["all", "category", "counter", "clerk", "source"],
)
def test_the_sql_summary_equals_the_python_summary(tmp_path, filters, when):
    """A closed month answers from the monthly cache, recent days from the events."""
    cfg = load_toml(None)
    tz = cfg.site.tz
    archive = EventArchive(NoRedis(), Keys("sqltest"), None, tmp_path)
    events = []
    upto = date(2026, 10, 31) if when == "closed_month" else datetime.now(tz).date()
    for day, evs in history(cfg, upto, 7, 150, 11):
        archive.import_events(evs, tz, day.toordinal() * 100_000)
        events += evs
    events.sort(key=lambda e: e["ts"])
    start, end = upto - timedelta(days=6), upto - timedelta(days=2)
    lo, hi = period_bounds(start, end, tz)
    targets = {c.code: c.target_wait_min * 60 for c in cfg.categories}
    groups, ratings, appts = asyncio.run(archive.report_groups(lo, hi, tz, targets, filter_params(filters), daily=True))
    kw = {"start": start, "end": end, "tz": tz, "rating_scale": 3, "filters": filters, "daily": True}
    sql = summary_from_groups(groups, ratings, appts, **kw)
    py = summarize(events, targets_s=targets, **kw)
    assert py["totals"]["issued"] > 0 and py["totals"]["served"] > 0
    close(sql, py)


def test_cached_day_facts_answer_the_same_and_follow_new_events(tmp_path):
    cfg = load_toml(None)
    tz = cfg.site.tz
    archive = EventArchive(NoRedis(), Keys("sqltest"), None, tmp_path)
    days = list(history(cfg, date(2026, 10, 31), 5, 100, 4))  # Mon 26 - Fri 30 October: a closed month
    for day, evs in days[:-1]:
        archive.import_events(evs, tz, day.toordinal() * 100_000)
    start, end = date(2026, 10, 26), date(2026, 10, 30)
    lo, hi = period_bounds(start, end, tz)
    targets = {c.code: c.target_wait_min * 60 for c in cfg.categories}

    def summary():
        g, r, a = asyncio.run(archive.report_groups(lo, hi, tz, targets, filter_params(Filters())))
        return summary_from_groups(g, r, a, start=start, end=end, tz=tz)

    first = summary()
    cache = archive.cache_paths(start)
    assert all(p.exists() for p in cache) and [p.name for p in cache] == [
        "facts-2026-10.parquet",
        "appointments-2026-10.parquet",
    ]
    built = cache[0].stat().st_mtime_ns
    close(summary(), first)  # from the cache
    # the last day's events arrive: the month's cache is made again, the figures grow
    day, evs = days[-1]
    archive.import_events(evs, tz, day.toordinal() * 100_000)
    later = summary()
    assert cache[0].stat().st_mtime_ns > built  # made again
    assert later["totals"]["issued"] == first["totals"]["issued"] + sum(e["type"] == "issue" for e in evs)
    everything = [e for _, evs in days for e in evs]
    everything.sort(key=lambda e: e["ts"])
    close(later, summarize(everything, start=start, end=end, tz=tz, targets_s=targets))


def test_warm_makes_the_closed_months_once(tmp_path):
    cfg = load_toml(None)
    tz = cfg.site.tz
    archive = EventArchive(NoRedis(), Keys("sqltest"), None, tmp_path)
    for day, evs in history(cfg, date(2026, 10, 3), 5, 40, 2):  # 28 Sep - 2 Oct: two closed months
        archive.import_events(evs, tz, day.toordinal() * 100_000)
    assert archive.warm(tz) == 2
    made = [p.stat().st_mtime_ns for m in (date(2026, 9, 1), date(2026, 10, 1)) for p in archive.cache_paths(m)]
    assert archive.warm(tz) == 0
    lo, hi = period_bounds(date(2026, 9, 28), date(2026, 10, 2), tz)
    targets = {c.code: c.target_wait_min * 60 for c in cfg.categories}
    g, r, a = asyncio.run(archive.report_groups(lo, hi, tz, targets, filter_params(Filters())))
    assert summary_from_groups(g, r, a, start=date(2026, 9, 28), end=date(2026, 10, 2), tz=tz)["totals"]["issued"] > 0
    again = [p.stat().st_mtime_ns for m in (date(2026, 9, 1), date(2026, 10, 1)) for p in archive.cache_paths(m)]
    assert again == made  # the report used the cache as it was


def test_requests_building_one_month_at_once_all_answer(tmp_path):
    """The reports page asks for a period and the one before it together:
    both may build the same closed month's cache at the same moment. With
    one shared temp name one rename moved the other's file away (a 500 in
    CI). Eight builds at once, each on a fresh cache, all answer the same."""
    cfg = load_toml(None)
    tz = cfg.site.tz
    archive = EventArchive(NoRedis(), Keys("sqlrace"), None, tmp_path)
    for day, evs in history(cfg, date(2026, 10, 3), 5, 40, 4):
        archive.import_events(evs, tz, day.toordinal() * 100_000)
    lo, hi = period_bounds(date(2026, 9, 28), date(2026, 10, 2), tz)
    targets = {c.code: c.target_wait_min * 60 for c in cfg.categories}

    async def at_once() -> list:
        return await asyncio.gather(
            *(archive.report_groups(lo, hi, tz, targets, filter_params(Filters())) for _ in range(8))
        )

    for _ in range(3):  # each round on a cache made again from nothing
        for m in (date(2026, 9, 1), date(2026, 10, 1)):
            for p in archive.cache_paths(m):
                p.unlink(missing_ok=True)
        answers = asyncio.run(at_once())
        issued = {
            summary_from_groups(g, r, a, start=date(2026, 9, 28), end=date(2026, 10, 2), tz=tz)["totals"]["issued"]
            for g, r, a in answers
        }
        assert len(issued) == 1 and issued.pop() > 0
    assert not list(tmp_path.rglob("*.tmp"))  # no temp file left behind
