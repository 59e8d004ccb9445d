"""The staffing service on real stores (issue #15): the profiles read from the
Parquet archive with DuckDB (FACTS_SQL) equal the pure fold of the same
events (domain/reports.fold_tickets), and a plan with fewer counters
changes the simulated day; bad plans are refused with invalid_staffing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from queue_server.domain.config import load_toml
from queue_server.domain.demo import history
from queue_server.domain.profiles import build_profiles
from queue_server.domain.reports import fold_tickets
from queue_server.errors import AppError
from queue_server.services.staffing import StaffingService
from queue_server.store.archive import EventArchive
from queue_server.store.scripts import Scripts
from tests.helpers import make_store, run_sync, test_config


def test_profiles_from_the_archive_and_a_plan(redis_url, tmp_path):
    async def go():
        cfg = test_config()
        s = await make_store(redis_url, cfg=cfg)
        tz = cfg.site.tz
        today = datetime.now(UTC).astimezone(tz).date()
        archive = EventArchive(s.redis, s.keys, Scripts(s.redis), tmp_path)
        facts = []
        for day, evs in history(load_toml(None), today, 10, 80, 11):
            archive.import_events(evs, tz, day.toordinal() * 100_000)
            facts += fold_tickets(evs).values()
        svc = StaffingService(s.config, archive)
        got = await svc.profiles(cfg)
        want = build_profiles(facts, tz)
        assert got.tickets == want.tickets > 400
        assert got.days == want.days
        assert got.arrivals == want.arrivals
        assert got.service == pytest.approx(want.service)
        assert got.no_show_share == want.no_show_share
        assert got.appointment_share == want.appointment_share

        monday = str(next(d for d in (today - timedelta(days=i) for i in range(1, 8)) if d.weekday() == 0).weekday())
        full = await svc.plan(monday, None, None, None)
        thin = await svc.plan(monday, "2,1", "1:CT.HT", "0.3")
        assert full["current"] == full["proposed"]
        assert thin["current"]["mean_wait_min"] == full["current"]["mean_wait_min"]
        assert thin["proposed"]["open"] == [2, 1]
        assert thin["proposed"]["profiles"]["1"][:2] == ["CT", "HT"]
        assert thin["proposed"]["appointment_share"] == 0.3
        assert thin["proposed"]["standing_minutes"] > full["proposed"]["standing_minutes"]
        assert [r["hour"] for r in thin["erlang"]] == [7, 8, 9, 10, 11, 13, 14, 15, 16]
        assert all(r["needed"] >= r["needed_pooled"] for r in thin["erlang"])
        assert thin["profile"]["categories"][0]["code"] == "HT"
        for bad in (
            ("8", None, None, None),
            ("0", "1,2,3", None, None),
            ("0", None, "9:HT", None),
            ("0", None, "1:HT.XX", None),
            ("0", None, None, "-1"),
            ("0", "a", None, None),
        ):
            with pytest.raises(AppError) as e:
                await svc.plan(*bad)
            assert e.value.code == "invalid_staffing", bad
        await s.redis.aclose()

    run_sync(go())
