"""A booking's confirmation and reminders go out after its reply (issue #10,
acceptance 6), and are not lost when the API process dies first: the
booking script notes them as still to do, the follow-up clears the note,
and the bookings left noted (a process that died) are done again by a later
booking's follow-up or the end-of-day job -- once, without the manage link
(its token was never stored), and not for a booking cancelled meanwhile."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from queue_server.domain.config import WEEKDAYS, parse_config
from queue_server.services.appointments import NOTICES_LEFT_MS, AppointmentService
from queue_server.services.notify import SentLog
from queue_server.store.audit import AuditLog
from tests.helpers import Clock, appointment_store, make_store, run_sync, test_config_dict

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


class Jobs:
    """A JobQueue that keeps what it was asked."""

    def __init__(self):
        self.scheduled: dict[str, datetime] = {}

    async def enqueue(self, func, *args, retry_intervals=(), private=False):
        pass

    async def schedule(self, at, func, *args, job_id):
        self.scheduled[job_id] = at

    async def cancel(self, job_id):
        self.scheduled.pop(job_id, None)


def test_notices_left_undone_by_a_dead_process_are_done_again_once(redis_url):
    d = test_config_dict()
    for day in WEEKDAYS:
        d["hours"][day] = ["07:30-11:30", "13:30-17:00"]
    d["hours"] |= {"public_holidays": False, "closures": []}
    d["appointments"] |= {"enabled": True}
    d["categories"][0]["appointment_capacity"] = 5
    cfg = parse_config(d)
    day = (datetime.now(HCM) + timedelta(days=3)).date().isoformat()

    async def go():
        clock = Clock(int(time.time() * 1000))
        s = await make_store(redis_url, cfg, clock=clock)
        store = appointment_store(s, clock)
        sent, jobs = SentLog([]), Jobs()
        svc = AppointmentService(
            s.config,
            store,
            AuditLog(s.redis, s.keys),
            s,
            None,
            clock=lambda: datetime.fromtimestamp(clock.now / 1000, UTC),
            notifier=sent,
            jobs=jobs,
        )
        try:
            # two bookings answered, their process dead before their follow-ups ran
            lost, _ = await svc.book_deferred("HT", f"{day}T08:00:00+07:00", "Mất Tin", "0912000401")
            gone, _ = await svc.book_deferred("HT", f"{day}T08:15:00+07:00", "Hủy Rồi", "0912000402")
            await svc.cancel(gone.id, gone.manage_url.split("token=")[1])
            assert sent.sent == [] and set(await store.notices_left(older_than_ms=0)) == {lost.id, gone.id}
            assert await store.notices_left(older_than_ms=NOTICES_LEFT_MS) == []  # not yet given up on
            clock.advance(NOTICES_LEFT_MS + 1)
            # a later booking's follow-up does its own notices, then those left undone
            later, after = await svc.book_deferred("HT", f"{day}T09:00:00+07:00", "Đến Sau", "0912000403")
            await after()
            confirmations = [m for m in sent.sent if m.kind == "confirmation"]
            assert [m.ref for m in confirmations] == [later.id, lost.id]  # not the cancelled one
            assert "/book/manage/" in confirmations[0].text and "/book/manage/" not in confirmations[1].text
            assert lost.code in confirmations[1].text and confirmations[1].to == "+84912000401"
            assert AppointmentService.reminder_job_id(cfg, lost.id, "eve") in jobs.scheduled
            assert AppointmentService.reminder_job_id(cfg, gone.id, "eve") not in jobs.scheduled
            assert await store.notices_left(older_than_ms=0) == []
            # the end-of-day job finds nothing left, and nothing is done twice
            assert await svc.redo_left_notices(0) == 0 and not await svc.redo_notices(lost.id)
            assert len([m for m in sent.sent if m.kind == "confirmation"]) == 2
        finally:
            await s.redis.aclose()

    run_sync(go())
