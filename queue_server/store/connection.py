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

**Redis Cluster** (a `redis+cluster://host:port` URL, any node of the
cluster): `MotcuaCluster`, redis-py's async cluster client with the same
rule. The cluster client would resend any command after a connection error
(it refreshes its map of the slots and tries again), so here its own retries
are off and one loop (`BoundedRetry`, `CLUSTER_RETRY_SECONDS`, long enough
for a replica to be promoted) resends a command only when it never went out
or it is repeatable; a command sent once on a node that then dies raises
`OutcomeUnknown`. A Lua script, and any other command sent once, is followed
on the same connection by `WAIT <replicas> <ms>` (README, "Redis Cluster"):
its reply is given only once a replica holds the write, so the replica a
failover promotes has every acknowledged ticket. The site's keys share one
slot (store/keys.py), so every script, pipeline and MULTI goes to one node.
Pub/sub: the scripts PUBLISH, which a cluster carries to every node, so the
broadcaster subscribes on any one node and on another when that one dies.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar, cast

from redis.asyncio import BlockingConnectionPool, ConnectionPool, Redis
from redis.asyncio.client import Pipeline, PubSub
from redis.asyncio.cluster import AbstractStrategy, ClusterPipeline, RedisCluster, TransactionStrategy
from redis.asyncio.connection import Connection
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff, NoBackoff
from redis.exceptions import (
    BusyLoadingError,
    ClusterDownError,
    ClusterError,
    ReadOnlyError,
    RedisClusterException,
    RedisError,
    SlotNotCoveredError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

T = TypeVar("T")

# How long one command keeps retrying while Redis does not answer, and the
# backoff between tries (doubling from RETRY_BASE up to RETRY_CAP, jittered).
RETRY_SECONDS = 3.0
RETRY_BASE = 0.05
RETRY_CAP = 0.5
# On a cluster: how long a command keeps retrying (a master killed: its
# replica is promoted after cluster-node-timeout and an election), and the
# WAIT after a write (replicas that must hold it, and how long to wait).
CLUSTER_RETRY_SECONDS = 10.0
CLUSTER_WAIT_REPLICAS = 1
CLUSTER_WAIT_MS = 500
# A master whose WAIT timed out (no live replica: a failover promoted it and
# its old master is not back) is not waited on for this long; its writes
# count as unreplicated meanwhile, instead of each one taking CLUSTER_WAIT_MS.
CLUSTER_UNREPLICATED_SECONDS = 10.0
CLUSTER_SCHEMES = ("redis+cluster://", "rediss+cluster://")
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


_volatile: ContextVar[bool] = ContextVar("motcua_volatile", default=False)


@contextmanager
def volatile() -> Iterator[None]:
    """Writes sent inside need no WAIT on a cluster: losing them in a
    failover costs nothing that matters (the rate-limit counters)."""
    token = _volatile.set(True)
    try:
        yield
    finally:
        _volatile.reset(token)


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
        # cluster: writes whose WAIT saw fewer replicas than asked (a master
        # without a live replica; such a write is lost if that master dies)
        self.unreplicated = 0


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


# -- Redis Cluster ----------------------------------------------------------

# While a command that is sent once is on the wire, and whether a WAIT follows it.
_send_once: ContextVar[bool] = ContextVar("motcua_send_once", default=False)
_durable: ContextVar[bool] = ContextVar("motcua_durable", default=False)

# What a cluster answers while it moves a slot or promotes a replica: the
# command did not run (or never left), so it may be sent again.
CLUSTER_RETRYABLE: tuple[type[Exception], ...] = (
    RedisConnectionError,
    RedisTimeoutError,
    ClusterDownError,
    ClusterError,
    TryAgainError,
    SlotNotCoveredError,
    ReadOnlyError,
)
SCRIPT_COMMANDS = frozenset(("EVALSHA", "EVAL", "FCALL"))


def is_cluster_url(url: str) -> bool:
    return url.startswith(CLUSTER_SCHEMES)


async def _ignore(error: Exception) -> None:
    return None


class ClusterNodeConnection(Connection):
    """One socket to one cluster node. A command sent once goes out on a
    connection a live node has just answered (`_fresh`); once it is out, a
    lost reply is `OutcomeUnknown` (the cluster client does not retry that).
    A durable command's reply is followed by WAIT on this same socket (WAIT
    counts the replicas that hold this connection's writes)."""

    _motcua_sent = False
    _motcua_wait = False
    # node address -> until when (monotonic) its WAIT is skipped; one dict
    # per client (MotcuaCluster makes a subclass of this class for itself)
    unreplicated_until: dict[str, float] = {}

    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        if not check_health:  # our PING from _fresh, redis-py's health check, or our WAIT
            return await super().send_packed_command(command, check_health)
        self._motcua_sent = False
        once = _send_once.get()
        self._motcua_wait = _durable.get() and self.unreplicated_until.get(self._node, 0) < time.monotonic()
        if _durable.get() and not self._motcua_wait:
            STATS.unreplicated += 1
        if once:
            await _fresh(self)
            self._motcua_sent = True
        try:
            await super().send_packed_command(command, check_health)
        except (RedisConnectionError, RedisTimeoutError) as e:
            if self._motcua_sent:
                self._motcua_sent = False
                raise self._unknown(e) from e
            raise

    async def read_response(self, *args: Any, **kwargs: Any) -> Any:
        try:
            reply = await super().read_response(*args, **kwargs)
            if self._motcua_wait:
                self._motcua_wait = False
                await super().send_packed_command(
                    self.pack_command("WAIT", CLUSTER_WAIT_REPLICAS, CLUSTER_WAIT_MS), check_health=False
                )
                acked = await super().read_response()
                if int(acked) < CLUSTER_WAIT_REPLICAS:
                    STATS.unreplicated += 1
                    self.unreplicated_until[self._node] = time.monotonic() + CLUSTER_UNREPLICATED_SECONDS
        except BusyLoadingError:
            raise  # refused while loading: it did not run, retry it
        except (RedisConnectionError, RedisTimeoutError) as e:
            if self._motcua_sent:
                self._motcua_sent = False
                raise self._unknown(e) from e
            raise
        return reply

    @property
    def _node(self) -> str:
        return f"{self.host}:{self.port}"

    def _unknown(self, e: Exception) -> OutcomeUnknown:
        STATS.errors += 1
        self._motcua_wait = False
        return OutcomeUnknown(f"connection lost after the command was sent: {e}")


class MotcuaClusterPipeline(ClusterPipeline):
    """A cluster pipeline (or MULTI: all its keys in the site's slot) is sent
    again after a connection error only when every command in it is
    repeatable or it never went out."""

    async def execute(self, raise_on_error: bool = True, allow_redirections: bool = True) -> list[Any]:
        queue = self._execution_strategy._command_queue  # type: ignore[attr-defined]
        queued = [(cmd.args, dict(cmd.kwargs)) for cmd in queue]
        once = not all(is_repeatable(args[0]) for args, _ in queued)
        parent = super().execute
        tries = 0

        client = self.cluster_client

        async def attempt() -> list[Any]:
            nonlocal tries
            if client._initialize:  # the slots map, which a MULTI needs to find its node
                await client.initialize()
            if tries:  # redis-py empties the pipeline after each try
                for args, kwargs in queued:
                    self.execute_command(*args, **dict(kwargs))
            tries += 1
            token = _send_once.set(once)
            try:
                return await parent(raise_on_error, allow_redirections)
            finally:
                _send_once.reset(token)

        assert isinstance(client, MotcuaCluster)
        return await client.budget.call_with_retry(attempt, _ignore)

    def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        """Queue a command. redis-py queues each command of a MULTI through
        asyncio.run in a thread of its own, to find its slot, and refreshes
        the slots map there when it is due: the connections it opens then
        belong to a loop that is gone. Here the slot is the first key's (the
        stores' MULTIs hold plain keyed commands and scripts with keys)."""
        strategy = self._execution_strategy
        name = str(args[0]).upper()
        first = 3 if name in SCRIPT_COMMANDS else 1
        if (
            not isinstance(strategy, TransactionStrategy)
            or strategy._watching
            or name in strategy.IMMEDIATE_EXECUTE_COMMANDS
            or len(args) <= first
            or (name in SCRIPT_COMMANDS and int(args[2]) == 0)
        ):
            return super().execute_command(*args, **kwargs)
        strategy._pipeline_slots.add(self.cluster_client.keyslot(args[first]))
        return AbstractStrategy.execute_command(strategy, *args, **kwargs)


class MotcuaCluster(RedisCluster):
    """redis-py's async cluster client with the retry rule of this module:
    its own retries are off (`retry=0`), one time-bounded loop here."""

    def __init__(self, *args: Any, retry_seconds: float = CLUSTER_RETRY_SECONDS, **kwargs: Any) -> None:
        kwargs["retry"] = Retry(NoBackoff(), 0)
        super().__init__(*args, **kwargs)
        self.budget = BoundedRetry(retry_seconds)
        self.budget.update_supported_errors(list(CLUSTER_RETRYABLE))  # type: ignore[arg-type]
        # redis-py takes no connection class for a cluster: the nodes share this dict
        connection_class = type("ClusterNodeConnection", (ClusterNodeConnection,), {"unreplicated_until": {}})
        self.connection_kwargs["connection_class"] = connection_class
        for node in self.startup_nodes:
            node.connection_class = connection_class

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        parent = super().execute_command
        return await self.budget.call_with_retry(lambda: parent(*args, **kwargs), _ignore)

    async def _execute_command(self, target_node: Any, *args: Any, **kwargs: Any) -> Any:
        # here, not in execute_command: the refresh of the slots map that
        # execute_command may do first is not the command
        name = str(args[0]).upper()
        once = not is_repeatable(name)
        t1 = _send_once.set(once)
        t2 = _durable.set((once or name in SCRIPT_COMMANDS) and not _volatile.get())
        try:
            return await super()._execute_command(target_node, *args, **kwargs)
        finally:
            _durable.reset(t2)
            _send_once.reset(t1)

    def pipeline(self, transaction: Any = None, shard_hint: Any = None) -> MotcuaClusterPipeline:
        if shard_hint:
            raise RedisClusterException("shard_hint is not supported on a cluster")
        return MotcuaClusterPipeline(self, transaction)  # type: ignore[abstract]

    _pubsubs = 0

    def pubsub(self, **kwargs: Any) -> SubscriptionPubSub:  # type: ignore[override]
        """A subscription on one node, each in turn of those the client
        knows: a script's PUBLISH reaches every node of a cluster. After a lost
        subscription the broadcaster asks again and gets the next node."""
        nodes = sorted(self.get_nodes(), key=lambda n: n.name)
        node = nodes[self._pubsubs % len(nodes)]
        self._pubsubs += 1
        conn_kwargs = {
            k: v
            for k, v in self.connection_kwargs.items()
            if k not in ("connection_class", "response_callbacks", "himport_registry", "max_connections")
        }
        pool = ConnectionPool(**{**conn_kwargs, "host": node.host, "port": node.port}, max_connections=1)
        return SubscriptionPubSub(pool, **kwargs)


def open_redis(url: str, max_connections: int = 64) -> Redis:
    """An async client that returns str (decode_responses). A blocking pool:
    a burst of requests (1,000 displays reconnecting at once) waits for a
    free connection instead of failing with "Too many connections". Opening
    it does no I/O; the first command connects. Connection errors are retried
    by the rule in this module's docstring.

    A `redis+cluster://host:port` URL opens a `MotcuaCluster` (any node; the
    client finds the others). It speaks the commands the stores use, and
    every store keeps a site's keys in one slot (store/keys.py), so the
    stores take it as they take a `Redis`."""
    if is_cluster_url(url):
        cluster = MotcuaCluster.from_url(
            url.replace("+cluster", "", 1),
            max_connections=max_connections,
            health_check_interval=30,
            socket_keepalive=True,
            socket_connect_timeout=2,
            decode_responses=True,
        )
        return cast(Redis, cluster)
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
# On a cluster also the answers of a cluster that is promoting a replica.
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    RedisConnectionError,
    RedisTimeoutError,
    OutcomeUnknown,
    *CLUSTER_RETRYABLE,
    RedisClusterException,
)


# The client answers str (decode_responses); redis-py's types say bytes | str.
def text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def text_map(mapping: Mapping[bytes | str, bytes | str]) -> dict[str, str]:
    return {text(k): text(v) for k, v in mapping.items()}


def entries(rows: list[tuple[Any, Any]] | None) -> list[tuple[str, dict[str, str]]]:
    """Stream entries (XRANGE and friends) as (id, fields)."""
    return [(text(sid), text_map(fields or {})) for sid, fields in rows or []]
