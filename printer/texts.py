"""Every fixed text that appears on a printed ticket, in Vietnamese and English.

The font coverage test checks each character of these strings against the
shipped font's character map, so add any new ticket text here.
"""

from __future__ import annotations

TICKET_TEXTS: dict[str, dict[str, str]] = {
    "vi": {
        "number_label": "SỐ THỨ TỰ CỦA BẠN",
        "priority": "ƯU TIÊN",
        "ahead": "Số người đang chờ trước bạn: {ahead}",
        "eta": "Thời gian chờ dự kiến: khoảng {minutes} phút",
        "eta_range": "Thời gian chờ dự kiến: khoảng {low}–{high} phút",
        "eta_now": "Thời gian chờ dự kiến: sắp đến lượt",
        "issued": "Giờ lấy số: {time} – Ngày {date}",
        "scan": "Quét mã QR để theo dõi lượt gọi",
        "reprint": "(IN LẠI)",
        "come_back": "Phòng chờ đã đủ chỗ. Quét mã QR để theo dõi lượt gọi.",
    },
    "en": {
        "number_label": "YOUR NUMBER",
        "priority": "PRIORITY",
        "ahead": "People waiting before you: {ahead}",
        "eta": "Estimated wait: about {minutes} min",
        "eta_range": "Estimated wait: about {low}–{high} min",
        "eta_now": "Estimated wait: you are next",
        "issued": "Issued at {time} – {date}",
        "scan": "Scan the QR code to follow the calls",
        "reprint": "(REPRINT)",
        "come_back": "The waiting room is full. Scan the QR code to follow the calls.",
    },
}

# Characters the numbers and dates use on top of the texts above.
EXTRA_CHARS = "0123456789:/-–.,()ABCDEFGHIJKLMNOPQRSTUVWXYZ "
