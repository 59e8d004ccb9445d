"""The ticket kiosk page and the on-screen QR code of a ticket."""

from __future__ import annotations

import io
from functools import lru_cache

from litestar import Request, Response, Router, get
from litestar.params import FromPath

from queue_server.api.auth import PUBLIC, authorize, device_of
from queue_server.api.deps import Svc
from queue_server.api.http import limit
from queue_server.api.openapi import documented
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


router = Router(path="/", route_handlers=[kiosk_page, ticket_qr], guards=[authorize])
