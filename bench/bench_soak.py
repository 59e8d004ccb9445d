"""A soak: a commune's day at 10x its peak, compressed (issue 14).

    .venv/bin/python -m bench.bench_soak [--minutes 10] [--tickets 5000]
        [--json var/soak.json] [--seed 1]

Real processes, each started the way `motcua up` starts it: a private
redis-server (AOF, appendfsync always), the API (`motcua serve`, one uvicorn
process), the RQ worker (`motcua worker`, with its scheduler: the archive job
runs every minute) and the print agent on the virtual printer
(`motcua printer-agent --printer virtual:DIR`). The load comes from three
client processes over real sockets, all starting at the same instant:

- the kiosk: walk-in tickets (POST /api/tickets) on the day's arrival shape
  (07:30-11:30 and 13:30-17:00, peaks at 8:00 and 14:00, nothing at lunch)
  compressed into --minutes; citizens booking a slot online
  (GET /api/appointments/slots, POST /api/appointments) and checking in at
  the kiosk later (POST /api/appointments/check-in);
- the desks: 5 clerks, one per counter (login, Next, Done, now and then
  Recall, No-show or Transfer, the counter's state), serving about 1.25x
  the day's mean arrival rate, then the queue to its end; a supervisor
  polling GET /api/supervisor and GET /api/reports/summary;
- the screens: 3 boards (/ws/board) counting the calls they receive, and a
  rating tablet at each counter (/ws/rate/{n}) rating most citizens
  (POST /api/rate/{n}).

Errors: a reply that is not 2xx and not one of the 4xx the step expects
(409 queue_empty when nobody waits, a full slot), an exception, a call a
board did not receive, a gap or reconnect of a board, a ticket called twice
(more call events than 1 + its transfers), a ticket left waiting, a ticket
not printed exactly once (the agent's "printed <job>" log lines and the
virtual printer's .bin files). RSS of each server process is read from
/proc every few seconds; "flat" means a least-squares slope over the last
80 % of the run below FLAT_MIB_PER_MIN. Redis keeps the day's data, so its
memory grows with the tickets: it is reported per ticket, not judged flat.

Settings the compression needs (stated in the report): next_debounce_ms 0
(a clerk serves a citizen in well under the 1.5 s debounce), the kiosk and
public rate limits raised (one kiosk issues 10x a day's peak), the site open
round the clock with booking open up to a slot and check-in from 4 hours
before it (so a booking made during the soak can be checked in during it).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import collections
import contextlib
import json
import math
import multiprocessing as mp
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
PASSWORD = "mat-khau-soak-123"
CATEGORIES = {"HT": 0.30, "CT": 0.28, "DD": 0.12, "XH": 0.10, "KD": 0.08, "KH": 0.12}
WARMUP_SHARE = 0.2  # the first 20 % of the run is warm-up; the slope is fitted on the rest
FLAT_MIB_PER_MIN = 0.5  # a leak of ~200 bytes per request at this soak's ~40 requests/s
KIOSK_SLACK = 3.0  # the day may take this many times --minutes when the machine cannot keep up
SERVICE_HEADROOM = 1.25  # the clerks' capacity over the day's mean arrival rate
# the day's sessions (minutes after midnight) and its two peaks
SESSIONS = [(7 * 60 + 30, 11 * 60 + 30), (13 * 60 + 30, 17 * 60)]
PEAKS = [(8 * 60, 1.0), (14 * 60, 0.8)]  # (minute, height); base level 0.25, sigma 40 min


# -- the day's arrival shape ----------------------------------------------------------------------
def intensity(minute: float) -> float:
    if not any(a <= minute < b for a, b in SESSIONS):
        return 0.0
    return 0.25 + sum(h * math.exp(-(((minute - m) / 40.0) ** 2) / 2) for m, h in PEAKS)


def arrival_offsets(n: int, duration_s: float, rng: random.Random) -> list[float]:
    """n arrival times in [0, duration_s): the day 07:30-17:00 mapped onto the
    run, drawn from the intensity by its inverse CDF."""
    day0, day1 = SESSIONS[0][0], SESSIONS[-1][1]
    grid = [day0 + i * 0.5 for i in range(int((day1 - day0) / 0.5) + 1)]
    cdf = [0.0]
    for a, b in zip(grid, grid[1:], strict=False):
        cdf.append(cdf[-1] + intensity((a + b) / 2) * (b - a))
    total = cdf[-1]
    out = []
    for u in sorted(rng.random() * total for _ in range(n)):
        i = min(len(grid) - 2, max(0, bisect.bisect_right(cdf, u) - 1))
        span = cdf[i + 1] - cdf[i]
        minute = grid[i] + (0.5 * (u - cdf[i]) / span if span else 0.0)
        out.append((minute - day0) / (day1 - day0) * duration_s)
    return out


def active_share() -> float:
    day = SESSIONS[-1][1] - SESSIONS[0][0]
    return sum(b - a for a, b in SESSIONS) / day


# -- measuring ----------------------------------------------------------------------------------
class Tally:
    """Per route: latencies (ms), replies by status, unexpected replies; and error messages."""

    def __init__(self) -> None:
        self.lat: dict[str, list[float]] = collections.defaultdict(list)
        self.status: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.errors: dict[str, int] = collections.defaultdict(int)
        self.messages: list[str] = []

    def error(self, route: str, msg: str) -> None:
        self.errors[route] += 1
        if len(self.messages) < 60:
            self.messages.append(f"{time.strftime('%H:%M:%S')} {route}: {msg[:300]}")

    async def call(self, client, method: str, route: str, url: str, expect: tuple[str, ...] = (), **kw):
        """One request; returns (status, json or None). A 4xx whose error code is
        in `expect` is expected; anything else that is not 2xx is an error."""
        t0 = time.perf_counter()
        try:
            r = await client.request(method, url, **kw)
        except Exception as e:
            self.lat[route].append((time.perf_counter() - t0) * 1000)
            self.status[route]["exception"] += 1
            self.error(route, f"{type(e).__name__}: {e}")
            return None, None
        self.lat[route].append((time.perf_counter() - t0) * 1000)
        self.status[route][r.status_code] += 1
        body = None
        with contextlib.suppress(ValueError):
            body = r.json()
        if 200 <= r.status_code < 300:
            return r.status_code, body
        code = body.get("error") if isinstance(body, dict) else None
        if not (400 <= r.status_code < 500 and code in expect):
            self.error(route, f"HTTP {r.status_code} {r.text[:200]}")
        return r.status_code, body

    def dump(self) -> dict[str, Any]:
        return {
            "lat": dict(self.lat),
            "status": {k: {str(s): n for s, n in v.items()} for k, v in self.status.items()},
            "errors": dict(self.errors),
            "messages": self.messages,
        }


async def sleep_until(t: float) -> None:
    await asyncio.sleep(max(0.0, t - time.time()))


# -- the client processes -------------------------------------------------------------------------
def kiosk_main(p: dict[str, Any], out) -> None:
    """Walk-in tickets on the day's shape; bookings and their check-ins."""
    import httpx

    async def run() -> dict[str, Any]:
        tally = Tally()
        rng = random.Random(p["seed"])
        n_book = p["bookings"]
        offsets = arrival_offsets(p["tickets"] - n_book, p["duration"], rng)
        issued: dict[str, dict[str, Any]] = {}
        lag: list[float] = []
        sem = asyncio.Semaphore(8)
        kiosk = httpx.AsyncClient(
            base_url=p["base"], timeout=30, headers={"Authorization": f"Bearer {p['tokens']['kiosk']}"}
        )
        public = httpx.AsyncClient(base_url=p["base"], timeout=30)
        cats, weights = list(CATEGORIES), list(CATEGORIES.values())

        seen_printed: list[bool] = []
        watchers: set[asyncio.Task] = set()

        async def watch_print(ticket_id: str) -> None:
            """The kiosk page: one long poll of GET …/print?wait= (asked again
            while the 4 s last) until printed or dropped."""
            started = time.monotonic()
            while (left := 4.0 - (time.monotonic() - started)) > 0:
                st, body = await tally.call(
                    kiosk, "GET", "GET /api/tickets/{id}/print", f"/api/tickets/{ticket_id}/print?wait={left:.1f}"
                )
                if st == 200 and body and body.get("state") in ("printed", "not_printed"):
                    seen_printed.append(body["state"] == "printed")
                    return
                if st == 200 and body and body.get("state") == "queued" and left > 0.5:
                    await asyncio.sleep(0.5 if (body.get("error") or not body["printer"]["ok"]) else 0)
                else:
                    await asyncio.sleep(0.3)
            seen_printed.append(False)

        def keep(body: dict[str, Any], source: str) -> None:
            pr = body.get("print") or {}
            issued[body["id"]] = {
                "number": body["number"],
                "category": body["category"],
                "source": source,
                "print_queued": bool(pr.get("queued")),
            }
            if not pr.get("queued"):
                tally.error("print", f"ticket {body['number']} not queued for printing: {pr}")
            t = asyncio.create_task(watch_print(body["id"]))
            watchers.add(t)
            t.add_done_callback(watchers.discard)

        async def walk_in(i: int, at: float) -> None:
            await sleep_until(p["t0"] + at)
            async with sem:
                lag.append(time.time() - (p["t0"] + at))
                cat = rng.choices(cats, weights)[0]
                st, body = await tally.call(
                    kiosk,
                    "POST",
                    "POST /api/tickets",
                    "/api/tickets",
                    json={"category": cat, "priority": rng.random() < 0.05},
                    headers={"Idempotency-Key": f"soak-{p['seed']}-{i}"},
                )
                if st == 201 and body:
                    keep(body, "walk_in")

        async def booking(i: int, at: float) -> None:
            await sleep_until(p["t0"] + at)
            cat = "HT" if i % 3 else "CT"
            for attempt in range(6):
                now = datetime.now(TZ)
                day = now.date().isoformat()
                st, body = await tally.call(
                    public,
                    "GET",
                    "GET /api/appointments/slots",
                    "/api/appointments/slots",
                    params={"category": cat, "date": day},
                )
                if st != 200 or not body:
                    return
                slots = [
                    s
                    for s in body.get("slots", [])
                    if s.get("available", 0) > 0
                    and 60 < (datetime.fromisoformat(s["start"]) - now).total_seconds() < 3.5 * 3600
                ]
                if not slots:  # today's places in the check-in window are taken: she books another day
                    tally.status["GET /api/appointments/slots"]["(no place left in the window)"] += 1
                    return
                slot = rng.choice(slots[:4])
                st, reply = await tally.call(
                    public,
                    "POST",
                    "POST /api/appointments",
                    "/api/appointments",
                    expect=("slot_full",),
                    json={"category": cat, "start": slot["start"], "name": f"Công dân {i}", "phone": f"09{i:08d}"},
                    headers={"Idempotency-Key": f"soak-book-{p['seed']}-{i}-{attempt}"},
                )
                if st == 201 and reply:
                    break
                if st != 409:
                    return
            else:
                return
            # the citizen comes in later and checks in at the kiosk
            await asyncio.sleep(rng.uniform(5, max(6, p["duration"] * 0.3)))
            async with sem:
                st, body = await tally.call(
                    kiosk,
                    "POST",
                    "POST /api/appointments/check-in",
                    "/api/appointments/check-in",
                    json={"code": reply["code"]},
                    headers={"Idempotency-Key": f"soak-checkin-{p['seed']}-{i}"},
                )
                if st == 201 and body:
                    keep(body, "appointment")

        await sleep_until(p["t0"])
        book_at = sorted(rng.uniform(0, p["duration"] * 0.6) for _ in range(n_book))
        tasks = [walk_in(i, at) for i, at in enumerate(offsets)]
        tasks += [booking(i, at) for i, at in enumerate(book_at)]
        await asyncio.gather(*tasks)
        if watchers:
            await asyncio.gather(*watchers, return_exceptions=True)
        await kiosk.aclose()
        await public.aclose()
        return {"tally": tally.dump(), "issued": issued, "lag": lag, "kiosk_saw_printed": seen_printed}

    res = asyncio.run(run())
    p["arrivals_done"].set()
    out.send(res)


def desks_main(p: dict[str, Any], out) -> None:
    """5 clerks (one per counter) and a supervisor."""
    import httpx

    async def run() -> dict[str, Any]:
        tally = Tally()
        calls: list[dict[str, Any]] = []  # every call a clerk made: ticket, counter, t (monotonic before the POST)
        transfers: collections.Counter[str] = collections.Counter()
        recalls: list[dict[str, Any]] = []
        outcomes: collections.Counter[str] = collections.Counter()
        stop = asyncio.Event()
        rate = (p["tickets"] / (p["duration"] * active_share())) * SERVICE_HEADROOM
        service_s = 5 / rate  # each clerk's time with a citizen

        async def login(username: str) -> httpx.AsyncClient:
            c = httpx.AsyncClient(base_url=p["base"], timeout=30)
            st, body = await tally.call(
                c,
                "POST",
                "POST /api/auth/login",
                "/api/auth/login",
                json={"username": username, "password": PASSWORD},
            )
            if st != 200:
                raise RuntimeError(f"login {username} failed")
            c.headers["X-CSRF-Token"] = body["csrf_token"]
            return c

        async def clerk(n: int) -> None:
            rng = random.Random(p["seed"] * 100 + n)
            c = await login(f"clerk{n}")
            presses = 0
            current: dict[str, Any] | None = None

            def key() -> dict[str, str]:
                nonlocal presses
                presses += 1
                return {"Idempotency-Key": f"soak-{p['seed']}-c{n}-{presses}"}

            async def act(verb: str, **kw) -> dict[str, Any] | None:
                st, body = await tally.call(
                    c, "POST", f"POST /api/counters/{{n}}/{verb}", f"/api/counters/{n}/{verb}", headers=key(), **kw
                )
                return body if st == 200 else None

            await sleep_until(p["t0"])
            while True:
                if presses % 10 == 0:
                    await tally.call(c, "GET", "GET /api/counters/{n}/state", f"/api/counters/{n}/state")
                t_call = time.monotonic()
                st, body = await tally.call(
                    c,
                    "POST",
                    "POST /api/counters/{n}/next",
                    f"/api/counters/{n}/next",
                    expect=("queue_empty",),
                    headers=key(),
                )
                if current is not None and st in (200, 409):
                    outcomes["done (by Next)"] += 1  # Next finished the one being served
                current = None
                if st == 200 and body:
                    t = body["ticket"]
                    current = t
                    calls.append({"ticket": t["id"], "number": t["number"], "counter": n, "t": t_call})
                elif st == 409:
                    if p["arrivals_done"].is_set():
                        break  # nobody waits and nobody will come
                    await asyncio.sleep(rng.uniform(0.2, 0.5))
                    continue
                else:
                    await asyncio.sleep(0.5)
                    continue
                await asyncio.sleep(rng.expovariate(1 / service_s))
                roll = rng.random()
                if roll < 0.03:  # the citizen did not hear: call again, then serve
                    t_recall = time.monotonic()
                    if await act("recall"):
                        recalls.append({"ticket": current["id"], "counter": n, "t": t_recall})
                    await asyncio.sleep(rng.uniform(0.05, 0.2))
                    roll = rng.random() * 0.97 + 0.03
                if roll < 0.07:
                    if await act("no-show"):
                        outcomes["no_show"] += 1
                    current = None
                elif roll < 0.10:
                    other = rng.choice([k for k in CATEGORIES if k != current["category"]])
                    if await act("transfer", json={"category": other}):
                        transfers[current["id"]] += 1
                        outcomes["transferred"] += 1
                    current = None
                elif roll < 0.55:
                    if await act("done"):
                        outcomes["done"] += 1
                    current = None
                # else: the next press of Next finishes it
            if current is not None and await act("done"):
                outcomes["done"] += 1
            await c.aclose()

        async def supervisor() -> None:
            c = await login("sup")
            await sleep_until(p["t0"])
            i = 0
            while not stop.is_set():
                await tally.call(c, "GET", "GET /api/supervisor", "/api/supervisor")
                if i % 10 == 0:
                    today = datetime.now(TZ).date().isoformat()
                    await tally.call(
                        c,
                        "GET",
                        "GET /api/reports/summary",
                        "/api/reports/summary",
                        params={"from": today, "to": today},
                    )
                i += 1
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), 3.0)
            await c.aclose()

        sup = asyncio.create_task(supervisor())
        clerks = [asyncio.create_task(clerk(n)) for n in range(1, 6)]
        # the kiosk may run behind its schedule on a loaded machine: the drain
        # time counts from its last ticket
        while not p["arrivals_done"].is_set() and time.time() < p["t0"] + KIOSK_SLACK * p["duration"]:
            await asyncio.sleep(1.0)
        done, pending = await asyncio.wait(clerks, timeout=p["drain"])
        for t in pending:
            t.cancel()
            tally.error("clerks", "a clerk was still serving at the end of the drain time")
        for t in done:
            if t.exception():
                tally.error("clerks", f"a clerk stopped: {t.exception()!r}")
        stop.set()
        await sup
        return {
            "tally": tally.dump(),
            "calls": calls,
            "recalls": recalls,
            "transfers": dict(transfers),
            "outcomes": dict(outcomes),
            "service_s": service_s,
        }

    res = asyncio.run(run())
    p["desks_done"].set()
    out.send(res)


def screens_main(p: dict[str, Any], out) -> None:
    """3 boards and a rating tablet at each counter, on websockets."""
    import httpx
    from websockets.asyncio.client import connect

    async def run() -> dict[str, Any]:
        tally = Tally()
        boards: list[dict[str, Any]] = []
        ratings = {"prompts": 0, "posted": 0}
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        loop.run_in_executor(None, lambda: (p["desks_done"].wait(), loop.call_soon_threadsafe(stop.set)))

        async def board(i: int) -> None:
            url = f"{p['ws']}/ws/board?token={p['tokens'][f'display{i}']}"
            st: dict[str, Any] = {"calls": {}, "recalls": {}, "gaps": 0, "connects": 0, "messages": 0, "snapshots": 0}
            boards.append(st)
            last = 0
            while not stop.is_set():
                try:
                    async with connect(url, open_timeout=30, max_size=2**24) as ws:
                        st["connects"] += 1
                        if st["connects"] > 1:
                            tally.error("WS /ws/board", f"board {i} reconnected")
                        pinger = asyncio.create_task(ping(ws))
                        try:
                            while not stop.is_set():
                                try:
                                    raw = await asyncio.wait_for(ws.recv(), 1.0)
                                except TimeoutError:
                                    continue
                                now = time.monotonic()
                                msg = json.loads(raw)
                                kind = msg.get("type")
                                if kind == "ping":
                                    await ws.send('{"type":"pong"}')
                                elif kind == "snapshot" or (kind != "event" and "counters" in msg):
                                    st["snapshots"] += 1
                                    last = int(msg.get("seq") or 0)
                                elif kind == "event":
                                    st["messages"] += 1
                                    seq, first = int(msg["seq"]), int(msg.get("from") or msg["seq"])
                                    if seq <= last:
                                        continue
                                    if first > last + 1:
                                        st["gaps"] += 1
                                        tally.error("WS /ws/board", f"board {i}: gap {last + 1}..{first - 1}")
                                        await ws.send('{"type":"sync"}')
                                    last = seq
                                    for e in msg.get("events") or [msg.get("event") or {}]:
                                        if e.get("type") in ("call", "recall"):
                                            st[e["type"] + "s"].setdefault(e.get("ticket"), []).append(now)
                        finally:
                            pinger.cancel()
                except Exception as e:
                    tally.error("WS /ws/board", f"board {i}: {type(e).__name__}: {e}")
                    await asyncio.sleep(1)

        async def ping(ws) -> None:
            with contextlib.suppress(Exception):
                while True:
                    await asyncio.sleep(10)
                    await ws.send('{"type":"ping"}')

        async def tablet(n: int) -> None:
            rng = random.Random(p["seed"] * 1000 + n)
            url = f"{p['ws']}/ws/rate/{n}?token={p['tokens'][f'rating{n}']}"
            c = httpx.AsyncClient(
                base_url=p["base"], timeout=30, headers={"Authorization": f"Bearer {p['tokens'][f'rating{n}']}"}
            )
            rated: set[str] = set()
            pending: set[asyncio.Task] = set()

            async def rate(ticket: str) -> None:
                await asyncio.sleep(rng.uniform(0.2, 1.5))
                st, _ = await tally.call(
                    c,
                    "POST",
                    "POST /api/rate/{n}",
                    f"/api/rate/{n}",
                    json={"ticket": ticket, "level": rng.randint(1, 3)},
                )
                if st == 201:
                    ratings["posted"] += 1

            connects = 0
            while not stop.is_set():
                try:
                    async with connect(url, open_timeout=30, max_size=2**22) as ws:
                        connects += 1
                        if connects > 1:
                            tally.error("WS /ws/rate/{n}", f"tablet {n} reconnected")
                        pinger = asyncio.create_task(ping(ws))
                        try:
                            while not stop.is_set():
                                try:
                                    raw = await asyncio.wait_for(ws.recv(), 1.0)
                                except TimeoutError:
                                    continue
                                msg = json.loads(raw)
                                if msg.get("type") == "ping":
                                    await ws.send('{"type":"pong"}')
                                elif msg.get("type") == "rate" and msg.get("ticket") not in rated:
                                    ratings["prompts"] += 1
                                    if rng.random() < 0.7:
                                        rated.add(msg["ticket"])
                                        t = asyncio.create_task(rate(msg["ticket"]))
                                        pending.add(t)
                                        t.add_done_callback(pending.discard)
                        finally:
                            pinger.cancel()
                except Exception as e:
                    tally.error("WS /ws/rate/{n}", f"tablet {n}: {type(e).__name__}: {e}")
                    await asyncio.sleep(1)
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
            await c.aclose()

        tasks = [asyncio.create_task(board(i)) for i in range(1, 4)]
        tasks += [asyncio.create_task(tablet(n)) for n in range(1, 6)]
        p["screens_ready"].set()
        await stop.wait()
        await asyncio.sleep(3)  # the last calls' messages are on their way
        await asyncio.gather(*tasks, return_exceptions=True)
        return {"tally": tally.dump(), "boards": boards, "ratings": ratings}

    out.send(asyncio.run(run()))


# -- the server processes -----------------------------------------------------------------------
def rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return 0


def children(pid: int) -> list[int]:
    try:
        return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def cpu_s(pid: int) -> float:
    try:
        f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


class Sampler(threading.Thread):
    """RSS of each process (and Redis's used_memory) every `every` seconds."""

    def __init__(self, pids: dict[str, int], redis_url: str, every: float):
        super().__init__(daemon=True)
        from redis import Redis

        self.pids, self.every = pids, every
        self.redis = Redis.from_url(redis_url)
        self.samples: list[dict[str, Any]] = []
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            s: dict[str, Any] = {"t": time.time(), "load": os.getloadavg()[0]}
            for name, pid in self.pids.items():
                s[name] = rss_kib(pid)
            kids = children(self.pids["worker"])
            s["worker_children"] = len(kids)
            with contextlib.suppress(Exception):
                s["redis_used"] = int(self.redis.info("memory")["used_memory"]) // 1024
            self.samples.append(s)
            self.halt.wait(self.every)


def soak_config(site_id: str) -> dict[str, Any]:
    from queue_server.domain.config import WEEKDAYS
    from tests.helpers import test_config_dict

    d = test_config_dict(site_id)
    for day in WEEKDAYS:
        d["hours"][day] = ["00:00-23:59"]
    d["hours"] |= {"public_holidays": False, "closures": []}
    d["appointments"] |= {"enabled": True, "book_until_minutes": 0, "checkin_early_minutes": 240}
    for c in d["categories"]:
        if c["code"] == "HT":
            c["appointment_capacity"] = 6
        elif c["code"] == "CT":
            c |= {"appointment_capacity": 4, "last_slot": "23:30"}
    return d


async def seed(redis_url: str, site_id: str) -> dict[str, str]:
    from queue_server.domain.accounts import DeviceKind, Role
    from queue_server.store.accounts import Accounts
    from queue_server.store.connection import open_redis
    from queue_server.store.keys import Keys

    r = open_redis(redis_url, max_connections=4)
    try:
        acc = Accounts(r, Keys(site_id))
        await acc.add_user("sup", Role.SUPERVISOR, PASSWORD, [])
        for n in range(1, 6):
            await acc.add_user(f"clerk{n}", Role.CLERK, PASSWORD, [n])
        tokens = {}
        _, tokens["kiosk"] = await acc.add_device("soak-kiosk", DeviceKind.KIOSK, None)
        _, tokens["printer"] = await acc.add_device("soak-printer", DeviceKind.PRINTER, None)
        for i in range(1, 4):
            _, tokens[f"display{i}"] = await acc.add_device(f"soak-board-{i}", DeviceKind.DISPLAY, None)
        for n in range(1, 6):
            _, tokens[f"rating{n}"] = await acc.add_device(f"soak-tablet-{n}", DeviceKind.RATING, n)
        return tokens
    finally:
        await r.aclose()


def start(name: str, argv: list[str], env: dict[str, str], logs: Path) -> subprocess.Popen:
    log = open(logs / f"{name}.log", "ab")
    return subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def wait_for(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not come up in {timeout:.0f} s")


# -- the report ---------------------------------------------------------------------------------
def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * q))] if xs else float("nan")


def slope_mib_per_min(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, KiB) points, in MiB per minute."""
    if len(points) < 3:
        return float("nan")
    mt = statistics.fmean(t for t, _ in points)
    mv = statistics.fmean(v for _, v in points)
    den = sum((t - mt) ** 2 for t, _ in points)
    return sum((t - mt) * (v - mv) for t, v in points) / den * 60 / 1024 if den else float("nan")


def memory_table(samples: list[dict[str, Any]], t0: float, t_end: float, tickets: int) -> list[dict[str, Any]]:
    warm = t0 + WARMUP_SHARE * (t_end - t0)
    rows = []
    for name in ("api", "worker", "printer", "redis"):
        pts = [(s["t"] - t0, s[name]) for s in samples if s.get(name) and t0 <= s["t"] <= t_end]
        after = [(t, v) for t, v in pts if t + t0 >= warm]
        if not after:
            continue
        start_kib, end_kib = after[0][1], after[-1][1]
        slope = slope_mib_per_min(after)
        row = {
            "process": name,
            "start_mib": pts[0][1] / 1024,
            "warm_mib": start_kib / 1024,
            "end_mib": end_kib / 1024,
            "max_mib": max(v for _, v in pts) / 1024,
            "slope_mib_per_min": slope,
        }
        if name == "redis":
            used = [(s["t"] - t0, s["redis_used"]) for s in samples if s.get("redis_used") and t0 <= s["t"] <= t_end]
            if used:
                row["used_start_mib"] = used[0][1] / 1024
                row["used_end_mib"] = used[-1][1] / 1024
                row["kib_per_ticket"] = (used[-1][1] - used[0][1]) / max(1, tickets)
            row["verdict"] = "grows with the day's data (not judged flat)"
        else:
            row["verdict"] = "flat" if slope < FLAT_MIB_PER_MIN else "GROWING"
        rows.append(row)
    return rows


def agent_prints(log_path: Path) -> tuple[collections.Counter[str], dict[str, float]]:
    """How often the agent printed each job, and when it first did (epoch s,
    from its log line's local time stamp)."""
    prints: collections.Counter[str] = collections.Counter()
    when: dict[str, float] = {}
    for line in log_path.read_text(errors="replace").splitlines():
        if " motcua.agent: printed " in line:
            job = line.split(" motcua.agent: printed ", 1)[1].split(" ", 1)[0]
            prints[job] += 1
            with contextlib.suppress(ValueError):
                stamp = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")
                when.setdefault(job, time.mktime(stamp.timetuple()) + stamp.microsecond / 1e6)
    return prints, when


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0, help="the compressed day's length (default 10)")
    ap.add_argument("--tickets", type=int, default=5000, help="tickets in the day (default 5000)")
    ap.add_argument(
        "--drain", type=float, default=300.0, help="seconds the clerks may take after the day to empty the queue"
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sample", type=float, default=None, help="seconds between memory samples (default: run/120, 1-5)")
    ap.add_argument("--json", default=None, help="write the results here (default: var/soak-<date>.json)")
    ap.add_argument("--keep", action="store_true", help="keep the data directory")
    args = ap.parse_args(argv)

    from queue_server import redis_server
    from queue_server.redis_server import free_port
    from queue_server.store.keys import Keys
    from tests.helpers import stop_process
    from tests.server import write_toml

    duration = args.minutes * 60
    every = args.sample or max(1.0, min(5.0, duration / 120))
    bookings = max(1, args.tickets // 50)
    work = Path(tempfile.mkdtemp(prefix="motcua-soak-"))
    logs = work / "logs"
    logs.mkdir()
    site = "soak-" + os.urandom(3).hex()
    keys = Keys(site)
    cfg_path = work / "site.toml"
    write_toml(soak_config(site), cfg_path)

    began = time.monotonic()

    def say(what: str) -> None:
        print(f"soak [{time.monotonic() - began:6.1f} s] {what}", file=sys.stderr, flush=True)

    redis = redis_server.start(work / "redis")
    procs: dict[str, subprocess.Popen] = {}
    sampler = None
    try:
        from redis import Redis

        r = Redis.from_url(redis.url, decode_responses=True)
        redis_version = r.info("server")["redis_version"]
        tokens = asyncio.run(seed(redis.url, site))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = dict(
            os.environ,
            MOTCUA_REDIS_URL=redis.url,
            MOTCUA_CONFIG=str(cfg_path),
            MOTCUA_DATA_DIR=str(work / "var"),
            MOTCUA_AGENT_STATE=str(work / "agent.printed"),
            MOTCUA_KIOSK_LIMIT="100000",
            MOTCUA_PUBLIC_LIMIT="100000",
            PYTHONUNBUFFERED="1",
        )
        py = [sys.executable, "-m", "queue_server.cli"]
        import httpx

        procs["api"] = start("api", py + ["serve", "--port", str(port)], env, logs)
        wait_for(lambda: httpx.get(base + "/healthz", timeout=1).status_code == 200, 60, "the API")
        say("API up")
        procs["worker"] = start(
            "worker", py + ["worker", "--redis-url", redis.url, "--data-dir", str(work / "var")], env, logs
        )
        tickets_dir = work / "tickets"
        procs["printer"] = start(
            "printer",
            py
            + ["printer-agent", "--server", base, "--token", tokens["printer"], "--printer", f"virtual:{tickets_dir}"],
            env,
            logs,
        )
        kiosk_h = {"Authorization": f"Bearer {tokens['kiosk']}"}
        wait_for(
            lambda: httpx.get(base + "/api/printer/status", headers=kiosk_h, timeout=2).json()["status"] == "online",
            60,
            "the print agent",
        )
        say("print agent online")
        pids = {name: proc.pid for name, proc in procs.items()} | {"redis": redis.process.pid}
        cpu0 = {name: cpu_s(pid) for name, pid in pids.items()}

        ctx = mp.get_context("spawn")
        shared = {
            "arrivals_done": ctx.Event(),
            "desks_done": ctx.Event(),
            "screens_ready": ctx.Event(),
        }
        params = {
            "base": base,
            "ws": base.replace("http://", "ws://"),
            "tokens": tokens,
            "tickets": args.tickets,
            "bookings": bookings,
            "duration": duration,
            "drain": args.drain,
            "seed": args.seed,
            "t0": 0.0,
            **shared,
        }
        pipes, clients = {}, {}

        def launch(name: str, target) -> None:
            a, b = ctx.Pipe()
            pipes[name] = a
            clients[name] = ctx.Process(target=target, args=(params, b), name=f"soak-{name}", daemon=True)
            clients[name].start()

        launch("screens", screens_main)  # boards and tablets connect first
        if not shared["screens_ready"].wait(60):
            raise RuntimeError("the screens client did not start")
        say("boards and tablets connected")
        time.sleep(2)
        t0 = time.time() + 3  # the clerks log in before the day starts
        params["t0"] = t0
        launch("desks", desks_main)
        launch("kiosk", kiosk_main)
        sampler = Sampler(pids, redis.url, every)
        sampler.start()
        print(
            f"soak: {args.tickets} tickets in {args.minutes:g} min from {datetime.fromtimestamp(t0, TZ):%H:%M:%S} "
            f"(site time); data in {work}",
            file=sys.stderr,
            flush=True,
        )
        results: dict[str, Any] = {}
        for name in ("kiosk", "desks", "screens"):
            deadline = t0 + KIOSK_SLACK * duration + args.drain + 120
            if not pipes[name].poll(max(1.0, deadline - time.time())):
                raise RuntimeError(f"the {name} client did not report")
            results[name] = pipes[name].recv()
            say(f"{name} done")
        t_end = time.time()
        for c in clients.values():
            c.join(30)
        # the last jobs reach the printer; the archive job runs once more at most
        wait_for(lambda: r.hlen(keys.print_jobs()) == 0, 60, "an empty print queue")
        say("print queue empty")
        time.sleep(2)
        sampler.halt.set()
        sampler.join(10)
        cpu = {name: cpu_s(pid) - cpu0[name] for name, pid in pids.items()}
        report = analyse(results, sampler.samples, t0, t_end, r, keys, logs, tickets_dir, args, redis_version, cpu)
        report["work_dir"] = str(work)
        report["service_s"] = results["desks"]["service_s"]
        for name, proc in procs.items():
            report.setdefault("exits", {})[name] = proc.poll()
        r.close()
    finally:
        if sampler:
            sampler.halt.set()
        for name in ("printer", "worker", "api"):
            if name in procs:
                stop_process(procs[name], grace_s=15)
        redis.stop()
        say("stopped")
    out = Path(args.json or ROOT / "var" / f"soak-{time.strftime('%Y%m%d-%H%M', time.gmtime())}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, ensure_ascii=False))
    print(markdown(report, args, out))
    if not args.keep:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    return 0 if report["total_errors"] == 0 and report["memory_ok"] else 1


def analyse(results, samples, t0, t_end, r, keys, logs, tickets_dir, args, redis_version, cpu) -> dict[str, Any]:
    kiosk, desks, screens = results["kiosk"], results["desks"], results["screens"]
    routes: dict[str, dict[str, Any]] = {}
    messages: list[str] = []
    for part in (kiosk, desks, screens):
        t = part["tally"]
        for route, lat in t["lat"].items():
            row = routes.setdefault(route, {"lat": [], "status": collections.Counter(), "errors": 0})
            row["lat"] += lat
        for route, st in t["status"].items():
            routes.setdefault(route, {"lat": [], "status": collections.Counter(), "errors": 0})["status"].update(st)
        for route, n in t["errors"].items():
            routes.setdefault(route, {"lat": [], "status": collections.Counter(), "errors": 0})["errors"] += n
        messages += t["messages"]
    checks: dict[str, int] = {}

    # every call reached every board
    calls, recalls = desks["calls"], desks["recalls"]
    made = collections.Counter(c["ticket"] for c in calls)
    recalls_made = collections.Counter(c["ticket"] for c in recalls)
    first_call = {}
    for c in calls:
        first_call.setdefault(c["ticket"], c["t"])
    board_lat: list[float] = []
    missed = recalls_missed = 0
    for b in screens["boards"]:
        for t, n in made.items():
            got = b["calls"].get(t, [])
            missed += max(0, n - len(got))
            if got:
                board_lat.append((got[0] - first_call[t]) * 1000)
        for t, n in recalls_made.items():
            recalls_missed += max(0, n - len(b["recalls"].get(t, [])))
    checks["board calls missed"] = missed
    checks["board recalls missed"] = recalls_missed
    checks["board gaps"] = sum(b["gaps"] for b in screens["boards"])
    checks["board reconnects"] = sum(max(0, b["connects"] - 1) for b in screens["boards"])

    # the event log: each ticket called once, plus once per transfer; none left waiting
    events = collections.Counter()
    calls_of = collections.Counter()
    for _, f in r.xrange(keys.events, count=None):
        events[f.get("type")] += 1
        if f.get("type") == "call":
            calls_of[f.get("ticket")] += 1
    transfers = desks["transfers"]
    issued = kiosk["issued"]
    checks["tickets called more often than 1 + transfers"] = sum(
        1 for t, n in calls_of.items() if n > 1 + transfers.get(t, 0)
    )
    statuses = collections.Counter()
    ticket_rows: dict[str, dict[str, Any]] = {}
    for tid, raw in r.hgetall(keys.tickets).items():
        with contextlib.suppress(ValueError):
            ticket_rows[tid] = json.loads(raw)
            statuses[ticket_rows[tid].get("status")] += 1
    checks["tickets left waiting or being served"] = sum(n for s, n in statuses.items() if s not in ("done", "no_show"))
    checks["calls made that are not in the event log"] = sum(1 for c in calls if c["ticket"] not in calls_of)

    # each ticket printed exactly once
    prints, printed_at = agent_prints(logs / "printer.log")
    bins = {p.name[: -len(".bin")] for p in tickets_dir.glob("*.bin")}
    skipped = {k: json.loads(v) for k, v in r.hgetall(keys.print_skipped).items()}
    not_printed = [t for t in issued if prints.get(t, 0) == 0]
    checks["tickets not printed"] = len(not_printed)
    checks["tickets printed twice"] = sum(1 for t in issued if prints.get(t, 0) > 1)
    checks["printed tickets without a .bin file"] = sum(1 for t in issued if prints.get(t) and t not in bins)
    reasons = collections.Counter(skipped[t].get("reason", "?") for t in not_printed if t in skipped)
    press_to_print = [
        (printed_at[t] * 1000 - ticket_rows[t]["issued_at"])
        for t in issued
        if t in printed_at and ticket_rows.get(t, {}).get("issued_at")
    ]
    for t in not_printed[:10]:
        row = ticket_rows.get(t, {})
        gap = (row.get("called_at") or 0) - (row.get("issued_at") or 0)
        messages.append(
            f"not printed: {issued[t]['number']} {t} {skipped.get(t, '(no skip record)')}; called {gap} ms after issue"
        )

    total_http_errors = sum(row["errors"] for row in routes.values())
    total = total_http_errors + sum(checks.values())
    mem = memory_table(samples, t0, t_end, len(issued))
    table = []
    for route, row in sorted(routes.items()):
        lat = row["lat"]
        table.append(
            {
                "route": route,
                "requests": len(lat) if lat else sum(row["status"].values()),
                "status": dict(row["status"]),
                "errors": row["errors"],
                "p50": statistics.median(lat) if lat else None,
                "p99": pct(lat, 0.99) if lat else None,
                "max": max(lat) if lat else None,
            }
        )
    if board_lat:
        table.append(
            {
                "route": "call → board (Next sent → message read, 3 boards)",
                "requests": len(board_lat),
                "status": {},
                "errors": missed,
                "p50": statistics.median(board_lat),
                "p99": pct(board_lat, 0.99),
                "max": max(board_lat),
            }
        )
    if press_to_print:
        table.append(
            {
                "route": "kiosk press → printed (issue → agent's log line, ms resolution)",
                "requests": len(press_to_print),
                "status": {},
                "errors": len(not_printed),
                "p50": statistics.median(press_to_print),
                "p99": pct(press_to_print, 0.99),
                "max": max(press_to_print),
            }
        )
    load = [s["load"] for s in samples if t0 <= s["t"] <= t_end]
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(t0)),
        "args": vars(args),
        "machine": subprocess.run(["uname", "-a"], capture_output=True, text=True).stdout.strip(),
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "redis_version": redis_version,
        "wall_s": t_end - t0,
        "load_avg": [min(load), statistics.fmean(load), max(load)] if load else None,
        "tickets_issued": len(issued),
        "tickets_by_source": dict(collections.Counter(v["source"] for v in issued.values())),
        "ticket_statuses": dict(statuses),
        "events": dict(events),
        "calls": len(calls),
        "recalls": len(recalls),
        "outcomes": desks["outcomes"],
        "ratings": screens["ratings"],
        "kiosk_lag_p99_s": pct(kiosk["lag"], 0.99) if kiosk["lag"] else None,
        "kiosk_lag_max_s": max(kiosk["lag"]) if kiosk["lag"] else None,
        "kiosk_saw_printed": [sum(kiosk["kiosk_saw_printed"]), len(kiosk["kiosk_saw_printed"])],
        "routes": table,
        "checks": checks,
        "not_printed_reasons": dict(reasons),
        "agent_cpu_ms_per_print": cpu.get("printer", 0) * 1000 / max(1, sum(prints.values())),
        "total_errors": total,
        "memory": mem,
        "memory_ok": all(m["verdict"] != "GROWING" for m in mem),
        "cpu_s": cpu,
        "messages": messages,
        "samples": samples,
    }


def markdown(rep: dict[str, Any], args, out: Path) -> str:
    a = rep["args"]
    lines = [
        "",
        f"## Soak: a commune's day at 10× its peak (bench/bench_soak.py, {rep['date']})",
        "",
        f"Run: `nice -n 0 .venv/bin/python -m bench.bench_soak --minutes {a['minutes']:g} --tickets {a['tickets']}`; "
        f"results in `{out.name}`. Machine: `{rep['machine']}`; nproc {rep['nproc']}; Python {rep['python']}; "
        f"Redis {rep['redis_version']} (private, AOF appendfsync always). Load average during the run "
        + (
            f"{rep['load_avg'][0]:.1f}–{rep['load_avg'][2]:.1f} (mean {rep['load_avg'][1]:.1f})"
            if rep["load_avg"]
            else "n/a"
        )
        + f"; wall time {rep['wall_s'] / 60:.1f} min including the clerks emptying the queue.",
        "",
        f"Day: {rep['tickets_issued']} tickets ({', '.join(f'{k} {v}' for k, v in rep['tickets_by_source'].items())}), "
        f"{rep['calls']} calls, {rep['recalls']} recalls, outcomes {rep['outcomes']}, "
        f"ratings {rep['ratings']['posted']} of {rep['ratings']['prompts']} prompts; clerk's time per citizen "
        f"{rep['service_s']:.2f} s (mean); kiosk behind its schedule by {rep['kiosk_lag_p99_s'] or 0:.2f} s at p99, "
        f"{rep['kiosk_lag_max_s'] or 0:.2f} s at most; "
        f"the kiosk page saw “printed” within its 4 s for {rep['kiosk_saw_printed'][0]} of "
        f"{rep['kiosk_saw_printed'][1]} tickets.",
        "",
        f"**Errors: {rep['total_errors']}.**",
        "",
        "| route | requests | replies | errors | p50 ms | p99 ms | max ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rep["routes"]:
        st = ", ".join(f"{k}: {v}" for k, v in sorted(row["status"].items()))
        f = lambda x: "–" if x is None else f"{x:.1f}"  # noqa: E731
        lines.append(
            f"| {row['route']} | {row['requests']:,} | {st} | {row['errors']} | {f(row['p50'])} | {f(row['p99'])} | {f(row['max'])} |"
        )
    lines += ["", "| check | count |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in rep["checks"].items()]
    if rep["not_printed_reasons"]:
        lines += ["", f"Not printed, by the server's reason: {rep['not_printed_reasons']}."]
    lines += ["", f"Print agent CPU per printed ticket: {rep['agent_cpu_ms_per_print']:.0f} ms."]
    lines += [
        "",
        f"Memory (RSS from /proc every few seconds; warm-up = the first {WARMUP_SHARE:.0%} of the day; "
        f"slope = least squares over the rest; flat = below {FLAT_MIB_PER_MIN} MiB/min):",
        "",
        "| process | start MiB | after warm-up MiB | end MiB | max MiB | slope MiB/min | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in rep["memory"]:
        verdict = m["verdict"]
        if m["process"] == "redis" and "kib_per_ticket" in m:
            verdict += (
                f"; used_memory {m['used_start_mib']:.1f} → {m['used_end_mib']:.1f} MiB, "
                f"{m['kib_per_ticket']:.2f} KiB per ticket"
            )
        lines.append(
            f"| {m['process']} | {m['start_mib']:.1f} | {m['warm_mib']:.1f} | {m['end_mib']:.1f} | {m['max_mib']:.1f} | "
            f"{m['slope_mib_per_min']:+.2f} | {verdict} |"
        )
    lines += ["", "CPU seconds over the run: " + ", ".join(f"{k} {v:.0f}" for k, v in rep["cpu_s"].items())]
    if rep["messages"]:
        lines += ["", "First error messages:", ""] + [f"- {m}" for m in rep["messages"][:20]]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
