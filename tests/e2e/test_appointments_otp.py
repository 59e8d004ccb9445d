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
    assert anon.get(b["manage_url"].split("8000", 1)[1]).json()["status"] == "booked"

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
