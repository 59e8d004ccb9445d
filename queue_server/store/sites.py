"""The deployment's registry of sites (domain/sites.py) in Redis: a HASH
under the default site's tag, site id -> its JSON entry."""

from __future__ import annotations

import json
import time

from redis.asyncio import Redis

from queue_server.domain.sites import SiteEntry
from queue_server.store.keys import Keys
from queue_server.store.scripts import Scripts


class SiteRegistry:
    def __init__(self, redis: Redis, keys: Keys, scripts: Scripts):
        """`keys`: the default site's (the registry and its events live there)."""
        self._redis = redis
        self._keys = keys
        self._scripts = scripts

    async def list(self) -> list[SiteEntry]:
        raw = await self._redis.hgetall(self._keys.sites)
        return sorted((SiteEntry.from_dict(json.loads(v)) for v in raw.values()), key=lambda e: e.id)

    async def get(self, site_id: str) -> SiteEntry | None:
        raw = await self._redis.hget(self._keys.sites, site_id)
        return SiteEntry.from_dict(json.loads(raw)) if raw is not None else None

    async def add(self, entry: SiteEntry, actor: str) -> None:
        """Add `entry` once (AppError site_exists otherwise), with a site_add event."""
        await self._scripts.run(
            "add_site",
            [self._keys.events, self._keys.event_seq, self._keys.sites],
            {
                "now": int(time.time() * 1000),
                "channel": self._keys.channel,
                "id": entry.id,
                "entry": json.dumps(entry.to_dict(), ensure_ascii=False),
                "clerk": actor,
            },
            site=entry.id,
        )
