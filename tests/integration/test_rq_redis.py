"""RQ's Redis: the API's job queue and its view of the workers (/readyz) use
the plain Redis RQ runs on, the main one for a commune, its own beside a
Redis Cluster (the cluster pass of `motcua test`)."""

from __future__ import annotations

from redis import Redis as SyncRedis
from rq import Queue, Worker

from queue_server.adapters.jobs import QUEUE_NAME
from queue_server.bootstrap import build_services, build_stores
from queue_server.settings import Settings
from tests.helpers import run_sync, test_config


def test_the_workers_are_seen_on_rqs_redis(redis_url, tmp_path):
    settings = Settings.from_env(redis_url=redis_url, data_dir=tmp_path)
    conn = SyncRedis.from_url(settings.rq_redis_url)
    worker = Worker([Queue(QUEUE_NAME, connection=conn)], connection=conn, name=f"probe-{tmp_path.name}")
    worker.register_birth()
    try:

        async def beats():
            from queue_server.store.connection import open_redis

            redis = open_redis(redis_url)
            try:
                services = build_services(await build_stores(redis, test_config()), settings)
                assert services.tickets  # built on the live state's client
                return await services.health.probe.worker_heartbeats(QUEUE_NAME)
            finally:
                await redis.aclose()
                if services.health.probe.workers is not redis:
                    await services.health.probe.workers.aclose()

        assert worker.name in run_sync(beats())
    finally:
        worker.register_death()
        conn.close()
