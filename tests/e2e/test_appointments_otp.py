"""verify = "otp" over a real server (issue #10): POST /api/appointments
answers 201 pending_otp and the code lands in the outbox (read by the admin
at GET /api/admin/outbox, refused to others); a wrong code is 400
invalid_otp in Vietnamese or English; the right one books (200); the
address is throttled (429)."""

from __future__ import annotations

import re

import pytest

from tests.e2e.appointment_helpers import appointment_server, start_at, tomorrow


@pytest.fixture(scope="module")
def srv(redis_url):
    handle = appointment_server(redis_url, verify="otp").start()
    yield handle
    handle.close()


def book(client, hhmm, phone, **kw):
    body = {"category": "HT", "start": start_at(tomorrow(), hhmm), "name": "Trần Thị Bích", "phone": phone}
    return client.post("/api/appointments", json=body, **kw)


def otp_for(admin, appointment_id: str) -> str:
    msgs = admin.get("/api/admin/outbox", params={"limit": 20}).json()["messages"]
    m = next(m for m in msgs if m["ref"] == appointment_id and m["kind"] == "otp")
    return re.search(r"\b(\d{6})\b", m["text"])[1]


def test_book_verify_and_the_outbox(srv):
    anon = srv.client()
    admin = srv.login("admin")
    r = book(anon, "08:00", "0912 111 222")
    assert r.status_code == 201, r.text
    b = r.json()
    assert b["status"] == "pending_otp"
    otp = otp_for(admin, b["id"])
    msgs = admin.get("/api/admin/outbox").json()["messages"]
    assert msgs[0]["to"] == "+84912111222" and "Trần" not in msgs[0]["text"] and msgs[0]["created"]

    bad = f"{(int(otp) + 1) % 1_000_000:06d}"
    r = anon.post(f"/api/appointments/{b['id']}/verify", json={"otp": bad})
    assert r.status_code == 400 and r.json()["error"] == "invalid_otp" and "4" in r.json()["message"]
    assert "Mã xác nhận không đúng" in r.json()["message"]
    r = anon.post(f"/api/appointments/{b['id']}/verify?lang=en", json={"otp": bad})
    assert r.status_code == 400 and r.json()["message"].startswith("Wrong confirmation code")

    r = anon.post(f"/api/appointments/{b['id']}/verify", json={"otp": otp})
    assert r.status_code == 200, r.text
    v = r.json()
    assert v["status"] == "booked" and v["manage_url"] == b["manage_url"] and v["code"] == b["code"]
    kinds = [m["kind"] for m in admin.get("/api/admin/outbox").json()["messages"] if m["ref"] == b["id"]]
    assert kinds == ["confirmation", "otp"]  # newest first
    token = b["manage_url"].split("token=", 1)[1]  # the holder's page; its JSON is the API's
    assert anon.get(f"/api/appointments/{b['id']}", params={"token": token}).json()["status"] == "booked"

    assert anon.get("/api/admin/outbox").status_code in (401, 403)
    assert srv.login("lan").get("/api/admin/outbox").status_code == 403
    assert srv.device("kiosk").get("/api/admin/outbox").status_code == 403


def test_bad_verify_requests_are_4xx(srv):
    anon = srv.client()
    r = anon.post("/api/appointments/nope/verify", json={"otp": "123456"})
    assert r.status_code == 404 and r.json()["error"] == "appointment_not_found"
    b = book(anon, "09:00", "0912 111 333").json()
    for body in ({}, {"otp": 123456}, {"otp": "12345"}, {"otp": "x" * 30}):
        r = anon.post(f"/api/appointments/{b['id']}/verify", json=body)
        assert r.status_code == 400 and r.json()["error"] == "invalid_body", (body, r.text)


def test_verify_is_throttled_per_address(redis_url):
    srv = appointment_server(redis_url, verify="otp").start()  # its own budget: no other test's tries count
    try:
        throttled(srv.client())
    finally:
        srv.close()


def throttled(anon):
    codes = []
    for _ in range(12):
        r = anon.post("/api/appointments/nope/verify", json={"otp": "000000"})
        codes.append(r.status_code)
    assert 429 in codes and set(codes) <= {404, 429}
    r = anon.post("/api/appointments/nope/verify", json={"otp": "000000"})
    assert r.status_code == 429 and r.json()["error"] == "rate_limited" and "retry-after" in r.headers


def test_holds_race_like_bookings_over_http(redis_url):
    """24 citizens for 3 places: 3 holds, 21 slot_full; the 3 verify while 24
    more try: 3 booked, no one else gets in. No 5xx. (Its own server: the
    other tests' codes do not count against this address's budget.)"""
    srv = appointment_server(redis_url, verify="otp").start()
    try:
        holds_race(srv)
    finally:
        srv.close()


def holds_race(srv):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    def race(calls):
        gate = threading.Barrier(len(calls))

        def one(call):
            with httpx.Client(base_url=srv.base_url, timeout=30) as c:
                gate.wait()
                return call(c)

        with ThreadPoolExecutor(len(calls)) as pool:
            return list(pool.map(one, calls))

    day = tomorrow(3)

    def booker(i):
        body = {"category": "HT", "start": start_at(day, "10:00"), "name": "Công dân", "phone": f"0915{i:06d}"}
        return lambda c: c.post("/api/appointments", json=body)

    for i in range(2):  # 2 of the slot's 5 places are held
        assert booker(900 + i)(srv.client()).status_code == 201
    replies = race([booker(i) for i in range(24)])
    statuses = [r.status_code for r in replies]
    assert all(s < 500 for s in statuses) and statuses.count(201) == 3, statuses
    assert {r.json()["error"] for r in replies if r.status_code == 409} == {"slot_full"}
    held = [r.json() for r in replies if r.status_code == 201]
    assert {h["status"] for h in held} == {"pending_otp"}
    admin = srv.login("admin")
    codes = {h["id"]: otp_for(admin, h["id"]) for h in held}

    def verifier(h):
        return lambda c: c.post(f"/api/appointments/{h['id']}/verify", json={"otp": codes[h["id"]]})

    replies = race([verifier(h) for h in held] + [booker(100 + i) for i in range(24)])
    assert all(r.status_code < 500 for r in replies)
    assert [r.status_code for r in replies[:3]] == [200, 200, 200]
    assert {r.status_code for r in replies[3:]} == {409}
    with srv.client() as c:
        slots = c.get("/api/appointments/slots", params={"category": "HT", "date": day}).json()["slots"]
    assert next(s for s in slots if s["start"] == start_at(day, "10:00"))["available"] == 0
