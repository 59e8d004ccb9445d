"""RQ's Redis: the main one for a single commune, a separate plain one
(required) when the live state is on a Redis Cluster."""

from __future__ import annotations

import pytest

from queue_server.settings import Settings, rq_redis_url
from queue_server.store.connection import is_cluster_url


def test_one_redis_serves_rq_too():
    assert rq_redis_url("redis://127.0.0.1:6379/0", "") == "redis://127.0.0.1:6379/0"
    assert Settings(redis_url="redis://h:1/0").rq_redis_url == "redis://h:1/0"


def test_a_cluster_needs_a_plain_redis_for_rq():
    cluster = "redis+cluster://10.0.0.11:7000"
    assert is_cluster_url(cluster) and not is_cluster_url("redis://10.0.0.11:7000/0")
    with pytest.raises(ValueError, match="MOTCUA_RQ_REDIS_URL"):
        rq_redis_url(cluster, "")
    s = Settings(redis_url=cluster, rq_redis_url_setting="redis://10.0.0.20:6379/0")
    assert s.rq_redis_url == "redis://10.0.0.20:6379/0"


def test_the_environment_names_it(monkeypatch):
    monkeypatch.setenv("MOTCUA_REDIS_URL", "redis+cluster://10.0.0.11:7000")
    monkeypatch.setenv("MOTCUA_RQ_REDIS_URL", "redis://10.0.0.20:6379/0")
    assert Settings.from_env().rq_redis_url == "redis://10.0.0.20:6379/0"
    assert rq_redis_url("redis+cluster://10.0.0.11:7000") == "redis://10.0.0.20:6379/0"
