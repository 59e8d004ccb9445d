"""Pairing a display without typing its token: the TV shows a short code,
an admin types that code in the admin page, and the TV receives a new
display token, once.

A pairing lives `ttl` seconds. The code is what a person reads across the
room (6 digits); the poll id the TV checks with is unguessable, so knowing a
code lets nobody collect the token. A code is claimed at most once (GETDEL)
and the token is handed out at most once.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from redis.asyncio import Redis

from queue_server.store.keys import Keys

CODE_DIGITS = 6


@dataclass(frozen=True)
class Pairing:
    code: str
    poll_id: str
    expires_in: int


class Pairings:
    def __init__(self, redis: Redis, keys: Keys, ttl: int = 600):
        self.redis = redis
        self.keys = keys
        self.ttl = ttl

    async def start(self) -> Pairing:
        """A new pairing request with a code no other live request has."""
        poll_id = secrets.token_urlsafe(24)
        for _ in range(20):
            code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
            if await self.redis.set(self.keys.pairing_code(code), poll_id, nx=True, ex=self.ttl):
                await self.redis.set(self.keys.pairing(poll_id), json.dumps({"code": code}), ex=self.ttl)
                return Pairing(code, poll_id, self.ttl)
        raise RuntimeError("no free pairing code")  # a million codes, a handful of TVs

    async def claim(self, code: str) -> str | None:
        """The poll id of a live, unclaimed code; None if unknown, expired or
        already claimed."""
        raw = await self.redis.getdel(self.keys.pairing_code(code))
        return None if raw is None else str(raw)

    async def deliver(self, poll_id: str, token: str) -> bool:
        """Give the claimed request its token; False if it expired meanwhile."""
        body = json.dumps({"token": token})
        return bool(await self.redis.set(self.keys.pairing(poll_id), body, xx=True, ex=self.ttl))

    async def poll(self, poll_id: str) -> dict[str, str] | None:
        """{"status": "waiting"}, or {"status": "paired", "token": ...} once;
        None when unknown or expired."""
        key = self.keys.pairing(poll_id)
        raw = await self.redis.get(key)
        if raw is None:
            return None
        if "token" not in json.loads(raw):
            return {"status": "waiting"}
        raw = await self.redis.getdel(key)  # the token leaves exactly once
        if raw is None:
            return None
        return {"status": "paired", "token": json.loads(raw)["token"]}
