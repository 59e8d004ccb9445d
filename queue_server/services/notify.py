"""The ports through which the use cases reach the world outside Redis:
a `Notifier` that sends a citizen a message (adapters in
`queue_server.adapters.notify`: outbox, sms_http, zalo_zns), the `Outbox`
an admin reads, and the `JobQueue` that runs and schedules background jobs
(RQ, in `queue_server.adapters.jobs`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from queue_server.domain.notify import Message


class Notifier(Protocol):
    async def send(self, message: Message) -> None:
        """Send (or hand to a job that sends) one message; never raises for a gateway's failure."""
        ...


class OutboxReader(Protocol):
    async def latest(self, limit: int) -> list[dict[str, Any]]:
        """The newest messages written to the outbox, newest first."""
        ...


class JobQueue(Protocol):
    """Background jobs (`queue_server.jobs`, named by dotted path). Each job is
    called with the queue's Redis URL first, then the arguments given."""

    async def enqueue(
        self, func: str, *args: Any, retry_intervals: tuple[int, ...] = (), private: bool = False
    ) -> None:
        """Run `func` soon, retried after each interval. `private`: its
        arguments hold a phone or a gateway's secret, so the job is deleted
        once done, and kept only briefly when it has failed for good."""
        ...

    async def schedule(self, at: datetime, func: str, *args: Any, job_id: str) -> None:
        """Run `func` at `at` (replaces a job of the same id)."""
        ...

    async def cancel(self, job_id: str) -> None:
        """Forget a scheduled job (nothing when there is none)."""
        ...


@dataclass
class SentLog:
    """A Notifier for tests and for a site without any: keeps what it was given."""

    sent: list[Message]

    async def send(self, message: Message) -> None:
        self.sent.append(message)


class OutboxService:
    """What the admin reads of the outbox."""

    def __init__(self, outbox: OutboxReader | None):
        self.outbox = outbox

    async def latest(self, limit: int = 50) -> list[dict[str, Any]]:
        if self.outbox is None:
            return []
        return await self.outbox.latest(max(1, min(limit, 500)))
