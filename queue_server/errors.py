"""Application errors: a stable code, an HTTP status, and words in vi/en."""

from __future__ import annotations

from typing import Any

# code -> (status, Vietnamese, English). {placeholders} come from `params`.
CATALOG: dict[str, tuple[int, str, str]] = {
    "invalid_json": (400, "Dữ liệu gửi lên không phải JSON hợp lệ.", "The request body is not valid JSON."),
    "invalid_body": (400, "Dữ liệu gửi lên không hợp lệ: {detail}", "The request body is invalid: {detail}"),
    "body_too_large": (413, "Dữ liệu gửi lên quá lớn.", "The request body is too large."),
    "unsupported_media_type": (
        415,
        "Dữ liệu phải gửi dưới dạng JSON (Content-Type: application/json).",
        "Send the body as JSON (Content-Type: application/json).",
    ),
    "cross_site": (
        403,
        "Yêu cầu từ trang web khác bị từ chối. Hãy dùng trang của hệ thống.",
        "A request from another web site was refused. Use this system's own pages.",
    ),
    "unknown_category": (400, "Lĩnh vực “{category}” không tồn tại.", "Unknown category “{category}”."),
    "category_disabled": (
        409,
        "Lĩnh vực “{category}” đang tạm ngừng nhận hồ sơ.",
        "Category “{category}” is not taking tickets now.",
    ),
    "priority_disabled": (409, "Nơi này không cấp số ưu tiên.", "Priority tickets are not enabled here."),
    "site_closed": (
        409,
        "Ngoài giờ làm việc. Mời quay lại lúc {next_open}.",
        "Outside office hours. Please come back at {next_open}.",
    ),
    "counter_not_found": (404, "Không có quầy số {counter}.", "There is no counter {counter}."),
    "counter_closed": (409, "Quầy số {counter} đang đóng.", "Counter {counter} is closed."),
    "counter_paused": (
        409,
        "Quầy số {counter} đang tạm dừng. Bấm “Tiếp tục” để gọi số.",
        "Counter {counter} is paused. Resume it to call.",
    ),
    "counter_forbidden": (
        403,
        "Bạn không được phân công làm việc tại quầy số {counter}.",
        "You are not assigned to counter {counter}.",
    ),
    "queue_empty": (409, "Không còn công dân nào đang chờ cho quầy này.", "Nobody is waiting for this counter."),
    "no_current_ticket": (409, "Quầy chưa gọi số nào.", "This counter is not serving a ticket."),
    "ticket_not_found": (404, "Không tìm thấy số thứ tự này.", "Ticket not found."),
    "ticket_not_waiting": (409, "Số này không còn trong hàng chờ.", "This ticket is not waiting."),
    "not_no_show": (
        409,
        "Chỉ số đã bị đánh dấu vắng mặt mới được xếp lại hàng.",
        "Only a no-show ticket can return to the queue.",
    ),
    "not_served": (409, "Chỉ đánh giá được sau khi đã được phục vụ.", "A ticket can be rated only after service."),
    "already_rated": (409, "Số này đã được đánh giá. Xin cảm ơn!", "This ticket has already been rated. Thank you!"),
    "rating_closed": (
        409,
        "Đã hết thời gian đánh giá tại quầy cho số này.",
        "The time to rate this ticket at the counter has passed.",
    ),
    "invalid_rating": (400, "Mức đánh giá phải từ 1 đến {scale}.", "The rating must be between 1 and {scale}."),
    "transfer_target": (
        400,
        "Cần chọn một lĩnh vực hoặc một quầy để chuyển.",
        "Choose one category or one counter to transfer to.",
    ),
    "unauthorized": (401, "Vui lòng đăng nhập.", "Please log in."),
    "metrics_unauthorized": (
        401,
        "Cần mã truy cập số liệu hợp lệ (MOTCUA_METRICS_TOKEN).",
        "A valid metrics token is required (MOTCUA_METRICS_TOKEN).",
    ),
    "login_failed": (401, "Sai tên đăng nhập hoặc mật khẩu.", "Wrong username or password."),
    "account_locked": (
        429,
        "Tài khoản tạm khóa do đăng nhập sai nhiều lần. Thử lại sau {minutes} phút.",
        "Too many failed logins. Try again in {minutes} minutes.",
    ),
    "forbidden": (403, "Bạn không có quyền thực hiện thao tác này.", "You are not allowed to do this."),
    "csrf_failed": (
        403,
        "Phiên làm việc không hợp lệ (thiếu mã CSRF). Vui lòng tải lại trang.",
        "Missing or wrong CSRF token. Reload the page.",
    ),
    "rate_limited": (
        429,
        "Quá nhiều yêu cầu. Vui lòng thử lại sau {seconds} giây.",
        "Too many requests. Try again in {seconds} seconds.",
    ),
    "pairing_not_found": (
        404,
        "Mã ghép nối {pairing_code} không đúng hoặc đã hết hạn. Hãy xem mã đang hiện trên màn hình.",
        "Pairing code {pairing_code} is wrong or has expired. Read the code on the screen again.",
    ),
    "pairing_expired": (
        404,
        "Yêu cầu ghép nối đã hết hạn. Màn hình sẽ hiện mã mới.",
        "The pairing request has expired. The screen will show a new code.",
    ),
    "slot_full": (
        409,
        "Khung giờ này đã hết chỗ. Vui lòng chọn khung giờ khác.",
        "This slot is fully booked. Please choose another one.",
    ),
    "phone_limit": (
        409,
        "Số điện thoại này đã đặt đủ {limit} lịch hẹn trong ngày.",
        "This phone number already has {limit} appointments on that day.",
    ),
    "invalid_phone": (
        400,
        "Số điện thoại không hợp lệ. Hãy nhập số di động Việt Nam, ví dụ 0912 345 678.",
        "Invalid phone number. Enter a Vietnamese mobile number, e.g. 0912 345 678.",
    ),
    "notice_sent": (
        409,
        "Đã gửi tin nhắn báo sắp đến lượt cho số này.",
        "The notice that this ticket's turn is near has already been sent.",
    ),
    "slot_closed": (
        400,
        "Không thể đặt lịch vào khung giờ này (đã đóng hoặc không có).",
        "This slot cannot be booked (closed or not offered).",
    ),
    "invalid_otp": (
        400,
        "Mã xác nhận không đúng. Còn {tries_left} lần thử.",
        "Wrong confirmation code. {tries_left} tries left.",
    ),
    "otp_expired": (
        400,
        "Mã xác nhận đã hết hạn, chỗ đã được trả lại. Vui lòng đặt lại.",
        "The confirmation code has expired and the place was released. Please book again.",
    ),
    "appointment_not_found": (404, "Không tìm thấy lịch hẹn.", "Appointment not found."),
    "appointment_not_booked": (
        409,
        "Lịch hẹn này đã bị hủy hoặc đã được sử dụng.",
        "This appointment has been cancelled or already used.",
    ),
    "change_closed": (
        409,
        "Đã quá hạn hủy hoặc đổi lịch hẹn (chậm nhất {minutes} phút trước giờ hẹn).",
        "Too late to cancel or move this appointment (at the latest {minutes} minutes before).",
    ),
    "too_early": (
        409,
        "Chưa đến giờ nhận số của lịch hẹn. Mời quay lại từ {opens}.",
        "Too early to check in this appointment. Please come back from {opens}.",
    ),
    "already_checked_in": (
        409,
        "Lịch hẹn này đã được nhận số rồi.",
        "This appointment has already been checked in.",
    ),
    "not_found": (404, "Không tìm thấy trang hoặc tài nguyên.", "Not found."),
    "site_not_found": (404, "Không có đơn vị “{site}” trong hệ thống.", "There is no site “{site}” here."),
    "wrong_site": (
        403,
        "Phiên đăng nhập hoặc mã thiết bị này thuộc đơn vị khác. Hãy đăng nhập tại trang của đơn vị này.",
        "This login or device token belongs to another site. Log in on this site's own pages.",
    ),
    "site_exists": (409, "Mã đơn vị “{site}” đã có.", "The site id “{site}” is taken."),
    "invalid_site": (400, "Thông tin đơn vị không hợp lệ: {detail}", "Invalid site: {detail}"),
    "method_not_allowed": (405, "Phương thức không được hỗ trợ.", "Method not allowed."),
    "config_invalid": (400, "Cấu hình không hợp lệ: {detail}", "Invalid configuration: {detail}"),
    "conflict": (409, "{detail}", "{detail}"),
    "invalid_period": (
        400,
        "Kỳ báo cáo không hợp lệ ({detail}): dùng from và to dạng YYYY-MM-DD, from không sau to.",
        "Invalid report period ({detail}): send from and to as YYYY-MM-DD, from not after to.",
    ),
    "invalid_filter": (400, "Bộ lọc “{filter}” không hợp lệ.", "Invalid filter “{filter}”."),
    "invalid_staffing": (400, "Phương án nhân sự không hợp lệ ({detail}).", "Invalid staffing plan ({detail})."),
    "export_not_found": (404, "Không tìm thấy tệp báo cáo này.", "No such report file."),
    "export_not_ready": (
        409,
        "Báo cáo đang được tạo, hãy chờ đến khi xong.",
        "The report is still being made; wait until it is done.",
    ),
    "unsupported_format": (
        400,
        "Định dạng “{format}” không được hỗ trợ.",
        "The format “{format}” is not supported.",
    ),
    "unavailable": (
        503,
        "Hệ thống tạm thời gián đoạn. Vui lòng thử lại.",
        "The service is temporarily unavailable. Please retry.",
    ),
    "internal": (500, "Đã xảy ra lỗi. Vui lòng thử lại.", "Something went wrong. Please retry."),
}


def clean_text(text: str) -> str:
    """`text` without lone surrogates (they cannot be encoded as UTF-8, so a
    reply that echoes one would fail to serialise)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _clean(v: Any) -> Any:
    if isinstance(v, str):
        return clean_text(v)
    if isinstance(v, list):
        return [_clean(x) for x in v]
    if isinstance(v, dict):
        return {clean_text(str(k)): _clean(x) for k, x in v.items()}
    return v


class AppError(Exception):
    """An expected failure that maps to a 4xx JSON reply."""

    def __init__(self, code: str, status: int | None = None, **params: Any):
        if code not in CATALOG:
            raise KeyError(f"unknown error code {code}")
        self.code = code
        self.status = status or CATALOG[code][0]
        self.params = {k: _clean(v) for k, v in params.items()}
        super().__init__(code)

    def message(self, lang: str = "vi") -> str:
        _, vi, en = CATALOG[self.code]
        text = en if lang == "en" else vi
        try:
            return text.format(**self.params)
        except (KeyError, IndexError):
            return text

    def body(self, lang: str = "vi") -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.code, "message": self.message(lang)}
        extra = {k: v for k, v in self.params.items() if isinstance(v, (str, int, float, bool, list, dict))}
        if extra:
            out["details"] = extra
        return out


def pick_language(accept_language: str | None, default: str = "vi") -> str:
    """'en-US,en;q=0.9' -> 'en'; only vi and en exist."""
    if not accept_language:
        return default
    best, best_q = default, -1.0
    for part in accept_language.split(","):
        bits = part.strip().split(";")
        tag = bits[0].strip().lower()[:2]
        q = 1.0
        for b in bits[1:]:
            b = b.strip()
            if b.startswith("q="):
                try:
                    q = float(b[2:])
                except ValueError:
                    q = 0.0
        if tag in ("vi", "en") and q > best_q:
            best, best_q = tag, q
    return best
