"""The waiting room on the real Redis: a full room sends new tickets away
with a come-back time (and counts them out of the room until then); a phone
given at the kiosk gets one "your turn is near" notice, sent by a real RQ
worker through the outbox, and is deleted after it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from queue_server.adapters.jobs import RqJobQueue
from queue_server.bootstrap import build_services, build_stores
from queue_server.domain.config import parse_config
from queue_server.domain.model import TicketStatus
from queue_server.domain.room import RATE_WINDOW_MIN
from queue_server.errors import AppError
from queue_server.services.views import ticket_view
from queue_server.settings import Settings
from queue_server.store.connection import open_redis
from tests.helpers import run_sync, test_config_dict

MIN = 60_000
PHONE = "0987 654 321"


def room_config(seats: int = 4):
    d = test_config_dict()
    d["site"]["seats"] = seats
    for c in d["categories"]:
        c["service_min"] = 30  # long services: the calls come far apart
    return parse_config(d)


async def site(redis_url, cfg, data_dir):
    redis = open_redis(redis_url)
    stores = await build_stores(redis, cfg, data_dir=data_dir)
    services = build_services(
        stores, Settings.from_env(redis_url=redis_url, data_dir=data_dir), jobs=RqJobQueue(redis_url)
    )
    return redis, stores, services


def test_a_full_room_sends_new_tickets_away_and_counts_them_out(redis_url, tmp_path):
    cfg = room_config(seats=4)

    async def go():
        redis, stores, svc = await site(redis_url, cfg, tmp_path)
        try:
            first = [await svc.tickets.issue_walk_in("HT", actor="sup") for _ in range(4)]
            assert all(s.ticket.extra.get("come_back_at") is None for s in first)  # 4 people, 4 seats
            before = await svc.room.state()
            assert before.present == 4 and not before.full
            fifth = await svc.tickets.issue_walk_in("HT", actor="sup")  # 5 in the room now: predicted over 4
            mid = await svc.room.state()
            assert mid.full and mid.predicted >= 5
            sixth = await svc.tickets.issue_walk_in("HT", actor="sup")
            t = sixth.ticket
            back = t.extra.get("come_back_at")
            assert back is not None, "a full room gives a come-back ticket"
            now = stores.tickets.clock()
            call_at = t.issued_at + sixth.position.eta_minutes * MIN
            assert now + 10 * MIN <= back <= call_at - cfg.room.margin_minutes * MIN
            local = datetime.fromtimestamp(back / 1000, UTC).astimezone(cfg.site.tz)
            assert local.minute % 5 == 0 and local.second == 0
            view = ticket_view(t, cfg, sixth.position)
            assert view["come_back_text"] == f"Vui lòng quay lại lúc khoảng {local:%H:%M}"
            assert ticket_view(t, cfg, sixth.position, "en")["come_back_text"].startswith("Please come back at about")
            # sent away: out of the room until her time
            after = await svc.room.state()
            assert after.away == 1 and after.present == 5
            # the fifth was issued while the room was predicted at 4: seated
            assert fifth.ticket.extra.get("come_back_at") is None
            events = [e for e in await stores.events.for_ticket(t.id, t.issued_at) if e["type"] == "come_back"]
            assert len(events) == 1 and int(events[0]["come_back_at"]) == back
            # the board says so
            board = await svc.board.snapshot()
            assert board["room"]["full"] and board["room"]["away"] == 1 and board["room"]["taken"] == 4
            assert board["room"]["text"] == "Phòng chờ đã đủ chỗ – mời quay lại theo giờ trên phiếu"
            # called before her time (she came back early): no longer away, nor in the room
            await stores.tickets.call_ticket(1, t.id)
            called = await svc.room.state()
            assert called.away == 0 and called.present == 5
        finally:
            await redis.aclose()

    run_sync(go())


def test_a_phone_gets_one_notice_from_a_real_worker_and_is_deleted(redis_url, tmp_path):
    cfg = room_config(seats=2)
    data = tmp_path / "data"

    async def setup():
        redis, stores, svc = await site(redis_url, cfg, data)
        try:
            issued = [await svc.tickets.issue_walk_in("DD", actor="sup") for _ in range(7)]
            mine = issued[-1].ticket
            assert mine.extra.get("come_back_at") is not None
            with pytest.raises(AppError) as e:
                await svc.room.give_phone(mine.id, "12345")
            assert e.value.code == "invalid_phone"
            given = await svc.room.give_phone(mine.id, PHONE, device="kiosk1")
            assert given == {"ticket": mine.id, "phone": "09xx xxx 321", "notice": "pending"}
            raw = await redis.hget(stores.keys.tickets, mine.id)
            assert "654321" not in raw and "654 321" not in raw  # never in the ticket record
            # nobody near yet: the job sends nothing
            assert await svc.room.send_due_notices() == 0
            # counter 4 serves DD first: three calls leave 3 before her
            for _ in range(3):
                await stores.tickets.call_next(4)
            await svc.room.poke()  # what a call does: the notice job is queued
            await svc.room.poke()  # twice, as two calls would
            return mine
        finally:
            await redis.aclose()

    mine = run_sync(setup())
    env = dict(os.environ, MOTCUA_DATA_DIR=str(data))
    done = subprocess.run(
        [sys.executable, "-m", "queue_server.cli", "worker", "--burst", "--redis-url", redis_url],
        check=True,
        timeout=120,
        capture_output=True,
        text=True,
        env=env,
    )
    files = sorted((data / "outbox").iterdir())
    assert len(files) == 1, "one notice per ticket"
    msg = json.loads(files[0].read_text("utf-8"))
    assert msg["kind"] == "turn_near" and msg["to"] == "+84987654321" and msg["ref"] == mine.id
    assert msg["text"].startswith(f"Số {mine.number}: sắp đến lượt bạn (còn 3 người)")
    log = done.stdout + done.stderr
    assert "turn_notices" in log and "Successfully completed" in log
    assert "987654321" not in log and "654 321" not in log

    async def after():
        redis, stores, svc = await site(redis_url, cfg, data)
        try:
            t = await stores.tickets.get_ticket(mine.id)
            assert t.extra["notice"] == "sent" and t.status == TicketStatus.WAITING
            assert await stores.room.phone_of(mine.id) is None  # deleted once sent
            types = [e["type"] for e in await stores.events.for_ticket(mine.id, mine.issued_at)]
            assert types.count("turn_notice") == 1 and types.count("ticket_phone") == 1
            with pytest.raises(AppError) as e:
                await svc.room.give_phone(mine.id, PHONE)
            assert e.value.code == "notice_sent"
            # a phone whose ticket stops waiting is forgotten; an English kiosk's notice is in English
            other = (await svc.tickets.issue_walk_in("DD", actor="sup")).ticket
            await svc.room.give_phone(other.id, "0912 000 111", lang="en")
            assert (await stores.tickets.get_ticket(other.id)).extra["notice_lang"] == "en"
            await stores.tickets.close_day()
            assert await svc.room.send_due_notices() == 0
            assert await stores.room.phone_of(other.id) is None
        finally:
            await redis.aclose()

    run_sync(after())


def test_the_arrival_rate_counts_the_last_half_hour_of_issues_and_check_ins(redis_url, tmp_path):
    """The rate the room predicts with: tickets issued in the last
    RATE_WINDOW_MIN minutes, kept in one sorted set by issue_into (the walk-in
    issue's and the appointment check-in's); older ones drop out of it."""
    cfg = room_config(seats=50)
    now = [datetime.now(UTC).timestamp() * 1000]

    async def go():
        redis, stores, svc = await site(redis_url, cfg, tmp_path)
        stores.tickets.clock = lambda: int(now[0])
        try:
            for _ in range(6):
                await svc.tickets.issue_walk_in("HT", actor="sup")
            assert (await svc.room.state()).arrivals_per_hour == pytest.approx(6 * 60 / RATE_WINDOW_MIN)
            now[0] += 20 * MIN
            for _ in range(3):
                await svc.tickets.issue_walk_in("CT", actor="sup")
            assert (await svc.room.state()).arrivals_per_hour == pytest.approx(9 * 60 / RATE_WINDOW_MIN)
            now[0] += 11 * MIN  # the first six are over half an hour old
            assert (await svc.room.state()).arrivals_per_hour == pytest.approx(3 * 60 / RATE_WINDOW_MIN)
            await svc.tickets.issue_walk_in("CT", actor="sup")  # and the set forgets them
            assert await redis.zcard(stores.keys.room_arrivals) == 4
        finally:
            await redis.aclose()

    run_sync(go())
