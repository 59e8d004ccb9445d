"""`motcua demo-data`: a realistic backdated history straight into the
archive, which the summary then reads (issue #11)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pyarrow.parquet as pq

from queue_server.bootstrap import build_services, build_stores
from queue_server.domain.config import load_toml
from queue_server.settings import Settings
from queue_server.store.connection import open_redis
from tests.helpers import run_sync


def demo(redis_url, data_dir, *extra):
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "queue_server.cli",
            "demo-data",
            "--redis-url",
            redis_url,
            "--data-dir",
            str(data_dir),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_demo_data_fills_the_archive_and_the_summary_reads_it(redis_url, tmp_path):
    out = demo(redis_url, tmp_path, "--days", "14", "--per-day", "120", "--seed", "7")
    tickets = int(out.split("/")[1].split()[0])
    cfg = load_toml(None)
    files = sorted((tmp_path / "archive" / cfg.site.id / "events").glob("*.parquet"))
    rows = sum(pq.read_table(f).num_rows for f in files)
    assert demo(redis_url, tmp_path, "--days", "14", "--per-day", "120", "--seed", "7")  # again: nothing twice
    assert sum(pq.read_table(f).num_rows for f in files) == rows

    async def summary():
        redis = open_redis(redis_url)
        try:
            stores = await build_stores(redis, cfg, data_dir=tmp_path)
            svc = build_services(stores, Settings())
            today = datetime.now(UTC).astimezone(cfg.site.tz).date()
            return await svc.reports.summary(
                (today - timedelta(days=14)).isoformat(), (today - timedelta(days=1)).isoformat()
            )
        finally:
            await redis.aclose()

    s = run_sync(summary())
    t = s["totals"]
    working_days = len({f.stem for f in files if pq.read_table(f).column("type").to_pylist().count("issue")})
    assert t["issued"] == tickets == working_days * 120 - s["appointments"]["cancelled"] - s["appointments"]["no_show"]
    assert t["served"] > 0.8 * t["issued"] and t["no_show"] > 0 and t["transferred"] > 0
    assert s["ratings"]["count"] > 0.4 * t["served"] and s["ratings"]["satisfied_share"] > 0.5
    assert s["appointments"]["booked"] > 0 and s["appointments"]["checked_in_on_time"] > 0
    hours = {r["hour"]: r["issued"] for r in s["by_hour"]}
    assert hours.get(8, 0) > hours.get(11, 0) and hours.get(14, 0) > hours.get(16, 0)  # peaks at 8:00 and 14:00
    assert {r["category"] for r in s["by_category"]} == {c.code for c in cfg.categories}
    assert s["wait_s"]["mean"] is not None and s["service_s"]["median"] > 0
