"""The restore drill: tickets issued and called, a user and a device added;
`motcua backup`; the data dir wiped; `motcua restore` onto an empty one; the
same tickets, events, users and devices, and the next number continues.
Real redis-server processes and the real command line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pytest

from queue_server import redis_server
from queue_server.bootstrap import build_stores
from queue_server.domain.accounts import DeviceKind, Role
from queue_server.store.connection import open_redis
from tests.helpers import run_sync, test_config
from tests.server import write_toml


def motcua(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "queue_server.cli", *args],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, **(env or {})},
    )


async def _fill(url: str, cfg) -> None:
    redis = open_redis(url, max_connections=4)
    try:
        s = await build_stores(redis, cfg)
        for cat in ("HT", "HT", "HT", "CT"):
            await s.tickets.issue(cat)
        await s.tickets.call_next(1, clerk="lan")
        await s.accounts.add_user("lan", Role.CLERK, "mat-khau-123", [1, 2])
        await s.accounts.add_device("kiosk-sanh", DeviceKind.KIOSK)
    finally:
        await redis.aclose()


async def _state(url: str, cfg) -> dict:
    redis = open_redis(url, max_connections=4)
    try:
        s = await build_stores(redis, cfg)
        return {
            "tickets": await redis.hgetall(s.keys.tickets),
            "events": [e async for e in s.events.iter()],
            "users": [u.to_dict() for u in await s.accounts.list_users()],
            "devices": [d.public() for d in await s.accounts.list_devices()],
            "config": await redis.get(s.keys.config),
        }
    finally:
        await redis.aclose()


async def _issue_next(url: str, cfg) -> str:
    redis = open_redis(url, max_connections=4)
    try:
        s = await build_stores(redis, cfg)
        ticket, _ = await s.tickets.issue("HT")
        return ticket.number
    finally:
        await redis.aclose()


@pytest.fixture
def site(tmp_path):
    cfg = test_config()
    path = tmp_path / "site.toml"
    write_toml(cfg.to_dict(), path)
    return cfg, path


def test_restore_drill(tmp_path, site):
    cfg, config_path = site
    data = tmp_path / "var"
    proc = redis_server.start(data / "redis")
    try:
        run_sync(_fill(proc.url, cfg))
        (data / "archive" / cfg.site.id / "events").mkdir(parents=True)
        (data / "archive" / cfg.site.id / "events" / "2026-01-05.parquet").write_bytes(b"PAR1 fake")
        (data / "devices.json").write_text(json.dumps({"kiosk": "kiosk_tok"}))
        before = run_sync(_state(proc.url, cfg))
        out = tmp_path / "backups"
        r = motcua(
            "backup", "--to", str(out), "--redis-url", proc.url, "--data-dir", str(data), "--config", str(config_path)
        )
        assert r.returncode == 0, r.stderr
        files = list(out.glob(f"motcua-backup-{cfg.site.id}-*.tar.gz"))
        assert len(files) == 1 and str(files[0]) in r.stdout
        assert not list(out.glob(".*.tmp"))  # written under a temporary name, then renamed
        with tarfile.open(files[0]) as tar:
            names = set(tar.getnames())
            assert {"manifest.json", "redis/dump.rdb", "data/devices.json"} <= names
            assert f"archive/{cfg.site.id}/events/2026-01-05.parquet" in names
            manifest = json.loads(tar.extractfile("manifest.json").read())
            assert manifest["site"] == cfg.site.id and manifest["keys"] > 0
            assert (
                manifest["schema_versions"][cfg.site.id] == 1
            )  # filled through the stores, never started by up/serve: no version stamped yet
            devices = json.loads(tar.extractfile(f"sites/{cfg.site.id}/devices.json").read())
            assert "kiosk-sanh" in {d["name"] for d in devices}
            assert not any("tok" in json.dumps(d) for d in devices)
            assert json.loads(tar.extractfile(f"sites/{cfg.site.id}/config.json").read())["site"]["id"] == cfg.site.id
    finally:
        proc.stop()

    shutil.rmtree(data)  # the PC's disk died
    fresh = tmp_path / "new-var"
    r = motcua("restore", str(files[0]), "--data-dir", str(fresh))
    assert r.returncode == 0, r.stderr
    assert "Đã khôi phục" in r.stdout and "Restored" in r.stdout
    assert (fresh / "archive" / cfg.site.id / "events" / "2026-01-05.parquet").read_bytes() == b"PAR1 fake"
    assert json.loads((fresh / "devices.json").read_text()) == {"kiosk": "kiosk_tok"}

    # a normal start (AOF on) of the restored dir: the same data
    proc = redis_server.start(fresh / "redis")
    try:
        after = run_sync(_state(proc.url, cfg))
        assert after == before
        assert len(after["tickets"]) == 4 and after["users"] and len(after["devices"]) == 1
        assert any(e["type"] == "call" for e in after["events"])
        assert run_sync(_issue_next(proc.url, cfg)) == "A004"  # numbering continues
    finally:
        proc.stop()
    assert (fresh / "redis" / "appendonlydir").is_dir()  # the restored data lives in the AOF


def test_restore_refuses_a_live_data_dir(tmp_path, site):
    cfg, config_path = site
    data = tmp_path / "var"
    proc = redis_server.start(data / "redis")
    try:
        run_sync(_fill(proc.url, cfg))
        r = motcua("backup", "--to", str(tmp_path / "b"), "--redis-url", proc.url, "--data-dir", str(data))
        assert r.returncode == 0, r.stderr
        backup = next((tmp_path / "b").glob("*.tar.gz"))
        # a running motcua (its run.json) is refused, even with --force
        (data / "run.json").write_text(json.dumps({"redis_url": proc.url, "pid": os.getpid(), "port": 8000}))
        for extra in ((), ("--force",)):
            r = motcua("restore", str(backup), "--data-dir", str(data), *extra)
            assert r.returncode == 1
            assert "đang chạy" in r.stderr and "is running" in r.stderr
    finally:
        proc.stop()
    # stopped, but the data dir holds Redis data: refused without --force
    r = motcua("restore", str(backup), "--data-dir", str(data))
    assert r.returncode == 1
    assert "đã có dữ liệu Redis" in r.stderr and "already holds Redis data" in r.stderr and "--force" in r.stderr
    r = motcua("restore", str(backup), "--data-dir", str(data), "--force")
    assert r.returncode == 0, r.stderr
    assert list(data.glob("redis.before-restore-*"))  # the old data kept aside, not deleted


def test_restore_refuses_what_is_not_a_backup(tmp_path):
    bad = tmp_path / "x.tar.gz"
    bad.write_bytes(b"not a tar")
    r = motcua("restore", str(bad), "--data-dir", str(tmp_path / "var"))
    assert r.returncode == 1 and "Not a readable backup" in r.stderr
    r = motcua("restore", str(tmp_path / "missing.tar.gz"), "--data-dir", str(tmp_path / "var"))
    assert r.returncode == 1 and "not found" in r.stderr
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        p = Path(tempfile.mkdtemp()) / "f"
        p.write_text("x")
        tar.add(p, arcname="../../etc/evil")
    r = motcua("restore", str(evil), "--data-dir", str(tmp_path / "var"))
    assert r.returncode == 1 and "Bad entry" in r.stderr
