"""Start the real API server (uvicorn, `motcua serve`) as a subprocess on a
free port, against the suite's Redis, with a fresh site."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from queue_server.domain.accounts import DeviceKind, Role
from queue_server.redis_server import free_port
from queue_server.store.accounts import Accounts
from queue_server.store.connection import open_redis, text
from queue_server.store.keys import Keys
from tests.helpers import run_sync, test_config_dict

PASSWORD = "mat-khau-123"
USERS = {  # username -> (role, counters)
    "admin": (Role.ADMIN, []),
    "sup": (Role.SUPERVISOR, []),
    "lan": (Role.CLERK, [1, 2]),
    "minh": (Role.CLERK, [3, 4]),
    "hoa": (Role.CLERK, [5]),
}


def _toml_value(v: Any) -> str:
    """A TOML value: JSON for scalars, arrays and inline tables ({k = v}) written out."""
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return json.dumps(v, ensure_ascii=False)


def write_toml(d: dict[str, Any], path: Path) -> None:
    """A tiny TOML writer for the config dict shape (tables and arrays of tables)."""
    lines: list[str] = []
    for section in ("site", "hours", "queue", "appointments"):
        if section not in d:
            continue
        lines.append(f"[{section}]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in d[section].items()]
    for section in ("categories", "counters"):
        for item in d[section]:
            lines.append(f"[[{section}]]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in item.items()]
    path.write_text("\n".join(lines) + "\n", "utf-8")


@dataclass
class ServerHandle:
    redis_url: str
    site_id: str
    config_path: Path
    port: int
    tokens: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen | None = None
    log_path: Path | None = None
    # every HTTP client handed out, closed when the server stops
    clients: list[httpx.Client] = field(default_factory=list, repr=False)
    # the server's own settings over the tests' (a bench: the kept configuration as deployed)
    env_overrides: dict[str, str] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def keys(self) -> Keys:
        return Keys(self.site_id)

    def start(self, timeout: float = 30) -> ServerHandle:
        env = (
            dict(
                os.environ,
                MOTCUA_REDIS_URL=self.redis_url,
                MOTCUA_CONFIG=str(self.config_path),
                MOTCUA_DATA_DIR=str(self.config_path.parent / "var"),
                PYTHONUNBUFFERED="1",
                MOTCUA_LOGIN_LIMIT="1000",
                MOTCUA_PUBLIC_LIMIT="100000",
                MOTCUA_KIOSK_LIMIT="100000",
                # tests change and reset the configuration straight in Redis between requests;
                # the kept configuration and its invalidation are tested on their own (test_config_cache.py)
                MOTCUA_CONFIG_MAX_AGE_S="0",
            )
            | self.env_overrides
        )
        self.log_path = self.config_path.with_suffix(f".{self.port}.log")
        with open(self.log_path, "ab") as log:  # the child keeps its own copy
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "queue_server.cli", "serve", "--port", str(self.port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(self.base_url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not start")

    def close(self) -> None:
        """Stop the server for good and close the HTTP clients it handed out
        (`stop` alone keeps them, for tests that restart the server)."""
        self.stop()
        self.close_clients()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:] if self.log_path else ""

    # -- clients ------------------------------------------------------------
    def client(self, **kw) -> httpx.Client:
        c = httpx.Client(base_url=self.base_url, timeout=10, **kw)
        self.clients.append(c)
        return c

    def close_clients(self) -> None:
        while self.clients:
            self.clients.pop().close()

    def device(self, kind: str) -> httpx.Client:
        return self.client(headers={"Authorization": f"Bearer {self.tokens[kind]}"})

    def login(self, username: str, password: str = PASSWORD) -> httpx.Client:
        c = self.client()
        r = c.post("/api/auth/login", json={"username": username, "password": password})
        assert r.status_code == 200, r.text
        c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        return c

    def reset(self) -> None:
        """Forget every ticket, call and event of the site; keep users, devices, config."""
        run_sync(reset_site(self.redis_url, self.site_id))


async def reset_site(redis_url: str, site_id: str) -> None:
    keys = Keys(site_id)
    keep = {keys.users, keys.devices, keys.config}
    r = open_redis(redis_url)  # a cluster too
    try:
        doomed = [k async for k in r.scan_iter(match=f"mc:{{{site_id}}}:*", count=1000) if text(k) not in keep]
        if doomed:
            await r.delete(*doomed)
        await r.delete(keys.config)
    finally:
        await r.aclose()


async def seed_accounts(redis_url: str, site_id: str) -> dict[str, str]:
    r = open_redis(redis_url)
    try:
        acc = Accounts(r, Keys(site_id))
        for name, (role, counters) in USERS.items():
            await acc.add_user(name, role, PASSWORD, counters)
        tokens = {}
        for kind in DeviceKind:
            _, tokens[kind.value] = await acc.add_device(
                f"test-{kind.value}", kind, 1 if kind == DeviceKind.RATING else None
            )
        return tokens
    finally:
        await r.aclose()


# a bench's server keeps the configuration as a deployed one does (the tests'
# server reads it on every request: the tests change it straight in Redis)
AS_DEPLOYED = {"MOTCUA_CONFIG_MAX_AGE_S": "1"}


def make_server(redis_url: str, **overrides: Any) -> ServerHandle:
    d = test_config_dict(**overrides)
    tmp = Path(tempfile.mkdtemp(prefix="motcua-site-"))
    path = tmp / "site.toml"
    write_toml(d, path)
    handle = ServerHandle(redis_url=redis_url, site_id=d["site"]["id"], config_path=path, port=free_port())
    handle.tokens = run_sync(seed_accounts(redis_url, handle.site_id))
    return handle
