"""The configuration an API process keeps (ConfigStore.max_age_s): it is
read from Redis at most once per max_age_s, yet another process's change
reaches it through the site's `config` event at once, its own change is seen
by its very next read, and a read begun before an invalidation keeps
nothing. On the real Redis and the real broadcaster."""

from __future__ import annotations

import asyncio
import json
import time

from queue_server.live.broadcaster import Broadcaster
from queue_server.store.config_store import ConfigStore
from queue_server.store.keys import Keys
from queue_server.store.scripts import Scripts
from tests.helpers import make_store, run_sync, test_config


async def _until(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        assert time.monotonic() < deadline, "not seen in time"
        await asyncio.sleep(0.01)


def _renamed(cfg, name: str) -> dict:
    d = cfg.to_dict()
    d["site"]["name"] = name
    return d


def test_kept_configuration_follows_every_process_change(redis_url):
    async def go():
        s = await make_store(redis_url, test_config())
        seed = await s.config.get()
        keys = Keys(seed.site.id)
        a = ConfigStore(s.redis, keys, Scripts(s.redis), seed)  # two API processes' stores
        b = ConfigStore(s.redis, keys, Scripts(s.redis), seed)
        b.max_age_s = 60.0  # only an event can refresh it within the test
        caster = Broadcaster(s.redis, keys.channel)
        caster.add_listener(b.on_event)
        await caster.start()
        try:
            assert (await b.get()).site.name == seed.site.name
            commands = (await s.redis.info("commandstats")).get("cmdstat_get", {}).get("calls", 0)
            for _ in range(50):
                await b.get()
            after = (await s.redis.info("commandstats")).get("cmdstat_get", {}).get("calls", 0)
            assert after == commands, "a kept configuration is not read again"

            await a.put(_renamed(seed, "Phường Một"))  # another process's admin edit
            assert (await a.get()).site.name == "Phường Một"  # the writer reads its own change at once

            async def b_sees(name: str) -> bool:
                return (await b.get()).site.name == name

            await _until(lambda: b_sees("Phường Một"))  # through the config event, long before 60 s

            await b.put(_renamed(seed, "Phường Hai"))
            assert (await b.get()).site.name == "Phường Hai"

            # a read that began before an invalidation keeps nothing: the next get reads again
            real_get = s.redis.get

            async def slow_get(key):
                value = await real_get(key)
                b.on_event({"type": "config"})  # the event lands while the read is on its way back
                return value

            b._fresh_until = 0.0
            s.redis.get = slow_get
            try:
                await b.get()
            finally:
                s.redis.get = real_get
            # Redis changes with no event at all: only a store that kept nothing reads it
            await s.redis.set(keys.config, json.dumps(_renamed(seed, "Phường Ba"), ensure_ascii=False))
            b.on_event({"type": "tick"})  # not a change of the configuration
            assert (await b.get()).site.name == "Phường Ba"  # read again: nothing was kept from the racing read
            await s.redis.set(keys.config, json.dumps(_renamed(seed, "Phường Bốn"), ensure_ascii=False))
            assert (await b.get()).site.name == "Phường Ba"  # that read was kept: no event, no read

            caster.publish_local({"type": "resync"})  # a lost subscription: events may have been missed
            assert b._fresh_until == 0.0
        finally:
            await caster.stop()
            await s.redis.aclose()

    run_sync(go())
