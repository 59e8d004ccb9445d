"""Site configuration: TOML on disk, JSON in Redis for live edits.

Pure: no Redis, no Litestar. `parse_config` turns a plain dict (from TOML or
from the admin's JSON) into a validated `SiteConfig`, or raises
`ConfigError` listing every problem with the field it concerns, in
Vietnamese and English.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import asdict, dataclass, field, replace
from datetime import date, time
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from queue_server.domain.notify import CHANNELS, NotifyConfig
from queue_server.domain.room import RoomRules

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CODE_RE = re.compile(r"^[A-Z][A-Z0-9]{0,5}$")
_PREFIX_RE = re.compile(r"^[A-Z]$")
_SESSION_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
_SITE_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_HHMM_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
VERIFY_MODES = ("none", "otp")


@dataclass(frozen=True)
class Problem:
    field: str
    vi: str
    en: str

    def __str__(self) -> str:
        return f"{self.field}: {self.vi} ({self.en})"


class ConfigError(ValueError):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


@dataclass(frozen=True)
class Procedure:
    """A common procedure (thủ tục) of a category, shown under its name on the kiosk."""

    name: str
    name_en: str = ""

    def label(self, lang: str = "vi") -> str:
        return self.name_en if lang == "en" and self.name_en else self.name


# how many common procedures a category may list (the kiosk shows the first few)
MAX_PROCEDURES = 8


@dataclass(frozen=True)
class Category:
    code: str
    prefix: str
    name: str
    name_en: str
    target_wait_min: float
    service_min: float
    enabled: bool = True
    # bookings per slot (0: not bookable online) and the latest slot start of
    # the day (same-day procedures), or None
    appointment_capacity: int = 0
    last_slot: time | None = None
    procedures: tuple[Procedure, ...] = ()

    def label(self, lang: str = "vi") -> str:
        return self.name_en if lang == "en" and self.name_en else self.name

    @property
    def target_wait_ms(self) -> int:
        return int(self.target_wait_min * 60_000)

    @property
    def service_ms(self) -> int:
        return int(self.service_min * 60_000)


@dataclass(frozen=True)
class Counter:
    number: int
    categories: tuple[str, ...]
    name: str = ""
    enabled: bool = True

    @property
    def label(self) -> str:
        return self.name or f"Quầy {self.number}"


@dataclass(frozen=True)
class Session:
    start: time
    end: time

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True)
class Hours:
    weekly: dict[str, tuple[Session, ...]]
    public_holidays: bool = True
    closures: tuple[date, ...] = ()
    extra_open_days: tuple[date, ...] = ()
    # False: tickets may be issued at any time (testing, after-hours events).
    enforce: bool = True


@dataclass(frozen=True)
class QueueRules:
    starvation_factor: float = 2.0
    next_debounce_ms: int = 1500
    priority_enabled: bool = True
    priority_label: str = ""
    rating_scale: int = 3
    # A kiosk ticket's first print older than this (seconds since it was
    # queued) is not printed: the kiosk already told the citizen to photograph
    # the number, and a late ticket would land in the next person's hand.
    # Staff reprints always print.
    print_max_age_s: int = 60
    # the supervisor view flags a counter paused for this long (minutes)
    pause_alert_minutes: int = 15


@dataclass(frozen=True)
class Appointments:
    """Online appointments ([appointments] of the site's TOML)."""

    enabled: bool = False
    slot_minutes: int = 15
    # today and this many days after it can be booked
    days_ahead: int = 6
    # booking, cancelling and moving close this long before a slot
    book_until_minutes: int = 60
    # bookings of one phone on one day, every category counted
    per_phone_per_day: int = 2
    checkin_early_minutes: int = 30
    checkin_late_minutes: int = 15
    verify: str = "none"
    keep_personal_days: int = 30
    # the part of each hour's counter capacity never offered online
    reserve_walk_in_share: float = 0.5
    # a cancelled place goes back on sale this long after the cancel
    release_delay_minutes: int = 5
    # the full text on the handling of personal data that /book links to
    # ("" = the built-in text citing Nghị định 13/2023/NĐ-CP)
    privacy_text: str = ""
    privacy_text_en: str = ""


@dataclass(frozen=True)
class Site:
    id: str
    name: str
    name_en: str = ""
    timezone: str = "Asia/Ho_Chi_Minh"
    seats: int = 10
    public_url: str = "http://localhost:8000"
    ticket_footer: str = ""
    notice: str = ""
    # the PDF report's heading (Nghị định 30/2020): the issuing body, one line
    # per level with the superior body first, and the place of the date line
    report_body: str = "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG"
    place: str = ""

    def label(self, lang: str = "vi") -> str:
        return self.name_en if lang == "en" and self.name_en else self.name

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class SiteConfig:
    site: Site
    hours: Hours
    queue: QueueRules
    categories: tuple[Category, ...]
    counters: tuple[Counter, ...]
    extra: dict[str, Any] = field(default_factory=dict)
    appointments: Appointments = field(default_factory=Appointments)
    notify: NotifyConfig = field(default_factory=NotifyConfig)
    room: RoomRules = field(default_factory=RoomRules)

    # -- lookups -------------------------------------------------------
    def category(self, code: str) -> Category | None:
        for c in self.categories:
            if c.code == code:
                return c
        return None

    def counter(self, number: int) -> Counter | None:
        for c in self.counters:
            if c.number == number:
                return c
        return None

    @property
    def enabled_categories(self) -> tuple[Category, ...]:
        return tuple(c for c in self.categories if c.enabled)

    def to_dict(self) -> dict[str, Any]:
        """The plain-dict form that `parse_config` reads back."""
        d: dict[str, Any] = {
            "site": asdict(self.site),
            "hours": {
                **{day: [str(s) for s in self.hours.weekly.get(day, ())] for day in WEEKDAYS},
                "public_holidays": self.hours.public_holidays,
                "closures": [d.isoformat() for d in self.hours.closures],
                "extra_open_days": [d.isoformat() for d in self.hours.extra_open_days],
                "enforce": self.hours.enforce,
            },
            "queue": asdict(self.queue),
            "categories": [_category_dict(c) for c in self.categories],
            "counters": [
                {"number": c.number, "categories": list(c.categories), "name": c.name, "enabled": c.enabled}
                for c in self.counters
            ],
            "appointments": asdict(self.appointments),
            "notify": {**asdict(self.notify), "retry_intervals": list(self.notify.retry_intervals)},
            # the seats are kept under [site] (one place); [room] seats in a TOML sets them
            "room": asdict(self.room),
        }
        d.update(self.extra)
        return d


def _category_dict(c: Category) -> dict[str, Any]:
    d = asdict(c)
    d["procedures"] = [asdict(p) for p in c.procedures]
    if c.last_slot is None:
        del d["last_slot"]  # TOML has no null
    else:
        d["last_slot"] = f"{c.last_slot:%H:%M}"
    return d


# ---------------------------------------------------------------------------
# parsing and validation


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, fld: str, vi: str, en: str) -> None:
        self.problems.append(Problem(fld, vi, en))

    def text(
        self, d: dict[str, Any], key: str, fld: str, *, required: bool = True, default: str = "", max_len: int = 200
    ) -> str:
        v = d.get(key, None)
        if v is None:
            if required:
                self.add(fld, "bắt buộc phải có", "is required")
            return default
        if not isinstance(v, str):
            self.add(fld, "phải là chuỗi ký tự", "must be a string")
            return default
        v = v.strip()
        if required and not v:
            self.add(fld, "không được để trống", "must not be empty")
        if len(v) > max_len:
            self.add(fld, f"dài quá {max_len} ký tự", f"longer than {max_len} characters")
        return v

    def number(
        self, d: dict[str, Any], key: str, fld: str, *, lo: float, hi: float, default: float, integer: bool = False
    ) -> Any:
        v = d.get(key, default)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or (integer and not isinstance(v, int)):
            kind_vi, kind_en = ("số nguyên", "an integer") if integer else ("số", "a number")
            self.add(fld, f"phải là {kind_vi}", f"must be {kind_en}")
            return default
        if not lo <= v <= hi:
            self.add(fld, f"phải nằm trong khoảng {lo:g}–{hi:g}", f"must be between {lo:g} and {hi:g}")
            return default
        return v

    def flag(self, d: dict[str, Any], key: str, fld: str, default: bool) -> bool:
        v = d.get(key, default)
        if not isinstance(v, bool):
            self.add(fld, "phải là true hoặc false", "must be true or false")
            return default
        return v

    def dates(self, d: dict[str, Any], key: str, fld: str) -> tuple[date, ...]:
        raw = d.get(key, [])
        if not isinstance(raw, list):
            self.add(fld, "phải là danh sách ngày YYYY-MM-DD", "must be a list of YYYY-MM-DD dates")
            return ()
        out = []
        for i, v in enumerate(raw):
            try:
                out.append(v if isinstance(v, date) else date.fromisoformat(str(v)))
            except ValueError:
                self.add(f"{fld}[{i}]", f"ngày không hợp lệ: {v!r}", f"invalid date: {v!r}")
        return tuple(sorted(set(out)))


def _parse_sessions(c: _Collector, raw: Any, fld: str) -> tuple[Session, ...]:
    if not isinstance(raw, list):
        c.add(fld, "phải là danh sách phiên dạng HH:MM-HH:MM", "must be a list of HH:MM-HH:MM sessions")
        return ()
    out: list[Session] = []
    for i, s in enumerate(raw):
        m = _SESSION_RE.match(str(s).strip()) if isinstance(s, str) else None
        if not m:
            c.add(
                f"{fld}[{i}]",
                f"phiên không hợp lệ: {s!r} (dạng 07:30-11:30)",
                f"invalid session {s!r} (use 07:30-11:30)",
            )
            continue
        start = time(int(m[1]), int(m[2]))
        end = time(int(m[3]), int(m[4]))
        if end <= start:
            c.add(f"{fld}[{i}]", "giờ kết thúc phải sau giờ bắt đầu", "end must be after start")
            continue
        out.append(Session(start, end))
    out.sort(key=lambda s: s.start)
    for a, b in zip(out, out[1:], strict=False):
        if b.start < a.end:
            c.add(fld, f"các phiên {a} và {b} chồng nhau", f"sessions {a} and {b} overlap")
    return tuple(out)


def _parse_procedures(c: _Collector, raw: Any, fld: str) -> tuple[Procedure, ...]:
    """`procedures = [{name = "Đăng ký khai sinh", name_en = "Birth registration"}, …]`;
    a plain string is a Vietnamese name without English."""
    if raw is None:
        return ()
    if not isinstance(raw, (list, tuple)):
        c.add(fld, "phải là danh sách thủ tục", "must be a list of procedures")
        return ()
    if len(raw) > MAX_PROCEDURES:
        c.add(fld, f"nhiều nhất {MAX_PROCEDURES} thủ tục", f"at most {MAX_PROCEDURES} procedures")
    out: list[Procedure] = []
    for i, rp in enumerate(raw[:MAX_PROCEDURES]):
        f = f"{fld}[{i}]"
        if isinstance(rp, str):
            rp = {"name": rp}
        if not isinstance(rp, dict):
            c.add(f, "phải là một bảng {name, name_en} hoặc một chuỗi", "must be a table {name, name_en} or a string")
            continue
        out.append(
            Procedure(
                name=c.text(rp, "name", f"{f}.name", max_len=100),
                name_en=c.text(rp, "name_en", f"{f}.name_en", required=False, max_len=100),
            )
        )
    return tuple(out)


def parse_config(data: dict[str, Any]) -> SiteConfig:
    if not isinstance(data, dict):
        raise ConfigError([Problem("", "cấu hình phải là một bảng", "configuration must be a table")])
    c = _Collector()

    s = data.get("site", {})
    if not isinstance(s, dict):
        c.add("site", "phải là một bảng", "must be a table")
        s = {}
    site_id = c.text(s, "id", "site.id", default="site")
    if site_id and not _SITE_ID_RE.match(site_id):
        c.add(
            "site.id", "chỉ gồm chữ thường không dấu, số và dấu gạch ngang", "lowercase letters, digits and dashes only"
        )
    tz = c.text(s, "timezone", "site.timezone", required=False, default="Asia/Ho_Chi_Minh") or "Asia/Ho_Chi_Minh"
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        c.add("site.timezone", f"múi giờ không tồn tại: {tz}", f"unknown time zone: {tz}")
        tz = "Asia/Ho_Chi_Minh"
    public_url = c.text(s, "public_url", "site.public_url", required=False, default="http://localhost:8000")
    if public_url and not public_url.startswith(("http://", "https://")):
        c.add("site.public_url", "phải bắt đầu bằng http:// hoặc https://", "must start with http:// or https://")
    site = Site(
        id=site_id,
        name=c.text(s, "name", "site.name", default="Bộ phận một cửa"),
        name_en=c.text(s, "name_en", "site.name_en", required=False),
        timezone=tz,
        seats=int(c.number(s, "seats", "site.seats", lo=0, hi=1000, default=10, integer=True)),
        public_url=(public_url or "http://localhost:8000").rstrip("/"),
        ticket_footer=c.text(s, "ticket_footer", "site.ticket_footer", required=False),
        notice=c.text(s, "notice", "site.notice", required=False, max_len=500),
        report_body=c.text(
            s,
            "report_body",
            "site.report_body",
            required=False,
            default="TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG",
            max_len=300,
        )
        or "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG",
        place=c.text(s, "place", "site.place", required=False, max_len=100),
    )

    h = data.get("hours", {})
    if not isinstance(h, dict):
        c.add("hours", "phải là một bảng", "must be a table")
        h = {}
    weekly = {day: _parse_sessions(c, h.get(day, []), f"hours.{day}") for day in WEEKDAYS}
    hours = Hours(
        weekly=weekly,
        public_holidays=c.flag(h, "public_holidays", "hours.public_holidays", True),
        closures=c.dates(h, "closures", "hours.closures"),
        extra_open_days=c.dates(h, "extra_open_days", "hours.extra_open_days"),
        enforce=c.flag(h, "enforce", "hours.enforce", True),
    )

    q = data.get("queue", {})
    if not isinstance(q, dict):
        c.add("queue", "phải là một bảng", "must be a table")
        q = {}
    rules = QueueRules(
        starvation_factor=float(c.number(q, "starvation_factor", "queue.starvation_factor", lo=1, hi=20, default=2.0)),
        next_debounce_ms=int(
            c.number(q, "next_debounce_ms", "queue.next_debounce_ms", lo=0, hi=60_000, default=1500, integer=True)
        ),
        priority_enabled=c.flag(q, "priority_enabled", "queue.priority_enabled", True),
        priority_label=c.text(q, "priority_label", "queue.priority_label", required=False),
        rating_scale=int(c.number(q, "rating_scale", "queue.rating_scale", lo=3, hi=5, default=3, integer=True)),
        print_max_age_s=int(
            c.number(q, "print_max_age_s", "queue.print_max_age_s", lo=5, hi=3600, default=60, integer=True)
        ),
        pause_alert_minutes=int(
            c.number(q, "pause_alert_minutes", "queue.pause_alert_minutes", lo=1, hi=480, default=15, integer=True)
        ),
    )
    if rules.rating_scale not in (3, 5):
        c.add("queue.rating_scale", "chỉ nhận 3 hoặc 5 mức", "must be 3 or 5")

    cats: list[Category] = []
    raw_cats = data.get("categories", [])
    if not isinstance(raw_cats, list) or not raw_cats:
        c.add("categories", "cần ít nhất một lĩnh vực", "at least one category is required")
        raw_cats = []
    for i, rc in enumerate(raw_cats):
        f = f"categories[{i}]"
        if not isinstance(rc, dict):
            c.add(f, "phải là một bảng", "must be a table")
            continue
        code = c.text(rc, "code", f"{f}.code")
        if code and not _CODE_RE.match(code):
            c.add(
                f"{f}.code",
                "mã gồm 1–6 chữ in hoa hoặc số, bắt đầu bằng chữ",
                "1–6 capital letters or digits, starting with a letter",
            )
        prefix = c.text(rc, "prefix", f"{f}.prefix")
        if prefix and not _PREFIX_RE.match(prefix):
            c.add(f"{f}.prefix", "tiền tố là một chữ cái in hoa A–Z", "prefix is one capital letter A–Z")
        cats.append(
            Category(
                code=code,
                prefix=prefix,
                name=c.text(rc, "name", f"{f}.name", max_len=80),
                name_en=c.text(rc, "name_en", f"{f}.name_en", required=False, max_len=80),
                target_wait_min=float(
                    c.number(rc, "target_wait_min", f"{f}.target_wait_min", lo=1, hi=480, default=15)
                ),
                service_min=float(c.number(rc, "service_min", f"{f}.service_min", lo=0.5, hi=480, default=10)),
                enabled=c.flag(rc, "enabled", f"{f}.enabled", True),
                appointment_capacity=int(
                    c.number(
                        rc, "appointment_capacity", f"{f}.appointment_capacity", lo=0, hi=100, default=0, integer=True
                    )
                ),
                last_slot=_parse_hhmm(c, rc.get("last_slot"), f"{f}.last_slot"),
                procedures=_parse_procedures(c, rc.get("procedures"), f"{f}.procedures"),
            )
        )
    for attr, label_vi, label_en in (("code", "mã", "code"), ("prefix", "tiền tố", "prefix")):
        seen: dict[str, int] = {}
        for i, cat in enumerate(cats):
            v = getattr(cat, attr)
            if v and v in seen:
                c.add(
                    f"categories[{i}].{attr}",
                    f"{label_vi} {v} bị trùng với lĩnh vực số {seen[v] + 1}",
                    f"duplicate {label_en} {v}",
                )
            seen.setdefault(v, i)
    codes = {cat.code for cat in cats}

    counters: list[Counter] = []
    raw_counters = data.get("counters", [])
    if not isinstance(raw_counters, list) or not raw_counters:
        c.add("counters", "cần ít nhất một quầy", "at least one counter is required")
        raw_counters = []
    seen_numbers: set[int] = set()
    for i, rc in enumerate(raw_counters):
        f = f"counters[{i}]"
        if not isinstance(rc, dict):
            c.add(f, "phải là một bảng", "must be a table")
            continue
        number = int(c.number(rc, "number", f"{f}.number", lo=1, hi=99, default=0, integer=True))
        if number in seen_numbers:
            c.add(f"{f}.number", f"quầy số {number} bị khai báo hai lần", f"counter {number} is declared twice")
        seen_numbers.add(number)
        profile = rc.get("categories", [])
        if not isinstance(profile, list) or not all(isinstance(x, str) for x in profile):
            c.add(f"{f}.categories", "phải là danh sách mã lĩnh vực", "must be a list of category codes")
            profile = []
        for code in profile:
            if code not in codes:
                c.add(f"{f}.categories", f"lĩnh vực {code} không tồn tại", f"unknown category {code}")
        if len(set(profile)) != len(profile):
            c.add(f"{f}.categories", "một lĩnh vực xuất hiện hai lần", "a category appears twice")
        counters.append(
            Counter(
                number=number,
                categories=tuple(profile),
                name=c.text(rc, "name", f"{f}.name", required=False, max_len=40),
                enabled=c.flag(rc, "enabled", f"{f}.enabled", True),
            )
        )
    for cat in cats:
        if cat.enabled and counters and not any(cat.code in ct.categories for ct in counters if ct.enabled):
            c.add(
                "counters", f"không có quầy nào phục vụ lĩnh vực {cat.code}", f"no counter serves category {cat.code}"
            )

    appointments = _parse_appointments(c, data.get("appointments", {}))
    notify = _parse_notify(c, data.get("notify", {}))
    raw_room = data.get("room", {})
    room = _parse_room(c, raw_room)
    if isinstance(raw_room, dict) and "seats" in raw_room:
        seats = int(c.number(raw_room, "seats", "room.seats", lo=0, hi=1000, default=site.seats, integer=True))
        site = replace(site, seats=seats)

    if c.problems:
        raise ConfigError(c.problems)
    known = {"site", "hours", "queue", "categories", "counters", "appointments", "notify", "room"}
    extra = {k: v for k, v in data.items() if k not in known}
    return SiteConfig(
        site=site,
        hours=hours,
        queue=rules,
        categories=tuple(cats),
        counters=tuple(counters),
        extra=extra,
        appointments=appointments,
        notify=notify,
        room=room,
    )


def _parse_hhmm(c: _Collector, raw: Any, fld: str) -> time | None:
    if raw is None or raw == "":
        return None
    m = _HHMM_RE.match(raw.strip()) if isinstance(raw, str) else None
    if not m:
        c.add(fld, f"giờ không hợp lệ: {raw!r} (dạng 15:00)", f"invalid time {raw!r} (use 15:00)")
        return None
    return time(int(m[1]), int(m[2]))


def _parse_appointments(c: _Collector, a: Any) -> Appointments:
    if not isinstance(a, dict):
        c.add("appointments", "phải là một bảng", "must be a table")
        return Appointments()
    d = Appointments()

    def whole(key: str, lo: int, hi: int) -> int:
        return int(c.number(a, key, f"appointments.{key}", lo=lo, hi=hi, default=getattr(d, key), integer=True))

    slot_minutes = whole("slot_minutes", 5, 240)
    if 60 % slot_minutes and slot_minutes % 60:
        c.add(
            "appointments.slot_minutes",
            "phải chia hết 60 phút hoặc là bội số của 60 (5, 10, 15, 20, 30, 60, 120…)",
            "must divide 60 minutes or be a multiple of 60 (5, 10, 15, 20, 30, 60, 120…)",
        )
    verify = a.get("verify", d.verify)
    if verify not in VERIFY_MODES:
        c.add("appointments.verify", f"chỉ nhận “none” hoặc “otp”, không phải {verify!r}", 'must be "none" or "otp"')
        verify = d.verify
    return Appointments(
        enabled=c.flag(a, "enabled", "appointments.enabled", d.enabled),
        slot_minutes=slot_minutes,
        days_ahead=whole("days_ahead", 0, 60),
        book_until_minutes=whole("book_until_minutes", 0, 7 * 24 * 60),
        per_phone_per_day=whole("per_phone_per_day", 1, 20),
        checkin_early_minutes=whole("checkin_early_minutes", 0, 240),
        checkin_late_minutes=whole("checkin_late_minutes", 0, 240),
        verify=str(verify),
        keep_personal_days=whole("keep_personal_days", 1, 365),
        reserve_walk_in_share=float(
            c.number(a, "reserve_walk_in_share", "appointments.reserve_walk_in_share", lo=0, hi=1, default=0.5)
        ),
        release_delay_minutes=whole("release_delay_minutes", 0, 120),
        privacy_text=c.text(a, "privacy_text", "appointments.privacy_text", required=False, max_len=20_000),
        privacy_text_en=c.text(a, "privacy_text_en", "appointments.privacy_text_en", required=False, max_len=20_000),
    )


def _parse_room(c: _Collector, r: Any) -> RoomRules:
    if not isinstance(r, dict):
        c.add("room", "phải là một bảng", "must be a table")
        return RoomRules()
    d = RoomRules()

    def whole(key: str, lo: int, hi: int) -> int:
        return int(c.number(r, key, f"room.{key}", lo=lo, hi=hi, default=getattr(d, key), integer=True))

    def wording(key: str, placeholder: str = "") -> str:
        v = c.text(r, key, f"room.{key}", required=False, default=getattr(d, key), max_len=200) or getattr(d, key)
        if placeholder and placeholder not in v:
            c.add(f"room.{key}", f"phải chứa {placeholder}", f"must contain {placeholder}")
            return str(getattr(d, key))
        return v

    return RoomRules(
        enabled=c.flag(r, "enabled", "room.enabled", d.enabled),
        threshold=whole("threshold", 0, 1000),
        horizon_minutes=whole("horizon_minutes", 1, 240),
        margin_minutes=whole("margin_minutes", 0, 120),
        warn_ahead=whole("warn_ahead", 0, 50),
        come_back_text=wording("come_back_text", "{time}"),
        come_back_text_en=wording("come_back_text_en", "{time}"),
        full_text=wording("full_text"),
        full_text_en=wording("full_text_en"),
    )


def _parse_notify(c: _Collector, n: Any) -> NotifyConfig:
    if not isinstance(n, dict):
        c.add("notify", "phải là một bảng", "must be a table")
        return NotifyConfig()
    d = NotifyConfig()
    channel = n.get("channel", d.channel)
    if channel not in CHANNELS:
        c.add("notify.channel", f"chỉ nhận {', '.join(CHANNELS)}", f"must be one of {', '.join(CHANNELS)}")
        channel = d.channel

    def url(key: str, default: str) -> str:
        v = c.text(n, key, f"notify.{key}", required=False, default=default, max_len=500)
        if v and not v.startswith(("http://", "https://")):
            c.add(f"notify.{key}", "phải bắt đầu bằng http:// hoặc https://", "must start with http:// or https://")
        return v

    header = c.text(n, "sms_auth_header", "notify.sms_auth_header", required=False, max_len=1000)
    if header and ":" not in header:
        c.add("notify.sms_auth_header", "dạng “Tên: giá trị”", "as “Name: value”")
    templates = n.get("zns_templates", {})
    if not isinstance(templates, dict) or not all(
        isinstance(k, str) and isinstance(v, (str, int)) and not isinstance(v, bool) for k, v in templates.items()
    ):
        c.add("notify.zns_templates", "bảng loại tin -> mã mẫu ZNS", "a table of message kind -> ZNS template id")
        templates = {}
    intervals = n.get("retry_intervals", list(d.retry_intervals))
    if (
        not isinstance(intervals, list)
        or len(intervals) > 10
        or not all(isinstance(x, int) and not isinstance(x, bool) and 0 <= x <= 86_400 for x in intervals)
    ):
        c.add("notify.retry_intervals", "tối đa 10 số giây 0–86400", "at most 10 numbers of seconds 0–86400")
        intervals = list(d.retry_intervals)
    if channel == "sms_http" and not n.get("sms_url"):
        c.add("notify.sms_url", "cần địa chỉ cổng SMS", "the SMS gateway URL is required")
    if channel == "zalo_zns" and not n.get("zns_access_token"):
        c.add("notify.zns_access_token", "cần access_token của Zalo OA", "the Zalo OA access_token is required")
    return NotifyConfig(
        channel=str(channel),
        sms_url=url("sms_url", ""),
        sms_auth_header=header,
        sms_body_template=c.text(
            n,
            "sms_body_template",
            "notify.sms_body_template",
            required=False,
            default=d.sms_body_template,
            max_len=4000,
        )
        or d.sms_body_template,
        sms_content_type=c.text(
            n, "sms_content_type", "notify.sms_content_type", required=False, default=d.sms_content_type, max_len=100
        )
        or d.sms_content_type,
        zns_url=url("zns_url", d.zns_url) or d.zns_url,
        zns_access_token=c.text(n, "zns_access_token", "notify.zns_access_token", required=False, max_len=2000),
        zns_templates={str(k): str(v) for k, v in templates.items()},
        retry_intervals=tuple(intervals),
    )


def load_toml(path: str | Path | None) -> SiteConfig:
    """Read and validate a TOML file; `None` reads the shipped default."""
    if path is None:
        text = resources.files("queue_server").joinpath("default_site.toml").read_text("utf-8")
    else:
        text = Path(path).read_text("utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError([Problem("", f"tệp TOML sai cú pháp: {e}", f"TOML syntax error: {e}")]) from e
    return parse_config(data)
