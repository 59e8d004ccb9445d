"""The schema version: data written before versions existed (version 1,
written here by hand) is migrated by `motcua migrate` and at `serve` start;
data newer than the code makes `serve` and `up` refuse to start."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from redis import Redis

from queue_server.redis_server import free_port
from queue_server.store import migrations
from queue_server.store.keys import Keys
from tests.helpers import test_config
from tests.server import write_toml


def motcua(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "queue_server.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


@pytest.fixture
def site(tmp_path):
    cfg = test_config()
    path = tmp_path / "site.toml"
    write_toml(cfg.to_dict(), path)
    return cfg, path


def write_version_1_site(url: str, cfg) -> Keys:
    """A site as the release before schema versions wrote it: config, a user,
    a ticket and its event, and no schema key."""
    keys = Keys(cfg.site.id)
    r = Redis.from_url(url, decode_responses=True)
    try:
        r.set(keys.config, json.dumps(cfg.to_dict(), ensure_ascii=False))
        r.hset(keys.users, "lan", json.dumps({"username": "lan", "role": "clerk", "counters": [1]}))
        r.hset(keys.tickets, "t1", json.dumps({"id": "t1", "number": "A001", "category": "HT"}))
        r.xadd(keys.events, {"type": "issue", "ticket": "t1", "number": "A001"})
        assert r.get(keys.schema_version) is None
    finally:
        r.close()
    return keys


def dump(url: str, keys: Keys) -> dict:
    r = Redis.from_url(url, decode_responses=True)
    try:
        return {
            "config": r.get(keys.config),
            "users": r.hgetall(keys.users),
            "tickets": r.hgetall(keys.tickets),
            "events": r.xrange(keys.events),
        }
    finally:
        r.close()


def version(url: str, keys: Keys) -> str | None:
    r = Redis.from_url(url, decode_responses=True)
    try:
        return r.get(keys.schema_version)
    finally:
        r.close()


def test_every_step_says_what_it_changes():
    assert sorted(migrations.MIGRATIONS) == list(range(1, migrations.CURRENT))
    for step in migrations.MIGRATIONS.values():
        assert step.__doc__ and len(step.__doc__.split()) >= 5


def test_migrate_brings_version_1_data_up_to_date(redis_url, site):
    cfg, path = site
    keys = write_version_1_site(redis_url, cfg)
    before = dump(redis_url, keys)
    r = motcua("migrate", "--redis-url", redis_url, "--config", str(path))
    assert r.returncode == 0, r.stderr
    assert f"migrated {cfg.site.id}: 1 → 2" in r.stdout
    assert version(redis_url, keys) == str(migrations.CURRENT)
    assert dump(redis_url, keys) == before  # the data itself is untouched by 1 -> 2
    # again: nothing to do
    r = motcua("migrate", "--redis-url", redis_url, "--config", str(path))
    assert r.returncode == 0 and "migrated" not in r.stdout and "up to date" in r.stdout


def test_serve_migrates_at_start(redis_url, site):
    cfg, path = site
    keys = write_version_1_site(redis_url, cfg)
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "queue_server.cli",
            "serve",
            "--redis-url",
            redis_url,
            "--config",
            str(path),
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import httpx

        from tests.e2e.test_health import _until

        assert _until(lambda: _healthy(httpx, port) or proc.poll() is not None, timeout=60)
        assert proc.poll() is None, "serve exited"
        assert version(redis_url, keys) == str(migrations.CURRENT)
    finally:
        proc.terminate()
        proc.wait(20)


def _healthy(httpx, port) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_serve_and_up_refuse_data_newer_than_the_code(redis_url, site, tmp_path):
    cfg, path = site
    keys = write_version_1_site(redis_url, cfg)
    r = Redis.from_url(redis_url)
    r.set(keys.schema_version, migrations.CURRENT + 1)
    r.close()
    before = dump(redis_url, keys)
    for command in (
        ["serve", "--redis-url", redis_url, "--config", str(path), "--port", str(free_port())],
        [
            "up",
            "--redis-url",
            redis_url,
            "--config",
            str(path),
            "--port",
            str(free_port()),
            "--data-dir",
            str(tmp_path / "var"),
            "--no-printer",
        ],
        ["migrate", "--redis-url", redis_url, "--config", str(path)],
    ):
        out = motcua(*command)
        assert out.returncode == 3, (command, out.stdout, out.stderr)
        assert f"lược đồ phiên bản {migrations.CURRENT + 1}" in out.stderr
        assert f"schema version {migrations.CURRENT + 1}, newer than the {migrations.CURRENT}" in out.stderr
    assert dump(redis_url, keys) == before
    assert version(redis_url, keys) == str(migrations.CURRENT + 1)
    assert not (tmp_path / "var" / "run.json").exists()


def test_a_fresh_site_is_stamped_and_a_busy_lock_is_respected(redis_url, site):
    cfg, path = site
    keys = Keys(cfg.site.id)
    r = motcua("migrate", "--redis-url", redis_url, "--config", str(path))
    assert r.returncode == 0 and "new, stamped" in r.stdout
    assert version(redis_url, keys) == str(migrations.CURRENT)
    other = test_config()
    okeys = write_version_1_site(redis_url, other)
    conn = Redis.from_url(redis_url)
    conn.set(okeys.migration_lock, "someone-else", px=60_000)
    conn.close()
    opath = path.with_name("other.toml")
    write_toml(other.to_dict(), opath)
    r = motcua("migrate", "--redis-url", redis_url, "--config", str(opath))
    assert r.returncode == 3 and "Another process is migrating" in r.stderr
    assert version(redis_url, okeys) is None


def test_processes_started_at_once_wait_for_the_one_migrating(redis_url):
    """Several API processes started together on version 1 data: the one
    holding the lock migrates; another waits for it instead of exiting
    (it failed `motcua serve` with exit 3 when two started at once)."""
    import asyncio

    from queue_server.store.connection import open_redis

    keys = write_version_1_site(redis_url, test_config())

    async def story() -> tuple[migrations.MigrationReport, migrations.MigrationReport]:
        redis = open_redis(redis_url, 4)
        try:
            await redis.set(keys.migration_lock, "first-process", px=60_000)
            waiting = asyncio.create_task(migrations.migrate(redis, keys, wait_s=10))
            await asyncio.sleep(0.5)
            assert not waiting.done()  # it waits while the lock is held
            with pytest.raises(migrations.MigrationBusy):  # no wait: the old answer
                await migrations.migrate(redis, keys)
            # the first process finishes: the version is current, its lock gone
            await redis.set(keys.schema_version, migrations.CURRENT)
            await redis.delete(keys.migration_lock)
            done_by_other = await asyncio.wait_for(waiting, 5)
            # a lock left without the version raised: the waiter takes the lock and migrates
            await redis.delete(keys.schema_version)
            await redis.set(keys.migration_lock, "crashed-process", px=60_000)
            second = asyncio.create_task(migrations.migrate(redis, keys, wait_s=10))
            await asyncio.sleep(0.5)
            await redis.delete(keys.migration_lock)
            return done_by_other, await asyncio.wait_for(second, 5)
        finally:
            await redis.aclose()

    done_by_other, migrated = asyncio.run(story())
    assert done_by_other.version == migrations.CURRENT and done_by_other.applied == []
    assert migrated.found == 1 and migrated.version == migrations.CURRENT and len(migrated.applied) == 1
    assert version(redis_url, keys) == str(migrations.CURRENT)
