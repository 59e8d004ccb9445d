"""The daily backup: run by a real RQ worker, its result kept for the admin
page, old backups pruned, booked once per day."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from redis import Redis as SyncRedis

from queue_server.backup import PREFIX, prune
from queue_server.jobs import backup_job, next_backup_time, queue_for, schedule_backup
from queue_server.store.backups import BackupLog
from queue_server.store.connection import open_redis
from queue_server.store.keys import Keys
from tests.helpers import make_store, run_sync, test_config

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


async def _last(url: str, site: str):
    r = open_redis(url, max_connections=2)
    try:
        return await BackupLog(r, Keys(site)).last()
    finally:
        await r.aclose()


def test_backup_job_runs_in_a_real_worker_and_is_shown(redis_url, tmp_path):
    cfg = test_config()

    async def prepare():
        s = await make_store(redis_url, cfg)
        await s.issue("HT")
        await s.redis.aclose()

    run_sync(prepare())
    dest = tmp_path / "backups"
    dest.mkdir()
    old = dest / f"{PREFIX}{cfg.site.id}-20200101-181500.tar.gz"
    old.write_bytes(b"old")
    month_ago = time.time() - 30 * 86400
    os.utime(old, (month_ago, month_ago))
    q = queue_for(redis_url)
    job = q.enqueue(backup_job, redis_url, cfg.site.id, "Asia/Ho_Chi_Minh", str(tmp_path / "var"), str(dest), 14, False)
    subprocess.run(
        [sys.executable, "-m", "queue_server.cli", "worker", "--burst", "--redis-url", redis_url],
        check=True,
        timeout=120,
        capture_output=True,
    )
    job.refresh()
    assert job.get_status() == "finished", job.exc_info
    result = job.return_value()
    assert result["ok"] is True and os.path.isfile(result["file"])
    assert not old.exists()  # older than 14 days: deleted after the good one
    last = run_sync(_last(redis_url, cfg.site.id))
    assert last == result and last["size"] == os.path.getsize(result["file"])
    assert last["at"].endswith("+07:00")


def test_a_failed_backup_is_recorded(redis_url, tmp_path):
    cfg = test_config()
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the backup folder should be")
    result = backup_job(redis_url, cfg.site.id, "Asia/Ho_Chi_Minh", str(tmp_path), str(blocker / "x"), 14, False)
    assert result["ok"] is False
    last = run_sync(_last(redis_url, cfg.site.id))
    assert last["ok"] is False and last["error"] and last["file"] == ""


def test_prune_keeps_the_newest_and_other_sites(tmp_path):
    now = datetime(2026, 12, 1, tzinfo=UTC)
    files = {}
    for name, days in (("a-1", 30), ("a-2", 20), ("a-3", 1), ("b-1", 30)):
        site, n = name.split("-")
        p = tmp_path / f"{PREFIX}{site}-2026010{n}-181500.tar.gz"
        p.write_bytes(b"x")
        at = (now - timedelta(days=days)).timestamp()
        os.utime(p, (at, at))
        files[name] = p
    assert set(prune(tmp_path, "a", 14, now)) == {files["a-1"], files["a-2"]}
    assert files["a-3"].exists() and files["b-1"].exists()
    # only old ones left: the newest of them stays
    assert prune(tmp_path, "b", 14, now) == []


def test_backup_is_booked_once_per_day_after_hours(redis_url):
    cfg = test_config()
    now = datetime(2026, 11, 25, 10, 0, tzinfo=HCM)
    assert next_backup_time(HCM, now) == datetime(2026, 11, 25, 18, 15, tzinfo=HCM)
    assert next_backup_time(HCM, datetime(2026, 11, 25, 19, 0, tzinfo=HCM)) == datetime(
        2026, 11, 26, 18, 15, tzinfo=HCM
    )
    q = queue_for(redis_url)
    args = (cfg.site.id, "Asia/Ho_Chi_Minh", redis_url, "/tmp/var", "/tmp/var/backups", 14)
    j1 = schedule_backup(q, *args, now=now)
    j2 = schedule_backup(q, *args, now=now)
    assert j1 == j2 == f"backup-{cfg.site.id}-20261125"
    assert len([j for j in q.scheduled_job_registry.get_job_ids() if j == j1]) == 1
    SyncRedis.from_url(redis_url).close()
