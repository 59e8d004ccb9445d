"""A realistic reply of GET /api/reports/summary (issue #11) for a commune
centre's fourth quarter: about 5,000 tickets over 64 working days, 5 counters,
6 categories. Seconds in JSON, shares between 0 and 1."""

from __future__ import annotations

from typing import Any


def _w(mean: float, median: float, p90: float, mx: float) -> dict[str, float]:
    return {"mean": mean, "median": median, "p90": p90, "max": mx}


CATEGORIES = [
    ("HT", "Hộ tịch", 1712, 1650, _w(512.4, 430.0, 1105.0, 3620.0), 0.8412),
    ("CT", "Chứng thực", 1988, 1951, _w(301.2, 240.0, 690.0, 2410.0), 0.9021),
    ("DD", "Đất đai – Xây dựng – Môi trường", 604, 561, _w(1010.7, 880.0, 2140.0, 5480.0), 0.6738),
    ("XH", "Bảo trợ xã hội – Người có công – Lao động", 402, 389, _w(655.0, 540.0, 1390.0, 3050.0), 0.8843),
    ("KD", "Hộ kinh doanh", 233, 220, _w(720.9, 610.0, 1505.0, 2980.0), 0.8500),
    ("KH", "Lĩnh vực khác", 142, 131, _w(388.0, 300.0, 860.0, 1720.0), 0.9542),
]

SUMMARY: dict[str, Any] = {
    "from": "2026-10-01",
    "to": "2026-12-31",
    "totals": {"issued": 5081, "served": 4902, "no_show": 121, "expired": 58, "transferred": 87},
    "wait_s": _w(497.6, 402.0, 1080.0, 5480.0),
    "service_s": _w(431.0, 365.0, 840.0, 3300.0),
    "service_level": 0.8517,
    "wait_buckets": {"0-5": 1930, "5-15": 2018, "15-30": 702, "30-60": 221, "60+": 31},
    "ratings": {
        "count": 2214,
        "by_level": {"1": 61, "2": 203, "3": 310, "4": 705, "5": 935},
        "satisfied_share": 0.7407,
    },
    "by_category": [
        {"category": code, "name": name, "issued": issued, "served": served, "wait_s": wait, "service_level": sl}
        for code, name, issued, served, wait, sl in CATEGORIES
    ],
    "by_counter": [
        {
            "counter": n,
            "served": served,
            "wait_s": _w(w, w * 0.8, w * 2.1, w * 6),
            "service_s": _w(sv, sv * 0.85, sv * 2, sv * 7),
            "service_level": sl,
        }
        for n, served, w, sv, sl in [
            (1, 1120, 470.0, 402.0, 0.866),
            (2, 1085, 455.5, 390.0, 0.872),
            (3, 1010, 530.1, 455.0, 0.838),
            (4, 902, 560.4, 470.5, 0.821),
            (5, 785, 472.0, 441.2, 0.861),
        ]
    ],
    "by_clerk": [
        {"clerk": "nguyenvana", "served": 1650, "service_s": _w(410.0, 350.0, 800.0, 2900.0)},
        {"clerk": "tranthib", "served": 1702, "service_s": _w(425.0, 360.0, 820.0, 3100.0)},
        {"clerk": "lethic", "served": 1550, "service_s": _w(460.0, 385.0, 900.0, 3300.0)},
    ],
    "by_hour": [
        {"hour": h, "issued": n, "served": n - d, "wait_s": _w(w, w * 0.8, w * 2.2, w * 5)}
        for h, n, d, w in [
            (7, 402, 8, 180.0),
            (8, 1105, 30, 645.0),
            (9, 880, 22, 712.3),
            (10, 610, 18, 506.0),
            (11, 198, 9, 270.0),
            (13, 356, 10, 240.0),
            (14, 842, 41, 598.8),
            (15, 455, 24, 420.0),
            (16, 233, 17, 300.0),
        ]
    ],
    "appointments": {
        "booked": 640,
        "cancelled": 72,
        "checked_in": 531,
        "late": 19,
        "no_show": 37,
        "online_share": 0.1045,
    },
}

DEFINITIONS = """\
Số phiếu đã cấp: số phiếu có sự kiện cấp số trong kỳ, theo giờ của trung tâm; gồm phiếu cấp tại quầy lấy số và phiếu nhận khi đến theo lịch hẹn trực tuyến.
Đã phục vụ: số phiếu kết thúc ở trạng thái hoàn thành. Vắng mặt: kết quả cuối cùng là vắng mặt (phiếu gọi lại rồi được phục vụ tính là đã phục vụ). Hết hạn: phiếu còn chờ bị đóng cuối ngày. Chuyển: phiếu được chuyển quầy hoặc lĩnh vực ít nhất một lần.
Thời gian chờ của một lượt đã phục vụ: từ lúc cấp phiếu (với lịch hẹn: lúc muộn hơn giữa lúc đến làm thủ tục và giờ hẹn) đến lần gọi cuối cùng trước khi hoàn thành; thời gian phục vụ: từ lần gọi đó đến lúc hoàn thành.
Trung bình, trung vị và P90 tính theo nội suy tuyến tính giữa các hạng; số liệu tính bằng phút, làm tròn một chữ số thập phân.
Tỷ lệ đạt thời gian chờ chuẩn: tỷ lệ lượt đã phục vụ có thời gian chờ không quá thời gian chờ chuẩn của lĩnh vực. Tỷ lệ hài lòng: tỷ lệ đánh giá ở hai mức cao nhất của thang đánh giá."""
