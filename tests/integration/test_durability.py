"""An acknowledged ticket or call survives a crash of the Redis server
(AOF with appendfsync always, SIGKILL, restart on the same data)."""

from __future__ import annotations

import tempfile

from queue_server import redis_server
from queue_server.domain.model import TicketStatus
from tests.helpers import make_store, run_sync, test_config


def test_tickets_and_calls_survive_sigkill():
    data = tempfile.mkdtemp(prefix="motcua-crash-")
    proc = redis_server.start(data)
    cfg = test_config()
    try:

        async def before():
            s = await make_store(proc.url, cfg)
            issued = [(await s.issue("HT"))[0] for _ in range(3)]
            called = await s.call_next(1, idem="k1")
            await s.redis.aclose()
            return issued, called.ticket

        issued, called = run_sync(before())
        proc.kill()  # SIGKILL: no shutdown save, only the AOF remains
        proc = redis_server.start(data, port=proc.port)

        async def after():
            s = await make_store(proc.url, cfg)
            for t in issued:
                assert (await s.get_ticket(t.id)).number == t.number
            assert (await s.get_ticket(called.id)).status == TicketStatus.CALLED
            # the daily sequence continues: no number is issued twice
            t4, ahead = await s.issue("HT")
            assert t4.number == "A004" and ahead == 2
            # the idempotency record survived too: the retried press is a replay
            again = await s.call_next(1, idem="k1")
            assert again.replayed and again.ticket.id == called.id
            assert len(await s.redis.xrange(s.keys.events)) == 5
            await s.redis.aclose()

        run_sync(after())
    finally:
        proc.stop()


def test_server_runs_with_aof_always():
    data = tempfile.mkdtemp(prefix="motcua-aof-")
    proc = redis_server.start(data)
    try:
        from redis import Redis

        r = Redis.from_url(proc.url)
        assert r.config_get("appendonly")["appendonly"] == "yes"
        assert r.config_get("appendfsync")["appendfsync"] == "always"
        r.close()
    finally:
        proc.stop()
