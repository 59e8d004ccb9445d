"""Command-line verbs build the site's stores only: no live subscription,
no change to the garbage-collection policy (those belong to the API)."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import tempfile
import threading

from redis import Redis

from queue_server import redis_server
from queue_server.domain.config import load_toml
from queue_server.store.keys import Keys


def _monitor(url: str, seen: list[str], ready: threading.Event, stop: threading.Event) -> None:
    with Redis.from_url(url, decode_responses=True) as r, r.monitor() as m:
        ready.set()
        for cmd in m.listen():
            seen.append(str(cmd.get("command", "")))
            if stop.is_set():
                return


def test_user_add_opens_no_subscription():
    proc = redis_server.start(tempfile.mkdtemp(prefix="motcua-cli-redis-"))
    try:
        seen: list[str] = []
        ready, stop = threading.Event(), threading.Event()
        t = threading.Thread(target=_monitor, args=(proc.url, seen, ready, stop), daemon=True)
        t.start()
        assert ready.wait(10)
        r = subprocess.run(
            [
                sys.executable,
                "-m",
                "queue_server.cli",
                "user",
                "add",
                "thu",
                "--role",
                "clerk",
                "--password",
                "mat-khau-thu-1",
                "--counters",
                "1",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "REDIS_URL": proc.url},
        )
        assert r.returncode == 0, r.stdout + r.stderr
        stop.set()
        with Redis.from_url(proc.url) as client:
            client.ping()  # one more command, so the monitor sees `stop`
            t.join(10)
            assert client.hexists(Keys(load_toml(None).site.id).users, "thu")
        commands = [c.split(" ")[0].upper() for c in seen]
        assert "HSET" in commands  # the user was written through this connection's server...
        assert not [c for c in commands if "SUBSCRIBE" in c], seen  # ...and nothing subscribed
    finally:
        proc.stop()


def test_user_add_leaves_the_gc_policy_alone(redis_url, monkeypatch):
    from queue_server.cli import main

    monkeypatch.setenv("REDIS_URL", redis_url)
    calls: list[tuple[int, ...]] = []
    real = gc.set_threshold
    monkeypatch.setattr(gc, "set_threshold", lambda *t: (calls.append(t), real(*t)))
    before = gc.isenabled(), gc.get_threshold()
    assert main(["user", "add", "tuan", "--role", "clerk", "--password", "mat-khau-tuan-1", "--counters", "2"]) == 0
    assert calls == [] and (gc.isenabled(), gc.get_threshold()) == before
