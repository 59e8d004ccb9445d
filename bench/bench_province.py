"""Province benchmark (issue #16): many communes on one deployment.

    .venv/bin/python -m bench.bench_province [--sites 150] [--tickets 10]
        [--boards 2] [--counters 5] [--cluster]

One `motcua serve` process (uvicorn, 1 worker) on one Redis (`appendfsync
always`), or with --cluster on a local 3-master Redis Cluster (3 replicas,
WAIT 1 after each acknowledged write; RQ on its own plain Redis). The
deployment's default site plus `--sites - 1` sites added through the
province API (`POST /api/province/sites`, as the /province page does),
each with its own kiosk and display tokens and its own admin.

The morning peak: every site's 8:00 burst at once. Each site's kiosk issues
`--tickets` tickets (all sites concurrently), then each site's counters call
Next until its queue is empty, while `--boards` board websockets per site
(in a separate client process) listen. Measured:
- issue: `POST /s/{site}/api/tickets` latency (kiosk token);
- call: `POST /s/{site}/api/counters/{n}/next` latency (the site's admin);
- call -> board: from just before a call is sent to the moment each of the
  site's boards has read the call's event (CLOCK_MONOTONIC, shared by the
  processes of one machine);
- memory per site: the API's RSS and Redis's used_memory after every site
  was served, less before the sites were added, divided by the sites.
A board that never sees a call, or sees another site's call, is an error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import platform
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.server import PASSWORD  # noqa: E402  (the test sites' staff password)

CATS = ["HT", "CT", "DD", "XH", "KD", "KH"]


def pct(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    k = (len(s) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def boards_main(ws_base: str, sites: list[tuple[str, str]], boards: int, conn) -> None:
    """A separate process: `boards` board websockets per site; records when
    each call event arrived, by (site, ticket id)."""
    import websockets

    async def one(prefix: str, token: str, seen: dict[str, float], ready: asyncio.Event) -> None:
        async with websockets.connect(f"{ws_base}{prefix}/ws/board?token={token}", open_timeout=60) as ws:
            await ws.recv()  # the snapshot
            ready.set()
            async for raw in ws:
                m = json.loads(raw)
                if m.get("type") != "event":
                    continue
                for ev in m.get("events") or [m["event"]]:  # a board message may carry a run of events
                    if ev.get("type") == "call":
                        seen.setdefault(ev["ticket"], time.monotonic())

    async def run() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
        per_board: list[tuple[str, dict[str, float]]] = []
        tasks: list[asyncio.Task[None]] = []
        sem = asyncio.Semaphore(20)  # connects at a time

        async def start(prefix: str, token: str) -> bool:
            d: dict[str, float] = {}
            ready = asyncio.Event()
            async with sem:
                t = asyncio.create_task(one(prefix, token, d, ready))
                tasks.append(t)
                waiter = asyncio.create_task(ready.wait())
                await asyncio.wait({t, waiter}, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
            per_board.append((prefix, d))
            return ready.is_set()

        ok = await asyncio.gather(*(start(p, t) for p, t in sites for _ in range(boards)))
        conn.send(("ready", sum(ok)))
        while await asyncio.to_thread(conn.recv) == "count":  # until the driver's "done"
            conn.send(sum(len(d) for _, d in per_board))
        for t in tasks:
            t.cancel()
        seen: dict[str, dict[str, list[float]]] = {}
        for prefix, d in per_board:
            for tid, at in d.items():
                seen.setdefault(prefix, {}).setdefault(tid, []).append(at)
        conn.send(("seen", seen))

    asyncio.run(run())


def drive_part(base: str, sites: list[dict[str, Any]], tickets: int, counters: int, start_at: float, conn) -> None:
    """One driver process: its share of the sites, from `start_at` (wall clock)."""
    time.sleep(max(0.0, start_at - time.time()))
    conn.send(asyncio.run(drive(base, sites, tickets, counters)))


def drive_all(base: str, sites: list[dict[str, Any]], tickets: int, counters: int, drivers: int) -> dict[str, Any]:
    """The burst from `drivers` processes at once (one Python process with
    every site's requests in flight was itself the bottleneck: 100 % of a
    core while the API idled), their results merged."""
    ctx = mp.get_context("spawn")
    pipes, procs = [], []
    start_at = time.time() + 5.0
    for k in range(drivers):
        parent, child = ctx.Pipe()
        p = ctx.Process(target=drive_part, args=(base, sites[k::drivers], tickets, counters, start_at, child))
        p.start()
        pipes.append(parent)
        procs.append(p)
    parts = [pipe.recv() for pipe in pipes]
    for p in procs:
        p.join(30)
    out: dict[str, Any] = {"issue_ms": [], "call_ms": [], "call_sent": {}, "errors": [], "retries": 0}
    for r in parts:
        out["issue_ms"] += r["issue_ms"]
        out["call_ms"] += r["call_ms"]
        out["call_sent"].update(r["call_sent"])
        out["errors"] += r["errors"]
        out["retries"] += r["retries"]
    out["issue_wall"] = max(r["issue_wall"] for r in parts)
    out["call_wall"] = max(r["call_wall"] for r in parts)
    return out


async def drive(base: str, sites: list[dict[str, Any]], tickets: int, counters: int) -> dict[str, Any]:
    import httpx

    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    issue_ms: list[float] = []
    call_ms: list[float] = []
    call_sent: dict[tuple[str, str], float] = {}
    errors: list[str] = []
    retries = [0]
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as c:

        async def post(url: str, headers: dict[str, str], **kw: Any) -> httpx.Response:
            """A POST with one Idempotency-Key, sent again on a dropped connection
            (a keep-alive connection the server closed as the request went out)."""
            headers = {**headers, "Idempotency-Key": secrets.token_hex(8)}
            for attempt in range(3):
                try:
                    return await c.post(url, headers=headers, **kw)
                except httpx.TransportError:
                    if attempt == 2:
                        raise
                    retries[0] += 1
            raise AssertionError("unreachable")

        async def issue(site: dict[str, Any], i: int) -> None:
            t0 = time.perf_counter()
            r = await post(
                f"{site['prefix']}/api/tickets",
                {"Authorization": f"Bearer {site['kiosk']}"},
                json={"category": CATS[i % len(CATS)]},
            )
            issue_ms.append((time.perf_counter() - t0) * 1000)
            if r.status_code != 201:
                errors.append(f"issue {site['id']}: {r.status_code} {r.text[:100]}")

        t_issue = time.perf_counter()
        await asyncio.gather(*(issue(s, i) for s in sites for i in range(tickets)))
        issue_wall = time.perf_counter() - t_issue

        async def counter(site: dict[str, Any], n: int) -> None:
            while True:
                t0 = time.perf_counter()
                sent = time.monotonic()
                r = await post(
                    f"{site['prefix']}/api/counters/{n}/next", {"Cookie": site["cookie"], "X-CSRF-Token": site["csrf"]}
                )
                call_ms.append((time.perf_counter() - t0) * 1000)
                body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
                if r.status_code != 200:
                    if body.get("error") not in ("queue_empty", "no_ticket", "nothing_waiting"):
                        errors.append(f"call {site['id']}/{n}: {r.status_code} {r.text[:100]}")
                    return
                t = body.get("ticket")
                if not t:
                    return
                call_sent[(site["prefix"], t["id"])] = sent
                await post(
                    f"{site['prefix']}/api/counters/{n}/done", {"Cookie": site["cookie"], "X-CSRF-Token": site["csrf"]}
                )

        t_call = time.perf_counter()
        await asyncio.gather(*(counter(s, n) for s in sites for n in range(1, counters + 1)))
        call_wall = time.perf_counter() - t_call
    return {
        "issue_ms": issue_ms,
        "call_ms": call_ms,
        "call_sent": call_sent,
        "errors": errors,
        "retries": retries[0],
        "issue_wall": issue_wall,
        "call_wall": call_wall,
    }


async def setup_sites(base: str, redis_url: str, default_id: str, n: int, counters: int) -> list[dict[str, Any]]:
    """The default site and n - 1 sites added by the province user, each with
    a kiosk and a display token and its admin logged in."""
    import httpx

    from queue_server.domain.accounts import DeviceKind
    from queue_server.domain.sites import credential_tag
    from queue_server.store.accounts import Accounts
    from queue_server.store.connection import open_redis
    from queue_server.store.keys import Keys

    sites: list[dict[str, Any]] = [{"id": default_id, "prefix": "", "tag": ""}]
    async with httpx.AsyncClient(base_url=base, timeout=120) as c:
        r = await c.post("/api/province/login", json={"username": "tinh", "password": PASSWORD})
        assert r.status_code == 200, r.text
        headers = {"X-CSRF-Token": r.json()["csrf_token"]}
        sem = asyncio.Semaphore(4)

        async def add(i: int) -> None:
            sid = f"xa-{i:03d}"
            async with sem:
                r = await c.post(
                    "/api/province/sites",
                    headers=headers,
                    json={
                        "id": sid,
                        "name": f"Xã số {i}",
                        "timezone": "Asia/Ho_Chi_Minh",
                        "counters": counters,
                        "admin_username": "admin",
                        "admin_password": PASSWORD,
                    },
                )
            assert r.status_code == 201, r.text
            sites.append({"id": sid, "prefix": f"/s/{sid}", "tag": credential_tag(sid)})

        await asyncio.gather(*(add(i) for i in range(1, n)))
    redis = open_redis(redis_url)
    try:
        for s in sites:
            acc = Accounts(redis, Keys(s["id"]), s["tag"])
            _, s["kiosk"] = await acc.add_device(f"kiosk-{s['id']}", DeviceKind.KIOSK, None)
            _, s["display"] = await acc.add_device(f"board-{s['id']}", DeviceKind.DISPLAY, None)
    finally:
        await redis.aclose()
    async with httpx.AsyncClient(base_url=base, timeout=120) as c:
        sem = asyncio.Semaphore(4)

        async def login(s: dict[str, Any]) -> None:
            async with sem:
                r = await c.post(f"{s['prefix']}/api/auth/login", json={"username": "admin", "password": PASSWORD})
            assert r.status_code == 200, r.text
            s["csrf"] = r.json()["csrf_token"]
            s["cookie"] = "; ".join(f"{k}={v}" for k, v in r.cookies.items())

        await asyncio.gather(*(login(s) for s in sites))
    return sites


def run(a: argparse.Namespace) -> dict[str, Any]:
    from redis import Redis as SyncRedis

    from queue_server import redis_server
    from tests.server import AS_DEPLOYED, make_server

    tmp = Path(tempfile.mkdtemp(prefix="motcua-province-"))
    started: list[Any] = []
    if a.cluster:
        from tests.cluster import start_cluster

        cluster = start_cluster(tmp / "cluster")
        started.append(cluster)
        rq = redis_server.start(tmp / "rq")
        started.append(rq)
        url, env = cluster.url, {"MOTCUA_RQ_REDIS_URL": rq.url}
        mem_port = None
    else:
        proc = redis_server.start(tmp / "redis")
        started.append(proc)
        url, env, mem_port = proc.url, {}, proc.port
    os.environ.update(env)
    srv = make_server(url)
    srv.env_overrides = AS_DEPLOYED
    srv.start(timeout=120)
    try:
        subprocess.run(
            [sys.executable, "-m", "queue_server.cli", "province-user", "add", "tinh", "--password", PASSWORD]
            + ["--redis-url", url, "--config", str(srv.config_path)],
            check=True,
            capture_output=True,
            timeout=120,
        )

        def redis_mem() -> int:
            if mem_port is None:
                return 0
            r = SyncRedis(port=mem_port)
            try:
                return int(r.info("memory")["used_memory"])
            finally:
                r.close()

        assert srv.proc is not None
        api_pid = srv.proc.pid
        rss0, mem0 = rss_kib(api_pid), redis_mem()
        t0 = time.perf_counter()
        sites = asyncio.run(setup_sites(srv.base_url, url, srv.site_id, a.sites, a.counters))
        setup_s = time.perf_counter() - t0
        parent, child = mp.Pipe()
        p = mp.get_context("spawn").Process(
            target=boards_main, args=(srv.ws_url, [(s["prefix"], s["display"]) for s in sites], a.boards, child)
        )
        p.start()
        kind, n_ready = parent.recv()
        res = drive_all(srv.base_url, sites, a.tickets, a.counters, a.drivers)
        # the last boards' frames: wait until none came for 3 s (at most 120 s), so late is not "missed"
        last, still, waited = -1, 0.0, 0.0
        while still < 3.0 and waited < 120.0:
            parent.send("count")
            n = parent.recv()
            still = still + 0.5 if n == last else 0.0
            last = n
            time.sleep(0.5)
            waited += 0.5
        parent.send("done")
        _, seen = parent.recv()
        p.join(30)
        board_ms: list[float] = []
        missed = 0
        for (prefix, tid), sent in res["call_sent"].items():
            got = seen.get(prefix, {}).get(tid, [])
            missed += a.boards - len(got)
            board_ms += [(at - sent) * 1000 for at in got]
        called = {(p, t) for p, t in res["call_sent"]}
        wrong = [(p, t) for p, d in seen.items() for t in d if (p, t) not in called]  # another site's call
        rss1, mem1 = rss_kib(api_pid), redis_mem()
        return {
            "sites": len(sites),
            "boards_connected": n_ready,
            "setup_s": setup_s,
            "issued": len(res["issue_ms"]),
            "calls": len(res["call_sent"]),
            "issue_wall": res["issue_wall"],
            "call_wall": res["call_wall"],
            "issue_ms": res["issue_ms"],
            "call_ms": res["call_ms"],
            "board_ms": board_ms,
            "missed": missed,
            "wrong_site": len(wrong),
            "errors": res["errors"],
            "retries": res["retries"],
            "api_kib_per_site": (rss1 - rss0) / max(1, len(sites) - 1),
            "redis_kib_per_site": (mem1 - mem0) / 1024 / max(1, len(sites) - 1) if mem_port else None,
            "api_rss_mib": rss1 / 1024,
        }
    finally:
        srv.close()
        for s in reversed(started):
            s.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sites", type=int, default=150)
    ap.add_argument("--tickets", type=int, default=10, help="per site, in the burst")
    ap.add_argument("--boards", type=int, default=2, help="per site")
    ap.add_argument("--counters", type=int, default=5)
    ap.add_argument("--cluster", action="store_true", help="on a local 3-master Redis Cluster")
    ap.add_argument("--drivers", type=int, default=3, help="client processes sending the burst")
    a = ap.parse_args()
    r = run(a)
    version = (
        subprocess.run(["redis-server", "--version"], capture_output=True, text=True)
        .stdout.split()[2]
        .removeprefix("v=")
    )
    print(
        f"## bench_province: {r['sites']} sites x {a.counters} counters x {a.boards} boards, "
        f"{'local Redis Cluster (3+3, WAIT 1)' if a.cluster else 'one Redis'} ({version}), one API process, "
        f"the burst from {a.drivers} client processes"
    )
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {platform.platform()}; {os.cpu_count()} cores")
    print(f"setup (add the sites, tokens, logins): {r['setup_s']:.0f} s; boards connected: {r['boards_connected']}")
    print()
    print("| what | n | p50 ms | p99 ms | max ms | rate |")
    print("|---|---|---|---|---|---|")
    for name, xs, wall in (
        ("issue (every site's burst at once)", r["issue_ms"], r["issue_wall"]),
        ("call next (5 counters per site)", r["call_ms"], r["call_wall"]),
        ("call -> board (each board)", r["board_ms"], None),
    ):
        rate = f"{len(xs) / wall:.0f}/s" if wall else ""
        print(
            f"| {name} | {len(xs)} | {statistics.median(xs) if xs else float('nan'):.1f} | "
            f"{pct(xs, 99):.1f} | {max(xs) if xs else float('nan'):.1f} | {rate} |"
        )
    print()
    print(
        f"issued {r['issued']}, called {r['calls']}; board frames missed {r['missed']}, "
        f"another site's call on a board {r['wrong_site']}; errors {len(r['errors'])}; "
        f"requests sent again after a dropped keep-alive connection {r['retries']}"
    )
    for e in r["errors"][:10]:
        print("  ", e)
    print(f"API RSS {r['api_rss_mib']:.0f} MiB, {r['api_kib_per_site']:.0f} KiB per added site", end="")
    if r["redis_kib_per_site"] is not None:
        print(f"; Redis {r['redis_kib_per_site']:.0f} KiB per added site (with its {a.tickets} tickets)")
    else:
        print()


if __name__ == "__main__":
    main()
