"""Background jobs run by the RQ worker (`motcua worker`).

Jobs receive plain arguments (a Redis URL, a site id) and open their own
connections, so they run in any worker process. Their state changes go
through the same Lua scripts, so their events reach every display.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from redis import Redis as SyncRedis
from rq import Queue

from queue_server.bootstrap import build_stores
from queue_server.domain.config import SiteConfig, load_toml
from queue_server.domain.holidays import is_public_holiday
from queue_server.domain.hours import sessions_on
from queue_server.store.archive import ArchiveRun, EventArchive
from queue_server.store.config_store import ConfigStore
from queue_server.store.connection import open_redis
from queue_server.store.keys import Keys
from queue_server.store.scripts import Scripts

log = logging.getLogger("motcua.jobs")

QUEUE_NAME = "motcua"
CLOSE_DAY_GRACE = timedelta(minutes=30)
# Finished tickets stay in the live hash this long (the tracking page and
# "find ticket" work on them); their events stay in the log for good.
KEEP_TICKETS_DAYS = 30
# The event stream keeps this many days; older events live in the Parquet archive only.
ARCHIVE_WINDOW_DAYS = 35
ARCHIVE_EVERY = timedelta(minutes=1)


def queue_for(redis_url: str) -> Queue:
    return Queue(QUEUE_NAME, connection=SyncRedis.from_url(redis_url))


def close_day(
    redis_url: str,
    site_id: str,
    config_path: str | None = None,
    reschedule: bool = True,
    data_dir: str | None = None,
) -> int:
    """Expire every ticket still waiting or called, forget finished tickets
    older than KEEP_TICKETS_DAYS, mark the appointments of today (and
    yesterday, should a run have been missed) not checked in by the end of
    their window as no-shows; with a data dir, archive the day's events
    (archive_events); then book tomorrow's run."""

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
    if data_dir is not None:
        archive_events(redis_url, site_id, data_dir, reschedule=False)
    if reschedule:
        schedule_close_day(queue_for(redis_url), cfg, redis_url, config_path, data_dir=data_dir)
    return expired


def archive_events(
    redis_url: str,
    site_id: str,
    data_dir: str,
    window_days: int = ARCHIVE_WINDOW_DAYS,
    reschedule: bool = True,
) -> dict[str, object]:
    """Append the events after the archive checkpoint to the daily Parquet
    files under `data_dir`, then trim the stream to `window_days` (never what
    is not archived: store/archive.py); then book the next run a minute on."""

    async def run() -> ArchiveRun:
        redis = open_redis(redis_url, max_connections=4)
        try:
            keys = Keys(site_id)
            cfg = await ConfigStore(redis, keys, Scripts(redis), load_toml(None)).get()
            archive = EventArchive(redis, keys, Scripts(redis), Path(data_dir))
            return await archive.run(cfg.site.tz, int(time.time() * 1000), window_days)
        finally:
            await redis.aclose()

    done = asyncio.run(run())
    log.info(
        "archive %s: %d events archived up to %s, %d trimmed", site_id, done.archived, done.checkpoint, done.trimmed
    )
    if reschedule:
        schedule_archive(queue_for(redis_url), site_id, redis_url, data_dir, window_days=window_days)
    return {"archived": done.archived, "checkpoint": done.checkpoint, "trimmed": done.trimmed}


def schedule_archive(
    queue: Queue,
    site_id: str,
    redis_url: str,
    data_dir: str,
    now: datetime | None = None,
    window_days: int = ARCHIVE_WINDOW_DAYS,
) -> str:
    """Book the archive job at the start of the next minute, once (the job id
    dedupes: a second API process or a restart books nothing more)."""
    at = (now or datetime.now(UTC)).replace(second=0, microsecond=0) + ARCHIVE_EVERY
    job_id = f"archive-{site_id}-{at:%Y%m%d%H%M}"
    if queue.fetch_job(job_id) is None:
        queue.enqueue_at(
            at,
            archive_events,
            redis_url,
            site_id,
            str(data_dir),
            window_days,
            job_id=job_id,
            description=f"archive events of {site_id}",
        )
    return job_id


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
    queue: Queue,
    cfg: SiteConfig,
    redis_url: str,
    config_path: str | None,
    now: datetime | None = None,
    data_dir: str | None = None,
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
            True,
            data_dir,
            job_id=job_id,
            description=f"close day {at:%Y-%m-%d} for {cfg.site.id}",
        )
    return job_id
