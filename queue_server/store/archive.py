"""The long-term event archive: daily Parquet files fed from the event stream,
and the reader the reports run on (DuckDB over those files, plus the stream's
events not yet archived).

Layout: ``<data dir>/archive/<site>/events/YYYY-MM-DD.parquet``, one file per
day of the site's time zone (by the event's `ts`), one row per event, one
column per field declared in domain/events.py (typed), plus ``id`` (the
stream id), ``id_ms``/``id_seq`` (its two parts, the order of the log) and
``extra`` (undeclared fields, JSON). A day's file is rewritten whole (a temp
file, then a rename), merged with its old rows and deduplicated by stream id,
so an archive run repeated after a crash writes no duplicate.

The checkpoint (the newest archived stream id) lives in Redis and only moves
forward, in the same script that trims the stream (archive_commit.lua): an
entry newer than the checkpoint is never trimmed.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from redis.asyncio import Redis

from queue_server.domain.events import SCHEMA, decode
from queue_server.domain.reports import FACTS_COLUMNS, FACTS_SQL, RATINGS_SQL, clock_rows, summary_sql
from queue_server.lazy import LazyModule
from queue_server.store.connection import entries
from queue_server.store.keys import Keys
from queue_server.store.scripts import Scripts

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa
    import pyarrow.parquet as pq
else:  # imported on the first archive run or report, not at the process's start
    duckdb = LazyModule("duckdb")
    pa = LazyModule("pyarrow")
    pq = LazyModule("pyarrow.parquet")


def _columns() -> dict[str, str]:
    """Each archived column and its kind (int, str, bool)."""
    cols = {"id": "str", "id_ms": "int", "id_seq": "int"}
    for spec in SCHEMA.values():
        for name, f in spec.items():
            cols.setdefault(name, f.kind)
    cols["extra"] = "str"
    return cols


COLUMNS = _columns()


@cache
def arrow_schema() -> pa.Schema:
    """The archive files' Arrow schema (COLUMNS)."""
    types = {"int": pa.int64(), "str": pa.string(), "bool": pa.bool_()}
    return pa.schema([pa.field(n, types[k]) for n, k in COLUMNS.items()])


# what the reports read (domain/reports.py's fold)
REPORT_TYPES = (
    "issue",
    "call",
    "done",
    "no_show",
    "requeue",
    "expire",
    "transfer",
    "rating",
    "appointment_book",
    "appointment_cancel",
    "appointment_move",
    "appointment_checkin",
    "appointment_no_show",
)
REPORT_COLUMNS = (
    "id",
    "type",
    "ts",
    "ticket",
    "category",
    "source",
    "counter",
    "clerk",
    "level",
    "scale",
    "appointment",
    "start",
    "late",
)
_TICKET_FILTER = (
    "(type IN ('issue', 'call', 'done', 'no_show', 'requeue', 'expire', 'transfer', 'rating', 'appointment_checkin'))"
)
_SLOT_FILTER = '(("start" >= $lo AND "start" < $hi) OR (from_start >= $lo AND from_start < $hi))'


_COLS = ", ".join(f'"{c}"' for c in ("id", "id_ms", "id_seq", *REPORT_COLUMNS[1:], "from_start"))


def _month(d: date) -> date:
    return d.replace(day=1)


def _next_month(m: date) -> date:
    return (m.replace(day=28) + timedelta(days=4)).replace(day=1)


def _closed(month: date, today: date, tail_day: date | None) -> bool:
    """A month whose last day is two days old, with no stream event left
    unarchived from that day on: its figures no longer change."""
    end = _next_month(month) - timedelta(days=1)
    return end <= today - timedelta(days=2) and (tail_day is None or end + timedelta(days=1) < tail_day)


def _days(a: date, b: date) -> list[date]:
    """The days from a up to b (excluded)."""
    return [a + timedelta(days=i) for i in range((b - a).days)]


def bounds(day: date, tz: ZoneInfo) -> tuple[int, int]:
    """A local day as [start, end) ms."""
    lo = datetime.combine(day, datetime.min.time(), tzinfo=tz)
    hi = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    return int(lo.timestamp() * 1000), int(hi.timestamp() * 1000)


# bookings are made up to this long before their slot
APPOINTMENT_LOOKBACK = timedelta(days=62)


def row_of(stream_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """One stream entry as an archive row."""
    d = decode(fields)
    ms, _, seq = stream_id.partition("-")
    row: dict[str, Any] = {"id": stream_id, "id_ms": int(ms), "id_seq": int(seq or 0)}
    extra: dict[str, Any] = {}
    spec = SCHEMA.get(str(d.get("type", "")), {})
    for k, v in d.items():
        if k in spec or k in ("type", "seq", "ts"):
            if k in ("seq", "ts") and isinstance(v, str):
                v = int(v) if v.lstrip("-").isdigit() else None
            row[k] = v
        else:
            extra[k] = v
    row["extra"] = json.dumps(extra, ensure_ascii=False) if extra else None
    return row


def write_day(path: Path, rows: Sequence[Mapping[str, Any]]) -> int:
    """Merge `rows` into the day file at `path` (deduplicated by stream id,
    in log order), atomically. Returns how many rows were new."""
    new = pa.Table.from_pylist(list(rows), schema=arrow_schema())
    old_ids: set[str] = set()
    if path.exists():
        old = pq.read_table(path, schema=arrow_schema())
        old_ids = set(old.column("id").to_pylist())
        keep = [i for i, sid in enumerate(new.column("id").to_pylist()) if sid not in old_ids]
        added = new.take(keep) if keep else new.slice(0, 0)
        table = pa.concat_tables([old, added])
    else:
        # dedupe within the batch too (the same id twice)
        seen: set[str] = set()
        keep = []
        for i, sid in enumerate(new.column("id").to_pylist()):
            if sid not in seen:
                seen.add(sid)
                keep.append(i)
        added = new.take(keep)
        table = added
    if added.num_rows == 0 and path.exists():
        return 0
    table = table.sort_by([("id_ms", "ascending"), ("id_seq", "ascending")])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp, compression="zstd")
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return int(added.num_rows)


def private_temp(path: Path) -> Path:
    """A temp name beside `path` for one writer (its pid and a random tag):
    writers of the same file at once never share one, so none renames
    another's file away; the last rename wins."""
    return path.with_name(f"{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")


@dataclass(frozen=True)
class ArchiveRun:
    archived: int  # new rows written
    checkpoint: str
    trimmed: int  # entries trimmed from the stream


class EventArchive:
    """The archive of one site under `root` (the data dir)."""

    def __init__(self, redis: Redis, keys: Keys, scripts: Scripts, root: Path):
        self.redis = redis
        self.keys = keys
        self.scripts = scripts
        self.dir = Path(root) / "archive" / keys.site / "events"

    def day_path(self, day: date) -> Path:
        return self.dir / f"{day.isoformat()}.parquet"

    def days(self) -> list[date]:
        if not self.dir.exists():
            return []
        return sorted(date.fromisoformat(p.stem) for p in self.dir.glob("*.parquet"))

    @contextlib.contextmanager
    def _writer(self) -> Any:
        """One writer at a time (the minute's job, close-day's run, demo-data):
        an exclusive lock on the archive's lock file."""
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / ".lock", "a+b") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def import_events(self, events: Iterable[Mapping[str, Any]], tz: ZoneInfo, first_seq: int = 0) -> int:
        """Backdated events (typed, as domain/demo.py makes them) straight into
        the files, with ids `ts-n` (n counting from `first_seq`: the same
        events get the same ids, so an import repeated writes nothing twice)."""
        rows = []
        for n, e in enumerate(events, start=first_seq):
            ts = int(e["ts"])
            row = {k: v for k, v in e.items() if k in COLUMNS}
            rows.append({**row, "id": f"{ts}-{n}", "id_ms": ts, "id_seq": n, "extra": None})
        with self._writer():
            return self.write_rows(rows, tz)

    async def checkpoint(self) -> str:
        v = await self.redis.get(self.keys.archive_checkpoint)
        return (v.decode() if isinstance(v, bytes) else v) or ""

    def write_rows(self, rows: Iterable[Mapping[str, Any]], tz: ZoneInfo) -> int:
        """Rows (archive rows) into their days' files; returns the new rows."""
        by_day: dict[date, list[Mapping[str, Any]]] = {}
        for r in rows:
            ts = r.get("ts")
            ms = int(ts) if isinstance(ts, int) else int(r["id_ms"])
            by_day.setdefault(datetime.fromtimestamp(ms / 1000, tz).date(), []).append(r)
        return sum(write_day(self.day_path(d), rs) for d, rs in sorted(by_day.items()))

    async def run(self, tz: ZoneInfo, now_ms: int, window_days: int = 35, batch: int = 10_000) -> ArchiveRun:
        """Append every event after the checkpoint to the files, move the
        checkpoint, then trim the stream to `window_days` (never past the
        checkpoint). Runs alone: a second run waits for the first."""
        lock = self._writer()
        await asyncio.to_thread(lock.__enter__)
        try:
            done = await self._run(tz, now_ms, window_days, batch)
            tail = await self.read_live(done.checkpoint)
            ts = [r["ts"] for r in tail if isinstance(r.get("ts"), int)]
            tail_day = datetime.fromtimestamp(min(ts) / 1000, tz).date() if ts else None
            await asyncio.to_thread(self.warm, tz, tail_day)
            return done
        finally:
            lock.__exit__(None, None, None)

    async def _run(self, tz: ZoneInfo, now_ms: int, window_days: int, batch: int) -> ArchiveRun:
        cp = await self.checkpoint()
        start = "(" + cp if cp else "-"
        written = 0
        last = ""
        while True:
            rows = entries(await self.redis.xrange(self.keys.events, min=start, max="+", count=batch))
            if not rows:
                break
            arch = [row_of(sid, f) for sid, f in rows]
            written += await asyncio.to_thread(self.write_rows, arch, tz)
            last = rows[-1][0]
            # commit per batch: a crash after this loses nothing, before it rewrites the same rows
            await self.scripts.run(
                "archive_commit", [self.keys.events, self.keys.archive_checkpoint], {"last": last, "cutoff_ms": 0}
            )
            start = "(" + last
            if len(rows) < batch:
                break
        cutoff = now_ms - window_days * 86_400_000
        r = await self.scripts.run(
            "archive_commit",
            [self.keys.events, self.keys.archive_checkpoint],
            {"last": last, "cutoff_ms": max(0, cutoff)},
        )
        return ArchiveRun(archived=written, checkpoint=str(r["checkpoint"]), trimmed=int(r["trimmed"]))

    # -- reading ------------------------------------------------------------------
    def _files(self, lo_ms: int, hi_ms: int, tz: ZoneInfo, lookback: timedelta) -> list[str]:
        first = datetime.fromtimestamp(lo_ms / 1000, tz).date() - lookback - timedelta(days=1)
        last = datetime.fromtimestamp(hi_ms / 1000, tz).date() + timedelta(days=1)
        return [str(self.day_path(d)) for d in self.days() if first <= d <= last]

    def read_archived(
        self, lo_ms: int, hi_ms: int, tz: ZoneInfo, columns: Sequence[str] = REPORT_COLUMNS
    ) -> list[dict[str, Any]]:
        """The report events of tickets issued in [lo, hi) (and a day after, for
        their outcomes and ratings) and of bookings whose slot is in it, from
        the files, in log order."""
        files = self._files(lo_ms, hi_ms, tz, APPOINTMENT_LOOKBACK)
        if not files:
            return []
        cols = ", ".join(f'"{c}"' for c in columns)
        types = ", ".join(f"'{t}'" for t in REPORT_TYPES)
        sql = (
            f"SELECT {cols} FROM read_parquet(?) WHERE type IN ({types}) AND ("
            " (ts >= ? AND ts < ?)"
            " OR (type LIKE 'appointment_%'"
            ' AND (("start" >= ? AND "start" < ?) OR (from_start >= ? AND from_start < ?)))'
            ") ORDER BY id_ms, id_seq"
        )
        hi_out = hi_ms + 86_400_000
        with duckdb.connect() as con:
            cur = con.execute(sql, [files, lo_ms, hi_out, lo_ms, hi_ms, lo_ms, hi_ms])
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    async def read_live(self, after: str) -> list[dict[str, Any]]:
        """The stream's events after `after` (the checkpoint), as archive rows."""
        start = "(" + after if after else "-"
        out: list[dict[str, Any]] = []
        while True:
            rows = entries(await self.redis.xrange(self.keys.events, min=start, max="+", count=5000))
            out.extend(row_of(sid, f) for sid, f in rows)
            if len(rows) < 5000:
                return out
            start = "(" + rows[-1][0]

    async def report_events(self, lo_ms: int, hi_ms: int, tz: ZoneInfo) -> list[dict[str, Any]]:
        """Every event a report of [lo, hi) needs: the archive's, then the
        stream's not yet archived (deduplicated by stream id)."""
        cp = await self.checkpoint()
        live = await self.read_live(cp)
        archived = await asyncio.to_thread(self.read_archived, lo_ms, hi_ms, tz)
        seen = {e["id"] for e in live}
        return [e for e in archived if e["id"] not in seen] + [
            {c: e.get(c) for c in REPORT_COLUMNS} for e in live if e.get("type") in REPORT_TYPES
        ]

    async def report_facts(
        self, lo_ms: int, hi_ms: int, tz: ZoneInfo
    ) -> tuple[list[tuple[Any, ...]], list[dict[str, Any]]]:
        """What a report of [lo, hi) needs, from the files and the stream's
        events after the checkpoint (each event once): one row per ticket
        issued in the period (domain/reports.py FACTS_SQL, FACTS_COLUMNS) and
        the events of the bookings whose slot is in it."""
        live = await self.read_live(await self.checkpoint())
        return await asyncio.to_thread(self._facts, lo_ms, hi_ms, tz, live)

    # -- the monthly cache of closed months -------------------------------------------------
    def cache_paths(self, month: date) -> tuple[Path, Path]:
        """A closed month's cached facts (FACTS_SQL's rows of the tickets issued
        in it) and its appointment events (those with `ts` in it)."""
        d = self.dir.parent / "cache"
        return d / f"facts-{month:%Y-%m}.parquet", d / f"appointments-{month:%Y-%m}.parquet"

    def _month_sources(self, month: date) -> list[Path]:
        """The event files a month's cache is made of: its days and the next day."""
        end = _next_month(month)
        return [self.day_path(d) for d in _days(month, end)] + [self.day_path(end)]

    def _month_fresh(self, month: date) -> bool:
        paths = self.cache_paths(month)
        if not all(p.exists() for p in paths):
            return False
        newest = max((p.stat().st_mtime_ns for p in self._month_sources(month) if p.exists()), default=0)
        return min(p.stat().st_mtime_ns for p in paths) >= newest

    def _copy(self, con: duckdb.DuckDBPyConnection, query: str, path: Path) -> None:
        # two requests may build the same month's cache at once (the reports
        # page asks for a period and the one before it together): a shared
        # temp name let one rename the other's file away (FileNotFoundError,
        # a 500). Both write the same facts.
        tmp = private_temp(path)
        target = str(tmp).replace("'", "''")
        try:
            con.execute(f"COPY ({query}) TO '{target}' (FORMAT parquet)")
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    def _build_month(self, con: duckdb.DuckDBPyConnection, month: date, tz: ZoneInfo) -> None:
        lo = bounds(month, tz)[0]
        hi = bounds(_next_month(month), tz)[0]
        files = [str(p) for p in self._month_sources(month) if p.exists()]
        cols = _COLS
        if files:
            con.execute(
                f"CREATE TEMP TABLE ev AS SELECT {cols} FROM read_parquet($files) WHERE ts >= $lo AND ts < $hi_out",
                {"files": files, "lo": lo, "hi_out": hi + 86_400_000},
            )
        else:
            con.execute(f"CREATE TEMP TABLE ev AS SELECT {cols} FROM tail LIMIT 0")
        facts_path, appts_path = self.cache_paths(month)
        facts_path.parent.mkdir(parents=True, exist_ok=True)
        con.execute("CREATE TEMP TABLE fb AS " + FACTS_SQL, {"lo": lo, "hi": hi})
        self._copy(con, f"SELECT {', '.join(FACTS_COLUMNS)} FROM fb ORDER BY issued_ms", facts_path)
        self._copy(
            con,
            f"SELECT {cols} FROM ev WHERE type LIKE 'appointment_%' AND ts >= {lo} AND ts < {hi} ORDER BY id_ms, id_seq",
            appts_path,
        )
        con.execute("DROP TABLE fb")
        con.execute("DROP TABLE ev")

    def warm(self, tz: ZoneInfo, tail_day: date | None = None) -> int:
        """Make the cache of every closed month that lacks a fresh one (the
        archive job runs it, so a report rarely pays for it); returns how many."""
        have = self.days()
        if not have:
            return 0
        today = datetime.now(tz).date()
        built = 0
        with duckdb.connect() as con:
            con.register("tail", arrow_schema().empty_table())
            m = _month(have[0])
            while m <= _month(have[-1]) and _closed(m, today, tail_day):
                if not self._month_fresh(m):
                    self._build_month(con, m, tz)
                    built += 1
                m = _next_month(m)
        return built

    def _load(
        self, con: duckdb.DuckDBPyConnection, lo_ms: int, hi_ms: int, tz: ZoneInfo, live: list[dict[str, Any]]
    ) -> None:
        """Tables `ev` (the report events: those of the tickets not covered by
        the cache and the bookings' events of the period; archive and tail,
        each event once) and `facts` (FACTS_SQL's rows of every ticket issued
        in [lo, hi)).

        A month is closed once its last day is two days old and no stream
        event from its last day on is left unarchived; its facts and booking
        events are cached (`cache/*-YYYY-MM.parquet`), and made again when an
        events file of its days (or of the next day) changes."""
        con.register("tail", pa.Table.from_pylist(live, schema=arrow_schema()))
        tail_ts = [r["ts"] for r in live if isinstance(r.get("ts"), int)]
        tail_day = datetime.fromtimestamp(min(tail_ts) / 1000, tz).date() if tail_ts else None
        today = datetime.now(tz).date()
        first = datetime.fromtimestamp(lo_ms / 1000, tz).date()
        last = datetime.fromtimestamp((hi_ms - 1) / 1000, tz).date()

        have = self.days()
        oldest = have[0] if have else first
        months: list[date] = []  # closed months from the bookings' lookback to the split
        m = _month(max(oldest, first - APPOINTMENT_LOOKBACK))
        while m <= _month(last) and _closed(m, today, tail_day):
            months.append(m)
            m = _next_month(m)
        appt_split = bounds(m, tz)[0]  # the bookings' events before it are cached
        split = max(lo_ms, appt_split)  # the tickets' facts before it are cached
        for month in months:
            if not self._month_fresh(month):
                self._build_month(con, month, tz)
        files = [str(self.day_path(d)) for d in have if bounds(d, tz)[1] > appt_split and d <= last + timedelta(days=1)]
        appt = f"type LIKE 'appointment_%' AND {_SLOT_FILTER}"
        live_rows = f"(({_TICKET_FILTER} AND ts >= {split} AND ts < $hi_out) OR ({appt} AND ts >= {appt_split}))"
        parts = [f"SELECT {_COLS} FROM tail WHERE {live_rows}"]
        params: dict[str, Any] = {"lo": lo_ms, "hi": hi_ms, "hi_out": hi_ms + 86_400_000}
        if files:
            parts.append(
                f"SELECT {_COLS} FROM read_parquet($files) WHERE {live_rows} AND id NOT IN (SELECT id FROM tail)"
            )
            params["files"] = files
        cached_appts = [str(self.cache_paths(mm)[1]) for mm in months]
        if cached_appts:
            parts.append(f"SELECT {_COLS} FROM read_parquet($appts) WHERE {appt} AND ts < {appt_split}")
            params["appts"] = cached_appts
        con.execute("CREATE TEMP TABLE ev AS " + " UNION ALL ".join(parts), params)
        fcols = ", ".join(FACTS_COLUMNS)
        con.execute(f"CREATE TEMP TABLE facts AS SELECT {fcols} FROM ({FACTS_SQL})", {"lo": split, "hi": hi_ms})
        cached_facts = [str(self.cache_paths(mm)[0]) for mm in months if bounds(_next_month(mm), tz)[0] > lo_ms]
        if cached_facts:
            con.execute(
                f"INSERT INTO facts SELECT {fcols} FROM read_parquet($files) WHERE issued_ms >= $lo AND issued_ms < $hi",
                {"files": cached_facts, "lo": lo_ms, "hi": min(split, hi_ms)},
            )

    def _appointment_events(self, con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
        cur = con.execute(
            'SELECT type, ts, appointment, category, "start", late FROM ev'
            " WHERE type LIKE 'appointment_%' ORDER BY id_ms, id_seq"
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def _facts(
        self, lo_ms: int, hi_ms: int, tz: ZoneInfo, live: list[dict[str, Any]]
    ) -> tuple[list[tuple[Any, ...]], list[dict[str, Any]]]:
        with duckdb.connect() as con:
            self._load(con, lo_ms, hi_ms, tz, live)
            facts = con.execute("SELECT " + ", ".join(FACTS_COLUMNS) + " FROM facts").fetchall()
            return facts, self._appointment_events(con)

    async def report_groups(
        self,
        lo_ms: int,
        hi_ms: int,
        tz: ZoneInfo,
        targets_s: Mapping[str, float],
        filters: Mapping[str, Any],
        daily: bool = False,
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[dict[str, Any]]]:
        """SUMMARY_SQL's and RATINGS_SQL's rows for [lo, hi) with `filters`
        (domain/reports.py filter_params), and the bookings' events."""
        live = await self.read_live(await self.checkpoint())
        return await asyncio.to_thread(self._groups, lo_ms, hi_ms, tz, live, targets_s, filters, daily)

    def _groups(
        self,
        lo_ms: int,
        hi_ms: int,
        tz: ZoneInfo,
        live: list[dict[str, Any]],
        targets_s: Mapping[str, float],
        filters: Mapping[str, Any],
        daily: bool,
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[dict[str, Any]]]:
        clock = clock_rows(lo_ms, hi_ms, tz)
        with duckdb.connect() as con:
            self._load(con, lo_ms, hi_ms, tz, live)
            con.register(
                "clock",
                pa.table(
                    {
                        "q": pa.array([c[0] for c in clock], pa.int64()),
                        "hour": pa.array([c[1] for c in clock], pa.int32()),
                        "day": pa.array([c[2] for c in clock], pa.string()),
                        "weekday": pa.array([c[3] for c in clock], pa.int32()),
                    }
                ),
            )
            con.register(
                "targets",
                pa.table(
                    {
                        "category": pa.array(list(targets_s), pa.string()),
                        "target_s": pa.array([float(v) for v in targets_s.values()], pa.float64()),
                    }
                ),
            )
            groups = con.execute(summary_sql(daily), dict(filters)).fetchall()
            ratings = con.execute(RATINGS_SQL, dict(filters)).fetchall()
            return groups, ratings, self._appointment_events(con)

    def export_events(self, lo_ms: int, hi_ms: int, tz: ZoneInfo) -> pa.Table:
        """The raw archived events with `ts` in [lo, hi), every column."""
        files = self._files(lo_ms, hi_ms, tz, timedelta(0))
        if not files:
            return arrow_schema().empty_table()
        with duckdb.connect() as con:
            return con.execute(
                "SELECT * FROM read_parquet(?) WHERE ts >= ? AND ts < ? ORDER BY id_ms, id_seq", [files, lo_ms, hi_ms]
            ).to_arrow_table()

    async def events_table(self, lo_ms: int, hi_ms: int, tz: ZoneInfo) -> pa.Table:
        """Every event with `ts` in [lo, hi): the archive's and the stream's not
        yet archived, once each, in log order."""
        cp = await self.checkpoint()
        live = [r for r in await self.read_live(cp) if isinstance(r.get("ts"), int) and lo_ms <= r["ts"] < hi_ms]
        archived = await asyncio.to_thread(self.export_events, lo_ms, hi_ms, tz)
        ids = {r["id"] for r in live}
        if ids:
            keep = [i for i, sid in enumerate(archived.column("id").to_pylist()) if sid not in ids]
            archived = archived.take(keep)
        tail = pa.Table.from_pylist(live, schema=arrow_schema())
        return pa.concat_tables([archived.cast(arrow_schema()), tail])
