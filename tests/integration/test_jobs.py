"""RQ jobs run by a real `motcua worker` process."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from redis import Redis as SyncRedis

from queue_server.domain.appointments import AppointmentStatus
from queue_server.domain.model import TicketStatus
from queue_server.jobs import archive_events, close_day, next_close_time, queue_for, schedule_close_day
from tests.helpers import appointment_store, make_slot, make_store, run_sync, test_config

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


async def book_a_missed_appointment(redis_url, cfg) -> str:
    """A booking whose slot began two hours ago (the store does not check the time)."""
    s = await make_store(redis_url, cfg)
    try:
        slot = make_slot(int(time.time() * 1000) - 2 * 3600_000)
        b = await appointment_store(s).book(
            slot, "HT", name="Vắng Mặt", phone="+84912000777", per_phone=2, keep_personal_days=30
        )
        return b.appointment.id
    finally:
        await s.redis.aclose()


def test_close_day_runs_in_a_real_worker(redis_url):
    cfg = test_config()

    async def prepare():
        s = await make_store(redis_url, cfg)
        a, _ = await s.issue("HT")
        b, _ = await s.issue("CT")
        await s.call_next(1)
        await s.redis.aclose()
        return a, b

    a, b = run_sync(prepare())
    missed = run_sync(book_a_missed_appointment(redis_url, cfg))
    q = queue_for(redis_url)
    job = q.enqueue(close_day, redis_url, cfg.site.id, None, False)
    # the stored config (with this site's id) is what the job reads, so the seed path may be the default
    subprocess.run(
        [sys.executable, "-m", "queue_server.cli", "worker", "--burst", "--redis-url", redis_url],
        check=True,
        timeout=60,
        capture_output=True,
    )
    job.refresh()
    assert job.get_status() == "finished", job.exc_info
    assert job.return_value() == 2

    async def check():
        s = await make_store(redis_url, cfg)
        assert (await s.get_ticket(a.id)).status == TicketStatus.EXPIRED
        assert (await s.get_ticket(b.id)).status == TicketStatus.EXPIRED
        types = [f["type"] for _, f in await s.redis.xrange(s.keys.events)]
        assert types.count("expire") == 2
        # the appointment not checked in by the end of its window is a no-show
        assert (await appointment_store(s).get(missed)).status == AppointmentStatus.NO_SHOW
        assert types.count("appointment_no_show") == 1
        await s.redis.aclose()

    run_sync(check())


def test_close_day_is_scheduled_once_per_day_after_the_last_session():
    cfg = test_config()
    # Wednesday 25 Nov 2026, 10:00 local -> 17:30 local the same day
    now = datetime(2026, 11, 25, 10, 0, tzinfo=HCM)
    assert next_close_time(cfg, now) == datetime(2026, 11, 25, 17, 30, tzinfo=HCM)
    # Friday 18:00 -> Monday 17:30
    assert next_close_time(cfg, datetime(2026, 11, 27, 18, 0, tzinfo=HCM)) == datetime(2026, 11, 30, 17, 30, tzinfo=HCM)


def test_schedule_is_idempotent(redis_url):
    cfg = test_config()
    q = queue_for(redis_url)
    now = datetime(2026, 11, 25, 10, 0, tzinfo=HCM)
    j1 = schedule_close_day(q, cfg, redis_url, None, now=now)
    j2 = schedule_close_day(q, cfg, redis_url, None, now=now)
    assert j1 == j2 == f"close-day-{cfg.site.id}-20261125"
    assert len([j for j in q.scheduled_job_registry.get_job_ids() if j == j1]) == 1
    SyncRedis.from_url(redis_url).close()


def test_the_minute_job_marks_a_missed_appointment_without_waiting_for_close_day(redis_url, tmp_path):
    """Issue #10: an appointment not checked in by the end of its window is a
    no-show within a minute (the archive job's run), not only at close-day."""
    cfg = test_config()
    missed = run_sync(book_a_missed_appointment(redis_url, cfg))
    q = queue_for(redis_url)
    job = q.enqueue(archive_events, redis_url, cfg.site.id, str(tmp_path), 35, False)
    subprocess.run(
        [sys.executable, "-m", "queue_server.cli", "worker", "--burst", "--redis-url", redis_url],
        check=True,
        timeout=60,
        capture_output=True,
    )
    job.refresh()
    assert job.get_status() == "finished", job.exc_info

    async def check():
        s = await make_store(redis_url, cfg)
        try:
            assert (await appointment_store(s).get(missed)).status == AppointmentStatus.NO_SHOW
            return [f["type"] for _, f in await s.redis.xrange(s.keys.events)].count("appointment_no_show")
        finally:
            await s.redis.aclose()

    assert run_sync(check()) == 1
