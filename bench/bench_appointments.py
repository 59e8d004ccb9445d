"""Online appointments under a rush (issue #10): N citizens at once, each
reading a day's slots and booking one with places left, against one server
process over loopback. Prints the p50/p99 of GET /api/appointments/slots and
of POST /api/appointments, the replies by status, and how many slots or
hours ended up overbooked (must be 0), and the work that machine noise
does not change: the server's CPU time and the Redis commands per citizen.
The citizens come from several client processes (--client-processes), their
clients made and connected before the clock starts. The figures
after the first wave leave out the first `concurrency` citizens, who meet
a server opening its Redis connections for them.

    .venv/bin/python -m bench.bench_appointments [--citizens 1000] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import collections
import multiprocessing as mp
import os
import platform
import queue
import random
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import httpx
import redis

from bench.bench_core import pct
from queue_server import redis_server
from queue_server.domain.config import load_toml
from queue_server.domain.slots import day_slots, iso
from tests.e2e.appointment_helpers import TZ, appointment_server, tomorrow
from tests.server import AS_DEPLOYED


def rush_part(base_url: str, day: str, ids: list[int], threads: int, start_at: float, out) -> None:
    """One client process's share of the rush: `threads` citizens at a time
    from `ids`, its clients made and connected before `start_at` (wall
    clock). Sends back (per citizen: id, GET ms, POST ms, status, error code)."""
    local = threading.local()
    idle: queue.SimpleQueue[httpx.Client] = queue.SimpleQueue()
    for _ in range(threads):
        c = httpx.Client(base_url=base_url, timeout=30)
        c.get("/healthz")
        idle.put(c)

    def client() -> httpx.Client:
        if not hasattr(local, "c"):
            local.c = idle.get()
        return local.c

    def citizen(i: int) -> tuple[int, float, float, int, str]:
        c = client()
        t0 = time.perf_counter()
        r = c.get("/api/appointments/slots", params={"category": "HT", "date": day})
        t1 = time.perf_counter()
        slots = r.json()["slots"]
        open_ = [s for s in slots if s["available"] > 0] or slots
        start = random.choice(open_)["start"]
        body = {"category": "HT", "start": start, "name": f"Công dân {i}", "phone": f"09{i:08d}"}
        t2 = time.perf_counter()
        p = c.post("/api/appointments", json=body, headers={"Idempotency-Key": f"bench-{i}"})
        t3 = time.perf_counter()
        code = p.json().get("error", "?") if p.status_code >= 400 else ""
        return i, (t1 - t0) * 1000, (t3 - t2) * 1000, p.status_code, code

    time.sleep(max(0.0, start_at - time.time()))
    with ThreadPoolExecutor(threads) as pool:
        rows = list(pool.map(citizen, ids))
    while not idle.empty():
        idle.get().close()
    out.put(rows)


def run(url: str, citizens: int, conc: int, procs: int) -> None:
    srv = appointment_server(url, ht_capacity=5)
    srv.env_overrides = AS_DEPLOYED
    srv.start()
    day = tomorrow()
    get_ms: list[float] = []
    post_ms: list[float] = []
    get_warm: list[float] = []
    post_warm: list[float] = []
    statuses: collections.Counter[int] = collections.Counter()
    codes: collections.Counter[str] = collections.Counter()

    r = redis.Redis.from_url(url)
    try:
        r.config_resetstat()
        # the citizens come from `procs` client processes (one Python process
        # with 50 threads was itself the bottleneck: its GIL, not the server,
        # set the latencies), all starting at one instant
        ctx = mp.get_context("fork")
        out = ctx.Queue()
        start_at = time.time() + 3.0
        parts = [
            ctx.Process(
                target=rush_part,
                args=(srv.base_url, day, list(range(k, citizens, procs)), max(1, conc // procs), start_at, out),
            )
            for k in range(procs)
        ]
        for part in parts:
            part.start()
        time.sleep(max(0.0, start_at - time.time()))
        cpu0 = server_cpu(srv)
        t0 = time.perf_counter()
        rows = [row for _ in parts for row in out.get()]
        for part in parts:
            part.join()
        for i, g, p_, st, code in rows:
            get_ms.append(g)
            post_ms.append(p_)
            if i >= conc:  # after the first wave (the server's first requests open its Redis connections)
                get_warm.append(g)
                post_warm.append(p_)
            statuses[st] += 1
            if code:
                codes[code] += 1
        wall = time.perf_counter() - t0
        cpu = server_cpu(srv) - cpu0
        calls = sum(v["calls"] for v in r.info("commandstats").values())
        # overbooking: every slot within its capacity, every hour within its budget
        cfg = load_toml(srv.config_path)
        offered = day_slots(cfg, "HT", datetime.fromisoformat(day).date(), datetime.now(TZ))
        booked = srv.login("sup").get("/api/appointments", params={"date": day}).json()["appointments"]
        per_slot = collections.Counter(a["start"] for a in booked if a["status"] == "booked")
        per_hour = collections.Counter(a["start"][:13] for a in booked if a["status"] == "booked")
        over_slots = sum(1 for s in offered if per_slot[iso(s.start, TZ)] > s.capacity)
        budgets = {iso(s.start, TZ)[:13]: s.hour_budget for s in offered}
        over_hours = sum(1 for h, n in per_hour.items() if n > budgets.get(h, 0))
        places = sum(s.capacity for s in offered)
    finally:
        r.close()
        srv.close()
    print(
        f"Machine: {platform.platform()}, {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
        f"Python {platform.python_version()}; one uvicorn process; {citizens} citizens, concurrency {conc} "
        f"from {procs} client processes; "
        f"{wall:.1f} s"
    )
    print("| request | n | p50 ms | p90 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|")
    for name, xs in (
        ("GET /api/appointments/slots", get_ms),
        ("POST /api/appointments", post_ms),
        ("GET …/slots, after the first wave", get_warm),
        ("POST, after the first wave", post_warm),
    ):
        print(
            f"| {name} | {len(xs)} | {sorted(xs)[len(xs) // 2]:.1f} | {pct(xs, 0.9):.1f} | {pct(xs, 0.99):.1f} "
            f"| {max(xs):.1f} |"
        )
    print(
        f"replies: {dict(sorted(statuses.items()))} {dict(codes)}; booked {sum(per_slot.values())} of {places} places"
    )
    print(
        f"server CPU {cpu:.1f} s ({cpu / citizens * 1000:.1f} ms per citizen: one slots read and one booking); "
        f"Redis commands {calls} ({calls / citizens:.1f} per citizen, the reminder jobs' included)"
    )
    print(
        f"overbooked slots: {over_slots}; overbooked hours: {over_hours}; 5xx: {sum(n for s, n in statuses.items() if s >= 500)}"
    )
    if over_slots or over_hours:
        raise SystemExit("OVERBOOKED")


def server_cpu(srv) -> float:
    """CPU seconds (user + system) the server process has used so far."""
    fields = open(f"/proc/{srv.proc.pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--citizens", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--client-processes", type=int, default=2)
    a = ap.parse_args()
    proc = redis_server.start(tempfile.mkdtemp(prefix="motcua-bench-"))
    try:
        run(proc.url, a.citizens, a.concurrency, a.client_processes)
    finally:
        proc.stop()


if __name__ == "__main__":
    main()
