"""Acceptance 5 of issue #10: a booking with a distinctive name and phone,
booked, checked in at the kiosk, printed by the real print agent and called
to a counter: neither the name nor the phone (in any of its forms) appears
in the event stream, the board feed (/ws/board), the ticket's ESC/POS bytes
or the print job, the tracking reply, or the server's and agent's logs."""

from __future__ import annotations

import json
import tempfile
import time
from datetime import datetime
from pathlib import Path

import pytest
from redis import Redis
from websockets.sync.client import connect

from queue_server.domain.config import WEEKDAYS
from queue_server.redis_server import free_port
from tests.e2e.appointment_helpers import TZ
from tests.e2e.print_agent_helpers import start_agent, stop_agent, wait_for
from tests.helpers import run_sync, test_config_dict
from tests.server import ServerHandle, seed_accounts, write_toml

NAME = "Zebulon Quàng Thị Xyzzy"
PHONE = "0986 420 137"
FORBIDDEN = ("Zebulon", "Xyzzy", "Quàng", "Quang", "986420137", "986 420 137", "0986420137", "84986420137")


def leaks(text: str) -> list[str]:
    return [f for f in FORBIDDEN if f.lower() in text.lower()]


@pytest.fixture(scope="module")
def srv(redis_url, tmp_path_factory):
    d = test_config_dict()
    for day in WEEKDAYS:
        d["hours"][day] = ["00:00-23:59"]
    d["hours"] |= {"public_holidays": False, "closures": []}
    d["appointments"] |= {"enabled": True, "book_until_minutes": 0, "checkin_early_minutes": 240}
    d["categories"][0]["appointment_capacity"] = 5
    path = tmp_path_factory.mktemp("site") / "site.toml"
    write_toml(d, path)
    handle = ServerHandle(redis_url=redis_url, site_id=d["site"]["id"], config_path=path, port=free_port())
    handle.tokens = run_sync(seed_accounts(redis_url, handle.site_id))
    handle.start()
    yield handle
    handle.close()


def next_slot(client) -> str:
    now = datetime.now(TZ)
    for day in (now.date(), now.date().fromordinal(now.date().toordinal() + 1)):
        slots = client.get("/api/appointments/slots", params={"category": "HT", "date": day.isoformat()}).json()
        for s in slots["slots"]:
            if s["available"] > 0 and (datetime.fromisoformat(s["start"]) - now).total_seconds() < 3 * 3600:
                return s["start"]
    raise AssertionError("no slot within the check-in window")


def drain(ws, until, timeout: float = 10.0) -> list[str]:
    """Board messages until one satisfies `until` (or the time runs out)."""
    got: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            raw = ws.recv(timeout=max(0.05, deadline - time.monotonic()))
        except TimeoutError:
            break
        got.append(raw if isinstance(raw, str) else raw.decode("utf-8", "replace"))
        if until(got[-1]):
            break
    return got


def test_no_name_or_phone_leaves_the_booking(srv):
    out_dir = Path(tempfile.mkdtemp(prefix="motcua-virtual-printer-"))
    agent = start_agent(srv, f"virtual:{out_dir}", width=80)
    try:
        anon = srv.client()
        with connect(f"{srv.ws_url}/ws/board?token={srv.tokens['display']}", open_timeout=10) as ws:
            board = drain(ws, lambda m: True)  # the snapshot
            b = anon.post(
                "/api/appointments",
                json={"category": "HT", "start": next_slot(anon), "name": NAME, "phone": PHONE},
            )
            assert b.status_code == 201, b.text
            booking = b.json()
            kiosk = srv.device("kiosk")
            r = kiosk.post("/api/appointments/check-in", json={"code": booking["code"]})
            assert r.status_code == 201, r.text
            t = r.json()
            wait_for(
                lambda: kiosk.get(f"/api/tickets/{t['id']}/print").json()["state"] == "printed",
                timeout=20,
                what="printed",
            )
            call = srv.login("lan").post("/api/counters/1/next")
            assert call.status_code == 200, call.text
            assert call.json()["ticket"]["id"] == t["id"]
            board += drain(ws, lambda m: t["number"] in m and '"call"' in m)
        assert any(t["number"] in m for m in board)  # the feed did carry the call
        for m in board:
            assert not leaks(m), m

        data = (out_dir / f"{t['id']}.bin").read_bytes()
        assert data.count(b"\x1dV") == 1
        for f in FORBIDDEN:
            for enc in ("utf-8", "cp1258", "latin-1"):
                try:
                    needle = f.encode(enc)
                except UnicodeEncodeError:
                    continue
                assert needle.lower() not in data.lower(), (f, enc)
        for leftover in out_dir.iterdir():
            if leftover.suffix != ".bin" and leftover.suffix != ".png":
                assert not leaks(leftover.read_text(errors="replace")), leftover

        for path in (f"/api/tickets/{t['id']}", f"/api/tickets/{t['id']}/print"):
            assert not leaks(kiosk.get(path).text), path

        r = Redis.from_url(srv.redis_url, decode_responses=True)
        try:
            events = r.xrange(f"mc:{{{srv.site_id}}}:events")
            audit = r.xrange(f"mc:{{{srv.site_id}}}:audit")
        finally:
            r.close()
        assert any(f["type"] == "appointment_checkin" for _, f in events)
        assert not leaks(json.dumps(events, ensure_ascii=False))
        assert not leaks(json.dumps(audit, ensure_ascii=False))
    finally:
        stop_agent(agent)
    assert not leaks(srv.log_path.read_text(errors="replace"))
    for log in Path(srv.config_path).parent.glob("agent-*.log"):
        assert not leaks(log.read_text(errors="replace")), log
