"""Everything a request needs, built once per process in the app's startup."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

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

    async def close(self) -> None:
        await self.broadcaster.stop()
        await self.redis.aclose()


async def build_services(settings: Settings, seed: SiteConfig | None = None) -> Services:
    seed = seed or load_toml(settings.config_path)
    redis = Redis.from_url(settings.redis_url, health_check_interval=30, socket_keepalive=True)
    keys = Keys(seed.site.id)
    scripts = Scripts(redis)
    config = ConfigStore(redis, keys, scripts, seed)
    await config.ensure()
    broadcaster = Broadcaster(redis, keys.channel)
    await broadcaster.start()
    return Services(
        settings=settings, redis=redis, keys=keys, scripts=scripts, config=config,
        queue=QueueStore(redis, keys, scripts, config), accounts=Accounts(redis, keys),
        limiter=RateLimiter(scripts, keys), broadcaster=broadcaster,
    )
