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


def test_charts_deltas_and_an_export_through_the_worker(live, browser):
    """The charts are inline SVG drawn by counter_app/charts.js with Vietnamese
    axis labels; they follow the period and the filters; the deltas are the
    summary of the previous period of as many days fetched directly; an XLSX
    export runs in a real worker with a progress bar, then its link."""
    import io
    import subprocess
    import sys
    from datetime import timedelta

    from tests.browser import artifact

    cfg = load_toml(str(live.config_path))
    tz = cfg.site.tz
    today = datetime.now(tz).date()
    archive = EventArchive(None, live.keys, None, live.config_path.parent / "var")
    for day, evs in history(cfg, today, 29, 12, 9):
        archive.import_events(evs, tz, day.toordinal() * 100_000 + 50_000)
    sup = live.login("sup")
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    page = ctx.new_page()
    try:
        page.goto(f"{live.base_url}/reports")
        page.fill("#username", "sup")
        page.fill("#password", PASSWORD)
        page.click("#login-form button[type=submit]")
        expect(page.locator("#view-app")).to_be_visible()
        page.wait_for_selector("body[data-loaded]")  # the first load set its period: now ours
        lo, hi = today - timedelta(days=14), today - timedelta(days=1)
        page.fill("#from", lo.isoformat())
        page.fill("#to", hi.isoformat())
        page.click("#btn-show")
        # the page's previous period is the API's (compare=previous)
        expect(page.locator("#previous")).to_have_attribute("data-to", (lo - timedelta(days=1)).isoformat())
        got = sup.get(
            "/api/reports/summary", params={"from": lo.isoformat(), "to": hi.isoformat(), "compare": "previous"}
        ).json()
        assert got["totals"]["issued"] > 30

        charts = page.locator("#charts figure.chart")
        expect(charts).to_have_count(8)
        assert page.locator("#charts svg").count() == 8
        hours = page.locator("#c-arrivals-hour rect.bar")
        assert hours.count() >= 11  # 7h..17h at least
        by_hour = {r["hour"]: r["issued"] for r in got["by_hour"]}
        for i in range(hours.count()):
            bar = hours.nth(i)
            hour = int(bar.get_attribute("data-label").rstrip("h"))
            assert int(bar.get_attribute("data-value")) == by_hour.get(hour, 0)
        wd = {r["weekday"]: r["issued"] for r in got["by_weekday"]}
        bars = page.locator("#c-arrivals-weekday rect.bar")
        assert [b.get_attribute("data-label") for b in bars.all()] == "T2 T3 T4 T5 T6 T7 CN".split()
        assert [int(b.get_attribute("data-value")) for b in bars.all()] == [wd.get(d, 0) for d in range(7)]
        cells = page.locator("#c-heatmap rect.cell")
        assert cells.count() == 7 * hours.count()
        heat = sum(int(c.get_attribute("data-value")) for c in cells.all())
        assert heat == got["totals"]["issued"]
        buckets = [int(b.get_attribute("data-value")) for b in page.locator("#c-buckets rect.bar").all()]
        assert buckets == list(got["wait_buckets"].values())
        levels = [int(b.get_attribute("data-value")) for b in page.locator("#c-ratings rect.bar").all()]
        assert levels == list(got["ratings"]["by_level"].values())
        assert page.locator("#c-level-category rect.bar").count() == sum(
            r["service_level"] is not None for r in got["by_category"]
        )
        # axis labels in Vietnamese
        labels = page.locator("#c-wait-hour text.axis-label").all_text_contents()
        assert labels == ["Giờ trong ngày", "Chờ TB (phút)"]
        assert "Thời gian chờ (phút)" in page.locator("#c-buckets").inner_text()

        # the deltas: this period minus the previous, fetched directly
        prev = sup.get(
            "/api/reports/summary", params={"from": got["previous"]["from"], "to": got["previous"]["to"]}
        ).json()
        assert prev["totals"] == got["previous"]["totals"]
        expect(page.locator("#previous")).to_have_attribute("data-from", got["previous"]["from"])
        issued = page.locator("#k-issued .delta")
        expect(issued).to_have_count(1)
        assert int(issued.get_attribute("data-delta")) == got["totals"]["issued"] - prev["totals"]["issued"]
        dw = round(got["wait_s"]["mean"] / 60 - prev["wait_s"]["mean"] / 60, 1)
        wait = page.locator("#k-wait .delta")
        assert float(wait.get_attribute("data-delta")) == dw
        # a longer wait is worse (red), a shorter one better (green)
        assert "bad" in wait.get_attribute("class") if dw > 0 else "good" in wait.get_attribute("class") or dw == 0
        served = page.locator("#k-served .delta")
        ds = got["totals"]["served"] - prev["totals"]["served"]
        assert ("good" if ds > 0 else "bad" if ds < 0 else "neutral") in served.get_attribute("class")
        page.screenshot(path=str(artifact("reports_charts.png")), full_page=True)
        page.emulate_media(media="print")  # the print stylesheet: no buttons, two charts a row
        assert page.locator("#periods").is_hidden() and page.locator("#charts").is_visible()
        page.screenshot(path=str(artifact("reports_charts_print.png")), full_page=True)
        page.emulate_media(media="screen")

        # a filter changes the charts
        before = [b.get_attribute("data-value") for b in hours.all()]
        page.select_option("#f-category", "CT")
        ct = sup.get(
            "/api/reports/summary", params={"from": lo.isoformat(), "to": hi.isoformat(), "category": "CT"}
        ).json()
        expect(page.locator("#k-issued b")).to_have_text(str(ct["totals"]["issued"]))
        after = [b.get_attribute("data-value") for b in page.locator("#c-arrivals-hour rect.bar").all()]
        assert after != before and sum(map(int, after)) == ct["totals"]["issued"]
        # and so does the period
        page.click('#periods button[data-period="day"]')
        expect(page.locator("#from")).to_have_value(today.isoformat())
        expect(page.locator("#c-arrivals-hour .chart-note")).to_have_text("Chưa có dữ liệu trong kỳ này.")

        # XLSX through the worker: the progress bar, then the link
        page.select_option("#f-category", "")
        page.fill("#from", lo.isoformat())
        page.fill("#to", hi.isoformat())
        page.click("#btn-show")
        page.click("#dl-xlsx")
        expect(page.locator("#export-text")).to_have_text("Đang tạo báo cáo… 0 %")
        subprocess.run(
            [sys.executable, "-m", "queue_server.cli", "worker", "--burst", "--redis-url", live.redis_url],
            check=True,
            timeout=120,
            capture_output=True,
        )
        link = page.locator("#export-link")
        expect(link).to_be_visible(timeout=10_000)
        assert page.locator("#export-bar").get_attribute("value") == "100"
        with page.expect_download() as dl:
            link.click()
        import openpyxl

        assert dl.value.suggested_filename.endswith(f"{lo.isoformat()}-{hi.isoformat()}.xlsx")
        wb = openpyxl.load_workbook(io.BytesIO(dl.value.path().read_bytes()))
        rows = {r[0]: r[1] for r in wb["summary"].iter_rows(values_only=True) if r and r[0]}
        assert rows["Số phát / Issued"] == got["totals"]["issued"]
        # English one click away, charts included
        page.click("#btn-lang")
        expect(page.locator("#c-wait-hour text.axis-label").first).to_have_text("Hour of day")
    finally:
        ctx.close()
