"""Issue #10, acceptance line 1: the races, over real sockets against one
server process. 24 citizens for the last 3 places of a slot: exactly 3
booked, the rest 409 slot_full; one phone racing for 8 slots of a day: at
most per_phone_per_day; parallel double-posts with one Idempotency-Key: one
booking. No 5xx anywhere."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.e2e.appointment_helpers import appointment_server, start_at, tomorrow

SLOTS_8 = ["07:30", "08:00", "08:30", "09:00", "09:30", "10:00", "13:30", "14:00"]


@pytest.fixture(scope="module")
def srv(redis_url):
    handle = appointment_server(redis_url, ht_capacity=5, per_phone_per_day=2).start()
    yield handle
    handle.close()


def race(srv, bodies, headers=None):
    """POST every body at once, each from its own connection; the replies in order."""
    gate = threading.Barrier(len(bodies))

    def one(body):
        with httpx.Client(base_url=srv.base_url, timeout=30) as c:
            gate.wait()
            return c.post("/api/appointments", json=body, headers=headers or {})

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(one, bodies))


def body(day, hhmm, phone, name="Công dân"):
    return {"category": "HT", "start": start_at(day, hhmm), "name": name, "phone": phone}


def available(srv, day, hhmm):
    with srv.client() as c:
        slots = c.get("/api/appointments/slots", params={"category": "HT", "date": day}).json()["slots"]
    return next(s for s in slots if s["start"] == start_at(day, hhmm))["available"]


def test_24_citizens_for_the_last_3_places(srv):
    day = tomorrow(1)
    with srv.client() as c:
        for i in range(2):  # 2 of the slot's 5 places are gone
            assert c.post("/api/appointments", json=body(day, "09:00", f"09120001{i:02d}")).status_code == 201
    assert available(srv, day, "09:00") == 3
    replies = race(srv, [body(day, "09:00", f"09130002{i:02d}") for i in range(24)])
    statuses = [r.status_code for r in replies]
    assert all(s < 500 for s in statuses), statuses
    assert statuses.count(201) == 3, statuses
    assert statuses.count(409) == 21
    assert {r.json()["error"] for r in replies if r.status_code == 409} == {"slot_full"}
    assert len({r.json()["id"] for r in replies if r.status_code == 201}) == 3
    assert available(srv, day, "09:00") == 0
    staff = srv.login("sup").get("/api/appointments", params={"date": day}).json()["appointments"]
    assert len([a for a in staff if a["start"] == start_at(day, "09:00") and a["status"] == "booked"]) == 5


def test_one_phone_racing_for_8_slots_of_a_day(srv):
    day = tomorrow(2)
    replies = race(srv, [body(day, hhmm, "0987 000 111") for hhmm in SLOTS_8])
    statuses = [r.status_code for r in replies]
    assert all(s < 500 for s in statuses), statuses
    assert statuses.count(201) == 2, statuses  # per_phone_per_day, and never more
    assert {r.json()["error"] for r in replies if r.status_code == 409} == {"phone_limit"}
    # the same phone with other formatting is the same phone
    with srv.client() as c:
        again = c.post("/api/appointments", json=body(day, "15:00", "+84987000111"))
        assert (again.status_code, again.json()["error"]) == (409, "phone_limit")


def test_double_posts_with_one_idempotency_key_make_one_booking(srv):
    day = tomorrow(3)
    before = available(srv, day, "10:00")
    replies = race(srv, [body(day, "10:00", "0977 123 456")] * 12, headers={"Idempotency-Key": "one-press-42"})
    statuses = [r.status_code for r in replies]
    assert statuses == [201] * 12, [r.text for r in replies]
    assert len({r.json()["id"] for r in replies}) == 1
    assert len({r.json()["manage_url"] for r in replies}) == 1  # the same manage token, replayed
    assert available(srv, day, "10:00") == before - 1
    # the replayed token works
    r = replies[0].json()
    with srv.client() as c:
        token = r["manage_url"].split("token=")[1]
        assert c.get(f"/api/appointments/{r['id']}", params={"token": token}).status_code == 200
