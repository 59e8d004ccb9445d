"""Report exports (issue #11): CSV (UTF-8 with BOM, one row per category x
day plus totals) and XLSX (xlsxwriter: summary, by category, by counter, by
clerk, by hour, ratings, definitions; native charts), from a summary dict of
domain/reports.py. Minutes with one decimal; the definitions in the notes.
In memory only: bytes out."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from queue_server.domain.reports import DEFINITIONS, WAIT_BUCKETS
from queue_server.lazy import LazyModule

if TYPE_CHECKING:
    import xlsxwriter
else:  # imported on the first XLSX export, not at the process's start
    xlsxwriter = LazyModule("xlsxwriter")

BOM = "\ufeff"
FIGURES: tuple[tuple[str, str], ...] = (
    ("issued", "Số phát / Issued"),
    ("served", "Đã phục vụ / Served"),
    ("no_show", "Vắng mặt / No-show"),
    ("expired", "Hết hạn / Expired"),
    ("transferred", "Chuyển / Transferred"),
)
TIMES: tuple[tuple[str, str, str], ...] = (
    ("wait_s", "mean", "Chờ TB (phút) / Wait mean (min)"),
    ("wait_s", "median", "Chờ trung vị (phút) / Wait median (min)"),
    ("wait_s", "p90", "Chờ p90 (phút) / Wait p90 (min)"),
    ("wait_s", "max", "Chờ lâu nhất (phút) / Wait max (min)"),
    ("service_s", "mean", "Phục vụ TB (phút) / Service mean (min)"),
    ("service_s", "median", "Phục vụ trung vị (phút) / Service median (min)"),
    ("service_s", "p90", "Phục vụ p90 (phút) / Service p90 (min)"),
    ("service_s", "max", "Phục vụ lâu nhất (phút) / Service max (min)"),
)
LEVEL_HEADER = "Mức đáp ứng (%) / Service level (%)"


def minutes(seconds: float | None) -> float | None:
    """Seconds -> minutes with one decimal (None stays None)."""
    return None if seconds is None else round(seconds / 60, 1)


def percent(share: float | None) -> float | None:
    return None if share is None else round(share * 100, 1)


def row_values(r: Mapping[str, Any]) -> list[Any]:
    """The figures of one summary group row, in export columns."""
    return [r[k] for k, _ in FIGURES] + [minutes(r[g][k]) for g, k, _ in TIMES] + [percent(r["service_level"])]


HEADERS = [h for _, h in FIGURES] + [h for _, _, h in TIMES] + [LEVEL_HEADER]


def _blank(v: Any) -> Any:
    return "" if v is None else v


def summary_csv(summary: Mapping[str, Any]) -> bytes:
    """One row per day x category, then the totals; then the definitions."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(["Ngày / Day", "Lĩnh vực / Category", *HEADERS])
    for r in summary.get("by_category_day", []):
        w.writerow([r["day"], r["category"], *map(_blank, row_values(r))])
    total = {**summary["totals"], **{k: summary[k] for k in ("wait_s", "service_s", "service_level")}}
    w.writerow([f"{summary['from']}..{summary['to']}", "Tổng / Total", *map(_blank, row_values(total))])
    w.writerow([])
    w.writerow(["Định nghĩa / Definitions"])
    for _, vi, en in DEFINITIONS:
        w.writerow([vi, en])
    return (BOM + out.getvalue()).encode("utf-8")


def _table(ws: Any, fmt: Mapping[str, Any], key_header: str, rows: Sequence[Mapping[str, Any]], key: str) -> int:
    ws.write_row(0, 0, [key_header, *HEADERS], fmt["head"])
    for i, r in enumerate(rows, start=1):
        ws.write(i, 0, r[key])
        for j, v in enumerate(row_values(r), start=1):
            if v is None:
                ws.write_blank(i, j, None)
            else:
                ws.write_number(i, j, v, fmt["int"] if j <= len(FIGURES) else fmt["dec"])
    ws.set_column(0, 0, 18)
    ws.set_column(1, len(HEADERS), 14)
    ws.freeze_panes(1, 1)
    return len(rows)


def _column_chart(wb: Any, sheet: str, n: int, col: int, title: str, kind: str = "column") -> Any:
    chart = wb.add_chart({"type": kind})
    chart.add_series(
        {
            "name": [sheet, 0, col],
            "categories": [sheet, 1, 0, max(1, n), 0],
            "values": [sheet, 1, col, max(1, n), col],
        }
    )
    chart.set_title({"name": title})
    chart.set_legend({"none": True})
    return chart


def summary_xlsx(
    summary: Mapping[str, Any],
    site_name: str,
    period_label: str,
    progress: Callable[[float, str], None] | None = None,
) -> bytes:
    """The workbook; `progress(share done 0–1, stage)` after each sheet
    ("sheets") and once the charts are in ("charts")."""
    step = progress or (lambda part, stage: None)
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    fmt = {
        "head": wb.add_format({"bold": True, "bg_color": "#DDEBF7", "text_wrap": True, "valign": "top"}),
        "title": wb.add_format({"bold": True, "font_size": 14}),
        "int": wb.add_format({"num_format": "0"}),
        "dec": wb.add_format({"num_format": "0.0"}),
        "wrap": wb.add_format({"text_wrap": True, "valign": "top"}),
    }
    # summary
    ws = wb.add_worksheet("summary")
    ws.write(0, 0, site_name, fmt["title"])
    ws.write(1, 0, f"Báo cáo / Report: {period_label} ({summary['from']} – {summary['to']})")
    total = {**summary["totals"], **{k: summary[k] for k in ("wait_s", "service_s", "service_level")}}
    ws.write_row(3, 0, ["Chỉ tiêu / Figure", "Giá trị / Value"], fmt["head"])
    row = 4
    for h, v in zip(HEADERS, row_values(total), strict=True):
        ws.write(row, 0, h)
        if v is None:
            ws.write_blank(row, 1, None)
        else:
            ws.write_number(row, 1, v, fmt["dec"] if "phút" in h or "%" in h else fmt["int"])
        row += 1
    appts = summary["appointments"]
    for k, label in (
        ("booked", "Lịch hẹn đã đặt / Appointments booked"),
        ("cancelled", "Lịch hẹn đã hủy / Cancelled"),
        ("checked_in_on_time", "Check-in đúng giờ / Checked in on time"),
        ("checked_in_late", "Check-in muộn / Checked in late"),
        ("no_show", "Lịch hẹn vắng mặt / Appointment no-shows"),
    ):
        ws.write(row, 0, label)
        ws.write_number(row, 1, appts[k], fmt["int"])
        row += 1
    ws.write(row, 0, "Đặt lịch trực tuyến (%) / Booked online (%)")
    if appts["online_share"] is None:
        ws.write_blank(row, 1, None)
    else:
        ws.write_number(row, 1, percent(appts["online_share"]), fmt["dec"])
    row += 2
    ws.write_row(row, 0, ["Nhóm thời gian chờ (phút) / Wait bucket (min)", "Số / Count"], fmt["head"])
    first_bucket = row + 1
    for name, _, _ in WAIT_BUCKETS:
        row += 1
        ws.write(row, 0, name)
        ws.write_number(row, 1, summary["wait_buckets"][name], fmt["int"])
    chart = wb.add_chart({"type": "column"})
    chart.add_series(
        {
            "name": "Chờ / Wait",
            "categories": ["summary", first_bucket, 0, row, 0],
            "values": ["summary", first_bucket, 1, row, 1],
        }
    )
    chart.set_title({"name": "Thời gian chờ / Wait (min)"})
    chart.set_legend({"none": True})
    ws.insert_chart(3, 3, chart)
    ws.set_column(0, 0, 46)
    ws.set_column(1, 1, 14)
    step(1 / 8, "sheets")

    sheets = (
        ("by category", "Lĩnh vực / Category", "by_category", "category"),
        ("by counter", "Quầy / Counter", "by_counter", "counter"),
        ("by clerk", "Cán bộ / Clerk", "by_clerk", "clerk"),
        ("by hour", "Giờ / Hour", "by_hour", "hour"),
    )
    for i, (name, header, key, field) in enumerate(sheets, start=2):
        ws = wb.add_worksheet(name)
        n = _table(ws, fmt, header, summary[key], field)
        if n:
            ws.insert_chart(n + 2, 1, _column_chart(wb, name, n, 1, f"{HEADERS[0]} – {header}"))
            ws.insert_chart(n + 2, 9, _column_chart(wb, name, n, len(FIGURES) + 1, f"{TIMES[0][2]} – {header}"))
        step(i / 8, "sheets")

    ws = wb.add_worksheet("ratings")
    ratings = summary["ratings"]
    ws.write_row(0, 0, ["Mức / Level", "Số lượt / Count"], fmt["head"])
    levels = list(ratings["by_level"].items())
    for i, (level, count) in enumerate(levels, start=1):
        ws.write_number(i, 0, int(level), fmt["int"])
        ws.write_number(i, 1, count, fmt["int"])
    r = len(levels) + 1
    ws.write(r, 0, "Tổng / Total")
    ws.write_number(r, 1, ratings["count"], fmt["int"])
    ws.write(r + 1, 0, "Hài lòng (%) / Satisfied (%)")
    if ratings["satisfied_share"] is None:
        ws.write_blank(r + 1, 1, None)
    else:
        ws.write_number(r + 1, 1, percent(ratings["satisfied_share"]), fmt["dec"])
    if levels:
        pie = wb.add_chart({"type": "pie"})
        pie.add_series(
            {
                "name": "Đánh giá / Ratings",
                "categories": ["ratings", 1, 0, len(levels), 0],
                "values": ["ratings", 1, 1, len(levels), 1],
            }
        )
        pie.set_title({"name": "Đánh giá / Ratings"})
        ws.insert_chart(1, 3, pie)
    ws.set_column(0, 0, 28)

    ws = wb.add_worksheet("definitions")
    ws.write_row(0, 0, ["", "Tiếng Việt", "English"], fmt["head"])
    for i, (key, vi, en) in enumerate(DEFINITIONS, start=1):
        ws.write(i, 0, key)
        ws.write(i, 1, vi, fmt["wrap"])
        ws.write(i, 2, en, fmt["wrap"])
    ws.set_column(0, 0, 16)
    ws.set_column(1, 2, 70)
    step(7 / 8, "charts")
    wb.close()  # writes the charts' XML and zips the book
    step(1.0, "charts")
    return buf.getvalue()
