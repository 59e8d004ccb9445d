"""FACTS_SQL (DuckDB over the archive) and fold_tickets (Python) are the same
fold: on generated days (no-shows, requeues, transfers, recalls, ratings,
bookings on time and late), every ticket's facts are equal."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import date

import pytest

from queue_server.domain.config import load_toml
from queue_server.domain.demo import history
from queue_server.domain.reports import facts_from_rows, fold_tickets, period_bounds
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
