"""`JobQueue` over RQ: the API and the services enqueue and schedule jobs of
`queue_server.jobs` by their dotted name (so nothing here imports the jobs).

A job's description never holds its arguments (they may carry a phone):
RQ's worker logs the description of every job it runs."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from redis import Redis as SyncRedis
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job

from queue_server.services.reports import JobState

log = logging.getLogger("motcua.jobs")

QUEUE_NAME = "motcua"
# a failed job (and its arguments) is kept this long for a look, not RQ's year
FAILURE_TTL_S = 7 * 24 * 3600
RESULT_TTL_S = 3600
# a report made by the worker can be fetched for a day
EXPORT_TTL_S = 24 * 3600


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

    async def enqueue(self, func: str, *args: Any, retry_intervals: tuple[int, ...] = ()) -> None:
        retry = Retry(max=len(retry_intervals), interval=list(retry_intervals)) if retry_intervals else None
        await asyncio.to_thread(
            self.queue.enqueue,
            func,
            self.redis_url,
            *args,
            retry=retry,
            description=func.rsplit(".", 1)[-1],
            failure_ttl=FAILURE_TTL_S,
            result_ttl=RESULT_TTL_S,
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
