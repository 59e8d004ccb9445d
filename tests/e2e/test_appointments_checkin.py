"""Check-in at the kiosk over a real server (issue #10): the kiosk's code
gives the ticket POST /api/tickets gives, with source "appointment", queued
for printing; only a kiosk or staff may check in; twice is refused."""

from __future__ import annotations

import pytest

from tests.e2e.appointment_helpers import next_checkin_slot as next_slot
from tests.e2e.appointment_helpers import round_the_clock_server


@pytest.fixture(scope="module")
def srv(redis_url):
    handle = round_the_clock_server(redis_url)
    handle.start()
    yield handle
    handle.close()


def test_check_in_by_code_at_the_kiosk(srv):
    anon = srv.client()
    start = next_slot(anon)
    b = anon.post(
        "/api/appointments", json={"category": "HT", "start": start, "name": "Đỗ Minh Tuấn", "phone": "0905123456"}
    )
    assert b.status_code == 201, b.text
    code = b.json()["code"]
    assert anon.post("/api/appointments/check-in", json={"code": code}).status_code == 401
    assert srv.device("display").post("/api/appointments/check-in", json={"code": code}).status_code == 403
    kiosk = srv.device("kiosk")
    r = kiosk.post("/api/appointments/check-in", json={"code": code.lower()}, headers={"Idempotency-Key": "p-1"})
    assert r.status_code == 201, r.text
    t = r.json()
    walk_in_keys = set(srv.device("kiosk").post("/api/tickets", json={"category": "CT"}).json())
    assert walk_in_keys <= set(t)  # the ticket as POST /api/tickets gives it
    assert (t["source"], t["category"], t["status"], t["late"]) == ("appointment", "HT", "waiting", False)
    assert t["number"].startswith("A") and t["appointment"] == {"id": b.json()["id"], "code": code, "start": start}
    assert t["print"]["queued"] is True
    replay = kiosk.post("/api/appointments/check-in", json={"code": code}, headers={"Idempotency-Key": "p-1"})
    assert replay.status_code == 201 and replay.json()["id"] == t["id"]
    twice = kiosk.post("/api/appointments/check-in", json={"code": code})
    assert (twice.status_code, twice.json()["error"]) == (409, "already_checked_in")
    unknown = kiosk.post("/api/appointments/check-in", json={"code": "ZZZZZZ"})
    assert (unknown.status_code, unknown.json()["error"]) == (404, "appointment_not_found")
    bad = kiosk.post("/api/appointments/check-in", json={"code": 5})
    assert bad.status_code == 400
    # the ticket is public by its id, like any other, without name or phone
    track = anon.get(f"/api/tickets/{t['id']}")
    assert track.status_code == 200 and "Tuấn" not in track.text and "905123456" not in track.text
    assert "Tuấn" not in srv.log_tail()
