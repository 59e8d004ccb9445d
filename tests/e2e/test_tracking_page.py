"""/t/{id} in headless Chromium: position and status update live over the
websocket; when called it shows the counter; after service the rating."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import artifact
from tests.e2e.live_helpers import direct_call

pytestmark = pytest.mark.browser


def _issue(server, category="HT"):
    r = server.device("kiosk").post("/api/tickets", json={"category": category})
    assert r.status_code == 201, r.text
    return r.json()


def test_tracking_updates_live_and_rates(live, page):
    first = _issue(live)
    mine = _issue(live)
    page.goto(f"{live.base_url}/t/{mine['id']}")
    page.wait_for_function("document.getElementById('number').textContent === 'A002'")
    page.wait_for_selector("#status[data-status='waiting']")
    assert "Số người đang chờ trước bạn: 1" in page.inner_text("#info")
    page.wait_for_function("document.getElementById('conn').textContent.includes('trực tiếp')")

    clerk = live.login("minh")
    r = clerk.post("/api/counters/3/next", headers={"Idempotency-Key": "k1"})
    assert r.status_code == 200 and r.json()["ticket"]["id"] == first["id"], r.text
    # no reload: the websocket moves the position
    page.wait_for_function(
        "document.getElementById('info').textContent.includes('Số người đang chờ trước bạn: 0')", timeout=5000
    )

    r = clerk.post("/api/counters/3/next", headers={"Idempotency-Key": "k2"})
    assert r.json()["ticket"]["id"] == mine["id"]
    page.wait_for_selector("#status[data-status='called']", timeout=5000)
    assert page.inner_text("#status") == "Mời bạn đến quầy số 3"

    r = clerk.post("/api/counters/3/done", headers={"Idempotency-Key": "k3"})
    assert r.status_code == 200, r.text
    page.wait_for_selector("#rate:not(.hidden)", timeout=5000)
    labels = page.locator("#rate-buttons button").all_inner_texts()
    assert labels == ["Rất hài lòng", "Hài lòng", "Không hài lòng"]
    page.click("#rate-buttons button[data-level='3']")
    page.wait_for_function("document.getElementById('rate-msg').textContent.includes('Cảm ơn')")
    t = live.client().get(f"/api/tickets/{mine['id']}").json()
    assert t["rating"] == 3
    # one rating per ticket
    assert live.client().post(f"/api/tickets/{mine['id']}/rating", json={"level": 1}).status_code == 409


def test_tracking_five_level_scale_in_english(redis_url, browser):
    from tests.server import make_server

    srv = make_server(redis_url, queue__rating_scale=5).start()
    ctx = browser.new_context(locale="en-US")
    try:
        t = _issue(srv)
        clerk = srv.login("lan")
        assert clerk.post("/api/counters/1/next", headers={"Idempotency-Key": "a"}).status_code == 200
        assert clerk.post("/api/counters/1/done", headers={"Idempotency-Key": "b"}).status_code == 200
        page = ctx.new_page()
        page.goto(f"{srv.base_url}/t/{t['id']}?lang=en")
        page.wait_for_selector("#rate:not(.hidden)")
        page.wait_for_function("document.querySelectorAll('#rate-buttons button').length === 5")
        assert page.inner_text("#status") == "Served"
        assert page.locator("#rate-buttons button").first.inner_text() == "Very satisfied"
    finally:
        ctx.close()
        srv.close()


def test_unknown_ticket_page_says_so(live, page):
    page.goto(f"{live.base_url}/t/does-not-exist")
    page.wait_for_function("document.getElementById('status').textContent.includes('Không tìm thấy')")


def test_tracking_reconnects_after_a_server_restart(live, page):
    mine = _issue(live)
    page.goto(f"{live.base_url}/t/{mine['id']}")
    page.wait_for_selector("#status[data-status='waiting']")
    page.wait_for_function("document.getElementById('conn').textContent.includes('trực tiếp')")
    page.evaluate("window.__sameDocument = true")
    live.kill()
    try:
        page.wait_for_function(
            "document.getElementById('conn').textContent === 'Mất kết nối – đang kết nối lại…'", timeout=5000
        )
        called_id, _ = direct_call(live, 3)  # called while the server is down
        assert called_id == mine["id"]
        page.wait_for_timeout(2000)
    finally:
        live.start()
    page.wait_for_selector("#status[data-status='called']", timeout=30_000)
    assert page.inner_text("#status") == "Mời bạn đến quầy số 3"
    assert page.inner_text("#conn") == "Đang cập nhật trực tiếp"
    assert page.evaluate("window.__sameDocument") is True
    stats = page.evaluate("motcuaTrack.stats")
    assert stats["connects"] >= 3 and stats["delays"][-1] > stats["delays"][0]
    page.screenshot(path=str(artifact("tracking_after_restart.png")))


def test_tracking_stops_when_the_ticket_is_gone(live, page):
    mine = _issue(live)
    page.goto(f"{live.base_url}/t/{mine['id']}")
    page.wait_for_function("document.getElementById('conn').textContent.includes('trực tiếp')")
    live.kill()
    try:
        live.reset()  # the day's tickets are gone
    finally:
        live.start()
    page.wait_for_function(
        "document.getElementById('status').textContent === 'Không tìm thấy số thứ tự này.'", timeout=30_000
    )
    assert page.inner_text("#number") == "—"
    connects = page.evaluate("motcuaTrack.stats.connects")
    page.wait_for_timeout(3000)
    assert page.evaluate("motcuaTrack.stats.connects") == connects  # no more attempts


def test_unknown_ticket_page_answers_404_in_vietnamese(live, page):
    """Issue #13: /t/doesnotexist answered 200 with the live page."""
    r = live.client().get("/t/doesnotexist")
    assert r.status_code == 404
    assert "text/html" in r.headers["content-type"]
    assert "Không tìm thấy số thứ tự" in r.text and "Ticket not found" in r.text
    resp = page.goto(f"{live.base_url}/t/doesnotexist")
    assert resp is not None and resp.status == 404
    assert page.locator("#sound").count() == 0  # no sound button for a ticket that does not exist
    page.screenshot(path=str(artifact("tracking_not_found.png")))


def test_english_site_name_and_no_sound_button_once_served(live, page):
    """Issue #13: the site name stayed Vietnamese after English was chosen,
    and "Bật âm thanh báo" showed on a finished ticket and when it is gone."""
    mine = _issue(live)
    page.goto(f"{live.base_url}/t/{mine['id']}")
    page.wait_for_selector("#status[data-status='waiting']")
    expect(page.locator("#site")).to_have_text("Trung tâm Phục vụ hành chính công xã Ngọc Long")
    expect(page.locator("#sound")).to_be_visible()
    page.click("#lang")
    expect(page.locator("#site")).to_have_text("Ngoc Long Commune Public Administration Service Centre")
    expect(page.locator("#status")).to_have_text("Waiting for your turn")
    page.click("#lang")
    expect(page.locator("#site")).to_have_text("Trung tâm Phục vụ hành chính công xã Ngọc Long")
    clerk = live.login("minh")
    assert clerk.post("/api/counters/3/next").json()["ticket"]["id"] == mine["id"]
    page.wait_for_selector("#status[data-status='called']")
    expect(page.locator("#sound")).to_be_visible()
    assert clerk.post("/api/counters/3/done").status_code == 200
    page.wait_for_selector("#status[data-status='done']")
    expect(page.locator("#sound")).to_be_hidden()
    page.screenshot(path=str(artifact("tracking_done.png")))
    live.kill()
    try:
        live.reset()  # the ticket is gone
    finally:
        live.start()
    page.wait_for_function(
        "document.getElementById('status').textContent === 'Không tìm thấy số thứ tự này.'", timeout=30_000
    )
    expect(page.locator("#sound")).to_be_hidden()
