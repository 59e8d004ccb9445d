"""The waiting room: how many people it holds now and will hold over the
next minutes, and when a new citizen should come back instead of standing.

Pure: plain numbers in, plain data out; no Redis, no clock of its own.

The model (its assumptions, written down):

- the people in the room are the waiting tickets not yet called, less the
  ones sent away with a "come back at" time that has not come yet (they are
  out, at the market, at home);
- over the next `horizon` minutes people arrive at the current arrival rate
  (tickets issued per minute over the last RATE_WINDOW_MIN minutes) and
  leave the seats at the current service rate (the open counters, each
  taking the estimated service time of the people waiting: domain/eta.py);
- the predicted count is the peak of that straight line over the horizon
  (now, or the end of the horizon when arrivals outrun the counters);
- the room is full when the prediction exceeds the threshold (the seats,
  unless [room] threshold says otherwise): then a new ticket gets a
  "come back at about HH:MM" time, its predicted call time (now + its ETA,
  `shared_wait_minutes`) less a safe margin, rounded down to 5 minutes in
  the site's time zone. When that time is too close to be worth leaving
  for (less than MIN_AWAY_MIN from now), the citizen simply waits.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

RATE_WINDOW_MIN = 30  # arrivals are counted over this many recent minutes
ROUND_MIN = 5  # come-back times are rounded down to this many minutes
MIN_AWAY_MIN = 10  # a come-back time sooner than this is no reason to leave

COME_BACK_VI = "Vui lòng quay lại lúc khoảng {time}"
COME_BACK_EN = "Please come back at about {time}"
FULL_VI = "Phòng chờ đã đủ chỗ – mời quay lại theo giờ trên phiếu"
FULL_EN = "The waiting room is full – please come back at the time on your ticket"
NEAR_VI = "Sắp đến lượt bạn: còn {n} người"
NEAR_EN = "Your turn is near: {n} people before you"
NEXT_VI = "Sắp đến lượt bạn: bạn là người tiếp theo"
NEXT_EN = "Your turn is near: you are next"


@dataclass(frozen=True)
class RoomRules:
    """[room] of the site's TOML (the seats themselves: [site] seats, or
    [room] seats, which sets them)."""

    enabled: bool = True
    # people predicted in the room above which tickets say "come back at";
    # 0: the seats
    threshold: int = 0
    horizon_minutes: int = 15
    # the come-back time is this long before the predicted call
    margin_minutes: int = 10
    # the tracking page (and a notice) warns this many people before the turn
    warn_ahead: int = 3
    come_back_text: str = COME_BACK_VI
    come_back_text_en: str = COME_BACK_EN
    full_text: str = FULL_VI
    full_text_en: str = FULL_EN

    def limit(self, seats: int) -> int:
        return self.threshold if self.threshold > 0 else seats

    def come_back(self, hhmm: str, lang: str = "vi") -> str:
        text = self.come_back_text_en if lang == "en" else self.come_back_text
        return text.replace("{time}", hhmm)

    def full(self, lang: str = "vi") -> str:
        return self.full_text_en if lang == "en" else self.full_text


@dataclass(frozen=True)
class RoomState:
    seats: int
    present: int  # waiting tickets in the room now
    away: int  # waiting tickets sent away until their come-back time
    predicted: int  # the peak over the horizon
    arrivals_per_hour: float
    calls_per_hour: float
    limit: int  # the threshold in force
    full: bool  # predicted > limit: new tickets say "come back at"

    def to_dict(self) -> dict[str, object]:
        return {
            "seats": self.seats,
            "present": self.present,
            "taken": min(self.present, self.seats),
            "away": self.away,
            "predicted": self.predicted,
            "arrivals_per_hour": round(self.arrivals_per_hour, 1),
            "calls_per_hour": round(self.calls_per_hour, 1),
            "threshold": self.limit,
            "full": self.full,
        }


def arrivals_per_minute(issue_times_ms: Iterable[int], now_ms: int, window_min: int = RATE_WINDOW_MIN) -> float:
    """Tickets issued in the last `window_min` minutes, per minute."""
    since = now_ms - window_min * 60_000
    n = sum(1 for t in issue_times_ms if since < t <= now_ms)
    return n / window_min


def mean_service_ms(waiting: Mapping[str, int], service_ms: Mapping[str, float]) -> float:
    """The service time of the people waiting: each category's estimate
    (domain/eta.py) weighted by how many wait in it; the plain mean of the
    estimates when nobody waits."""
    total = sum(n for c, n in waiting.items() if n > 0 and c in service_ms)
    if total:
        return sum(service_ms[c] * n for c, n in waiting.items() if n > 0 and c in service_ms) / total
    return sum(service_ms.values()) / len(service_ms) if service_ms else 0.0


def calls_per_minute(open_counters: int, service_ms: float) -> float:
    """How many people the open counters call per minute, each service
    taking `service_ms`."""
    if open_counters <= 0 or service_ms <= 0:
        return 0.0
    return open_counters * 60_000 / service_ms


def predicted_in_room(present: int, arrivals: float, calls: float, horizon_min: int) -> int:
    """The most people in the room over the next `horizon_min` minutes:
    present + (arrivals - calls) * t at its peak for t in [0, horizon],
    never below zero, rounded up (a part of a person stands too)."""
    end = present + (arrivals - calls) * horizon_min
    return max(0, present, math.ceil(end - 1e-9))


def room_state(
    rules: RoomRules,
    seats: int,
    present: int,
    away: int,
    arrivals: float,
    calls: float,
) -> RoomState:
    predicted = predicted_in_room(present, arrivals, calls, rules.horizon_minutes)
    limit = rules.limit(seats)
    full = rules.enabled and limit > 0 and predicted > limit
    return RoomState(seats, present, away, predicted, arrivals * 60, calls * 60, limit, full)


def round_down(at: datetime, minutes: int = ROUND_MIN) -> datetime:
    """`at` (aware) rounded down to a multiple of `minutes` of its own clock."""
    return at.replace(minute=at.minute - at.minute % minutes, second=0, microsecond=0)


def come_back_at(now_ms: int, eta_minutes: int, margin_minutes: int, tz: ZoneInfo) -> datetime | None:
    """When a citizen whose ticket is predicted to be called in `eta_minutes`
    should be back: the call less the margin, rounded down to ROUND_MIN
    minutes in the site's time zone; None when that is less than
    MIN_AWAY_MIN minutes from now (she waits in the room)."""
    now = datetime.fromtimestamp(now_ms / 1000, UTC).astimezone(tz)
    back = round_down(now + timedelta(minutes=eta_minutes - margin_minutes))
    if back - now < timedelta(minutes=MIN_AWAY_MIN):
        return None
    return back


def turn_near(status: str, ahead: int, warn_ahead: int) -> bool:
    """A waiting ticket with at most `warn_ahead` people before it."""
    return status == "waiting" and warn_ahead > 0 and ahead <= warn_ahead


def near_text(ahead: int, lang: str = "vi") -> str:
    if ahead <= 0:
        return NEXT_EN if lang == "en" else NEXT_VI
    return (NEAR_EN if lang == "en" else NEAR_VI).format(n=ahead)


def notice_text(number: str, ahead: int, place: str, track_url: str, lang: str = "vi") -> str:
    """The one notice a citizen who gave her phone gets when her turn is near."""
    if lang == "en":
        return f"Number {number}: your turn is near ({ahead} before you) at {place}. Follow: {track_url}"
    return f"Số {number}: sắp đến lượt bạn (còn {ahead} người) tại {place}. Theo dõi: {track_url}"
