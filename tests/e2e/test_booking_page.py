"""The booking page /book on a phone (360×740) in Chromium (issue #10):
category → day (a closed day shown closed) → slot (places left, a full slot
disabled) → name, phone and consent → the code, its QR, the .ics and the
manage link; errors in Vietnamese next to the field; one Idempotency-Key per
confirm press, sent again on a retry. Then the holder's page: move, cancel."""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from queue_server.domain.appointments import CODE_ALPHABET
from queue_server.domain.config import WEEKDAYS
from queue_server.redis_server import free_port
from tests.browser import artifact
from tests.e2e.appointment_helpers import SESSIONS, TZ, start_at
from tests.helpers import run_sync, test_config_dict
from tests.server import PASSWORD, ServerHandle, seed_accounts, write_toml

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 360, "height": 740}, "locale": "vi-VN", "timezone_id": "Asia/Ho_Chi_Minh"}


def day(n: int) -> str:
    return (datetime.now(TZ).date() + timedelta(days=n)).isoformat()


@pytest.fixture(scope="module")
def srv(redis_url):
    """Open every day but the day after tomorrow (a closure); HT takes 1 booking a slot."""
    d = test_config_dict()
    for wd in WEEKDAYS:
        d["hours"][wd] = SESSIONS
    d["hours"] |= {"public_holidays": False, "closures": [day(2)]}
    d["appointments"] |= {"enabled": True, "days_ahead": 3}
    for c in d["categories"]:
        if c["code"] == "HT":
            c["appointment_capacity"] = 1
    path = Path(tempfile.mkdtemp(prefix="motcua-site-")) / "site.toml"
    write_toml(d, path)
    handle = ServerHandle(redis_url=redis_url, site_id=d["site"]["id"], config_path=path, port=free_port())
    handle.tokens = run_sync(seed_accounts(redis_url, handle.site_id))
    handle.start()
    yield handle
    handle.close()


def book_api(srv, hhmm: str, phone: str = "0987 654 321", when: str | None = None):
    r = srv.client().post(
        "/api/appointments",
        json={"category": "HT", "start": start_at(when or day(1), hhmm), "name": "Người Khác", "phone": phone},
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_book_on_a_phone_then_move_and_cancel(srv, browser):
    book_api(srv, "08:00")  # a full slot
    ctx = browser.new_context(**PHONE)
    page = ctx.new_page()
    posts: list[dict] = []
    lost = {"n": 0}

    def on_post(route, request):
        posts.append(dict(request.headers))
        body = request.post_data_json or {}
        if body.get("phone") == "0912 345 678" and lost["n"] == 0:
            lost["n"] = 1
            route.abort("connectionreset")  # the first good press gets no answer
        else:
            route.continue_()

    page.route("**/api/appointments?*", on_post)
    try:
        page.goto(f"{srv.base_url}/book")
        page.wait_for_selector("body[data-ready='1'][data-step='cat']")
        assert page.inner_text("#site-name") and page.get_attribute("html", "lang") == "vi"
        page.screenshot(path=str(artifact("book_1_category.png")))
        page.click("#cats button[data-code='HT']")
        page.wait_for_selector("body[data-step='day']")
        days = page.locator("#days button")
        assert days.count() == 4  # today + days_ahead
        closed = page.locator(f"#days button[data-date='{day(2)}']")
        assert closed.is_disabled() and "Nghỉ" in closed.inner_text()
        assert "Hôm nay" in page.inner_text(f"#days button[data-date='{day(0)}']")
        page.screenshot(path=str(artifact("book_2_day.png")))
        page.click(f"#days button[data-date='{day(1)}']")
        page.wait_for_selector("body[data-step='slot']")
        full = page.locator(f"#slots button[data-start='{start_at(day(1), '08:00')}']")
        assert full.is_disabled() and "Hết chỗ" in full.inner_text()
        free = page.locator(f"#slots button[data-start='{start_at(day(1), '08:15')}']")
        assert free.is_enabled() and "còn 1 chỗ" in free.inner_text()
        page.screenshot(path=str(artifact("book_3_slot.png")))
        free.click()
        page.wait_for_selector("body[data-step='info']")
        assert "08:15" in page.inner_text("#summary")
        # nothing filled in: each field says what is missing, nothing is sent
        page.click("#confirm")
        assert "Vui lòng nhập họ và tên." in page.inner_text("#err-name")
        assert "Vui lòng nhập số điện thoại" in page.inner_text("#err-phone")
        assert "đồng ý" in page.inner_text("#err-consent")
        assert posts == []
        assert page.get_attribute("#privacy-link", "href") == "/book/privacy"
        page.fill("#name", "Nguyễn Thị Hồng")
        page.fill("#phone", "0123")
        page.check("#consent")
        page.click("#confirm")
        page.wait_for_function("document.getElementById('err-phone').textContent.length > 0")
        assert "Số điện thoại không hợp lệ" in page.inner_text("#err-phone")
        assert page.inner_text("#err-name") == ""
        page.screenshot(path=str(artifact("book_4_details_error.png")))
        # a good number; the answer is lost, the second press sends the same key
        page.fill("#phone", "0912 345 678")
        page.click("#confirm")
        page.wait_for_function("document.getElementById('err-form').textContent.includes('Mất kết nối')")
        page.click("#confirm")
        page.wait_for_selector("body[data-step='done']")
        keys = [h.get("idempotency-key") for h in posts]
        assert len(keys) == 3 and all(keys) and keys[1] == keys[2] and keys[0] != keys[1], keys
        code = page.inner_text("#code")
        assert len(code) == 6 and set(code) <= set(CODE_ALPHABET)
        assert float(page.evaluate("parseFloat(getComputedStyle(document.getElementById('code')).fontSize)")) >= 36
        page.wait_for_function("document.getElementById('qr').naturalWidth > 0")
        ics = page.get_attribute("#ics", "href")
        manage = page.get_attribute("#manage", "href")
        assert "/calendar.ics?token=" in ics and "/book/manage/" in manage
        page.screenshot(path=str(artifact("book_5_done.png")), full_page=True)
        staff = srv.login("sup").get("/api/appointments", params={"date": day(1)}).json()["appointments"]
        mine = [a for a in staff if a["code"] == code]
        assert len(mine) == 1 and mine[0]["start"] == start_at(day(1), "08:15")  # booked once

        # the holder's page (manage_url points at the public_url; open it on this server)
        token = parse_qs(urlsplit(manage).query)["token"][0]
        path = urlsplit(manage).path
        page.goto(f"{srv.base_url}{path}?token={token}")
        page.wait_for_selector("body[data-step='manage'][data-status='booked']")
        assert page.inner_text("#m-code") == code
        facts = page.inner_text("#m-facts")
        assert "Nguyễn Thị Hồng" in facts and "09xx xxx 678" in facts and "912345678" not in facts
        page.screenshot(path=str(artifact("book_6_manage.png")), full_page=True)
        page.click("#m-move")
        page.click(f"#days button[data-date='{day(1)}']")
        page.wait_for_selector("body[data-step='slot']")
        page.click(f"#slots button[data-start='{start_at(day(1), '09:00')}']")
        page.wait_for_selector("#m-ok:not(.hidden)")
        assert "Đã đổi giờ hẹn" in page.inner_text("#m-ok") and "09:00" in page.inner_text("#m-facts")
        page.click("#m-cancel")
        page.click("#m-cancel-yes")
        page.wait_for_selector("body[data-status='cancelled']")
        assert "Đã hủy" in page.inner_text("#m-facts") and page.is_hidden("#m-actions")
        a = srv.client().get(f"/api/appointments/{path.rsplit('/', 1)[1]}", params={"token": token}).json()
        assert (a["status"], a["start"]) == ("cancelled", start_at(day(1), "09:00"))
        # English, one click away
        page.click("#lang")
        assert "Cancelled" in page.inner_text("#m-facts") and page.get_attribute("html", "lang") == "en"
    finally:
        ctx.close()


def test_a_slot_taken_meanwhile_and_the_english_page(srv, browser):
    ctx = browser.new_context(**PHONE)
    page = ctx.new_page()
    try:
        page.goto(f"{srv.base_url}/book?lang=en")
        page.wait_for_selector("body[data-ready='1'][data-step='cat']")
        assert "Civil status" in page.inner_text("#cats")
        page.click("#lang")  # and back to Vietnamese
        page.click("#cats button[data-code='HT']")
        page.click(f"#days button[data-date='{day(3)}']")
        page.click(f"#slots button[data-start='{start_at(day(3), '10:00')}']")
        page.fill("#name", "Trần Văn Bình")
        page.fill("#phone", "0903 111 222")
        page.check("#consent")
        book_api(srv, "10:00", when=day(3))  # someone else takes it first
        page.click("#confirm")
        page.wait_for_function("document.getElementById('err-slot').textContent.length > 0")
        assert document_step(page) == "slot"
        assert "Khung giờ này đã hết chỗ" in page.inner_text("#err-slot")
        assert page.locator(f"#slots button[data-start='{start_at(day(3), '10:00')}']").is_disabled()
        # the same phone already holds its 2 bookings of the day: said next to the phone number
        for hhmm in ("14:00", "14:15"):
            book_api(srv, hhmm, phone="0903 111 222", when=day(3))
        page.click(f"#slots button[data-start='{start_at(day(3), '10:15')}']")
        assert page.input_value("#phone") == "0903 111 222"  # kept from before
        page.click("#confirm")
        page.wait_for_function("document.getElementById('err-phone').textContent.length > 0")
        assert "đã đặt đủ 2 lịch hẹn" in page.inner_text("#err-phone") and page.inner_text("#err-form") == ""
    finally:
        ctx.close()


def document_step(page) -> str:
    return page.get_attribute("body", "data-step")


def test_pages_answer_bad_input_with_a_vietnamese_page(srv):
    c = srv.client()
    for url in ("/book/manage/nope?token=x", "/book/manage/nope", "/book/qr/OOOOOO", "/book/qr/" + "A" * 300):
        r = c.get(url)
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html"), (url, r.status_code)
        assert "<h1" in r.text
    r = c.get("/book/privacy")
    assert r.status_code == 200 and "13/2023/NĐ-CP" in r.text
    assert "13/2023/ND-CP" in c.get("/book/privacy?lang=en").text
    svg = c.get("/book/qr/abc-def")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")


def test_the_text_on_personal_data_is_configurable(srv, browser):
    admin = srv.login("admin")
    appts = admin.get("/api/admin/config").json()["config"]["appointments"]
    ctx = browser.new_context(viewport={"width": 1100, "height": 900}, locale="vi-VN")
    page = ctx.new_page()
    try:  # Admin › Đơn vị & giờ làm việc keeps the text and the retention
        page.goto(f"{srv.base_url}/admin")
        page.fill("#username", "admin")
        page.fill("#password", PASSWORD)
        page.click("#login-form button[type=submit]")
        page.click('#tabs button[data-tab="general"]')
        assert "13/2023" in page.get_attribute("#appt-privacy", "placeholder")
        assert page.input_value("#appt-keep-days") == str(appts["keep_personal_days"])
        page.fill("#appt-privacy", "Văn bản riêng của xã.\n\nĐoạn hai.")
        page.fill("#appt-privacy-en", "Our own text.")
        page.fill("#appt-keep-days", "20")
        page.click("#save-general")
        page.wait_for_function("document.getElementById('msg').textContent.includes('Đã lưu')")
    finally:
        ctx.close()
    saved = admin.get("/api/admin/config").json()["config"]["appointments"]
    assert saved["keep_personal_days"] == 20 and saved["enabled"] is True
    try:
        c = srv.client()
        vi = c.get("/book/privacy").text
        assert "<p>Văn bản riêng của xã.</p><p>Đoạn hai.</p>" in vi and "13/2023" not in vi
        assert "Our own text." in c.get("/book/privacy?lang=en").text
    finally:
        assert admin.put("/api/admin/config", json={"appointments": appts}).status_code == 200


def test_the_supervisors_list_of_a_day_prints(srv, browser):
    when = day(3)
    first = book_api(srv, "13:30", phone="0911 000 111", when=when)
    second = book_api(srv, "07:45", phone="0911 000 222", when=when)
    ctx = browser.new_context(viewport={"width": 1100, "height": 700}, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    page = ctx.new_page()
    try:
        page.goto(f"{srv.base_url}/appointments?date={when}")
        page.fill("#username", "sup")
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_selector(f"body[data-loaded='{when}']")
        rows = page.locator("#list tbody tr")
        codes = rows.evaluate_all("rs => rs.map(r => r.dataset.code)")
        assert codes[:1] == [second["code"]] and first["code"] in codes  # in slot order
        row = page.locator(f"#list tr[data-code='{first['code']}']")
        assert row.locator("td.time").inner_text() == "13:30"
        assert row.locator("td.name").inner_text() == "Người Khác"
        assert row.locator("td.phone").inner_text() == "09xx xxx 111"
        assert "Đã đặt" in row.inner_text()
        page.on("dialog", lambda d: d.accept())
        row.locator("button[data-action='cancel']").click()
        page.wait_for_selector(f"#list tr[data-code='{first['code']}'][data-status='cancelled']")
        assert "Đã hủy" in page.inner_text(f"#list tr[data-code='{first['code']}']")
        assert "0911000111" not in page.content() and "911000111" not in page.content()
        page.screenshot(path=str(artifact("supervisor_appointments.png")), full_page=True)
        page.emulate_media(media="print")
        assert page.is_hidden("header.bar") and page.is_hidden("#btn-print") and page.is_visible("#print-head")
        assert when[8:10] + "/" + when[5:7] in page.inner_text("#print-title")
        page.screenshot(path=str(artifact("supervisor_appointments_print.png")), full_page=True)
    finally:
        ctx.close()
