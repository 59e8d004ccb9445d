"""Redis killed (SIGKILL) and restarted under a running API server: once
Redis answers again no request fails, no acknowledged ticket is lost, and a
kiosk press repeated with its Idempotency-Key yields one ticket."""

from __future__ import annotations

import json
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
from redis import Redis
from websockets.sync.client import connect

from queue_server import redis_server
from tests.faults.rush import Rush, check_rush
from tests.server import make_server

KINDS = ("issue", "ticket", "board", "site", "categories")


@dataclass
class Sent:
    at: float
    kind: str
    key: str
    status: int | None
    body: Any


def _send(kiosk: httpx.Client, public: httpx.Client, kind: str, key: str, ticket_id: str) -> Sent:
    at = time.monotonic()
    try:
        if kind == "issue":
            r = kiosk.post("/api/tickets", json={"category": "HT"}, headers={"Idempotency-Key": key})
        elif kind == "ticket":
            r = public.get(f"/api/tickets/{ticket_id}")
        else:
            r = public.get(f"/api/{kind}")
        try:
            body = r.json()
        except ValueError:
            body = r.text
        return Sent(at, kind, key, r.status_code, body)
    except httpx.HTTPError as e:
        return Sent(at, kind, key, None, repr(e))


def _board_after_restart(srv) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The first message of a new board websocket, and the first event after
    it (tickets are being issued): the broadcaster has subscribed again."""
    first: dict[str, Any] = {}
    try:
        with connect(f"{srv.ws_url}/ws/board?token={srv.tokens['display']}", open_timeout=10) as ws:
            first = json.loads(ws.recv(timeout=10))
            deadline = time.monotonic() + 5
            while (left := deadline - time.monotonic()) > 0:
                msg = json.loads(ws.recv(timeout=left))
                if msg.get("type") == "event" and msg.get("seq", 0) > first.get("seq", 0):
                    return first, msg
    except Exception as e:  # closed (4500) instead of a snapshot, or no event came
        first = first or {"error": repr(e)}
    return first, None


def test_requests_every_100ms_across_a_redis_restart(fault_report):
    data = tempfile.mkdtemp(prefix="motcua-fault-redis-")
    proc = redis_server.start(data)
    srv = make_server(proc.url).start()
    try:
        kiosk, public = srv.device("kiosk"), srv.client()
        first = kiosk.post("/api/tickets", json={"category": "HT"}, headers={"Idempotency-Key": "warm-up"})
        assert first.status_code == 201, first.text
        ticket_id = first.json()["id"]

        sent: list[Sent] = []
        stop = threading.Event()
        with ThreadPoolExecutor(max_workers=40) as pool:
            futures = []

            def every_100ms() -> None:
                i, due = 0, time.monotonic()
                while not stop.is_set():
                    kind = KINDS[i % len(KINDS)]
                    futures.append(pool.submit(_send, kiosk, public, kind, f"press-{i}", ticket_id))
                    i += 1
                    due += 0.1
                    time.sleep(max(0.0, due - time.monotonic()))

            sender = threading.Thread(target=every_100ms)
            sender.start()
            try:
                time.sleep(1.5)
                proc.kill()  # SIGKILL: the API's pooled connections now lead nowhere
                time.sleep(1.5)
                proc = redis_server.start(data, port=proc.port)
                answered = time.monotonic()  # Redis answers PING again from here on
                submitted = len(futures)  # every request submitted from here on is sent after it
                snapshot, event = _board_after_restart(srv)
                # at least 30 more requests, however slowly a loaded machine sends them
                enough = time.monotonic() + 30
                while len(futures) - submitted < 30:
                    assert time.monotonic() < enough, "the sender stalled"
                    time.sleep(0.1)
            finally:
                stop.set()
                sender.join()
            sent = [f.result() for f in futures]

        after = [s for s in sent if s.at >= answered]
        assert len(after) >= 30 and {s.kind for s in after} == set(KINDS)
        failed = [(s.kind, s.status, s.body) for s in after if s.status not in (200, 201)]
        assert not failed, f"{len(failed)} of {len(after)} requests after the restart failed: {failed[:5]}"
        # the first board websocket after the restart got its snapshot (it closed with 4500)
        assert snapshot.get("type") == "snapshot", snapshot
        assert event is not None and event["event"]["type"] == "issue", event  # events flow again
        outage = [s for s in sent if s.at < answered and s.status != 200 and s.status != 201]
        assert all(s.status == 503 for s in outage), [(s.kind, s.status, s.body) for s in outage][:5]

        # every acknowledged ticket is there after the restart
        acked = {s.key: s.body["id"] for s in sent if s.kind == "issue" and s.status == 201}
        for tid in acked.values():
            assert public.get(f"/api/tickets/{tid}").status_code == 200
        # the presses refused during the outage, pressed again with their key:
        # one ticket each, and a stored one comes back as itself
        for s in sent:
            if s.kind == "issue" and s.status != 201:
                again = kiosk.post("/api/tickets", json={"category": "HT"}, headers={"Idempotency-Key": s.key})
                assert again.status_code == 201, again.text
                acked[s.key] = again.json()["id"]
        presses = 1 + sum(1 for s in sent if s.kind == "issue")
        r = Redis.from_url(proc.url, decode_responses=True)
        try:
            stored = r.hlen(srv.keys.tickets)
        finally:
            r.close()
        lost = sum(1 for tid in {ticket_id, *acked.values()} if public.get(f"/api/tickets/{tid}").status_code != 200)
        fault_report("redis-restart-requests", lost, max(0, stored - presses), requests=len(sent))
        assert lost == 0
        assert len(set(acked.values())) == len(acked) == presses - 1
        assert stored == presses  # the warm-up ticket and one per press, none twice
    finally:
        srv.close()
        proc.stop()


def test_redis_killed_while_5_clerks_press_next_and_a_kiosk_issues(fault_report):
    """Redis SIGKILLed and restarted on its AOF mid-rush: every press is
    sent again with its key until it is answered; no citizen is called
    twice or skipped, and the numbering goes on without a gap."""
    data = tempfile.mkdtemp(prefix="motcua-fault-redis-rush-")
    proc = redis_server.start(data)
    srv = make_server(proc.url).start()
    try:
        rush = Rush(srv).start()
        rush.wait_issued(15)
        proc.kill()
        time.sleep(1.0)  # an outage the presses run into
        proc = redis_server.start(data, port=proc.port)
        before = len(rush.issued)
        rush.wait_issued(before + 15)
        rush.finish()
        got = check_rush(rush, proc.url)
        fault_report("redis-killed-rush", got["lost"], got["twice"], issued=got["issued"], calls=got["calls"])
        assert got["lost"] == 0 and got["twice"] == 0, got
        assert got["out_of_order"] == 0, got
        assert not rush.errors, rush.errors[:5]
        assert got["calls"] == got["issued"] >= 30, got
    finally:
        srv.close()
        proc.stop()
