"""The RQ worker (and its work horse) SIGKILLed in the middle of the
close-day job and of the event archive, then started again: the job a dead
worker left runs once more at once (adapters/jobs.recover_abandoned, the
jobs' Retry(max=1)), nothing is expired twice, no event is lost or archived
twice in the Parquet files, and the next run is booked."""

from __future__ import annotations

import asyncio
import fcntl
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow.parquet as pq
import pytest
from redis import Redis
from rq import Queue
from rq.job import Job

from queue_server import redis_server
from queue_server.domain.config import parse_config
from queue_server.jobs import QUEUE_NAME, schedule_archive, schedule_close_day
from queue_server.store.keys import Keys
from tests.faults.procs import kill_tree
from tests.helpers import make_store, run_sync, test_config_dict
from tests.server import write_toml

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
TICKETS = 600


@pytest.fixture(scope="module")
def own_redis():
    proc = redis_server.start(tempfile.mkdtemp(prefix="motcua-fault-worker-"))
    yield proc
    proc.stop()


def _site(url: str, tmp: Path) -> tuple[object, str]:
    d = test_config_dict()
    path = tmp / "site.toml"
    write_toml(d, path)
    cfg = parse_config(d)

    async def fill():
        s = await make_store(url, cfg)
        try:
            for i in range(0, TICKETS, 50):  # 50 kiosks at once
                await asyncio.gather(*(s.issue(("HT", "CT", "KH")[(i + j) % 3]) for j in range(50)))
            await s.call_next(1)
        finally:
            await s.redis.aclose()

    run_sync(fill())
    return cfg, str(path)


def _start_worker(url: str, data: Path, n: int) -> tuple[subprocess.Popen, Path]:
    log = data / f"worker-{n}.log"
    with open(log, "ab") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "queue_server.cli", "worker", "--redis-url", url, "--data-dir", str(data)],
            stdout=fh,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # the worker and its work horse: one group to kill
            env=dict(os.environ, PYTHONUNBUFFERED="1"),
        )
    return proc, log


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def _archive_busy(lock: Path) -> bool:
    """Whether another process is inside the archive writer (holds its lock)."""
    if not lock.exists():
        return False
    with open(lock, "a+b") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    return False


def _wait(pred, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.005)
    raise AssertionError(f"timed out waiting for {what}")


def _archived_ids(data: Path, site: str) -> list[str]:
    ids: list[str] = []
    for f in sorted((data / "archive" / site / "events").glob("*.parquet")):
        ids += pq.read_table(f, columns=["id"]).column("id").to_pylist()
    return ids


def _kill_mid_job_and_resume(url: str, data: Path, job_id: str, site: str) -> tuple[Job, int]:
    """Start a worker, kill its group while the job is inside the archive
    writer, start another; the resumed job's final state and how many runs
    the workers' logs show."""
    lock = data / "archive" / site / "events" / ".lock"
    conn = Redis.from_url(url)
    first, log1 = _start_worker(url, data, 1)
    try:
        _wait(lambda: _archive_busy(lock), 30, "the job inside the archive writer")
        kill_tree(first)  # the worker and its work horse (in a session of its own)
        job = Job.fetch(job_id, connection=conn)
        assert job.get_status() == "started", job.get_status()  # killed mid-run, not after
        second, log2 = _start_worker(url, data, 2)
        try:
            _wait(
                lambda: Job.fetch(job_id, connection=conn).get_status() in ("finished", "failed"), 60, "the resumed job"
            )
        finally:
            _stop(second)
        return Job.fetch(job_id, connection=conn), log2.read_text().count(f"Job OK ({job_id})")
    finally:
        _stop(first)
        conn.close()


def test_worker_killed_during_close_day(own_redis, fault_report):
    url = own_redis.url
    data = Path(tempfile.mkdtemp(prefix="motcua-fault-close-"))
    cfg, config_path = _site(url, data)
    site = cfg.site.id
    q = Queue(QUEUE_NAME, connection=Redis.from_url(url))
    # a close-day whose time has come (a past day's): the scheduler runs it at once
    job_id = schedule_close_day(q, cfg, url, config_path, now=datetime(2026, 11, 2, 8, tzinfo=TZ), data_dir=str(data))
    job, resumed_ok = _kill_mid_job_and_resume(url, data, job_id, site)

    r = Redis.from_url(url, decode_responses=True)
    try:
        keys = Keys(site)
        events = r.xrange(keys.events)
        tickets = r.hgetall(keys.tickets)
        scheduled = [j for j in q.scheduled_job_registry.get_job_ids() if j.startswith(f"close-day-{site}-")]
    finally:
        r.close()
    expires = Counter(f["ticket"] for _, f in events if f.get("type") == "expire")
    still_open = sum(1 for raw in tickets.values() if '"status":"waiting"' in raw or '"status":"called"' in raw)
    archived = _archived_ids(data, site)
    lost = still_open + len({sid for sid, _ in events} - set(archived))
    twice = sum(n - 1 for n in expires.values()) + (len(archived) - len(set(archived)))
    fault_report("worker-killed-close-day", lost, twice, expired=len(expires), runs_after_kill=resumed_ok)
    assert job.get_status() == "finished" and job.retries_left == 0, (job.get_status(), job.retries_left)
    assert resumed_ok == 1  # resumed once
    assert lost == 0 and twice == 0
    assert len(expires) == TICKETS  # every ticket expired, once
    assert len(scheduled) == 1 and scheduled != [job_id], scheduled  # the next close-day, booked once


def test_worker_killed_during_the_event_archive(own_redis, fault_report):
    url = own_redis.url
    data = Path(tempfile.mkdtemp(prefix="motcua-fault-archive-"))
    cfg, _ = _site(url, data)
    site = cfg.site.id
    q = Queue(QUEUE_NAME, connection=Redis.from_url(url))
    job_id = schedule_archive(q, site, url, str(data), now=datetime(2026, 11, 2, 8, tzinfo=TZ))
    job, resumed_ok = _kill_mid_job_and_resume(url, data, job_id, site)

    r = Redis.from_url(url, decode_responses=True)
    try:
        keys = Keys(site)
        stream = [sid for sid, _ in r.xrange(keys.events)]
        checkpoint = r.get(keys.archive_checkpoint)
        booked = [j for j in q.scheduled_job_registry.get_job_ids() if j.startswith(f"archive-{site}-")]
    finally:
        r.close()
    archived = _archived_ids(data, site)
    lost = len(set(stream) - set(archived))
    twice = len(archived) - len(set(archived))
    fault_report("worker-killed-archive", lost, twice, events=len(stream), archived=len(archived))
    assert job.get_status() == "finished" and job.retries_left == 0, (job.get_status(), job.retries_left)
    assert resumed_ok == 1
    assert lost == 0 and twice == 0
    assert checkpoint == stream[-1]
    assert len(booked) == 1 and booked != [job_id], booked  # the next minute's run, booked once
