"""Check-in of a booking at the kiosk page in Chromium (issue #10): "Tôi có
lịch hẹn" opens a large keypad of the code alphabet; a USB scanner (the code
and Enter, fast) checks in whatever screen shows; the ticket screen names
the slot; too early says when to come back, an unknown code says so, too late
shows the walk-in ticket it gave; the screen goes back to the start when idle."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from queue_server.domain.appointments import CODE_ALPHABET
from queue_server.domain.config import WEEKDAYS
from queue_server.redis_server import free_port
from tests.browser import artifact
from tests.e2e.appointment_helpers import TZ
from tests.e2e.test_kiosk_page import _MEASURE, SCREENS, _assert_fits
from tests.helpers import run_sync, test_config_dict
from tests.server import ServerHandle, seed_accounts, write_toml

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def srv(redis_url, tmp_path_factory):
    d = test_config_dict()
    for wd in WEEKDAYS:
        d["hours"][wd] = ["00:00-23:59"]  # some slot is always within the check-in window
    d["hours"] |= {"public_holidays": False, "closures": []}
    d["appointments"] |= {"enabled": True, "book_until_minutes": 0, "checkin_early_minutes": 240}
    d["categories"][0]["appointment_capacity"] = 5  # HT
    path = tmp_path_factory.mktemp("site") / "site.toml"
    write_toml(d, path)
    handle = ServerHandle(redis_url=redis_url, site_id=d["site"]["id"], config_path=path, port=free_port())
    handle.tokens = run_sync(seed_accounts(redis_url, handle.site_id))
    handle.start()
    yield handle
    handle.close()


def _slot(client, soon: bool = True) -> str:
    """A free slot within 3 hours (in the window), or one 5 hours or more ahead (too early)."""
    now = datetime.now(TZ)
    for n in range(3):
        day = (now.date() + timedelta(days=n)).isoformat()
        for s in client.get("/api/appointments/slots", params={"category": "HT", "date": day}).json()["slots"]:
            ahead = (datetime.fromisoformat(s["start"]) - now).total_seconds()
            if s["available"] > 0 and ((ahead < 3 * 3600) if soon else (ahead > 5 * 3600)):
                return s["start"]
    raise AssertionError("no slot")


def _book(srv, soon: bool = True, phone: str = "0905123456") -> dict:
    c = srv.client()
    r = c.post(
        "/api/appointments",
        json={"category": "HT", "start": _slot(c, soon), "name": "Lê Thị Mai", "phone": phone},
    )
    assert r.status_code == 201, r.text
    return r.json()


def _kiosk(browser, srv, screen="portrait"):
    w, h = SCREENS[screen]
    ctx = browser.new_context(viewport={"width": w, "height": h}, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    page = ctx.new_page()
    page.goto(f"{srv.base_url}/kiosk?token={srv.tokens['kiosk']}")
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_selector("button.cat[data-code='HT']")
    return ctx, page


def test_keypad_check_in_and_a_scan_on_any_screen(srv, browser):
    a = _book(srv)
    b = _book(srv, phone="0905123457")
    ctx, page = _kiosk(browser, srv)
    try:
        page.click("#appt-btn")
        page.wait_for_selector("#appt:not(.hidden)")
        keys = page.eval_on_selector_all("#keypad button[data-key]", "bs => bs.map(b => b.dataset.key)")
        assert "".join(k for k in keys if k != "del") == CODE_ALPHABET and "del" in keys
        for ch in a["code"][:4]:
            page.click(f"#keypad button[data-key='{ch}']")
        page.click("#keypad button[data-key='del']")
        page.click(f"#keypad button[data-key='{a['code'][3]}']")
        assert page.get_attribute("#code-boxes", "data-code") == a["code"][:4]
        assert page.is_disabled("#appt-go")
        page.screenshot(path=str(artifact("kiosk_checkin_portrait.png")))
        _assert_fits(page.evaluate(_MEASURE), "check-in portrait")
        for ch in a["code"][4:]:
            page.click(f"#keypad button[data-key='{ch}']")
        page.click("#appt-go")
        page.wait_for_selector("#result:not(.hidden)[data-source='appointment']")
        assert page.inner_text("#r-number").startswith("A")
        assert f"Lịch hẹn lúc {a['start'][11:16]}" in page.inner_text("#r-slot")
        page.screenshot(path=str(artifact("kiosk_checkin_ticket_portrait.png")))
        first = page.get_attribute("#result", "data-ticket")
        # the scanner, while the ticket screen still shows and no field has the focus
        page.keyboard.type(b["code"] + "\n")
        page.wait_for_function(f"document.getElementById('result').dataset.ticket !== {json.dumps(first)}")
        page.wait_for_selector("#result:not(.hidden)[data-source='appointment']")
        second = page.get_attribute("#result", "data-ticket")
        staff = srv.login("admin")
        assert staff.get(f"/api/tickets/{second}").json()["number"] == page.inner_text("#r-number")
        # a scan of a code used already: the check-in screen says so, in words
        page.click("#done")
        page.wait_for_selector("#start:not(.hidden)")
        page.keyboard.type(b["code"].lower() + "\n")
        page.wait_for_selector("#appt:not(.hidden)[data-error='already_checked_in']")
        assert "đã được nhận số" in page.inner_text("#appt-msg")
    finally:
        ctx.close()


def test_unknown_too_early_and_too_late(srv, browser):
    early = _book(srv, soon=False, phone="0905123458")
    ctx, page = _kiosk(browser, srv, "landscape")
    try:
        page.keyboard.type("ZZZZZZ\n")
        page.wait_for_selector("#appt:not(.hidden)[data-error='appointment_not_found']")
        assert "Không tìm thấy lịch hẹn có mã ZZZZZZ" in page.inner_text("#appt-msg")
        page.keyboard.type(early["code"] + "\n")
        page.wait_for_selector("#appt:not(.hidden)[data-error='too_early']")
        text = page.inner_text("#appt-msg")
        opens = datetime.fromisoformat(early["start"]) - timedelta(minutes=240)
        assert f"Mời quay lại từ {opens:%H:%M} ngày {opens:%d/%m/%Y}" in text, text
        page.screenshot(path=str(artifact("kiosk_checkin_too_early_landscape.png")))
        _assert_fits(page.evaluate(_MEASURE), "check-in landscape")
        # too late: the server gave a walk-in ticket (a moved clock is for the integration tests)
        tk = srv.device("kiosk").post("/api/tickets", json={"category": "HT"}).json()
        late = {**tk, "late": True, "appointment": {"id": "x", "code": "ABCDEF", "start": "2026-12-01T09:00:00+07:00"}}
        page.route(
            "**/api/appointments/check-in?*",
            lambda route: route.fulfill(status=201, content_type="application/json", body=json.dumps(late)),
        )
        page.click("#appt-back")
        page.click("#appt-btn")
        assert page.inner_text("#appt-msg") == ""  # a fresh screen for the next person
        for ch in "ABCDEF":
            page.click(f"#keypad button[data-key='{ch}']")
        page.click("#appt-go")
        page.wait_for_selector("#result:not(.hidden)[data-late='1']")
        assert page.inner_text("#r-number") == tk["number"]
        assert "Bạn đến muộn so với giờ hẹn 09:00" in page.inner_text("#r-late")
        assert page.is_hidden("#r-slot")
        page.screenshot(path=str(artifact("kiosk_checkin_late_landscape.png")))
    finally:
        ctx.close()


def test_check_in_screen_goes_back_when_idle_and_speaks_english(srv, browser):
    ctx, page = _kiosk(browser, srv, "small-landscape")
    try:
        page.clock.install()
        page.click("#lang")
        page.click("#appt-btn")
        page.wait_for_selector("#appt:not(.hidden)")
        assert "Enter your booking code" in page.inner_text("#appt-title")
        _assert_fits(page.evaluate(_MEASURE), "check-in small landscape")
        page.click("#keypad button[data-key='A']")
        page.clock.fast_forward(30_000)
        assert page.is_visible("#appt")
        page.clock.fast_forward(20_000)
        page.wait_for_selector("#start:not(.hidden)")
        page.wait_for_function("document.getElementById('lang').textContent === 'English'")
        assert re.search("lịch hẹn", page.inner_text("#appt-btn"))
    finally:
        ctx.close()


def test_the_counter_app_marks_appointment_tickets_with_their_slot(srv, page):
    from tests.e2e.test_counter_app import open_counter

    a = _book(srv, phone="0905123459")
    t = srv.device("kiosk").post("/api/appointments/check-in", json={"code": a["code"]}).json()
    walk_in = srv.device("kiosk").post("/api/tickets", json={"category": "HT"}).json()
    slot = a["start"][11:16]
    open_counter(page, srv)
    row = page.locator(f'#waiting tr[data-number="{t["number"]}"] .appt-slot')
    expect(row).to_have_text(f"Hẹn {slot}")
    expect(page.locator(f'#waiting tr[data-number="{walk_in["number"]}"] .appt-slot')).to_have_count(0)
    page.screenshot(path=str(artifact("counter_appointment_waiting.png")), full_page=True)
    lan = srv.login("lan")
    while True:  # serve what waits before it (earlier tests' tickets), then the appointment
        called = lan.post("/api/counters/1/next").json()["ticket"]
        if called["id"] == t["id"]:
            break
        lan.post("/api/counters/1/done")
    expect(page.locator("#ticket-card")).to_have_attribute("data-ticket", t["id"])
    expect(page.locator("#ticket-number .appt-slot")).to_have_text(f"Hẹn {slot}")
    expect(page.locator("#ticket-source")).to_contain_text(f"Lịch hẹn lúc {slot}")
    page.screenshot(path=str(artifact("counter_appointment_current.png")), full_page=True)
