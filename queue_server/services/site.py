"""The site as the public pages see it: name, time zone, opening state,
the categories a kiosk offers; and the health check."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from queue_server.domain.holidays import is_public_holiday
from queue_server.domain.hours import is_open, next_opening, sessions_on
from queue_server.domain.slots import bookable_days, offers_appointments
from queue_server.services.views import category_view
from queue_server.store.config_store import ConfigStore

# A health check that answered within this many seconds is answered again
# without asking Redis: health checkers poll, and a flood of /healthz costs
# one Redis call a second at most.
HEALTH_CACHE_S = 1.0


# The full text on personal data that /book links to, unless the site configures its own
# ([appointments] privacy_text / privacy_text_en).
PRIVACY_VI = """Thông báo về xử lý dữ liệu cá nhân khi đặt lịch hẹn trực tuyến

Căn cứ Nghị định số 13/2023/NĐ-CP ngày 17/4/2023 của Chính phủ về bảo vệ dữ liệu cá nhân, \
{site} (bên Kiểm soát và Xử lý dữ liệu) thông báo:

1. Dữ liệu được xử lý: họ tên và số điện thoại di động bạn nhập khi đặt lịch.

2. Mục đích: xác nhận lịch hẹn, gửi mã đặt lịch và nhắc lịch, gọi đúng người tại quầy. \
Dữ liệu không dùng cho mục đích khác, không bán, không chia sẻ cho bên thứ ba ngoài \
nhà cung cấp dịch vụ gửi tin nhắn.

3. Hiển thị: họ tên và số điện thoại không xuất hiện trên màn hình gọi số, phiếu in hay \
nhật ký hệ thống; cán bộ chỉ thấy số điện thoại đã che bớt.

4. Thời gian lưu: dữ liệu được xóa tự động {days} ngày sau giờ hẹn.

5. Quyền của bạn: bạn có quyền được biết, đồng ý hoặc rút lại sự đồng ý, xem, hủy lịch hẹn \
(bằng đường dẫn quản lý lịch hẹn), yêu cầu xóa dữ liệu và khiếu nại theo Điều 9 Nghị định \
13/2023/NĐ-CP. Liên hệ cán bộ tại bộ phận một cửa để thực hiện các quyền này.

6. Bạn có thể không đặt lịch trực tuyến và vẫn lấy số thứ tự tại máy lấy số như bình thường."""

PRIVACY_EN = """Notice on the processing of personal data for online appointments

Under Government Decree 13/2023/ND-CP of 17 April 2023 on personal data protection, \
{site} (the data controller and processor) informs you:

1. Data processed: the name and mobile number you enter when booking.

2. Purpose: confirming the booking, sending its code and reminders, and calling the right person \
at the counter. The data is used for nothing else, never sold, and shared with no third party \
other than the text message provider.

3. Display: your name and number never appear on the call board, the printed ticket or the \
system logs; staff see the number masked.

4. Retention: the data is deleted automatically {days} days after the appointment.

5. Your rights: to be informed, to consent or withdraw consent, to see and cancel your booking \
(with its manage link), to ask for deletion and to complain, under Article 9 of Decree \
13/2023/ND-CP. Ask the staff at the one-stop desk to exercise them.

6. You may also not book online and take a queue number at the kiosk as usual."""


class SiteService:
    def __init__(self, config: ConfigStore):
        self.config = config
        self._healthy_until = 0.0

    def keep_config(self, max_age_s: float) -> Callable[[dict[str, Any] | None], None]:
        """Keep the site's configuration in this process for up to
        `max_age_s` between reads of Redis (0: read it every time); the
        listener returned drops it on a `config` event of any process."""
        self.config.max_age_s = max_age_s
        return self.config.on_event

    async def ping(self) -> None:
        """Redis answers (a failure raises); a success counts for a second."""
        if time.monotonic() < self._healthy_until:
            return
        await self.config.ping()
        self._healthy_until = time.monotonic() + HEALTH_CACHE_S

    async def categories(self, lang: str) -> list[dict[str, Any]]:
        cfg = await self.config.get()
        return [category_view(c, lang) for c in cfg.enabled_categories]

    async def info(self, now: datetime) -> dict[str, Any]:
        cfg = await self.config.get()
        open_now = is_open(now, cfg.hours, cfg.site.tz, is_public_holiday)
        nxt = next_opening(now, cfg.hours, cfg.site.tz, is_public_holiday)
        return {
            "id": cfg.site.id,
            "name": cfg.site.name,
            "name_en": cfg.site.name_en,
            "timezone": cfg.site.timezone,
            "seats": cfg.site.seats,
            "open": open_now or not cfg.hours.enforce,
            "enforce_hours": cfg.hours.enforce,
            "next_open": nxt.isoformat() if nxt else None,
            "priority_enabled": cfg.queue.priority_enabled,
            "priority_label": cfg.queue.priority_label,
            "rating_scale": cfg.queue.rating_scale,
            "ticket_footer": cfg.site.ticket_footer,
        }

    async def booking(self, now: datetime) -> dict[str, Any]:
        """What the booking page /book starts from: the bookable categories
        and the days it offers (today .. today + days_ahead), each open or
        closed (a Sunday, a holiday, a closure)."""
        cfg = await self.config.get()
        a = cfg.appointments
        first, last = bookable_days(cfg, now)
        days = []
        d = first
        while d <= last:
            days.append({"date": d.isoformat(), "open": bool(sessions_on(d, cfg.hours, is_public_holiday))})
            d += timedelta(days=1)
        return {
            "enabled": a.enabled,
            "name": cfg.site.name,
            "name_en": cfg.site.name_en,
            "timezone": cfg.site.timezone,
            "slot_minutes": a.slot_minutes,
            "book_until_minutes": a.book_until_minutes,
            "checkin_early_minutes": a.checkin_early_minutes,
            "verify": a.verify,
            "categories": [
                {"code": c.code, "name": c.name, "name_en": c.name_en or c.name}
                for c in cfg.enabled_categories
                if offers_appointments(cfg, c)
            ],
            "days": days if a.enabled else [],
        }

    async def privacy(self, lang: str) -> str:
        """The full text on personal data that the booking page links to."""
        cfg = await self.config.get()
        a = cfg.appointments
        own = a.privacy_text_en if lang == "en" and a.privacy_text_en else a.privacy_text
        if own:
            return own
        name = cfg.site.name_en if lang == "en" and cfg.site.name_en else cfg.site.name
        return (PRIVACY_EN if lang == "en" else PRIVACY_VI).format(site=name, days=a.keep_personal_days)
