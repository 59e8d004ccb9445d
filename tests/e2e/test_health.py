"""/healthz and /readyz over a real server and a real Redis: every check
named with ok and a reason, 503 when a required one fails, Redis down."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time

import pytest
from redis import Redis
from redis.asyncio import Redis as AsyncRedis

from queue_server import redis_server
from queue_server.adapters.jobs import QUEUE_NAME
from queue_server.store.printing import PrintQueue
from queue_server.store.scripts import Scripts
from tests.helpers import run_sync
from tests.server import make_server

CHECKS = {"redis", "aof", "disk", "worker", "printer"}


def _until(fn, timeout: float = 20.0):
    """Poll fn until it returns something truthy (no timing is asserted)."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


async def _agent_says_online(url, keys):
    r = AsyncRedis.from_url(url, decode_responses=True)
    try:
        await PrintQueue(r, keys, Scripts(r)).set_status("online", "ok", agent="test")
    finally:
        await r.aclose()


@pytest.fixture
def own():
    """A Redis of its own (to kill or reconfigure) and an API server on it."""
    procs = [redis_server.start(tempfile.mkdtemp(prefix="motcua-health-"))]
    srv = make_server(procs[0].url).start()
    srv.redis_procs = procs  # a test that restarts Redis appends the new one
    try:
        yield srv, procs[0]
    finally:
        srv.close()
        for p in procs:
            p.stop()


def test_healthz_and_readyz_ok_name_every_check(live):
    c = live.client()
    r = c.get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    r = c.get("/readyz")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == CHECKS
    for name, check in body["checks"].items():
        assert set(check) == {"ok", "required", "reason", "reason_en"}, name
        assert check["reason"] and check["reason_en"]
    assert {n for n, ch in body["checks"].items() if ch["required"]} == {"redis", "aof", "disk"}
    assert body["checks"]["redis"]["ok"] and body["checks"]["aof"]["ok"] and body["checks"]["disk"]["ok"]


def test_readyz_reports_the_print_agent_contact(own):
    srv, proc = own
    c = srv.client()
    printer = c.get("/readyz").json()["checks"]["printer"]
    assert printer["ok"] is False and printer["required"] is False
    # the agent reports its state (what /ws/printer does on each contact)
    run_sync(_agent_says_online(proc.url, srv.keys))
    printer = c.get("/readyz").json()["checks"]["printer"]
    assert printer["ok"] is True, printer


def test_readyz_sees_a_running_worker(own):
    srv, proc = own
    c = srv.client()
    assert c.get("/readyz").json()["checks"]["worker"]["ok"] is False
    worker = subprocess.Popen(
        [sys.executable, "-m", "queue_server.cli", "worker", "--redis-url", proc.url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        check = _until(lambda: (ch := c.get("/readyz").json()["checks"]["worker"])["ok"] and ch)
        assert check and "worker" in check["reason"], check
        # stop it only once it waits for work: a SIGTERM during its start-up
        # (it registers before it has its signal handlers) kills it unregistered
        r = Redis.from_url(proc.url)
        assert _until(lambda: any(r.hget(n, "state") == b"idle" for n in r.smembers(f"rq:workers:{QUEUE_NAME}"))), (
            "the worker never became idle"
        )
    finally:
        worker.terminate()
        worker.wait(10)
    # a worker that stopped cleanly unregisters: no worker again
    check = _until(lambda: not (ch := c.get("/readyz").json()["checks"]["worker"])["ok"] and ch)
    assert check and check["ok"] is False
    assert not Redis.from_url(proc.url).smembers(f"rq:workers:{QUEUE_NAME}")


def test_readyz_fails_when_aof_is_off(own):
    srv, proc = own
    c = srv.client()
    assert c.get("/readyz").status_code == 200
    r = Redis.from_url(proc.url)
    r.config_set("appendonly", "no")
    try:
        resp = c.get("/readyz")
        assert resp.status_code == 503
        body = resp.json()
        assert body["failed"] == ["aof"] and body["error"] == "unavailable"
        assert body["checks"]["aof"]["ok"] is False and "AOF" in body["checks"]["aof"]["reason"]
        assert "Not ready: aof" in body["message"] and "chưa sẵn sàng" in body["message"]
        assert c.get("/healthz").status_code == 200  # Redis still answers
    finally:
        r.config_set("appendonly", "yes")
        r.close()


def test_readyz_fails_when_the_disk_is_nearly_full(redis_url, monkeypatch):
    monkeypatch.setenv("MOTCUA_MIN_FREE_DISK_MB", str(10**12))  # a petabyte: never free
    srv = make_server(redis_url).start()
    try:
        resp = srv.client().get("/readyz")
        assert resp.status_code == 503
        body = resp.json()
        assert body["failed"] == ["disk"]
        assert "đĩa sắp đầy" in body["checks"]["disk"]["reason"]
    finally:
        srv.close()


def test_redis_down_makes_both_503_in_vietnamese_and_english(own):
    srv, proc = own
    c = srv.client()
    proc.kill()
    resp = _until(lambda: (r := c.get("/healthz")).status_code == 503 and r)
    assert resp, "healthz stayed ok with Redis down"
    body = resp.json()
    assert body["status"] == "fail" and body["error"] == "unavailable"
    assert "Redis không trả lời" in body["message"] and "Redis does not answer" in body["message"]
    resp = c.get("/readyz")
    assert resp.status_code == 503
    body = resp.json()
    assert body["checks"]["redis"]["ok"] is False
    assert {"redis", "aof"} <= set(body["failed"])
    assert "không kiểm tra được" in body["checks"]["worker"]["reason"]
    # Redis back: healthy again, with no restart of the API
    srv.redis_procs.append(redis_server.start(proc.data_dir, port=proc.port))
    assert _until(lambda: c.get("/healthz").status_code == 200)
    assert _until(lambda: c.get("/readyz").status_code == 200)
