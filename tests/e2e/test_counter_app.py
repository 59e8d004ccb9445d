"""The clerk's counter app in headless Chromium against a real server."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.browser import artifact
from tests.e2e.live_helpers import direct_call
from tests.server import PASSWORD

pytestmark = pytest.mark.browser


def issue(live, category: str) -> dict:
    r = live.device("kiosk").post("/api/tickets", json={"category": category})
    assert r.status_code == 201, r.text
    return r.json()


def open_counter(page, live, user: str = "lan", n: int = 1) -> None:
    page.goto(f"{live.base_url}/counter?n={n}")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#view-counter")).to_be_visible()
    expect(page.locator("#conn")).to_have_attribute("data-state", "on")
    expect(page.locator("#counter-status")).to_have_attribute("data-status", "open")
    page.locator("body").click(position={"x": 5, "y": 700})  # keyboard focus on the page, not a field


def events_of(live, ticket_id: str) -> list[dict]:
    staff = live.login("sup")
    r = staff.get(f"/api/tickets/{ticket_id}/events")
    assert r.status_code == 200, r.text
    return r.json()["events"]


def wait_for(fn, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def test_login_next_recall_transfer_done(live, page, browser):
    a1 = issue(live, "HT")
    c1 = issue(live, "DD")  # issued after A001, before A001 is transferred to DD
    a2 = issue(live, "HT")

    board_ctx = browser.new_context(viewport={"width": 1280, "height": 720})
    board = board_ctx.new_page()
    board.goto(f"{live.base_url}/display?token={live.tokens['display']}")
    expect(board.locator('#counters [data-counter="1"] .counter-number')).to_have_text("—")

    open_counter(page, live)
    expect(page.locator("#ticket-empty")).to_be_visible()
    expect(page.locator('#preview tr[data-category="HT"] .count')).to_have_text("2")
    expect(page.locator('#preview tr[data-category="HT"] td.wait')).to_have_text(re.compile(r"^\d{2}:\d{2}$"))
    expect(page.locator('#preview tr[data-category="CT"] td.wait')).to_have_text("—")

    # Space calls the next citizen: the card and the board show it
    page.keyboard.press("Space")
    expect(page.locator("#ticket-number")).to_have_text("A001")
    expect(page.locator("#ticket-source")).to_have_attribute("data-source", "walk_in")
    expect(page.locator("#ticket-category")).to_contain_text("Hộ tịch")
    expect(page.locator("#ticket-timer")).to_have_text(re.compile(r"^00:0[1-9]$"), timeout=5000)  # the timer runs
    expect(board.locator('#counters [data-counter="1"] .counter-number')).to_have_text("A001")
    expect(page.locator('#preview tr[data-category="HT"] .count')).to_have_text("1")

    # R re-announces: a recall event on the ticket
    page.keyboard.press("r")
    expect(page.locator("#ticket-calls")).to_have_text("2")
    assert [e["type"] for e in events_of(live, a1["id"])] == ["issue", "call", "recall"]

    # T: transfer to Đất đai (DD); the card empties, the ticket waits in DD
    page.keyboard.press("t")
    expect(page.locator("#transfer-dialog")).to_be_visible()
    hotkey = page.locator('#transfer-cats button[data-category="DD"]').get_attribute("data-hotkey")
    page.keyboard.press(f"Numpad{hotkey}")  # the category's number, from the keypad
    expect(page.locator("#transfer-dialog")).to_be_hidden()
    expect(page.locator("#ticket-empty")).to_be_visible()
    t = live.client().get(f"/api/tickets/{a1['id']}").json()
    assert (t["status"], t["category"], t["source"]) == ("waiting", "DD", "transfer")

    # counter 4 serves DD: A001 comes before C001 because it keeps its original issue time
    minh = live.login("minh")
    r = minh.post("/api/counters/4/next", headers={"Idempotency-Key": "k-minh-1"})
    served = r.json()["ticket"]
    assert served["number"] == "A001" and served["category"] == "DD", served
    assert served["issued_at"] == a1["issued_at"] and served["original_category"] == "HT"
    assert live.client().get(f"/api/tickets/{c1['id']}").json()["status"] == "waiting"

    # D then Space calls the next one
    page.keyboard.press("Space")
    expect(page.locator("#ticket-number")).to_have_text("A002")
    a3 = issue(live, "HT")
    page.keyboard.press("d")
    expect(page.locator("#ticket-empty")).to_be_visible()
    expect(page.locator("#stat-served")).to_have_text("1")
    page.keyboard.press("Space")
    expect(page.locator("#ticket-number")).to_have_text("A003")
    expect(board.locator('#counters [data-counter="1"] .counter-number')).to_have_text("A003")
    assert live.client().get(f"/api/tickets/{a2['id']}").json()["status"] == "done"
    assert live.client().get(f"/api/tickets/{a3['id']}").json()["status"] == "called"
    board_ctx.close()


def test_double_press_calls_one_ticket(live, page):
    first, second = issue(live, "CT"), issue(live, "CT")
    open_counter(page, live)
    page.keyboard.press("Space")
    page.keyboard.press("Space")
    page.keyboard.press("Enter")
    expect(page.locator("#ticket-number")).to_have_text("B001")
    time.sleep(1.0)  # give a wrongly sent second call time to arrive
    assert live.client().get(f"/api/tickets/{second['id']}").json()["status"] == "waiting"
    calls = [e for e in events_of(live, first["id"]) + events_of(live, second["id"]) if e["type"] == "call"]
    assert len(calls) == 1
    # a click on the button twice in a row is one press too
    page.click("#btn-done")
    expect(page.locator("#ticket-empty")).to_be_visible()
    page.locator("#btn-next").dblclick()
    expect(page.locator("#ticket-number")).to_have_text("B002")
    third = issue(live, "CT")
    time.sleep(1.0)
    assert live.client().get(f"/api/tickets/{third['id']}").json()["status"] == "waiting"


def test_every_action_sends_an_idempotency_key(live, page):
    issue(live, "HT")
    keys: list[str] = []
    page.on(
        "request",
        lambda req: (
            keys.append(req.headers.get("idempotency-key", ""))
            if req.method == "POST" and "/api/counters/" in req.url
            else None
        ),
    )
    open_counter(page, live)
    page.keyboard.press("Space")
    expect(page.locator("#ticket-number")).to_have_text("A001")
    page.keyboard.press("r")
    expect(page.locator("#ticket-calls")).to_have_text("2")
    page.keyboard.press("p")
    expect(page.locator("#counter-status")).to_have_attribute("data-status", "paused")
    page.keyboard.press("p")
    expect(page.locator("#counter-status")).to_have_attribute("data-status", "open")
    assert len(keys) == 4 and all(keys) and len(set(keys)) == 4, keys


def test_replayed_key_never_skips_a_citizen(live):
    """What the app relies on when it retries a press after a network error."""
    issue(live, "HT")
    second = issue(live, "HT")
    lan = live.login("lan")
    r1 = lan.post("/api/counters/1/next", headers={"Idempotency-Key": "press-1"})
    r2 = lan.post("/api/counters/1/next", headers={"Idempotency-Key": "press-1"})
    assert r1.json()["ticket"]["number"] == r2.json()["ticket"]["number"] == "A001"
    assert r2.json()["replayed"] is True
    assert live.client().get(f"/api/tickets/{second['id']}").json()["status"] == "waiting"


def test_call_specific_no_show_reprint_and_preview(live, page):
    issue(live, "HT")
    a2 = issue(live, "HT")
    open_counter(page, live)
    expect(page.locator("#preview-total")).to_contain_text("2")
    page.keyboard.press("c")
    expect(page.locator("#call-number")).to_be_focused()
    page.keyboard.type("a2")
    page.keyboard.press("Enter")  # in the field, Enter submits the number, it is not "Next"
    expect(page.locator("#ticket-number")).to_have_text("A002")
    assert live.client().get(f"/api/tickets/{a2['id']}").json()["status"] == "called"
    page.keyboard.press("i")  # reprint: the printing module answers, or a clear message
    expect(page.locator("#msg")).to_contain_text("A002" if _has_reprint(live) else "404")
    page.keyboard.press("n")
    expect(page.locator("#stat-noshow")).to_have_text("1")
    expect(page.locator("#ticket-empty")).to_be_visible()


def _has_reprint(live) -> bool:
    return live.login("sup").post("/api/tickets/none/reprint").json().get("error") != "not_found"


def test_numeric_keypad_and_custom_shortcuts(live, page):
    issue(live, "HT")
    issue(live, "HT")
    issue(live, "HT")
    open_counter(page, live)
    page.keyboard.press("NumpadEnter")
    expect(page.locator("#ticket-number")).to_have_text("A001")
    page.keyboard.press("Numpad3")  # Done on the keypad
    expect(page.locator("#ticket-empty")).to_be_visible()
    page.keyboard.press("NumpadDivide")  # call a number with digits only: the counter's prefix is added
    expect(page.locator("#call-number")).to_be_focused()
    page.keyboard.press("Numpad3")
    page.keyboard.press("NumpadEnter")
    expect(page.locator("#ticket-number")).to_have_text("A003")
    page.keyboard.press("Numpad3")
    expect(page.locator("#ticket-empty")).to_be_visible()
    # rebind Next to "G" and check it is kept for this user
    page.click("#btn-shortcuts")
    page.click('[data-record="next"]')
    page.keyboard.press("g")
    page.click("#shortcut-close")
    page.reload()
    expect(page.locator("#conn")).to_have_attribute("data-state", "on")
    page.locator("body").click(position={"x": 5, "y": 700})
    page.keyboard.press("g")
    expect(page.locator("#ticket-number")).to_have_text("A002")


def test_english_toggle_and_counter_choice(live, page):
    page.goto(f"{live.base_url}/counter")
    page.fill("#username", "lan")
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#view-picker")).to_be_visible()
    buttons = page.locator("#picker button")
    expect(buttons).to_have_count(2)  # lan may use counters 1 and 2 only
    page.click('#picker button[data-counter="2"]')
    expect(page.locator("#counter-title")).to_contain_text("2")
    expect(page.locator("#btn-next")).to_contain_text("Gọi tiếp")
    page.click("#btn-lang")
    expect(page.locator("#btn-next")).to_contain_text("Next")
    expect(page.locator("#ticket-empty")).to_contain_text("No ticket called yet")


def test_wrong_password_shows_vietnamese_message(live, page):
    page.goto(f"{live.base_url}/counter")
    page.fill("#username", "lan")
    page.fill("#password", "sai-mat-khau")
    page.click("#login-submit")
    expect(page.locator("#login-msg")).to_contain_text("Sai tên đăng nhập hoặc mật khẩu")


def test_transfer_to_a_counter(live, page):
    a1 = issue(live, "HT")
    issue(live, "KH")
    open_counter(page, live)
    page.keyboard.press("Space")
    expect(page.locator("#ticket-number")).to_have_text("A001")
    page.keyboard.press("Numpad4")  # Transfer on the keypad…
    expect(page.locator("#transfer-dialog")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#transfer-dialog")).to_be_hidden()
    page.keyboard.press("t")
    page.click('#transfer-counters button[data-counter="2"]')
    expect(page.locator("#ticket-empty")).to_be_visible()
    expect(page.locator("#msg")).to_contain_text("Đã chuyển số A001")
    # counter 2 gets it before anything in its categories; counter 1 does not see it
    lan = live.login("lan")
    r = lan.post("/api/counters/2/next")
    assert r.json()["ticket"]["id"] == a1["id"] and r.json()["ticket"]["source"] == "transfer"


def test_state_preview_and_todays_stats(live):
    for c in ("HT", "HT", "HT", "CT", "DD"):
        issue(live, c)
    lan, minh = live.login("lan"), live.login("minh")
    s = lan.get("/api/counters/1/state").json()
    by_cat = {c["category"]: c for c in s["preview"]["categories"]}
    assert [c["category"] for c in s["preview"]["categories"]] == ["HT", "CT", "KH"]  # this counter's profile
    assert (by_cat["HT"]["count"], by_cat["CT"]["count"], by_cat["KH"]["count"]) == (3, 1, 0)
    assert by_cat["HT"]["oldest_wait_ms"] >= 0 and by_cat["KH"]["oldest_wait_ms"] is None
    assert s["preview"]["total"] == 4  # DD is not counter 1's
    assert s["stats"] == {"served": 0, "no_shows": 0, "calls": 0, "avg_service_ms": None}

    lan.post("/api/counters/1/next")
    time.sleep(0.2)
    lan.post("/api/counters/1/done")
    lan.post("/api/counters/1/next")
    lan.post("/api/counters/1/no-show")
    lan.post("/api/counters/1/next")
    minh.post("/api/counters/4/next")
    minh.post("/api/counters/4/done")  # another counter's work is not counted here
    s = lan.get("/api/counters/1/state").json()
    assert s["stats"]["served"] == 1 and s["stats"]["no_shows"] == 1 and s["stats"]["calls"] == 3
    assert s["stats"]["avg_service_ms"] >= 200
    assert s["ticket"]["number"] == "A003" and s["ticket"]["waited_ms"] >= 0
    assert s["counter"]["status"] == "open" and s["preview"]["total"] == 1
    assert minh.get("/api/counters/4/state").json()["stats"]["served"] == 1


def test_counter_page_reconnects_after_a_server_restart(live, page):
    open_counter(page, live, "lan", 1)
    page.evaluate("window.__sameDocument = true")
    live.kill()
    try:
        expect(page.locator("#conn")).to_have_attribute("data-state", "off", timeout=5000)
        expect(page.locator("#conn")).to_have_text("Mất kết nối – đang kết nối lại…")
        _, number = direct_call(live, 1, "HT")
        page.wait_for_timeout(2000)  # a few refused attempts, backing off
    finally:
        live.start()
    expect(page.locator("#conn")).to_have_attribute("data-state", "on", timeout=30_000)
    expect(page.locator("#conn")).to_have_text("Trực tuyến")
    expect(page.locator("#ticket-number")).to_have_text(number)  # the snapshot after the reconnect
    assert page.evaluate("window.__sameDocument") is True  # no reload
    stats = page.evaluate("motcuaCounter.live.stats")
    assert stats["connects"] >= 3 and len(stats["delays"]) >= 2 and stats["delays"][-1] > stats["delays"][0]
    page.screenshot(path=str(artifact("counter_after_restart.png")))
    # and the feed is live again
    t = issue(live, "HT")
    page.keyboard.press("Space")
    expect(page.locator("#ticket-number")).to_have_text(t["number"])


def test_counter_page_without_a_session_stops_at_the_login(live, page):
    open_counter(page, live, "lan", 1)
    page.context.clear_cookies()  # the session is gone (e.g. another tab logged out)
    live.kill()
    try:
        expect(page.locator("#conn")).to_have_attribute("data-state", "off", timeout=5000)
    finally:
        live.start()
    expect(page.locator("#view-login")).to_be_visible(timeout=30_000)  # 4401: back to the login, as before
    connects = page.evaluate("motcuaCounter.live.stats.connects")
    page.wait_for_timeout(3000)
    assert page.evaluate("motcuaCounter.live.stats.connects") == connects  # no more attempts
    assert page.evaluate("motcuaCounter.live.fatal.code") == 4401


def test_a_replayed_key_is_audited_once(live):
    """Issue #13 item 10: a retried press is one action in the audit log too."""
    issue(live, "HT")
    a2 = issue(live, "HT")
    lan = live.login("lan")

    def twice(path: str, key: str, **kw) -> list[dict]:
        out = [lan.post(path, headers={"Idempotency-Key": key}, **kw) for _ in range(2)]
        assert [r.status_code for r in out] == [200, 200], [r.text for r in out]
        return [r.json() for r in out]

    twice("/api/counters/1/next", "k-next")
    first, again = twice("/api/counters/1/recall", "k-recall")
    assert (first["replayed"], again["replayed"]) == (False, True)
    twice("/api/counters/1/done", "k-done")
    twice("/api/counters/1/next", "k-next-2")
    twice("/api/counters/1/no-show", "k-noshow")
    first, again = twice(f"/api/tickets/{a2['id']}/requeue", "k-requeue")
    assert first["status"] == again["status"] == "waiting"
    twice("/api/counters/1/next", "k-next-3")  # A002 again
    twice("/api/counters/1/transfer", "k-transfer", json={"category": "CT"})
    entries = live.login("admin").get("/api/admin/audit").json()["entries"]
    acts = sorted(
        (e["action"], e["detail"].get("number", e["target"]))
        for e in entries
        if e["actor"] == "lan" and e["action"] != "login"
    )
    assert acts == sorted(
        [
            ("next", "A001"),
            ("recall", "A001"),
            ("done", "A001"),
            ("next", "A002"),
            ("no_show", "A002"),
            ("requeue", "A002"),
            ("next", "A002"),
            ("transfer", "A002"),
        ]
    ), acts


def test_a_finished_ticket_shows_where_it_was_served(live):
    a1 = issue(live, "HT")
    lan = live.login("lan")
    lan.post("/api/counters/2/next")
    lan.post("/api/counters/2/done")
    t = live.client().get(f"/api/tickets/{a1['id']}").json()
    assert (t["status"], t["counter"]) == ("done", 2)


def test_waiting_list_and_no_shows_with_requeue_and_call(live, page):
    """Issue #13 item 8: the clerk sees who waits, and brings a no-show back."""
    a1 = issue(live, "HT")
    issue(live, "HT")
    issue(live, "CT")
    issue(live, "DD")  # not counter 1's
    open_counter(page, live)
    rows = page.locator("#waiting tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.first).to_have_attribute("data-number", "A001")
    expect(page.locator('#waiting tr[data-number="A001"]')).to_contain_text("Hộ tịch")
    expect(page.locator('#waiting tr[data-number="A001"] td.wait')).to_have_text(re.compile(r"^\d{2}:\d{2}$"))
    expect(page.locator('#waiting tr[data-number="C001"]')).to_have_count(0)
    page.screenshot(path=str(artifact("counter_waiting.png")), full_page=True)

    page.keyboard.press("Space")
    expect(page.locator("#ticket-number")).to_have_text("A001")
    expect(page.locator("#waiting tbody tr")).to_have_count(2)
    page.keyboard.press("n")
    expect(page.locator('#noshows tr[data-number="A001"]')).to_be_visible()
    page.screenshot(path=str(artifact("counter_no_shows.png")), full_page=True)

    # typing a no-show's number: the clerk is told why and gets the Requeue button
    page.keyboard.press("c")
    page.keyboard.type("a1")
    page.keyboard.press("Enter")
    expect(page.locator("#msg")).to_contain_text("A001 đã được đánh dấu vắng mặt")
    page.screenshot(path=str(artifact("counter_call_no_show.png")), full_page=True)
    page.click('#msg button[data-action="requeue"]')
    expect(page.locator("#msg")).to_contain_text("Đã xếp lại hàng số A001")
    expect(page.locator('#noshows tr[data-number="A001"]')).to_have_count(0)
    expect(page.locator('#waiting tr[data-number="A001"]')).to_be_visible()
    assert live.client().get(f"/api/tickets/{a1['id']}").json()["status"] == "waiting"

    # a no-show again; "Gọi" in the list brings it back and calls it at once
    page.locator("body").click(position={"x": 5, "y": 700})
    page.keyboard.press("Space")
    expect(page.locator("#ticket-card")).to_have_attribute("data-ticket", a1["id"])  # its old rank: first again
    page.keyboard.press("n")
    expect(page.locator("#ticket-empty")).to_be_visible()
    expect(page.locator('#noshows tr[data-number="A001"]')).to_be_visible()
    page.click('#noshows tr[data-number="A001"] button[data-action="call"]')
    expect(page.locator("#ticket-card")).to_have_attribute("data-ticket", a1["id"])
    expect(page.locator("#msg")).to_contain_text("Đã gọi số A001")
    assert live.client().get(f"/api/tickets/{a1['id']}").json()["status"] == "called"
    types = [e["type"] for e in events_of(live, a1["id"])]
    assert types == ["issue", "call", "no_show", "requeue", "call", "no_show", "requeue", "call"], types
    s = live.login("lan").get("/api/counters/1/state").json()
    assert s["no_shows"] == [] and [w["number"] for w in s["waiting"]] == ["A002", "B001"]


def test_buttons_need_a_ticket_logout_clears_the_header_and_a_foreign_counter_is_refused(live, page):
    """Issue #13 item 9."""
    issue(live, "HT")
    open_counter(page, live)
    needs_ticket = ["recall", "noshow", "done", "transfer", "reprint"]
    for a in needs_ticket:
        expect(page.locator(f"#btn-{a}")).to_be_disabled()
    for a in ("next", "pause", "call"):
        expect(page.locator(f"#btn-{a}")).to_be_enabled()
    page.screenshot(path=str(artifact("counter_no_ticket.png")))
    page.keyboard.press("Space")
    expect(page.locator("#ticket-body")).to_be_visible()
    for a in needs_ticket:
        expect(page.locator(f"#btn-{a}")).to_be_enabled()
    page.keyboard.press("d")
    expect(page.locator("#ticket-empty")).to_be_visible()
    expect(page.locator("#btn-done")).to_be_disabled()

    page.click("#btn-logout")
    expect(page.locator("#view-login")).to_be_visible()
    expect(page.locator("#counter-title")).to_have_text("")
    expect(page.locator("#conn")).to_be_hidden()
    expect(page.locator("header")).not_to_contain_text("Quầy 1")
    page.screenshot(path=str(artifact("counter_logged_out.png")))

    # counter 3 is not lan's: the API's 403 message, not a silent picker
    page.goto(f"{live.base_url}/counter?n=3")
    page.fill("#username", "lan")
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#view-picker")).to_be_visible()
    expect(page.locator("#picker-msg")).to_contain_text("quầy số 3")
    expect(page.locator("#picker button")).to_have_count(2)
    page.screenshot(path=str(artifact("counter_forbidden.png")))
