"""Online appointments: the slots of a day, booking, the holder's booking by
its manage token (see, cancel, move, .ics), the staff's day list and a
supervisor's cancel (issue #10)."""

from __future__ import annotations

from litestar import MediaType, Request, Response, Router, get, post
from litestar.background_tasks import BackgroundTask
from litestar.params import FromPath, FromQuery

from queue_server.api.auth import PUBLIC, access, authorize, caller, check_access
from queue_server.api.deps import Caller, Svc
from queue_server.api.http import field, lang_of, limit, read_json
from queue_server.api.openapi import documented, obj, string
from queue_server.api.pages import SECURITY_HEADERS
from queue_server.domain.accounts import STAFF, DeviceKind, Role
from queue_server.errors import AppError
from queue_server.services.appointments import AppointmentReply, BookingReply, CheckInReply, DayReply, SlotsReply
from queue_server.services.views import ticket_view

SUPERVISORS = access(roles=(Role.SUPERVISOR, Role.ADMIN))
START = string("The slot's start as GET /api/appointments/slots gives it, e.g. 2026-12-02T07:30:00+07:00")
HOLDER_ERRORS = ("rate_limited", "appointment_not_found")
# codes typed from one address per minute (each booking also allows 5 tries)
OTP_PER_ADDRESS_MINUTE = 10


def _idem(request: Request) -> str | None:
    idem = request.headers.get("idempotency-key")
    if idem is not None and not (1 <= len(idem) <= 200):
        raise AppError("invalid_body", detail="Idempotency-Key dài 1–200 ký tự / must be 1–200 characters")
    return idem


@get(
    "/api/appointments/slots",
    summary="The slots of a day for a category, with the places left (public)",
    opt=documented(PUBLIC, errors=("unknown_category", "rate_limited"), reply=SlotsReply),
)
async def list_slots(request: Request, svc: Svc, category: FromQuery[str], date: FromQuery[str]) -> Response[bytes]:
    await limit(request)
    # the JSON as the process keeps it between bookings (services/slots_cache.py)
    return Response(await svc.appointments.slots_json(category, date), media_type=MediaType.JSON)


@post(
    "/api/appointments",
    request_max_body_size=4_000,
    status_code=201,
    summary="Book a slot (public; send an Idempotency-Key to retry safely)",
    opt=documented(
        PUBLIC,
        body=obj(
            required=("category", "start", "name", "phone"),
            category=string("A category code of GET /api/categories, e.g. HT"),
            start=START,
            name=string("The citizen's full name", max_length=100),
            phone=string("A Vietnamese mobile number, e.g. 0912 345 678", max_length=20),
        ),
        errors=("rate_limited", "unknown_category", "slot_full", "phone_limit", "invalid_phone", "slot_closed"),
        reply=BookingReply,
    ),
)
async def book_appointment(request: Request, svc: Svc) -> Response[BookingReply]:
    await limit(request, "appointment")
    data = await read_json(request)
    reply, after = await svc.appointments.book_deferred(
        field(data, "category", str),
        field(data, "start", str),
        field(data, "name", str),
        field(data, "phone", str),
        idem=_idem(request),
        lang=lang_of(request),
    )
    # the confirmation and the reminders go out once the reply has (kept in Redis until done)
    return Response(reply, status_code=201, background=BackgroundTask(after) if after is not None else None)


@post(
    "/api/appointments/{appointment_id:str}/verify",
    request_max_body_size=1_000,
    status_code=200,
    summary="Confirm a booking held for its OTP with the 6-digit code sent to the phone (public)",
    opt=documented(
        PUBLIC,
        body=obj(required=("otp",), otp=string("The 6-digit code sent to the phone", max_length=20)),
        errors=(
            "rate_limited",
            "appointment_not_found",
            "appointment_not_booked",
            "invalid_otp",
            "otp_expired",
            "phone_limit",
            "slot_closed",
        ),
    ),
)
async def verify_appointment(request: Request, svc: Svc, appointment_id: FromPath[str]) -> BookingReply:
    await limit(request, "otp", per_minute=OTP_PER_ADDRESS_MINUTE)
    data = await read_json(request)
    return await svc.appointments.verify(appointment_id, field(data, "otp", str))


@post(
    "/api/appointments/check-in",
    request_max_body_size=4_000,
    status_code=201,
    summary="Check a booking in by its code (kiosk token, or staff): its ticket, as POST /api/tickets gives it",
    opt=documented(
        access(roles=STAFF, devices=(DeviceKind.KIOSK,)),
        body=obj(required=("code",), code=string("The booking code, typed or scanned (6 characters)", max_length=40)),
        errors=(
            "rate_limited",
            "appointment_not_found",
            "appointment_not_booked",
            "already_checked_in",
            "too_early",
            "site_closed",
            "unknown_category",
        ),
    ),
)
async def check_in(request: Request, svc: Svc, caller: Caller) -> CheckInReply:
    data = await read_json(request)
    code = field(data, "code", str)
    if caller.device:
        await svc.limits.kiosk(caller.device.id)
    lang = lang_of(request)
    done = await svc.appointments.check_in(
        code,
        device_id=caller.device.id if caller.device else None,
        actor=caller.name,
        idem=_idem(request),
        lang=lang,
    )
    st = done.state
    return CheckInReply.of(ticket_view(st.ticket, st.cfg, st.position, lang), done)


@get(
    "/api/appointments",
    summary="A day's bookings, phones masked (staff)",
    opt=documented(access(roles=STAFF)),
)
async def day_list(svc: Svc, date: FromQuery[str]) -> DayReply:
    return await svc.appointments.day_list(date)


@get(
    "/api/appointments/{appointment_id:str}",
    summary="A booking, for its holder (manage token in ?token=)",
    opt=documented(PUBLIC, errors=HOLDER_ERRORS),
)
async def get_appointment(
    request: Request, svc: Svc, appointment_id: FromPath[str], token: FromQuery[str]
) -> AppointmentReply:
    await limit(request)
    return await svc.appointments.view(appointment_id, token)


@post(
    "/api/appointments/{appointment_id:str}/cancel",
    status_code=200,
    summary="Cancel a booking: its holder (?token=) until book_until_minutes before, or a supervisor",
    opt=documented(
        PUBLIC,
        errors=(
            *HOLDER_ERRORS,
            "appointment_not_booked",
            "change_closed",
            "unauthorized",
            "forbidden",
            "csrf_failed",
        ),
    ),
)
async def cancel_appointment(
    request: Request, svc: Svc, appointment_id: FromPath[str], token: FromQuery[str | None] = None
) -> AppointmentReply:
    await limit(request)
    if token is not None:
        return await svc.appointments.cancel(appointment_id, token)
    p = await caller(request)  # no manage token: a supervisor's cancel
    check_access(request, p, SUPERVISORS["access"])
    assert p.user is not None
    return await svc.appointments.cancel_by_staff(appointment_id, p.user.username)


@post(
    "/api/appointments/{appointment_id:str}/move",
    request_max_body_size=4_000,
    status_code=200,
    summary="Move a booking to another slot (its holder, ?token=, until book_until_minutes before)",
    opt=documented(
        PUBLIC,
        body=obj(required=("start",), start=START),
        errors=(*HOLDER_ERRORS, "appointment_not_booked", "change_closed", "slot_full", "phone_limit", "slot_closed"),
    ),
)
async def move_appointment(
    request: Request, svc: Svc, appointment_id: FromPath[str], token: FromQuery[str]
) -> AppointmentReply:
    await limit(request)
    data = await read_json(request)
    return await svc.appointments.move(appointment_id, token, field(data, "start", str))


@get(
    "/api/appointments/{appointment_id:str}/calendar.ics",
    summary="A booking as an iCalendar file, in the site's time zone (its holder, ?token=)",
    opt=documented(PUBLIC, errors=HOLDER_ERRORS, media="text/calendar"),
)
async def appointment_ics(
    request: Request, svc: Svc, appointment_id: FromPath[str], token: FromQuery[str]
) -> Response[bytes]:
    await limit(request)
    ics = await svc.appointments.ics(appointment_id, token)
    return Response(
        content=ics,
        media_type="text/calendar; charset=utf-8",
        headers={
            **SECURITY_HEADERS,
            "Content-Disposition": 'attachment; filename="lich-hen.ics"',
            "Cache-Control": "no-store",
        },
    )


router = Router(
    path="/",
    route_handlers=[
        list_slots,
        book_appointment,
        verify_appointment,
        check_in,
        day_list,
        get_appointment,
        cancel_appointment,
        move_appointment,
        appointment_ics,
    ],
    guards=[authorize],
)
