"""Issuing, tracking, rating and requeueing tickets."""

from __future__ import annotations

from datetime import datetime, timezone

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery

from queue_server.api.auth import require_device, require_user
from queue_server.api.deps import Svc
from queue_server.api.http import field, lang_of, read_json
from queue_server.api.views import staff_ticket_view, ticket_view
from queue_server.domain.hours import is_open, next_opening
from queue_server.domain.model import Source
from queue_server.errors import AppError
from queue_server.events import ticket_events
from queue_server.holidays_vn import is_public_holiday
from queue_server.security.accounts import DeviceKind, Role

STAFF = (Role.ADMIN, Role.SUPERVISOR, Role.CLERK)


def _next_open_text(nxt: datetime | None, lang: str) -> str:
    if nxt is None:
        return "—"
    if lang == "en":
        return nxt.strftime("%H:%M on %A %d/%m/%Y")
    weekday = ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"][nxt.weekday()]
    return f"{nxt:%H:%M} {weekday}, {nxt:%d/%m/%Y}"


@post("/api/tickets", status_code=201, summary="Issue a ticket (kiosk token, or staff for a walk-in)")
async def issue_ticket(request: Request, svc: Svc) -> dict:
    p = await require_device(request, svc, DeviceKind.KIOSK, allow_roles=STAFF)
    data = await read_json(request, max_bytes=4_000)
    category = field(data, "category", str)
    priority = field(data, "priority", bool, required=False, default=False)
    if p.device:
        await svc.limiter.check("issue", p.device.id, svc.settings.kiosk_limit_per_minute)
    cfg = await svc.config.get()
    lang = lang_of(request)
    if cfg.hours.enforce:
        now = datetime.now(timezone.utc)
        if not is_open(now, cfg.hours, cfg.site.tz, is_public_holiday):
            nxt = next_opening(now, cfg.hours, cfg.site.tz, is_public_holiday)
            raise AppError("site_closed", next_open=_next_open_text(nxt, lang),
                           next_open_at=nxt.isoformat() if nxt else "")
    ticket, ahead = await svc.queue.issue(
        category, priority=priority, source=Source.WALK_IN,
        idem=request.headers.get("idempotency-key"), device=p.device.id if p.device else p.name,
    )
    pos = await svc.queue.position(ticket, ahead)       # counted by the issue script: not read again
    view = ticket_view(ticket, cfg, pos, lang)
    if p.device is not None:  # a kiosk ticket is printed (issue 4); the ticket is valid either way
        from queue_server.api.routes.printing import enqueue_ticket_print
        view["print"] = await enqueue_ticket_print(svc, ticket, cfg, pos.ahead, pos.eta_minutes, lang)
    return view


@get("/api/tickets/{ticket_id:str}", summary="A ticket's live status (public; the id is unguessable)")
async def get_ticket(request: Request, svc: Svc, ticket_id: FromPath[str]) -> dict:
    await svc.limit_address(request)
    ticket = await svc.queue.get_ticket(ticket_id)
    cfg = await svc.config.get()
    return ticket_view(ticket, cfg, await svc.queue.position(ticket), lang_of(request))


@get("/api/tickets", summary="Find today's ticket by number (staff)")
async def find_ticket(request: Request, svc: Svc, number: FromQuery[str]) -> dict:
    await require_user(request, svc, *STAFF)
    ticket = await svc.queue.find_ticket(number)
    cfg = await svc.config.get()
    return staff_ticket_view(ticket, cfg, await svc.queue.position(ticket), lang_of(request))


@get("/api/tickets/{ticket_id:str}/events", summary="A ticket's events from the log (staff)")
async def get_ticket_events(request: Request, svc: Svc, ticket_id: FromPath[str]) -> dict:
    await require_user(request, svc, *STAFF)
    ticket = await svc.queue.get_ticket(ticket_id)
    return {"events": await ticket_events(svc.redis, svc.keys, ticket_id, ticket.issued_at)}


@post("/api/tickets/{ticket_id:str}/rating", status_code=201, summary="Rate the service once (public or rating tablet)")
async def rate_ticket(request: Request, svc: Svc, ticket_id: FromPath[str]) -> dict:
    await svc.limit_address(request, "rating", 30)
    data = await read_json(request, max_bytes=1_000)
    level = field(data, "level", int)
    via = "track"
    if request.headers.get("authorization") or request.query_params.get("token"):
        p = await require_device(request, svc, DeviceKind.RATING)
        via = f"tablet:{p.device.counter or ''}"
    ticket = await svc.queue.rate(ticket_id, level, via=via)
    return {"ticket": ticket.id, "rating": ticket.rating}


@post("/api/tickets/{ticket_id:str}/requeue", status_code=200, summary="Return a no-show citizen to the queue (staff)")
async def requeue_ticket(request: Request, svc: Svc, ticket_id: FromPath[str]) -> dict:
    user = await require_user(request, svc, *STAFF)
    ticket = await svc.queue.requeue(ticket_id, clerk=user.username)
    await svc.accounts.audit(user.username, "requeue", ticket.number, ticket=ticket.id)
    cfg = await svc.config.get()
    return staff_ticket_view(ticket, cfg, await svc.queue.position(ticket), lang_of(request))


ROUTES = [issue_ticket, get_ticket, find_ticket, get_ticket_events, rate_ticket, requeue_ticket]
