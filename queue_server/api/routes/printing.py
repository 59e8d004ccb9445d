"""Ticket printing: the print-job queue in Redis, the print agent's websocket,
printer status and reprint.

A kiosk ticket becomes a print job keyed by the ticket id (a reprint gets
``<ticket>.rN``). The job stays in Redis until the agent acks it; a failure
makes it due again after an exponential backoff; a job the agent had when
it disconnected becomes due at once. An id that was already acked is never
queued again, and the agent skips a job id it has already printed, so a
ticket prints once.

Agent protocol (JSON text frames on ``/ws/printer``, printer device token):
  agent -> {"type":"hello","printer":"network:...","width_mm":80}
  agent -> {"type":"status","status":"online|offline|paper_low|paper_out","detail":"..."}
  server -> {"type":"job","id":JOB,"ticket":ID,"attempt":N,"data":{ticket data}}
  agent -> {"type":"ack","id":JOB} | {"type":"fail","id":JOB,"error":"..."}
  either -> {"type":"ping"} / {"type":"pong"}
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

from litestar import Request, WebSocket, get, post, websocket
from litestar.params import FromPath

from queue_server.api.auth import device_of, require_device, require_user
from queue_server.api.deps import Svc
from queue_server.api.http import lang_of
from queue_server.api.services import Services
from queue_server.api.ws import messages, run_until_first_ends
from queue_server.config import SiteConfig
from queue_server.domain.model import Ticket
from queue_server.security.accounts import DeviceKind, Role

log = logging.getLogger("motcua.printing")

LEASE_MS = 15_000            # a job sent to an agent comes back if not answered by then
BACKOFF_MS = 1_000           # first retry after a failure; doubles each attempt
BACKOFF_MAX_MS = 30_000
DONE_TTL_MS = 3 * 24 * 3600 * 1000
AGENT_STALE_MS = 45_000      # no word from the agent for this long: printer offline
POLL_SECONDS = 0.5
SEEN_EVERY_SECONDS = 10
STATUSES = ("online", "offline", "paper_low", "paper_out")
STATUS_TEXT = {
    "online": ("Máy in sẵn sàng", "Printer ready"),
    "offline": ("Máy in đang lỗi hoặc mất kết nối", "Printer offline"),
    "paper_low": ("Máy in sắp hết giấy", "Printer paper low"),
    "paper_out": ("Máy in hết giấy", "Printer out of paper"),
}
STAFF = (Role.ADMIN, Role.SUPERVISOR, Role.CLERK)

# Agent sockets of this process wait on these; set when a job is queued here.
_wakers: set[asyncio.Event] = set()


def _now() -> int:
    return int(time.time() * 1000)


def _wake_agents() -> None:
    for ev in list(_wakers):
        ev.set()


def job_data(t: Ticket, cfg: SiteConfig, ahead: int, eta: int, lang: str = "vi") -> dict[str, Any]:
    """Everything the agent needs to lay out and render the ticket."""
    cat = cfg.category(t.category)
    name = cat.label(lang) if cat else t.category
    site = cfg.site.label(lang)
    return {
        "ticket": t.id, "number": t.number, "category": t.category, "category_name": name,
        "site_name": site, "issued_at": t.issued_at, "ahead": ahead, "eta_minutes": eta,
        "track_url": f"{cfg.site.public_url}/t/{t.id}", "footer": cfg.site.ticket_footer,
        "priority": bool(t.priority), "timezone": cfg.site.timezone, "lang": lang,
    }


class PrintQueue:
    """The print jobs of a site. `svc` needs .redis, .keys and .scripts."""

    def __init__(self, svc: Services, clock=None):
        self.svc = svc
        self.k = svc.keys
        self.clock = clock or _now

    async def enqueue(self, ticket_id: str, data: dict[str, Any], reprint: bool = False) -> dict[str, Any]:
        k = self.k
        reply = await self.svc.scripts.run(
            "print_enqueue", [k.print_jobs(), k.print_due, k.print_done, k.print_reprints],
            {"now": self.clock(), "channel": k.channel, "ticket": ticket_id, "reprint": reprint, "data": data})
        _wake_agents()
        return reply

    async def claim(self, limit: int = 10) -> list[dict[str, Any]]:
        k = self.k
        reply = await self.svc.scripts.run("print_claim", [k.print_jobs(), k.print_due, k.tickets],
                                           {"now": self.clock(), "lease_ms": LEASE_MS, "limit": limit})
        dropped = reply.get("dropped") or []
        if isinstance(dropped, list) and dropped:
            log.info("dropped print jobs of tickets no longer waiting: %s", ", ".join(dropped))
        jobs = reply.get("jobs") or []
        return jobs if isinstance(jobs, list) else []

    async def answer(self, job_id: str, ok: bool, error: str = "") -> dict[str, Any]:
        k = self.k
        return await self.svc.scripts.run(
            "print_ack", [k.print_jobs(), k.print_due, k.print_done],
            {"now": self.clock(), "job": job_id, "ok": ok, "error": error[:300], "backoff_ms": BACKOFF_MS,
             "backoff_max_ms": BACKOFF_MAX_MS, "done_ttl_ms": DONE_TTL_MS})

    async def release(self, job_ids: list[str]) -> None:
        if job_ids:
            k = self.k
            await self.svc.scripts.run("print_release", [k.print_jobs(), k.print_due],
                                       {"now": self.clock(), "jobs": job_ids})

    async def set_status(self, status: str | None = None, detail: str = "", agent: str = "") -> dict[str, Any]:
        k = self.k
        args: dict[str, Any] = {"now": self.clock(), "agent": agent}
        if status is None:
            args["seen_only"] = True
        else:
            args.update(status=status, detail=detail[:300])
        reply = await self.svc.scripts.run("printer_status", [k.printer_status, k.print_jobs(), k.print_due], args)
        if reply.get("released"):
            _wake_agents()
        return reply

    async def job_state(self, ticket_id: str) -> dict[str, Any]:
        """The original print job of a ticket: queued / printed / none."""
        k = self.k
        raw = await self.svc.redis.hget(k.print_jobs(), ticket_id)
        if raw is not None:
            job = json.loads(raw)
            return {"state": "queued", "attempts": job.get("attempts", 0), "error": job.get("last_error", "")}
        if await self.svc.redis.hexists(k.print_done, ticket_id):
            return {"state": "printed", "attempts": None, "error": ""}
        return {"state": "none", "attempts": 0, "error": ""}

    async def status(self, lang: str = "vi") -> dict[str, Any]:
        k = self.k
        raw = await self.svc.redis.hgetall(k.printer_status)
        h = {(a.decode() if isinstance(a, bytes) else a): (b.decode() if isinstance(b, bytes) else b) for a, b in raw.items()}
        now = self.clock()
        seen = int(h.get("seen") or 0)
        connected = seen > 0 and now - seen <= AGENT_STALE_MS
        status = h.get("status") or "offline"
        if not connected:
            status = "offline"
        pending = int(await self.svc.redis.hlen(k.print_jobs()))
        vi, en = STATUS_TEXT.get(status, STATUS_TEXT["offline"])
        detail = h.get("detail", "") if connected else ("chưa có tác tử in kết nối" if lang != "en" else "no print agent connected")
        return {
            "status": status, "ok": status in ("online", "paper_low"), "agent_connected": connected,
            "message": en if lang == "en" else vi, "detail": detail,
            "updated_at": int(h.get("updated") or 0) or None, "seen_at": seen or None, "pending_jobs": pending,
        }


async def enqueue_ticket_print(svc: Services, ticket: Ticket, cfg: SiteConfig, ahead: int, eta: int,
                               lang: str = "vi") -> dict[str, Any]:
    """Called after a kiosk issues a ticket. Never fails the issue: the
    ticket is valid whether or not it can be printed."""
    pq = PrintQueue(svc)
    try:
        reply = await pq.enqueue(ticket.id, job_data(ticket, cfg, ahead, eta, lang))
        st = await pq.status(lang)
    except Exception as e:  # noqa: BLE001 - printing must not break issuing
        log.error("could not queue ticket %s for printing: %s", ticket.id, e)
        return {"queued": False, "job": None, "printer": "offline", "ok": False}
    return {"queued": bool(reply.get("queued")), "job": reply.get("job"), "state": reply.get("state"),
            "printer": st["status"], "ok": st["ok"]}


@get("/api/printer/status", summary="Ticket printer status (kiosk, printer device or staff)")
async def printer_status(request: Request, svc: Svc) -> dict:
    await require_device(request, svc, DeviceKind.KIOSK, DeviceKind.PRINTER, DeviceKind.DISPLAY, allow_roles=STAFF)
    return await PrintQueue(svc).status(lang_of(request))


@get("/api/tickets/{ticket_id:str}/print", summary="Whether a kiosk ticket has been printed (kiosk or staff)")
async def ticket_print_state(request: Request, svc: Svc, ticket_id: FromPath[str]) -> dict:
    await require_device(request, svc, DeviceKind.KIOSK, allow_roles=STAFF)
    await svc.queue.get_ticket(ticket_id)
    pq = PrintQueue(svc)
    out = await pq.job_state(ticket_id)
    out["printer"] = await pq.status(lang_of(request))
    return out


@post("/api/tickets/{ticket_id:str}/reprint", status_code=202, summary="Print a ticket again (staff)")
async def reprint(request: Request, svc: Svc, ticket_id: FromPath[str]) -> dict:
    user = await require_user(request, svc, *STAFF)
    ticket = await svc.queue.get_ticket(ticket_id)
    cfg = await svc.config.get()
    pos = await svc.queue.position(ticket)
    pq = PrintQueue(svc)
    reply = await pq.enqueue(ticket.id, job_data(ticket, cfg, pos.ahead, pos.eta_minutes), reprint=True)
    await svc.accounts.audit(user.username, "reprint", ticket.number, ticket=ticket.id)
    return {"ticket": ticket.id, "number": ticket.number, "job": reply.get("job"), "queued": bool(reply.get("queued")),
            "printer": await pq.status(lang_of(request))}


@websocket("/ws/printer")
async def printer_ws(socket: WebSocket, svc: Svc) -> None:
    """The print agent's connection (printer device token)."""
    device = await device_of(socket, svc, DeviceKind.PRINTER)
    if device is None:
        await socket.close(code=4401, reason="unauthorized")
        return
    await socket.accept()
    pq = PrintQueue(svc)
    agent = device.name
    inflight: set[str] = set()
    wake = asyncio.Event()
    _wakers.add(wake)
    send_lock = asyncio.Lock()

    async def send(msg: dict[str, Any]) -> None:
        async with send_lock:
            await socket.send_text(json.dumps(msg, ensure_ascii=False))

    async def outgoing() -> None:
        last_seen = 0.0
        while True:
            wake.clear()
            loop_now = time.monotonic()
            if loop_now - last_seen >= SEEN_EVERY_SECONDS:
                await pq.set_status(agent=agent)
                last_seen = loop_now
            for job in await pq.claim():
                inflight.add(job["id"])
                await send({"type": "job", "id": job["id"], "ticket": job.get("ticket"),
                            "attempt": job.get("attempts", 1), "data": job.get("data") or {}})
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(wake.wait(), POLL_SECONDS)

    async def incoming() -> None:
        async for msg in messages(socket):
            kind = msg.get("type")
            if kind == "ping":
                await send({"type": "pong"})
            elif kind in ("ack", "fail") and isinstance(msg.get("id"), str):
                job_id = msg["id"]
                reply = await pq.answer(job_id, kind == "ack", str(msg.get("error") or ""))
                inflight.discard(job_id)
                if kind == "fail":
                    log.warning("print job %s failed (%s); retry in %s ms", job_id, msg.get("error"), reply.get("retry_in"))
            elif kind in ("status", "hello"):
                status = msg.get("status")
                if status in STATUSES:
                    await pq.set_status(status, str(msg.get("detail") or ""), agent=agent)
                    wake.set()
                elif kind == "hello":
                    await pq.set_status(agent=agent)

    try:
        exc = await run_until_first_ends(outgoing(), incoming())
        if exc is not None:
            log.warning("printer socket ended: %r", exc)
    finally:
        _wakers.discard(wake)
        with contextlib.suppress(Exception):
            await pq.release(sorted(inflight))
        with contextlib.suppress(Exception):
            await pq.set_status("offline", "print agent disconnected", agent=agent)


ROUTES = [printer_status, ticket_print_state, reprint, printer_ws]
