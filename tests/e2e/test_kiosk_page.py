"""The kiosk in headless Chromium: touch a category, see the number and QR;
a double tap issues one ticket; the printer being down keeps the ticket."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser import artifact
from tests.e2e.print_agent_helpers import start_agent, stop_agent, wait_for

pytestmark = pytest.mark.browser


def _open_kiosk(page, server):
    page.goto(f"{server.base_url}/kiosk?token={server.tokens['kiosk']}")
    page.wait_for_selector("body[data-ready='1']", timeout=10_000)
    page.wait_for_selector("button.cat[data-code='HT']")


def _count_tickets(server, prefix: str) -> list[str]:
    staff = server.login("admin")
    found = []
    for i in range(1, 6):
        n = f"{prefix}{i:03d}"
        if staff.get("/api/tickets", params={"number": n}).status_code == 200:
            found.append(n)
    return found


def test_kiosk_issues_and_prints(live, page):
    out = Path(tempfile.mkdtemp(prefix="motcua-kiosk-print-"))
    agent = start_agent(live, f"virtual:{out}")
    try:
        wait_for(
            lambda: live.device("kiosk").get("/api/printer/status").json()["status"] == "online",
            timeout=15,
            what="printer online",
        )
        _open_kiosk(page, live)
        assert "Hộ tịch" in page.inner_text("#cats")
        assert page.is_visible("#appt-btn")
        page.click("button.cat[data-code='HT']")
        page.wait_for_selector("#result:not(.hidden)")
        assert page.inner_text("#r-number") == "A001"
        assert "Số người đang chờ trước bạn: 0" in page.inner_text("#r-info")
        page.wait_for_function("document.getElementById('r-qr').naturalWidth > 0")
        page.wait_for_selector("#r-print[data-state='ok']", timeout=10_000)
        tid = page.get_attribute("#result", "data-ticket")
        assert (out / f"{tid}.bin").exists() and (out / f"{tid}.png").exists()
        # the kiosk goes back to the start screen after ~10 s; "Xong" does it at once
        page.click("#done")
        page.wait_for_selector("#start:not(.hidden)")
    finally:
        stop_agent(agent)


def test_double_tap_issues_one_ticket(live, page):
    _open_kiosk(page, live)
    page.dblclick("button.cat[data-code='CT']")
    page.wait_for_selector("#result:not(.hidden)")
    assert page.inner_text("#r-number") == "B001"
    # two synchronous taps, faster than any human
    page.click("#done")
    page.wait_for_selector("#start:not(.hidden)")
    page.evaluate("() => { const b = document.querySelector(\"button.cat[data-code='CT']\"); b.click(); b.click(); }")
    page.wait_for_selector("#result:not(.hidden)")
    assert page.inner_text("#r-number") == "B002"
    page.wait_for_timeout(500)
    assert _count_tickets(live, "B") == ["B001", "B002"]


def test_printer_down_shows_number_to_photograph(live, page):
    # no print agent connected: the printer counts as offline
    _open_kiosk(page, live)
    # the kiosk asks for the printer's status after it is ready, without blocking on it
    expect(page.locator("#printer-banner")).to_be_visible(timeout=5000)
    page.click("button.cat[data-code='DD']")
    page.wait_for_selector("#result:not(.hidden)")
    assert page.inner_text("#r-number") == "C001"
    page.wait_for_selector("#r-print[data-state='err']")
    assert "Máy in đang lỗi – vui lòng chụp lại số này" in page.inner_text("#r-print")
    page.wait_for_function("document.getElementById('r-qr').naturalWidth > 0")
    tid = page.get_attribute("#result", "data-ticket")
    assert live.client().get(f"/api/tickets/{tid}").json()["status"] == "waiting"


def test_kiosk_locked_outside_hours(redis_url, browser):
    from tests.server import make_server

    srv = make_server(
        redis_url,
        hours__enforce=True,
        hours__mon=[],
        hours__tue=[],
        hours__wed=[],
        hours__thu=[],
        hours__fri=[],
        hours__sat=[],
        hours__sun=["07:30-11:30"],
    ).start()
    ctx = browser.new_context(locale="vi-VN")
    try:
        page = ctx.new_page()
        page.goto(f"{srv.base_url}/kiosk?token={srv.tokens['kiosk']}")
        page.wait_for_selector("#locked:not(.hidden)", timeout=10_000)
        text = page.inner_text("#locked")
        assert "Ngoài giờ làm việc" in text and "07:30 Chủ Nhật" in text
        page.screenshot(path=str(artifact("kiosk_locked.png")))
        _assert_fits(page.evaluate(_MEASURE), "locked")
        assert page.evaluate("parseFloat(getComputedStyle(document.querySelector('#locked h2')).fontSize)") >= 40
    finally:
        ctx.close()
        srv.close()


def test_kiosk_seats_full_points_to_qr(redis_url, browser):
    from tests.server import make_server

    srv = make_server(redis_url, site__seats=2).start()
    ctx = browser.new_context(locale="vi-VN")
    try:
        k = srv.device("kiosk")
        for _ in range(2):
            assert k.post("/api/tickets", json={"category": "HT"}).status_code == 201
        page = ctx.new_page()
        page.goto(f"{srv.base_url}/kiosk?token={srv.tokens['kiosk']}")
        page.wait_for_selector("#full-banner:not(.hidden)", timeout=10_000)
        assert "hết chỗ ngồi" in page.inner_text("#full-banner") and "QR" in page.inner_text("#full-banner")
    finally:
        ctx.close()
        srv.close()


def test_kiosk_needs_a_kiosk_token(live):
    c = live.client()
    assert c.get("/kiosk").status_code == 401
    assert c.get(f"/kiosk?token={live.tokens['display']}").status_code == 401
    r = c.get(f"/kiosk?token={live.tokens['kiosk']}")
    assert r.status_code == 200 and "Lấy số thứ tự" in r.text


def test_priority_appointment_english_and_return_to_start(live, page):
    page.clock.install()
    _open_kiosk(page, live)
    # the appointment entry opens the check-in screen (tests/e2e/test_kiosk_checkin.py)
    page.click("#appt-btn")
    page.wait_for_selector("#appt:not(.hidden)")
    assert "lịch hẹn" in page.inner_text("#appt").lower()
    page.click("#appt-back")
    page.wait_for_selector("#start:not(.hidden)")
    # priority (enabled in the default config) gives a priority ticket
    assert "Ưu tiên: người cao tuổi" in page.inner_text("#priority")
    page.click("#priority")
    assert page.get_attribute("#priority", "aria-pressed") == "true"
    page.click("button.cat[data-code='KD']")
    page.wait_for_selector("#result:not(.hidden)")
    tid = page.get_attribute("#result", "data-ticket")
    staff = live.login("admin")
    assert staff.get("/api/tickets", params={"number": page.inner_text("#r-number")}).json()["priority"] is True
    assert tid
    # back to the start by itself after about 10 seconds, priority switched off again
    page.clock.fast_forward(5_000)
    assert page.is_visible("#result")
    page.clock.fast_forward(6_000)
    page.wait_for_selector("#start:not(.hidden)")
    assert page.get_attribute("#priority", "aria-pressed") == "false"
    # English
    page.click("#lang")
    page.wait_for_function(
        "document.querySelector(\"button.cat[data-code='HT']\").textContent.includes('Civil status')"
    )
    assert "I have an appointment" in page.inner_text("#appt-btn")


def test_kiosk_shows_a_range_while_the_estimate_is_unsure(live, page):
    kiosk = live.device("kiosk")
    for _ in range(3):
        assert kiosk.post("/api/tickets", json={"category": "HT"}).status_code == 201
    _open_kiosk(page, live)
    page.click("button.cat[data-code='HT']")
    page.wait_for_selector("#result:not(.hidden)")
    info = page.inner_text("#r-info")
    assert "Số người đang chờ trước bạn: 3" in info
    # no HT service finished yet today: a range, not one number
    tid = page.get_attribute("#result", "data-ticket")
    lo, hi = live.client().get(f"/api/tickets/{tid}").json()["eta_range"]
    assert lo < hi and f"Thời gian chờ dự kiến: khoảng {lo}–{hi} phút" in info
    page.screenshot(path=str(artifact("kiosk-eta-range.png")))


def _cats_text(page) -> str:
    return page.inner_text("button.cat[data-code='HT']")


def test_language_and_priority_reset_when_idle_and_after_a_ticket(live, page):
    """Issue #13: English or "Ưu tiên" stayed on for the next person."""
    page.clock.install()
    _open_kiosk(page, live)
    page.click("#lang")
    page.wait_for_function(
        "document.querySelector(\"button.cat[data-code='HT']\").textContent.includes('Civil status')"
    )
    page.click("#priority")
    assert page.get_attribute("#priority", "aria-pressed") == "true"
    page.screenshot(path=str(artifact("kiosk_english_priority.png")))
    # someone still choosing keeps their choices: 40 s since the last tap
    page.clock.fast_forward(30_000)
    page.mouse.move(10, 300)
    page.mouse.down()
    page.mouse.up()
    page.clock.fast_forward(40_000)
    assert "Civil status" in _cats_text(page)
    assert page.get_attribute("#priority", "aria-pressed") == "true"
    # walked away: back to Vietnamese, priority off
    page.clock.fast_forward(25_000)
    page.wait_for_function("document.querySelector(\"button.cat[data-code='HT']\").textContent.includes('Hộ tịch')")
    assert page.get_attribute("#priority", "aria-pressed") == "false"
    assert page.inner_text("#lang") == "English"
    assert page.get_attribute("html", "lang") == "vi"
    # after a ticket in English, the next person starts in Vietnamese
    page.click("#lang")
    page.wait_for_function(
        "document.querySelector(\"button.cat[data-code='HT']\").textContent.includes('Civil status')"
    )
    page.click("button.cat[data-code='HT']")
    page.wait_for_selector("#result:not(.hidden)")
    page.click("#done")
    page.wait_for_selector("#start:not(.hidden)")
    page.wait_for_function("document.querySelector(\"button.cat[data-code='HT']\").textContent.includes('Hộ tịch')")
    assert page.inner_text("#lang") == "English"
    page.screenshot(path=str(artifact("kiosk_after_reset.png")))


def test_a_ticket_reported_not_printed_shows_the_photo_message_at_once(live, page):
    """Issue #13: a first print the server dropped (too old) is "not printed":
    the kiosk says so at once instead of "Đang in phiếu…"."""
    out = Path(tempfile.mkdtemp(prefix="motcua-kiosk-print-"))
    agent = start_agent(live, f"virtual:{out}")
    try:
        wait_for(
            lambda: live.device("kiosk").get("/api/printer/status").json()["status"] == "online",
            timeout=15,
            what="printer online",
        )
        status = live.device("kiosk").get("/api/printer/status").json()

        def not_printed(route):
            body = {"state": "not_printed", "reason": "too_old", "attempts": None, "error": "", "printer": status}
            route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

        page.route("**/api/tickets/*/print?*", not_printed)
        _open_kiosk(page, live)
        page.click("button.cat[data-code='HT']")
        page.wait_for_selector("#result:not(.hidden)")
        expect(page.locator("#r-print")).to_have_attribute("data-state", "err", timeout=1500)
        expect(page.locator("#r-print")).to_have_text("Máy in đang lỗi – vui lòng chụp lại số này")
        page.screenshot(path=str(artifact("kiosk_not_printed.png")))
    finally:
        stop_agent(agent)


# -- issue #13 item 4: the kiosk fills a 21–32" screen, portrait or landscape -------------------------
# 15 mm is ~60 px at 21.5" 1080p (0.248 mm/px) and ~41 px at 32"; the layout aims at ≥ 64 CSS px.
MIN_TARGET_PX = 60
SCREENS = {
    "portrait": (1080, 1920),
    "landscape": (1920, 1080),
    "small-portrait": (768, 1366),
    "small-landscape": (1366, 768),
}

# What the start screen looks like, measured in the page: every visible button's box, the
# tiles' union box, each tile's name size and procedures, and whether anything overflows.
_MEASURE = """() => {
  const box = el => { const r = el.getBoundingClientRect(); return {x: r.left, y: r.top, w: r.width, h: r.height,
                                                                    right: r.right, bottom: r.bottom}; };
  const visible = el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0 &&
                                                                      getComputedStyle(el).visibility !== "hidden"; };
  const tiles = [...document.querySelectorAll("#cats button.cat")];
  const b = tiles.map(box);
  const union = b.length ? {top: Math.min(...b.map(r => r.y)), bottom: Math.max(...b.map(r => r.bottom)),
                           left: Math.min(...b.map(r => r.x)), right: Math.max(...b.map(r => r.right))} : null;
  const se = document.scrollingElement;
  return {
    vw: innerWidth, vh: innerHeight,
    scrollHeight: se.scrollHeight, scrollWidth: se.scrollWidth,
    union,
    buttons: [...document.querySelectorAll("button")].filter(visible).map(el => ({id: el.id || el.dataset.code || el.className,
                                                                                   ...box(el)})),
    tiles: tiles.map(t => {
      const name = t.querySelector(".cat-name");
      const tb = box(t);
      const items = [...t.querySelectorAll(".procs li")].filter(visible);
      return {
        code: t.dataset.code, box: tb,
        // text cut off at the tile's edge, or a word wider than its line (overflowing or broken)
        clipped: t.scrollHeight > t.clientHeight + 1 || t.scrollWidth > t.clientWidth + 1 ||
                 [...t.querySelectorAll(".cat-name, .procs li")].some(e => e.scrollWidth > e.clientWidth + 1),
        broken: getComputedStyle(name || t).overflowWrap !== "normal" || getComputedStyle(name || t).wordBreak !== "normal",
        name: name ? name.textContent : null,
        nameSize: name ? parseFloat(getComputedStyle(name).fontSize) : 0,
        nameBox: name ? box(name) : null,
        procs: items.map(li => ({text: li.textContent, box: box(li), size: parseFloat(getComputedStyle(li).fontSize)})),
      };
    }),
  };
}"""


def _kiosk_on(browser, live, screen: str, printer_ok: bool = False):
    """The kiosk on one screen; no print agent runs, so the printer banner shows (the least room
    for the tiles) unless `printer_ok` has the page told the printer is fine."""
    w, h = SCREENS[screen]
    ctx = browser.new_context(viewport={"width": w, "height": h}, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    page = ctx.new_page()
    if printer_ok:
        ok = json.dumps({"ok": True, "status": "online"})
        page.route("**/api/printer/status?*", lambda route: route.fulfill(content_type="application/json", body=ok))
        with page.expect_response(lambda r: "/api/printer/status" in r.url):
            _open_kiosk(page, live)
        expect(page.locator("#printer-banner")).to_be_hidden()
    else:
        _open_kiosk(page, live)
        expect(page.locator("#printer-banner")).to_be_visible()
    return ctx, page


def _assert_fits(m: dict, where: str) -> None:
    assert m["scrollHeight"] <= m["vh"] and m["scrollWidth"] <= m["vw"], (where, "the page scrolls", m)
    for b in m["buttons"]:
        assert b["w"] >= MIN_TARGET_PX and b["h"] >= MIN_TARGET_PX, (where, "touch target too small", b)
        assert b["x"] >= 0 and b["y"] >= 0 and b["right"] <= m["vw"] + 0.5 and b["bottom"] <= m["vh"] + 0.5, (
            where,
            "a button leaves the screen",
            b,
        )


def _assert_start_screen(m: dict, cats: list[dict], screen: str, vietnamese: bool = True, least: float = 48) -> None:
    _assert_fits(m, screen)
    u = m["union"]
    portrait = m["vh"] > m["vw"]
    # the tiles fill the screen: most of its height, nearly all of its width
    assert (u["bottom"] - u["top"]) >= (0.70 if portrait else 0.60) * m["vh"], (screen, u)
    assert (u["right"] - u["left"]) >= 0.90 * m["vw"], (screen, u)
    assert [t["code"] for t in m["tiles"]] == [c["code"] for c in cats]
    for t, c in zip(m["tiles"], cats, strict=True):
        assert not t["clipped"], (screen, "text cut off in the tile", t)
        assert not t["broken"], (screen, "words may be broken", t)
        assert t["name"] == c["name"], t
        # readable from a metre on a 21–32" 1080p screen; a long name may give a little in landscape
        # or among 8 tiles, and a long English word ("Certification") a little more, rather than break
        if min(m["vw"], m["vh"]) >= 1080:
            size = (least if portrait else min(least, 44)) if vietnamese else 40
            assert t["nameSize"] >= size, (screen, t["code"], t["nameSize"])
        # 2–4 of its common procedures, in order, under its name and inside the tile
        shown = [p["text"] for p in t["procs"]]
        assert 2 <= len(shown) <= 4, (screen, t["code"], shown)
        assert shown == [p["name"] for p in c["procedures"]][: len(shown)], (screen, shown)
        for p in t["procs"]:
            assert p["box"]["y"] >= t["nameBox"]["bottom"] - 1, (screen, "procedure above the name", p)
            assert p["box"]["bottom"] <= t["box"]["bottom"] and p["box"]["right"] <= t["box"]["right"] + 0.5, p
            assert p["size"] >= (26 if min(m["vw"], m["vh"]) >= 1080 else 18), (screen, p)


@pytest.mark.parametrize("printer", ["printer-ok", "printer-down"])
@pytest.mark.parametrize("screen", list(SCREENS))
def test_the_tiles_fill_the_screen_with_large_targets_and_procedures(live, browser, screen, printer):
    """Issue #13 item 4: the kiosk used the top 30 % of a portrait screen with ~28 px text."""
    ctx, page = _kiosk_on(browser, live, screen, printer_ok=printer == "printer-ok")
    try:
        cats = live.client().get("/api/categories").json()["categories"]
        shots = printer == "printer-ok"
        if shots:  # looked at by a person, before any assertion can stop the test
            page.screenshot(path=str(artifact(f"kiosk_{screen}.png")))
        _assert_start_screen(page.evaluate(_MEASURE), cats, screen)
        # English: longer words, the same layout
        page.click("#lang")
        page.wait_for_function(
            "document.querySelector(\"button.cat[data-code='HT'] .cat-name\").textContent === 'Civil status'"
        )
        cats_en = live.client().get("/api/categories?lang=en").json()["categories"]
        if shots:
            page.screenshot(path=str(artifact(f"kiosk_{screen}_en.png")))
        _assert_start_screen(page.evaluate(_MEASURE), cats_en, f"{screen} en", vietnamese=False)
    finally:
        ctx.close()


@pytest.mark.parametrize("screen", ["portrait", "landscape", "small-portrait", "small-landscape"])
def test_the_ticket_and_error_screens_are_large(live, browser, screen):
    ctx, page = _kiosk_on(browser, live, screen)
    try:
        big = min(SCREENS[screen]) >= 1080
        # the check-in screen: large words, a large keypad and a large way back
        page.click("#appt-btn")
        page.wait_for_selector("#appt:not(.hidden)")
        page.screenshot(path=str(artifact(f"kiosk_appt_{screen}.png")))
        _assert_fits(page.evaluate(_MEASURE), f"{screen} appointment")
        size = page.evaluate("parseFloat(getComputedStyle(document.getElementById('appt-text')).fontSize)")
        assert size >= (40 if big else 28), size
        page.click("#appt-back")
        page.wait_for_selector("#start:not(.hidden)")
        page.click("button.cat[data-code='XH']")
        page.wait_for_selector("#result:not(.hidden)")
        page.wait_for_function("document.getElementById('r-qr').naturalWidth > 0")
        page.screenshot(path=str(artifact(f"kiosk_ticket_{screen}.png")))
        _assert_fits(page.evaluate(_MEASURE), f"{screen} ticket")
        sizes = page.evaluate(
            """() => { const px = id => { const e = document.getElementById(id); return {
                 size: parseFloat(getComputedStyle(e).fontSize), ...e.getBoundingClientRect().toJSON()}; };
               return {number: px("r-number"), cat: px("r-cat"), info: px("r-info"), qr: px("r-qr")}; }"""
        )
        assert sizes["number"]["size"] >= (160 if big else 110), sizes
        assert sizes["cat"]["size"] >= (44 if big else 30) and sizes["info"]["size"] >= (34 if big else 24), sizes
        assert sizes["qr"]["width"] >= (300 if big else 200), sizes
        page.click("#done")
        page.wait_for_selector("#start:not(.hidden)")
        # a refused ticket: the message is large too
        page.route(
            "**/api/tickets?*",
            lambda route: route.fulfill(
                status=409,
                content_type="application/json",
                body=json.dumps({"error": "site_closed", "message": "Ngoài giờ làm việc, máy lấy số tạm khóa."}),
            ),
        )
        page.click("button.cat[data-code='HT']")
        page.wait_for_selector("#error:not(.hidden)")
        page.screenshot(path=str(artifact(f"kiosk_error_{screen}.png")))
        _assert_fits(page.evaluate(_MEASURE), f"{screen} error")
        size = page.evaluate("parseFloat(getComputedStyle(document.getElementById('error-text')).fontSize)")
        assert size >= (44 if big else 30), size
    finally:
        ctx.close()


_MORE = [
    {
        "code": "TD",
        "prefix": "H",
        "name": "Thi đua – Khen thưởng",
        "name_en": "Emulation and awards",
        "target_wait_min": 20,
        "service_min": 10,
        "procedures": [
            {"name": "Giấy khen của Chủ tịch UBND xã", "name_en": "Commune chairman's certificate of merit"},
            {"name": "Khen thưởng đột xuất", "name_en": "Extraordinary awards"},
        ],
    },
    {
        "code": "GD",
        "prefix": "K",
        "name": "Giáo dục – Đào tạo",
        "name_en": "Education and training",
        "target_wait_min": 20,
        "service_min": 10,
        "procedures": [
            {"name": "Cho phép hoạt động nhóm trẻ", "name_en": "Licensing a childcare group"},
            {"name": "Xét hỗ trợ học tập", "name_en": "Study support"},
        ],
    },
]


@pytest.mark.parametrize("count", [3, 8])
@pytest.mark.parametrize("screen", ["portrait", "landscape"])
def test_the_grid_adapts_to_the_number_of_categories(live, browser, screen, count):
    """3–8 categories are typical: the tiles fill the screen either way."""
    admin = live.login("admin")
    cats = admin.get("/api/admin/config").json()["config"]["categories"]
    cats = (cats + _MORE)[:count]
    counters = [{"number": 1, "categories": [c["code"] for c in cats]}]
    r = admin.put("/api/admin/config", json={"categories": cats, "counters": counters})
    assert r.status_code == 200, r.text
    ctx, page = _kiosk_on(browser, live, screen, printer_ok=True)
    try:
        page.screenshot(path=str(artifact(f"kiosk_{screen}_{count}_categories.png")))
        shown = live.client().get("/api/categories").json()["categories"]
        assert len(shown) == count
        _assert_start_screen(page.evaluate(_MEASURE), shown, f"{screen} {count}", least=48 if count <= 6 else 44)
    finally:
        ctx.close()
