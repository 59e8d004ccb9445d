"""Staffing what-if (issue #15): the office's profiles from its history, a
day simulated with the current plan and with a proposed one side by side,
and the Erlang C counters needed per hour."""

from __future__ import annotations

import asyncio
import re
import time as _time
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict
from zoneinfo import ZoneInfo

from queue_server.domain import erlang
from queue_server.domain.config import SiteConfig
from queue_server.domain.profiles import (
    BIN_MIN,
    Profiles,
    arrivals_for,
    build_profiles,
    rules_for,
    sessions_of,
    staffing_for,
)
from queue_server.domain.reports import facts_from_rows, period_bounds
from queue_server.domain.simulate import Arrival, HourFigures, Rules, Staffing, simulate_day
from queue_server.errors import AppError
from queue_server.store.archive import EventArchive
from queue_server.store.config_store import ConfigStore

HISTORY_WEEKS = 8
RUNS = 6  # simulated days per plan (seeds 1..RUNS), averaged
LEVEL = 0.8  # the Erlang C service level: 80 % within the category's target
CACHE_S = 300.0
_CODES = re.compile(r"^[A-Za-z0-9_-]{1,16}\Z")


class HourRow(TypedDict):
    hour: int
    arrivals: float
    mean_wait_min: float | None
    p90_wait_min: float | None
    service_level: float | None
    present_mean: float
    present_max: float
    seated_mean: float
    standing_mean: float
    standing_max: float


class PlanFigures(TypedDict):
    open: list[int]  # counters open per session
    profiles: dict[str, list[str]]  # counter number -> categories
    appointment_share: float
    mean_wait_min: float | None
    p90_wait_min: float | None
    service_level: float | None
    served: float
    not_served: float
    standing_max: float
    standing_minutes: float
    by_hour: list[HourRow]


class ErlangRow(TypedDict):
    hour: int
    load: float  # erlangs offered in the hour
    needed: int  # counters for 80 % within target, each category its own queue
    needed_pooled: int  # the same, all categories in one queue (a lower bound)
    by_category: dict[str, int]
    current_wait_min: float | None  # Erlang C mean wait, one pooled queue
    proposed_wait_min: float | None


class SessionRow(TypedDict):
    start: str
    end: str


class CategoryProfile(TypedDict):
    code: str
    per_day: float  # arrivals on the weekday (mean over its days)
    services: int
    service_mean_min: float | None
    service_p90_min: float | None
    service_sigma: float | None
    no_show_share: float
    appointment_share: float


class ClerkProfile(TypedDict):
    clerk: str
    service_mean_min: dict[str, float]  # category -> mean (at least MIN_CLERK_SAMPLES services)


class ProfileSummary(TypedDict):
    tickets: int
    categories: list[CategoryProfile]
    clerks: list[ClerkProfile]
    counter_speed: dict[str, float]


class StaffingReply(TypedDict):
    weekday: int
    days_seen: int
    history_from: str | None
    history_to: str | None
    seats: int
    sessions: list[SessionRow]
    counters: list[dict[str, Any]]
    categories: list[dict[str, Any]]
    runs: int
    profile: ProfileSummary
    current: PlanFigures
    proposed: PlanFigures
    erlang: list[ErlangRow]


def _int(raw: str, name: str, lo: int, hi: int) -> int:
    if not raw.strip().isdigit() or len(raw.strip()) > 4 or not lo <= int(raw) <= hi:
        raise AppError("invalid_staffing", detail=f"{name}: {lo}–{hi}")
    return int(raw)


def parse_plan(
    cfg: SiteConfig, weekday: str | None, open_: str | None, profiles: str | None, share: str | None
) -> tuple[int, list[int] | None, dict[int, list[str]], float | None]:
    """A request's weekday (0 = Monday), counters open per session ("5,3"),
    work profiles ("1:HT.CT;4:DD.KD") and appointment share (0–1), checked."""
    wd = _int(weekday or "0", "weekday", 0, 6)
    sessions = sessions_of(cfg, wd)
    enabled = [c.number for c in cfg.counters if c.enabled]
    counts: list[int] | None = None
    if open_:
        parts = open_.split(",")
        if len(parts) > max(1, len(sessions)):
            raise AppError("invalid_staffing", detail=f"open: ≤ {len(sessions)}")
        counts = [_int(p, "open", 0, len(enabled)) for p in parts]
    work: dict[int, list[str]] = {}
    codes = {c.code for c in cfg.categories}
    for item in (profiles or "").split(";"):
        if not item.strip():
            continue
        num, sep, cats = item.partition(":")
        if not sep:
            raise AppError("invalid_staffing", detail="profiles: 1:HT.CT;2:…")
        n = _int(num, "profiles", 1, 9999)
        if n not in enabled:
            raise AppError("invalid_staffing", detail=f"profiles: {n}")
        chosen = [c.strip() for c in re.split(r"[.,\s]+", cats) if c.strip()]
        if len(chosen) > len(codes) or any(not _CODES.match(c) or c not in codes for c in chosen):
            raise AppError("invalid_staffing", detail=f"profiles: {n}")
        work[n] = list(dict.fromkeys(chosen))
    share_v: float | None = None
    if share not in (None, ""):
        try:
            share_v = float(share)
        except ValueError:
            raise AppError("invalid_staffing", detail="appointment_share: 0–1") from None
        if not 0 <= share_v <= 1:
            raise AppError("invalid_staffing", detail="appointment_share: 0–1")
    return wd, counts, work, share_v


def _mean(values: list[float | None]) -> float | None:
    v = [x for x in values if x is not None]
    return sum(v) / len(v) if v else None


def _minutes(v: float | None) -> float | None:
    return None if v is None else round(v / 60, 2)


class StaffingService:
    def __init__(self, config: ConfigStore, archive: EventArchive, clock: Any = None):
        self.config = config
        self.archive = archive
        self.clock = clock or (lambda: int(_time.time() * 1000))
        self._cache: tuple[float, str, Profiles] | None = None

    async def profiles(self, cfg: SiteConfig) -> Profiles:
        """The profiles of the last HISTORY_WEEKS weeks before today (kept a few minutes)."""
        tz = cfg.site.tz
        today = datetime.fromtimestamp(self.clock() / 1000, UTC).astimezone(tz).date()
        key = f"{cfg.site.id}:{today.isoformat()}"
        if self._cache and self._cache[1] == key and _time.monotonic() - self._cache[0] < CACHE_S:
            return self._cache[2]
        lo, hi = period_bounds(today - timedelta(weeks=HISTORY_WEEKS), today - timedelta(days=1), tz)
        rows, _ = await self.archive.report_facts(lo, hi, tz)
        p = await asyncio.to_thread(build_profiles, facts_from_rows(rows), tz)
        self._cache = (_time.monotonic(), key, p)
        return p

    async def plan(
        self, weekday: str | None, open_: str | None, profiles: str | None, share: str | None
    ) -> StaffingReply:
        cfg = await self.config.get()
        wd, counts, work, share_v = parse_plan(cfg, weekday, open_, profiles, share)
        prof = await self.profiles(cfg)
        return await asyncio.to_thread(self._plan, cfg, prof, wd, counts, work, share_v)

    def _plan(
        self,
        cfg: SiteConfig,
        prof: Profiles,
        wd: int,
        counts: list[int] | None,
        work: dict[int, list[str]],
        share: float | None,
    ) -> StaffingReply:
        tz = cfg.site.tz
        sessions = sessions_of(cfg, wd)
        today = datetime.fromtimestamp(self.clock() / 1000, UTC).astimezone(tz).date()
        day = today + timedelta(days=(wd - today.weekday()) % 7)  # the next such weekday
        rules = rules_for(cfg, prof)
        enabled = [c for c in cfg.counters if c.enabled]
        current_share = _mean(list(prof.appointment_share.values())) or 0.0
        plans = {
            "current": ([len(enabled)] * len(sessions), {}, None),
            "proposed": (counts or [len(enabled)] * len(sessions), work, share),
        }
        out: dict[str, PlanFigures] = {}
        spans = [(s.start, s.end) for s in sessions]
        days: dict[float | None, list[list[Arrival]]] = {}  # one set of seeded days per booking share
        for name, (n_open, wp, sh) in plans.items():
            staffing = staffing_for(cfg, day, sessions, n_open, wp, prof.counter_speed)
            if sh not in days:
                days[sh] = [
                    arrivals_for(
                        prof,
                        wd,
                        day,
                        tz,
                        seed,
                        sessions=spans,
                        appointment_share=sh,
                        slot_minutes=cfg.appointments.slot_minutes,
                    )
                    for seed in range(1, RUNS + 1)
                ]
            out[name] = self._figures(rules, staffing, days[sh], tz)
            out[name]["open"] = list(n_open)
            out[name]["profiles"] = {str(c.number): list(wp.get(c.number, c.categories)) for c in enabled}
            out[name]["appointment_share"] = round(current_share if sh is None else sh, 3)
        return {
            "weekday": wd,
            "days_seen": prof.days.get(wd, 0),
            "history_from": prof.first.isoformat() if prof.first else None,
            "history_to": prof.last.isoformat() if prof.last else None,
            "seats": cfg.site.seats,
            "sessions": [{"start": f"{s.start:%H:%M}", "end": f"{s.end:%H:%M}"} for s in sessions],
            "counters": [{"number": c.number, "label": c.label, "categories": list(c.categories)} for c in enabled],
            "categories": [
                {"code": c.code, "name": c.name, "name_en": c.name_en, "target_wait_min": c.target_wait_min}
                for c in cfg.categories
            ],
            "runs": RUNS,
            "profile": _summary(prof, wd, [c.code for c in cfg.categories]),
            "current": out["current"],
            "proposed": out["proposed"],
            "erlang": self._erlang(cfg, prof, rules, wd, sessions, out),
        }

    def _figures(self, rules: Rules, staffing: Staffing, days: list[list[Arrival]], tz: ZoneInfo) -> PlanFigures:
        """The mean of the seeded days (the same people for every plan)."""
        summaries = []
        hours: dict[int, list[HourFigures]] = {}
        for seed, people in enumerate(days, start=1):
            r = simulate_day(people, staffing, rules, seed, tz=tz)
            summaries.append(r.summary(rules.targets_ms, rules.seats))
            for hf in r.by_hour:
                hours.setdefault(hf.hour, []).append(hf)

        def avg(key: str) -> float | None:
            return _mean([None if s[key] is None else float(s[key] or 0) for s in summaries])

        rows: list[HourRow] = []
        for hour, hs in sorted(hours.items()):
            d = [asdict(x) for x in hs]
            n = RUNS  # an hour absent from a run had no one in it

            def m(key: str, d: list[dict[str, Any]] = d, n: int = n) -> float:
                return round(float(sum(x[key] for x in d)) / n, 2)

            rows.append(
                {
                    "hour": hour,
                    "arrivals": m("arrivals"),
                    "mean_wait_min": _minutes(_mean([x["mean_wait_s"] for x in d])),
                    "p90_wait_min": _minutes(_mean([x["p90_wait_s"] for x in d])),
                    "service_level": _round(_mean([x["service_level"] for x in d]), 3),
                    "present_mean": m("present_mean"),
                    "present_max": m("present_max"),
                    "seated_mean": m("seated_mean"),
                    "standing_mean": m("standing_mean"),
                    "standing_max": m("standing_max"),
                }
            )
        return {
            "open": [],
            "profiles": {},
            "appointment_share": 0.0,
            "mean_wait_min": _minutes(avg("mean_wait_s")),
            "p90_wait_min": _minutes(avg("p90_wait_s")),
            "service_level": _round(avg("service_level"), 3),
            "served": round(avg("served") or 0, 1),
            "not_served": round(avg("not_served") or 0, 1),
            "standing_max": round(avg("standing_max") or 0, 1),
            "standing_minutes": round(avg("standing_minutes") or 0, 1),
            "by_hour": rows,
        }

    def _erlang(
        self, cfg: SiteConfig, prof: Profiles, rules: Rules, wd: int, sessions: Any, out: dict[str, PlanFigures]
    ) -> list[ErlangRow]:
        """Per clock hour of the sessions: the offered load, the counters each
        category needs for LEVEL within its target (as its own queue), and the
        mean wait of one pooled queue at the counters open then."""
        per_hour = 60 // BIN_MIN
        cats = prof.arrivals.get(wd, {})
        rows: list[ErlangRow] = []
        hours = sorted({h for s in sessions for h in range(s.start.hour, s.end.hour + (1 if s.end.minute else 0))})
        for h in hours:
            by_cat: dict[str, int] = {}
            load = 0.0
            work = 0.0
            for code, bins in cats.items():
                lam = sum(bins[h * per_hour : (h + 1) * per_hour])  # arrivals in the hour
                svc = rules.service_ms.get(code, 600_000) / 60_000  # minutes
                a = erlang.load_of(lam, 60, svc)
                load += a
                work += lam * svc
                target = rules.targets_ms.get(code, 0) / 60_000
                by_cat[code] = erlang.counters_needed(a, svc, target, LEVEL) if a > 0 else 0
            lam_all = sum(sum(b[h * per_hour : (h + 1) * per_hour]) for b in cats.values())
            mean_svc = work / lam_all if lam_all else 0.0
            # the pooled queue's target: the arrivals' mean target
            targets = sum(
                sum(b[h * per_hour : (h + 1) * per_hour]) * rules.targets_ms.get(code, 0) / 60_000
                for code, b in cats.items()
            )
            pooled = erlang.counters_needed(load, mean_svc, targets / lam_all, LEVEL) if load > 0 else 0
            waits: dict[str, float | None] = {}
            for name in ("current", "proposed"):
                n = _open_at(out[name]["open"], sessions, h)
                w = erlang.mean_wait(load, n, mean_svc) if load > 0 else 0.0
                waits[name] = None if w == float("inf") else round(w, 2)
            rows.append(
                {
                    "hour": h,
                    "load": round(load, 2),
                    "needed": sum(by_cat.values()),
                    "needed_pooled": pooled,
                    "by_category": by_cat,
                    "current_wait_min": waits["current"],
                    "proposed_wait_min": waits["proposed"],
                }
            )
        return rows


def _summary(prof: Profiles, wd: int, codes: list[str]) -> ProfileSummary:
    cats: list[CategoryProfile] = []
    for code in codes:
        st = prof.service.get(code)
        cats.append(
            {
                "code": code,
                "per_day": round(sum(prof.arrivals.get(wd, {}).get(code, [])), 1),
                "services": st.count if st else 0,
                "service_mean_min": round(st.mean_s / 60, 2) if st else None,
                "service_p90_min": round(st.p90_s / 60, 2) if st else None,
                "service_sigma": round(st.sigma, 3) if st else None,
                "no_show_share": round(prof.no_show_share.get(code, 0.0), 3),
                "appointment_share": round(prof.appointment_share.get(code, 0.0), 3),
            }
        )
    return {
        "tickets": prof.tickets,
        "categories": cats,
        "clerks": [
            {"clerk": who, "service_mean_min": {c: round(t.mean_s / 60, 2) for c, t in by.items()}}
            for who, by in sorted(prof.clerk_service.items())
        ],
        "counter_speed": {str(n): round(v, 3) for n, v in prof.counter_speed.items()},
    }


def _round(v: float | None, nd: int) -> float | None:
    return None if v is None else round(v, nd)


def _open_at(counts: list[int], sessions: Any, hour: int) -> int:
    """The counters open during most of a clock hour."""
    best = 0
    for i, s in enumerate(sessions):
        lo = max(s.start.hour * 60 + s.start.minute, hour * 60)
        hi = min(s.end.hour * 60 + s.end.minute, hour * 60 + 60)
        if hi - lo >= 30 and i < len(counts):
            best = max(best, counts[i])
    return best
