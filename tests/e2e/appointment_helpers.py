"""A test server that offers online appointments every day (issue #10)."""

from __future__ import annotations

import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from queue_server.domain.config import WEEKDAYS
from queue_server.redis_server import free_port
from tests.helpers import run_sync, test_config_dict
from tests.server import ServerHandle, seed_accounts, write_toml

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SESSIONS = ["07:30-11:30", "13:30-17:00"]


def appointment_server(redis_url: str, *, ht_capacity: int = 5, **appointments) -> ServerHandle:
    """Open every day (no holidays), HT bookable `ht_capacity` per slot, CT 2 with last_slot 15:00."""
    d = test_config_dict()
    for day in WEEKDAYS:
        d["hours"][day] = SESSIONS
    d["hours"]["public_holidays"] = False
    d["hours"]["closures"] = []
    d["appointments"] |= {"enabled": True, **appointments}
    for c in d["categories"]:
        if c["code"] == "HT":
            c["appointment_capacity"] = ht_capacity
        elif c["code"] == "CT":
            c |= {"appointment_capacity": 2, "last_slot": "15:00"}
    tmp = Path(tempfile.mkdtemp(prefix="motcua-site-"))
    path = tmp / "site.toml"
    write_toml(d, path)
    handle = ServerHandle(redis_url=redis_url, site_id=d["site"]["id"], config_path=path, port=free_port())
    handle.tokens = run_sync(seed_accounts(redis_url, handle.site_id))
    return handle


def sent_messages(admin, pred, timeout: float = 15) -> list[dict]:
    """The outbox messages (GET /api/admin/outbox, newest first) that match
    `pred`, once there is one: a booking's confirmation goes out right after
    its reply (api/routes/appointments.py), not before it."""
    deadline = time.monotonic() + timeout
    while True:
        found = [m for m in admin.get("/api/admin/outbox", params={"limit": 50}).json()["messages"] if pred(m)]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def tomorrow(days: int = 1) -> str:
    return (datetime.now(TZ).date() + timedelta(days=days)).isoformat()


def start_at(day: str, hhmm: str) -> str:
    """The ISO start of a slot, as the API gives it."""
    return f"{day}T{hhmm}:00+07:00"


def round_the_clock_server(redis_url: str, *, tweak=None) -> ServerHandle:
    """Open all day every day (no holidays), booking open up to the slot and
    check-in from 4 hours before it, HT bookable 5 per slot: some slot is
    always within the check-in window. `tweak(config_dict)` changes more."""
    d = test_config_dict()
    for day in WEEKDAYS:
        d["hours"][day] = ["00:00-23:59"]
    d["hours"] |= {"public_holidays": False, "closures": []}
    d["appointments"] |= {"enabled": True, "book_until_minutes": 0, "checkin_early_minutes": 240}
    for c in d["categories"]:
        if c["code"] == "HT":
            c["appointment_capacity"] = 5
    if tweak is not None:
        tweak(d)
    path = Path(tempfile.mkdtemp(prefix="motcua-site-")) / "site.toml"
    write_toml(d, path)
    handle = ServerHandle(redis_url=redis_url, site_id=d["site"]["id"], config_path=path, port=free_port())
    handle.tokens = run_sync(seed_accounts(redis_url, handle.site_id))
    return handle


def next_checkin_slot(client, days: int = 2, future_only: bool = False) -> str:
    """The start of an HT slot with a place left that begins within 3 hours
    (check-in is open from 4 hours before): today's, else tomorrow's."""
    now = datetime.now(TZ)
    for n in range(days):
        day = now.date() + timedelta(days=n)
        slots = client.get("/api/appointments/slots", params={"category": "HT", "date": day.isoformat()}).json()
        for s in slots["slots"]:
            ahead = (datetime.fromisoformat(s["start"]) - now).total_seconds()
            if s["available"] > 0 and ahead < 3 * 3600 and (ahead > 0 or not future_only):
                return s["start"]
    raise AssertionError("no slot within the check-in window")
