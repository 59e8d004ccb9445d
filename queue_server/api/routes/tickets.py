"""Issuing, tracking, rating and requeueing tickets."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get, post
from litestar.params import FromPath, FromQuery

from queue_server.api import replies
from queue_server.api.auth import PUBLIC, access, authorize, caller, check_access
from queue_server.api.deps import Caller, CurrentUser, Svc
from queue_server.api.http import field, lang_of, limit, read_json
from queue_server.api.openapi import boolean, documented, integer, obj, string
from queue_server.domain.accounts import STAFF, DeviceKind
from queue_server.errors import AppError
from queue_server.services.tickets import TicketState
from queue_server.services.views import staff_ticket_view, ticket_view


def _view(state: TicketState, lang: str, staff: bool = False) -> dict[str, Any]:
    return (staff_ticket_view if staff else ticket_view)(state.ticket, state.cfg, state.position, lang)


@post(
    "/api/tickets",
    request_max_body_size=4_000,
    status_code=201,
    summary="Issue a ticket (kiosk token, or staff for a walk-in)",
    opt=documented(
        access(roles=STAFF, devices=(DeviceKind.KIOSK,)),
        body=obj(
            required=("category",),
            category=string("A category code of GET /api/categories, e.g. HT"),
            priority=boolean("A priority ticket (when the site issues them)"),
        ),
        errors=("unknown_category", "category_disabled", "priority_disabled", "site_closed", "rate_limited"),
        reply=replies.IssuedTicket,
    ),
)
async def issue_ticket(request: Request, svc: Svc, caller: Caller) -> dict[str, Any]:
    data = await read_json(request)
    category = field(data, "category", str)
    priority = field(data, "priority", bool, required=False, default=False)
    lang = lang_of(request)
    device = caller.device
    state = await svc.tickets.issue_walk_in(
        category,
        priority=priority,
        idem=request.headers.get("idempotency-key"),
        device_id=device.id if device else None,
        actor=caller.name,
        lang=lang,
        budget=svc.limits.kiosk_budget(device.id) if device else None,  # counted by the issue script
    )
    view = _view(state, lang)
    if state.print is not None:  # a kiosk ticket is printed; the ticket is valid either way
        view["print"] = state.print
    return view


@get(
    "/api/tickets/{ticket_id:str}",
    summary="A ticket's live status (public; the id is unguessable)",
    opt=documented(PUBLIC, errors=("ticket_not_found", "rate_limited"), reply=replies.Ticket),
)
async def get_ticket(request: Request, svc: Svc, ticket_id: FromPath[str]) -> dict[str, Any]:
    await limit(request)
    return _view(await svc.tickets.get(ticket_id), lang_of(request))


@get(
    "/api/tickets",
    summary="Find today's ticket by number (staff)",
    opt=documented(access(roles=STAFF), errors=("invalid_body", "ticket_not_found"), reply=replies.StaffTicket),
)
async def find_ticket(request: Request, svc: Svc, number: FromQuery[str]) -> dict[str, Any]:
    return _view(await svc.tickets.find(number), lang_of(request), staff=True)


@get(
    "/api/tickets/{ticket_id:str}/events",
    summary="A ticket's events from the log (staff)",
    opt=documented(access(roles=STAFF), errors=("ticket_not_found",), reply=replies.TicketEvents),
)
async def get_ticket_events(svc: Svc, ticket_id: FromPath[str]) -> dict[str, Any]:
    return {"events": await svc.tickets.history(ticket_id)}


@post(
    "/api/tickets/{ticket_id:str}/rating",
    request_max_body_size=1_000,
    status_code=201,
    opt=documented(
        PUBLIC,
        body=obj(required=("level",), level=integer("1 = least satisfied … the configured scale", minimum=1)),
        errors=(
            "rate_limited",
            "unauthorized",
            "forbidden",
            "ticket_not_found",
            "not_served",
            "already_rated",
            "invalid_rating",
        ),
        reply=replies.Rated,
    ),
    summary="Rate the service once (public or rating tablet)",
)
async def rate_ticket(request: Request, svc: Svc, ticket_id: FromPath[str]) -> dict[str, Any]:
    await limit(request, "rating", 30)
    data = await read_json(request)
    level = field(data, "level", int)
    via = "track"
    if request.headers.get("authorization") or request.query_params.get("token"):
        p = await caller(request)
        check_access(request, p, access(devices=(DeviceKind.RATING,))["access"])
        via = f"tablet:{p.device.counter or ''}" if p.device else via
    ticket = await svc.tickets.rate(ticket_id, level, via=via)
    return {"ticket": ticket.id, "rating": ticket.rating}


@post(
    "/api/tickets/{ticket_id:str}/requeue",
    status_code=200,
    opt=documented(access(roles=STAFF), errors=("ticket_not_found", "not_no_show"), reply=replies.StaffTicket),
    summary="Return a no-show citizen to the queue (staff)",
)
async def requeue_ticket(request: Request, svc: Svc, user: CurrentUser, ticket_id: FromPath[str]) -> dict[str, Any]:
    idem = request.headers.get("idempotency-key")
    if idem is not None and not (1 <= len(idem) <= 200):
        raise AppError("invalid_body", detail="Idempotency-Key dài 1–200 ký tự / must be 1–200 characters")
    return _view(await svc.tickets.requeue(ticket_id, clerk=user.username, idem=idem), lang_of(request), staff=True)


router = Router(
    path="/",
    route_handlers=[issue_ticket, get_ticket, find_ticket, get_ticket_events, rate_ticket, requeue_ticket],
    guards=[authorize],
)
