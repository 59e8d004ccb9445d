"""The reports page (/reports) in Chromium: a supervisor logs in, the period
switch and the filters change the figures, which are the summary API's."""

from __future__ import annotations

from datetime import datetime

import pytest
from playwright.sync_api import expect

from queue_server.domain.config import load_toml
from queue_server.domain.demo import history
from queue_server.store.archive import EventArchive
from tests.server import PASSWORD

pytestmark = pytest.mark.browser


def test_period_switch_and_filters_change_the_figures(live, page):
    cfg = load_toml(str(live.config_path))
    tz = cfg.site.tz
    today = datetime.now(tz).date()
    # a backdated history in the server's archive: ten days before today
    archive = EventArchive(None, live.keys, None, live.config_path.parent / "var")
    for day, evs in history(cfg, today, 10, 20, 5):
        archive.import_events(evs, tz, day.toordinal() * 100_000)
    kiosk, lan = live.device("kiosk"), live.login("lan")
    for cat in ("HT", "HT", "CT"):
        assert kiosk.post("/api/tickets", json={"category": cat}).status_code == 201
    assert lan.post("/api/counters/1/next").status_code == 200
    assert lan.post("/api/counters/1/done").status_code == 200
    sup = live.login("sup")

    def api(period_from, **f):
        q = {"from": period_from, "to": today.isoformat(), **f}
        return sup.get("/api/reports/summary", params=q).json()

    page.goto(f"{live.base_url}/reports")
    page.fill("#username", "sup")
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    expect(page.locator("#view-app")).to_be_visible()
    page.click('#periods button[data-period="day"]')
    expect(page.locator("#k-issued b")).to_have_text("3")
    assert page.locator("#from").input_value() == today.isoformat()
    day = api(today.isoformat())
    expect(page.locator("#k-served b")).to_have_text(str(day["totals"]["served"]))
    expect(page.locator("#t-category tbody tr")).to_have_count(len(day["by_category"]))

    page.click('#periods button[data-period="year"]')
    start = today.replace(month=1, day=1).isoformat()
    expect(page.locator("#from")).to_have_value(start)
    year = api(start)
    assert year["totals"]["issued"] > 3 or today.month == 1 and today.day <= 10
    expect(page.locator("#k-issued b")).to_have_text(str(year["totals"]["issued"]))
    wait = year["wait_s"]["mean"]
    expect(page.locator("#k-wait b")).to_have_text(f"{wait / 60:.1f}" if wait is not None else "–")

    page.select_option("#f-category", "CT")
    ct = api(start, category="CT")
    expect(page.locator("#k-issued b")).to_have_text(str(ct["totals"]["issued"]))
    assert ct["totals"]["issued"] < year["totals"]["issued"]
    page.select_option("#f-source", "appointment")
    both = api(start, category="CT", source="appointment")
    expect(page.locator("#k-issued b")).to_have_text(str(both["totals"]["issued"]))
    assert "format=xlsx" in page.locator("#dl-xlsx").get_attribute("href")
    # English one click away
    page.click("#btn-lang")
    expect(page.locator('#periods button[data-period="year"]')).to_have_text("Year")


def test_a_clerk_is_not_let_in(live, page):
    page.goto(f"{live.base_url}/reports")
    page.fill("#username", "lan")
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    expect(page.locator("#login-msg")).to_contain_text("không xem được báo cáo")
    expect(page.locator("#view-app")).to_be_hidden()
