"""The real print agent (`motcua printer-agent`, a subprocess) against a
running server: printed once and acked; a network printer that refuses
connections and then accepts gets the ticket exactly once; the ticket stays
valid all along; the printer status reaches the server."""

from __future__ import annotations

import contextlib
import tempfile
import time
from pathlib import Path

import pytest

from printer.escpos_out import decode_raster, raster_bands
from tests.e2e.print_agent_helpers import NetworkPrinter, start_agent, stop_agent, wait_for


def _status(server) -> dict:
    return server.device("kiosk").get("/api/printer/status").json()


def _print_state(server, tid: str) -> dict:
    return server.device("kiosk").get(f"/api/tickets/{tid}/print").json()


@pytest.fixture
def out_dir():
    return Path(tempfile.mkdtemp(prefix="motcua-virtual-printer-"))


def test_printed_once_and_acked(live, out_dir):
    agent = start_agent(live, f"virtual:{out_dir}", width=58)
    try:
        wait_for(lambda: _status(live)["status"] == "online", timeout=15, what="agent online")
        kiosk = live.device("kiosk")
        r = kiosk.post("/api/tickets", json={"category": "HT"}, headers={"Idempotency-Key": "press-1"})
        assert r.status_code == 201, r.text
        t = r.json()
        assert t["print"]["queued"] is True and t["print"]["ok"] is True
        wait_for(lambda: _print_state(live, t["id"])["state"] == "printed", timeout=10, what="ack")
        data = (out_dir / f"{t['id']}.bin").read_bytes()
        assert data.count(b"\x1dV") == 1 and raster_bands(data)[0].width_bytes == 384 // 8
        img = decode_raster(data)
        assert img.width == 384 and img.height > 300
        # the same press again (a retry) is the same ticket, and it is not printed again
        again = kiosk.post("/api/tickets", json={"category": "HT"}, headers={"Idempotency-Key": "press-1"}).json()
        assert again["id"] == t["id"] and again["print"]["queued"] is False
        time.sleep(1.0)
        assert sorted(p.name for p in out_dir.iterdir()) == [f"{t['id']}.bin", f"{t['id']}.png"]
        assert _status(live)["pending_jobs"] == 0
        # staff reprint makes a second, separate job
        clerk = live.login("lan")
        rp = clerk.post(f"/api/tickets/{t['id']}/reprint")
        assert rp.status_code == 202 and rp.json()["job"] == f"{t['id']}.r1"
        wait_for(lambda: (out_dir / f"{t['id']}.r1.bin").exists(), timeout=10, what="reprint")
        assert live.client().post(f"/api/tickets/{t['id']}/reprint").status_code == 401
    finally:
        stop_agent(agent)


def test_the_kiosk_asks_once_and_is_answered_when_printed(live, out_dir):
    """The kiosk's long poll (GET …/print?wait=): asked right after the issue,
    its one answer is "printed", woken by the agent's ack before the wait is
    over; with no agent it answers at once (the printer is not working, the
    kiosk says so); a wait over 5 s is a 400 with a message."""
    kiosk = live.device("kiosk")
    t0 = kiosk.post("/api/tickets", json={"category": "HT"}).json()
    started = time.monotonic()
    r = kiosk.get(f"/api/tickets/{t0['id']}/print?wait=3")
    assert r.status_code == 200 and r.json()["state"] == "queued" and r.json()["printer"]["ok"] is False
    assert time.monotonic() - started < 2.5  # not held for the wait: nothing would print it
    bad = kiosk.get(f"/api/tickets/{t0['id']}/print?wait=9")
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_body" and bad.json()["message"]
    agent = start_agent(live, f"virtual:{out_dir}")
    try:
        wait_for(lambda: _status(live)["status"] == "online", timeout=15, what="agent online")
        wait_for(lambda: _print_state(live, t0["id"])["state"] == "printed", timeout=10, what="the first ticket")
        for _ in range(3):
            t = kiosk.post("/api/tickets", json={"category": "HT"}).json()
            started = time.monotonic()
            r = kiosk.get(f"/api/tickets/{t['id']}/print?wait=5")
            assert r.status_code == 200 and r.json()["state"] == "printed", r.json()
            assert time.monotonic() - started < 4.5  # woken by the ack, not by the end of the wait
    finally:
        stop_agent(agent)


def test_job_waits_in_redis_until_an_agent_comes(live, out_dir):
    kiosk = live.device("kiosk")
    t = kiosk.post("/api/tickets", json={"category": "CT"}).json()
    assert t["print"]["queued"] is True and t["print"]["ok"] is False  # no agent yet
    assert _print_state(live, t["id"])["state"] == "queued"
    agent = start_agent(live, f"virtual:{out_dir}")
    try:
        wait_for(lambda: _print_state(live, t["id"])["state"] == "printed", timeout=15, what="late print")
        assert (out_dir / f"{t['id']}.bin").exists()
        # the agent loses the server and comes back: still printed once
        live.stop()
        live.start()
        wait_for(lambda: _status(live)["status"] == "online", timeout=20, what="agent reconnected")
        t2 = kiosk.post("/api/tickets", json={"category": "CT"}).json()
        wait_for(lambda: _print_state(live, t2["id"])["state"] == "printed", timeout=10, what="print after restart")
        assert len(list(out_dir.glob("*.bin"))) == 2
    finally:
        stop_agent(agent)


def test_network_printer_refuses_then_accepts(live):
    printer = NetworkPrinter()  # not listening yet: connections refused
    agent = start_agent(live, printer.spec, width=80)
    try:
        st = wait_for(
            lambda: (s := _status(live))["agent_connected"] and s["status"] == "offline" and s,
            timeout=15,
            what="offline status from the agent",
        )
        assert st["ok"] is False
        kiosk = live.device("kiosk")
        t = kiosk.post("/api/tickets", json={"category": "DD"}).json()
        assert t["print"]["ok"] is False  # the kiosk shows the number to photograph
        pub = live.client()

        def retried():
            assert pub.get(f"/api/tickets/{t['id']}").json()["status"] == "waiting"  # valid all along
            s = _print_state(live, t["id"])
            return s["state"] == "queued" and (s["attempts"] or 0) >= 2 and s["error"]

        wait_for(retried, timeout=20, what="failed attempts")
        assert "refused" in _print_state(live, t["id"])["error"].lower()
        assert printer.tickets() == 0

        printer.start()  # the printer comes back
        wait_for(lambda: _print_state(live, t["id"])["state"] == "printed", timeout=20, what="printed after recovery")
        wait_for(lambda: _status(live)["status"] == "online", timeout=10, what="online status")
        wait_for(lambda: printer.tickets() == 1, timeout=5, what="bytes at the printer")
        time.sleep(2.5)  # no late duplicate
        assert printer.tickets() == 1
        jobs = [d for d in printer.received if b"\x1dV" in d]
        img = decode_raster(jobs[0])
        assert img.width == 576
        assert pub.get(f"/api/tickets/{t['id']}").json()["status"] == "waiting"
        # it can still be called and served normally
        clerk = live.login("minh")
        called = clerk.post("/api/counters/4/next", headers={"Idempotency-Key": "n1"})
        assert called.status_code == 200 and called.json()["ticket"]["id"] == t["id"], called.text
    finally:
        stop_agent(agent)
        printer.stop()


def test_printer_socket_needs_a_printer_token(live):
    import asyncio

    import websockets

    async def go(token):
        try:
            async with websockets.connect(f"{live.ws_url}/ws/printer?token={token}", open_timeout=5) as ws:
                await asyncio.wait_for(ws.recv(), 5)
        except websockets.exceptions.ConnectionClosed as e:
            return e.rcvd.code if e.rcvd else None
        except websockets.exceptions.InvalidStatus as e:
            return e.response.status_code
        return None

    from tests.server import run_sync

    assert run_sync(go(live.tokens["kiosk"])) in (4401, 403)
    assert run_sync(go("nonsense")) in (4401, 403)


def test_a_stale_first_print_is_not_printed_when_the_printer_comes_back(redis_url):
    """Issue #13: B010 printed ~12 s after the printer was back, into the next
    person's hand. A first print older than [queue] print_max_age_s is
    dropped and reported as not printed; a staff reprint still prints."""
    from tests.server import make_server

    srv = make_server(redis_url, queue__print_max_age_s=5).start()
    printer = NetworkPrinter()  # refusing connections: the printer is down
    agent = start_agent(srv, printer.spec, width=80)
    try:
        wait_for(lambda: _status(srv)["agent_connected"], timeout=15, what="agent connected")
        t = srv.device("kiosk").post("/api/tickets", json={"category": "CT"}).json()
        assert t["print"]["ok"] is False  # the kiosk says: photograph the number
        wait_for(lambda: (_print_state(srv, t["id"])["attempts"] or 0) >= 2, timeout=20, what="failed attempts")
        time.sleep(max(0.0, 5.5 - (time.time() * 1000 - t["issued_at"]) / 1000))  # older than the limit
        printer.start()  # the printer is back
        wait_for(lambda: _status(srv)["status"] == "online", timeout=20, what="online status")
        st = wait_for(
            lambda: (s := _print_state(srv, t["id"]))["state"] == "not_printed" and s, timeout=20, what="not printed"
        )
        assert st["reason"] == "too_old"
        time.sleep(2.5)
        assert printer.tickets() == 0  # never printed late
        assert [e["number"] for e in _status(srv)["not_printed"]] == [t["number"]]  # what the admin page lists
        # a staff reprint always prints
        r = srv.login("admin").post(f"/api/tickets/{t['id']}/reprint")
        assert r.status_code == 202 and r.json()["queued"] is True, r.text
        wait_for(lambda: printer.tickets() == 1, timeout=20, what="the reprint at the printer")
    finally:
        stop_agent(agent)
        printer.stop()
        srv.close()


def test_an_agent_gets_a_few_jobs_at_a_time(live):
    """Found by the soak (bench/bench_soak.py): a slow agent was sent every
    queued job at once, held hundreds in its own queue and printed them
    minutes late, past [queue] print_max_age_s. The server sends at most
    AGENT_WINDOW unanswered jobs; the rest wait in Redis, one more per answer."""
    import asyncio
    import json

    import websockets

    from queue_server.api.routes.printing import AGENT_WINDOW
    from tests.server import run_sync

    kiosk = live.device("kiosk")
    ids = [kiosk.post("/api/tickets", json={"category": "HT"}).json()["id"] for _ in range(AGENT_WINDOW + 3)]

    async def agent() -> tuple[list[str], list[str]]:
        url = f"{live.ws_url}/ws/printer?token={live.tokens['printer']}"
        async with websockets.connect(url, open_timeout=10) as ws:
            await ws.send(json.dumps({"type": "hello", "printer": "test", "status": "online"}))

            async def jobs_within(seconds: float) -> list[str]:
                got: list[str] = []
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(seconds):
                        while True:
                            msg = json.loads(await ws.recv())
                            if msg.get("type") == "job":
                                got.append(msg["id"])
                return got

            first = await jobs_within(1.5)  # 3 poll rounds of the server: no more come unanswered
            await ws.send(json.dumps({"type": "ack", "id": first[0]}))
            after_ack = await jobs_within(1.0)
            return first, after_ack

    first, after_ack = run_sync(agent())
    assert len(first) == AGENT_WINDOW and set(first) <= set(ids)
    assert len(after_ack) == 1 and after_ack[0] in ids and after_ack[0] not in first
