"""The period report as a PDF in the Vietnamese administrative layout
(Nghị định 30/2020/NĐ-CP, Phụ lục I): the issuing body at top left, the
national title and motto at top right, place and date, the title, the
figures, the definitions and the signature block.

``render_report_pdf(summary, ...)`` takes the reply of
``GET /api/reports/summary`` as it is (waits and service times in seconds,
shares between 0 and 1) and returns the PDF's bytes. Figures are written the
Vietnamese way: minutes with one decimal and a decimal comma (``12,5``),
thousands with a dot (``1.234``), shares as percentages with one decimal.

The text is set in Crimson Text, a serif as administrative documents are set,
from the ``fontpkg-crimson-text`` package (every Vietnamese letter in its four
styles, no download), embedded as a subset with its Unicode map, so the text
can be searched and copied out of the PDF. Charts are drawn with the PDF's own
lines and rectangles.

Pure: no Redis, no web framework, no clock unless ``issued_on`` is left out.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

FONT = "CrimsonText"
BLACK = (0, 0, 0)
GREY = (110, 110, 110)
HEAD_FILL = (226, 232, 240)
BAR_FILL = (37, 99, 160)
GRID = (200, 200, 200)

# Nghị định 30/2020, Phụ lục I: A4, margins top/bottom 20-25 mm, left 30-35, right 15-20
MARGIN_LEFT = 30.0
MARGIN_RIGHT = 15.0
MARGIN_TOP = 20.0
MARGIN_BOTTOM = 20.0
LINE = 6.0  # mm per line of 12 pt text
SIGNATURE_BLOCK = 40.0  # the titles, the note and room to sign

LEVELS = {
    3: ("Không hài lòng", "Hài lòng", "Rất hài lòng"),
    5: ("Rất không hài lòng", "Không hài lòng", "Bình thường", "Hài lòng", "Rất hài lòng"),
}
BUCKETS: tuple[tuple[str, str], ...] = (
    ("0-5", "Từ 0 đến 5 phút"),
    ("5-15", "Trên 5 đến 15 phút"),
    ("15-30", "Trên 15 đến 30 phút"),
    ("30-60", "Trên 30 đến 60 phút"),
    ("60+", "Trên 60 phút"),
)


# -- numbers the Vietnamese way -------------------------------------------------
def fmt_int(n: object) -> str:
    """1234 -> '1.234'; anything that is not a number -> '–'."""
    if isinstance(n, bool) or not isinstance(n, int | float):
        return "–"
    return f"{round(n):,}".replace(",", ".")


def fmt_minutes(seconds: object) -> str:
    """Seconds as minutes with one decimal and a decimal comma: 750 -> '12,5'."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        return "–"
    return _decimal(seconds / 60.0)


def fmt_share(share: object) -> str:
    """A share between 0 and 1 as a percentage with one decimal: 0.875 -> '87,5%'."""
    if isinstance(share, bool) or not isinstance(share, int | float):
        return "–"
    return _decimal(share * 100.0) + "%"


def _decimal(x: float) -> str:
    text = f"{x:,.1f}"  # 1,234.5
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def date_line(place: str, day: dt.date) -> str:
    """'Ngọc Long, ngày 01 tháng 12 năm 2026': a day below 10 and the months
    1 and 2 are written with a leading zero (Nghị định 30/2020, Phụ lục I)."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"{place}, ngày {day.day:02d} tháng {month} năm {day.year}"


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _font_dir() -> Path:
    """Crimson Text's files (the fontpkg-crimson-text wheel: a serif, as
    administrative documents are set, with every Vietnamese letter)."""
    import fontpkg_crimson_text

    return Path(fontpkg_crimson_text.ROOT) / "files"


def _get(mapping: object, key: str) -> Any:
    return mapping.get(key) if isinstance(mapping, Mapping) else None


def _mean_wait(entry: Mapping[str, Any]) -> Any:
    wait = entry.get("wait_s")
    return wait.get("mean") if isinstance(wait, Mapping) else wait


# -- the document ---------------------------------------------------------------
class _Report(FPDF):
    def header(self) -> None:
        # Nghị định 30: page numbers from the second page, centred in the top margin
        if self.page_no() > 1:
            self.set_font(FONT, "", 11)
            self.set_text_color(*BLACK)
            self.set_xy(self.l_margin, 10)
            self.cell(self.epw, 5, str(self.page_no()), align="C")
            self.set_xy(self.l_margin, MARGIN_TOP)


def render_report_pdf(
    summary: Mapping[str, Any],
    *,
    body: str,
    place: str,
    title: str,
    period_label: str,
    definitions: str,
    signer_title: str = "GIÁM ĐỐC",
    number: str | None = "",
    issued_on: dt.date | None = None,
    preparer: str = "Người lập biểu",
    progress: Callable[[float, int], None] | None = None,
) -> bytes:
    """The report as PDF bytes.

    ``body``: the issuing body, one line per level, the superior body first
    ("UBND XÃ NGỌC LONG\\nTRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG"); ``place``: the
    place name of the date line; ``title``: what the report is about (under
    "BÁO CÁO"); ``period_label``: the period in words; ``definitions``: how
    each figure is counted, one paragraph per line; ``number``: the document's
    number ("Số: …/BC-…"): blank to be filled in by hand when "", no line when None;
    ``issued_on``: the date of the date line (today when None);
    ``progress(share done 0–1, pages so far)`` after each part.
    """
    pdf = _Report(orientation="P", unit="mm", format="A4")
    pdf.set_margins(MARGIN_LEFT, MARGIN_TOP, MARGIN_RIGHT)
    pdf.set_auto_page_break(True, MARGIN_BOTTOM)
    fonts = _font_dir()
    for style, name in (("", "Regular"), ("B", "Bold"), ("I", "Italic"), ("BI", "BoldItalic")):
        pdf.add_font(FONT, style, str(fonts / f"CrimsonText-{name}.ttf"))
    pdf.set_lang("vi")
    pdf.set_title(_nfc(f"Báo cáo - {title}"))
    pdf.set_author(_nfc(body.replace("\n", " - ")))
    pdf.set_creator("motcua")
    pdf.add_page()

    _national_header(pdf, body, place, number, issued_on or dt.date.today())
    _title(pdf, title, period_label)
    parts: list[Callable[[], None]] = [
        lambda: _totals(pdf, summary),
        lambda: _by_category(pdf, summary),
        lambda: _wait_buckets(pdf, summary),
        lambda: _ratings(pdf, summary),
        lambda: _by_hour_chart(pdf, summary),
        lambda: _by_counter(pdf, summary),
        lambda: _by_clerk(pdf, summary),
        lambda: _definitions(pdf, definitions),
        lambda: _signatures(pdf, signer_title, preparer),
    ]
    for i, part in enumerate(parts, start=1):
        part()
        if progress is not None:
            progress(i / (len(parts) + 1), pdf.page_no())
    out = bytes(pdf.output())
    if progress is not None:
        progress(1.0, pdf.page_no())
    return out


def _fit(pdf: FPDF, text: str, style: str, size: float, width: float) -> None:
    """Set the largest font size up to ``size`` at which ``text`` fits ``width``."""
    while size > 8:
        pdf.set_font(FONT, style, size)
        if pdf.get_string_width(text) <= width:
            return
        size -= 0.5
    pdf.set_font(FONT, style, size)


def _rule(pdf: FPDF, cx: float, y: float, length: float) -> None:
    pdf.set_draw_color(*BLACK)
    pdf.set_line_width(0.3)
    pdf.line(cx - length / 2, y, cx + length / 2, y)


def _national_header(pdf: FPDF, body: str, place: str, number: str | None, day: dt.date) -> None:
    left_w = 72.0
    right_w = pdf.epw - left_w
    x_left = pdf.l_margin
    x_right = pdf.l_margin + left_w
    top = pdf.get_y()

    # left: the superior body (regular), the issuing body (bold), a short rule under it
    lines = [_nfc(s.strip()) for s in body.splitlines() if s.strip()]
    y = top
    for i, text in enumerate(lines):
        last = i == len(lines) - 1
        style = "B" if last else ""
        _fit(pdf, text, style, 12, left_w)
        if pdf.get_string_width(text) > left_w:  # still too wide: wrap it
            pdf.set_xy(x_left, y)
            pdf.multi_cell(left_w, 5.5, text, align="C")
            y = pdf.get_y()
        else:
            pdf.set_xy(x_left, y)
            pdf.cell(left_w, 5.5, text, align="C")
            y += 5.5
    _rule(pdf, x_left + left_w / 2, y + 1.6, left_w / 3)
    if number is not None:
        pdf.set_font(FONT, "", 12)
        pdf.set_xy(x_left, y + 3.5)
        pdf.cell(left_w, 6, _nfc(f"Số: {number}" if number else "Số:        /BC"), align="C")
    left_bottom = y + 9

    # right: the national title (bold caps), the motto (bold, underlined as wide as itself)
    nation = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    motto = "Độc lập - Tự do - Hạnh phúc"
    _fit(pdf, nation, "B", 12, right_w)
    pdf.set_xy(x_right, top)
    pdf.cell(right_w, 5.5, _nfc(nation), align="C")
    _fit(pdf, motto, "B", 13, right_w)
    pdf.set_xy(x_right, top + 5.5)
    pdf.cell(right_w, 6, _nfc(motto), align="C")
    _rule(pdf, x_right + right_w / 2, top + 12.2, pdf.get_string_width(_nfc(motto)))
    pdf.set_font(FONT, "I", 12)
    pdf.set_xy(x_right, top + 15)
    pdf.cell(right_w, 6, _nfc(date_line(place, day)), align="C")
    right_bottom = top + 21

    pdf.set_xy(pdf.l_margin, max(left_bottom, right_bottom) + 6)


def _title(pdf: FPDF, title: str, period_label: str) -> None:
    pdf.set_font(FONT, "B", 14)
    pdf.cell(pdf.epw, 7, "BÁO CÁO", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "B", 13)
    pdf.multi_cell(pdf.epw, 6.5, _nfc(title), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if period_label:
        pdf.set_font(FONT, "I", 12)
        pdf.multi_cell(pdf.epw, 6, _nfc(period_label), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    _rule(pdf, pdf.l_margin + pdf.epw / 2, pdf.get_y() + 2.2, 40)
    pdf.ln(6)


def _heading(pdf: FPDF, text: str, room: float = 40.0) -> None:
    """A section heading, moved to the next page with what follows when fewer
    than ``room`` mm are left."""
    if pdf.get_y() + room > pdf.page_break_trigger:
        pdf.add_page()
    pdf.ln(2)
    pdf.set_font(FONT, "B", 12)
    pdf.set_text_color(*BLACK)
    pdf.multi_cell(pdf.epw, LINE, _nfc(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1)


def _table(
    pdf: FPDF,
    head: Sequence[str],
    rows: Sequence[Sequence[str]],
    widths: Sequence[float],
    align: Sequence[str],
    bold_last: bool = False,
) -> None:
    pdf.set_font(FONT, "", 10.5)
    pdf.set_fill_color(255, 255, 255)
    pdf.set_draw_color(*BLACK)
    pdf.set_line_width(0.2)
    with pdf.table(
        align="LEFT",
        width=pdf.epw,
        col_widths=tuple(widths),
        text_align=tuple(align),
        headings_style=FontFace(emphasis="BOLD", fill_color=HEAD_FILL),
        line_height=5.0,
        padding=(0.9, 1.2),
        borders_layout="ALL",
    ) as table:
        head_row = table.row()
        for text in head:
            head_row.cell(_nfc(text), align="C")
        for i, values in enumerate(rows):
            style = FontFace(emphasis="BOLD") if bold_last and i == len(rows) - 1 else None
            row = table.row(style=style)
            for text in values:
                row.cell(_nfc(text))
    pdf.ln(3)


def _totals(pdf: FPDF, s: Mapping[str, Any]) -> None:
    totals = s.get("totals") or {}
    wait = s.get("wait_s") or {}
    service = s.get("service_s") or {}
    ratings = s.get("ratings") or {}
    _heading(pdf, "I. KẾT QUẢ TIẾP NHẬN VÀ PHỤC VỤ")
    rows = [
        ["1", "Số phiếu đã cấp (lượt công dân đến)", fmt_int(_get(totals, "issued"))],
        ["2", "Số lượt đã được phục vụ xong", fmt_int(_get(totals, "served"))],
        ["3", "Số lượt vắng mặt khi được gọi", fmt_int(_get(totals, "no_show"))],
        ["4", "Số phiếu hết hạn cuối ngày", fmt_int(_get(totals, "expired"))],
        ["5", "Số lượt được chuyển quầy, lĩnh vực", fmt_int(_get(totals, "transferred"))],
        ["6", "Thời gian chờ trung bình (phút)", fmt_minutes(_get(wait, "mean"))],
        ["7", "Thời gian chờ trung vị (phút)", fmt_minutes(_get(wait, "median"))],
        ["8", "Thời gian chờ của 90% số lượt, không quá (phút)", fmt_minutes(_get(wait, "p90"))],
        ["9", "Thời gian chờ dài nhất (phút)", fmt_minutes(_get(wait, "max"))],
        ["10", "Thời gian phục vụ trung bình (phút)", fmt_minutes(_get(service, "mean"))],
        ["11", "Tỷ lệ được phục vụ trong thời gian chờ chuẩn", fmt_share(s.get("service_level"))],
        ["12", "Tỷ lệ hài lòng (trên số lượt đánh giá)", fmt_share(_get(ratings, "satisfied_share"))],
    ]
    appts = s.get("appointments")
    if isinstance(appts, Mapping) and appts:
        n = len(rows)
        for key, label in (
            ("booked", "Số lịch hẹn trực tuyến đã đặt"),
            ("checked_in", "Số lịch hẹn đến làm thủ tục"),
            ("cancelled", "Số lịch hẹn đã hủy"),
            ("no_show", "Số lịch hẹn không đến"),
        ):
            if key in appts:
                n += 1
                rows.append([str(n), label, fmt_int(appts[key])])
        if "online_share" in appts:
            rows.append([str(n + 1), "Tỷ lệ lượt đến có đặt lịch trực tuyến", fmt_share(appts["online_share"])])
    _table(pdf, ["STT", "Chỉ tiêu", "Số liệu"], rows, (12, 118, 35), ("C", "L", "R"))


def _by_category(pdf: FPDF, s: Mapping[str, Any]) -> None:
    cats = [c for c in s.get("by_category") or [] if isinstance(c, Mapping)]
    if not cats:
        return
    _heading(pdf, "II. THEO LĨNH VỰC THỦ TỤC")
    rows = []
    for i, c in enumerate(cats, 1):
        wait = c.get("wait_s")
        rows.append(
            [
                str(i),
                str(c.get("name") or c.get("category") or ""),
                fmt_int(c.get("issued")),
                fmt_int(c.get("served")),
                fmt_minutes(_get(wait, "mean")),
                fmt_minutes(_get(wait, "p90")),
                fmt_share(c.get("service_level")),
            ]
        )
    totals = s.get("totals") or {}
    wait = s.get("wait_s") or {}
    rows.append(
        [
            "",
            "Tổng cộng",
            fmt_int(_get(totals, "issued")),
            fmt_int(_get(totals, "served")),
            fmt_minutes(_get(wait, "mean")),
            fmt_minutes(_get(wait, "p90")),
            fmt_share(s.get("service_level")),
        ]
    )
    head = ["STT", "Lĩnh vực", "Số phiếu", "Đã phục vụ", "Chờ TB (phút)", "Chờ P90 (phút)", "Đạt thời gian chờ chuẩn"]
    _table(pdf, head, rows, (10, 55, 17, 19, 19, 19, 26), ("C", "L", "R", "R", "R", "R", "R"), bold_last=True)


def _wait_buckets(pdf: FPDF, s: Mapping[str, Any]) -> None:
    buckets = s.get("wait_buckets")
    if not isinstance(buckets, Mapping):
        return
    counts = [buckets.get(key) for key, _ in BUCKETS]
    total = sum(n for n in counts if isinstance(n, int | float))
    _heading(pdf, "III. PHÂN BỐ THỜI GIAN CHỜ (SỐ LƯỢT ĐÃ PHỤC VỤ)")
    rows = [
        [label, fmt_int(n), fmt_share(n / total if total and isinstance(n, int | float) else None)]
        for (_, label), n in zip(BUCKETS, counts, strict=True)
    ]
    rows.append(["Tổng cộng", fmt_int(total), fmt_share(1.0 if total else None)])
    _table(pdf, ["Thời gian chờ", "Số lượt", "Tỷ lệ"], rows, (85, 40, 40), ("L", "R", "R"), bold_last=True)


def _ratings(pdf: FPDF, s: Mapping[str, Any]) -> None:
    ratings = s.get("ratings")
    if not isinstance(ratings, Mapping):
        return
    by_level = ratings.get("by_level") or {}
    levels = sorted(int(k) for k in by_level if str(k).isdigit())
    scale = ratings.get("scale")
    if not isinstance(scale, int) or scale not in LEVELS:
        scale = 5 if levels and max(levels) > 3 else 3
    count = ratings.get("count")
    _heading(pdf, "IV. MỨC ĐỘ HÀI LÒNG CỦA CÔNG DÂN")
    rows = []
    for level in range(scale, 0, -1):
        n = by_level.get(str(level), 0)
        share = n / count if isinstance(count, int) and count and isinstance(n, int | float) else None
        rows.append([f"{level} - {LEVELS[scale][level - 1]}", fmt_int(n), fmt_share(share)])
    rows.append(["Tổng số lượt đánh giá", fmt_int(count), fmt_share(1.0 if count else None)])
    _table(pdf, ["Mức đánh giá", "Số lượt", "Tỷ lệ"], rows, (85, 40, 40), ("L", "R", "R"), bold_last=True)
    pdf.set_font(FONT, "I", 11)
    pdf.multi_cell(
        pdf.epw,
        5.5,
        _nfc(f"Tỷ lệ hài lòng (hai mức cao nhất của thang {scale} mức): {fmt_share(ratings.get('satisfied_share'))}."),
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.ln(2)


def _nice_step(top: float) -> float:
    for step in (1, 2, 5, 10, 15, 20, 30, 60, 120, 300):
        if top / step <= 5:
            return float(step)
    return float(round(top / 5))


def _by_hour_chart(pdf: FPDF, s: Mapping[str, Any]) -> None:
    hours = [h for h in s.get("by_hour") or [] if isinstance(h, Mapping) and isinstance(h.get("hour"), int)]
    hours.sort(key=lambda h: h["hour"])
    if not hours:
        return
    height = 62.0
    _heading(pdf, "V. THỜI GIAN CHỜ TRUNG BÌNH THEO GIỜ TRONG NGÀY", room=height + 30)
    values = []
    for h in hours:
        mean = _mean_wait(h)
        values.append(mean / 60.0 if isinstance(mean, int | float) and not isinstance(mean, bool) else None)
    top = max([v for v in values if v is not None] or [1.0])
    step = _nice_step(top)
    y_max = step * (int(top // step) + 1)

    axis_w = 12.0
    x0 = pdf.l_margin + axis_w
    width = pdf.epw - axis_w
    y_top = pdf.get_y() + 4
    y0 = y_top + height  # the baseline
    pdf.set_line_width(0.2)

    # grid lines and the minutes axis
    pdf.set_font(FONT, "", 8.5)
    pdf.set_text_color(*GREY)
    v = 0.0
    while v <= y_max + 1e-9:
        y = y0 - height * v / y_max
        pdf.set_draw_color(*GRID)
        pdf.line(x0, y, x0 + width, y)
        label = _decimal(v).removesuffix(",0")
        pdf.set_xy(pdf.l_margin, y - 2)
        pdf.cell(axis_w - 1.5, 4, label, align="R")
        v += step
    pdf.set_draw_color(*BLACK)
    pdf.line(x0, y0, x0 + width, y0)
    pdf.line(x0, y_top, x0, y0)

    slot = width / len(hours)
    bar_w = min(slot * 0.62, 14.0)
    for i, (h, val) in enumerate(zip(hours, values, strict=True)):
        cx = x0 + slot * (i + 0.5)
        if val is not None and val > 0:
            bar_h = height * val / y_max
            pdf.set_fill_color(*BAR_FILL)
            pdf.rect(cx - bar_w / 2, y0 - bar_h, bar_w, bar_h, style="F")
        pdf.set_text_color(*BLACK)
        pdf.set_font(FONT, "", 8.5)
        if val is not None:
            y_label = y0 - height * val / y_max - 4.5
            pdf.set_xy(cx - slot / 2, y_label)
            pdf.cell(slot, 4, _decimal(val), align="C")
        pdf.set_xy(cx - slot / 2, y0 + 1)
        pdf.cell(slot, 4, f"{h['hour']}h", align="C")
        issued = h.get("issued")
        if isinstance(issued, int):
            pdf.set_text_color(*GREY)
            pdf.set_xy(cx - slot / 2, y0 + 5)
            pdf.cell(slot, 4, fmt_int(issued), align="C")
    pdf.set_text_color(*BLACK)
    pdf.set_font(FONT, "I", 10)
    pdf.set_xy(pdf.l_margin, y0 + 10)
    pdf.multi_cell(
        pdf.epw,
        5,
        _nfc(
            "Biểu đồ: thời gian chờ trung bình (phút) của các lượt đã phục vụ, theo giờ cấp phiếu; "
            "hàng số dưới giờ là số phiếu đã cấp trong giờ đó."
        ),
        align="C",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.ln(3)


def _by_counter(pdf: FPDF, s: Mapping[str, Any]) -> None:
    counters = [c for c in s.get("by_counter") or [] if isinstance(c, Mapping)]
    if not counters:
        return
    _heading(pdf, "VI. THEO QUẦY TIẾP NHẬN")
    rows = []
    for c in counters:
        rows.append(
            [
                f"Quầy {c.get('counter', '')}",
                fmt_int(c.get("served")),
                fmt_minutes(_get(c.get("service_s"), "mean")),
                fmt_minutes(_get(c.get("wait_s"), "mean")),
                fmt_share(c.get("service_level")),
            ]
        )
    head = ["Quầy", "Đã phục vụ", "Phục vụ TB (phút)", "Chờ TB (phút)", "Đạt thời gian chờ chuẩn"]
    _table(pdf, head, rows, (35, 30, 33, 30, 37), ("L", "R", "R", "R", "R"))


def _by_clerk(pdf: FPDF, s: Mapping[str, Any]) -> None:
    clerks = [c for c in s.get("by_clerk") or [] if isinstance(c, Mapping)]
    if not clerks:
        return
    _heading(pdf, "VII. THEO CÁN BỘ TIẾP NHẬN")
    rows = [
        [
            str(i),
            str(c.get("name") or c.get("clerk") or ""),
            fmt_int(c.get("served")),
            fmt_minutes(_get(c.get("service_s"), "mean")),
            fmt_minutes(_get(c.get("service_s"), "median")),
        ]
        for i, c in enumerate(clerks, 1)
    ]
    head = ["STT", "Cán bộ", "Đã phục vụ", "Phục vụ TB (phút)", "Phục vụ trung vị (phút)"]
    _table(pdf, head, rows, (12, 58, 30, 32, 33), ("C", "L", "R", "R", "R"))


def _definitions(pdf: FPDF, definitions: str) -> None:
    paragraphs = [_nfc(p.strip()) for p in definitions.splitlines() if p.strip()]
    if not paragraphs:
        return
    pdf.set_font(FONT, "", 10.5)
    lines = 0
    for p in paragraphs:
        wrapped = pdf.multi_cell(pdf.epw, 5.2, p, dry_run=True, output="LINES")
        lines += len(wrapped) if isinstance(wrapped, list) else 3
    needed = 14 + lines * 5.2 + len(paragraphs) * 0.8 + 4 + SIGNATURE_BLOCK
    fresh = pdf.h - MARGIN_TOP - MARGIN_BOTTOM
    # the signature never stands alone on a page: the definitions go with it
    room = needed if needed <= fresh else 30
    _heading(pdf, "VIII. CÁCH TÍNH CÁC CHỈ TIÊU", room=room)
    pdf.set_font(FONT, "", 10.5)
    for p in paragraphs:
        pdf.multi_cell(pdf.epw, 5.2, p, align="J", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(0.8)
    pdf.ln(4)


def _signatures(pdf: FPDF, signer_title: str, preparer: str) -> None:
    block = SIGNATURE_BLOCK
    if pdf.get_y() + block > pdf.page_break_trigger:
        pdf.add_page()
    y = pdf.get_y() + 2
    half = pdf.epw / 2
    for x, title, note in (
        (pdf.l_margin, preparer, "(Ký, ghi rõ họ tên)"),
        (pdf.l_margin + half, signer_title, "(Ký, ghi rõ họ tên, đóng dấu)"),
    ):
        pdf.set_xy(x, y)
        pdf.set_font(FONT, "B", 12.5)
        pdf.cell(half, 6, _nfc(title.upper() if x > pdf.l_margin else title), align="C")
        pdf.set_xy(x, y + 6)
        pdf.set_font(FONT, "I", 11)
        pdf.cell(half, 5.5, _nfc(note), align="C")
    pdf.set_xy(pdf.l_margin, y + block)
