"""Background jobs run by the RQ worker (`motcua worker`).

Jobs receive plain arguments (a Redis URL, a site id) and open their own
connections, so they run in any worker process. Their state changes go
through the same Lua scripts, so their events reach every display.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

from redis import Redis as SyncRedis
from rq import Queue

from queue_server.bootstrap import build_stores
from queue_server.domain.config import SiteConfig, load_toml
from queue_server.domain.holidays import is_public_holiday
from queue_server.domain.hours import sessions_on
from queue_server.store.connection import open_redis
from queue_server.store.keys import JOBS_QUEUE

log = logging.getLogger("motcua.jobs")

QUEUE_NAME = JOBS_QUEUE
CLOSE_DAY_GRACE = timedelta(minutes=30)
# Finished tickets stay in the live hash this long (the tracking page and
# "find ticket" work on them); their events stay in the log for good.
KEEP_TICKETS_DAYS = 30


def queue_for(redis_url: str) -> Queue:
    return Queue(QUEUE_NAME, connection=SyncRedis.from_url(redis_url))


def close_day(redis_url: str, site_id: str, config_path: str | None = None, reschedule: bool = True) -> int:
    """Expire every ticket still waiting or called, forget finished tickets
    older than KEEP_TICKETS_DAYS, mark the appointments of today (and
    yesterday, should a run have been missed) not checked in by the end of
    their window as no-shows; then book tomorrow's run."""

    async def run() -> tuple[int, int, int, SiteConfig]:
        redis = open_redis(redis_url, max_connections=4)
        try:
            stores = await build_stores(redis, load_toml(config_path), site_id)
            expired = await stores.tickets.close_day(actor="system")
            purged = await stores.tickets.purge_tickets(KEEP_TICKETS_DAYS)
            cfg = await stores.config.get()
            today = datetime.now(UTC).astimezone(cfg.site.tz).date()
            late_ms = cfg.appointments.checkin_late_minutes * 60_000
            no_shows = 0
            for day in (today - timedelta(days=1), today):
                swept = await stores.appointments.sweep_no_shows(day.strftime("%Y%m%d"), late_ms=late_ms)
                no_shows += len(swept)
            return expired, purged, no_shows, cfg
        finally:
            await redis.aclose()

    expired, purged, no_shows, cfg = asyncio.run(run())
    log.info(
        "close_day %s: %d tickets expired, %d old tickets purged, %d appointments not checked in",
        site_id,
        expired,
        purged,
        no_shows,
    )
    if reschedule:
        schedule_close_day(queue_for(redis_url), cfg, redis_url, config_path)
    return expired


def next_close_time(cfg: SiteConfig, now: datetime) -> datetime:
    """The end of the last session of today (or the next working day) + grace."""
    tz = cfg.site.tz
    local = now.astimezone(tz)
    for offset in range(0, 60):
        day = local.date() + timedelta(days=offset)
        sessions = sessions_on(day, cfg.hours, is_public_holiday if cfg.hours.public_holidays else lambda d: False)
        if not sessions:
            continue
        at = datetime.combine(day, sessions[-1].end, tzinfo=tz) + CLOSE_DAY_GRACE
        if at > local:
            return at
    return local + timedelta(days=1)


def schedule_close_day(
    queue: Queue, cfg: SiteConfig, redis_url: str, config_path: str | None, now: datetime | None = None
) -> str:
    """Book the close-day job once per site and day (the job id dedupes)."""
    at = next_close_time(cfg, now or datetime.now(UTC))
    job_id = f"close-day-{cfg.site.id}-{at:%Y%m%d}"
    if queue.fetch_job(job_id) is None:
        queue.enqueue_at(
            at,
            close_day,
            redis_url,
            cfg.site.id,
            config_path,
            job_id=job_id,
            description=f"close day {at:%Y-%m-%d} for {cfg.site.id}",
        )
    return job_id


# -- the daily backup (queue_server/backup.py) ------------------------------------------------------
# Site local time of the daily backup: after the afternoon session and its close-day run.
BACKUP_AT = dtime(18, 15)


def backup_job(
    redis_url: str,
    site_id: str,
    timezone: str,
    data_dir: str,
    backup_dir: str,
    keep_days: int,
    reschedule: bool = True,
) -> dict:
    """Write the day's backup into `backup_dir`, delete those older than
    `keep_days`, keep the result for the admin page; then book tomorrow's."""
    from queue_server.backup import BackupError, run_backup

    tz = ZoneInfo(timezone)
    try:
        result = run_backup(redis_url, Path(data_dir), Path(backup_dir), site_id, tz, keep_days).to_dict()
        log.info("backup %s: %s (%d bytes)", site_id, result["file"], result["size"])
    except BackupError as e:  # recorded for the admin page already
        log.error("backup %s failed: %s", site_id, e)
        result = {"ok": False, "error": str(e)}
    finally:
        if reschedule:
            schedule_backup(queue_for(redis_url), site_id, timezone, redis_url, data_dir, backup_dir, keep_days)
    return result


def next_backup_time(tz: ZoneInfo, now: datetime) -> datetime:
    local = now.astimezone(tz)
    at = datetime.combine(local.date(), BACKUP_AT, tzinfo=tz)
    return at if at > local else at + timedelta(days=1)


def schedule_backup(
    queue: Queue,
    site_id: str,
    timezone: str,
    redis_url: str,
    data_dir: str,
    backup_dir: str,
    keep_days: int,
    now: datetime | None = None,
) -> str:
    """Book the daily backup once per site and day (the job id dedupes)."""
    at = next_backup_time(ZoneInfo(timezone), now or datetime.now(UTC))
    job_id = f"backup-{site_id}-{at:%Y%m%d}"
    if queue.fetch_job(job_id) is None:
        queue.enqueue_at(
            at,
            backup_job,
            redis_url,
            site_id,
            timezone,
            data_dir,
            backup_dir,
            keep_days,
            job_id=job_id,
            description=f"backup {at:%Y-%m-%d} for {site_id}",
            job_timeout=1800,
        )
    return job_id
