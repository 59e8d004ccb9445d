"""Report definitions, written once (issue #11).

Pure functions of decoded events (dicts as `store.events.decode_event` gives
them: `type`, `ts`, `ticket`, ...). No I/O here. Every figure of the summary,
the exports and the page comes from `summarize`; `DEFINITIONS` is the text
printed in every export's notes and in the README.

A ticket is counted in the period of its issue event (the site's time zone).
Its *category* and *source* are those of its issue event (what the citizen
chose at the kiosk, or the booking); its *counter* and *clerk* are those of
its last `call` (the counter that served it, or called it last).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

WAIT_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-5", 0, 5 * 60),
    ("5-15", 5 * 60, 15 * 60),
    ("15-30", 15 * 60, 30 * 60),
    ("30-60", 30 * 60, 60 * 60),
    ("60+", 60 * 60, None),
)

DEFINITIONS: tuple[tuple[str, str, str], ...] = (
    (
        "issued",
        "Số phát: các số có sự kiện phát số trong kỳ (theo múi giờ của điểm); chia theo nguồn: "
        "trực tiếp (walk_in), đặt lịch (appointment).",
        "Issued: tickets whose issue event falls in the period (site time zone); by source: walk-in, appointment.",
    ),
    (
        "served",
        "Đã phục vụ: các số đã được hoàn thành (done).",
        "Served: tickets that reached done.",
    ),
    (
        "no_show",
        "Vắng mặt: số có kết quả cuối cùng là vắng mặt (số được gọi lại vào hàng rồi được phục vụ "
        "thì tính là đã phục vụ).",
        "No-show: tickets whose final outcome is a no-show (a requeued and then served ticket is served).",
    ),
    (
        "expired",
        "Hết hạn: số còn chờ hoặc đang phục vụ khi kết thúc ngày (việc cuối ngày đóng lại).",
        "Expired: tickets still waiting or called when the end-of-day job closed the day.",
    ),
    (
        "transferred",
        "Chuyển: số được chuyển sang lĩnh vực hoặc quầy khác ít nhất một lần.",
        "Transferred: tickets transferred to another category or counter at least once.",
    ),
    (
        "wait",
        "Thời gian chờ (của số đã phục vụ): từ lúc phát số (số đặt lịch: lúc muộn hơn giữa giờ "
        "check-in và giờ bắt đầu khung giờ) đến lần gọi (call) cuối cùng trước khi hoàn thành; "
        "gọi lại (recall) không tính là một lần gọi.",
        "Wait (of a served ticket): from its issue (an appointment: the later of check-in and the slot's "
        "start) to the last call before its done; a recall is not a call.",
    ),
    (
        "service",
        "Thời gian phục vụ: từ lần gọi đó đến khi hoàn thành.",
        "Service time: from that call to done.",
    ),
    (
        "statistics",
        "Trung bình, trung vị và phân vị 90 (p90) với nội suy tuyến tính giữa các hạng (như numpy và "
        "quantile_cont của DuckDB); JSON tính bằng giây, tệp xuất tính bằng phút (một chữ số thập phân).",
        "Mean, median and p90 with linear interpolation between ranks (numpy's default, DuckDB's "
        "quantile_cont); seconds in JSON, minutes with one decimal in exports.",
    ),
    (
        "service_level",
        "Mức đáp ứng: tỷ lệ số đã phục vụ có thời gian chờ không quá thời gian chờ mục tiêu của lĩnh vực.",
        "Service level: the share of served tickets whose wait is at most their category's target wait.",
    ),
    (
        "wait_buckets",
        "Nhóm thời gian chờ: 0–5, 5–15, 15–30, 30–60 và trên 60 phút (mỗi nhóm gồm cận dưới, không gồm cận trên).",
        "Wait buckets: 0–5, 5–15, 15–30, 30–60 and 60+ minutes (each includes its lower bound, not its upper).",
    ),
    (
        "ratings",
        "Đánh giá: số lượt theo từng mức (giữ nguyên mức và thang); tỷ lệ hài lòng: hai mức cao nhất của thang.",
        "Ratings: the count per raw level and scale; satisfied share: the top two levels of the scale.",
    ),
    (
        "appointments",
        "Lịch hẹn (theo khung giờ trong kỳ): đã đặt, đã hủy, check-in đúng giờ, check-in muộn, vắng mặt; "
        "tỷ lệ lượt đến đặt lịch trực tuyến = số phát có nguồn đặt lịch / số phát.",
        "Appointments (by their slot in the period): booked, cancelled, checked in on time, late, no-show; "
        "share of visits booked online = issued tickets of source appointment / issued.",
    ),
    (
        "grouping",
        "Lĩnh vực và nguồn của một số là của sự kiện phát số; quầy và cán bộ là của lần gọi cuối cùng.",
        "A ticket's category and source are those of its issue event; its counter and clerk those of its last call.",
    ),
    (
        "hour_weekday",
        "Giờ và thứ trong tuần của một số là giờ và thứ (theo múi giờ của điểm) của sự kiện phát số.",
        "A ticket's hour of day and weekday are those of its issue event, in the site's time zone.",
    ),
    (
        "previous",
        "Kỳ trước: kỳ có cùng số ngày, kết thúc vào ngày liền trước ngày đầu của kỳ báo cáo.",
        "Previous period: the period of as many days that ends the day before the report's first day.",
    ),
)


_ROMAN = ("I", "II", "III", "IV")


def period_words(start: date, end: date) -> str:
    """A report's period as a Vietnamese title says it: "Quý IV năm 2026",
    "Tháng 12 năm 2026", "Năm 2026", "6 tháng đầu năm 2026", "Ngày 01/12/2026",
    otherwise "Từ ngày 01/10/2026 đến ngày 15/10/2026"."""
    month_end = (date(end.year + (end.month == 12), end.month % 12 + 1, 1) - timedelta(days=1)).day
    whole_months = start.day == 1 and end.day == month_end and start.year == end.year
    if start == end:
        return f"Ngày {start:%d/%m/%Y}"
    if whole_months:
        months = end.month - start.month + 1
        if months == 1:
            return f"Tháng {start.month} năm {start.year}"
        if months == 3 and start.month % 3 == 1:
            return f"Quý {_ROMAN[start.month // 3]} năm {start.year}"
        if months == 6 and start.month in (1, 7):
            return f"6 tháng {'đầu' if start.month == 1 else 'cuối'} năm {start.year}"
        if months == 12:
            return f"Năm {start.year}"
    return f"Từ ngày {start:%d/%m/%Y} đến ngày {end:%d/%m/%Y}"


def previous_period(start: date, end: date) -> tuple[date, date]:
    """The period of as many days that ends the day before `start`."""
    days = (end - start).days + 1
    return start - timedelta(days=days), start - timedelta(days=1)


_MONTHS_EN = "January February March April May June July August September October November December".split()


@dataclass(frozen=True)
class Periodic:
    """A calendar month or quarter whose report the scheduled job keeps."""

    kind: str  # "month" | "quarter"
    year: int
    number: int  # month 1–12 or quarter 1–4

    @property
    def start(self) -> date:
        return date(self.year, self.number if self.kind == "month" else 3 * self.number - 2, 1)

    @property
    def end(self) -> date:
        months = 1 if self.kind == "month" else 3
        m = self.start.month - 1 + months
        return date(self.year + m // 12, m % 12 + 1, 1) - timedelta(days=1)

    @property
    def name(self) -> str:
        """Its files' stem: thang-2026-11, quy-2026-4."""
        return f"{'thang' if self.kind == 'month' else 'quy'}-{self.year}-{self.number:02d}"

    def label(self, lang: str = "vi") -> str:
        """ "Tháng 11/2026", "Quý IV/2026" ("November 2026", "Q4 2026")."""
        if self.kind == "month":
            return f"{_MONTHS_EN[self.number - 1]} {self.year}" if lang == "en" else f"Tháng {self.number}/{self.year}"
        return f"Q{self.number} {self.year}" if lang == "en" else f"Quý {_ROMAN[self.number - 1]}/{self.year}"


_PERIODIC = re.compile(r"^(thang|quy)-(\d{4})-(\d{2})\Z")


def parse_periodic_name(stem: str) -> Periodic | None:
    m = _PERIODIC.match(stem)
    if m is None:
        return None
    kind = "month" if m.group(1) == "thang" else "quarter"
    n = int(m.group(3))
    if not 1 <= n <= (12 if kind == "month" else 4):
        return None
    return Periodic(kind, int(m.group(2)), n)


def closed_periods(today: date) -> list[Periodic]:
    """The month and the quarter that ended last before `today` (the
    scheduled job makes their reports)."""
    last = today.replace(day=1) - timedelta(days=1)
    month = Periodic("month", last.year, last.month)
    q = (today.month - 1) // 3  # quarters of this year already over
    quarter = Periodic("quarter", today.year, q) if q else Periodic("quarter", today.year - 1, 4)
    return [month, quarter]


def definitions_text(lang: str = "vi") -> str:
    col = 2 if lang == "en" else 1
    return "\n".join(f"- {d[col]}" for d in DEFINITIONS)


# -- statistics -------------------------------------------------------------------
def quantile(sorted_values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between ranks (numpy's default, DuckDB's quantile_cont)."""
    n = len(sorted_values)
    if n == 0:
        return None
    pos = (n - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, n - 1)
    frac = pos - lo
    return float(sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * frac)


def stats(values: Iterable[float]) -> dict[str, float | None]:
    """mean, median, p90, max of seconds (None for none)."""
    v = sorted(values)
    if not v:
        return {"mean": None, "median": None, "p90": None, "max": None}
    return {
        "mean": sum(v) / len(v),
        "median": quantile(v, 0.5),
        "p90": quantile(v, 0.9),
        "max": float(v[-1]),
    }


def bucket_of(wait_s: float) -> str:
    for name, lo, hi in WAIT_BUCKETS:
        if wait_s >= lo and (hi is None or wait_s < hi):
            return name
    return WAIT_BUCKETS[0][0]  # a negative wait (clock skew) counts as 0


# -- one ticket's story -------------------------------------------------------------
@dataclass
class TicketFacts:
    ticket: str
    issued_ms: int
    category: str
    source: str
    start_ms: int  # what the wait is measured from
    outcome: str = "waiting"  # waiting | called | done | no_show | expired
    transferred: bool = False
    counter: int | None = None  # of the last call
    clerk: str = ""  # of the last call
    last_call_ms: int | None = None
    wait_s: float | None = None  # served only
    service_s: float | None = None  # served only
    ratings: list[tuple[int, int]] = field(default_factory=list)  # (level, scale)


def _int(v: Any) -> int | None:
    if v is None or v == "":
        return None
    return int(v)


def fold_tickets(events: Iterable[Mapping[str, Any]]) -> dict[str, TicketFacts]:
    """Every ticket with an issue event among `events` (oldest first) and what
    happened to it. Events of tickets not issued among them are ignored."""
    out: dict[str, TicketFacts] = {}
    checkins: dict[str, tuple[int, int, bool]] = {}  # ticket -> (check-in ms, slot start ms, late)
    for e in events:
        t = e.get("type")
        if t == "appointment_checkin":
            checkins[str(e.get("ticket") or "")] = (
                int(e["ts"]),
                int(e.get("start") or 0),
                e.get("late") in (True, "1", 1),
            )
            continue
        tid = e.get("ticket")
        if not tid:
            continue
        if t == "issue":
            ts = int(e["ts"])
            start = ts
            ci = checkins.get(str(tid))
            if e.get("source") == "appointment" and ci is not None and not ci[2]:
                start = max(ci[0], ci[1])
            out[str(tid)] = TicketFacts(
                ticket=str(tid),
                issued_ms=ts,
                category=str(e.get("category") or ""),
                source=str(e.get("source") or "walk_in"),
                start_ms=start,
            )
            continue
        f = out.get(str(tid))
        if f is None:
            continue
        ts = int(e["ts"])
        if t == "call":
            f.outcome = "called"
            f.last_call_ms = ts
            f.counter = _int(e.get("counter"))
            f.clerk = str(e.get("clerk") or "")
        elif t == "done":
            f.outcome = "done"
            if f.last_call_ms is not None:
                f.wait_s = (f.last_call_ms - f.start_ms) / 1000
                f.service_s = (ts - f.last_call_ms) / 1000
        elif t == "no_show":
            f.outcome = "no_show"
        elif t == "requeue":
            f.outcome = "waiting"
        elif t == "expire":
            f.outcome = "expired"
        elif t == "transfer":
            f.transferred = True
            f.outcome = "waiting"
        elif t == "rating":
            f.ratings.append((int(e["level"]), int(e["scale"])))
    return out


# -- the period and its filters ----------------------------------------------------------
@dataclass(frozen=True)
class Filters:
    category: str | None = None
    counter: int | None = None
    clerk: str | None = None
    source: str | None = None

    def keep(self, f: TicketFacts) -> bool:
        return (
            (self.category is None or f.category == self.category)
            and (self.counter is None or f.counter == self.counter)
            and (self.clerk is None or f.clerk == self.clerk)
            and (self.source is None or f.source == self.source)
        )


def period_bounds(start: date, end: date, tz: ZoneInfo) -> tuple[int, int]:
    """[from 00:00, the day after `end` 00:00) in the site's zone, as ms."""
    lo = datetime.combine(start, datetime.min.time(), tzinfo=tz)
    hi = datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    return int(lo.timestamp() * 1000), int(hi.timestamp() * 1000)


def local_dt(ms: int, tz: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz)


# -- the summary --------------------------------------------------------------------
def _group(facts: Sequence[TicketFacts], targets: Mapping[str, float]) -> dict[str, Any]:
    served = [f for f in facts if f.outcome == "done" and f.wait_s is not None]
    waits = [f.wait_s for f in served if f.wait_s is not None]
    within = sum(1 for f in served if f.wait_s is not None and f.wait_s <= targets.get(f.category, math.inf))
    return {
        "issued": len(facts),
        "served": len(served),
        "no_show": sum(1 for f in facts if f.outcome == "no_show"),
        "expired": sum(1 for f in facts if f.outcome == "expired"),
        "transferred": sum(1 for f in facts if f.transferred),
        "wait_s": stats(waits),
        "service_s": stats(f.service_s for f in served if f.service_s is not None),
        "service_level": within / len(served) if served else None,
    }


def _ratings(facts: Sequence[TicketFacts], scale: int) -> dict[str, Any]:
    rs = [r for f in facts for r in f.ratings]
    top = max([scale, *(s for _, s in rs)]) if rs else scale
    by_level = {str(i): 0 for i in range(1, top + 1)}
    for level, _ in rs:
        by_level[str(level)] = by_level.get(str(level), 0) + 1
    satisfied = sum(1 for level, s in rs if level >= s - 1)
    return {"count": len(rs), "by_level": by_level, "satisfied_share": satisfied / len(rs) if rs else None}


def _appointments(
    events: Iterable[Mapping[str, Any]], lo: int, hi: int, category: str | None, issued: Sequence[TicketFacts]
) -> dict[str, Any]:
    state: dict[str, dict[str, Any]] = {}
    for e in events:
        t = str(e.get("type") or "")
        if not t.startswith("appointment_"):
            continue
        a = state.setdefault(str(e["appointment"]), {"status": "booked", "booked": False})
        a["category"] = e.get("category")
        if t == "appointment_book":
            a["booked"] = True
            a["start"] = int(e["start"])
        elif t == "appointment_move":
            a["start"] = int(e["start"])
        elif t == "appointment_cancel":
            a["status"] = "cancelled"
        elif t == "appointment_checkin":
            a["status"] = "late" if e.get("late") in (True, "1", 1) else "on_time"
        elif t == "appointment_no_show":
            a["status"] = "no_show"
    rows = [
        a
        for a in state.values()
        if a["booked"] and lo <= a.get("start", -1) < hi and (category is None or a["category"] == category)
    ]
    online = sum(1 for f in issued if f.source == "appointment")
    return {
        "booked": len(rows),
        "cancelled": sum(1 for a in rows if a["status"] == "cancelled"),
        "checked_in_on_time": sum(1 for a in rows if a["status"] == "on_time"),
        "checked_in_late": sum(1 for a in rows if a["status"] == "late"),
        "checked_in": sum(1 for a in rows if a["status"] in ("on_time", "late")),
        "no_show": sum(1 for a in rows if a["status"] == "no_show"),
        "online_share": online / len(issued) if issued else None,
    }


def _by(facts: Sequence[TicketFacts], key: str, fn: Any, targets: Mapping[str, float]) -> list[dict[str, Any]]:
    groups: dict[Any, list[TicketFacts]] = {}
    for f in facts:
        k = fn(f)
        if k is None:
            continue
        groups.setdefault(k, []).append(f)
    return [{key: k, **_group(groups[k], targets)} for k in sorted(groups)]


def summarize(
    events: Sequence[Mapping[str, Any]],
    *,
    start: date,
    end: date,
    tz: ZoneInfo,
    targets_s: Mapping[str, float],
    rating_scale: int = 3,
    filters: Filters = Filters(),
    daily: bool = False,
) -> dict[str, Any]:
    """The period's summary (issue #11's shape) from its events, oldest first.

    `events` must hold every event of the tickets issued in the period and the
    appointment events of the bookings whose slot is in it; others are ignored.
    `targets_s`: each category's target wait in seconds. `daily` adds
    `by_category_day` (the CSV export's rows).
    """
    return summarize_facts(
        list(fold_tickets(events).values()),
        events,
        start=start,
        end=end,
        tz=tz,
        targets_s=targets_s,
        rating_scale=rating_scale,
        filters=filters,
        daily=daily,
    )


def summarize_facts(
    tickets: Iterable[TicketFacts],
    appointment_events: Iterable[Mapping[str, Any]],
    *,
    start: date,
    end: date,
    tz: ZoneInfo,
    targets_s: Mapping[str, float],
    rating_scale: int = 3,
    filters: Filters = Filters(),
    daily: bool = False,
) -> dict[str, Any]:
    """The summary from tickets' facts (fold_tickets, or FACTS_SQL's rows
    through facts_from_rows) and the bookings' events."""
    lo, hi = period_bounds(start, end, tz)
    events = appointment_events
    facts = [f for f in tickets if lo <= f.issued_ms < hi and filters.keep(f)]
    hours: dict[int, datetime] = {}

    def local_hour(ms: int) -> datetime:
        """The local clock hour of `ms` (zones move by whole quarter hours at most: one lookup per UTC quarter)."""
        q = ms // 900_000
        at = hours.get(q)
        if at is None:
            at = hours[q] = local_dt(q * 900_000, tz)
        return at

    facts.sort(key=lambda f: f.issued_ms)
    whole = _group(facts, targets_s)
    buckets = {name: 0 for name, _, _ in WAIT_BUCKETS}
    for f in facts:
        if f.outcome == "done" and f.wait_s is not None:
            buckets[bucket_of(f.wait_s)] += 1
    appt_cat = filters.category
    out: dict[str, Any] = {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "totals": {k: whole[k] for k in ("issued", "served", "no_show", "expired", "transferred")},
        "by_source": {
            s: sum(1 for f in facts if f.source == s)
            for s in sorted({"walk_in", "appointment", *(f.source for f in facts)})
        },
        "wait_s": whole["wait_s"],
        "service_s": whole["service_s"],
        "service_level": whole["service_level"],
        "wait_buckets": buckets,
        "ratings": _ratings(facts, rating_scale),
        "by_category": _by(facts, "category", lambda f: f.category, targets_s),
        "by_counter": _by(facts, "counter", lambda f: f.counter, targets_s),
        "by_clerk": _by(facts, "clerk", lambda f: f.clerk if f.last_call_ms is not None else None, targets_s),
        "by_hour": _by(facts, "hour", lambda f: local_hour(f.issued_ms).hour, targets_s),
        "by_weekday": _by(facts, "weekday", lambda f: local_hour(f.issued_ms).weekday(), targets_s),
        "by_hour_weekday": [
            {"weekday": r["key"][0], "hour": r["key"][1], **{k: v for k, v in r.items() if k != "key"}}
            for r in _by(
                facts, "key", lambda f: (local_hour(f.issued_ms).weekday(), local_hour(f.issued_ms).hour), targets_s
            )
        ],
        "appointments": _appointments(events, lo, hi, appt_cat, facts),
    }
    if daily:
        rows = _by(facts, "key", lambda f: (local_hour(f.issued_ms).date().isoformat(), f.category), targets_s)
        out["by_category_day"] = [{"day": r["key"][0], "category": r["key"][1], **r} for r in rows]
        for r in out["by_category_day"]:
            del r["key"]
    return out


# -- the same fold in SQL, for DuckDB over the archive -----------------------------
# FACTS_SQL is fold_tickets as one query over a relation `ev` (the archive's
# columns id_ms, id_seq, type, ts, ticket, category, source, counter, clerk,
# level, scale, start, late): one row per ticket issued in [$lo, $hi).
# tests/integration/test_reports_sql.py keeps the two equal on generated days.
FACTS_SQL = """
WITH e AS (
  SELECT *, {'m': id_ms, 's': id_seq} AS ord FROM ev WHERE ticket IS NOT NULL AND ticket <> ''
),
iss AS (
  SELECT ticket, min_by(ts, ord) AS issued_ms, min_by(category, ord) AS category, min_by(source, ord) AS source,
         min(ord) AS issue_ord
  FROM e WHERE type = 'issue' GROUP BY ticket
),
ci AS (
  SELECT ticket, max_by(ts, ord) AS ci_ms, max_by("start", ord) AS slot_ms, max_by(late, ord) AS late, max(ord) AS ci_ord
  FROM e WHERE type = 'appointment_checkin' GROUP BY ticket
),
h AS (
  SELECT e.ticket,
    max_by(type, ord) FILTER (WHERE type IN ('call', 'done', 'no_show', 'requeue', 'expire', 'transfer')) AS last_type,
    max_by(ts, ord) FILTER (WHERE type = 'call') AS last_call_ms,
    max_by(counter, ord) FILTER (WHERE type = 'call') AS counter,
    max_by(clerk, ord) FILTER (WHERE type = 'call') AS clerk,
    max_by(ts, ord) FILTER (WHERE type = 'done') AS done_ms,
    count(*) FILTER (WHERE type = 'transfer') > 0 AS transferred,
    list(level ORDER BY ord) FILTER (WHERE type = 'rating') AS levels,
    list(scale ORDER BY ord) FILTER (WHERE type = 'rating') AS scales
  FROM e JOIN iss ON e.ticket = iss.ticket AND e.ord > iss.issue_ord
  GROUP BY e.ticket
)
SELECT iss.ticket, issued_ms, category, source,
  CASE WHEN source = 'appointment' AND ci.ticket IS NOT NULL AND ci_ord < issue_ord AND NOT coalesce(late, false)
       THEN greatest(ci_ms, slot_ms) ELSE issued_ms END AS start_ms,
  last_type, coalesce(transferred, false) AS transferred, counter, clerk, last_call_ms, done_ms, levels, scales
FROM iss LEFT JOIN ci ON ci.ticket = iss.ticket LEFT JOIN h ON h.ticket = iss.ticket
WHERE issued_ms >= $lo AND issued_ms < $hi
"""
FACTS_COLUMNS = (
    "ticket",
    "issued_ms",
    "category",
    "source",
    "start_ms",
    "last_type",
    "transferred",
    "counter",
    "clerk",
    "last_call_ms",
    "done_ms",
    "levels",
    "scales",
)
_OUTCOME = {"call": "called", "done": "done", "no_show": "no_show", "expire": "expired"}


def facts_from_rows(rows: Iterable[Sequence[Any]]) -> list[TicketFacts]:
    """FACTS_SQL's rows (in FACTS_COLUMNS order) as TicketFacts."""
    out = []
    for ticket, issued, cat, source, begin, last, transferred, counter, clerk, call, done, levels, scales in rows:
        outcome = _OUTCOME.get(last, "waiting") if last else "waiting"
        f = TicketFacts(
            ticket=ticket,
            issued_ms=issued,
            category=cat or "",
            source=source or "walk_in",
            start_ms=begin,
            outcome=outcome,
            transferred=bool(transferred),
            counter=counter,
            clerk=(clerk or "") if call is not None else "",
            last_call_ms=call,
            ratings=list(zip(levels or (), scales or (), strict=True)),
        )
        if outcome == "done" and call is not None and done is not None:
            f.wait_s = (call - begin) / 1000
            f.service_s = (done - call) / 1000
        out.append(f)
    return out


# SUMMARY_SQL aggregates FACTS_SQL's rows (a table `facts`) as summarize_facts
# does, in one pass with grouping sets: the whole period, by category, counter,
# clerk, hour, weekday, weekday x hour, source and (with summary_sql(daily=True)) day x category.
# `targets` (category, target_s) and `clock` (q: ms // 900000, hour, day, weekday: the local
# clock of each quarter hour of the period, from clock_rows) are registered beside it. Filters are $category,
# $counter, $clerk, $source (NULL: all).
SUMMARY_SQL = """
WITH f AS (
  SELECT facts.*, clock.hour, clock.day, clock.weekday,
    CASE last_type WHEN 'call' THEN 'called' WHEN 'done' THEN 'done' WHEN 'no_show' THEN 'no_show'
                   WHEN 'expire' THEN 'expired' ELSE 'waiting' END AS outcome,
    CASE WHEN last_type = 'done' AND last_call_ms IS NOT NULL AND done_ms IS NOT NULL
         THEN (last_call_ms - start_ms) / 1000.0 END AS wait_s,
    CASE WHEN last_type = 'done' AND last_call_ms IS NOT NULL AND done_ms IS NOT NULL
         THEN (done_ms - last_call_ms) / 1000.0 END AS service_s,
    CASE WHEN last_call_ms IS NOT NULL THEN coalesce(clerk, '') END AS by_clerk,
    coalesce(targets.target_s, 'infinity'::DOUBLE) AS target_s
  FROM facts
  JOIN clock ON clock.q = facts.issued_ms // 900000
  LEFT JOIN targets ON targets.category = facts.category
  WHERE ($category IS NULL OR facts.category = $category)
    AND ($counter IS NULL OR facts.counter = $counter)
    AND ($clerk IS NULL OR (last_call_ms IS NOT NULL AND coalesce(facts.clerk, '') = $clerk))
    AND ($source IS NULL OR coalesce(facts.source, 'walk_in') = $source)
)
SELECT
  CASE WHEN GROUPING(category) = 0 AND GROUPING(day) = 1 THEN 'category'
       WHEN GROUPING(counter) = 0 THEN 'counter'
       WHEN GROUPING(by_clerk) = 0 THEN 'clerk'
       WHEN GROUPING(weekday) = 0 AND GROUPING(hour) = 0 THEN 'hour_weekday'
       WHEN GROUPING(weekday) = 0 THEN 'weekday'
       WHEN GROUPING(hour) = 0 THEN 'hour'
       WHEN GROUPING(source) = 0 THEN 'source'
       WHEN GROUPING(day) = 0 THEN 'category_day'
       ELSE 'all' END AS grp,
  category, counter, by_clerk AS clerk, hour, coalesce(source, 'walk_in') AS source, day,
  count(*) AS issued,
  count(*) FILTER (WHERE wait_s IS NOT NULL) AS served,
  count(*) FILTER (WHERE outcome = 'no_show') AS no_show,
  count(*) FILTER (WHERE outcome = 'expired') AS expired,
  count(*) FILTER (WHERE transferred) AS transferred,
  avg(wait_s), quantile_cont(wait_s, [0.5, 0.9]), max(wait_s),
  avg(service_s), quantile_cont(service_s, [0.5, 0.9]), max(service_s),
  count(*) FILTER (WHERE wait_s <= target_s) AS within,
  count(*) FILTER (WHERE wait_s < 300) AS b0,
  count(*) FILTER (WHERE wait_s >= 300 AND wait_s < 900) AS b1,
  count(*) FILTER (WHERE wait_s >= 900 AND wait_s < 1800) AS b2,
  count(*) FILTER (WHERE wait_s >= 1800 AND wait_s < 3600) AS b3,
  count(*) FILTER (WHERE wait_s >= 3600) AS b4,
  weekday
FROM f
GROUP BY GROUPING SETS ((), (category), (counter), (by_clerk), (hour), (weekday), (weekday, hour), (source){daily})
"""


def summary_sql(daily: bool) -> str:
    """SUMMARY_SQL, with the (day, category) rows only when asked (the CSV's;
    otherwise the cheaper (day) rows, which summary_from_groups ignores)."""
    return SUMMARY_SQL.replace("{daily}", ", (day, category)" if daily else ", (day)")


RATINGS_SQL = """
SELECT level, scale, count(*) FROM (
  SELECT unnest(levels) AS level, unnest(scales) AS scale FROM facts
  JOIN clock ON clock.q = facts.issued_ms // 900000
  WHERE levels IS NOT NULL
    AND ($category IS NULL OR facts.category = $category)
    AND ($counter IS NULL OR facts.counter = $counter)
    AND ($clerk IS NULL OR (last_call_ms IS NOT NULL AND coalesce(facts.clerk, '') = $clerk))
    AND ($source IS NULL OR coalesce(facts.source, 'walk_in') = $source)
) GROUP BY level, scale
"""


def clock_rows(lo_ms: int, hi_ms: int, tz: ZoneInfo) -> list[tuple[int, int, str, int]]:
    """(quarter-hour index, local hour, local day, local weekday: 0 Monday .. 6
    Sunday) of every quarter hour of
    [lo, hi): the site's clock for SUMMARY_SQL (zones differ from UTC by whole
    quarter hours)."""
    out = []
    for q in range(lo_ms // 900_000, -(-hi_ms // 900_000)):
        at = local_dt(q * 900_000, tz)
        out.append((q, at.hour, at.date().isoformat(), at.weekday()))
    return out


def filter_params(filters: Filters) -> dict[str, Any]:
    return {"category": filters.category, "counter": filters.counter, "clerk": filters.clerk, "source": filters.source}


def _stats_of(v: Sequence[Any]) -> dict[str, float | None]:
    """(mean, [median, p90] or None, max) -> the stats dict."""
    mean, qs, mx = v
    median, p90 = qs if qs is not None else (None, None)
    values = (mean, median, p90, mx)
    return {k: None if x is None else float(x) for k, x in zip(("mean", "median", "p90", "max"), values, strict=True)}


def summary_from_groups(
    groups: Iterable[Sequence[Any]],
    ratings: Iterable[Sequence[Any]],
    appointment_events: Iterable[Mapping[str, Any]],
    *,
    start: date,
    end: date,
    tz: ZoneInfo,
    rating_scale: int = 3,
    filters: Filters = Filters(),
    daily: bool = False,
) -> dict[str, Any]:
    """summarize_facts's result from SUMMARY_SQL's and RATINGS_SQL's rows."""
    lo, hi = period_bounds(start, end, tz)
    by: dict[str, list[dict[str, Any]]] = {}
    whole: dict[str, Any] | None = None
    for row in groups:
        grp, cat, counter, clerk, hour, source, day, issued, served, no_show, expired, transferred = row[:12]
        g = {
            "issued": int(issued),
            "served": int(served),
            "no_show": int(no_show),
            "expired": int(expired),
            "transferred": int(transferred),
            "wait_s": _stats_of(row[12:15]),
            "service_s": _stats_of(row[15:18]),
            "service_level": int(row[18]) / int(served) if served else None,
        }
        if grp == "all":
            whole = {**g, "buckets": dict(zip((b[0] for b in WAIT_BUCKETS), map(int, row[19:24]), strict=True))}
        elif grp == "category":
            by.setdefault("category", []).append({"category": cat, **g})
        elif grp == "counter" and counter is not None:
            by.setdefault("counter", []).append({"counter": int(counter), **g})
        elif grp == "clerk" and clerk is not None:
            by.setdefault("clerk", []).append({"clerk": clerk, **g})
        elif grp == "hour":
            by.setdefault("hour", []).append({"hour": int(hour), **g})
        elif grp == "weekday":
            by.setdefault("weekday", []).append({"weekday": int(row[24]), **g})
        elif grp == "hour_weekday":
            by.setdefault("hour_weekday", []).append({"weekday": int(row[24]), "hour": int(hour), **g})
        elif grp == "source":
            by.setdefault("source", []).append({"source": source, "issued": int(issued)})
        elif grp == "category_day":
            by.setdefault("category_day", []).append({"day": day, "category": cat, **g})
    if whole is None or whole["issued"] == 0:
        whole = {**_group([], {}), "buckets": {b[0]: 0 for b in WAIT_BUCKETS}}
    rs = [(int(level), int(scale), int(n)) for level, scale, n in ratings]
    top = max([rating_scale, *(s for _, s, _ in rs)])
    by_level = {str(i): 0 for i in range(1, top + 1)}
    for level, _, n in rs:
        by_level[str(level)] = by_level.get(str(level), 0) + n
    count = sum(n for _, _, n in rs)
    satisfied = sum(n for level, s, n in rs if level >= s - 1)
    sources = {"walk_in": 0, "appointment": 0} | {r["source"]: r["issued"] for r in by.get("source", [])}
    online = sources.get("appointment", 0)
    appts = _appointments(appointment_events, lo, hi, filters.category, [])
    appts["online_share"] = online / whole["issued"] if whole["issued"] else None

    def rows(key: str) -> list[dict[str, Any]]:
        return sorted(by.get(key, []), key=lambda r: r[key])

    out: dict[str, Any] = {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "totals": {k: whole[k] for k in ("issued", "served", "no_show", "expired", "transferred")},
        "by_source": dict(sorted(sources.items())),
        "wait_s": whole["wait_s"],
        "service_s": whole["service_s"],
        "service_level": whole["service_level"],
        "wait_buckets": whole["buckets"],
        "ratings": {"count": count, "by_level": by_level, "satisfied_share": satisfied / count if count else None},
        "by_category": rows("category"),
        "by_counter": rows("counter"),
        "by_clerk": rows("clerk"),
        "by_hour": rows("hour"),
        "by_weekday": rows("weekday"),
        "by_hour_weekday": sorted(by.get("hour_weekday", []), key=lambda r: (r["weekday"], r["hour"])),
        "appointments": appts,
    }
    if daily:
        out["by_category_day"] = sorted(by.get("category_day", []), key=lambda r: (r["day"], r["category"]))
    return out
