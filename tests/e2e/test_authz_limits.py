"""Login rate limit shared by several API processes (atomic in Redis), and
the session's sliding idle expiry."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from redis.asyncio import Redis

from queue_server.domain.accounts import token_digest
from queue_server.redis_server import free_port
from tests.server import make_server, run_sync

LIMIT = 30


def _spawn(handle, port: int, log) -> subprocess.Popen:
    env = dict(
        os.environ,
        MOTCUA_REDIS_URL=handle.redis_url,
        MOTCUA_CONFIG=str(handle.config_path),
        PYTHONUNBUFFERED="1",
        MOTCUA_LOGIN_LIMIT=str(LIMIT),
    )
    return subprocess.Popen(
        [sys.executable, "-m", "queue_server.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )


def _wait_up(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, "server exited"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("server did not start")


def test_login_limit_holds_across_two_processes(redis_url):
    handle = make_server(redis_url)
    ports = [free_port(), free_port()]
    with open(handle.config_path.with_suffix(".limits.log"), "ab") as log:  # the children keep their copies
        procs = [_spawn(handle, p, log) for p in ports]
    try:
        for p, proc in zip(ports, procs, strict=False):
            _wait_up(p, proc)

        def attempt(i: int) -> int:
            port = ports[i % 2]
            r = httpx.post(
                f"http://127.0.0.1:{port}/api/auth/login",
                json={"username": f"khong-co-{i}", "password": "sai-mat-khau"},
                timeout=30,
            )
            if r.status_code == 429:
                assert r.json()["error"] == "rate_limited" and int(r.headers["Retry-After"]) >= 1
            return r.status_code

        with ThreadPoolExecutor(max_workers=24) as pool:
            codes = list(pool.map(attempt, range(2 * LIMIT + 20)))
        assert codes.count(401) == LIMIT, codes  # exactly the budget, not 39–50 of 30
        assert codes.count(429) == LIMIT + 20
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(10)
        log.close()


def test_session_idle_expiry_slides(live):
    lan = live.login("lan")
    sid = lan.cookies.get("motcua_session")
    key = live.keys.session(token_digest(sid))

    async def ttl(set_ms: int | None = None) -> int:
        r = Redis.from_url(live.redis_url)
        try:
            if set_ms is not None:
                await r.pexpire(key, set_ms)
            return int(await r.pttl(key))
        finally:
            await r.aclose()

    assert 29 * 60_000 < run_sync(ttl()) <= 30 * 60_000  # 30 minutes idle by default
    run_sync(ttl(5_000))
    assert lan.get("/api/auth/me").status_code == 200
    assert run_sync(ttl()) > 29 * 60_000  # activity slides the expiry
    run_sync(ttl(1))
    time.sleep(0.05)
    r = lan.get("/api/auth/me")
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"
