"""Reports over a year (issue #11): `demo-data --days 365 --per-day 800`
(about 200,000 tickets) into a fresh archive, then the year's summary and its
XLSX and PDF exports, timed (targets: summary < 2 s, XLSX < 10 s, PDF < 15 s). Prints only; the
lead records BENCHMARKS.md on a quiet machine.

    .venv/bin/python -m bench.bench_reports [--days 365] [--per-day 800] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from queue_server import redis_server
from queue_server.bootstrap import build_services, build_stores
from queue_server.domain.config import load_toml
from queue_server.domain.demo import history
from queue_server.domain.holidays import is_public_holiday
from queue_server.settings import Settings
from queue_server.store.connection import open_redis


async def run(url: str, data_dir: Path, days: int, per_day: int, repeat: int) -> None:
    cfg = load_toml(None)
    redis = open_redis(url)
    try:
        stores = await build_stores(redis, cfg, data_dir=data_dir)
        svc = build_services(stores, Settings(data_dir=data_dir))
        tz = cfg.site.tz
        today = datetime.now(UTC).astimezone(tz).date()
        t0 = time.perf_counter()
        events = tickets = 0
        for day, evs in history(cfg, today, days, per_day, 1, is_public_holiday):
            events += stores.archive.import_events(evs, tz, day.toordinal() * 100_000)
            tickets += sum(1 for e in evs if e["type"] == "issue")
        print(f"demo-data: {tickets} tickets, {events} events in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        months = stores.archive.warm(tz)
        print(
            f"monthly cache (as the archive job and demo-data make it): {months} months in {time.perf_counter() - t0:.1f} s"
        )
        lo, hi = (today - timedelta(days=days)).isoformat(), (today - timedelta(days=1)).isoformat()
        for i in range(repeat):
            t = time.perf_counter()
            s = await svc.reports.summary(lo, hi)
            summary_s = time.perf_counter() - t
            t = time.perf_counter()
            x = await svc.reports.export("xlsx", lo, hi)
            xlsx_s = time.perf_counter() - t
            t = time.perf_counter()
            pdf = await svc.reports.export("pdf", lo, hi)
            pdf_s = time.perf_counter() - t
            print(
                f"run {i + 1}: summary {summary_s:.2f} s (issued {s['totals']['issued']}), "
                f"xlsx {xlsx_s:.2f} s ({len(x.content) // 1024} KiB), pdf {pdf_s:.2f} s ({len(pdf.content) // 1024} KiB)"
            )
    finally:
        await redis.aclose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--per-day", type=int, default=800)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    print(
        f"Machine: {platform.platform()}, {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
        f"Python {platform.python_version()}; load average {os.getloadavg()}"
    )
    proc = redis_server.start(tempfile.mkdtemp(prefix="motcua-bench-"))
    try:
        with tempfile.TemporaryDirectory(prefix="motcua-bench-archive-") as d:
            asyncio.run(run(proc.url, Path(d), a.days, a.per_day, a.repeat))
    finally:
        proc.stop()
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
