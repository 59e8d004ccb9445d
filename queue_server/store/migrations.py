"""The layout version of a site's data in Redis, and the numbered steps that
bring older data up to date.

Each site keeps its version in ``Keys.schema_version``. A site with data but
no version was written before versions existed: version 1. A fresh site is
stamped with CURRENT at once. `MIGRATIONS[n]` takes a site from version n to
n + 1; each step is an async function of (redis, keys) whose docstring says
what it changes, and is safe to run again (a step cut short by a crash runs
again at the next start). The version is raised after each step, so a crash
between steps resumes where it stopped.

`motcua migrate` runs them; `motcua up` and `serve` run them at start, one
process at a time (a lock key), and refuse to start on data newer than CURRENT.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from redis.asyncio import Redis

from queue_server.store.keys import Keys

Step = Callable[[Redis, Keys], Awaitable[None]]


async def _v1_to_v2(redis: Redis, keys: Keys) -> None:
    """Version 2 only starts keeping the layout version: the data of a
    version 1 site is already in the version 2 layout, nothing else changes."""


# version n -> the step to n + 1
MIGRATIONS: dict[int, Step] = {1: _v1_to_v2}
CURRENT = max(MIGRATIONS) + 1
LOCK_TTL_MS = 10 * 60 * 1000


class SchemaTooNew(RuntimeError):
    """The data was written by a newer motcua: this code must not touch it."""

    def __init__(self, site: str, found: int, current: int):
        self.site, self.found, self.current = site, found, current
        super().__init__(
            f"Dữ liệu của đơn vị {site} có lược đồ phiên bản {found}, mới hơn phiên bản {current} mà bản motcua này "
            f"hiểu. Hãy cài bản motcua mới hơn (hoặc khôi phục bản sao lưu cũ); không khởi động để tránh hỏng dữ liệu.\n"
            f"The data of site {site} has schema version {found}, newer than the {current} this motcua "
            f"understands. Install a newer motcua (or restore an older backup); not starting, so nothing is damaged."
        )


class MigrationBusy(RuntimeError):
    def __init__(self, site: str):
        super().__init__(
            f"Một tiến trình khác đang nâng cấp dữ liệu của {site}; thử lại sau ít phút.\n"
            f"Another process is migrating the data of {site}; try again in a few minutes."
        )


@dataclass
class MigrationReport:
    site: str
    found: int  # the version before (CURRENT for a fresh site)
    version: int  # the version after
    applied: list[str] = field(default_factory=list)  # first line of each step's docstring
    fresh: bool = False


async def _has_data(redis: Redis, keys: Keys) -> bool:
    n: int = await redis.exists(keys.config, keys.users, keys.devices, keys.tickets, keys.events)
    return n > 0


async def stored_version(redis: Redis, keys: Keys) -> int | None:
    """The site's version: the stored one, 1 for data without one, None for no data."""
    raw = await redis.get(keys.schema_version)
    if raw is not None:
        return int(raw)
    return 1 if await _has_data(redis, keys) else None


async def check(redis: Redis, keys: Keys) -> int | None:
    """Raise SchemaTooNew for data newer than this code; else its version."""
    found = await stored_version(redis, keys)
    if found is not None and found > CURRENT:
        raise SchemaTooNew(keys.site, found, CURRENT)
    return found


async def migrate(redis: Redis, keys: Keys, wait_s: float = 0) -> MigrationReport:
    """Bring the site to CURRENT (stamp a fresh one). Refuses newer data.
    While another process holds the lock, wait up to `wait_s` for it to
    finish (several API processes started at once: one migrates, the others
    find the data up to date), then raise MigrationBusy."""
    deadline = time.monotonic() + wait_s
    while True:
        found = await check(redis, keys)
        if found is None:
            await redis.set(keys.schema_version, CURRENT, nx=True)
            return MigrationReport(keys.site, CURRENT, CURRENT, fresh=True)
        if found == CURRENT:
            return MigrationReport(keys.site, found, found)
        token = secrets.token_hex(8)
        if await redis.set(keys.migration_lock, token, nx=True, px=LOCK_TTL_MS):
            break
        if time.monotonic() >= deadline:
            raise MigrationBusy(keys.site)
        await asyncio.sleep(0.2)
    report = MigrationReport(keys.site, found, found)
    try:
        version = await stored_version(redis, keys) or found  # again, under the lock
        while version < CURRENT:
            step = MIGRATIONS[version]
            await step(redis, keys)
            version += 1
            await redis.set(keys.schema_version, version)
            report.applied.append(f"{version - 1} → {version}: {' '.join((step.__doc__ or '').split())}")
        report.version = version
    finally:
        if await redis.get(keys.migration_lock) == token:
            await redis.delete(keys.migration_lock)
    return report
