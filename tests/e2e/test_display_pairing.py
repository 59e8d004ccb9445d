"""Pairing a TV by code instead of typing its token: the API flow over
real HTTP, then the pairing page in headless Chromium, which keeps the
token it receives and opens the board (again after a reload)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from websockets.sync.client import connect


def test_pairing_flow_gives_a_working_display_token_once(live):
    tv = live.client()
    r = tv.post("/api/display/pairing", json={})
    assert r.status_code == 201, r.text
    code, poll_id = r.json()["code"], r.json()["poll_id"]
    assert tv.get(f"/api/display/pairing/{poll_id}").json() == {"status": "waiting"}

    admin = live.login("admin")
    bad = admin.post("/api/admin/display-pairing", json={"code": "12a456"})
    assert bad.status_code == 400 and bad.json()["details"]["problems"][0]["field"] == "code"
    wrong = "000000" if code != "000000" else "999999"
    miss = admin.post("/api/admin/display-pairing", json={"code": wrong})
    assert miss.status_code == 404 and wrong in miss.json()["message"]
    assert live.login("minh").post("/api/admin/display-pairing", json={"code": code}).status_code == 403
    no_csrf = live.login("admin")
    no_csrf.headers.pop("X-CSRF-Token")
    assert no_csrf.post("/api/admin/display-pairing", json={"code": code}).status_code == 403

    ok = admin.post("/api/admin/display-pairing", json={"code": f"{code[:3]} {code[3:]}", "name": "TV phòng chờ"})
    assert ok.status_code == 201, ok.text
    assert ok.json()["device"]["kind"] == "display" and ok.json()["device"]["name"] == "TV phòng chờ"
    assert "token" not in ok.json()  # the admin never sees it
    again = admin.post("/api/admin/display-pairing", json={"code": code})
    assert again.status_code == 404  # a code works once

    got = tv.get(f"/api/display/pairing/{poll_id}").json()
    assert got["status"] == "paired" and got["token"].startswith("display_")
    assert tv.get(f"/api/display/pairing/{poll_id}").status_code == 404  # the token is handed out once
    token = got["token"]
    assert live.client().get(f"/display?token={token}").text.count("board.js") == 1
    with connect(f"{live.ws_url}/ws/board?token={token}", open_timeout=10) as ws:
        assert '"snapshot"' in ws.recv(timeout=5)
    audit = admin.get("/api/admin/audit").json()["entries"]
    assert any(e["action"] == "device_pair" for e in audit)


@pytest.mark.browser
def test_tv_shows_a_code_and_opens_the_board_once_paired(live, browser):
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    try:
        pg.goto(f"{live.base_url}/display")
        expect(pg.locator("#pair-title")).to_have_text("Ghép nối màn hình")
        expect(pg.locator("#pair-code")).to_have_text(re.compile(r"^\d{3} \d{3}$"), timeout=5000)
        expect(pg.locator("#pair-status")).to_have_text("Đang chờ quản trị viên nhập mã…")
        code = pg.locator("#pair-code").inner_text().replace(" ", "")
        r = live.login("admin").post("/api/admin/display-pairing", json={"code": code, "name": "TV tầng 1"})
        assert r.status_code == 201, r.text
        pg.wait_for_url(re.compile(r"/display\?token=display_"), timeout=8000)
        expect(pg.locator("#board")).to_have_attribute("data-state", "online", timeout=8000)
        # after a reboot the TV opens plain /display: it goes straight to the board
        pg.goto(f"{live.base_url}/display")
        pg.wait_for_url(re.compile(r"/display\?token=display_"), timeout=8000)
        expect(pg.locator("#board")).to_have_attribute("data-state", "online", timeout=8000)
        # revoked: the kept token is dropped and a new code is shown
        dev = [d for d in live.login("admin").get("/api/admin/devices").json()["devices"] if d["name"] == "TV tầng 1"][
            0
        ]
        assert live.login("admin").post(f"/api/admin/devices/{dev['id']}/revoke").status_code == 200
        pg.goto(f"{live.base_url}/display")
        expect(pg.locator("#pair-code")).to_have_text(re.compile(r"^\d{3} \d{3}$"), timeout=8000)
        assert pg.evaluate("localStorage.getItem('motcua.display.token')") is None
        assert errors == []
    finally:
        ctx.close()
