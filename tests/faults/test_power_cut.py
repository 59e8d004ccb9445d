"""A power cut: Redis, the API, the RQ worker and the print agent all
SIGKILLed at the same instant mid-rush (4 clerks pressing Next, a kiosk
issuing, tickets printing), then all started again on the same data (AOF,
appendfsync always). Nothing acknowledged is lost, nothing done twice, the
state is consistent (every waiting ticket in one queue, every called one
on its counter), and each kiosk ticket is printed once or reported not printed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from redis import Redis

from queue_server import redis_server
from queue_server.domain.config import load_toml
from tests.e2e.print_agent_helpers import stop_agent, wait_for
from tests.faults.procs import descendants
from tests.faults.rush import Rush, check_rush
from tests.faults.test_print_faults import CUT, _agent, _settled
from tests.server import make_server


def _worker(url: str, data: Path, n: int) -> subprocess.Popen:
    with open(data / f"worker-{n}.log", "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "queue_server.cli", "worker", "--redis-url", url, "--data-dir", str(data)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(os.environ, PYTHONUNBUFFERED="1"),
        )


def _power_cut(procs: list[subprocess.Popen]) -> None:
    """Every process and its children frozen, then killed: none outlives another."""
    pids = [pid for p in procs for pid in (p.pid, *descendants(p.pid))]
    for sig in (signal.SIGSTOP, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
    for p in procs:
        p.wait(5)


def _inconsistent(url: str, srv) -> list[str]:
    """Tickets whose status disagrees with the queues and counters."""
    keys = srv.keys
    cfg = load_toml(srv.config_path)
    r = Redis.from_url(url, decode_responses=True)
    try:
        tickets = {tid: json.loads(raw) for tid, raw in r.hgetall(keys.tickets).items()}
        queued: dict[str, int] = {}
        for name in keys.all_queue_names([c.code for c in cfg.categories], [c.number for c in cfg.counters]):
            for tid in r.zrange(keys.queue(name), 0, -1):
                queued[tid] = queued.get(tid, 0) + 1
        on_counter = {}
        for c in cfg.counters:
            tid = r.hget(keys.counter(c.number), "ticket")
            if tid:
                on_counter[tid] = c.number
    finally:
        r.close()
    bad = []
    for tid, t in tickets.items():
        if t["status"] == "waiting" and queued.get(tid) != 1:
            bad.append(f"{t['number']} waiting in {queued.get(tid, 0)} queues")
        if t["status"] != "waiting" and tid in queued:
            bad.append(f"{t['number']} {t['status']} but queued")
        if t["status"] == "called" and on_counter.get(tid) != t.get("counter"):
            bad.append(f"{t['number']} called at {t.get('counter')} but not on that counter")
    bad += [
        f"counter {n} shows {tid}, status {tickets.get(tid, {}).get('status')}"
        for tid, n in on_counter.items()
        if tickets.get(tid, {}).get("status") != "called"
    ]
    return bad


def test_power_cut(fault_report):
    data = Path(tempfile.mkdtemp(prefix="motcua-fault-power-"))
    redis = redis_server.start(data / "redis")
    srv = make_server(redis.url).start()
    out = data / "tickets"
    state = data / "agent.printed"
    worker = _worker(redis.url, data, 1)
    agent = _agent(srv, f"virtual:{out}", state, 1)
    rush = Rush(srv)
    try:
        wait_for(lambda: srv.device("kiosk").get("/api/printer/status").json()["status"] == "online", 30, what="agent")
        # tickets of DD, which only counter 4 serves, and nobody calls: they wait to be printed
        kiosk = srv.device("kiosk")
        held = []
        rush.start(issue_every=0.05, counters=(1, 2, 3, 5))
        for i in range(8):
            r = kiosk.post("/api/tickets", json={"category": "DD"}, headers={"Idempotency-Key": f"dd-{i}"})
            assert r.status_code == 201, r.text
            held.append(r.json()["id"])
        rush.wait_issued(12)
        _power_cut([redis.process, srv.proc, worker, agent])
        redis = redis_server.start(redis.data_dir, port=redis.port)
        srv.start()
        worker = _worker(redis.url, data, 2)
        agent = _agent(srv, f"virtual:{out}", state, 2)
        rush.wait_issued(len(rush.issued) + 12, timeout=120)
        rush.finish(timeout=150)
        got = check_rush(rush, redis.url)
        bad = _inconsistent(redis.url, srv)
        ids = list(rush.issued) + held
        states = wait_for(lambda: _settled(srv, ids), 90, 0.2, what="every job printed or dropped")
        time.sleep(1.0)  # a late duplicate would land now
        bins = {p.stem: p.read_bytes().count(CUT) for p in out.glob("*.bin")}
        printed = [t for t, s in states.items() if s == "printed"]
        print_lost = sum(1 for t in printed if not bins.get(t))
        print_twice = sum(max(0, n - 1) for n in bins.values()) + sum(
            1 for t, s in states.items() if s == "not_printed" and bins.get(t)
        )
        fault_report(
            "power-cut",
            got["lost"] + print_lost,
            got["twice"] + print_twice,
            issued=got["issued"],
            calls=got["calls"],
            printed=len(printed),
            not_printed=len(ids) - len(printed),
            inconsistent=len(bad),
        )
        assert got["lost"] == 0 and got["twice"] == 0 and got["out_of_order"] == 0, got
        assert print_lost == 0 and print_twice == 0, (states, bins)
        assert all(states[t] == "printed" for t in held), states  # nobody called them: printed, once
        assert not bad, bad[:10]
        assert not rush.errors, rush.errors[:5]
        assert got["calls"] == got["issued"] >= 24, got
    finally:
        rush.stop_issuing.set()
        rush.stop_calling.set()
        stop_agent(agent)
        stop_agent(worker)
        srv.close()
        redis.stop()
