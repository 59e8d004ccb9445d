"""The live site configuration, kept in Redis so admin edits apply at once."""

from __future__ import annotations

import json
import time
from typing import Any

from redis.asyncio import Redis

from queue_server.domain.config import ConfigError, SiteConfig, parse_config
from queue_server.store.connection import text
from queue_server.store.keys import Keys
from queue_server.store.scripts import Scripts


class ConfigStore:
    def __init__(self, redis: Redis, keys: Keys, scripts: Scripts, seed: SiteConfig):
        self._redis = redis
        self._keys = keys
        self._scripts = scripts
        self._seed = seed
        self._cache: tuple[str, SiteConfig] | None = None
        # kept this long without asking Redis (0: asked on every get); dropped
        # by this store's own put and, through `on_event`, by every process's
        self.max_age_s = 0.0
        self._fresh_until = 0.0
        self._gen = 0  # moved on by every invalidation: a read begun before one keeps nothing

    @property
    def site_id(self) -> str:
        return self._keys.site

    async def ping(self) -> None:
        """Raises when Redis cannot be reached (the health check)."""
        await self._redis.ping()

    async def ensure(self) -> None:
        """Store the seed configuration unless the site already has one."""
        await self._redis.set(self._keys.config, json.dumps(self._seed.to_dict(), ensure_ascii=False), nx=True)

    def on_event(self, event: dict[str, Any] | None) -> None:
        """A broadcaster listener: a `config` event (any process's put), or the
        subscription stopping or starting again (events may have been missed),
        ends the kept configuration's freshness."""
        if event is None or event.get("type") in ("config", "resync"):
            self._invalidate()

    def _invalidate(self) -> None:
        self._gen += 1
        self._fresh_until = 0.0

    async def get(self) -> SiteConfig:
        if self._cache is not None and time.monotonic() < self._fresh_until:
            return self._cache[1]
        kept_from, gen = time.monotonic(), self._gen
        stored = await self._redis.get(self._keys.config)
        if stored is None:
            return self._seed
        raw = text(stored)
        if self._cache and self._cache[0] == raw:
            cfg = self._cache[1]
        else:
            try:
                cfg = parse_config(json.loads(raw))
            except (ConfigError, ValueError):
                cfg = self._seed  # a broken stored config never takes the desk down
            self._cache = (raw, cfg)
        if self.max_age_s > 0 and gen == self._gen:
            self._fresh_until = kept_from + self.max_age_s
        return cfg

    async def put(self, data: dict[str, Any], actor: str = "") -> SiteConfig:
        """Validate and store; raises ConfigError naming each bad field."""
        cfg = parse_config(data)
        if cfg.site.id != self._keys.site:
            data = {**data, "site": {**data.get("site", {}), "id": self._keys.site}}
            cfg = parse_config(data)
        await self._scripts.run(
            "emit_event",
            [self._keys.events, self._keys.event_seq, self._keys.config],
            {
                "now": int(time.time() * 1000),
                "channel": self._keys.channel,
                "event": {"type": "config", "clerk": actor},
                "value": json.dumps(cfg.to_dict(), ensure_ascii=False),
            },
        )
        self._invalidate()  # this process reads its own write at once
        return cfg
