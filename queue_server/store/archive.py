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
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from redis.asyncio import Redis

from queue_server.domain.events import SCHEMA, decode
from queue_server.domain.reports import FACTS_COLUMNS, FACTS_SQL, RATINGS_SQL, SUMMARY_SQL, clock_rows
from queue_server.store.connection import entries
from queue_server.store.keys import Keys
from queue_server.store.scripts import Scripts

_ARROW = {"int": pa.int64(), "str": pa.string(), "bool": pa.bool_()}


def _columns() -> dict[str, pa.DataType]:
    cols: dict[str, pa.DataType] = {"id": pa.string(), "id_ms": pa.int64(), "id_seq": pa.int64()}
    for spec in SCHEMA.values():
        for name, f in spec.items():
            cols.setdefault(name, _ARROW[f.kind])
    cols["extra"] = pa.string()
    return cols


COLUMNS = _columns()
ARROW_SCHEMA = pa.schema([pa.field(n, t) for n, t in COLUMNS.items()])
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
    new = pa.Table.from_pylist(list(rows), schema=ARROW_SCHEMA)
    old_ids: set[str] = set()
    if path.exists():
        old = pq.read_table(path, schema=ARROW_SCHEMA)
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

    def import_events(self, events: Iterable[Mapping[str, Any]], tz: ZoneInfo, first_seq: int = 0) -> int:
        """Backdated events (typed, as domain/demo.py makes them) straight into
        the files, with ids `ts-n` (n counting from `first_seq`: the same
        events get the same ids, so an import repeated writes nothing twice)."""
        rows = []
        for n, e in enumerate(events, start=first_seq):
            ts = int(e["ts"])
            row = {k: v for k, v in e.items() if k in COLUMNS}
            rows.append({**row, "id": f"{ts}-{n}", "id_ms": ts, "id_seq": n, "extra": None})
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
        checkpoint)."""
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

    def _load(
        self, con: duckdb.DuckDBPyConnection, lo_ms: int, hi_ms: int, tz: ZoneInfo, live: list[dict[str, Any]]
    ) -> None:
        """Tables `ev` (the period's report events, archive and tail, once
        each) and `facts` (FACTS_SQL) in `con`."""
        files = self._files(lo_ms, hi_ms, tz, APPOINTMENT_LOOKBACK)
        tail = pa.Table.from_pylist(live, schema=ARROW_SCHEMA)
        cols = ", ".join(f'"{c}"' for c in ("id", "id_ms", "id_seq", *REPORT_COLUMNS[1:], "from_start"))
        ticket_types = ", ".join(f"'{t}'" for t in REPORT_TYPES if not t.startswith("appointment_"))
        in_tickets = f"((type IN ({ticket_types}) OR type = 'appointment_checkin') AND ts >= $lo AND ts < $hi_out)"
        in_appts = (
            "(type LIKE 'appointment_%'"
            ' AND (("start" >= $lo AND "start" < $hi) OR (from_start >= $lo AND from_start < $hi)))'
        )
        con.register("tail", tail)
        sources = [f"SELECT {cols} FROM tail"]
        params: dict[str, Any] = {"lo": lo_ms, "hi": hi_ms, "hi_out": hi_ms + 86_400_000}
        if files:
            sources.insert(0, f"SELECT {cols} FROM read_parquet($files) WHERE id NOT IN (SELECT id FROM tail)")
            params["files"] = files
        union = " UNION ALL ".join(sources)
        con.execute(f"CREATE TEMP TABLE ev AS SELECT * FROM ({union}) WHERE {in_tickets} OR {in_appts}", params)
        con.execute("CREATE TEMP TABLE facts AS " + FACTS_SQL, {"lo": lo_ms, "hi": hi_ms})

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
        self, lo_ms: int, hi_ms: int, tz: ZoneInfo, targets_s: Mapping[str, float], filters: Mapping[str, Any]
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[dict[str, Any]]]:
        """SUMMARY_SQL's and RATINGS_SQL's rows for [lo, hi) with `filters`
        (domain/reports.py filter_params), and the bookings' events."""
        live = await self.read_live(await self.checkpoint())
        return await asyncio.to_thread(self._groups, lo_ms, hi_ms, tz, live, targets_s, filters)

    def _groups(
        self,
        lo_ms: int,
        hi_ms: int,
        tz: ZoneInfo,
        live: list[dict[str, Any]],
        targets_s: Mapping[str, float],
        filters: Mapping[str, Any],
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
            groups = con.execute(SUMMARY_SQL, dict(filters)).fetchall()
            ratings = con.execute(RATINGS_SQL, dict(filters)).fetchall()
            return groups, ratings, self._appointment_events(con)

    def export_events(self, lo_ms: int, hi_ms: int, tz: ZoneInfo) -> pa.Table:
        """The raw archived events with `ts` in [lo, hi), every column."""
        files = self._files(lo_ms, hi_ms, tz, timedelta(0))
        if not files:
            return ARROW_SCHEMA.empty_table()
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
        tail = pa.Table.from_pylist(live, schema=ARROW_SCHEMA)
        return pa.concat_tables([archived.cast(ARROW_SCHEMA), tail])
