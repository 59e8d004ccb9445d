"""Everything a request needs, built once per process in the app's startup."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from litestar.connection import ASGIConnection
from redis.asyncio import BlockingConnectionPool, Redis

from queue_server import gcpolicy
from queue_server.api.http import client_ip
from queue_server.config import SiteConfig, load_toml
from queue_server.live import Broadcaster
from queue_server.security.accounts import Accounts
from queue_server.security.ratelimit import RateLimiter
from queue_server.settings import Settings
from queue_server.store.config_store import ConfigStore
from queue_server.store.keys import Keys
from queue_server.store.queue import QueueStore
from queue_server.store.scripts import Scripts


@dataclass
class Services:
    settings: Settings
    redis: Redis
    keys: Keys
    scripts: Scripts
    config: ConfigStore
    queue: QueueStore
    accounts: Accounts
    limiter: RateLimiter
    broadcaster: Broadcaster
    gc_task: asyncio.Task | None = None

    async def limit_address(self, conn: ASGIConnection, bucket: str = "public", per_minute: int | None = None) -> None:
        """Rate limit by the client's address (X-Forwarded-For when trusted):
        the public pages and APIs' limit unless `per_minute` is given."""
        limit = self.settings.public_limit_per_minute if per_minute is None else per_minute
        await self.limiter.check(bucket, client_ip(conn, self.settings.trust_proxy), limit)

    async def close(self) -> None:
        await gcpolicy.stop(self.gc_task)
        await self.broadcaster.stop()
        await self.redis.aclose()


async def build_services(settings: Settings, seed: SiteConfig | None = None) -> Services:
    seed = seed or load_toml(settings.config_path)
    # A blocking pool: a burst of requests (1,000 displays reconnecting at once)
    # waits for a free connection instead of failing with "Too many connections".
    pool = BlockingConnectionPool.from_url(settings.redis_url, max_connections=settings.redis_max_connections,
                                           timeout=10, health_check_interval=30, socket_keepalive=True)
    redis = Redis.from_pool(pool)
    keys = Keys(seed.site.id)
    scripts = Scripts(redis)
    config = ConfigStore(redis, keys, scripts, seed)
    await config.ensure()
    broadcaster = Broadcaster(redis, keys.channel)
    await broadcaster.start()
    gc_task = None
    if settings.gc_deferred:
        gc_task = gcpolicy.GcKeeper().start(lambda: broadcaster.last_event_at)
    return Services(
        settings=settings, redis=redis, keys=keys, scripts=scripts, config=config,
        queue=QueueStore(redis, keys, scripts, config), accounts=Accounts(redis, keys),
        limiter=RateLimiter(scripts, keys), broadcaster=broadcaster, gc_task=gc_task,
    )
