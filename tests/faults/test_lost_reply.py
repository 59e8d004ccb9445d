"""A reply lost after Redis ran the command (the connection drops between
the two): a mutation with an Idempotency-Key is sent again and replays its
first result; one without a key is not sent again (OutcomeUnknown, a 503),
so it never runs twice. A TCP proxy in front of the suite's Redis forwards
the next EVALSHA, lets Redis run it, and cuts the connection before the reply."""

from __future__ import annotations

import asyncio
import contextlib
import secrets

import pytest
from redis.asyncio.cluster import NodesManager

from queue_server.domain.config import parse_config
from queue_server.domain.model import TicketStatus
from queue_server.store.config_store import ConfigStore
from queue_server.store.connection import MotcuaCluster, OutcomeUnknown, is_cluster_url
from queue_server.store.keys import Keys
from queue_server.store.scripts import SCRIPT_NAMES, Scripts, source
from queue_server.store.tickets import TicketStore
from tests.helpers import make_store, test_config_dict


class CuttingProxy:
    """Forwards to Redis; `cut_next()` drops the reply of the next EVALSHA."""

    def __init__(self, port: int, group: list[CuttingProxy] | None = None):
        self.port = port
        self.group = group if group is not None else [self]  # armed together, one cut for all
        self.armed = False
        self.cuts = 0
        self.server: asyncio.Server | None = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        return f"redis://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/0"

    async def stop(self) -> None:
        if self.server:
            self.server.close()
            await self.server.wait_closed()

    def cut_next(self) -> None:
        for proxy in self.group:
            proxy.armed = True

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_r, up_w = await asyncio.open_connection("127.0.0.1", self.port)

        async def down() -> None:
            while data := await up_r.read(65536):
                writer.write(data)
                await writer.drain()

        pump = asyncio.create_task(down())
        try:
            while data := await reader.read(65536):
                if self.armed and b"EVALSHA" in data.upper():
                    for proxy in self.group:
                        proxy.armed = False
                    pump.cancel()  # the reply stays in Redis's socket
                    up_w.write(data)
                    await up_w.drain()
                    await asyncio.sleep(0.2)  # Redis runs the script
                    self.cuts += 1
                    break
                up_w.write(data)
                await up_w.drain()
        finally:
            pump.cancel()
            writer.transport.abort()
            up_w.transport.abort()
            with contextlib.suppress(BaseException):
                await pump


async def _cluster_store(cluster, cfg):
    """A store on the cluster with a cutting proxy in front of every node
    (the client is told each node's address through its proxy)."""
    group: list[CuttingProxy] = []
    remap = {}
    for node in cluster.nodes:
        group.append(CuttingProxy(node.port, group))
        remap[node.port] = int((await group[-1].start()).rsplit(":", 1)[1].split("/")[0])
    redis = MotcuaCluster(
        host="127.0.0.1",
        port=remap[cluster.nodes[0].port],
        address_remap=lambda address: (address[0], remap.get(address[1], address[1])),
        decode_responses=True,
        health_check_interval=30,
    )

    class ThroughProxies(NodesManager):
        """redis-py remaps the addresses of CLUSTER SLOTS, not of a MOVED reply."""

        __slots__ = ()

        async def move_slot(self, e):
            e.port = remap.get(e.port, e.port)
            await super().move_slot(e)

    redis.nodes_manager.__class__ = ThroughProxies
    keys = Keys(cfg.site.id)
    scripts = Scripts(redis)
    config = ConfigStore(redis, keys, scripts, cfg)
    await config.ensure()
    return TicketStore(redis, keys, scripts, config), group[0]


async def _with_proxy(redis_url: str, body, cluster=None) -> None:
    cfg = parse_config(test_config_dict(site_id=f"cut{secrets.token_hex(3)}"))
    if cluster is not None:
        store, proxy = await _cluster_store(cluster, cfg)
    else:
        proxy = CuttingProxy(int(redis_url.rsplit(":", 1)[1].split("/")[0]))
        store = await make_store(await proxy.start(), cfg)
    try:
        for name in SCRIPT_NAMES:  # loaded: the cut EVALSHA runs rather than answering NOSCRIPT
            await store.redis.script_load(source(name))
        await store.issue("CT")
        await body(store, proxy)
        assert sum(p.cuts for p in proxy.group) == 1
    finally:
        await store.redis.aclose()
        for p in proxy.group:
            await p.stop()


@pytest.fixture
def cluster(redis_url, request):
    """The local cluster when the suite runs on it (MOTCUA_TEST_CLUSTER=1), else None."""
    return request.getfixturevalue("redis_cluster") if is_cluster_url(redis_url) else None


def test_issue_with_a_key_is_sent_again_and_replays(redis_url, cluster):
    async def body(store, proxy):
        proxy.cut_next()
        ticket, _ = await store.issue("HT", idem="press-1", device="kiosk-1")
        assert ticket.number == "A001"
        again, _ = await store.issue("HT", idem="press-1", device="kiosk-1")
        assert again.id == ticket.id
        assert await store.redis.hlen(store.keys.tickets) == 2  # the CT warm-up and A001, once

    asyncio.run(_with_proxy(redis_url, body, cluster))


def test_call_without_a_key_is_not_sent_twice(redis_url, cluster):
    async def body(store, proxy):
        first, _ = await store.issue("HT")
        second, _ = await store.issue("HT")
        proxy.cut_next()
        with pytest.raises(OutcomeUnknown):
            await store.call_next(1, clerk="lan")
        # Redis ran it once: the first citizen is called, the second still waits
        assert (await store.get_ticket(first.id)).status == TicketStatus.CALLED
        assert (await store.get_ticket(second.id)).status == TicketStatus.WAITING

    asyncio.run(_with_proxy(redis_url, body, cluster))


def test_call_with_a_key_is_sent_again_and_calls_one_citizen(redis_url, cluster):
    async def body(store, proxy):
        first, _ = await store.issue("HT")
        second, _ = await store.issue("HT")
        proxy.cut_next()
        res = await store.call_next(1, clerk="lan", idem="next-1")
        assert res.ticket.id == first.id and res.replayed
        assert (await store.get_ticket(second.id)).status == TicketStatus.WAITING

    asyncio.run(_with_proxy(redis_url, body, cluster))
