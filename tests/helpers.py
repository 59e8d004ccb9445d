"""Test helpers: a fresh site per test on the shared Redis server."""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import secrets
import subprocess
from typing import Any

from queue_server.domain.config import SiteConfig, load_toml, parse_config
from queue_server.store.config_store import ConfigStore
from queue_server.store.connection import open_redis
from queue_server.store.keys import Keys
from queue_server.store.scripts import Scripts
from queue_server.store.tickets import TicketStore


def test_config_dict(site_id: str | None = None, **overrides: Any) -> dict[str, Any]:
    """The shipped default, open around the clock, under a fresh site id."""
    d = copy.deepcopy(load_toml(None).to_dict())
    d["site"]["id"] = site_id or ("t-" + secrets.token_hex(4))
    d["hours"]["enforce"] = False
    d["queue"]["next_debounce_ms"] = 0
    for key, value in overrides.items():
        section, _, name = key.partition("__")
        d[section][name] = value
    return d


def test_config(site_id: str | None = None, **overrides: Any) -> SiteConfig:
    return parse_config(test_config_dict(site_id, **overrides))


def run_sync(coro):
    """asyncio.run, also from a test where Playwright's sync API already runs
    an event loop in this thread (then the coroutine runs in a helper thread)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


class Clock:
    """A settable clock in ms."""

    def __init__(self, start_ms: int = 1_764_000_000_000):
        self.now = start_ms

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms


async def make_store(redis_url: str, cfg: SiteConfig | None = None, clock=None) -> TicketStore:
    cfg = cfg or test_config()
    r = open_redis(redis_url)
    keys = Keys(cfg.site.id)
    scripts = Scripts(r)
    config = ConfigStore(r, keys, scripts, cfg)
    await config.ensure()
    kwargs = {"clock": clock} if clock else {}
    return TicketStore(r, keys, scripts, config, **kwargs)


def stop_process(proc: subprocess.Popen, grace_s: float = 10) -> None:
    """SIGTERM, `grace_s` to finish, then SIGKILL (the tests' and benches' servers, agents, workers)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


# these helpers are not tests, whatever their names say
test_config_dict.__test__ = False
test_config.__test__ = False


def make_slot(
    start_ms: int, *, capacity: int = 2, hour_budget: int = 10, minutes: int = 15, tz: str = "Asia/Ho_Chi_Minh"
):
    """A bookable appointment slot starting at `start_ms` (the domain computes
    real ones; store tests give the capacity directly)."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from queue_server.domain.slots import Slot

    start = datetime.fromtimestamp(start_ms / 1000, ZoneInfo(tz))
    return Slot(start, start + timedelta(minutes=minutes), capacity, hour_budget, True)


def appointment_store(s: TicketStore, clock=None):
    """The AppointmentStore of a TicketStore's site, on its client."""
    from queue_server.store.appointments import AppointmentStore

    kwargs = {"clock": clock} if clock else {}
    return AppointmentStore(s.redis, s.keys, s.scripts, **kwargs)
