"""The admin's outbox page (/admin/outbox) in Chromium: after logging in at
/admin it lists the latest messages (a booking's code among them), in
Vietnamese with English one click away; without a login it says so."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.appointment_helpers import appointment_server, sent_messages, start_at, tomorrow
from tests.server import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def srv(redis_url):
    handle = appointment_server(redis_url).start()
    yield handle
    handle.close()


def test_the_outbox_page_lists_the_latest_messages(srv, page):
    b = srv.client().post(
        "/api/appointments",
        json={
            "category": "HT",
            "start": start_at(tomorrow(), "08:30"),
            "name": "Hoàng Văn Giáp",
            "phone": "0912 777 888",
        },
    )
    assert b.status_code == 201, b.text
    code = b.json()["code"]
    assert sent_messages(srv.login("admin"), lambda m: m["ref"] == b.json()["id"])  # sent after the reply
    page.goto(f"{srv.base_url}/admin/outbox")
    expect(page.locator("#msg")).to_contain_text("đăng nhập")
    page.goto(f"{srv.base_url}/admin")
    page.fill("#username", "admin")
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    expect(page.locator("#view-app")).to_be_visible()
    page.goto(f"{srv.base_url}/admin/outbox")
    row = page.locator("#outbox tbody tr").first
    expect(row).to_contain_text(code)
    expect(row).to_contain_text("+84912777888")
    expect(row).to_contain_text("Xác nhận lịch hẹn")
    page.click("#btn-lang")
    expect(page.locator("#title")).to_have_text("Outbox (messages to citizens)")
    expect(page.locator("#outbox tbody tr").first).to_contain_text("Booking confirmed")
