"""Reminders (issue #10, acceptance 4): RQ jobs booked at booking for the day
before at 16:00 and an hour before the slot, in Asia/Ho_Chi_Minh, skipped
when already past; moved on a move, deleted on a cancel; a reminder job run
by a real worker sends through the outbox, and sends nothing for a booking
cancelled or moved meanwhile (a lost cancel cannot send a wrong reminder)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from rq.job import Job
from rq.registry import ScheduledJobRegistry

from queue_server.adapters.jobs import RqJobQueue
from queue_server.domain.config import WEEKDAYS, parse_config
from queue_server.jobs import queue_for, send_reminder
from queue_server.services.appointments import AppointmentService
from queue_server.services.notify import SentLog
from queue_server.store.audit import AuditLog
from tests.helpers import appointment_store, make_store, run_sync, test_config_dict

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def open_every_day() -> dict:
    d = test_config_dict()
    for day in WEEKDAYS:
        d["hours"][day] = ["07:30-11:30", "13:30-17:00"]
    d["hours"] |= {"public_holidays": False, "closures": []}
    d["appointments"] |= {"enabled": True, "days_ahead": 6, "book_until_minutes": 60}
    d["categories"][0]["appointment_capacity"] = 5
    return d


def with_service(redis_url, body, clock=None, cfg=None, jobs_url=None):
    cfg = cfg or parse_config(open_every_day())

    async def run():
        s = await make_store(redis_url, cfg)
        sent = SentLog([])
        svc = AppointmentService(
            s.config,
            appointment_store(s),
            AuditLog(s.redis, s.keys),
            s,
            None,
            clock=clock or (lambda: datetime.now(UTC)),
            notifier=sent,
            jobs=RqJobQueue(jobs_url or redis_url),
        )
        try:
            return await body(svc, sent)
        finally:
            await s.redis.aclose()

    return cfg, run_sync(run())


def local_day(days: int):
    return datetime.now(HCM).date() + timedelta(days=days)


def start(days: int, hhmm: str) -> str:
    return f"{local_day(days).isoformat()}T{hhmm}:00+07:00"


def scheduled(redis_url, job_id: str) -> datetime | None:
    q = queue_for(redis_url)
    reg = ScheduledJobRegistry(queue=q)
    if job_id not in reg.get_job_ids():
        return None
    return reg.get_scheduled_time(job_id).astimezone(HCM)


def test_reminders_are_scheduled_in_the_site_zone_moved_and_cancelled(redis_url):
    async def body(svc, sent):
        b = await svc.book("HT", start(3, "08:00"), "Nguyễn Văn An", "0912345678")
        return b, svc

    cfg, (b, svc) = with_service(redis_url, body)
    eve, hour = (AppointmentService.reminder_job_id(cfg, b.id, w) for w in ("eve", "hour"))
    d = local_day(3)
    assert scheduled(redis_url, eve) == datetime(d.year, d.month, d.day, 16, 0, tzinfo=HCM) - timedelta(days=1)
    assert scheduled(redis_url, hour) == datetime(d.year, d.month, d.day, 7, 0, tzinfo=HCM)
    job = Job.fetch(hour, connection=queue_for(redis_url).connection)
    assert job.func_name == "queue_server.jobs.send_reminder"
    assert job.args[1:] == (cfg.site.id, b.id, int(datetime.fromisoformat(b.start).timestamp() * 1000))
    assert "0912345678" not in job.description and "+84912345678" not in str(job.args)  # no phone in the job
    token = b.manage_url.split("token=")[1]

    async def move(svc, sent):
        return await svc.move(b.id, token, start(4, "13:30"))

    with_service(redis_url, move, cfg=cfg)
    d4 = local_day(4)
    assert scheduled(redis_url, eve) == datetime(d4.year, d4.month, d4.day, 16, 0, tzinfo=HCM) - timedelta(days=1)
    assert scheduled(redis_url, hour) == datetime(d4.year, d4.month, d4.day, 12, 30, tzinfo=HCM)

    async def cancel(svc, sent):
        return await svc.cancel(b.id, token)

    with_service(redis_url, cancel, cfg=cfg)
    assert scheduled(redis_url, eve) is None and scheduled(redis_url, hour) is None


def test_a_reminder_already_past_is_not_scheduled(redis_url):
    d = local_day(2)
    late = datetime(d.year, d.month, d.day, 17, 0, tzinfo=HCM) - timedelta(days=1)  # after 16:00 the day before

    async def body(svc, sent):
        b = await svc.book("HT", start(2, "10:00"), "An", "0912345679")
        return b

    cfg, b = with_service(redis_url, body, clock=lambda: late.astimezone(UTC))
    assert scheduled(redis_url, AppointmentService.reminder_job_id(cfg, b.id, "eve")) is None
    hour = AppointmentService.reminder_job_id(cfg, b.id, "hour")
    assert scheduled(redis_url, hour) == datetime(d.year, d.month, d.day, 9, 0, tzinfo=HCM)
    run_sync(RqJobQueue(redis_url).cancel(hour))


def test_the_reminder_job_sends_only_for_a_booking_still_in_its_slot(redis_url, tmp_path):
    async def body(svc, sent):
        kept = await svc.book("HT", start(3, "08:00"), "Giữ Lịch", "0912000101", lang="en")
        gone = await svc.book("HT", start(3, "08:15"), "Huỷ Lịch", "0912000102")
        moved = await svc.book("HT", start(3, "08:30"), "Đổi Lịch", "0912000103")
        await svc.cancel(gone.id, gone.manage_url.split("token=")[1])
        await svc.move(moved.id, moved.manage_url.split("token=")[1], start(3, "09:00"))
        return kept, gone, moved

    cfg, (kept, gone, moved) = with_service(redis_url, body)
    q = queue_for(redis_url)
    ms = {b.id: int(datetime.fromisoformat(b.start).timestamp() * 1000) for b in (kept, gone, moved)}
    jobs = [
        q.enqueue(send_reminder, redis_url, cfg.site.id, kept.id, ms[kept.id]),
        q.enqueue(send_reminder, redis_url, cfg.site.id, gone.id, ms[gone.id]),  # its cancel "lost"
        q.enqueue(send_reminder, redis_url, cfg.site.id, moved.id, ms[moved.id]),  # the slot it left
    ]
    env = dict(os.environ, MOTCUA_DATA_DIR=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-m", "queue_server.cli", "worker", "--burst", "--redis-url", redis_url],
        check=True,
        timeout=120,
        capture_output=True,
        text=True,
        env=env,
    )
    for j in jobs:
        j.refresh()
        assert j.get_status() == "finished", j.exc_info
    assert [j.return_value() for j in jobs] == [True, False, False]
    files = sorted((tmp_path / "outbox").iterdir())
    assert len(files) == 1
    msg = json.loads(files[0].read_text("utf-8"))
    assert msg["kind"] == "reminder" and msg["to"] == "+84912000101" and msg["ref"] == kept.id
    assert msg["text"].startswith("Reminder: booking " + kept.code) and "08:00" in msg["text"]
    assert "Giữ" not in msg["text"]
    log = done.stdout + done.stderr
    assert "0912000101" not in log and "912000101" not in log and "Giữ Lịch" not in log

    async def cleanup(svc, sent):
        for b in (kept, moved):
            await svc.cancel_reminders(cfg, b.id)

    with_service(redis_url, cleanup, cfg=cfg)


def test_a_booking_stands_when_its_reminders_cannot_be_scheduled(redis_url):
    from queue_server.redis_server import free_port

    async def body(svc, sent):
        b = await svc.book("HT", start(3, "08:00"), "An", "0912000111")  # the job queue's Redis is down
        cancelled = await svc.cancel(b.id, b.manage_url.split("token=")[1])
        return b, cancelled, [m.kind for m in sent.sent]

    _, (b, cancelled, kinds) = with_service(redis_url, body, jobs_url=f"redis://127.0.0.1:{free_port()}/0")
    assert b.status == "booked" and cancelled.status == "cancelled" and kinds == ["confirmation"]
