"""The staffing plan page (/staffing) in Chromium (issue #15): a supervisor
picks a weekday and changes the counters open; the figures and the charts
change, and are the API's. A screenshot goes to tests/artifacts/staffing.png."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from playwright.sync_api import expect

from queue_server.domain.config import load_toml
from queue_server.domain.demo import history
from queue_server.store.archive import EventArchive
from tests.server import PASSWORD

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def test_changing_the_counters_changes_figures_and_charts(live, page):
    cfg = load_toml(str(live.config_path))
    tz = cfg.site.tz
    today = datetime.now(tz).date()
    archive = EventArchive(None, live.keys, None, live.config_path.parent / "var")
    for day, evs in history(cfg, today, 21, 160, 7):
        archive.import_events(evs, tz, day.toordinal() * 100_000)
    sup = live.login("sup")
    api = sup.get("/api/staffing/plan", params={"weekday": "1", "open": "5,5"}).json()
    assert api["days_seen"] >= 2
    assert api["current"]["mean_wait_min"] == api["proposed"]["mean_wait_min"]

    page.set_viewport_size({"width": 1280, "height": 1400})
    page.goto(f"{live.base_url}/staffing")
    page.fill("#username", "sup")
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    expect(page.locator("#view-app")).to_be_visible()
    page.select_option("#weekday", "1")
    expect(page.locator("body")).to_have_attribute("data-loaded", "weekday=1")
    wait = page.locator("#k-wait [data-proposed]")
    expect(wait).to_have_text(f"{api['proposed']['mean_wait_min']:.1f}")
    bars = page.locator('#ch-wait rect[data-series="proposed"]')
    before = [bars.nth(i).get_attribute("data-value") for i in range(bars.count())]
    assert before

    # three counters in the morning, two in the afternoon, by the keyboard
    page.fill("#open-0", "3")
    page.fill("#open-1", "2")
    page.locator("#open-1").press("Enter")
    expect(page.locator("body")).to_have_attribute("data-loaded", "weekday=1&open=3%2C2", timeout=15_000)
    thin = sup.get("/api/staffing/plan", params={"weekday": "1", "open": "3,2"}).json()
    # counters 4 and 5 closed: land (DD) and social (XH) go unserved, the rest wait longer in a fuller room
    assert thin["proposed"]["not_served"] > api["proposed"]["not_served"]
    assert thin["proposed"]["standing_minutes"] > api["proposed"]["standing_minutes"]
    expect(wait).to_have_text(f"{thin['proposed']['mean_wait_min']:.1f}")
    expect(page.locator("#k-wait .cur")).to_have_text(f"{api['current']['mean_wait_min']:.1f}")
    after = [bars.nth(i).get_attribute("data-value") for i in range(bars.count())]
    assert after != before
    expect(page.locator("#k-not-served [data-proposed]")).to_have_text(f"{thin['proposed']['not_served']:.0f}")
    rows = page.locator("#t-erlang tbody tr")
    expect(rows).to_have_count(len(thin["erlang"]))
    assert page.locator("#ch-room line[stroke-dasharray]").count() == 1  # the seats
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "staffing.png"), full_page=True)

    page.click("#btn-lang")
    expect(page.locator("h1")).to_have_text("Staffing plan")


def test_bad_plans_are_4xx_and_a_clerk_is_refused(live):
    sup = live.login("sup")
    for q in ({"weekday": "9"}, {"open": "x"}, {"open": "1,2,3"}, {"profiles": "1:ZZ"}, {"appointment_share": "2"}):
        r = sup.get("/api/staffing/plan", params=q)
        assert r.status_code == 400 and r.json()["error"] == "invalid_staffing", q
    assert live.login("lan").get("/api/staffing/plan").status_code == 403
