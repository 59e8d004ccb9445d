"""Period reports (issue #11): the summary of a period and its filters, from
the Parquet archive plus the stream's events not yet archived, by the
definitions of domain/reports.py."""

from __future__ import annotations

import asyncio
import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, TypedDict, cast

from queue_server.domain.config import SiteConfig
from queue_server.domain.reports import (
    Filters,
    definitions_text,
    filter_params,
    period_bounds,
    period_words,
    summary_from_groups,
)
from queue_server.errors import AppError
from queue_server.lazy import LazyModule
from queue_server.services.exports import BOM, summary_csv, summary_xlsx
from queue_server.store.archive import EventArchive
from queue_server.store.config_store import ConfigStore

if TYPE_CHECKING:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from queue_server.reporting import pdf
else:  # imported on the first export, not at the process's start
    pacsv = LazyModule("pyarrow.csv")
    pq = LazyModule("pyarrow.parquet")
    pdf = LazyModule("queue_server.reporting.pdf")

MAX_DAYS = 3 * 366
SOURCES = ("walk_in", "appointment")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}\Z")
_CLERK = re.compile(r"^[A-Za-z0-9_.@-]{1,64}\Z")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# pdf joins when the renderer (queue_server/reporting/pdf.py on main) is merged
FORMATS = ("csv", "xlsx", "pdf")


@dataclass(frozen=True)
class Export:
    content: bytes
    media_type: str
    filename: str


class Stats(TypedDict):
    mean: float | None
    median: float | None
    p90: float | None
    max: float | None


class Totals(TypedDict):
    issued: int
    served: int
    no_show: int
    expired: int
    transferred: int


class GroupRow(TypedDict, total=False):
    """One row of by_category (`category` and its `name`), by_counter
    (`counter`), by_clerk (`clerk`) or by_hour (`hour`, 0–23 of the issue,
    site time)."""

    category: str
    name: str
    counter: int
    clerk: str
    hour: int
    issued: int
    served: int
    no_show: int
    expired: int
    transferred: int
    wait_s: Stats
    service_s: Stats
    service_level: float | None


WaitBuckets = TypedDict("WaitBuckets", {"0-5": int, "5-15": int, "15-30": int, "30-60": int, "60+": int})


class Ratings(TypedDict):
    count: int
    by_level: dict[str, int]
    satisfied_share: float | None


class AppointmentFigures(TypedDict):
    booked: int
    cancelled: int
    checked_in_on_time: int
    checked_in_late: int
    checked_in: int
    no_show: int
    online_share: float | None


SummaryReply = TypedDict(
    "SummaryReply",
    {
        "from": str,
        "to": str,
        "totals": Totals,
        "by_source": dict[str, int],
        "wait_s": Stats,
        "service_s": Stats,
        "service_level": float | None,
        "wait_buckets": WaitBuckets,
        "ratings": Ratings,
        "by_category": list[GroupRow],
        "by_counter": list[GroupRow],
        "by_clerk": list[GroupRow],
        "by_hour": list[GroupRow],
        "appointments": AppointmentFigures,
    },
)


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    filters: Filters


def _date(raw: str | None, name: str) -> date:
    if raw is None or not _DATE.match(raw):
        raise AppError("invalid_period", detail=f"“{name}”: YYYY-MM-DD")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise AppError("invalid_period", detail=f"“{name}”: YYYY-MM-DD") from None


def parse_period(
    cfg: SiteConfig,
    start: str | None,
    end: str | None,
    category: str | None = None,
    counter: str | None = None,
    clerk: str | None = None,
    source: str | None = None,
) -> Period:
    """The period and filters of a request, checked (AppError 400 otherwise)."""
    lo, hi = _date(start, "from"), _date(end, "to")
    if hi < lo:
        raise AppError("invalid_period", detail="“from” > “to”")
    if (hi - lo).days + 1 > MAX_DAYS:
        raise AppError("invalid_period", detail=f"≤ {MAX_DAYS}")
    if category is not None and cfg.category(category) is None:
        raise AppError("invalid_filter", filter="category")
    n: int | None = None
    if counter is not None:
        if not counter.isdigit() or len(counter) > 4 or cfg.counter(int(counter)) is None:
            raise AppError("invalid_filter", filter="counter")
        n = int(counter)
    if clerk is not None and not _CLERK.match(clerk):
        raise AppError("invalid_filter", filter="clerk")
    if source is not None and source not in SOURCES:
        raise AppError("invalid_filter", filter="source")
    return Period(lo, hi, Filters(category=category, counter=n, clerk=clerk, source=source))


class ReportService:
    def __init__(self, config: ConfigStore, archive: EventArchive):
        self.config = config
        self.archive = archive

    async def period(self, *args: str | None) -> tuple[SiteConfig, Period]:
        cfg = await self.config.get()
        return cfg, parse_period(cfg, *args)

    async def compute(self, cfg: SiteConfig, p: Period, daily: bool = False) -> dict[str, Any]:
        tz = cfg.site.tz
        lo, hi = period_bounds(p.start, p.end, tz)
        targets = {c.code: c.target_wait_min * 60 for c in cfg.categories}
        groups, ratings, appointment_events = await self.archive.report_groups(
            lo, hi, tz, targets, filter_params(p.filters), daily
        )
        out = summary_from_groups(
            groups,
            ratings,
            appointment_events,
            start=p.start,
            end=p.end,
            tz=tz,
            rating_scale=cfg.queue.rating_scale,
            filters=p.filters,
            daily=daily,
        )
        for row in out["by_category"]:
            cat = cfg.category(row["category"])
            row["name"] = cat.name if cat else row["category"]
        return out

    async def summary(
        self,
        start: str | None,
        end: str | None,
        category: str | None = None,
        counter: str | None = None,
        clerk: str | None = None,
        source: str | None = None,
    ) -> SummaryReply:
        cfg, p = await self.period(start, end, category, counter, clerk, source)
        return cast(SummaryReply, await self.compute(cfg, p))

    async def export(
        self,
        fmt: str | None,
        start: str | None,
        end: str | None,
        category: str | None = None,
        counter: str | None = None,
        clerk: str | None = None,
        source: str | None = None,
    ) -> Export:
        """The period's report as a file: csv, xlsx, or pdf in the layout of an
        administrative report (Nghị định 30/2020/NĐ-CP)."""
        if fmt not in FORMATS:
            raise AppError("unsupported_format", format=str(fmt or "")[:20])
        cfg, p = await self.period(start, end, category, counter, clerk, source)
        summary = await self.compute(cfg, p, daily=fmt == "csv")
        name = f"bao-cao-{cfg.site.id}-{p.start.isoformat()}-{p.end.isoformat()}"
        label = p.start.isoformat() if p.start == p.end else f"{p.start.isoformat()} – {p.end.isoformat()}"
        if fmt == "csv":
            return Export(summary_csv(summary), "text/csv; charset=utf-8", name + ".csv")
        if fmt == "pdf":
            site = cfg.site
            # about a second of CPU: off the event loop
            document = await asyncio.to_thread(
                pdf.render_report_pdf,
                summary,
                body=site.report_body,
                place=site.place or site.name,
                title=f"Tình hình tiếp nhận và phục vụ công dân tại {site.name}, {period_words(p.start, p.end)}",
                period_label=f"(Từ ngày {p.start:%d/%m/%Y} đến ngày {p.end:%d/%m/%Y})",
                definitions=definitions_text("vi"),
                issued_on=datetime.now(UTC).astimezone(site.tz).date(),
            )
            return Export(document, "application/pdf", name + ".pdf")
        return Export(summary_xlsx(summary, cfg.site.name, label), XLSX, name + ".xlsx")

    async def events_export(self, fmt: str | None, start: str | None, end: str | None) -> Export:
        """The raw events of the period (archive and stream), csv or parquet."""
        if fmt not in ("csv", "parquet"):
            raise AppError("unsupported_format", format=str(fmt or "")[:20])
        cfg, p = await self.period(start, end)
        tz = cfg.site.tz
        lo, hi = period_bounds(p.start, p.end, tz)
        table = await self.archive.events_table(lo, hi, tz)
        name = f"su-kien-{cfg.site.id}-{p.start.isoformat()}-{p.end.isoformat()}"
        buf = io.BytesIO()
        if fmt == "parquet":
            pq.write_table(table, buf, compression="zstd")
            return Export(buf.getvalue(), "application/vnd.apache.parquet", name + ".parquet")
        pacsv.write_csv(table, buf)
        return Export(BOM.encode() + buf.getvalue(), "text/csv; charset=utf-8", name + ".csv")
