"""FACTS_SQL and SUMMARY_SQL (DuckDB over the archive) and fold_tickets and
summarize (Python) are the same definitions: on generated days (no-shows, requeues, transfers, recalls, ratings,
bookings on time and late), every ticket's facts are equal."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import date

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


@pytest.mark.parametrize(
    "filters",
    [Filters(), Filters(category="HT"), Filters(counter=3), Filters(clerk="canbo2"), Filters(source="appointment")],
    ids=["all", "category", "counter", "clerk", "source"],
)
def test_the_sql_summary_equals_the_python_summary(tmp_path, filters):
    cfg = load_toml(None)
    tz = cfg.site.tz
    archive = EventArchive(NoRedis(), Keys("sqltest"), None, tmp_path)
    events = []
    for day, evs in history(cfg, date(2026, 11, 28), 5, 150, 11):
        archive.import_events(evs, tz, day.toordinal() * 100_000)
        events += evs
    events.sort(key=lambda e: e["ts"])
    start, end = date(2026, 11, 24), date(2026, 11, 26)
    lo, hi = period_bounds(start, end, tz)
    targets = {c.code: c.target_wait_min * 60 for c in cfg.categories}
    groups, ratings, appts = asyncio.run(archive.report_groups(lo, hi, tz, targets, filter_params(filters)))
    kw = {"start": start, "end": end, "tz": tz, "rating_scale": 3, "filters": filters, "daily": True}
    sql = summary_from_groups(groups, ratings, appts, **kw)
    py = summarize(events, targets_s=targets, **kw)
    assert py["totals"]["issued"] > 0 and py["totals"]["served"] > 0
    close(sql, py)
