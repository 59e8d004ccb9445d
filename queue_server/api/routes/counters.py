"""Clerk actions at a counter. Each accepts an ``Idempotency-Key`` header:
repeating a key returns the first result and never calls a second citizen."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get, post
from litestar.params import FromPath

from queue_server.api import replies
from queue_server.api.auth import access, authorize
from queue_server.api.deps import CurrentUser, Svc
from queue_server.api.http import field, lang_of, read_json
from queue_server.api.openapi import documented, integer, obj, string
from queue_server.domain.model import CounterStatus, TicketStatus
from queue_server.errors import AppError
from queue_server.services.counters import Acted
from queue_server.services.views import staff_ticket_view

AT_COUNTER = access(counter=True)
# every clerk action: the counter must be open; a bad Idempotency-Key is invalid_body
ACTS = ("counter_closed", "invalid_body")


def _idem(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is not None and not (1 <= len(key) <= 200):
        raise AppError("invalid_body", detail="Idempotency-Key dài 1–200 ký tự / must be 1–200 characters")
    return key


def _reply(request: Request, acted: Acted) -> dict[str, Any]:
    out: dict[str, Any] = {"ticket": staff_ticket_view(acted.ticket, acted.cfg, acted.position, lang_of(request))}
    if acted.call is not None:
        out.update(finished=acted.call.finished, debounced=acted.call.debounced, replayed=acted.call.replayed)
    return out


@post(
    "/api/counters/{n:int}/next",
    status_code=200,
    opt=documented(AT_COUNTER, errors=(*ACTS, "counter_paused", "queue_empty"), reply=replies.Acted),
    summary="Finish the current ticket (if any) and call the next",
)
async def call_next(request: Request, svc: Svc, user: CurrentUser, n: FromPath[int]) -> dict[str, Any]:
    return _reply(request, await svc.counters.next(n, user, _idem(request)))


@post(
    "/api/counters/{n:int}/call",
    status_code=200,
    opt=documented(
        AT_COUNTER,
        body=obj(
            description="One of the two: the ticket's id, or today's number",
            ticket=string("A ticket id"),
            number=string("Today's number, e.g. A015 (an ASCII letter and digits)", pattern=r"^[A-Za-z][0-9]{1,6}$"),
        ),
        errors=(*ACTS, "counter_paused", "ticket_not_found", "ticket_not_waiting"),
        reply=replies.Acted,
    ),
    summary="Call a specific waiting ticket by number or id",
)
async def call_specific(request: Request, svc: Svc, user: CurrentUser, n: FromPath[int]) -> dict[str, Any]:
    data = await read_json(request)
    ticket_id = data.get("ticket")
    number = None
    if ticket_id is None:
        number = field(data, "number", str)
    elif not isinstance(ticket_id, str):
        raise AppError("invalid_body", detail="“ticket” phải là chuỗi / must be a string")
    return _reply(request, await svc.counters.call(n, user, _idem(request), ticket_id=ticket_id, number=number))


@post(
    "/api/counters/{n:int}/recall",
    status_code=200,
    summary="Announce the current ticket again",
    opt=documented(AT_COUNTER, errors=(*ACTS, "no_current_ticket"), reply=replies.Acted),
)
async def recall(request: Request, svc: Svc, user: CurrentUser, n: FromPath[int]) -> dict[str, Any]:
    return _reply(request, await svc.counters.recall(n, user, _idem(request)))


@post(
    "/api/counters/{n:int}/done",
    status_code=200,
    summary="The current citizen was served",
    opt=documented(AT_COUNTER, errors=(*ACTS, "no_current_ticket"), reply=replies.Acted),
)
async def done(request: Request, svc: Svc, user: CurrentUser, n: FromPath[int]) -> dict[str, Any]:
    return _reply(request, await svc.counters.finish(n, user, TicketStatus.DONE, _idem(request)))


@post(
    "/api/counters/{n:int}/no-show",
    status_code=200,
    summary="The called citizen did not come",
    opt=documented(AT_COUNTER, errors=(*ACTS, "no_current_ticket"), reply=replies.Acted),
)
async def no_show(request: Request, svc: Svc, user: CurrentUser, n: FromPath[int]) -> dict[str, Any]:
    return _reply(request, await svc.counters.finish(n, user, TicketStatus.NO_SHOW, _idem(request)))


@post(
    "/api/counters/{n:int}/transfer",
    status_code=200,
    opt=documented(
        AT_COUNTER,
        body=obj(
            description="One of the two: a category's queue, or a counter's own queue",
            category=string("A category code, e.g. CT"),
            counter=integer("A counter number", minimum=1),
        ),
        errors=(*ACTS, "no_current_ticket", "transfer_target", "unknown_category"),
        reply=replies.Acted,
    ),
    summary="Send the current ticket to a category or a counter",
)
async def transfer(request: Request, svc: Svc, user: CurrentUser, n: FromPath[int]) -> dict[str, Any]:
    data = await read_json(request)
    to_category = field(data, "category", str, required=False)
    to_counter = field(data, "counter", int, required=False)
    acted = await svc.counters.transfer(n, user, _idem(request), to_category=to_category, to_counter=to_counter)
    return _reply(request, acted)


async def _set_status(svc: Svc, user: CurrentUser, n: int, status: CounterStatus) -> dict[str, Any]:
    changed = await svc.counters.set_status(n, user, status)
    return {"counter": n, "status": str(status), "changed": changed}


@post(
    "/api/counters/{n:int}/pause",
    status_code=200,
    opt=documented(AT_COUNTER, reply=replies.CounterStatusChange),
    summary="Pause the counter (no calls until resumed)",
)
async def pause(svc: Svc, user: CurrentUser, n: FromPath[int]) -> dict[str, Any]:
    return await _set_status(svc, user, n, CounterStatus.PAUSED)


@post(
    "/api/counters/{n:int}/resume",
    status_code=200,
    summary="Resume a paused counter",
    opt=documented(AT_COUNTER, reply=replies.CounterStatusChange),
)
async def resume(svc: Svc, user: CurrentUser, n: FromPath[int]) -> dict[str, Any]:
    return await _set_status(svc, user, n, CounterStatus.OPEN)


@get(
    "/api/counters",
    summary="All counters with their state (staff)",
    opt=documented(access(users=True), reply=replies.Counters),
)
async def list_counters(svc: Svc, user: CurrentUser) -> dict[str, Any]:
    return {"counters": await svc.counters.states(user)}


router = Router(
    path="/",
    route_handlers=[call_next, call_specific, recall, done, no_show, transfer, pause, resume, list_counters],
    guards=[authorize],
)
