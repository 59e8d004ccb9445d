"""Ticket printing: printer status, reprint, and the print agent's websocket.

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
from typing import Annotated, Any

from litestar import Request, Router, WebSocket, get, post, websocket
from litestar.params import FromPath, QueryParameter

from queue_server.api import replies
from queue_server.api.auth import PUBLIC, access, authorize, device_of
from queue_server.api.deps import CurrentUser, Svc
from queue_server.api.http import lang_of
from queue_server.api.openapi import documented
from queue_server.api.ws import messages, run_until_first_ends
from queue_server.domain.accounts import STAFF, DeviceKind

log = logging.getLogger("motcua.printing")

POLL_SECONDS = 0.5
SEEN_EVERY_SECONDS = 10
# jobs sent to one agent and not answered yet: more wait in Redis, where a
# first print too old for the citizen's hand is dropped at the claim instead
# of sitting in a slow agent's own queue and printing minutes late
AGENT_WINDOW = 8


@get(
    "/api/printer/status",
    summary="Ticket printer status (kiosk, printer device or staff)",
    opt=documented(
        access(roles=STAFF, devices=(DeviceKind.KIOSK, DeviceKind.PRINTER, DeviceKind.DISPLAY)),
        reply=replies.PrinterStatus,
    ),
)
async def printer_status(request: Request, svc: Svc) -> dict[str, Any]:
    return await svc.printing.status(lang_of(request))


@get(
    "/api/tickets/{ticket_id:str}/print",
    summary="Whether a kiosk ticket has been printed (kiosk or staff)",
    opt=documented(
        access(roles=STAFF, devices=(DeviceKind.KIOSK,)), errors=("ticket_not_found",), reply=replies.TicketPrint
    ),
)
async def ticket_print_state(
    request: Request,
    svc: Svc,
    ticket_id: FromPath[str],
    wait: Annotated[float, QueryParameter(name="wait", ge=0, le=5, description="seconds to wait for the answer")] = 0,
) -> dict[str, Any]:
    """`wait` (seconds, at most 5): answer as soon as the job is printed or
    dropped, or when the printer is not working, else after that long."""
    return await svc.printing.ticket_state(ticket_id, lang_of(request), wait_s=wait)


@post(
    "/api/tickets/{ticket_id:str}/reprint",
    status_code=202,
    summary="Print a ticket again (staff)",
    opt=documented(access(roles=STAFF), errors=("ticket_not_found",), reply=replies.Reprint),
)
async def reprint(request: Request, svc: Svc, user: CurrentUser, ticket_id: FromPath[str]) -> dict[str, Any]:
    return await svc.printing.reprint(ticket_id, user.username, lang_of(request))


@websocket("/ws/printer", opt=PUBLIC)
async def printer_ws(socket: WebSocket, svc: Svc) -> None:
    """The print agent's connection (printer device token)."""
    device = await device_of(socket, DeviceKind.PRINTER)
    if device is None:
        await socket.close(code=4401, reason="unauthorized")
        return
    await socket.accept()
    printing = svc.printing
    agent = device.name
    inflight: set[str] = set()
    wake = asyncio.Event()
    printing.add_waker(wake)
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
                await printing.agent_seen(agent)
                await svc.auth.touch(device)  # the device list's last contact (at most once a minute)
                last_seen = loop_now
            room = AGENT_WINDOW - len(inflight)
            for job in await printing.claim(room) if room > 0 else []:
                inflight.add(job["id"])
                await send(
                    {
                        "type": "job",
                        "id": job["id"],
                        "ticket": job.get("ticket"),
                        "attempt": job.get("attempts", 1),
                        "data": job.get("data") or {},
                    }
                )
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(wake.wait(), POLL_SECONDS)

    async def incoming() -> None:
        async for msg in messages(socket):
            kind = msg.get("type")
            if kind == "ping":
                await send({"type": "pong"})
            elif kind in ("ack", "fail") and isinstance(msg.get("id"), str):
                job_id = msg["id"]
                reply = await printing.answer(job_id, kind == "ack", str(msg.get("error") or ""))
                inflight.discard(job_id)
                wake.set()  # room for the next job
                if kind == "fail":
                    log.warning(
                        "print job %s failed (%s); retry in %s ms", job_id, msg.get("error"), reply.get("retry_in")
                    )
            elif kind in ("status", "hello"):
                if await printing.agent_status(agent, str(msg.get("status")), str(msg.get("detail") or "")):
                    wake.set()
                elif kind == "hello":
                    await printing.agent_seen(agent)

    try:
        exc = await run_until_first_ends(outgoing(), incoming())
        if exc is not None:
            log.warning("printer socket ended: %r", exc)
    finally:
        printing.remove_waker(wake)
        with contextlib.suppress(Exception):
            await printing.agent_gone(agent, sorted(inflight))


router = Router(path="/", route_handlers=[printer_status, ticket_print_state, reprint, printer_ws], guards=[authorize])
