"""The slots a running server answers are never behind (issue #10,
acceptance 6: the server keeps each day's reply between bookings,
services/slots_cache.py): after its own booking, cancel or move the next
read shows it; a booking made elsewhere (another process, here the test's
own store on the same Redis) reaches it through the site's events; a
configuration saved by the admin changes the next read."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest

from queue_server.domain.config import load_toml
from queue_server.services.appointments import AppointmentService
from queue_server.store.audit import AuditLog
from tests.e2e.appointment_helpers import appointment_server, start_at, tomorrow
from tests.helpers import appointment_store, make_store, run_sync


@pytest.fixture(scope="module")
def srv(redis_url):
    handle = appointment_server(redis_url, ht_capacity=3).start()
    yield handle
    handle.close()


def places(client, day: str, start: str) -> int:
    slots = client.get("/api/appointments/slots", params={"category": "HT", "date": day}).json()["slots"]
    return next(s["available"] for s in slots if s["start"] == start)


def token_of(reply: dict) -> str:
    return parse_qs(urlsplit(reply["manage_url"]).query)["token"][0]


def test_this_process_own_changes_show_at_once(srv):
    c = srv.client()
    day = tomorrow(2)
    at, other = start_at(day, "09:00"), start_at(day, "09:15")
    assert places(c, day, at) == 3 and places(c, day, at) == 3  # the second read is a kept one
    b = c.post("/api/appointments", json={"category": "HT", "start": at, "name": "Lê Văn Bình", "phone": "0912000301"})
    assert b.status_code == 201, b.text
    assert places(c, day, at) == 2
    m = c.post(f"/api/appointments/{b.json()['id']}/move", params={"token": token_of(b.json())}, json={"start": other})
    assert m.status_code == 200, m.text
    assert (places(c, day, at), places(c, day, other)) == (2, 2)  # the place it left is held back a while
    r = c.post(f"/api/appointments/{b.json()['id']}/cancel", params={"token": token_of(b.json())})
    assert r.status_code == 200, r.text
    assert places(c, day, other) == 2  # held back after a cancel too, never back on sale at once


def test_a_booking_made_elsewhere_reaches_the_server_by_its_event(srv):
    c = srv.client()
    day = tomorrow(3)
    at = start_at(day, "10:00")
    assert places(c, day, at) == 3
    cfg = load_toml(srv.config_path)

    async def book_elsewhere():
        s = await make_store(srv.redis_url, cfg)
        try:
            svc = AppointmentService(s.config, appointment_store(s), AuditLog(s.redis, s.keys), s)
            return await svc.book("HT", at, "Trần Thị Cúc", "0912000302")
        finally:
            await s.redis.aclose()

    run_sync(book_elsewhere())
    deadline = time.monotonic() + 10
    while places(c, day, at) != 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert places(c, day, at) == 2


def test_a_saved_configuration_changes_the_next_read(srv):
    c, admin = srv.client(), srv.login("admin")
    day = tomorrow(4)
    at = start_at(day, "08:00")
    assert places(c, day, at) == 3
    cats = admin.get("/api/admin/config").json()["config"]["categories"]
    for cat in cats:
        if cat["code"] == "HT":
            cat["appointment_capacity"] = 1
    assert admin.put("/api/admin/config", json={"categories": cats}).status_code == 200
    assert places(c, day, at) == 1
