"""Opening the Redis client every store of a process shares, and when a
command is sent again after Redis went away.

The retry rule (Redis killed, restarted, or the network blinked): a command
is sent again only when sending it twice cannot do anything twice.

- **Connecting and the health check are always retried**, with exponential
  backoff and jitter for at most `RETRY_SECONDS`: nothing of the command has
  reached a server yet. A command that is not repeatable is sent only on a
  connection that a live server has just answered, so a socket left over
  from a killed server is found and replaced before the command goes out: a
  socket the server closed is replaced, and one idle for more than
  `FRESH_SECONDS` answers a PING first.
- **Repeatable commands are retried** after a connection error even once sent:
  the reads in `REPEATABLE` (and SCRIPT LOAD/EXISTS, PING), and a Lua script
  run inside `repeatable()` - a mutation that carries an Idempotency-Key (its
  script replays the stored reply on a second run, see `_lib.lua` begin and
  idem_put) and the rate-limit counter (a lost reply counts one request twice
  at worst).
- **Every other command is sent once.** When its connection breaks after it
  was sent, nobody knows whether Redis ran it (a Lua mutation without a key, a
  GETDEL, an XADD, a MULTI with a write): it raises `OutcomeUnknown`, which the
  API answers with 503 like any lost connection; the caller decides. A reply
  that Redis refused the command (LOADING) is retried: it did not run.

The pub/sub connection is not retried here: the broadcaster sees the loss,
subscribes again and tells the boards to resync (live/broadcaster.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.client import Pipeline, PubSub
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import BusyLoadingError, RedisError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

T = TypeVar("T")

# How long one command keeps retrying while Redis does not answer, and the
# backoff between tries (doubling from RETRY_BASE up to RETRY_CAP, jittered).
RETRY_SECONDS = 3.0
RETRY_BASE = 0.05
RETRY_CAP = 0.5
# A connection that answered this recently, on a socket still open, is used
# without a PING before a command that is sent once.
FRESH_SECONDS = 1.0

# Commands that change nothing: safe to send again after a lost reply.
REPEATABLE = frozenset(
    (
        *"GET MGET EXISTS TYPE TTL PTTL STRLEN SCAN DBSIZE TIME PING ECHO INFO".split(),
        *"HGET HMGET HGETALL HEXISTS HLEN HKEYS HVALS HSCAN HSTRLEN".split(),
        *"ZCARD ZCOUNT ZSCORE ZMSCORE ZRANK ZREVRANK ZRANGE ZREVRANGE ZRANGEBYSCORE ZREVRANGEBYSCORE ZSCAN".split(),
        *"SMEMBERS SISMEMBER SMISMEMBER SCARD SSCAN LRANGE LLEN LINDEX".split(),
        *"XRANGE XREVRANGE XLEN XREAD XINFO".split(),
        "SCRIPT LOAD",
        "SCRIPT EXISTS",
        "CONFIG GET",
    )
)

_repeatable: ContextVar[bool] = ContextVar("motcua_repeatable", default=False)


@contextmanager
def repeatable() -> Iterator[None]:
    """Commands sent inside may be retried after a lost reply: the caller
    knows that running them twice does what running them once does."""
    token = _repeatable.set(True)
    try:
        yield
    finally:
        _repeatable.reset(token)


def is_repeatable(command_name: object) -> bool:
    return _repeatable.get() or str(command_name).upper() in REPEATABLE


class RedisStats:
    """Counts of this process's trouble with Redis, for `/metrics`: errors
    (every connection or timeout error a command met, retried or not) and
    reconnects (a command that went through after failing, a pub/sub
    subscription made again)."""

    def __init__(self) -> None:
        self.errors = 0
        self.reconnects = 0


# One per process: the counters of every client it opens.
STATS = RedisStats()


class OutcomeUnknown(RedisError):
    """The connection broke after a command that is not repeatable was sent:
    it may or may not have run, so it is not sent again."""


class BoundedRetry(Retry):
    """redis-py's Retry with a time budget instead of a count: exponential
    backoff with jitter until `seconds` have passed since the first try (a
    retry nested inside another, connect inside a command, shares nothing but
    ends by the same clock)."""

    def __init__(self, seconds: float = RETRY_SECONDS, base: float = RETRY_BASE, cap: float = RETRY_CAP):
        super().__init__(ExponentialWithJitterBackoff(base=base, cap=cap), retries=1_000_000)
        self.seconds = seconds

    async def call_with_retry(
        self,
        do: Callable[[], Awaitable[T]],
        fail: Callable[..., Any],
        is_retryable: Callable[[Exception], bool] | None = None,
        with_failure_count: bool = False,
    ) -> T:
        deadline = time.monotonic() + self.seconds
        failures = 0
        while True:
            try:
                result = await do()
                if failures:
                    STATS.reconnects += 1
                return result
            except self._supported_errors as error:
                STATS.errors += 1
                if is_retryable and not is_retryable(error):
                    raise
                failures += 1
                await (fail(error, failures) if with_failure_count else fail(error))
                pause = self._backoff.compute(failures)
                if time.monotonic() + pause > deadline:
                    raise error
                await asyncio.sleep(pause)


async def _fresh(conn: Any) -> None:
    """Make the next command go out on a connection that a live server has
    just answered: a socket the server closed (a killed or restarted Redis
    closes all of its sockets, and the reader sees the end at once) is
    replaced, and one idle for more than `FRESH_SECONDS` answers a PING first
    (connecting and the PING are retried). A connection in steady use costs
    no extra round trip."""
    reader = getattr(conn, "_reader", None)
    if reader is not None and (reader.at_eof() or reader.exception() is not None):
        await conn.disconnect(nowait=True)
    await conn.connect()
    # redis-py sets next_health_check to (last reply + interval); open_redis
    # sets the interval
    answered_at = conn.next_health_check - conn.health_check_interval
    if asyncio.get_running_loop().time() - answered_at > FRESH_SECONDS:
        conn.next_health_check = -1
        await conn.check_health()


async def _once(conn: Any, send: Callable[[], Awaitable[T]]) -> T:
    await _fresh(conn)
    try:
        return await send()
    except BusyLoadingError:
        raise  # refused while loading: it did not run, retry it
    except (RedisConnectionError, RedisTimeoutError) as e:
        STATS.errors += 1
        await conn.disconnect(nowait=True)
        raise OutcomeUnknown(f"connection lost after the command was sent: {e}") from e


class MotcuaPipeline(Pipeline):
    """A pipeline (or MULTI) is retried only when every command in it is repeatable."""

    async def _execute_transaction(self, connection: Any, commands: Any, raise_on_error: Any) -> Any:
        parent = super()._execute_transaction
        if all(is_repeatable(args[0]) for args, _ in commands):
            return await parent(connection, commands, raise_on_error)
        return await _once(connection, lambda: parent(connection, commands, raise_on_error))

    async def _execute_pipeline(self, connection: Any, commands: Any, raise_on_error: bool) -> Any:
        parent = super()._execute_pipeline
        if all(is_repeatable(args[0]) for args, _ in commands):
            return await parent(connection, commands, raise_on_error)
        return await _once(connection, lambda: parent(connection, commands, raise_on_error))


class SubscriptionPubSub(PubSub):
    """Pub/sub without silent reconnects: a lost subscription raises, so the
    broadcaster knows to subscribe again and have the boards resync."""

    async def _execute(self, conn: Any, command: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await command(*args, **kwargs)
        except (RedisConnectionError, RedisTimeoutError):
            await conn.disconnect(nowait=True)
            raise


class MotcuaRedis(Redis):
    """The async client with the retry rule of this module."""

    async def _send_command_parse_response(self, conn: Any, command_name: Any, *args: Any, **options: Any) -> Any:
        parent = super()._send_command_parse_response
        if is_repeatable(command_name):
            return await parent(conn, command_name, *args, **options)  # type: ignore[no-untyped-call]
        return await _once(conn, lambda: parent(conn, command_name, *args, **options))  # type: ignore[no-untyped-call]

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> MotcuaPipeline:
        return MotcuaPipeline(self.connection_pool, self.response_callbacks, transaction, shard_hint)

    def pubsub(self, **kwargs: Any) -> SubscriptionPubSub:
        return SubscriptionPubSub(self.connection_pool, event_dispatcher=self._event_dispatcher, **kwargs)


def open_redis(url: str, max_connections: int = 64) -> Redis:
    """An async client that returns str (decode_responses). A blocking pool:
    a burst of requests (1,000 displays reconnecting at once) waits for a
    free connection instead of failing with "Too many connections". Opening
    it does no I/O; the first command connects. Connection errors are retried
    by the rule in this module's docstring."""
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=10,
        health_check_interval=30,
        socket_keepalive=True,
        decode_responses=True,
        retry=BoundedRetry(),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
    )
    return MotcuaRedis.from_pool(pool)


# What a store raises when Redis cannot be reached: the API answers 503.
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (RedisConnectionError, RedisTimeoutError, OutcomeUnknown)


# The client answers str (decode_responses); redis-py's types say bytes | str.
def text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def text_map(mapping: Mapping[bytes | str, bytes | str]) -> dict[str, str]:
    return {text(k): text(v) for k, v in mapping.items()}


def entries(rows: list[tuple[Any, Any]] | None) -> list[tuple[str, dict[str, str]]]:
    """Stream entries (XRANGE and friends) as (id, fields)."""
    return [(text(sid), text_map(fields or {})) for sid, fields in rows or []]
