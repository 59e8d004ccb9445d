"""Admin pages and APIs: changes apply live, without a restart."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.server import PASSWORD

pytestmark = pytest.mark.browser


def admin_page(page, live, tab: str) -> None:
    page.goto(f"{live.base_url}/admin")
    page.fill("#username", "admin")
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    expect(page.locator("#view-app")).to_be_visible()
    page.click(f'#tabs button[data-tab="{tab}"]')


def issue(live, category: str) -> dict:
    r = live.device("kiosk").post("/api/tickets", json={"category": category})
    assert r.status_code == 201, r.text
    return r.json()


def test_matrix_change_applies_to_the_next_call(live, page):
    pid = live.proc.pid
    a1 = issue(live, "HT")
    c1 = issue(live, "DD")
    admin_page(page, live, "matrix")
    row = page.locator('#matrix tr[data-counter="1"]')
    expect(row.locator('input[data-category="HT"]')).to_have_value("1")
    # counter 1 now serves Đất đai first, then Hộ tịch; no longer Chứng thực / Khác
    row.locator('input[data-category="DD"]').fill("1")
    row.locator('input[data-category="HT"]').fill("2")
    row.locator('input[data-category="CT"]').fill("")
    row.locator('input[data-category="KH"]').fill("")
    page.click("#save-matrix")
    expect(page.locator("#msg")).to_contain_text("Đã lưu")

    cfg = live.login("admin").get("/api/admin/config").json()["config"]
    assert next(c for c in cfg["counters"] if c["number"] == 1)["categories"] == ["DD", "HT"]
    lan = live.login("lan")
    r = lan.post("/api/counters/1/next")
    assert r.status_code == 200, r.text
    assert r.json()["ticket"]["id"] == c1["id"]  # the new profile: DD before the older HT ticket
    assert lan.post("/api/counters/1/next").json()["ticket"]["id"] == a1["id"]
    assert live.proc.pid == pid and live.proc.poll() is None  # same process: no restart
    audit = live.login("admin").get("/api/admin/audit").json()["entries"]
    assert any(e["action"] == "config" and e["actor"] == "admin" for e in audit)


def test_matrix_change_over_the_api_and_the_clerk_feed(live):
    admin = live.login("admin")
    issue(live, "XH")
    cfg = admin.get("/api/admin/config").json()["config"]
    counters = cfg["counters"]
    lan = live.login("lan")
    assert lan.post("/api/counters/2/next").json()["error"] == "queue_empty"  # counter 2 does not serve XH
    for c in counters:
        if c["number"] == 2:
            c["categories"] = ["XH"] + c["categories"]
    assert admin.put("/api/admin/config", json={"counters": counters}).status_code == 200
    assert lan.get("/api/counters/2/state").json()["preview"]["categories"][0]["count"] == 1
    assert lan.post("/api/counters/2/next").json()["ticket"]["number"] == "D001"


def test_invalid_input_names_the_field_in_vietnamese(live, page):
    admin_page(page, live, "categories")
    page.locator('#categories tr[data-code="HT"] input[name="prefix"]').fill("AB")
    page.click("#save-categories")
    expect(page.locator("#msg")).to_contain_text("Cấu hình không hợp lệ")
    expect(page.locator('#msg li[data-field="categories[0].prefix"]')).to_contain_text("tiền tố là một chữ cái in hoa")
    admin = live.login("admin")
    r = admin.put(
        "/api/admin/config",
        json={"categories": [{"code": "HT", "prefix": "A", "name": "Hộ tịch", "target_wait_min": "mười"}]},
    )
    assert r.status_code == 400
    body = r.json()
    assert body["error"] == "config_invalid"
    fields = {p["field"] for p in body["details"]["problems"]}
    assert "categories[0].target_wait_min" in fields
    assert "categories[0].target_wait_min: phải là số" in body["message"]
    r = admin.put("/api/admin/config?lang=en", json={"queue": {"rating_scale": 4}})
    assert r.status_code == 400 and "queue.rating_scale: must be 3 or 5" in r.json()["message"]
    r = admin.put("/api/admin/config", json={"nonsense": 1})
    assert r.status_code == 400 and r.json()["details"]["problems"][0]["field"] == "nonsense"
    # nothing was stored
    cats = admin.get("/api/admin/config").json()["config"]["categories"]
    assert cats[0]["prefix"] == "A" and cats[0]["target_wait_min"] == 15


def test_site_name_hours_and_holidays(live, page):
    admin_page(page, live, "general")
    expect(page.locator("#holidays tbody tr").first).to_be_visible()
    expect(page.locator("#holidays")).to_contain_text("Tết")  # Vietnam's holidays, preloaded
    page.fill("#site-name", "Trung tâm Phục vụ hành chính công xã Thử")
    page.fill("#hours-sat", "07:30-11:30")
    page.fill("#hours-closures", "2026-09-01\n2026-05-04")  # substitute days off
    page.select_option("#queue-scale", "5")
    page.click("#save-general")
    expect(page.locator("#msg")).to_contain_text("Đã lưu")
    assert live.client().get("/api/site").json()["name"] == "Trung tâm Phục vụ hành chính công xã Thử"
    admin = live.login("admin")
    hours = admin.get("/api/admin/config").json()["config"]["hours"]
    assert hours["sat"] == ["07:30-11:30"] and hours["closures"] == ["2026-05-04", "2026-09-01"]
    assert live.client().get("/api/site").json()["rating_scale"] == 5
    # a preloaded holiday can be worked (swapped working day)
    r = admin.put("/api/admin/config", json={"hours": {"extra_open_days": ["2026-01-01"]}})
    assert r.status_code == 200
    hol = admin.get("/api/admin/holidays", params={"year": 2026}).json()
    new_year = next(h for h in hol["holidays"] if h["date"] == "2026-01-01")
    assert new_year["closed"] is False and "2026-05-04" in hol["closures"]
    page.fill("#hours-mon", "07:30-11:30, 11:00-12:00")  # overlapping sessions
    page.click("#save-general")
    expect(page.locator('#msg li[data-field="hours.mon"]')).to_contain_text("chồng nhau")


def test_users_and_devices(live, page):
    admin_page(page, live, "users")
    page.fill("#new-username", "thu")
    page.fill("#new-display", "Nguyễn Thị Thu")
    page.fill("#new-counters", "3")
    page.fill("#new-password", "mat-khau-thu-1")
    page.click("#create-user")
    expect(page.locator('#users tr[data-user="thu"]')).to_contain_text("Nguyễn Thị Thu")
    thu = live.login("thu", "mat-khau-thu-1")
    assert thu.get("/api/counters/3/state").status_code == 200
    assert thu.get("/api/counters/1/state").status_code == 403
    page.fill("#new-username", "x")
    page.fill("#new-password", "123")
    page.click("#create-user")
    expect(page.locator("#msg")).to_contain_text("username")
    page.locator('#users tr[data-user="thu"] button.danger').click()
    expect(page.locator('#users tr[data-user="thu"]')).to_contain_text("Đã khóa")
    assert thu.get("/api/auth/me").status_code == 401

    page.click('#tabs button[data-tab="devices"]')
    page.fill("#dev-name", "Máy bảng quầy 2")
    page.select_option("#dev-kind", "rating")
    page.fill("#dev-counter", "2")
    page.click("#create-device")
    token = page.locator("#new-token").inner_text()
    assert token.startswith("rating_")
    assert live.client().get(f"/rate/2?token={token}").status_code == 200
    page.on("dialog", lambda d: d.accept())
    page.locator("#devices tr", has_text="Máy bảng quầy 2").locator("button.danger").click()
    expect(page.locator("#devices tr", has_text="Máy bảng quầy 2")).to_contain_text("Đã thu hồi")
    assert live.client().get(f"/rate/2?token={token}").status_code == 401
    assert token not in page.content()  # the token was shown once only
    page.reload()
    page.click('#tabs button[data-tab="devices"]')
    expect(page.locator("#devices")).to_contain_text("Máy bảng quầy 2")
    assert token not in page.content()


def test_display_printer_and_audit_tabs(live, page):
    admin_page(page, live, "display")
    has_display_api = live.login("admin").get("/api/display/settings").status_code == 200
    if has_display_api:
        page.fill("#notice", "Hôm nay tiếp dân đến 17:00")
        page.click("#save-display")
        expect(page.locator("#msg")).to_contain_text("Đã lưu")
        assert live.client().get("/api/board").json()["notice"] == "Hôm nay tiếp dân đến 17:00"
    else:
        expect(page.locator("#display-missing")).to_be_visible()
    page.click('#tabs button[data-tab="printer"]')
    expect(page.locator("#printer-status")).to_be_visible()
    page.click('#tabs button[data-tab="audit"]')
    expect(page.locator("#audit")).to_contain_text("login")


def test_admin_page_refuses_a_clerk(live, page):
    page.goto(f"{live.base_url}/admin")
    page.fill("#username", "lan")
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    expect(page.locator("#login-msg")).to_contain_text("không có quyền quản trị")
    expect(page.locator("#view-app")).to_be_hidden()


def test_admin_pairs_a_display_by_its_code(live, page):
    tv = live.client()
    start = tv.post("/api/display/pairing", json={}).json()
    admin_page(page, live, "devices")
    page.fill("#pair-code", "123")
    page.click("#pair-display")
    expect(page.locator("#msg")).to_contain_text("6 chữ số")
    page.fill("#pair-code", start["code"])
    page.fill("#pair-name", "TV phòng chờ tầng 1")
    page.click("#pair-display")
    expect(page.locator("#msg")).to_contain_text("Đã ghép nối màn hình “TV phòng chờ tầng 1”")
    expect(page.locator("#devices tr", has_text="TV phòng chờ tầng 1")).to_contain_text("display")
    got = tv.get(f"/api/display/pairing/{start['poll_id']}").json()
    assert got["status"] == "paired" and got["token"] not in page.content()


def test_times_are_shown_in_the_site_time_zone(live, browser):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    admin = live.login("admin")
    r = admin.post("/api/admin/devices", json={"name": "Kiosk giờ Hà Nội", "kind": "kiosk"})
    assert r.status_code == 201, r.text
    created = r.json()["device"]["created_at"]
    at = datetime.fromtimestamp(created / 1000, ZoneInfo("Asia/Ho_Chi_Minh"))
    berlin = datetime.fromtimestamp(created / 1000, ZoneInfo("Europe/Berlin"))
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="vi-VN", timezone_id="Europe/Berlin")
    try:
        page = ctx.new_page()
        admin_page(page, live, "devices")
        cell = page.locator("#devices tr", has_text="Kiosk giờ Hà Nội").locator("td").nth(3)
        expect(cell).to_contain_text(at.strftime("%H:%M:%S"))
        expect(cell).to_contain_text(at.strftime("%d/%m/%Y"))
        assert berlin.strftime("%H:%M:%S") not in cell.inner_text()
        page.click('#tabs button[data-tab="audit"]')
        row = page.locator("#audit tr", has_text="device_create").first
        expect(row).to_contain_text(at.strftime("%d/%m/%Y"))
    finally:
        ctx.close()


def test_no_null_text_distinct_labels_and_labels_tied_to_inputs(live, page):
    """Issue #13 item 11."""
    from tests.browser import artifact

    admin_page(page, live, "display")
    expect(page.locator("#panel h2").first).to_be_visible()
    page.wait_for_timeout(300)
    assert "null" not in page.locator("#panel").inner_text()
    page.screenshot(path=str(artifact("admin_display.png")), full_page=True)
    page.click('#tabs button[data-tab="categories"]')
    heads = page.locator("#categories thead th")
    expect(heads.nth(4)).to_have_text("Chờ mục tiêu (phút)")
    # every category input is named for assistive technology, by column and code
    cat = live.login("admin").get("/api/admin/config").json()["config"]["categories"][0]
    expect(page.get_by_label(f"Chờ mục tiêu (phút) – {cat['code']}")).to_have_value(f"{cat['target_wait_min']:g}")
    page.screenshot(path=str(artifact("admin_categories.png")), full_page=True)
    page.click('#tabs button[data-tab="audit"]')
    expect(page.locator("#audit thead th").nth(3)).to_have_text("Đối tượng")
    page.click('#tabs button[data-tab="general"]')
    expect(page.get_by_label("Tên đơn vị", exact=True)).to_have_attribute("id", "site-name")
    expect(page.get_by_label("Số ghế chờ")).to_have_attribute("id", "site-seats")


def test_devices_show_their_state_and_the_printer_tab_speaks_words(live, page):
    """Issue #13 item 12."""
    from tests.browser import artifact

    admin = live.login("admin")
    r = admin.post("/api/admin/devices", json={"name": "Kiosk sảnh B", "kind": "kiosk"})
    dev, token = r.json()["device"], r.json()["token"]
    listed = {d["id"]: d for d in admin.get("/api/admin/devices").json()["devices"]}
    assert listed[dev["id"]]["last_seen_at"] is None and listed[dev["id"]]["state"] == "never"
    live.client(headers={"Authorization": f"Bearer {token}"}).post("/api/tickets", json={"category": "HT"})
    listed = {d["id"]: d for d in admin.get("/api/admin/devices").json()["devices"]}
    assert listed[dev["id"]]["state"] == "online" and listed[dev["id"]]["last_seen_at"] > 0
    live.client(headers={"Authorization": f"Bearer {token}"}).post("/api/tickets", json={"category": "HT"})
    again = {d["id"]: d for d in admin.get("/api/admin/devices").json()["devices"]}
    assert again[dev["id"]]["last_seen_at"] == listed[dev["id"]]["last_seen_at"]  # written at most once a minute

    admin_page(page, live, "devices")
    row = page.locator("#devices tr", has_text="Kiosk sảnh B")
    expect(row.locator("td.state")).to_have_text("Đang hoạt động")
    expect(row.locator("td.seen")).to_contain_text("/")  # a date and time in the site's zone
    page.screenshot(path=str(artifact("admin_devices.png")), full_page=True)

    page.click('#tabs button[data-tab="printer"]')
    box = page.locator("#printer-status")
    expect(box).to_contain_text("Máy in")
    expect(box).to_contain_text("Phiếu đang chờ in")
    assert "{" not in box.inner_text() and '"status"' not in box.inner_text()
    page.screenshot(path=str(artifact("admin_printer.png")), full_page=True)


def test_saving_the_categories_tab_keeps_their_appointment_fields(live, page):
    admin = live.login("admin")
    before = {c["code"]: c for c in admin.get("/api/admin/config").json()["config"]["categories"]}
    assert before["HT"]["appointment_capacity"] == 2 and before["CT"]["last_slot"] == "15:00"
    admin_page(page, live, "categories")
    page.locator('#categories tr[data-code="HT"] input[name="name_en"]').fill("Civil registration")
    page.click("#save-categories")
    expect(page.locator("#msg")).to_contain_text("Đã lưu")
    after = {c["code"]: c for c in admin.get("/api/admin/config").json()["config"]["categories"]}
    assert after["HT"]["name_en"] == "Civil registration"
    assert after["HT"]["appointment_capacity"] == 2 and after["CT"]["last_slot"] == "15:00"


def test_saving_the_categories_keeps_their_procedures(live, page):
    """Issue #13 item 4: the categories tab does not edit the kiosk's common
    procedures, and saving it must not wipe them."""
    before = live.client().get("/api/categories").json()["categories"]
    admin_page(page, live, "categories")
    page.locator('#categories tr[data-code="CT"] input[name="name_en"]').fill("Certifications")
    page.click("#save-categories")
    expect(page.locator("#msg")).to_contain_text("Đã lưu")
    after = {c["code"]: c for c in live.client().get("/api/categories").json()["categories"]}
    assert after["CT"]["name_en"] == "Certifications"
    for c in before:
        assert after[c["code"]]["procedures"] == c["procedures"], c["code"]
    assert after["HT"]["procedures"][0]["name"] == "Đăng ký khai sinh"
