"""`JobQueue` over RQ: the API and the services enqueue and schedule jobs of
`queue_server.jobs` by their dotted name (so nothing here imports the jobs).

A job's description never holds its arguments (they may carry a phone):
RQ's worker logs the description of every job it runs."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from datetime import datetime
from typing import Any

from redis import Redis as SyncRedis
from redis.exceptions import WatchError
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.registry import StartedJobRegistry
from rq.scheduler import SCHEDULER_KEY_TEMPLATE, SCHEDULER_LOCKING_KEY_TEMPLATE
from rq.worker import BaseWorker, Worker

from queue_server.services.reports import JobState

log = logging.getLogger("motcua.jobs")

QUEUE_NAME = "motcua"
# a failed job (and its arguments) is kept this long for a look, not RQ's year
FAILURE_TTL_S = 7 * 24 * 3600
RESULT_TTL_S = 3600
# a report made by the worker can be fetched for a day
EXPORT_TTL_S = 24 * 3600
# a private job (its arguments hold a phone or a secret): deleted once done, a failed one kept an hour
PRIVATE_FAILURE_TTL_S = 3600


class RqJobQueue:
    """Jobs get `redis_url` (the live state, maybe a cluster); RQ keeps its
    own keys on `rq_url`, a plain Redis (default: the same one)."""

    def __init__(self, redis_url: str, rq_url: str | None = None):
        self.redis_url = redis_url
        self.rq_url = rq_url or redis_url
        self._queue: Queue | None = None

    @property
    def queue(self) -> Queue:
        if self._queue is None:
            self._queue = Queue(QUEUE_NAME, connection=SyncRedis.from_url(self.rq_url))
        return self._queue

    async def enqueue(
        self, func: str, *args: Any, retry_intervals: tuple[int, ...] = (), private: bool = False
    ) -> None:
        retry = Retry(max=len(retry_intervals), interval=list(retry_intervals)) if retry_intervals else None
        await asyncio.to_thread(
            self.queue.enqueue,
            func,
            self.redis_url,
            *args,
            retry=retry,
            description=func.rsplit(".", 1)[-1],
            failure_ttl=PRIVATE_FAILURE_TTL_S if private else FAILURE_TTL_S,
            result_ttl=0 if private else RESULT_TTL_S,  # 0: RQ deletes the job once it has run
        )

    async def schedule(self, at: datetime, func: str, *args: Any, job_id: str) -> None:
        def run() -> None:
            self._cancel(job_id)
            self.queue.enqueue_at(
                at,
                func,
                self.redis_url,
                *args,
                job_id=job_id,
                description=f"{func.rsplit('.', 1)[-1]} {job_id}",
                failure_ttl=FAILURE_TTL_S,
                result_ttl=RESULT_TTL_S,
            )

        await asyncio.to_thread(run)

    async def submit(self, func: str, *args: Any, job_id: str, meta: dict[str, Any], timeout_s: int) -> None:
        """Run `func` soon under `job_id`, with `meta` beside it (the job
        writes its progress there: rq.get_current_job().save_meta())."""
        await asyncio.to_thread(
            self.queue.enqueue,
            func,
            self.redis_url,
            *args,
            job_id=job_id,
            meta=meta,
            description=func.rsplit(".", 1)[-1],
            job_timeout=timeout_s,
            failure_ttl=FAILURE_TTL_S,
            result_ttl=EXPORT_TTL_S,
            ttl=EXPORT_TTL_S,
        )

    async def state(self, job_id: str) -> JobState | None:
        """The job's status and meta, or None."""

        def read() -> JobState | None:
            try:
                job = Job.fetch(job_id, connection=self.queue.connection)
            except NoSuchJobError:
                return None
            status = job.get_status(refresh=False)
            return JobState(status=str(getattr(status, "value", status)), meta=dict(job.meta))

        return await asyncio.to_thread(read)

    def _cancel(self, job_id: str) -> None:
        try:
            job = Job.fetch(job_id, connection=self.queue.connection)
        except NoSuchJobError:
            return
        job.delete()

    async def cancel(self, job_id: str) -> None:
        await asyncio.to_thread(self._cancel, job_id)


def _pid_alive(pid: int | None) -> bool:
    if not pid or pid == os.getpid():  # our own pid: its old owner is gone
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover_abandoned(connection: SyncRedis) -> list[str]:
    """At a worker's start: the jobs a dead worker of this machine left
    started (SIGKILL, a power cut) go through RQ's own abandoned-job path now
    (retried if they have a retry left, else failed), instead of once their
    heartbeat runs out (a minute or more) and a worker next cleans up (every
    10 minutes). A worker on another machine, or alive here, keeps its jobs.
    The dead workers' records go too (the /readyz heartbeat), and the lock
    of a dead scheduler of this machine, which would hold every scheduled
    job (close-day, reminders) back for a minute or two. The job ids."""
    queue = Queue(QUEUE_NAME, connection=connection)
    registry = StartedJobRegistry(queue=queue)
    host = socket.gethostname()
    workers: dict[str, BaseWorker | None] = {}

    def gone(name: str) -> bool:
        if name not in workers:
            prefix = Worker.redis_worker_namespace_prefix
            workers[name] = Worker.find_by_key(prefix + name, connection=connection) if name else None
        w = workers[name]
        return w is None or (w.hostname == host and not _pid_alive(w.pid))

    stale: list[str] = []
    ids: list[str] = []
    for raw in connection.zrange(registry.key, 0, -1):
        member = raw.decode() if isinstance(raw, bytes) else str(raw)
        job_id = registry.parse_job_id(member)
        try:
            job = Job.fetch(job_id, connection=connection)
        except NoSuchJobError:
            continue
        if gone(job.worker_name or ""):
            stale.append(member)
            ids.append(job_id)
    if stale:
        connection.zadd(registry.key, dict.fromkeys(stale, 1), xx=True)  # expired: RQ's cleanup takes them
        registry.cleanup(timestamp=1)
        log.warning("jobs left by a dead worker, retried or failed now: %s", ", ".join(ids))
    for w in workers.values():
        if w is not None and w.hostname == host and not _pid_alive(w.pid):
            w.register_death()
    _release_dead_scheduler_lock(connection, host)
    return ids


def _release_dead_scheduler_lock(connection: SyncRedis, host: str) -> None:
    lock = SCHEDULER_LOCKING_KEY_TEMPLATE % QUEUE_NAME
    owner = connection.get(lock)
    if owner is None:
        return
    name = owner.decode() if isinstance(owner, bytes) else str(owner)
    info = {
        (k.decode() if isinstance(k, bytes) else str(k)): (v.decode() if isinstance(v, bytes) else str(v))
        for k, v in connection.hgetall(SCHEDULER_KEY_TEMPLATE % name).items()
    }
    if info and (info.get("hostname") != host or _pid_alive(int(info.get("pid") or 0) or None)):
        return  # a live scheduler (or one elsewhere) keeps its lock
    with connection.pipeline() as pipe:  # delete it only if it is still that scheduler's
        try:
            pipe.watch(lock)
            if pipe.get(lock) == owner:
                pipe.multi()
                pipe.delete(lock)
                pipe.execute()
                log.warning("released the scheduler lock of dead scheduler %s", name)
        except WatchError:
            pass
