"""Cost of one read of a counter's statistics of the day: the hash the Lua
scripts keep (TicketStore.counter_day_stats) against the full scan of the
day's event log the counter app did on every event (counter_stats()).

    .venv/bin/python -m bench.bench_counter_stats [--sizes 100,10000] [--reads 200]

For each size a fresh site gets that many events today (issue, call, done
at five counters), then counter 1's stats are read `--reads` times each way.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from typing import Any

from queue_server import redis_server


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))]


def day_start_ms(tz, now_ms: int) -> int:
    local = datetime.fromtimestamp(now_ms / 1000, tz=UTC).astimezone(tz)
    return int(local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp() * 1000)


async def scan_counter_stats(redis, keys, tz, n: int, now: int) -> dict[str, Any]:
    """The old full scan of the day's events (the integration test's reference copy)."""
    from tests.integration.test_counter_stats import scan_counter_stats as scan

    return await scan(redis, keys, n, start=f"{day_start_ms(tz, now)}-0")


async def fill(s, events: int, conc: int = 16) -> int:
    """`events` events today: per visit an issue, then a call that also
    finishes the counter's previous ticket (issue + call + done)."""
    cats = {1: "HT", 2: "CT", 3: "CT", 4: "DD", 5: "XH"}
    sem = asyncio.Semaphore(conc)

    async def issue(i):
        async with sem:
            await s.issue(cats[1 + i % 5])

    async def call(i):
        async with sem:
            try:
                await s.call_next(1 + i % 5)
            except Exception:
                pass

    visits = max(1, events // 3)
    await asyncio.gather(*(issue(i) for i in range(visits)))
    for i in range(0, visits, 5):  # one call per counter at a time: each finishes the last
        await asyncio.gather(*(call(j) for j in range(i, min(i + 5, visits))))
    while int(await s.redis.xlen(s.keys.events)) < events:  # top up with issues to the exact size
        await s.issue("KH")
    return int(await s.redis.xlen(s.keys.events))


async def measure(fn, reads: int) -> list[float]:
    out = []
    for _ in range(reads):
        t0 = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


async def bench(url: str, sizes: list[int], reads: int) -> list[str]:
    from tests.helpers import make_store

    rows = []
    for size in sizes:
        s = await make_store(url)
        cfg = await s.config.get()
        n_events = await fill(s, size)
        await asyncio.sleep(1.0)  # let a background AOF rewrite after the fill settle
        now = int(time.time() * 1000)
        new = await s.counter_day_stats(1)
        old = await scan_counter_stats(s.redis, s.keys, cfg.site.tz, 1, now)
        assert new == old, (new, old)
        scan_reads = max(20, min(reads, reads * 100 // max(size, 100)))
        for name, fn, k in (
            ("stats hash: TicketStore.counter_day_stats()", lambda s=s: s.counter_day_stats(1), reads),
            (
                "full scan: counter_stats() before",
                lambda s=s, cfg=cfg: scan_counter_stats(s.redis, s.keys, cfg.site.tz, 1, int(time.time() * 1000)),
                scan_reads,
            ),
        ):
            lat = await measure(fn, k)
            rows.append(f"| {n_events:,} | {name} | {k} | {statistics.median(lat):.3f} | {pct(lat, 0.99):.3f} |")
        await s.redis.aclose()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100,10000", help="events in the day, comma-separated")
    ap.add_argument("--reads", type=int, default=200)
    a = ap.parse_args()
    sizes = [int(x) for x in a.sizes.split(",")]
    proc = redis_server.start(tempfile.mkdtemp(prefix="motcua-bench-"))
    try:
        rows = asyncio.run(bench(proc.url, sizes, a.reads))
    finally:
        proc.stop()
    version = subprocess.run([redis_server.find_binary(), "--version"], capture_output=True, text=True).stdout.split()[
        2
    ]
    print(
        f"Machine: {platform.platform()}, {platform.processor() or platform.machine()}, "
        f"{__import__('os').cpu_count()} cores; Python {platform.python_version()}; server {version}; "
        f"one counter-stats read of counter 1, sequential"
    )
    print("| events today | read | n | p50 ms | p99 ms |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
