"""Fan-out across processes: two real API server processes on one Redis.

An event made through process A reaches a websocket connected to process B,
and events written outside any API process (the ticket store used directly, and a
real RQ worker running a job) reach displays on both."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

import pytest
from redis import Redis as SyncRedis
from rq import Queue, SimpleWorker
from websockets.sync.client import connect

from queue_server import jobs
from queue_server.domain.config import parse_config
from queue_server.redis_server import free_port
from queue_server.settings import rq_redis_url
from tests.helpers import make_store, test_config_dict
from tests.server import ServerHandle


@pytest.fixture(scope="module")
def pair(server):
    """Process B: a second server process for the same site on the same Redis."""
    b = ServerHandle(
        redis_url=server.redis_url,
        site_id=server.site_id,
        config_path=server.config_path,
        port=free_port(),
        tokens=dict(server.tokens),
    )
    b.start()
    yield server, b
    b.close()


@contextlib.contextmanager
def board_socket(handle: ServerHandle):
    with connect(f"{handle.ws_url}/ws/board?token={handle.tokens['display']}", open_timeout=10) as ws:
        snap = json.loads(ws.recv(timeout=10))
        assert snap["type"] == "snapshot"
        yield ws, snap


def next_event(ws, want_type: str, timeout: float = 5.0) -> dict:
    """The next board message holding an event of a type (a message may carry
    a run of consecutive events); its "event" is set to that event."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"no {want_type} event within {timeout}s"
        msg = json.loads(ws.recv(timeout=left))
        if msg.get("type") != "event":
            continue
        for ev in msg.get("events") or [msg["event"]]:
            if ev["type"] == want_type:
                return {**msg, "event": ev}


def next_events(ws, want: tuple[str, ...], timeout: float = 5.0) -> dict[str, dict]:
    """For each wanted type, the first board message holding such an event
    (its "event" set to it). Consecutive events may come in one message (an
    issue and a call written back to back, batched by the board feed)."""
    deadline = time.monotonic() + timeout
    found: dict[str, dict] = {}
    while len(found) < len(want):
        left = deadline - time.monotonic()
        assert left > 0, f"no {sorted(set(want) - set(found))} event within {timeout}s"
        msg = json.loads(ws.recv(timeout=left))
        if msg.get("type") != "event":
            continue
        for ev in msg.get("events") or [msg["event"]]:
            if ev["type"] in want and ev["type"] not in found:
                found[ev["type"]] = {**msg, "event": ev}
    return found


def test_call_through_a_reaches_display_on_b(pair):
    a, b = pair
    a.reset()
    with board_socket(b) as (ws_b, snap), board_socket(a) as (ws_a, _):
        t = a.device("kiosk").post("/api/tickets", json={"category": "HT"}).json()
        r = a.login("minh").post("/api/counters/3/next")
        assert r.status_code == 200, r.text
        for ws in (ws_b, ws_a):
            msg = next_event(ws, "call")
            assert msg["event"]["number"] == t["number"] and str(msg["event"]["counter"]) == "3"
            c3 = next(c for c in msg["board"]["counters"] if c["counter"] == 3)
            assert c3["number"] == t["number"]
            assert msg["announce"]["text"] == f"Mời công dân có số {t['number']} đến quầy số 3"
            assert msg["events"][-1]["type"] == "call" and msg["event"]["seq"] == msg["seq"]
            assert msg["seq"] > snap["seq"]


def test_out_of_process_writer_reaches_displays_on_both(pair, redis_url):
    """The ticket store used directly (as an RQ job would) – no API process involved."""
    a, b = pair
    a.reset()
    cfg = parse_config(test_config_dict(site_id=a.site_id))

    async def write():
        store = await make_store(redis_url, cfg)
        try:
            t, _ = await store.issue("XH")
            called = await store.call_next(5, clerk="worker")
            return t, called
        finally:
            await store.redis.aclose()

    with board_socket(a) as (ws_a, _), board_socket(b) as (ws_b, _):
        t, called = asyncio.run(write())
        assert called.ticket.id == t.id
        for ws in (ws_a, ws_b):
            got = next_events(ws, ("issue", "call"))
            issue, call = got["issue"], got["call"]
            assert issue["event"]["number"] == t.number
            assert call["event"]["seq"] == issue["event"]["seq"] + 1
            c5 = next(c for c in call["board"]["counters"] if c["counter"] == 5)
            assert c5["number"] == t.number


def test_rq_worker_job_events_reach_displays(pair, redis_url):
    """A real RQ worker (separate from both servers) runs the close-of-day
    job; the expire event it writes reaches displays on A and B."""
    a, b = pair
    a.reset()
    t = a.device("kiosk").post("/api/tickets", json={"category": "KD"}).json()
    conn = SyncRedis.from_url(rq_redis_url(redis_url))  # RQ's own Redis on a cluster
    q = Queue(f"fanout-{a.site_id}", connection=conn)
    try:
        with board_socket(a) as (ws_a, _), board_socket(b) as (ws_b, _):
            q.enqueue(jobs.close_day, redis_url, a.site_id, str(a.config_path), False)
            assert SimpleWorker([q], connection=conn).work(burst=True)
            for ws in (ws_a, ws_b):
                msg = next_event(ws, "expire")
                assert msg["event"]["number"] == t["number"]
                assert all(w["count"] == 0 for w in msg["board"]["waiting"])
    finally:
        q.delete(delete_jobs=True)
        conn.close()
