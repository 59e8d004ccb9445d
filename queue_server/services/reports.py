"""Period reports (issue #11): the summary of a period and its filters, from
the Parquet archive plus the stream's events not yet archived, by the
definitions of domain/reports.py."""

from __future__ import annotations

import asyncio
import io
import os
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypedDict, cast

from queue_server.domain.config import SiteConfig
from queue_server.domain.reports import (
    Filters,
    Periodic,
    definitions_text,
    filter_params,
    parse_periodic_name,
    period_bounds,
    period_words,
    previous_period,
    summary_from_groups,
)
from queue_server.errors import AppError
from queue_server.lazy import LazyModule
from queue_server.services.exports import BOM, summary_csv, summary_xlsx
from queue_server.store.archive import EventArchive, private_temp
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
    (`counter`), by_clerk (`clerk`), by_hour (`hour`, 0–23 of the issue,
    site time), by_weekday (`weekday`, 0 Monday … 6 Sunday of the issue) or
    by_hour_weekday (both)."""

    category: str
    name: str
    counter: int
    clerk: str
    hour: int
    weekday: int
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


PreviousFigures = TypedDict(
    "PreviousFigures",
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
        "appointments": AppointmentFigures,
    },
)
PREVIOUS_KEYS: tuple[str, ...] = tuple(PreviousFigures.__annotations__)


class _Compared(TypedDict, total=False):
    # with compare=previous: the period of as many days just before (a class
    # of its own: NotRequired is not seen at run time under postponed annotations)
    previous: PreviousFigures


class SummaryReply(PreviousFigures, _Compared):
    """The period's figures (those a previous period has too), its breakdowns,
    and with compare=previous the previous period's figures."""

    by_category: list[GroupRow]
    by_counter: list[GroupRow]
    by_clerk: list[GroupRow]
    by_hour: list[GroupRow]
    by_weekday: list[GroupRow]
    by_hour_weekday: list[GroupRow]


class ProgressStep(TypedDict):
    progress: int
    stage: str


class ExportJobReply(TypedDict):
    """An export made by the worker: `state` queued, running, done or failed;
    `progress` 0–100 and its `stage` (query, sheets, charts, pages), `steps`
    every one the job reported so far; `file` the download's path once done."""

    id: str
    state: str
    progress: int
    stage: str
    steps: list[ProgressStep]
    format: str
    file: str | None


class PeriodicFile(TypedDict):
    format: str
    url: str
    size: int


class PeriodicReport(TypedDict):
    name: str
    kind: str
    label: str
    label_en: str
    title: str
    period: str
    files: list[PeriodicFile]


class PeriodicReply(TypedDict):
    reports: list[PeriodicReport]


@dataclass(frozen=True)
class JobState:
    status: str  # RQ's: queued, scheduled, deferred, started, finished, failed, stopped, canceled
    meta: dict[str, Any]


class ExportJobs(Protocol):
    """The worker's queue as the reports see it (adapters/jobs.py RqJobQueue)."""

    async def submit(self, func: str, *args: Any, job_id: str, meta: dict[str, Any], timeout_s: int) -> None:
        """Run `func` soon with `meta` kept beside it (the job updates it)."""
        ...

    async def state(self, job_id: str) -> JobState | None:
        """The job's status and meta; None if there is none (or it expired)."""
        ...


Progress = Callable[[int, str], None]
EXPORT_JOB = "queue_server.jobs.export_report"
_JOB_ID = re.compile(r"^rx-[0-9a-f]{16}\Z")
EXTENSIONS = {"csv": "csv", "xlsx": "xlsx", "pdf": "pdf"}
MEDIA = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX, "pdf": "application/pdf"}
_STATE = {"finished": "done", "started": "running", "failed": "failed", "stopped": "failed", "canceled": "failed"}


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
    def __init__(
        self,
        config: ConfigStore,
        archive: EventArchive,
        jobs: ExportJobs | None = None,
        data_dir: Path | str | None = None,
    ):
        self.config = config
        self.archive = archive
        self.jobs = jobs
        self.data_dir = Path(data_dir) if data_dir is not None else None

    def files_dir(self, part: str) -> Path:
        """Where the worker's exports (`exports`) and the scheduled period
        reports (`periodic`) of this site are kept: <data dir>/reports/<site>/…"""
        if self.data_dir is None:
            raise AppError("export_not_found")
        return self.data_dir / "reports" / self.archive.keys.site / part

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
        compare: str | None = None,
    ) -> SummaryReply:
        if compare not in (None, "", "previous"):
            raise AppError("invalid_filter", filter="compare")
        cfg, p = await self.period(start, end, category, counter, clerk, source)
        out = await self.compute(cfg, p)
        if compare == "previous":
            lo, hi = previous_period(p.start, p.end)
            before = await self.compute(cfg, replace(p, start=lo, end=hi))
            out["previous"] = {k: before[k] for k in PREVIOUS_KEYS}
        return cast(SummaryReply, out)

    async def export(
        self,
        fmt: str | None,
        start: str | None,
        end: str | None,
        category: str | None = None,
        counter: str | None = None,
        clerk: str | None = None,
        source: str | None = None,
        progress: Progress | None = None,
    ) -> Export:
        """The period's report as a file: csv, xlsx, or pdf in the layout of an
        administrative report (Nghị định 30/2020/NĐ-CP). `progress(percent,
        stage)` hears how far it got (the worker's export job shows it)."""
        if fmt not in FORMATS:
            raise AppError("unsupported_format", format=str(fmt or "")[:20])
        step: Progress = progress or (lambda pct, stage: None)
        cfg, p = await self.period(start, end, category, counter, clerk, source)
        step(5, "query")
        summary = await self.compute(cfg, p, daily=fmt == "csv")
        step(40, "query")
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
                progress=lambda part, n: step(40 + round(55 * part), "pages"),
            )
            return Export(document, "application/pdf", name + ".pdf")
        book = summary_xlsx(
            summary, cfg.site.name, label, progress=lambda part, stage: step(40 + round(55 * part), stage)
        )
        return Export(book, XLSX, name + ".xlsx")

    # -- exports made by the worker ------------------------------------------------------
    async def start_export(
        self,
        owner: str,
        fmt: str | None,
        start: str | None,
        end: str | None,
        category: str | None = None,
        counter: str | None = None,
        clerk: str | None = None,
        source: str | None = None,
    ) -> ExportJobReply:
        """Queue the export for the worker (checked first: a bad period is a
        400 now, not a failed job); only `owner` (or an admin) reads it."""
        if fmt not in FORMATS:
            raise AppError("unsupported_format", format=str(fmt or "")[:20])
        await self.period(start, end, category, counter, clerk, source)
        if self.jobs is None or self.data_dir is None:
            raise AppError("export_not_found")
        job_id = "rx-" + secrets.token_hex(8)
        meta = {"site": self.archive.keys.site, "owner": owner, "format": fmt, "progress": 0, "stage": "queued"}
        await self.jobs.submit(
            EXPORT_JOB,
            self.archive.keys.site,
            str(self.data_dir.resolve()),
            job_id,
            fmt,
            start,
            end,
            category,
            counter,
            clerk,
            source,
            job_id=job_id,
            meta=meta,
            timeout_s=1800,
        )
        return {
            "id": job_id,
            "state": "queued",
            "progress": 0,
            "stage": "queued",
            "steps": [],
            "format": str(fmt),
            "file": None,
        }

    async def _job(self, job_id: str, user: str, admin: bool) -> JobState:
        """The export job `job_id` if this caller may see it (its owner, an
        admin of the site); export_not_found otherwise (no telling which)."""
        if not _JOB_ID.match(job_id) or self.jobs is None:
            raise AppError("export_not_found")
        st = await self.jobs.state(job_id)
        if st is None or st.meta.get("site") != self.archive.keys.site:
            raise AppError("export_not_found")
        if not admin and st.meta.get("owner") != user:
            raise AppError("export_not_found")
        return st

    async def export_state(self, job_id: str, user: str, admin: bool = False) -> ExportJobReply:
        st = await self._job(job_id, user, admin)
        state = _STATE.get(st.status, "queued")
        fmt = str(st.meta.get("format", ""))
        return {
            "id": job_id,
            "state": state,
            "progress": 100 if state == "done" else int(st.meta.get("progress", 0)),
            "stage": "done" if state == "done" else str(st.meta.get("stage", "queued")),
            "steps": [{"progress": int(p), "stage": str(g)} for p, g in st.meta.get("seen", [])],
            "format": fmt,
            "file": f"/api/reports/exports/{job_id}/file" if state == "done" else None,
        }

    async def export_file(self, job_id: str, user: str, admin: bool = False) -> Export:
        st = await self._job(job_id, user, admin)
        if _STATE.get(st.status) != "done":
            raise AppError("export_not_ready")
        fmt = str(st.meta.get("format", ""))
        path = self.files_dir("exports") / f"{job_id}.{EXTENSIONS.get(fmt, 'bin')}"
        if not path.is_file():
            raise AppError("export_not_found")
        content = await asyncio.to_thread(path.read_bytes)
        return Export(content, MEDIA.get(fmt, "application/octet-stream"), str(st.meta.get("filename") or path.name))

    # -- the scheduled period reports -------------------------------------------------------
    async def make_periodic(self, periods: list[Periodic]) -> list[str]:
        """Each period's XLSX and PDF under files_dir("periodic"), unless
        already there (made once) or the archive starts after it; returns
        the files made."""
        made = []
        out = self.files_dir("periodic")
        days = await asyncio.to_thread(self.archive.days)
        for per in periods:
            if not days or days[0] > per.end:  # nothing happened yet then (a new site)
                continue
            for fmt in ("xlsx", "pdf"):
                path = out / f"{per.name}.{fmt}"
                if path.exists():
                    continue
                export = await self.export(fmt, per.start.isoformat(), per.end.isoformat())
                await asyncio.to_thread(write_atomic, path, export.content)
                made.append(path.name)
        return made

    async def periodic(self) -> PeriodicReply:
        """The kept period reports, newest first."""
        folder = self.files_dir("periodic") if self.data_dir is not None else None
        found: dict[str, list[PeriodicFile]] = {}
        if folder is not None and folder.is_dir():
            for f in sorted(folder.iterdir()):
                stem, _, ext = f.name.partition(".")
                if ext in ("xlsx", "pdf") and parse_periodic_name(stem) is not None:
                    url = f"/api/reports/periodic/{f.name}"
                    found.setdefault(stem, []).append({"format": ext, "url": url, "size": f.stat().st_size})
        pers = [p for p in (parse_periodic_name(n) for n in found) if p is not None]
        pers.sort(key=lambda p: (p.end, (p.end - p.start).days), reverse=True)
        return {
            "reports": [
                {
                    "name": p.name,
                    "kind": p.kind,
                    "label": p.label("vi"),
                    "label_en": p.label("en"),
                    "title": period_words(p.start, p.end),
                    "period": f"{p.start.isoformat()}/{p.end.isoformat()}",
                    "files": found[p.name],
                }
                for p in pers
            ]
        }

    async def periodic_file(self, filename: str) -> Export:
        stem, _, ext = filename.partition(".")
        per = parse_periodic_name(stem)
        if per is None or ext not in ("xlsx", "pdf"):
            raise AppError("export_not_found")
        path = self.files_dir("periodic") / f"{per.name}.{ext}"
        if not path.is_file():
            raise AppError("export_not_found")
        site = self.archive.keys.site
        content = await asyncio.to_thread(path.read_bytes)
        return Export(content, MEDIA[ext], f"bao-cao-{site}-{per.name}.{ext}")

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


def write_atomic(path: Path, content: bytes) -> None:
    """`content` at `path` through a temp file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = private_temp(path)
    try:
        tmp.write_bytes(content)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
