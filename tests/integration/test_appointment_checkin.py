"""Check-in at the kiosk and the no-show sweep (issue #10), through
AppointmentService on the real Redis with a moved clock: the window, too
early (when to come back), too late (a walk-in, the booking late, not a
no-show), the ticket ranked by its slot among walk-ins, a no-show after the
window."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from queue_server.domain.appointments import AppointmentStatus
from queue_server.domain.config import parse_config
from queue_server.domain.model import Source
from queue_server.errors import AppError
from queue_server.services.appointments import AppointmentService
from queue_server.store.audit import AuditLog
from tests.helpers import Clock, appointment_store, make_store, run_sync, test_config_dict

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
MIN = 60_000
DAY = "2026-12-01"  # a Tuesday


def ms(hhmm: str, day: str = DAY) -> int:
    return int(datetime.fromisoformat(f"{day}T{hhmm}:00+07:00").timestamp() * 1000)


def start(hhmm: str) -> str:
    return f"{DAY}T{hhmm}:00+07:00"


def go(redis_url, body, **appointments):
    async def run():
        d = test_config_dict()
        d["appointments"] |= {"enabled": True, "checkin_early_minutes": 30, "checkin_late_minutes": 15, **appointments}
        d["categories"][0]["appointment_capacity"] = 5  # HT
        cfg = parse_config(d)
        clock = Clock(ms("06:00"))
        s = await make_store(redis_url, cfg, clock=clock)
        appts = appointment_store(s, clock)
        svc = AppointmentService(
            s.config,
            appts,
            AuditLog(s.redis, s.keys),
            s,
            None,
            clock=lambda: datetime.fromtimestamp(clock.now / 1000, UTC),
        )
        try:
            await body(svc, s, clock)
        finally:
            await s.redis.aclose()

    run_sync(run())


async def error(coro):
    try:
        await coro
    except AppError as e:
        return e
    raise AssertionError("no error")


async def book(svc, hhmm, phone="0912 345 678"):
    return await svc.book("HT", start(hhmm), "Nguyễn Văn An", phone)


def test_in_the_window_the_ticket_ranks_by_its_slot(redis_url):
    async def body(svc, s, clock):
        b = await book(svc, "09:00")
        clock.now = ms("08:20")
        e = await error(svc.check_in(b.code))
        assert e.code == "too_early" and e.params["opens"] == "08:30 ngày 01/12/2026"
        assert e.params["opens_at"] == "2026-12-01T08:30:00+07:00"
        assert "08:30" in e.message("vi") and "come back from 08:30 on 01/12/2026" in (
            await error(svc.check_in(b.code, lang="en"))
        ).message("en")
        clock.now = ms("08:30")  # the window opens
        walk_in_before, _ = await s.issue("HT")  # came at 08:30, before the slot
        clock.now = ms("08:50")
        done = await svc.check_in(b.code.lower()[:3] + " " + b.code.lower()[3:], device_id="kiosk-1")
        t = done.state.ticket
        assert not done.late and t.source == Source.APPOINTMENT and t.category == "HT"
        assert t.rank_ms == ms("09:00") and t.queued_at == ms("09:00")  # waits from its slot
        assert t.extra["appointment"] == b.id and t.number.startswith("A")
        assert done.state.position.ahead == 1  # the walk-in of 08:30
        assert done.appointment.status == AppointmentStatus.CHECKED_IN and done.appointment.ticket == t.id
        assert done.slot_start == "2026-12-01T09:00:00+07:00"
        clock.now = ms("09:02")
        walk_in_after, _ = await s.issue("HT")
        clock.now = ms("09:03")
        order = [(await s.call_next(1)).ticket.id for _ in range(3)]
        assert order == [walk_in_before.id, t.id, walk_in_after.id]
        again = await error(svc.check_in(b.code))
        assert again.code == "already_checked_in"

    go(redis_url, body)


def test_a_checked_in_appointment_waits_from_check_in_when_it_comes_after_its_slot(redis_url):
    async def body(svc, s, clock):
        b = await book(svc, "09:00")
        clock.now = ms("09:10")  # late, but within the 15 minutes
        done = await svc.check_in(b.code)
        t = done.state.ticket
        assert not done.late and t.source == Source.APPOINTMENT
        assert (t.rank_ms, t.queued_at) == (ms("09:00"), ms("09:10"))

    go(redis_url, body)


def test_too_late_is_a_walk_in_counted_late_not_a_no_show(redis_url):
    async def body(svc, s, clock):
        b = await book(svc, "09:00")
        clock.now = ms("09:16")
        done = await svc.check_in(b.code)
        t = done.state.ticket
        assert done.late and t.source == Source.WALK_IN and t.extra.get("late") is True
        assert t.rank_ms == ms("09:16")
        assert done.appointment.status == AppointmentStatus.LATE
        clock.now = ms("18:00")
        assert await svc.sweep_no_shows() == []  # late is not a no-show
        evs = [f for _, f in await s.redis.xrange(s.keys.events) if f["type"] == "appointment_checkin"]
        assert evs[0]["late"] == "1" and evs[0]["ticket"] == t.id

    go(redis_url, body)


def test_too_late_outside_opening_hours_is_refused(redis_url):
    async def body(svc, s, clock):
        d = (await s.config.get()).to_dict()
        d["hours"]["enforce"] = True
        await s.config.put(d, actor="admin")
        b = await book(svc, "16:45")
        clock.now = ms("17:05")  # after its window and after the last session
        e = await error(svc.check_in(b.code))
        assert e.code == "site_closed"

    go(redis_url, body)


def test_idempotent_check_in_issues_one_ticket(redis_url):
    async def body(svc, s, clock):
        b = await book(svc, "09:00")
        clock.now = ms("08:45")
        one = await svc.check_in(b.code, device_id="kiosk-1", idem="press-1")
        two = await svc.check_in(b.code, device_id="kiosk-1", idem="press-1")
        assert one.state.ticket.id == two.state.ticket.id
        issues = [f for _, f in await s.redis.xrange(s.keys.events) if f["type"] == "issue"]
        assert len(issues) == 1 and issues[0]["source"] == "appointment" and issues[0]["device"] == "kiosk-1"

    go(redis_url, body)


@pytest.mark.parametrize("code", ["", "ABC", "0OOOOO", "ZZZZZZ"])
def test_unknown_codes(redis_url, code):
    async def body(svc, s, clock):
        assert (await error(svc.check_in(code))).code == "appointment_not_found"

    go(redis_url, body)


def test_a_cancelled_booking_cannot_check_in(redis_url):
    async def body(svc, s, clock):
        b = await book(svc, "09:00")
        token = b.manage_url.split("token=")[1]
        await svc.cancel(b.id, token)
        clock.now = ms("08:45")
        assert (await error(svc.check_in(b.code))).code == "appointment_not_booked"

    go(redis_url, body)


def test_no_show_after_the_window(redis_url):
    async def body(svc, s, clock):
        b = await book(svc, "10:00")
        other = await book(svc, "10:30", phone="0912 000 999")
        clock.now = ms("10:15")  # the window's last minute
        assert await svc.sweep_no_shows() == []
        clock.now = ms("10:16")
        assert await svc.sweep_no_shows() == [b.id]
        assert (await svc.store.get(b.id)).status == AppointmentStatus.NO_SHOW
        assert (await svc.store.get(other.id)).status == AppointmentStatus.BOOKED
        assert await svc.sweep_no_shows() == []  # once
        evs = [f for _, f in await s.redis.xrange(s.keys.events) if f["type"] == "appointment_no_show"]
        assert [e["appointment"] for e in evs] == [b.id]
        assert (await error(svc.check_in(b.code))).code == "appointment_not_booked"

    go(redis_url, body)
