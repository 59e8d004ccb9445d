"""`motcua up`: the whole system from one command, on the embedded server."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from queue_server.redis_server import free_port


def _path_without_redis() -> str:
    """PATH minus any directory holding redis-server, to force the pip-shipped Valkey."""
    dirs = [
        d
        for d in os.environ.get("PATH", "").split(os.pathsep)
        if d and not (Path(d) / "redis-server").exists() and not (Path(d) / "valkey-server").exists()
    ]
    return os.pathsep.join(dirs)


def test_up_starts_everything_and_stops_cleanly():
    data = Path(tempfile.mkdtemp(prefix="motcua-up-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "MOTCUA_REDIS_URL", "MOTCUA_CONFIG")}
    env["PATH"] = _path_without_redis()
    env["PYTHONUNBUFFERED"] = "1"
    assert shutil.which("redis-server", path=env["PATH"]) is None
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "queue_server.cli",
            "up",
            "--data-dir",
            str(data),
            "--port",
            str(port),
            "--host",
            "127.0.0.1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        # started as a shell's background job is (nohup, `&`): SIGINT ignored, yet Ctrl-C
        # (the SIGINT below) must still stop it and every child
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Ctrl-C" in line:
                break
        out = "".join(lines)
        assert "Ctrl-C" in out, out
        for label in ("Kiosk", "Bảng gọi số", "Quầy", "API docs"):
            assert label in out
        kiosk_token = re.search(r"/kiosk\?token=(\S+)", out).group(1)
        admin_password = re.search(r"admin / (\S+)", out).group(1)
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(base + "/healthz").json()["status"] == "ok"
        assert httpx.get(base + "/schema/openapi.json").status_code == 200
        # the shipped config enforces office hours: outside them the kiosk gets a clear 409
        r = httpx.post(
            base + "/api/tickets", json={"category": "HT"}, headers={"Authorization": f"Bearer {kiosk_token}"}
        )
        assert r.status_code in (201, 409), r.text
        if r.status_code == 409:
            assert r.json()["error"] == "site_closed" and "Ngoài giờ" in r.json()["message"]
        # an admin lifts the hours rule live, and a kiosk ticket comes out of the virtual printer
        admin = httpx.Client(base_url=base)
        login = admin.post("/api/auth/login", json={"username": "admin", "password": admin_password})
        assert login.status_code == 200
        admin.headers["X-CSRF-Token"] = login.json()["csrf_token"]
        r = admin.put("/api/admin/config", json={"hours": {"enforce": False}})
        assert r.status_code == 200, r.text
        r = httpx.post(
            base + "/api/tickets", json={"category": "HT"}, headers={"Authorization": f"Bearer {kiosk_token}"}
        )
        assert r.status_code == 201, r.text
        ticket = r.json()
        printed = data / "tickets" / f"{ticket['id']}.bin"
        deadline = time.monotonic() + 20
        while not printed.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert printed.exists(), (data / "logs" / "printer.log").read_text(errors="replace")[-2000:]
        assert printed.read_bytes().startswith(b"\x1b@")  # ESC @: a real ESC/POS job
        assert (data / "tickets" / f"{ticket['id']}.png").exists()
        # Redis keeps an append-only file in the data dir
        assert any((data / "redis").rglob("*.aof")) or any((data / "redis").rglob("appendonly*"))
        # the worker and the printer agent are running
        time.sleep(1)
        assert (data / "logs" / "worker.log").exists()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            rest, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            rest, _ = proc.communicate()
    assert proc.returncode == 0, "".join(lines) + rest
    # everything is stopped: the port is free again
    with httpx.Client() as c:
        try:
            c.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            raise AssertionError("API still answering after Ctrl-C")
        except httpx.HTTPError:
            pass
