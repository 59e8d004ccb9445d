"""Clerk actions at a counter. Each accepts an ``Idempotency-Key`` header:
repeating a key returns the first result and never calls a second citizen."""

from __future__ import annotations

from litestar import Request, get, post
from litestar.params import FromPath

from queue_server.api.auth import require_clerk_at, require_user
from queue_server.api.deps import Svc
from queue_server.api.http import field, lang_of, read_json
from queue_server.api.services import Services
from queue_server.api.views import staff_ticket_view
from queue_server.domain.model import CounterStatus, TicketStatus
from queue_server.errors import AppError
from queue_server.store.queue import CallResult


def _idem(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is not None and not (1 <= len(key) <= 200):
        raise AppError("invalid_body", detail="Idempotency-Key dài 1–200 ký tự / must be 1–200 characters")
    return key


async def _call_reply(svc: Services, request: Request, result: CallResult) -> dict:
    cfg = await svc.config.get()
    return {
        "ticket": staff_ticket_view(result.ticket, cfg, None, lang_of(request)),
        "finished": result.finished,
        "debounced": result.debounced,
        "replayed": result.replayed,
    }


@post("/api/counters/{n:int}/next", status_code=200, summary="Finish the current ticket (if any) and call the next")
async def call_next(request: Request, svc: Svc, n: FromPath[int]) -> dict:
    user = await require_clerk_at(request, svc, n)
    result = await svc.queue.call_next(n, clerk=user.username, idem=_idem(request))
    if not result.replayed and not result.debounced:
        await svc.accounts.audit(user.username, "next", f"counter:{n}", number=result.ticket.number)
    return await _call_reply(svc, request, result)


@post("/api/counters/{n:int}/call", status_code=200, summary="Call a specific waiting ticket by number or id")
async def call_specific(request: Request, svc: Svc, n: FromPath[int]) -> dict:
    user = await require_clerk_at(request, svc, n)
    data = await read_json(request)
    ticket_id = data.get("ticket")
    if ticket_id is None:
        number = field(data, "number", str)
        ticket_id = (await svc.queue.find_ticket(number)).id
    elif not isinstance(ticket_id, str):
        raise AppError("invalid_body", detail="“ticket” phải là chuỗi / must be a string")
    result = await svc.queue.call_ticket(n, ticket_id, clerk=user.username, idem=_idem(request))
    if not result.replayed:
        await svc.accounts.audit(user.username, "call", f"counter:{n}", number=result.ticket.number)
    return await _call_reply(svc, request, result)


@post("/api/counters/{n:int}/recall", status_code=200, summary="Announce the current ticket again")
async def recall(request: Request, svc: Svc, n: FromPath[int]) -> dict:
    user = await require_clerk_at(request, svc, n)
    t = await svc.queue.recall(n, clerk=user.username, idem=_idem(request))
    await svc.accounts.audit(user.username, "recall", f"counter:{n}", number=t.number)
    return {"ticket": staff_ticket_view(t, await svc.config.get(), None, lang_of(request))}


async def _finish(request: Request, svc: Services, n: int, outcome: TicketStatus) -> dict:
    user = await require_clerk_at(request, svc, n)
    t = await svc.queue.finish(n, outcome, clerk=user.username, idem=_idem(request))
    await svc.accounts.audit(user.username, str(outcome), f"counter:{n}", number=t.number)
    return {"ticket": staff_ticket_view(t, await svc.config.get(), None, lang_of(request))}


@post("/api/counters/{n:int}/done", status_code=200, summary="The current citizen was served")
async def done(request: Request, svc: Svc, n: FromPath[int]) -> dict:
    return await _finish(request, svc, n, TicketStatus.DONE)


@post("/api/counters/{n:int}/no-show", status_code=200, summary="The called citizen did not come")
async def no_show(request: Request, svc: Svc, n: FromPath[int]) -> dict:
    return await _finish(request, svc, n, TicketStatus.NO_SHOW)


@post("/api/counters/{n:int}/transfer", status_code=200, summary="Send the current ticket to a category or a counter")
async def transfer(request: Request, svc: Svc, n: FromPath[int]) -> dict:
    user = await require_clerk_at(request, svc, n)
    data = await read_json(request)
    to_category = field(data, "category", str, required=False)
    to_counter = field(data, "counter", int, required=False)
    t = await svc.queue.transfer(n, to_category=to_category, to_counter=to_counter, clerk=user.username, idem=_idem(request))
    await svc.accounts.audit(user.username, "transfer", f"counter:{n}", number=t.number,
                             to_category=to_category, to_counter=to_counter)
    return {"ticket": staff_ticket_view(t, await svc.config.get(), await svc.queue.position(t), lang_of(request))}


async def _set_status(request: Request, svc: Services, n: int, status: CounterStatus) -> dict:
    user = await require_clerk_at(request, svc, n)
    changed = await svc.queue.set_counter_status(n, status, clerk=user.username)
    if changed:
        await svc.accounts.audit(user.username, str(status), f"counter:{n}")
    return {"counter": n, "status": str(status), "changed": changed}


@post("/api/counters/{n:int}/pause", status_code=200, summary="Pause the counter (no calls until resumed)")
async def pause(request: Request, svc: Svc, n: FromPath[int]) -> dict:
    return await _set_status(request, svc, n, CounterStatus.PAUSED)


@post("/api/counters/{n:int}/resume", status_code=200, summary="Resume a paused counter")
async def resume(request: Request, svc: Svc, n: FromPath[int]) -> dict:
    return await _set_status(request, svc, n, CounterStatus.OPEN)


@get("/api/counters", summary="All counters with their state (staff)")
async def list_counters(request: Request, svc: Svc) -> dict:
    user = await require_user(request, svc)
    cfg = await svc.config.get()
    states = await svc.queue.counter_states(cfg)
    for s in states:
        s["allowed"] = user.may_use_counter(s["counter"])
    return {"counters": states}


ROUTES = [call_next, call_specific, recall, done, no_show, transfer, pause, resume, list_counters]
