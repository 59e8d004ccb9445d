"""The rating tablet at /rate/{counter}: shown after Done, stored once, in the ticket's events."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import artifact

pytestmark = pytest.mark.browser


def serve_one(live, clerk, category: str = "HT", counter: int = 1) -> dict:
    t = live.device("kiosk").post("/api/tickets", json={"category": category}).json()
    assert clerk.post(f"/api/counters/{counter}/next").json()["ticket"]["id"] == t["id"]
    assert clerk.post(f"/api/counters/{counter}/done").status_code == 200
    return t


def rating_events(live, ticket_id: str) -> list[dict]:
    events = live.login("sup").get(f"/api/tickets/{ticket_id}/events").json()["events"]
    return [e for e in events if e["type"] == "rating"]


def test_rating_after_done_is_stored_once(live, page):
    page.goto(f"{live.base_url}/rate/1?token={live.tokens['rating']}")
    expect(page.locator("#idle")).to_be_visible()
    expect(page.locator("#conn")).to_contain_text("Quầy 1")
    lan = live.login("lan")
    t = serve_one(live, lan)

    expect(page.locator("#ask")).to_be_visible()
    expect(page.locator("#ask-number")).to_have_text(t["number"])
    buttons = page.locator("#scale button")
    expect(buttons).to_have_count(3)  # the configured scale (3)
    expect(buttons.nth(2)).to_have_text("Rất hài lòng")
    remaining = int(page.locator("#countdown").inner_text())
    assert 20 <= remaining <= 30
    buttons.nth(2).click()
    expect(page.locator("#thanks")).to_be_visible()

    events = rating_events(live, t["id"])
    assert len(events) == 1
    assert events[0]["level"] == 3 and events[0]["via"] == "tablet:1"
    assert live.client().get(f"/api/tickets/{t['id']}").json()["rating"] == 3

    # a second rating of the same ticket is refused, by the tablet or the public link
    rating = live.device("rating")
    r = rating.post("/api/rate/1", json={"ticket": t["id"], "level": 1})
    assert r.status_code == 409 and r.json()["error"] == "already_rated"
    r = live.client().post(f"/api/tickets/{t['id']}/rating", json={"level": 1})
    assert r.status_code == 409
    assert len(rating_events(live, t["id"])) == 1


def test_rating_stays_open_when_the_next_citizen_is_called(live, page):
    """Issue #13: D, then Space a second later, must not take the scale away
    from the citizen who was just served (the old rule cleared it)."""
    page.goto(f"{live.base_url}/rate/1?token={live.tokens['rating']}")
    expect(page.locator("#conn")).to_contain_text("Quầy 1")
    lan = live.login("lan")
    t = serve_one(live, lan)
    expect(page.locator("#ask")).to_be_visible()
    nxt = live.device("kiosk").post("/api/tickets", json={"category": "HT"}).json()
    page.wait_for_timeout(1000)
    assert lan.post("/api/counters/1/next").json()["ticket"]["id"] == nxt["id"]
    page.wait_for_timeout(1000)
    expect(page.locator("#ask")).to_be_visible()
    expect(page.locator("#ask-number")).to_have_text(t["number"])
    expect(page.locator("#serving-number")).to_have_text(nxt["number"])  # the next citizen beside it
    lan.post("/api/counters/1/recall")
    page.wait_for_timeout(500)
    expect(page.locator("#ask-number")).to_have_text(t["number"])
    page.screenshot(path=str(artifact("rating_open_after_next.png")))
    page.locator("#scale button").nth(2).click()
    expect(page.locator("#thanks")).to_be_visible()
    assert [e["level"] for e in rating_events(live, t["id"])] == [3]
    # a reload still offers nothing more for the rated ticket
    page.reload()
    expect(page.locator("#idle")).to_be_visible()


def test_next_without_done_opens_the_rating(live, page):
    """Issue #13: a clerk who only presses Next finishes each citizen as served;
    the tablet asks that citizen, and the answer is stored."""
    page.goto(f"{live.base_url}/rate/1?token={live.tokens['rating']}")
    expect(page.locator("#conn")).to_contain_text("Quầy 1")
    lan = live.login("lan")
    kiosk = live.device("kiosk")
    a = kiosk.post("/api/tickets", json={"category": "HT"}).json()
    b = kiosk.post("/api/tickets", json={"category": "HT"}).json()
    assert lan.post("/api/counters/1/next").json()["ticket"]["id"] == a["id"]
    page.wait_for_timeout(1700)  # past the Next debounce
    assert lan.post("/api/counters/1/next").json()["ticket"]["id"] == b["id"]
    expect(page.locator("#ask")).to_be_visible()
    expect(page.locator("#ask-number")).to_have_text(a["number"])
    # a tablet that connects now gets it from the snapshot too
    page.reload()
    expect(page.locator("#ask-number")).to_have_text(a["number"])
    page.locator("#scale button").nth(1).click()
    expect(page.locator("#thanks")).to_be_visible()
    assert [(e["level"], e["via"]) for e in rating_events(live, a["id"])] == [(2, "tablet:1")]


def test_pending_rating_survives_a_reload_and_other_counters_are_ignored(live, page):
    lan = live.login("lan")
    minh = live.login("minh")
    t = serve_one(live, lan)
    page.goto(f"{live.base_url}/rate/1?token={live.tokens['rating']}")
    expect(page.locator("#ask-number")).to_have_text(t["number"])  # from the snapshot
    other = serve_one(live, minh, "DD", 4)
    page.wait_for_timeout(500)
    expect(page.locator("#ask-number")).to_have_text(t["number"])  # counter 4's Done is not ours
    # the tablet of counter 1 cannot rate counter 4's citizen
    r = live.device("rating").post("/api/rate/4", json={"ticket": other["id"], "level": 3})
    assert r.status_code == 403
    r = live.device("rating").post("/api/rate/1", json={"ticket": other["id"], "level": 3})
    assert r.status_code == 403
    assert rating_events(live, other["id"]) == []


def test_rating_page_needs_the_tablet_token(live):
    c = live.client()
    assert c.get("/rate/1").status_code == 401
    assert c.get(f"/rate/1?token={live.tokens['kiosk']}").status_code == 401
    assert c.get(f"/rate/2?token={live.tokens['rating']}").status_code == 403  # this tablet faces counter 1
    r = c.get(f"/rate/1?token={live.tokens['rating']}")
    assert r.status_code == 200 and "Đánh giá" in r.text


def test_english(live, page):
    page.goto(f"{live.base_url}/rate/1?token={live.tokens['rating']}&lang=en")
    expect(page.locator("#idle-title")).to_have_text("Welcome")
    lan = live.login("lan")
    serve_one(live, lan)
    expect(page.locator("#scale button").nth(0)).to_have_text("Unsatisfied")


def test_scale_follows_the_configuration_live(live, page):
    page.goto(f"{live.base_url}/rate/1?token={live.tokens['rating']}")
    expect(page.locator("#conn")).to_contain_text("Quầy 1")
    admin = live.login("admin")
    assert admin.put("/api/admin/config", json={"queue": {"rating_scale": 5}}).status_code == 200
    t = serve_one(live, live.login("lan"))
    expect(page.locator("#scale button")).to_have_count(5)
    page.locator('#scale button[data-level="5"]').click()
    expect(page.locator("#thanks")).to_be_visible()
    events = rating_events(live, t["id"])
    assert [(e["level"], e["scale"]) for e in events] == [(5, 5)]


def test_tablet_cannot_rate_an_old_ticket(live):
    from redis.asyncio import Redis

    from tests.server import run_sync

    t = serve_one(live, live.login("lan"))

    async def age_it() -> None:  # finished 11 minutes ago
        import json as _json

        r = Redis.from_url(live.redis_url)
        try:
            raw = _json.loads(await r.hget(live.keys.tickets, t["id"]))
            raw["finished_at"] -= 11 * 60_000
            await r.hset(live.keys.tickets, t["id"], _json.dumps(raw))
        finally:
            await r.aclose()

    run_sync(age_it())
    r = live.device("rating").post("/api/rate/1", json={"ticket": t["id"], "level": 3})
    assert r.status_code == 409 and r.json()["error"] == "rating_closed"
    assert rating_events(live, t["id"]) == []


def test_tablet_reconnects_after_a_server_restart(live, page):
    page.goto(f"{live.base_url}/rate/1?token={live.tokens['rating']}")
    expect(page.locator("#conn")).to_contain_text("Quầy 1")
    page.evaluate("window.__sameDocument = true")
    live.kill()
    try:
        expect(page.locator("#conn")).to_have_text("Mất kết nối – đang kết nối lại…", timeout=5000)
        page.wait_for_timeout(2000)  # refused attempts, backing off
    finally:
        live.start()
    expect(page.locator("#conn")).to_have_text("Quầy 1", timeout=30_000)
    t = serve_one(live, live.login("lan"))
    expect(page.locator("#ask")).to_be_visible()  # the new socket carries the prompt
    expect(page.locator("#ask-number")).to_have_text(t["number"])
    assert page.evaluate("window.__sameDocument") is True
    page.screenshot(path=str(artifact("rating_after_restart.png")))


def test_revoked_tablet_stops_reconnecting(live, page):
    admin = live.login("admin")
    r = admin.post("/api/admin/devices", json={"name": "Máy bảng thử", "kind": "rating", "counter": 1})
    assert r.status_code == 201, r.text
    device, token = r.json()["device"], r.json()["token"]
    page.goto(f"{live.base_url}/rate/1?token={token}")
    expect(page.locator("#conn")).to_contain_text("Quầy 1")
    assert admin.post(f"/api/admin/devices/{device['id']}/revoke").status_code == 200
    live.kill()
    live.start()
    page.wait_for_function("motcuaRate.live.fatal && motcuaRate.live.fatal.code === 4401", timeout=30_000)
    expect(page.locator("#conn")).to_have_text("Máy bảng này không được phép kết nối. Xin liên hệ quản trị viên.")
    connects = page.evaluate("motcuaRate.live.stats.connects")
    page.wait_for_timeout(3000)
    assert page.evaluate("motcuaRate.live.stats.connects") == connects  # no more attempts
