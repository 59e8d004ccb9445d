"""A closure added later (issue #10, acceptance 3): when an admin closes a day
through the configuration, its bookings are cancelled (an appointment_cancel
event each, by the admin), their reminders deleted and their holders told,
in the language they booked in; other days keep theirs; a hold for an OTP on
the day can no longer be verified."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from queue_server.domain.config import WEEKDAYS, parse_config
from queue_server.errors import AppError
from queue_server.services.admin import AdminService
from queue_server.services.appointments import AppointmentService
from queue_server.services.notify import SentLog
from queue_server.store.accounts import Accounts
from queue_server.store.audit import AuditLog
from queue_server.store.ratelimit import RateLimiter
from tests.helpers import Clock, appointment_store, make_store, run_sync, test_config_dict

NOW = "2026-12-01T06:00:00+07:00"  # a Tuesday


class Jobs:
    """A JobQueue that keeps what it was asked."""

    def __init__(self):
        self.scheduled: dict[str, datetime] = {}

    async def enqueue(self, func, *args, retry_intervals=()):
        pass

    async def schedule(self, at, func, *args, job_id):
        self.scheduled[job_id] = at

    async def cancel(self, job_id):
        self.scheduled.pop(job_id, None)


def setup(redis_url, body, verify="none"):
    async def run():
        d = test_config_dict()
        for day in WEEKDAYS:
            d["hours"][day] = ["07:30-11:30", "13:30-17:00"]
        d["hours"] |= {"public_holidays": False, "closures": []}
        d["appointments"] |= {"enabled": True, "verify": verify}
        d["categories"][0]["appointment_capacity"] = 5
        clock = Clock(int(datetime.fromisoformat(NOW).timestamp() * 1000))
        s = await make_store(redis_url, parse_config(d), clock=clock)
        sent, jobs, audit = SentLog([]), Jobs(), AuditLog(s.redis, s.keys)
        limiter = RateLimiter(s.redis, s.scripts, s.keys)
        appts = AppointmentService(
            s.config,
            appointment_store(s, clock),
            audit,
            s,
            None,
            clock=lambda: datetime.fromtimestamp(clock.now / 1000, UTC),
            notifier=sent,
            limiter=limiter,
            jobs=jobs,
        )
        admin = AdminService(s.config, Accounts(s.redis, s.keys), audit, limiter, appts)
        try:
            await body(appts, admin, sent, jobs, s)
        finally:
            await s.redis.aclose()

    run_sync(run())


def test_a_closure_added_later_cancels_and_notifies(redis_url):
    async def body(appts, admin, sent, jobs, s):
        a = await appts.book("HT", "2026-12-03T08:00:00+07:00", "Lê Văn Cường", "0912000201")
        b = await appts.book("HT", "2026-12-03T14:00:00+07:00", "Phạm Thị Dung", "0912000202", lang="en")
        c = await appts.book("HT", "2026-12-04T08:00:00+07:00", "Vũ Văn Em", "0912000203")
        assert len(jobs.scheduled) == 6
        await admin.update_config({"hours": {"closures": ["2026-12-03"]}}, "admin", "vi")
        assert (await appts.store.get(a.id)).status == "cancelled"
        assert (await appts.store.get(b.id)).status == "cancelled"
        assert (await appts.store.get(c.id)).status == "booked"
        assert (await appts.store.get(a.id)).cancelled_by == "admin"
        events = [f for _, f in await s.redis.xrange(s.keys.events) if f["type"] == "appointment_cancel"]
        assert sorted(e["appointment"] for e in events) == sorted([a.id, b.id])
        assert all(e["clerk"] == "admin" for e in events)
        told = [m for m in sent.sent if m.kind == "cancelled"]
        assert sorted((m.ref, m.to) for m in told) == sorted([(a.id, "+84912000201"), (b.id, "+84912000202")])
        vi = next(m for m in told if m.ref == a.id)
        en = next(m for m in told if m.ref == b.id)
        assert a.code in vi.text and "đã bị hủy" in vi.text and "03/12/2026" in vi.text and "Lê" not in vi.text
        assert b.code in en.text and "cancelled" in en.text
        cfg = await s.config.get()
        assert sorted(jobs.scheduled) == sorted(
            AppointmentService.reminder_job_id(cfg, c.id, w) for w in ("eve", "hour")
        )
        # saving the same hours again cancels nothing more and tells no one again
        await admin.update_config({"hours": {"closures": ["2026-12-03"]}}, "admin", "vi")
        assert len([m for m in sent.sent if m.kind == "cancelled"]) == 2
        # the day offers no slots now
        assert (await appts.slots("HT", "2026-12-03")).slots == []

    setup(redis_url, body)


def test_a_hold_on_a_day_closed_since_cannot_be_verified(redis_url):
    async def body(appts, admin, sent, jobs, s):
        r = await appts.book("HT", "2026-12-03T08:00:00+07:00", "An", "0912000204")
        otp = re.search(r"\d{6}", sent.sent[-1].text)[0]
        await admin.update_config({"hours": {"closures": ["2026-12-03"]}}, "admin", "vi")
        with pytest.raises(AppError) as e:
            await appts.verify(r.id, otp)
        assert e.value.code == "slot_closed"
        assert jobs.scheduled == {}

    setup(redis_url, body, verify="otp")


def test_taking_back_a_swapped_working_day_cancels_its_bookings(redis_url):
    async def body(appts, admin, sent, jobs, s):
        cfg = (await s.config.get()).to_dict()
        hours = cfg["hours"] | {"sat": [], "sun": [], "extra_open_days": ["2026-12-05"]}
        await admin.update_config({"hours": hours}, "admin", "vi")
        a = await appts.book("HT", "2026-12-05T08:00:00+07:00", "An", "0912000205")
        await admin.update_config({"hours": {"extra_open_days": []}}, "admin", "vi")
        assert (await appts.store.get(a.id)).status == "cancelled"
        assert [m.ref for m in sent.sent if m.kind == "cancelled"] == [a.id]

    setup(redis_url, body)
