"""The print-job queue of a site and its printer's status, in Redis.

A kiosk ticket becomes a print job keyed by the ticket id (a reprint gets
``<ticket>.rN``). The job stays in Redis until the agent acks it; a failure
makes it due again after an exponential backoff; a job the agent had when
it disconnected becomes due at once. An id that was already acked is never
queued again, and the agent skips a job id it has already printed, so a
ticket prints once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis

from queue_server.store.clock import steady_ms
from queue_server.store.connection import repeatable, text_map
from queue_server.store.keys import Keys
from queue_server.store.scripts import Scripts

log = logging.getLogger("motcua.printing")

LEASE_MS = 15_000  # a job sent to an agent comes back if not answered by then
BACKOFF_MS = 1_000  # first retry after a failure; doubles each attempt
BACKOFF_MAX_MS = 30_000
DONE_TTL_MS = 3 * 24 * 3600 * 1000
AGENT_STALE_MS = 45_000  # no word from the agent for this long: printer offline
# a first print this fresh prints even if its ticket was already called: the
# citizen is still at the kiosk (a free clerk's Next can land between the
# issue and the agent's claim)
FIRST_PRINT_GRACE_MS = 5_000
STATUSES = ("online", "offline", "paper_low", "paper_out")
STATUS_TEXT = {
    "online": ("Máy in sẵn sàng", "Printer ready"),
    "offline": ("Máy in đang lỗi hoặc mất kết nối", "Printer offline"),
    "paper_low": ("Máy in sắp hết giấy", "Printer paper low"),
    "paper_out": ("Máy in hết giấy", "Printer out of paper"),
}


# the latest first prints dropped unprinted that a printer status lists
STATUS_SKIPPED_SHOWN = 10


def _now() -> int:
    return steady_ms()  # never steps back (store/clock.py)


class PrintQueue:
    """The print jobs of one site. Agent sockets of this process register a
    waker, set whenever a job is queued or released through this instance."""

    def __init__(self, redis: Redis, keys: Keys, scripts: Scripts, clock: Callable[[], int] | None = None):
        self.redis = redis
        self.keys = keys
        self.scripts = scripts
        self.clock = clock or _now
        self._wakers: set[asyncio.Event] = set()
        # kiosks waiting for a ticket's first print to be answered (wait_answer)
        self._answered: dict[str, set[asyncio.Event]] = {}

    def add_waker(self, event: asyncio.Event) -> None:
        self._wakers.add(event)

    def remove_waker(self, event: asyncio.Event) -> None:
        self._wakers.discard(event)

    def _wake_agents(self) -> None:
        for ev in list(self._wakers):
            ev.set()

    async def wait_answer(self, ticket_id: str, timeout_s: float) -> None:
        """Wait up to `timeout_s` for this process to see the ticket's first
        job answered or dropped (an agent on another process is not seen:
        the caller reads the state again after the timeout)."""
        ev = asyncio.Event()
        self._answered.setdefault(ticket_id, set()).add(ev)
        try:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(ev.wait(), timeout_s)
        finally:
            waiting = self._answered.get(ticket_id)
            if waiting is not None:
                waiting.discard(ev)
                if not waiting:
                    del self._answered[ticket_id]

    def _wake_waiting(self, ticket_ids: list[str]) -> None:
        for tid in ticket_ids:
            for ev in self._answered.get(tid, ()):
                ev.set()

    async def enqueue(self, ticket_id: str, data: dict[str, Any], reprint: bool = False) -> dict[str, Any]:
        k = self.keys
        call = self.scripts.run(
            "print_enqueue",
            [k.print_jobs(), k.print_due, k.print_done, k.print_reprints, k.print_skipped],
            {"now": self.clock(), "channel": k.channel, "ticket": ticket_id, "reprint": reprint, "data": data},
        )
        if reprint:
            reply = await call
        else:
            with repeatable():  # a ticket's first job has the ticket's id: queued once however often sent
                reply = await call
        self._wake_agents()
        return reply

    async def enqueue_first(
        self, ticket_id: str, data: dict[str, Any], lang: str = "vi", limit: int = STATUS_SKIPPED_SHOWN
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """A ticket's first print job queued and the printer's status read
        after it, in one round trip: the enqueue reply and `status`."""
        k = self.keys
        args = {"now": self.clock(), "channel": k.channel, "ticket": ticket_id, "reprint": False, "data": data}
        rows = await self.scripts.pipelined(  # the first job has the ticket's id: queued once however often sent
            "print_enqueue",
            [k.print_jobs(), k.print_due, k.print_done, k.print_reprints, k.print_skipped],
            args,
            lambda pipe: self._status_reads(pipe, limit),
            repeat=True,
        )
        self._wake_agents()
        return json.loads(rows[0]), self._status_of(rows[1], rows[2], rows[3], lang)

    async def claim(self, limit: int = 10, max_age_ms: int = 0) -> list[dict[str, Any]]:
        """The due jobs, leased to the caller. A first print queued more than
        `max_age_ms` ago (0: no limit), or of a ticket no longer waiting
        (once FIRST_PRINT_GRACE_MS have passed since it was queued), is
        dropped and remembered as not printed; reprints always print."""
        k = self.keys
        reply = await self.scripts.run(
            "print_claim",
            [k.print_jobs(), k.print_due, k.tickets, k.print_skipped, k.print_skipped_recent],
            {
                "now": self.clock(),
                "lease_ms": LEASE_MS,
                "limit": limit,
                "max_age_ms": max_age_ms,
                "skipped_ttl_ms": DONE_TTL_MS,
                "grace_ms": FIRST_PRINT_GRACE_MS,
            },
        )
        dropped = reply.get("dropped") or []
        if isinstance(dropped, list) and dropped:
            self._wake_waiting([str(d) for d in dropped])
            log.info("dropped first prints (too old or ticket no longer waiting): %s", ", ".join(dropped))
        jobs = reply.get("jobs") or []
        return jobs if isinstance(jobs, list) else []

    async def answer(self, job_id: str, ok: bool, error: str = "") -> dict[str, Any]:
        k = self.keys
        reply = await self.scripts.run(
            "print_ack",
            [k.print_jobs(), k.print_due, k.print_done],
            {
                "now": self.clock(),
                "job": job_id,
                "ok": ok,
                "error": error[:300],
                "backoff_ms": BACKOFF_MS,
                "backoff_max_ms": BACKOFF_MAX_MS,
                "done_ttl_ms": DONE_TTL_MS,
            },
        )
        self._wake_waiting([job_id])  # a first print's job id is its ticket's id
        return reply

    async def release(self, job_ids: list[str]) -> None:
        if job_ids:
            k = self.keys
            await self.scripts.run(
                "print_release", [k.print_jobs(), k.print_due], {"now": self.clock(), "jobs": job_ids}
            )

    async def set_status(self, status: str | None = None, detail: str = "", agent: str = "") -> dict[str, Any]:
        k = self.keys
        args: dict[str, Any] = {"now": self.clock(), "agent": agent}
        if status is None:
            args["seen_only"] = True
        else:
            args.update(status=status, detail=detail[:300])
        reply = await self.scripts.run("printer_status", [k.printer_status, k.print_jobs(), k.print_due], args)
        if reply.get("released"):
            self._wake_agents()
        return reply

    async def job_state(self, ticket_id: str, lang: str | None = None) -> dict[str, Any]:
        """The original print job of a ticket: queued / printed / not_printed
        (dropped unprinted; `reason` too_old or not_waiting) / none. With
        `lang`, the printer's `status` too, as "printer": one round trip, as
        a kiosk asks it after every ticket."""
        k = self.keys
        pipe = self.redis.pipeline(transaction=False)
        pipe.hget(k.print_jobs(), ticket_id)
        pipe.hexists(k.print_done, ticket_id)
        pipe.hget(k.print_skipped, ticket_id)
        if lang is not None:
            self._status_reads(pipe, STATUS_SKIPPED_SHOWN)
        rows = await pipe.execute()
        out = self._job_state_of(rows[0], rows[1], rows[2])
        if lang is not None:
            out["printer"] = self._status_of(rows[3], rows[4], rows[5], lang)
        return out

    @staticmethod
    def _job_state_of(raw: Any, done: Any, skipped: Any) -> dict[str, Any]:
        if raw is not None:
            job = json.loads(raw)
            return {"state": "queued", "attempts": job.get("attempts", 0), "error": job.get("last_error", "")}
        if done:
            return {"state": "printed", "attempts": None, "error": ""}
        if skipped is not None:
            entry = json.loads(skipped)
            return {"state": "not_printed", "attempts": None, "error": "", "reason": entry.get("reason", "")}
        return {"state": "none", "attempts": 0, "error": ""}

    async def counts(self) -> dict[str, int]:
        """Print jobs by state: queued (due, waiting for an agent), in_flight
        (sent to an agent and not answered yet, or waiting to be retried), printed (acked in the last DONE_TTL_MS)
        and not_printed (first prints dropped unprinted). One round trip."""
        k = self.keys
        pipe = self.redis.pipeline(transaction=False)
        pipe.hlen(k.print_jobs())
        pipe.zcount(k.print_due, "-inf", self.clock())
        pipe.hlen(k.print_done)
        pipe.hlen(k.print_skipped)
        pending, due, done, skipped = (int(x) for x in await pipe.execute())
        due = min(due, pending)
        return {"queued": due, "in_flight": pending - due, "printed": done, "not_printed": skipped}

    async def not_printed(self, limit: int = 10) -> list[dict[str, Any]]:
        """The latest first prints dropped unprinted, newest first."""
        rows = await self.redis.lrange(self.keys.print_skipped_recent, 0, limit - 1)
        return [json.loads(r) for r in rows]

    async def status(self, lang: str = "vi", limit: int = STATUS_SKIPPED_SHOWN) -> dict[str, Any]:
        """The printer's state in words, its pending jobs and the latest first
        prints dropped unprinted (one round trip)."""
        pipe = self.redis.pipeline(transaction=False)
        self._status_reads(pipe, limit)
        raw_status, pending, skipped = await pipe.execute()
        return self._status_of(raw_status, pending, skipped, lang)

    def _status_reads(self, pipe: Any, limit: int) -> None:
        """Queue the reads `_status_of` takes: the printer's hash, the pending
        jobs' count, the latest first prints dropped unprinted."""
        k = self.keys
        pipe.hgetall(k.printer_status)
        pipe.hlen(k.print_jobs())
        pipe.lrange(k.print_skipped_recent, 0, limit - 1)

    def _status_of(self, raw_status: Any, pending: Any, skipped: Any, lang: str) -> dict[str, Any]:
        h = text_map(raw_status)
        now = self.clock()
        seen = int(h.get("seen") or 0)
        connected = seen > 0 and now - seen <= AGENT_STALE_MS
        status = h.get("status") or "offline"
        if not connected:
            status = "offline"
        vi, en = STATUS_TEXT.get(status, STATUS_TEXT["offline"])
        detail = (
            h.get("detail", "")
            if connected
            else ("chưa có tác tử in kết nối" if lang != "en" else "no print agent connected")
        )
        return {
            "status": status,
            "ok": status in ("online", "paper_low"),
            "agent_connected": connected,
            "message": en if lang == "en" else vi,
            "detail": detail,
            "updated_at": int(h.get("updated") or 0) or None,
            "seen_at": seen or None,
            "pending_jobs": int(pending),
            "not_printed": [json.loads(r) for r in skipped],
        }
