"""Issue #15, acceptance 4: a kiosk with the room full gives a "come back at"
ticket whose time is within the simulator's estimate of its call, and the
tracking page's warning arrives.

Played through on the real parts: the API server, the suite's Redis, a real
RQ worker (the notice job, the outbox adapter), Debian Chromium for the
kiosk, the board and the tracking page. The room has 4 seats; 8 people wait for Hộ
tịch when a citizen taps the kiosk. Then the rest of the morning is played
forward with the real Lua scripts on a simulated clock (four counters
serving Hộ tịch, seeded service times around the configured 15 minutes): the
ticket's real call time in that play is compared with its come-back time,
with the room model's predicted call and with the simulator's estimate
(domain/simulate.py: predict_call_ms and 20 seeded days from the same start); the tracking page warns live
three numbers before the turn, and the phone she typed at the kiosk gets
one notice through the worker.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import expect

from printer.escpos_out import decode_raster, encode
from printer.layout import TicketData, ticket_layout
from printer.render import render
from queue_server.adapters.jobs import RqJobQueue
from queue_server.bootstrap import build_services, build_stores
from queue_server.domain.config import load_toml, parse_config
from queue_server.domain.profiles import rules_for
from queue_server.domain.room import ROUND_MIN
from queue_server.domain.simulate import Arrival, Desk, Shift, Staffing, predict_call_ms, simulate_day
from queue_server.settings import Settings
from queue_server.store.connection import open_redis
from tests.browser import artifact
from tests.helpers import Clock, stop_process
from tests.server import make_server

pytestmark = pytest.mark.browser

MIN = 60_000
SEATS = 4
WAITING = 8  # Hộ tịch tickets before hers
SERVICE_MIN = 15  # the service time of Hộ tịch, as configured for the test
HT_COUNTERS = (1, 2, 3, 5)  # the counters whose work profile has Hộ tịch (the others' first matters are empty)
SEED = 15


@dataclass
class Scenario:
    """What was played: enough for the simulator to replay it."""

    issued_at: list[int]  # issue times (ms) of the Hộ tịch tickets, hers last
    counters: tuple[int, ...]
    service_ms: list[int]  # the service times drawn, in call order
    seed: int
    start_ms: int = 0  # when the play starts (everyone has a ticket)
    calls: list[tuple[int, str]] = field(default_factory=list)  # (ms, ticket id)


def simulator_call_estimate(scenario: Scenario, cfg) -> tuple[int, int, int]:
    """The simulator's estimate of her call (queue_server/domain/simulate.py,
    merged from `staffing`): the same people waiting at the start of the
    play, the site's counters and call rules (domain/profiles.rules_for),
    her call time with mean service times (predict_call_ms), and the 10th
    and 90th percentiles of it over 20 seeded days with the rules' spread
    of service times. Returns (low, mean, high) in ms."""
    people = [Arrival(f"p{i}", at, "HT") for i, at in enumerate(scenario.issued_at)]
    her = people[-1].id
    start = scenario.start_ms
    desks = tuple(Desk(c.number, tuple(c.categories)) for c in cfg.counters if c.enabled)
    staffing = Staffing((Shift(start, start + 4 * 3600_000, desks),))
    rules = rules_for(cfg)
    mean = predict_call_ms(her, people, staffing, rules, start)
    assert mean is not None
    calls = []
    for seed in range(20):
        day = simulate_day(people, staffing, rules, seed, start_ms=start)
        calls += [t.called_ms for t in day.tickets if t.id == her and t.called_ms is not None]
    calls.sort()
    return calls[len(calls) // 10], mean, calls[(len(calls) * 9) // 10]


def start_worker(redis_url: str, data_dir: Path, log: Path) -> subprocess.Popen:
    env = dict(os.environ, MOTCUA_DATA_DIR=str(data_dir), MOTCUA_REDIS_URL=redis_url, PYTHONUNBUFFERED="1")
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "queue_server.cli", "worker", "--redis-url", redis_url],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


def outbox(data_dir: Path) -> list[dict]:
    box = data_dir / "outbox"
    if not box.is_dir():
        return []
    return [json.loads(p.read_text("utf-8")) for p in sorted(box.glob("*.json"))]


def wait_until(fn, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class Play:
    """The counters of the morning on a simulated clock, through the real
    scripts (TicketStore) and the real notice path (RoomService.poke ->
    RQ job -> the worker). Its Redis client lives on an event loop of its
    own thread (Playwright's sync API holds this one)."""

    def __init__(self, redis_url: str, site_id: str, data_dir: Path, start_ms: int):
        self.clock = Clock(start_ms)
        self.free_at = {n: start_ms for n in HT_COUNTERS}
        self.rng = random.Random(SEED)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.redis, self.stores, self.services = self._run(self._open(redis_url, site_id, data_dir))

    def _run(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    async def _open(self, redis_url: str, site_id: str, data_dir: Path):
        redis = open_redis(redis_url)
        stores = await build_stores(redis, load_toml(None), site_id, data_dir)
        stores.tickets.clock = self.clock
        services = build_services(
            stores, Settings.from_env(redis_url=redis_url, data_dir=data_dir), jobs=RqJobQueue(redis_url)
        )
        return redis, stores, services

    def next_call(self, scenario: Scenario) -> str:
        """The counter free first calls its next citizen (finishing its last)."""

        async def go() -> str:
            n = min(self.free_at, key=lambda c: (self.free_at[c], c))
            self.clock.now = self.free_at[n]
            result = await self.stores.tickets.call_next(n, clerk=f"clerk{n}")
            await self.services.room.poke()  # what the counter service does after a call
            service = round(self.rng.uniform(0.75, 1.25) * SERVICE_MIN * MIN)
            scenario.service_ms.append(service)
            self.free_at[n] += service
            scenario.calls.append((self.clock.now, result.ticket.id))
            return result.ticket.id

        return self._run(go())

    def ahead_of(self, ticket_id: str) -> int:
        async def go() -> int:
            t = await self.stores.tickets.get_ticket(ticket_id)
            return (await self.stores.tickets.position(t)).ahead

        return self._run(go())

    def close(self) -> None:
        self._run(self.redis.aclose())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


def test_a_full_room_gives_a_come_back_ticket_and_the_warning_arrives(redis_url, browser):
    srv = make_server(redis_url).start()
    data_dir = srv.config_path.parent / "var"
    worker = start_worker(redis_url, data_dir, srv.config_path.with_suffix(".worker.log"))
    plays: list[Play] = []
    try:
        admin = srv.login("admin")
        # the room and its wording are settings like the others (Admin › Đơn vị)
        r = admin.put(
            "/api/admin/config", json={"site": {"seats": SEATS}, "room": {"warn_ahead": 3, "margin_minutes": 10}}
        )
        assert r.status_code == 200, r.text
        cats = [{**c, "service_min": SERVICE_MIN} if c["code"] == "HT" else c for c in r.json()["config"]["categories"]]
        r = admin.put("/api/admin/config", json={"categories": cats})
        assert r.status_code == 200, r.text
        cfg_view = r.json()["config"]
        assert cfg_view["site"]["seats"] == SEATS and cfg_view["room"]["warn_ahead"] == 3
        # the board, open before the room fills: its seats card follows the room live (websocket)
        ctx = browser.new_context(
            viewport={"width": 1920, "height": 1080}, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh"
        )
        board_pg = ctx.new_page()
        board_pg.goto(f"{srv.base_url}/display?token={srv.tokens['display']}")
        board_pg.wait_for_function("window.motcuaBoard && motcuaBoard.live.online", timeout=10_000)
        expect(board_pg.locator("#seats .seats-value")).to_have_text(f"0/{SEATS}")
        expect(board_pg.locator("#seats .seats-note")).to_have_text("trên tổng số ghế")
        staff = srv.login("sup")
        issued = []
        for _ in range(WAITING):
            r = staff.post("/api/tickets", json={"category": "HT"})
            assert r.status_code == 201, r.text
            issued.append(r.json())
        board = srv.client().get("/api/board").json()
        assert board["room"]["full"] and board["room"]["predicted"] > SEATS
        assert board["room"]["text"] == "Phòng chờ đã đủ chỗ – mời quay lại theo giờ trên phiếu"
        seats_card = board_pg.locator("#seats")
        expect(seats_card).to_have_attribute("data-full", "room")
        expect(seats_card.locator(".seats-note")).to_have_text("Phòng chờ đã đủ chỗ – mời quay lại theo giờ trên phiếu")
        # those sent away are not on the seats: taken counts the people in the room only
        expect(seats_card.locator(".seats-value")).to_have_text(f"{min(board['room']['present'], SEATS)}/{SEATS}")
        board_pg.screenshot(path=str(artifact("board_room_full.png")))

        # -- the kiosk: a come-back ticket, and a phone for the notice ---------------------------
        ctx = browser.new_context(
            viewport={"width": 1920, "height": 1080}, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh"
        )
        kiosk = ctx.new_page()
        kiosk.goto(f"{srv.base_url}/kiosk?token={srv.tokens['kiosk']}")
        kiosk.wait_for_selector("body[data-ready='1']", timeout=10_000)
        kiosk.click("button.cat[data-code='HT']")
        kiosk.wait_for_selector("#result:not(.hidden)", timeout=10_000)
        back_box = kiosk.locator("#r-back")
        expect(back_box).to_be_visible()
        hhmm = kiosk.get_attribute("#result", "data-come-back")
        assert hhmm and len(hhmm) == 5 and int(hhmm[3:]) % ROUND_MIN == 0
        expect(back_box).to_have_text(f"Vui lòng quay lại lúc khoảng {hhmm}")
        assert "quét mã QR" in kiosk.inner_text("#r-back-note")
        expect(kiosk.locator("#r-qr")).to_be_visible()
        expect(kiosk.locator("#phone-pad")).to_be_visible()
        done = kiosk.locator("#done").bounding_box()
        assert done and done["y"] + done["height"] <= 1080, "the come-back screen must fit without scrolling"
        kiosk.screenshot(path=str(artifact("kiosk_come_back.png")))
        for d in "0987654321":
            kiosk.click(f"#phone-pad button[data-digit='{d}']")
        expect(kiosk.locator("#phone-digits")).to_have_text("0987 654 321")
        kiosk.click("#phone-send")
        expect(kiosk.locator("#phone-msg")).to_have_text("Sẽ nhắn tin tới 09xx xxx 321 khi sắp đến lượt bạn.")
        kiosk.screenshot(path=str(artifact("kiosk_come_back_phone.png")))
        ticket_id = kiosk.get_attribute("#result", "data-ticket")
        mine = srv.client().get(f"/api/tickets/{ticket_id}").json()
        assert mine["come_back_time"] == hhmm and mine["notice"] == "pending"
        assert "0987" not in json.dumps(mine) and "654" not in json.dumps(mine)  # the phone is never shown back
        # the printed ticket carries the line (the job the kiosk queued, rendered to the real bytes)
        job = srv.login("admin").get(f"/api/tickets/{ticket_id}/print").json()
        assert job["state"] in ("queued", "printed", "not_printed", "none")
        t = TicketData.from_job(
            {
                **mine,
                "site_name": cfg_view["site"]["name"],
                "issued_at": mine["issued_at"],
                "come_back": mine["come_back_text"],
            }
        )
        decode_raster(encode(render(ticket_layout(t, 80)))).save(artifact("ticket_come_back.png"))

        # -- the tracking page, and the rest of the morning played forward -------------------------
        track = ctx.new_page()
        track.set_viewport_size({"width": 420, "height": 860})
        track.goto(f"{srv.base_url}/t/{ticket_id}")
        track.wait_for_selector("#status[data-status='waiting']", timeout=10_000)
        expect(track.locator("#back")).to_have_text(f"Vui lòng quay lại lúc khoảng {hhmm}")
        expect(track.locator("#near")).to_be_hidden()
        track.wait_for_function("document.getElementById('conn').textContent.includes('trực tiếp')", timeout=10_000)

        scenario = Scenario([x["issued_at"] for x in issued] + [mine["issued_at"]], HT_COUNTERS, [], SEED)
        scenario.start_ms = int(time.time() * 1000)
        play = Play(redis_url, srv.site_id, data_dir, start_ms=scenario.start_ms)
        plays.append(play)
        called_at = None
        warned_at_ahead = None
        for _ in range(WAITING + 1):
            got = play.next_call(scenario)
            if got == ticket_id:
                called_at = play.clock.now
                break
            ahead = play.ahead_of(ticket_id)
            if ahead == 3:
                # live, no reload: the warning a few numbers before the turn
                expect(track.locator("#near")).to_have_text("Sắp đến lượt bạn: còn 3 người", timeout=10_000)
                track.screenshot(path=str(artifact("tracking_turn_near.png")))
                warned_at_ahead = ahead
                # and the one notice, sent by the worker through the outbox
                msgs = wait_until(lambda: [m for m in outbox(data_dir) if m["ref"] == ticket_id], 20, "the notice")
                assert len(msgs) == 1 and msgs[0]["to"] == "+84987654321" and msgs[0]["kind"] == "turn_near"
                assert msgs[0]["text"].startswith(f"Số {mine['number']}: sắp đến lượt bạn (còn 3 người)")
            elif ahead > 3:
                expect(track.locator("#near")).to_be_hidden()
        assert warned_at_ahead == 3 and called_at is not None
        track.wait_for_selector("#status[data-status='called']", timeout=10_000)
        # two more calls after hers would not send a second notice
        time.sleep(0.5)
        assert len([m for m in outbox(data_dir) if m["ref"] == ticket_id]) == 1

        # -- the come-back time against the estimates -------------------------------------------------
        margin = 10 * MIN
        back = mine["come_back_at"]
        predicted_call = mine["issued_at"] + mine["eta_minutes"] * MIN  # the room model's ETA at the issue
        assert back <= predicted_call - margin
        assert back > predicted_call - margin - ROUND_MIN * MIN  # rounded down, to 5 minutes only
        # in the play she is back before her call, and not sent away for long before it
        assert back <= called_at, "called before the time on her ticket"
        assert called_at - back <= margin + 15 * MIN, (called_at - back) / MIN
        # the simulator's estimate of her call, from the same start: the come-back time is the margin
        # before it (within the rounding and the spread of the simulated days)
        low, sim_mean, high = simulator_call_estimate(scenario, parse_config(cfg_view))
        low, high = min(low, sim_mean), max(high, sim_mean)  # the mean-time day need not lie between the seeded ones
        assert low - margin - ROUND_MIN * MIN <= back <= high - margin, [
            (x - back) / MIN for x in (low, sim_mean, high)
        ]
        # and the play's real call lies in the simulated days' range, give or take a service's spread
        assert low - SERVICE_MIN * MIN <= called_at <= high + SERVICE_MIN * MIN
        ctx.close()
    finally:
        for p in plays:
            p.close()
        stop_process(worker)
        srv.close()
