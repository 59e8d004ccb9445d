"""/metrics over a real server: behind its token, route templates (never a
ticket id or token) as labels, queues, fan-out, print jobs, Redis errors and
reconnects; parsed with prometheus_client's own parser. And JSON logs."""

from __future__ import annotations

import json
import tempfile
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.sync.client import connect

from queue_server import redis_server
from tests.server import make_server

TOKEN = "metrics-secret-token-123"


def scrape(srv) -> dict:
    """name -> list of (labels, value) for every sample."""
    r = srv.client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    out: dict = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            out.setdefault(s.name, []).append((s.labels, s.value))
    return out


def value(samples: dict, name: str, **labels) -> float:
    found = [v for lab, v in samples.get(name, []) if all(lab.get(k) == x for k, x in labels.items())]
    assert found, (name, labels, sorted(samples))
    return sum(found)


@pytest.fixture(scope="module")
def msrv(redis_url):
    mp = pytest.MonkeyPatch()
    mp.setenv("MOTCUA_METRICS_TOKEN", TOKEN)
    srv = make_server(redis_url).start()
    mp.undo()
    yield srv
    srv.close()


def test_metrics_needs_the_token(msrv, live):
    assert msrv.client().get("/metrics").status_code == 401
    r = msrv.client().get("/metrics", headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401 and r.json()["error"] == "metrics_unauthorized"
    assert "MOTCUA_METRICS_TOKEN" in r.json()["message"]
    # a server without MOTCUA_METRICS_TOKEN keeps /metrics closed to every token
    assert live.client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 401
    assert live.client().get("/metrics", headers={"Authorization": "Bearer x"}).status_code == 401


def test_requests_by_route_template_queues_and_print_jobs(msrv):
    msrv.reset()
    kiosk = msrv.device("kiosk")
    ids = []
    for _ in range(3):
        r = kiosk.post("/api/tickets", json={"category": "HT"})
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    public = msrv.client()
    for tid in ids:
        assert public.get(f"/api/tickets/{tid}").status_code == 200
    assert public.get("/api/tickets/no-such-ticket").status_code == 404
    m = scrape(msrv)
    route = "/api/tickets/{ticket_id}"  # the template, as Litestar routed it
    assert value(m, "motcua_http_request_duration_seconds_count", method="GET", route=route, status="200") == 3
    assert value(m, "motcua_http_request_duration_seconds_count", method="GET", route=route, status="404") == 1
    assert value(m, "motcua_http_request_duration_seconds_count", method="POST", route="/api/tickets") >= 3
    # no raw path, ticket id or token in any label
    every_label = {v for samples in m.values() for lab, _ in samples for v in lab.values()}
    assert not any(tid in v for tid in ids for v in every_label)
    assert not any(msrv.tokens["kiosk"] in v for v in every_label)
    assert "no-such-ticket" not in " ".join(every_label)
    assert value(m, "motcua_queue_length", category="HT") == 3
    assert value(m, "motcua_queue_length", category="CT") == 0
    assert value(m, "motcua_queue_longest_wait_seconds", category="HT") >= 0
    assert value(m, "motcua_queue_longest_wait_seconds", category="CT") == 0
    # the kiosk's tickets wait for a print agent: queued print jobs
    assert value(m, "motcua_print_jobs", state="queued") == 3
    for state in ("in_flight", "printed", "not_printed"):
        assert value(m, "motcua_print_jobs", state=state) >= 0
    assert value(m, "motcua_redis_errors_total") >= 0
    assert value(m, "motcua_redis_reconnects_total") >= 0


def test_board_fanout_is_timed(msrv):
    msrv.reset()
    before = value(scrape(msrv), "motcua_board_fanout_seconds_count")
    with connect(f"{msrv.ws_url}/ws/board?token={msrv.tokens['display']}", open_timeout=10) as ws:
        json.loads(ws.recv(timeout=10))  # the snapshot
        assert msrv.device("kiosk").post("/api/tickets", json={"category": "HT"}).status_code == 201
        clerk = msrv.login("lan")
        assert clerk.post("/api/counters/1/next").status_code == 200
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            msg = json.loads(ws.recv(timeout=10))
            if msg.get("type") == "event" and msg["event"]["type"] == "call":
                break
    after = value(scrape(msrv), "motcua_board_fanout_seconds_count")
    assert after > before


def test_redis_errors_and_reconnects_are_counted(monkeypatch):
    proc = redis_server.start(tempfile.mkdtemp(prefix="motcua-metrics-"))
    monkeypatch.setenv("MOTCUA_METRICS_TOKEN", TOKEN)
    srv = make_server(proc.url).start()
    procs = [proc]
    try:
        m = scrape(srv)
        errors, reconnects = value(m, "motcua_redis_errors_total"), value(m, "motcua_redis_reconnects_total")
        proc.kill()
        procs.append(redis_server.start(proc.data_dir, port=proc.port))
        # the first command after the restart meets the dead socket, retries and goes through
        assert srv.client().get("/api/categories").status_code == 200
        deadline = time.monotonic() + 20
        while True:
            m = scrape(srv)
            if value(m, "motcua_redis_reconnects_total") > reconnects or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert value(m, "motcua_redis_errors_total") > errors
        assert value(m, "motcua_redis_reconnects_total") > reconnects
    finally:
        srv.close()
        for p in procs:
            p.stop()


def test_json_logs_one_object_per_line_in_the_site_time_zone(redis_url, monkeypatch):
    monkeypatch.setenv("MOTCUA_LOG_JSON", "true")
    srv = make_server(redis_url).start()
    try:
        c = srv.client()
        secret = "sEcReT-token-value"
        c.get(f"/api/appointments/x?token={secret}")
        c.get("/kiosk", params={"token": secret, "phone": "0912345678"})
        c.get("/api/categories")
    finally:
        srv.close()
    lines = [ln for ln in srv.log_path.read_text("utf-8").splitlines() if ln.strip()]
    bad = [ln for ln in lines if not ln.startswith("{")]
    assert not bad, bad[:5]
    records = [json.loads(ln) for ln in lines]  # every line is one JSON object
    access = [r for r in records if r["logger"] == "uvicorn.access"]
    assert any(r["path"] == "/api/categories" and r["status"] == 200 for r in access), access
    text = "\n".join(lines)
    assert secret not in text and "0912345678" not in text
    assert "127.0.0.1:" not in json.dumps(access)  # no client address
    assert all(r["time"].endswith("+07:00") for r in records)
    assert {"time", "level", "logger", "message"} <= set(records[0])
