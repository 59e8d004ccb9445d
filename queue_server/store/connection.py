"""Opening the Redis client every store of a process shares."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError


def open_redis(url: str, max_connections: int = 64) -> Redis:
    """An async client that returns str (decode_responses). A blocking pool:
    a burst of requests (1,000 displays reconnecting at once) waits for a
    free connection instead of failing with "Too many connections". Opening
    it does no I/O; the first command connects."""
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=10,
        health_check_interval=30,
        socket_keepalive=True,
        decode_responses=True,
    )
    return Redis.from_pool(pool)


# What a store raises when Redis cannot be reached: the API answers 503.
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (RedisConnectionError, RedisTimeoutError)


# The client answers str (decode_responses); redis-py's types say bytes | str.
def text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def text_map(mapping: Mapping[bytes | str, bytes | str]) -> dict[str, str]:
    return {text(k): text(v) for k, v in mapping.items()}


def entries(rows: list[tuple[Any, Any]] | None) -> list[tuple[str, dict[str, str]]]:
    """Stream entries (XRANGE and friends) as (id, fields)."""
    return [(text(sid), text_map(fields or {})) for sid, fields in rows or []]
