"""A Redis Cluster master SIGKILLed under a running API server: its replica
is promoted, every ticket the kiosk got a 201 for is still there (each
script's reply waited for `WAIT 1`, store/connection.py), numbering goes on
from where it was, no request got a 500 meanwhile (a 503 with its message
while the slot had no master is the documented answer), and the board still
gets the events."""

from __future__ import annotations

import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from queue_server.store.keys import Keys
from tests.cluster import Cluster, info, start_cluster
from tests.server import make_server


@dataclass
class Sent:
    at: float
    kind: str
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
            r = public.get("/api/board")
        try:
            body = r.json()
        except ValueError:
            body = r.text
        return Sent(at, kind, r.status_code, body)
    except httpx.HTTPError as e:
        return Sent(at, kind, None, repr(e))


def _number(ticket: dict[str, Any]) -> int:
    return int(re.sub(r"\D", "", ticket["number"]))


def _unreplicated(srv) -> float:
    text = srv.client().get("/metrics", headers={"Authorization": "Bearer failover-metrics"}).text
    return float(re.search(r"^motcua_redis_unreplicated_total (\S+)$", text, re.M).group(1))


@pytest.fixture
def cluster(tmp_path):
    c = start_cluster(tmp_path / "cluster")
    yield c
    c.stop()


def test_a_master_killed_its_replica_promoted_no_acknowledged_ticket_lost(cluster: Cluster, redis_proc, monkeypatch):
    monkeypatch.setenv("MOTCUA_RQ_REDIS_URL", redis_proc.url)  # RQ does not speak Cluster
    monkeypatch.setenv("MOTCUA_METRICS_TOKEN", "failover-metrics")
    srv = make_server(cluster.url).start()
    try:
        kiosk, public = srv.device("kiosk"), srv.client()
        for c in (kiosk, public):  # a request waits out the promotion (CLUSTER_RETRY_SECONDS) at most
            c.timeout = httpx.Timeout(30)
        master = cluster.master_of_key(Keys(srv.site_id).tickets)
        replica = cluster.replica_of(master)
        acked: list[dict[str, Any]] = []
        for i in range(10):
            r = kiosk.post("/api/tickets", json={"category": "HT"}, headers={"Idempotency-Key": f"before-{i}"})
            assert r.status_code == 201, r.text
            acked.append(r.json())
        assert _unreplicated(srv) == 0  # the master had its replica
        # each issue waited for the replica: WAIT ran on the site's master
        assert int(info(master.port, "commandstats").get("cmdstat_wait", "calls=0").split("=")[1].split(",")[0]) >= 10
        before_max = max(_number(t) for t in acked)

        sent: list[Sent] = []
        stop = threading.Event()
        with ThreadPoolExecutor(max_workers=16) as pool:
            futures = []

            def every_100ms() -> None:
                i, due = 0, time.monotonic()
                while not stop.is_set():
                    kind = ("issue", "ticket", "board")[i % 3]
                    futures.append(pool.submit(_send, kiosk, public, kind, f"during-{i}", acked[0]["id"]))
                    i += 1
                    due += 0.1
                    time.sleep(max(0.0, due - time.monotonic()))

            sender = threading.Thread(target=every_100ms)
            sender.start()
            try:
                time.sleep(1.0)
                killed_at = time.monotonic()
                cluster.kill(master)  # SIGKILL: no shutdown, its slots have no master
                deadline = time.monotonic() + 30
                while cluster.role(replica) != "master":
                    assert time.monotonic() < deadline, "the replica was not promoted"
                    time.sleep(0.1)
                promoted_at = time.monotonic()
                cluster.wait_ok()
                submitted = len(futures)
                enough = time.monotonic() + 60
                # 6 s more: the last 3 s of them (30 requests) are the "settled" ones below
                while len(futures) - submitted < 60:
                    assert time.monotonic() < enough, "the sender stalled"
                    time.sleep(0.1)
            finally:
                stop.set()
                sender.join()
            sent = [f.result() for f in futures]

        # no 500, no dropped connection: a 201/200, or a 503 that says why
        bad = [(s.kind, s.status, s.body) for s in sent if s.status not in (200, 201, 503)]
        assert not bad, f"{len(bad)} of {len(sent)} requests failed otherwise than 503: {bad[:5]}"
        unavailable = [s for s in sent if s.status == 503]
        assert all(s.body.get("error") == "unavailable" and s.body.get("message") for s in unavailable), unavailable[:3]
        # after the promotion (and a few seconds of grace for the clients to
        # learn the new map) every request is served
        settled = [s for s in sent if s.at >= promoted_at + 3]
        assert settled and all(s.status in (200, 201) for s in settled), [(s.kind, s.status) for s in settled][:5]

        issued = [s for s in sent if s.kind == "issue" and s.status == 201]
        assert len([s for s in issued if s.at > killed_at]) >= 5
        acked += [s.body for s in issued]
        # every acknowledged ticket is on the promoted master, as it was issued
        for t in acked:
            r = public.get(f"/api/tickets/{t['id']}")
            assert r.status_code == 200, (t, r.text)
            assert r.json()["number"] == t["number"]
        # numbering went on: no number given twice, none going back
        numbers = [_number(t) for t in acked]
        assert len(set(numbers)) == len(numbers), sorted(numbers)
        later = [_number(s.body) for s in sent if s.kind == "issue" and s.status == 201 and s.at > promoted_at]
        assert later and min(later) > before_max, (before_max, later)
        # the promoted master has no replica (its old master stays dead): the
        # writes since were answered without one, and counted
        assert _unreplicated(srv) > 0
        # the board still gets the events (its broadcaster subscribes again
        # when its node was the one killed)
        with connect(f"{srv.ws_url}/ws/board?token={srv.tokens['display']}", open_timeout=10) as ws:
            snapshot = json.loads(ws.recv(timeout=10))
            assert snapshot.get("type") == "snapshot", snapshot
            r = kiosk.post("/api/tickets", json={"category": "HT"}, headers={"Idempotency-Key": "after"})
            assert r.status_code == 201, r.text
            deadline = time.monotonic() + 10
            while True:
                msg = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
                events = msg.get("events") or [msg.get("event") or {}]
                if msg.get("type") == "event" and any(e.get("number") == r.json()["number"] for e in events):
                    break
        print(
            f"failover: {len(sent)} requests, {len(unavailable)} answered 503, "
            f"promotion {promoted_at - killed_at:.1f}s after the kill"
        )
    finally:
        srv.close()
