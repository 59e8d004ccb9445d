"""Background jobs run by the RQ worker (`motcua worker`).

Jobs receive plain arguments (a Redis URL, a site id) and open their own
connections, so they run in any worker process. Their state changes go
through the same Lua scripts, so their events reach every display.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from redis import Redis as SyncRedis
from rq import Queue, Retry, get_current_job

from queue_server.adapters.jobs import QUEUE_NAME
from queue_server.adapters.notify import Outbox
from queue_server.bootstrap import Stores, build_services, build_stores, outbox_dir
from queue_server.domain.config import SiteConfig, load_toml
from queue_server.domain.holidays import is_public_holiday
from queue_server.domain.hours import sessions_on
from queue_server.domain.reports import closed_periods
from queue_server.services.appointments import NOTICES_LEFT_MS
from queue_server.services.reports import Export, ReportService, write_atomic
from queue_server.settings import Settings, rq_redis_url
from queue_server.store.archive import ArchiveRun
from queue_server.store.clock import steady_ms
from queue_server.store.connection import open_redis

log = logging.getLogger("motcua.jobs")

HTTP_TIMEOUT_S = 10.0
CLOSE_DAY_GRACE = timedelta(minutes=30)
# Finished tickets stay in the live hash this long (the tracking page and
# "find ticket" work on them); their events stay in the log for good.
KEEP_TICKETS_DAYS = 30
# The event stream keeps this many days; older events live in the Parquet archive only.
ARCHIVE_WINDOW_DAYS = 35
ARCHIVE_EVERY = timedelta(minutes=1)
# close-day and the archive book their next run when they end: a run a
# killed worker left half done runs once more (adapters/jobs.recover_abandoned),
# or the chain of runs would stop there. Both are safe to run again.
RESUME_ONCE = Retry(max=1)


def queue_for(redis_url: str) -> Queue:
    """RQ's queue for jobs on the live state at `redis_url`: on RQ's own
    Redis when that is set apart (settings.rq_redis_url)."""
    return Queue(QUEUE_NAME, connection=SyncRedis.from_url(rq_redis_url(redis_url)))


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

    async def run() -> tuple[int, int, int, int, SiteConfig]:
        redis = open_redis(redis_url, max_connections=4)
        try:
            stores = await build_stores(redis, load_toml(config_path), site_id)
            steady_ms.not_before(await stores.events.last_ts() or 0)  # a clock stepped back: stamps still come after
            expired = await stores.tickets.close_day(actor="system")
            purged = await stores.tickets.purge_tickets(KEEP_TICKETS_DAYS)
            cfg = await stores.config.get()
            no_shows = await sweep_no_shows(stores, cfg)
            # bookings whose confirmation and reminders their API process died before doing
            services = build_services(stores, Settings.from_env(redis_url=redis_url))
            redone = await services.appointments.redo_left_notices(NOTICES_LEFT_MS)
            if redone:
                log.info("close_day %s: notices of %d bookings done again", site_id, redone)
            forgotten = await forget_personal(stores, cfg)
            await stores.room.forget_phones(every=True)  # the phones given for a notice: the day's only
            return expired, purged, no_shows, forgotten, cfg
        finally:
            await redis.aclose()

    expired, purged, no_shows, forgotten, cfg = asyncio.run(run())
    log.info(
        "close_day %s: %d tickets expired, %d old tickets purged, %d appointments not checked in, "
        "%d holders' name and phone deleted",
        site_id,
        expired,
        purged,
        no_shows,
        forgotten,
    )
    if data_dir is not None:
        archive_events(redis_url, site_id, data_dir, reschedule=False)
    if reschedule:
        schedule_close_day(queue_for(redis_url), cfg, redis_url, config_path, data_dir=data_dir)
    return expired


async def sweep_no_shows(stores: Stores, cfg: SiteConfig) -> int:
    """Mark the appointments of today and yesterday (should a run have been
    missed) whose check-in window has closed unused as no-shows."""
    today = datetime.fromtimestamp(stores.appointments.clock() / 1000, UTC).astimezone(cfg.site.tz).date()
    late_ms = cfg.appointments.checkin_late_minutes * 60_000
    swept = 0
    for day in (today - timedelta(days=1), today):
        swept += len(await stores.appointments.sweep_no_shows(day.strftime("%Y%m%d"), late_ms=late_ms))
    return swept


async def forget_personal(stores: Stores, cfg: SiteConfig, settings: Settings | None = None) -> int:
    """Delete the name and phone of bookings whose slot is more than
    keep_personal_days old, and the outbox messages (they hold phones) as old."""
    keep = cfg.appointments.keep_personal_days
    forgotten = await stores.appointments.forget_personal(keep)
    outbox = Outbox(outbox_dir(settings or Settings.from_env()))
    await outbox.prune(stores.appointments.clock() - keep * 24 * 3600_000)
    return forgotten


def archive_events(
    redis_url: str,
    site_id: str,
    data_dir: str,
    window_days: int = ARCHIVE_WINDOW_DAYS,
    reschedule: bool = True,
) -> dict[str, object]:
    """The minute's job. First the appointments whose check-in window closed
    unused become no-shows (today's and yesterday's: at most a minute after
    the window, not only at close-day); then the events after the archive
    checkpoint are appended to the daily Parquet files under `data_dir`, and
    the stream trimmed to `window_days` (never what is not archived:
    store/archive.py); then the next run is booked a minute on."""

    async def run() -> tuple[int, ArchiveRun]:
        redis = open_redis(redis_url, max_connections=4)
        try:
            stores = await build_stores(redis, load_toml(None), site_id, data_dir)
            cfg = await stores.config.get()
            no_shows = await sweep_no_shows(stores, cfg)
            return no_shows, await stores.archive.run(cfg.site.tz, int(time.time() * 1000), window_days)
        finally:
            await redis.aclose()

    no_shows, done = asyncio.run(run())
    log.info(
        "archive %s: %d appointments not checked in, %d events archived up to %s, %d trimmed",
        site_id,
        no_shows,
        done.archived,
        done.checkpoint,
        done.trimmed,
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
            retry=RESUME_ONCE,
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
            retry=RESUME_ONCE,
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


# -- reports made by the worker (issue #11) ---------------------------------------------------------
def export_report(
    redis_url: str,
    site_id: str,
    data_dir: str,
    job_id: str,
    fmt: str,
    start: str,
    end: str,
    category: str | None = None,
    counter: str | None = None,
    clerk: str | None = None,
    source: str | None = None,
) -> dict[str, object]:
    """A report export asked for on /reports (POST /api/reports/exports):
    made as services/reports.py makes it, its progress (0–100 and the stage:
    query, sheets, charts, pages) written into the job's meta as it goes,
    the file kept under <data dir>/reports/<site>/exports/<job id>.<format>."""
    job = get_current_job()
    last = [-1]

    def progress(pct: int, stage: str) -> None:
        if job is None or pct <= last[0] and stage == job.meta.get("stage"):
            return
        last[0] = max(last[0], pct)
        job.meta["progress"] = last[0]
        job.meta["stage"] = stage
        job.meta.setdefault("seen", []).append([last[0], stage])
        job.save_meta()

    async def run() -> Export:
        redis = open_redis(redis_url, max_connections=4)
        try:
            stores = await build_stores(redis, load_toml(None), site_id, data_dir)
            reports = ReportService(stores.config, stores.archive, data_dir=data_dir)
            return await reports.export(fmt, start, end, category, counter, clerk, source, progress=progress)
        finally:
            await redis.aclose()

    progress(1, "query")
    export = asyncio.run(run())
    path = Path(data_dir) / "reports" / site_id / "exports" / f"{job_id}.{fmt}"
    write_atomic(path, export.content)
    if job is not None:
        job.meta["filename"] = export.filename
    progress(100, "done")
    prune_exports(path.parent)
    log.info("report export %s: %s, %d bytes", job_id, fmt, len(export.content))
    return {"file": path.name, "size": len(export.content)}


def prune_exports(folder: Path, keep: timedelta = timedelta(days=2)) -> int:
    """Delete the worker's exports older than `keep` (their jobs are gone by then)."""
    cutoff = time.time() - keep.total_seconds()
    gone = 0
    for f in folder.glob("rx-*"):
        if f.stat().st_mtime < cutoff:
            f.unlink(missing_ok=True)
            gone += 1
    return gone


# Site local time of the daily check for a month or quarter over (after close-day's archive run).
PERIOD_REPORTS_AT = dtime(5, 30)


def period_reports(
    redis_url: str,
    site_id: str,
    data_dir: str,
    today: str | None = None,
    reschedule: bool = True,
) -> list[str]:
    """The reports of the month and of the quarter that ended last before
    `today` (YYYY-MM-DD; default the site's today), XLSX and PDF, kept under
    <data dir>/reports/<site>/periodic/ for /reports to list; each made once
    (a file already there is left alone). Then tomorrow's check is booked."""

    async def run() -> tuple[list[str], SiteConfig]:
        redis = open_redis(redis_url, max_connections=4)
        try:
            stores = await build_stores(redis, load_toml(None), site_id, data_dir)
            cfg = await stores.config.get()
            day = date.fromisoformat(today) if today else datetime.now(UTC).astimezone(cfg.site.tz).date()
            reports = ReportService(stores.config, stores.archive, data_dir=data_dir)
            return await reports.make_periodic(closed_periods(day)), cfg
        finally:
            await redis.aclose()

    made, cfg = asyncio.run(run())
    log.info("period reports %s: %s", site_id, ", ".join(made) or "nothing new")
    if reschedule:
        schedule_period_reports(queue_for(redis_url), site_id, cfg.site.timezone, redis_url, data_dir)
    return made


def schedule_period_reports(
    queue: Queue, site_id: str, timezone: str, redis_url: str, data_dir: str, now: datetime | None = None
) -> str:
    """Book the daily check for a closed month or quarter at
    PERIOD_REPORTS_AT, once per site and day (the job id dedupes)."""
    tz = ZoneInfo(timezone)
    local = (now or datetime.now(UTC)).astimezone(tz)
    at = datetime.combine(local.date(), PERIOD_REPORTS_AT, tzinfo=tz)
    if at <= local:
        at += timedelta(days=1)
    job_id = f"period-reports-{site_id}-{at:%Y%m%d}"
    if queue.fetch_job(job_id) is None:
        queue.enqueue_at(
            at,
            period_reports,
            redis_url,
            site_id,
            data_dir,
            None,
            True,
            job_id=job_id,
            description=f"period reports {at:%Y-%m-%d} for {site_id}",
            job_timeout=1800,
        )
    return job_id


class DeliveryFailed(RuntimeError):
    """A gateway refused or did not take a message: RQ tries again (Retry)."""


def deliver_http(redis_url: str, request: dict) -> int:
    """Send one notice to an HTTP gateway (an SMS gateway or Zalo ZNS), as
    `adapters.notify` built it: {url, headers, content, kind, zalo}. A
    status other than 2xx, a network error or a ZNS reply whose `error` is
    not 0 fails the job, and RQ retries it. Logs the kind and the status,
    never the phone or the text."""
    kind = request.get("kind", "")
    try:
        r = httpx.post(
            request["url"], headers=request["headers"], content=request["content"].encode(), timeout=HTTP_TIMEOUT_S
        )
    except httpx.HTTPError as e:
        log.warning("notice %s: gateway unreachable (%s)", kind, type(e).__name__)
        raise DeliveryFailed(f"{kind}: {type(e).__name__}") from None
    if not 200 <= r.status_code < 300:
        log.warning("notice %s: gateway answered %d", kind, r.status_code)
        raise DeliveryFailed(f"{kind}: HTTP {r.status_code}")
    if request.get("zalo"):
        try:
            err = r.json().get("error", -1)
        except ValueError:
            err = -1
        if err != 0:
            log.warning("notice %s: ZNS error %s", kind, err)
            raise DeliveryFailed(f"{kind}: ZNS error {err}")
    log.info("notice %s sent (%d)", kind, r.status_code)
    return r.status_code


def send_reminder(redis_url: str, site_id: str, appointment_id: str, start_ms: int) -> bool:
    """A booking's reminder (scheduled at booking, rescheduled on a move,
    deleted on a cancel): sent through the site's notifier only if the
    booking is still booked for the slot at `start_ms` -- so a reminder whose
    cancel or move was lost sends nothing. Whether it sent."""

    async def run() -> bool:
        redis = open_redis(redis_url, max_connections=4)
        try:
            stores = await build_stores(redis, load_toml(None), site_id)
            services = build_services(stores, Settings.from_env(redis_url=redis_url))
            return await services.appointments.remind(appointment_id, start_ms)
        finally:
            await redis.aclose()

    sent = asyncio.run(run())
    log.info("reminder %s: %s", appointment_id, "sent" if sent else "not sent (cancelled or moved)")
    return sent


def turn_notices(redis_url: str, site_id: str) -> int:
    """The "your turn is near" notices due after a call (services/room.py):
    each ticket whose holder gave a phone gets one, through the site's
    notifier, when at most [room] warn_ahead people are before it. How many went."""

    async def run() -> int:
        redis = open_redis(redis_url, max_connections=4)
        try:
            stores = await build_stores(redis, load_toml(None), site_id)
            services = build_services(stores, Settings.from_env(redis_url=redis_url))
            return await services.room.send_due_notices()
        finally:
            await redis.aclose()

    sent = asyncio.run(run())
    log.info("turn notices %s: %d sent", site_id, sent)
    return sent
