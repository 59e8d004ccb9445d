"""A test server that offers online appointments every day (issue #10)."""

from __future__ import annotations

import tempfile
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


def tomorrow(days: int = 1) -> str:
    return (datetime.now(TZ).date() + timedelta(days=days)).isoformat()


def start_at(day: str, hhmm: str) -> str:
    """The ISO start of a slot, as the API gives it."""
    return f"{day}T{hhmm}:00+07:00"
