"""The supervisor's live view (/supervisor, issue #11): its API and feed, and
the page in headless Chromium against a real server."""

from __future__ import annotations

import json
import time

import pytest
from playwright.sync_api import expect
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from queue_server.domain.config import parse_config
from queue_server.domain.model import CounterStatus
from tests.browser import artifact
from tests.e2e.live_helpers import run_async
from tests.helpers import Clock, make_store, test_config_dict
from tests.server import PASSWORD

MIN = 60_000


async def _backdated(redis_url: str, site_id: str, at_ms: int, category: str | None = None, pause: int | None = None):
    """Issue a ticket, or pause a counter, as if it happened at `at_ms` (a
    moved clock on the store, outside the API process)."""
    store = await make_store(redis_url, parse_config(test_config_dict(site_id=site_id)), clock=Clock(at_ms))
    try:
        if category:
            t, _ = await store.issue(category)
            return t.id
        if pause:
            await store.set_counter_status(pause, CounterStatus.PAUSED, clerk="lan")
        return None
    finally:
        await store.redis.aclose()


def backdated(live, at_ms: int, **kw):
    return run_async(_backdated(live.redis_url, live.site_id, at_ms, **kw))


def now_ms() -> int:
    return int(time.time() * 1000)


def test_snapshot_figures(live):
    kiosk = live.device("kiosk")
    for cat in ("HT", "HT", "CT"):
        assert kiosk.post("/api/tickets", json={"category": cat}).status_code == 201
    lan = live.login("lan")
    assert lan.post("/api/counters/1/next").status_code == 200
    sup = live.login("sup")
    r = sup.get("/api/supervisor")
    assert r.status_code == 200, r.text
    s = r.json()
    cats = {c["category"]: c for c in s["categories"]}
    assert s["today"]["issued"] == 3 and s["today"]["calls"] == 1 and s["today"]["waiting"] == 2
    assert cats["HT"]["issued_today"] == 2 and cats["CT"]["issued_today"] == 1
    assert cats["HT"]["count"] + cats["CT"]["count"] == 2
    assert cats["HT"]["target_ms"] == 15 * MIN
    c1 = next(c for c in s["counters"] if c["counter"] == 1)
    assert c1["clerk"] == "lan" and c1["number"] and c1["service_ms"] is not None
    assert c1["calls"] == 1 and c1["status"] == "open"
    assert s["alerts"] == [] and s["pause_alert_ms"] == 15 * MIN
    assert lan.post("/api/counters/1/done").status_code == 200
    s = sup.get("/api/supervisor").json()
    assert s["today"]["served"] == 1 and s["today"]["avg_service_ms"] is not None
    # the same view answers admin; never a clerk, a device or nobody
    assert live.login("admin").get("/api/supervisor").status_code == 200
    assert lan.get("/api/supervisor").status_code == 403
    assert live.device("display").get("/api/supervisor").status_code == 403
    assert live.client().get("/api/supervisor").status_code == 401


def test_the_feed_refuses_a_clerk_and_follows_events_for_a_supervisor(live):
    lan = live.login("lan")
    cookie = f"motcua_session={lan.cookies['motcua_session']}"
    with connect(f"{live.ws_url}/ws/supervisor", additional_headers={"Cookie": cookie}) as ws:
        with pytest.raises(ConnectionClosed) as e:
            ws.recv(timeout=5)
    assert e.value.rcvd is not None and e.value.rcvd.code == 4403
    sup = live.login("sup")
    cookie = f"motcua_session={sup.cookies['motcua_session']}"
    with connect(f"{live.ws_url}/ws/supervisor", additional_headers={"Cookie": cookie}) as ws:
        first = json.loads(ws.recv(timeout=5))
        assert first["type"] == "snapshot" and first["today"]["issued"] == 0
        assert live.device("kiosk").post("/api/tickets", json={"category": "DD"}).status_code == 201
        msg = json.loads(ws.recv(timeout=5))
        assert msg["type"] == "event" and msg["event"]["type"] == "issue"
        assert msg["today"]["issued"] == 1
        assert next(c for c in msg["categories"] if c["category"] == "DD")["count"] == 1


def test_a_paused_counter_and_full_seats_raise_alerts_in_the_snapshot(live):
    backdated(live, now_ms() - 16 * MIN, pause=2)
    admin = live.login("admin")
    assert admin.put("/api/admin/config", json={"site": {"seats": 1}}).status_code == 200
    assert live.device("kiosk").post("/api/tickets", json={"category": "CT"}).status_code == 201
    s = live.login("sup").get("/api/supervisor").json()
    kinds = {a["kind"]: a for a in s["alerts"]}
    assert kinds["paused"]["counter"] == 2 and kinds["paused"]["paused_ms"] >= 16 * MIN
    assert kinds["seats"] == {"kind": "seats", "waiting": 1, "seats": 1}
    assert "wait" not in kinds
    assert admin.put("/api/admin/config", json={"site": {"seats": 10}}).status_code == 200


def _open(page, live, user: str = "sup") -> None:
    page.goto(f"{live.base_url}/supervisor")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")


@pytest.mark.browser
def test_page_shows_counters_categories_and_a_wait_alert_within_a_second(live, page):
    kiosk = live.device("kiosk")
    assert kiosk.post("/api/tickets", json={"category": "CT"}).status_code == 201
    _open(page, live)
    expect(page.locator("#conn")).to_have_attribute("data-state", "on")
    expect(page.locator("#counters tbody tr")).to_have_count(5)
    expect(page.locator('#categories tr[data-category="HT"]')).to_be_visible()
    expect(page.locator('#categories tr[data-category="CT"] .count')).to_have_text("1")
    expect(page.locator("#kpi-issued")).to_have_text("1")
    expect(page.locator("#alert-badge")).to_have_attribute("data-count", "0")
    expect(page.locator("h1")).to_contain_text("Giám sát trực tiếp")
    # the day's appointments and the reports are one click away
    expect(page.locator("#link-appointments")).to_have_attribute("href", "/appointments")
    expect(page.locator("#link-appointments")).to_have_text("Lịch hẹn hôm nay")
    expect(page.locator("#link-reports")).to_have_attribute("href", "/reports")
    expect(page.locator("#link-staffing")).to_have_attribute("href", "/staffing")
    expect(page.locator("#link-staffing")).to_have_text("Kế hoạch nhân sự")

    # a clerk calls: the counter's row follows live
    lan = live.login("lan")
    assert lan.post("/api/counters/1/next").status_code == 200
    row = page.locator('#counters tr[data-counter="1"]')
    expect(row.locator(".serving")).to_contain_text("B001")
    expect(row.locator(".clerk")).to_have_text("lan")

    # the sound, on request: a generated beep now (WebAudio), and one per new alert
    page.click("#btn-sound")
    expect(page.locator("#btn-sound")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("body")).to_have_attribute("data-beeps", "1")

    # an HT ticket that joined the queue its target wait (15 min) less 2.5 s ago
    joined = now_ms() - 15 * MIN + 2500
    backdated(live, joined, category="HT")
    expect(page.locator('#categories tr[data-category="HT"] .count')).to_have_text("1")
    alert = page.locator('#alert-list li[data-alert="wait"][data-category="HT"]')
    # a condition wait: the alert shows by the time the wait is 1 s past its target
    deadline_ms = joined + 15 * MIN + 1000
    expect(alert).to_be_visible(timeout=max(1, deadline_ms - now_ms()))
    expect(alert).to_contain_text("Hộ tịch")
    expect(page.locator('#categories tr[data-category="HT"]')).to_have_class("over")
    expect(page.locator("#alert-badge")).to_have_attribute("data-count", "1")
    expect(page.locator("body")).to_have_attribute("data-beeps", "2")
    page.screenshot(path=str(artifact("supervisor.png")), full_page=True)

    # English one click away
    page.click("#btn-lang")
    expect(page.locator("h1")).to_contain_text("Live supervision")
    expect(alert).to_contain_text("past the 15 min target")
    page.click("#btn-lang")


@pytest.mark.browser
def test_a_clerk_gets_a_vietnamese_403_page(live, page):
    _open(page, live, "lan")
    expect(page.locator("#forbidden")).to_have_text("Không có quyền truy cập")
    r = live.login("lan").get("/supervisor")
    assert r.status_code == 403 and "Trang giám sát chỉ dành cho" in r.text
