"""RQ jobs run by a real `motcua worker` process."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

from redis import Redis as SyncRedis

from queue_server.domain.model import TicketStatus
from queue_server.jobs import close_day, next_close_time, queue_for, schedule_close_day
from tests.helpers import make_store, run_sync, test_config

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


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
