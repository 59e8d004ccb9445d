"""The citizen's booking pages (issue #10): /book on a phone, the holder's
/book/manage/{id}?token=… (the manage_url of a booking), the full text on
personal data, and the QR code of a booking code. Pages are static shells
over the appointments API; bad input gets a Vietnamese page, never a 500."""

from __future__ import annotations

from datetime import UTC, datetime

from litestar import Request, Response, Router, get
from litestar.params import FromPath, FromQuery

from queue_server.api.auth import PUBLIC, authorize
from queue_server.api.deps import Svc
from queue_server.api.http import limit
from queue_server.api.pages import SECURITY_HEADERS, message_page, page_with, text_page
from queue_server.api.routes.kiosk import qr_svg
from queue_server.domain.appointments import normalize_code
from queue_server.errors import AppError


def _lang(request: Request) -> str:
    return "en" if request.query_params.get("lang") == "en" else "vi"


def _not_found() -> Response:
    return message_page(
        "Không tìm thấy lịch hẹn",
        "Đường dẫn quản lý lịch hẹn không đúng hoặc lịch hẹn đã bị xóa. Vui lòng mở lại đường dẫn "
        "trong tin nhắn xác nhận, hoặc hỏi cán bộ tại bộ phận một cửa.",
        status=404,
        title_en="Booking not found",
        body_en="The manage link is wrong or the booking was deleted. Open the link of your confirmation again.",
    )


@get("/book", summary="The booking page for a phone", include_in_schema=False, opt=PUBLIC)
async def book_page(request: Request, svc: Svc) -> Response[str]:
    await limit(request)
    return page_with("printer.web", "book.html", await svc.site.booking(datetime.now(UTC)))


@get(
    "/book/manage/{appointment_id:str}",
    summary="The holder's page of a booking: see, cancel, move (manage token in ?token=)",
    include_in_schema=False,
    opt=PUBLIC,
)
async def manage_page(
    request: Request, svc: Svc, appointment_id: FromPath[str], token: FromQuery[str | None] = None
) -> Response[str]:
    await limit(request)
    if not token or len(token) > 200 or len(appointment_id) > 100:
        return _not_found()
    try:
        await svc.appointments.view(appointment_id, token)
    except AppError as e:
        if e.code != "appointment_not_found":
            raise
        return _not_found()
    return page_with("printer.web", "book.html", await svc.site.booking(datetime.now(UTC)))


@get("/book/privacy", summary="The full text on personal data", include_in_schema=False, opt=PUBLIC)
async def privacy_page(request: Request, svc: Svc) -> Response[str]:
    await limit(request)
    lang = _lang(request)
    title = "Personal data" if lang == "en" else "Xử lý dữ liệu cá nhân"
    return text_page(title, await svc.site.privacy(lang), lang, back="/book" + ("?lang=en" if lang == "en" else ""))


@get("/book/qr/{code:str}", summary="The QR code of a booking code (SVG)", include_in_schema=False, opt=PUBLIC)
async def code_qr(request: Request, code: FromPath[str]) -> Response:
    await limit(request)
    clean = normalize_code(code[:40])
    if clean is None:
        return message_page(
            "Mã lịch hẹn không hợp lệ",
            "Mã lịch hẹn gồm 6 chữ và số.",
            status=404,
            title_en="Invalid booking code",
            body_en="A booking code has 6 letters and digits.",
        )
    return Response(
        content=qr_svg(clean),
        media_type="image/svg+xml",
        headers={**SECURITY_HEADERS, "Cache-Control": "private, max-age=86400"},
    )


router = Router(path="/", route_handlers=[book_page, manage_page, privacy_page, code_qr], guards=[authorize])
