"""The display page in headless Debian Chromium (Playwright) against a real
server: live calls, gap resync, recovery after a server restart, the
announcement queue, live notice updates, English labels, screenshots."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json

import pytest
from playwright.sync_api import expect
from redis.asyncio import Redis

from queue_server.domain.announce import speech
from queue_server.domain.config import parse_config
from tests.browser import artifact
from tests.helpers import make_store, test_config_dict

pytestmark = pytest.mark.browser

# Web Speech and audio replaced by recorders: every chime and utterance is
# logged with its start and end; `overlap` turns true if one starts while
# another is still playing.
MOCK_AUDIO = """
(() => {
  const log = []; let playing = 0; let overlap = false;
  window.__sound = { log, overlapped: () => overlap };
  const begin = (entry, ms, done) => {
    if (playing) overlap = true;
    playing++;
    entry.start = performance.now();
    entry.caption = (document.getElementById('now-text') || {}).textContent || '';
    log.push(entry);
    setTimeout(() => { playing--; entry.end = performance.now(); done(); }, ms);
  };
  const voices = [{ lang: 'vi-VN', name: 'Giọng thử', voiceURI: 'mock-vi', localService: true, default: true }];
  const synth = {
    getVoices: () => voices, speaking: false, pending: false, paused: false,
    speak(u) { begin({ kind: 'speech', text: u.text, lang: u.lang, volume: u.volume }, 400,
                     () => u.onend && u.onend(new Event('end'))); },
    cancel() {}, pause() {}, resume() {}, addEventListener() {}, removeEventListener() {},
  };
  Object.defineProperty(window, 'speechSynthesis', { value: synth, configurable: true });
  window.SpeechSynthesisUtterance = function (text) { this.text = text; };
  HTMLMediaElement.prototype.play = function () {
    begin({ kind: 'audio', src: this.src, volume: this.volume }, 150, () => this.dispatchEvent(new Event('ended')));
    return Promise.resolve();
  };
})();
"""


@pytest.fixture
def board_page(browser):
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.errors = errors
    yield pg
    ctx.close()


def run_async(coro):
    """asyncio.run in a worker thread (Playwright's sync API owns this thread's loop)."""
    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        return ex.submit(asyncio.run, coro).result(30)


def open_board(pg, live, query: str = "") -> None:
    pg.goto(f"{live.base_url}/display?token={live.tokens['display']}{query}")
    pg.wait_for_function("window.motcuaBoard && motcuaBoard.live.online", timeout=10_000)


def counter_number(pg, n: int):
    return pg.locator(f'#counters [data-counter="{n}"] .counter-number')


async def _direct_call(redis_url: str, site_id: str, category: str, counter: int) -> str:
    """Issue and call outside the API process (as an RQ job or a second server would)."""
    store = await make_store(redis_url, parse_config(test_config_dict(site_id=site_id)))
    try:
        t, _ = await store.issue(category)
        res = await store.call_next(counter, clerk="test")
        assert res.ticket.id == t.id
        return t.number
    finally:
        await store.redis.aclose()


def test_board_without_token_shows_pairing(live, page):
    r = live.client().get("/display")
    assert r.status_code == 200 and "Ghép nối màn hình" in r.text and "pair.js" in r.text
    assert "pair.js" in live.client().get("/display?token=wrong").text
    assert live.client().get(f"/display?token={live.tokens['kiosk']}").status_code == 403
    assert live.client().get("/display/static/../routes.py").status_code == 404
    chime = live.client().get("/display/static/chime.wav")
    assert chime.status_code == 200 and chime.content[:4] == b"RIFF"


def test_call_appears_on_counter_3_and_in_recent_calls_within_1s(live, board_page):
    pg = board_page
    kiosk = live.device("kiosk")
    t = kiosk.post("/api/tickets", json={"category": "HT"}).json()
    for cat in ("CT", "DD", "XH", "HT"):
        kiosk.post("/api/tickets", json={"category": cat})
    open_board(pg, live)
    expect(pg.locator("#site-name")).to_have_text("Trung tâm Phục vụ hành chính công xã Ngọc Long")
    expect(counter_number(pg, 3)).to_have_text("—")
    minh = live.login("minh")
    r = minh.post("/api/counters/3/next")
    assert r.status_code == 200
    number = r.json()["ticket"]["number"]
    # within 1 s of the API answer: counter 3 and the recent calls show it
    expect(counter_number(pg, 3)).to_have_text(number, timeout=1000)
    expect(pg.locator("#recent .recent-number").first).to_have_text(number, timeout=1000)
    expect(pg.locator("#now-text")).to_have_text(f"Mời công dân có số {number} đến quầy số 3")
    expect(pg.locator('#counters [data-counter="3"] .counter-cat')).to_have_text("Chứng thực")
    # counter 4 calls too; a paused counter is marked
    live.login("minh").post("/api/counters/4/next")
    live.login("hoa").post("/api/counters/5/pause")
    expect(pg.locator('#counters [data-counter="5"] .counter-badge')).to_have_text("Tạm dừng")
    expect(pg.locator("#recent .recent-item")).to_have_count(2)
    expect(pg.locator("#waiting tr")).to_have_count(6)
    expect(pg.locator("#seats .seats-value")).to_have_text("3/10")
    expect(pg.locator("#seats .seats-label")).to_have_text("Ghế chờ đang dùng")
    expect(pg.locator("#clock-date")).to_contain_text("tháng")
    assert t["number"] != number  # CT goes first at counter 3 (its work profile)
    pg.wait_for_timeout(300)
    pg.screenshot(path=str(artifact("display_board.png")))
    assert not pg.errors


def test_full_room_and_live_notice(live, board_page):
    pg = board_page
    open_board(pg, live)
    expect(pg.locator("#full-banner")).to_be_hidden()
    kiosk = live.device("kiosk")
    for _ in range(10):
        kiosk.post("/api/tickets", json={"category": "HT"})
    expect(pg.locator("#full-banner")).to_contain_text("mã QR trên phiếu")
    expect(pg.locator("#seats .seats-value")).to_have_text("10/10")
    expect(pg.locator("#seats .seats-note")).to_have_text("Đã hết chỗ ngồi")
    r = live.login("admin").put("/api/display/settings", json={"notice": "Chiều thứ Sáu nghỉ họp từ 15:00."})
    assert r.status_code == 200
    expect(pg.locator("#notice")).to_have_text("Chiều thứ Sáu nghỉ họp từ 15:00.", timeout=2000)
    pg.screenshot(path=str(artifact("display_board_full.png")))


def test_english_labels_and_portrait(live, browser):
    ctx = browser.new_context(viewport={"width": 1080, "height": 1920})
    pg = ctx.new_page()
    try:
        open_board(pg, live, "&lang=en")
        expect(pg.locator("[data-t=recent]")).to_have_text("Recent calls")
        expect(pg.locator("#site-name")).to_have_text("Ngoc Long Commune Public Administration Service Centre")
        expect(pg.locator('#counters [data-counter="1"] .counter-name')).to_have_text("Counter 1")
        box = pg.locator('#counters [data-counter="5"]').bounding_box()
        assert box and box["y"] + box["height"] <= 1920 and box["x"] + box["width"] <= 1080
        grid = pg.locator("#counters").bounding_box()
        recent = pg.locator(".panel.recent").bounding_box()
        assert grid["y"] + grid["height"] <= recent["y"]  # stacked, not overlapping
        pg.screenshot(path=str(artifact("display_board_portrait_en.png")))
    finally:
        ctx.close()


def test_gap_in_sequence_triggers_resync(live, board_page):
    pg = board_page
    open_board(pg, live)
    before = pg.evaluate("JSON.parse(JSON.stringify(motcuaBoard.live.stats))")
    last = pg.evaluate("motcuaBoard.live.lastSeq")

    async def publish_gap():
        r = Redis.from_url(live.redis_url)
        try:  # a message whose predecessors were lost on the way
            await r.publish(live.keys.channel, json.dumps({"type": "issue", "seq": last + 4, "number": "Z999"}))
        finally:
            await r.aclose()

    run_async(publish_gap())
    pg.wait_for_function(f"motcuaBoard.live.stats.snapshots >= {before['snapshots'] + 1}", timeout=5000)
    after = pg.evaluate("JSON.parse(JSON.stringify(motcuaBoard.live.stats))")
    assert after["gaps"] == before["gaps"] + 1 and after["resyncs"] == before["resyncs"] + 1
    assert after["events"] == before["events"]  # the bogus event was not applied
    assert pg.evaluate("motcuaBoard.live.lastSeq") == last
    # and the feed carries on normally
    live.device("kiosk").post("/api/tickets", json={"category": "HT"})
    r = live.login("lan").post("/api/counters/1/next")
    expect(counter_number(pg, 1)).to_have_text(r.json()["ticket"]["number"], timeout=2000)


def test_heartbeat_pings_are_answered(live, board_page):
    pg = board_page
    open_board(pg, live, "&hb=200")
    pg.wait_for_function("motcuaBoard.live.stats.pongs >= 3", timeout=5000)
    assert pg.evaluate("motcuaBoard.live.stats.reconnects") == 0


def test_page_recovers_after_server_kill_and_restart(live, board_page):
    pg = board_page
    open_board(pg, live)
    pg.evaluate("window.__sameDocument = true")
    live.kill()
    try:
        pg.wait_for_timeout(3000)
        expect(pg.locator("#offline-banner")).to_be_hidden()  # not before 5 s offline
        expect(pg.locator("#offline-banner")).to_be_visible(timeout=10_000)
        expect(pg.locator("#offline-banner")).to_have_text("Mất kết nối – đang kết nối lại")
        assert pg.evaluate("motcuaBoard.live.stats.bannerAfterMs") >= 5000
        # while the server is down, the desk goes on (another process writes to Redis)
        number = run_async(_direct_call(live.redis_url, live.site_id, "CT", 3))
    finally:
        live.start()
    expect(counter_number(pg, 3)).to_have_text(number, timeout=30_000)
    expect(pg.locator("#offline-banner")).to_be_hidden()
    assert pg.evaluate("window.__sameDocument") is True  # no reload
    delays = pg.evaluate("motcuaBoard.live.stats.delays")
    assert len(delays) >= 3 and delays[-1] > delays[0]  # backing off
    pg.screenshot(path=str(artifact("display_board_after_restart.png")))


def test_announcements_are_queued_in_order_without_overlap(live, browser):
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    ctx.add_init_script(MOCK_AUDIO)
    pg = ctx.new_page()
    try:
        open_board(pg, live)
        kiosk = live.device("kiosk")
        for _ in range(3):
            kiosk.post("/api/tickets", json={"category": "HT"})
        lan, minh = live.login("lan"), live.login("minh")
        calls = []
        for client, n in ((lan, 1), (lan, 2), (minh, 3)):  # three quick calls
            calls.append((client.post(f"/api/counters/{n}/next").json()["ticket"]["number"], n))
        assert [c[0] for c in calls] == ["A001", "A002", "A003"]
        minh.post("/api/counters/3/recall")  # a recall is spoken again
        calls.append(("A003", 3))
        pg.wait_for_function("window.__sound.log.length >= 8", timeout=15_000)
        pg.wait_for_timeout(800)  # nothing more follows
        log = pg.evaluate("window.__sound.log")
        assert len(log) == 8
        assert pg.evaluate("window.__sound.overlapped()") is False
        for a, b in zip(log, log[1:], strict=False):
            assert b["start"] >= a["end"], (a, b)  # strictly one after another
        for i, (number, counter) in enumerate(calls):
            chime, said = log[2 * i], log[2 * i + 1]
            assert chime["kind"] == "audio" and chime["src"].endswith("/display/static/chime.wav")
            assert said["kind"] == "speech" and said["lang"] == "vi-VN"
            # exactly the configured wording on screen, the number spelled out for the voice
            assert said["caption"] == f"Mời công dân có số {number} đến quầy số {counter}"
            assert said["text"] == speech(number, counter)
        assert log[1]["text"] == "Mời công dân có số A không không một đến quầy số một"
    finally:
        ctx.close()


def test_mute_and_volume_apply_live(live, browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 720})
    ctx.add_init_script(MOCK_AUDIO)
    pg = ctx.new_page()
    admin = live.login("admin")
    try:
        open_board(pg, live)
        assert admin.put("/api/display/settings", json={"volume": 30, "reading": "natural"}).status_code == 200
        pg.wait_for_function("motcuaBoard.announcer.settings.volume === 30", timeout=3000)
        live.device("kiosk").post("/api/tickets", json={"category": "HT"})
        live.login("lan").post("/api/counters/1/next")
        pg.wait_for_function("window.__sound.log.length >= 2", timeout=5000)
        log = pg.evaluate("window.__sound.log")
        assert abs(log[0]["volume"] - 0.3) < 1e-6 and abs(log[1]["volume"] - 0.3) < 1e-6
        assert log[1]["text"] == "Mời công dân có số A một đến quầy số một"
        assert admin.put("/api/display/settings", json={"muted": True}).status_code == 200
        pg.wait_for_function("motcuaBoard.announcer.settings.muted === true", timeout=3000)
        live.device("kiosk").post("/api/tickets", json={"category": "HT"})
        live.login("lan").post("/api/counters/1/next")
        expect(pg.locator("#now-text")).to_have_text("Mời công dân có số A002 đến quầy số 1", timeout=3000)
        pg.wait_for_timeout(500)
        assert pg.evaluate("window.__sound.log.length") == 2  # muted: shown, not played
    finally:
        admin.put("/api/display/settings", json={"muted": False, "volume": 100, "reading": "digits"})
        ctx.close()


def test_without_a_vietnamese_browser_voice_the_server_voice_is_played(live, browser):
    """No vi-VN voice in the browser: after the chime the page plays the
    server's offline espeak-ng audio for the same phrase."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 720})
    ctx.add_init_script(MOCK_AUDIO.replace("const voices = [{ lang: 'vi-VN'", "const voices = [{ lang: 'en-US'"))
    pg = ctx.new_page()
    try:
        open_board(pg, live)
        live.device("kiosk").post("/api/tickets", json={"category": "HT"})
        live.login("minh").post("/api/counters/3/next")
        pg.wait_for_function("window.__sound.log.length >= 2", timeout=5000)
        chime, voice = pg.evaluate("window.__sound.log")[:2]
        assert chime["src"].endswith("/display/static/chime.wav")
        assert voice["kind"] == "audio" and "/api/voice?text=" in voice["src"]
        from urllib.parse import parse_qs, urlparse

        q = parse_qs(urlparse(voice["src"]).query)
        assert q["text"] == [speech("A001", 3)] and q["token"] == [live.tokens["display"]]
        r = live.client().get(voice["src"].replace(live.base_url, ""))
        assert r.status_code == 200 and r.content[:4] == b"RIFF"  # what the page would play
    finally:
        ctx.close()


def _site_clock(tz: str, lang: str = "vi") -> set[tuple[str, str]]:
    """The board's clock texts (time, date) in `tz` for now and the next
    minute (the page and this test may straddle a minute)."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    weekdays = ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"]
    out = set()
    for extra in (timedelta(0), timedelta(minutes=1)):
        d = datetime.now(ZoneInfo(tz)) + extra
        out.add((d.strftime("%H:%M"), f"{weekdays[d.weekday()]}, ngày {d:%d} tháng {d:%m} năm {d.year}"))
    return out


def _clock(pg) -> tuple[str, str]:
    return pg.inner_text("#clock-time"), pg.inner_text("#clock-date")


def test_clock_shows_the_site_time_zone_not_the_browsers(live, browser):
    assert live.client().get("/api/site").json()["timezone"] == "Asia/Ho_Chi_Minh"
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="de-DE", timezone_id="Europe/Berlin")
    try:
        pg = ctx.new_page()
        open_board(pg, live)
        pg.wait_for_function("document.getElementById('clock-time').dataset.tz === 'Asia/Ho_Chi_Minh'")
        assert _clock(pg) in _site_clock("Asia/Ho_Chi_Minh")  # Hà Nội time, not Berlin's
        assert pg.evaluate("new Date().getTimezoneOffset()") in (-60, -120)  # the browser is really in Berlin
        assert _clock(pg)[0] not in {c[0] for c in _site_clock("Europe/Berlin")}
        pg.screenshot(path=str(artifact("display_board_berlin_browser.png")))
    finally:
        ctx.close()


def test_clock_follows_a_site_in_another_zone(redis_url, browser):
    from tests.server import make_server

    srv = make_server(redis_url, site__timezone="America/Bogota").start()  # UTC-5, no DST
    ctx = browser.new_context(viewport={"width": 1280, "height": 720}, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    try:
        assert srv.client().get("/api/site").json()["timezone"] == "America/Bogota"
        pg = ctx.new_page()
        open_board(pg, srv)
        pg.wait_for_function("document.getElementById('clock-time').dataset.tz === 'America/Bogota'")
        assert _clock(pg) in _site_clock("America/Bogota")
    finally:
        ctx.close()
        srv.close()


BLOCKED_AUDIO = """
HTMLMediaElement.prototype.play = function () {
  return Promise.reject(new DOMException('autoplay blocked', 'NotAllowedError'));
};
"""

# Relative luminance contrast (WCAG) of two computed CSS colours.
CONTRAST = """
([a, b]) => {
  const lum = (s) => {
    const [r, g, bl] = s.match(/[\\d.]+/g).slice(0, 3).map(Number).map((v) => {
      v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}
"""


def _overlap(a: dict, b: dict) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def test_flashing_counter_keeps_its_name_readable(live, board_page):
    """Issue #13: the flash turned the tile #ffd400, the colour of "Quầy 3"."""
    pg = board_page
    pg.add_init_script(MOCK_AUDIO)
    open_board(pg, live)
    live.device("kiosk").post("/api/tickets", json={"category": "CT"})
    assert live.login("minh").post("/api/counters/3/next").status_code == 200
    tile = pg.locator('#counters [data-counter="3"]')
    expect(tile).to_have_class("counter status-open flash")
    worst, backgrounds = 99.0, set()
    for i in range(12):  # through several flash phases
        bg, fg = pg.evaluate(
            """() => { const c = document.querySelector('#counters [data-counter="3"]');
                 return [getComputedStyle(c).backgroundColor,
                         getComputedStyle(c.querySelector('.counter-name')).color]; }"""
        )
        backgrounds.add(bg)
        worst = min(worst, pg.evaluate(CONTRAST, [bg, fg]))
        if i == 3:
            pg.screenshot(path=str(artifact("display_flash.png")))
        pg.wait_for_timeout(130)
    assert "rgb(255, 212, 0)" in backgrounds and len(backgrounds) >= 2  # it does flash
    assert worst >= 3, f"counter name contrast {worst:.2f} during the flash"


def test_sound_button_does_not_cover_the_full_room_banner(live, board_page):
    """Issue #13: "Bấm để bật âm thanh" overlapped the red banner when autoplay is blocked."""
    pg = board_page
    pg.add_init_script(BLOCKED_AUDIO)
    kiosk = live.device("kiosk")
    for _ in range(11):  # still full after one is called
        kiosk.post("/api/tickets", json={"category": "HT"})
    open_board(pg, live)
    expect(pg.locator("#full-banner")).to_be_visible()
    assert live.login("lan").post("/api/counters/1/next").status_code == 200
    expect(pg.locator("#sound-unlock")).to_be_visible()
    pg.wait_for_timeout(300)
    pg.screenshot(path=str(artifact("display_sound_blocked_full.png")))
    button = pg.locator("#sound-unlock").bounding_box()
    for sel in ("#full-banner", "#now-calling", ".notice", "#counters", ".side"):
        box = pg.locator(sel).bounding_box()
        assert box and not _overlap(button, box), f"the sound button covers {sel}"


def test_english_board_call_banner_and_categories(live, board_page):
    """Issue #13: with ?lang=en the call banner and the categories stayed Vietnamese."""
    pg = board_page
    pg.add_init_script(MOCK_AUDIO)
    open_board(pg, live, "&lang=en")
    live.device("kiosk").post("/api/tickets", json={"category": "CT"})
    r = live.login("minh").post("/api/counters/3/next")
    number = r.json()["ticket"]["number"]
    expect(pg.locator("#now-text")).to_have_text(f"Number {number}, please go to counter 3")
    expect(pg.locator("[data-t=now]")).to_have_text("Now calling")
    expect(pg.locator('#counters [data-counter="3"] .counter-cat')).to_have_text("Certification")
    expect(pg.locator("#waiting tr").first).to_contain_text("Civil status")
    pg.wait_for_timeout(300)
    pg.screenshot(path=str(artifact("display_call_en.png")))
    # the voice stays Vietnamese
    spoken = [e["text"] for e in pg.evaluate("window.__sound.log") if e["kind"] == "speech"]
    assert spoken and "Mời công dân" in spoken[0]
