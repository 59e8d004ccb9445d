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

log = logging.getLogger("motcua.jobs")

QUEUE_NAME = "motcua"
# a failed job (and its arguments) is kept this long for a look, not RQ's year
FAILURE_TTL_S = 7 * 24 * 3600
RESULT_TTL_S = 3600
# a private job (its arguments hold a phone or a secret): deleted once done, a failed one kept an hour
PRIVATE_FAILURE_TTL_S = 3600


class RqJobQueue:
    def __init__(self, redis_url: str):
        self.redis_url = redis_url
        self._queue: Queue | None = None

    @property
    def queue(self) -> Queue:
        if self._queue is None:
            self._queue = Queue(QUEUE_NAME, connection=SyncRedis.from_url(self.redis_url))
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

    def _cancel(self, job_id: str) -> None:
        try:
            job = Job.fetch(job_id, connection=self.queue.connection)
        except NoSuchJobError:
            return
        job.delete()

    async def cancel(self, job_id: str) -> None:
        await asyncio.to_thread(self._cancel, job_id)
