"""The ticket kiosk page and the on-screen QR code of a ticket."""

from __future__ import annotations

import io
from functools import lru_cache
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath

from queue_server.api import replies
from queue_server.api.auth import PUBLIC, access, authorize, device_of
from queue_server.api.deps import Caller, Svc
from queue_server.api.http import field, lang_of, limit, read_json
from queue_server.api.openapi import documented, obj, string
from queue_server.api.pages import SECURITY_HEADERS, message_page, page
from queue_server.domain.accounts import DeviceKind


@get(
    "/kiosk",
    summary="The touch-screen ticket kiosk (kiosk device token in ?token=)",
    include_in_schema=False,
    opt=PUBLIC,
)
async def kiosk_page(request: Request) -> Response[str]:
    if await device_of(request, DeviceKind.KIOSK) is None:
        return message_page(
            "Máy lấy số chưa được cấp quyền",
            "Mở trang này với mã thiết bị máy lấy số: /kiosk?token=… (tạo bằng “motcua device add --kind kiosk”).",
            status=401,
            title_en="Kiosk not authorised",
            body_en="Open this page with a kiosk device token: /kiosk?token=…",
        )
    return page("printer.web", "kiosk.html")


@lru_cache(maxsize=512)
def qr_svg(data: str) -> bytes:
    import qrcode
    import qrcode.image.svg

    q = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        border=2,
        image_factory=qrcode.image.svg.SvgPathFillImage,
        box_size=10,
    )
    q.add_data(data)
    q.make(fit=True)
    buf = io.BytesIO()
    q.make_image().save(buf)
    return buf.getvalue()


@get(
    "/api/tickets/{ticket_id:str}/qr.svg",
    opt=documented(PUBLIC, errors=("ticket_not_found", "rate_limited"), media="image/svg+xml"),
    summary="QR code of a ticket's tracking link (public; the id is unguessable)",
)
async def ticket_qr(request: Request, svc: Svc, ticket_id: FromPath[str]) -> Response[bytes]:
    await limit(request)
    state = await svc.tickets.get(ticket_id)
    svg = qr_svg(f"{state.cfg.site.public_url}/t/{state.ticket.id}")
    return Response(
        content=svg, media_type="image/svg+xml", headers={**SECURITY_HEADERS, "Cache-Control": "private, max-age=86400"}
    )


@post(
    "/api/tickets/{ticket_id:str}/phone",
    request_max_body_size=1_000,
    status_code=201,
    summary="A phone for one “your turn is near” notice of a waiting ticket (kiosk)",
    opt=documented(
        access(devices=(DeviceKind.KIOSK,)),
        body=obj(required=("phone",), phone=string("A Vietnamese mobile number, e.g. 0912 345 678")),
        errors=("invalid_phone", "ticket_not_found", "ticket_not_waiting", "notice_sent", "rate_limited"),
        reply=replies.PhoneGiven,
    ),
)
async def ticket_phone(request: Request, svc: Svc, caller: Caller, ticket_id: FromPath[str]) -> dict[str, Any]:
    data = await read_json(request)
    phone = field(data, "phone", str)
    device = caller.device.id if caller.device else ""
    if caller.device:
        await svc.limits.kiosk(caller.device.id)
    return await svc.room.give_phone(ticket_id, phone, device, lang_of(request))


router = Router(path="/", route_handlers=[kiosk_page, ticket_qr, ticket_phone], guards=[authorize])
