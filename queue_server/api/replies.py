"""The JSON shapes the API answers on success, for the OpenAPI.

The services build these replies as plain dicts (``services/views.py`` and
the services' reads); each route names its shape with
``documented(..., reply=...)`` and `api.openapi.document` puts it under the
route's success status, so a client (and schemathesis'
response_schema_conformance in ``tests/e2e/test_fuzz_openapi.py``) can check
every reply against it. A key listed here without ``NotRequired`` is always
there; ``X | None`` may be ``null``. Free-form parts (an event's fields, the
configuration's sections) are objects of any members.

No ``from __future__ import annotations`` here: a TypedDict does not see
``NotRequired`` in a string annotation and would list the key as required."""

from typing import Any, Literal, NotRequired, TypedDict

from queue_server.domain.accounts import DeviceKind, Role
from queue_server.domain.model import CounterStatus, Source, TicketStatus

PrinterState = Literal["online", "offline", "paper_low", "paper_out"]


# -- small parts ------------------------------------------------------------------------------------
class Ok(TypedDict):
    ok: bool


class Health(TypedDict):
    status: str
    version: str


class CategoryBrief(TypedDict):
    code: str
    prefix: str
    name: str
    name_en: str


class Procedure(TypedDict):
    """A common procedure of the category, shown under its name on the kiosk."""

    name: str
    """In the asked language (English with ?lang=en when it has an English name), else Vietnamese."""
    name_vi: str
    name_en: str
    """Empty when the configuration gives none."""


class Category(TypedDict):
    """A category the kiosk offers: `code` is what POST /api/tickets takes (e.g. HT), `prefix` the
    ticket number's letter (e.g. A)."""

    code: str
    prefix: str
    name: str
    """In the reply's language."""
    name_vi: str
    name_en: str
    target_wait_min: float
    service_min: float
    enabled: bool
    procedures: list[Procedure]
    """In the configuration's order, at most 8, possibly none."""


class Categories(TypedDict):
    categories: list[Category]


class Site(TypedDict):
    id: str
    name: str
    name_en: str
    timezone: str
    seats: int
    open: bool
    enforce_hours: bool
    next_open: str | None
    """ISO 8601 in the site's time zone; null when no session is ahead."""
    priority_enabled: bool
    priority_label: str
    rating_scale: int
    ticket_footer: str


# -- tickets ---------------------------------------------------------------------------------------------
class PrintQueued(TypedDict):
    """What became of a kiosk ticket's print job when it was issued."""

    queued: bool
    job: str | None
    state: NotRequired[str | None]
    printer: PrinterState
    ok: bool


class Ticket(TypedDict):
    """A ticket as the citizen's tracking page and the kiosk see it."""

    id: str
    number: str
    category: str
    category_name: str
    status: TicketStatus
    priority: bool
    source: Source
    issued_at: int
    counter: int | None
    called_at: int | None
    finished_at: int | None
    ahead: int
    eta_minutes: int
    eta_range: list[int] | None
    """[low, high] minutes while the estimate is unsure."""
    rating: int | None
    track_url: str
    come_back_at: int | None
    """The room was full at its issue: come back at about this time (ms), else none."""
    come_back_time: str | None
    """The same as HH:MM in the site's time zone."""
    come_back_text: str | None
    """The ticket's come-back line, e.g. "Vui lòng quay lại lúc khoảng 10:40"."""
    warn_ahead: int
    """The tracking page warns this many people before the turn ([room] warn_ahead)."""
    turn_near: bool
    """Waiting, with at most warn_ahead people before it."""
    turn_text: str | None
    """The warning, e.g. "Sắp đến lượt bạn: còn 3 người"."""
    notice: Literal["pending", "sent"] | None
    """A phone was given for one "your turn is near" notice: not sent yet, or sent."""


class IssuedTicket(Ticket):
    print: NotRequired[PrintQueued]
    """A kiosk's ticket only."""


class StaffTicket(Ticket):
    """Adds what clerks need: who served it and where a transfer points."""

    clerk: str | None
    calls: int
    queued_at: int
    original_category: str


class ServingTicket(StaffTicket):
    waited_ms: int


class TicketEvent(TypedDict):
    """One event of the log; its type's further fields (ticket, number,
    category, counter, clerk, wait and service times...) come along."""

    id: str
    type: str
    ts: int


class TicketEvents(TypedDict):
    events: list[TicketEvent]


class Rated(TypedDict):
    ticket: str
    rating: int | None


class RatedAtCounter(Rated):
    number: str


# -- counters ------------------------------------------------------------------------------------------
class Acted(TypedDict):
    ticket: StaffTicket
    finished: NotRequired[str | None]
    """Next and Call: the ticket this counter finished first, if any."""
    debounced: NotRequired[bool]
    replayed: NotRequired[bool]


class CounterStatusChange(TypedDict):
    counter: int
    status: CounterStatus
    changed: bool


class CounterState(TypedDict):
    counter: int
    name: str
    status: CounterStatus
    categories: list[str]
    ticket: str | None
    number: str | None
    category: str | None
    called_at: int | None
    clerk: str | None
    allowed: bool


class Counters(TypedDict):
    counters: list[CounterState]


class CounterInfo(TypedDict):
    number: int
    name: str
    status: CounterStatus
    enabled: bool
    categories: list[CategoryBrief]


class QueueCount(TypedDict):
    category: str
    prefix: str
    name: str
    name_en: str
    count: int
    priority: int
    oldest_wait_ms: int | None


class DirectQueue(TypedDict):
    count: int
    oldest_wait_ms: int | None


class Preview(TypedDict):
    categories: list[QueueCount]
    direct: DirectQueue
    total: int
    oldest_wait_ms: int | None


class DayStats(TypedDict):
    served: int
    no_shows: int
    calls: int
    avg_service_ms: int | None


class ListedTicket(TypedDict):
    id: str
    number: str
    category: str
    category_name: str
    priority: bool
    source: Source
    counter: int | None
    wait_ms: NotRequired[int]
    finished_at: NotRequired[int | None]


class CategoryEnabled(CategoryBrief):
    enabled: bool


class CounterBrief(TypedDict):
    number: int
    name: str
    enabled: bool


class CounterSnapshot(TypedDict):
    """The counter app's view of one counter."""

    type: str
    seq: int
    now: int
    counter: CounterInfo
    ticket: ServingTicket | None
    preview: Preview
    stats: DayStats
    waiting: list[ListedTicket]
    no_shows: list[ListedTicket]
    all_categories: list[CategoryEnabled]
    all_counters: list[CounterBrief]
    rating_scale: int


# -- the board ---------------------------------------------------------------------------------------------
class BoardSite(TypedDict):
    id: str
    name: str
    name_en: str
    timezone: str


class BoardCounter(TypedDict):
    counter: int
    name: str
    status: CounterStatus
    number: str | None
    category: str | None
    category_name: str | None
    category_name_en: str | None
    called_at: int | None


class BoardWaiting(TypedDict):
    category: str
    prefix: str
    name: str
    name_en: str
    count: int
    eta_minutes: int
    eta_range: list[int] | None


class Voice(TypedDict):
    muted: bool
    volume: int
    reading: Literal["digits", "natural"]
    template: str


class RecentCall(TypedDict):
    """A call on the board, with the words it shows and says."""

    type: str
    number: str
    counter: int
    category: str
    category_name: str
    category_name_en: str
    ts: int
    seq: NotRequired[int]
    text: NotRequired[str]
    speech: NotRequired[str]


class Room(TypedDict):
    """The waiting room's state: who sits there now and the prediction over [room] horizon_minutes."""

    seats: int
    present: int
    """Waiting tickets in the room now (not those sent away until their come-back time)."""
    taken: int
    """Seats taken: present, at most the seats."""
    away: int
    predicted: int
    """The most people predicted in the room over the horizon."""
    arrivals_per_hour: float
    calls_per_hour: float
    threshold: int
    full: bool
    """New tickets say "come back at about HH:MM"."""
    text: str
    """The board's line when full, e.g. "Phòng chờ đã đủ chỗ – mời quay lại theo giờ trên phiếu"."""
    text_en: str


class PhoneGiven(TypedDict):
    ticket: str
    phone: str
    """Masked, e.g. "0912 *** 678"."""
    notice: Literal["pending"]


class Board(TypedDict):
    """The board's snapshot (the websocket sends the same first)."""

    type: str
    seq: int
    now: int
    site: BoardSite
    counters: list[BoardCounter]
    recent: list[RecentCall]
    """The latest calls, newest first."""
    waiting: list[BoardWaiting]
    waiting_total: int
    seats: int
    full: bool
    room: NotRequired[Room]
    """The waiting room (domain/room.py)."""
    notice: str
    voice: Voice


# -- printing ---------------------------------------------------------------------------------------------
class NotPrinted(TypedDict):
    """A first print dropped unprinted: too old, or the ticket no longer waiting."""

    ticket: str
    number: str
    reason: str
    at: int


class PrinterStatus(TypedDict):
    status: PrinterState
    ok: bool
    agent_connected: bool
    message: str
    detail: str
    updated_at: int | None
    seen_at: int | None
    pending_jobs: int
    not_printed: list[NotPrinted]
    """The latest, newest first."""


class TicketPrint(TypedDict):
    state: Literal["queued", "printed", "not_printed", "none"]
    attempts: int | None
    error: str
    reason: NotRequired[str]
    printer: PrinterStatus


class Reprint(TypedDict):
    ticket: str
    number: str
    job: str | None
    queued: bool
    printer: PrinterStatus


# -- staff and devices ---------------------------------------------------------------------------------------
class User(TypedDict):
    username: str
    role: Role
    counters: list[int]
    display_name: str
    disabled: bool


class Device(TypedDict):
    id: str
    name: str
    kind: DeviceKind
    created_at: int
    revoked: bool
    counter: int | None


class ListedDevice(Device):
    last_seen_at: int | None
    state: Literal["online", "offline", "never", "revoked"]


class LoggedIn(TypedDict):
    user: User
    csrf_token: str


class Me(TypedDict, total=False):
    """A logged-in user (with the CSRF token), or the device behind a token."""

    user: User
    csrf_token: str
    device: Device


class UserReply(TypedDict):
    user: User


class Users(TypedDict):
    users: list[User]


class Devices(TypedDict):
    devices: list[ListedDevice]


class CreatedDevice(TypedDict):
    device: Device
    token: str
    """Shown once."""


class PairedDevice(TypedDict):
    device: Device


# -- display -----------------------------------------------------------------------------------------------
class DisplaySettings(TypedDict):
    notice: str
    voice: Voice
    offline_voice: bool


class Pairing(TypedDict):
    code: str
    poll_id: str
    expires_in: int


class PairingState(TypedDict):
    status: Literal["waiting", "paired"]
    token: NotRequired[str]
    """Once, when an admin paired the display."""


# -- admin ----------------------------------------------------------------------------------------------------
class SiteConfigSections(TypedDict):
    site: dict[str, Any]
    hours: dict[str, Any]
    queue: dict[str, Any]
    categories: list[dict[str, Any]]
    counters: list[dict[str, Any]]


class ConfigReply(TypedDict):
    config: SiteConfigSections
    sections: NotRequired[list[str]]


class Holiday(TypedDict):
    date: str
    name: str
    weekday: int
    closed: bool


class Holidays(TypedDict):
    year: int
    public_holidays: bool
    holidays: list[Holiday]
    closures: list[str]
    extra_open_days: list[str]


class AuditEntry(TypedDict):
    id: str
    ts: int
    actor: str
    action: str
    target: str
    detail: dict[str, Any]


class Audit(TypedDict):
    entries: list[AuditEntry]


class SupervisorCategory(TypedDict):
    category: str
    prefix: str
    name: str
    name_en: str
    enabled: bool
    count: int
    """Waiting now (priority included)."""
    priority: int
    oldest_since: int | None
    """When the longest-waiting ticket joined its queue (epoch ms)."""
    oldest_wait_ms: int | None
    target_ms: int
    eta_minutes: int
    """A new ticket's estimated wait."""
    eta_range: list[int] | None
    issued_today: int
    avg_service_ms: int | None


class SupervisorCounter(TypedDict):
    counter: int
    name: str
    status: Literal["open", "paused", "closed"]
    since: int | None
    """When it last changed between open and paused (epoch ms)."""
    clerk: str | None
    number: str | None
    category: str | None
    called_at: int | None
    service_ms: int | None
    """How long the current citizen has been served."""
    direct_count: int
    categories: list[str]
    served: int
    no_shows: int
    calls: int
    avg_service_ms: int | None


class SupervisorAlert(TypedDict):
    """`wait`: a category's longest wait is past its target; `seats`: the
    waiting fill the seats; `paused`: a counter paused for too long."""

    kind: Literal["wait", "seats", "paused"]
    category: NotRequired[str]
    wait_ms: NotRequired[int]
    target_ms: NotRequired[int]
    waiting: NotRequired[int]
    seats: NotRequired[int]
    counter: NotRequired[int]
    paused_ms: NotRequired[int]
    limit_ms: NotRequired[int]


class SupervisorToday(TypedDict):
    issued: int
    served: int
    no_shows: int
    calls: int
    avg_service_ms: int | None
    waiting: int
    counters_open: int
    counters_paused: int


class SupervisorSite(TypedDict):
    name: str
    name_en: str
    timezone: str


class SupervisorSnapshot(TypedDict):
    """The supervisor view: queues, counters, today's figures and alerts."""

    type: Literal["snapshot"]
    seq: int
    now: int
    site: SupervisorSite
    seats: int
    waiting_total: int
    full: bool
    pause_alert_ms: int
    categories: list[SupervisorCategory]
    counters: list[SupervisorCounter]
    today: SupervisorToday
    alerts: list[SupervisorAlert]


# -- operations (issue 14) ----------------------------------------------------------------------------
class ReadyCheck(TypedDict):
    ok: bool
    required: bool
    """Whether a failure of this check makes /readyz 503."""
    reason: str
    reason_en: str


class ReadyChecks(TypedDict):
    redis: ReadyCheck
    aof: ReadyCheck
    disk: ReadyCheck
    worker: ReadyCheck
    printer: ReadyCheck


class Readiness(TypedDict):
    status: Literal["ok"]
    checks: ReadyChecks


class BackupResult(TypedDict):
    at: str
    """ISO 8601 in the site's time zone."""
    file: str
    """The archive's path ('' when it failed)."""
    size: int
    ok: bool
    error: str


class BackupStatus(TypedDict):
    last: BackupResult | None
    keep_days: int
    dir: str
