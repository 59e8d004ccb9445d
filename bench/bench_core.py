"""Core queue engine benchmark: issue and call-next latency through the Lua
scripts (one process, asyncio, a private Redis) and through HTTP.

    .venv/bin/python -m bench.bench_core [--tickets 2000] [--concurrency 20]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

from queue_server import redis_server


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))]


def summary(name: str, xs: list[float], wall: float) -> str:
    return f"| {name} | {len(xs)} | {statistics.median(xs):.2f} | {pct(xs, 0.99):.2f} | {len(xs) / wall:,.0f} |"


async def bench_store(url: str, n: int, conc: int) -> list[str]:
    from tests.helpers import make_store

    s = await make_store(url)
    cats = ["HT", "CT", "DD", "XH", "KD", "KH"]
    lat: list[float] = []
    sem = asyncio.Semaphore(conc)

    async def issue(i):
        async with sem:
            t0 = time.perf_counter()
            await s.issue(cats[i % len(cats)])
            lat.append((time.perf_counter() - t0) * 1000)

    t0 = time.perf_counter()
    await asyncio.gather(*(issue(i) for i in range(n)))
    rows = [summary("issue (Lua, in-process)", lat, time.perf_counter() - t0)]
    lat = []

    async def call(i):
        async with sem:
            t0 = time.perf_counter()
            try:
                await s.call_next(1 + i % 5)
            except Exception:
                pass
            lat.append((time.perf_counter() - t0) * 1000)

    t0 = time.perf_counter()
    await asyncio.gather(*(call(i) for i in range(n)))
    rows.append(summary("call next (Lua, in-process)", lat, time.perf_counter() - t0))
    await s.redis.aclose()
    return rows


def bench_http(url: str, n: int, conc: int) -> list[str]:
    from tests.server import make_server

    srv = make_server(url).start()
    try:
        lat: list[float] = []
        local = __import__("threading").local()

        def client():
            if not hasattr(local, "c"):
                local.c = srv.device("kiosk")
            return local.c

        def issue(i):
            t0 = time.perf_counter()
            r = client().post("/api/tickets", json={"category": "HT"})
            assert r.status_code == 201
            lat.append((time.perf_counter() - t0) * 1000)

        t0 = time.perf_counter()
        with ThreadPoolExecutor(conc) as pool:
            list(pool.map(issue, range(n)))
        return [summary("POST /api/tickets (HTTP, 1 uvicorn process)", lat, time.perf_counter() - t0)]
    finally:
        srv.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickets", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=20)
    a = ap.parse_args()
    proc = redis_server.start(tempfile.mkdtemp(prefix="motcua-bench-"))
    try:
        rows = asyncio.run(bench_store(proc.url, a.tickets, a.concurrency))
        rows += bench_http(proc.url, min(a.tickets, 1000), a.concurrency)
    finally:
        proc.stop()
    version = subprocess.run([redis_server.find_binary(), "--version"], capture_output=True, text=True).stdout.split()[
        2
    ]
    print(
        f"Machine: {platform.platform()}, {platform.processor() or platform.machine()}, "
        f"{__import__('os').cpu_count()} cores; Python {platform.python_version()}; server {version}; "
        f"AOF appendfsync always; concurrency {a.concurrency}"
    )
    print("| operation | n | p50 ms | p99 ms | ops/s |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
