"""Rate limits on public endpoints and kiosks, shared by every process."""

from __future__ import annotations

import math

from queue_server.settings import Settings
from queue_server.store.ratelimit import Budget, LocalFirst, RateLimiter, refusal


class Limits:
    def __init__(self, limiter: RateLimiter, settings: Settings):
        self.limiter = limiter
        self.settings = settings
        self.local = LocalFirst(limiter)

    async def address(self, address: str, bucket: str = "public", per_minute: int | None = None) -> None:
        """Rate limit by the client's address: the public pages' and APIs'
        limit unless `per_minute` is given. Raises AppError("rate_limited").
        Counted in this process and shared through Redis a few times a second
        (store/ratelimit.LocalFirst): no round trip of its own."""
        limit = self.settings.public_limit_per_minute if per_minute is None else per_minute
        wait_s = self.local.hit(bucket, address, limit)
        if wait_s:
            raise refusal(math.ceil(wait_s * 1000))

    async def kiosk(self, device_id: str) -> None:
        await self.limiter.check("issue", device_id, self.settings.kiosk_limit_per_minute)

    def kiosk_budget(self, device_id: str) -> Budget:
        """The kiosk's budget (the same bucket as `kiosk`), for the issue
        script to count in its own round trip."""
        return self.limiter.budget("issue", device_id, self.settings.kiosk_limit_per_minute)
