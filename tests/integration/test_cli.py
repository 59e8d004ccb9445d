"""The `motcua` command line against a real Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from tests.server import make_server


def motcua(*args, env=None, check=True):
    r = subprocess.run(
        [sys.executable, "-m", "queue_server.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )
    if check:
        assert r.returncode == 0, r.stdout + r.stderr
    return r


def test_help_for_every_verb():
    for verb in ("up", "serve", "worker", "printer-agent", "user", "device", "config", "test", "close-day"):
        r = motcua(verb, "--help")
        assert "usage: motcua" in r.stdout


def test_config_check_reports_fields():
    ok = motcua("config", "check")
    assert "OK:" in ok.stdout and "5 quầy" in ok.stdout
    bad = Path(tempfile.mkdtemp()) / "bad.toml"
    bad.write_text(
        '[site]\nid = "x"\nname = "X"\ntimezone = "Nowhere/City"\n[[categories]]\ncode = "HT"\nprefix = "AA"\nname = "Hộ tịch"\n'
        '[[counters]]\nnumber = 1\ncategories = ["HT", "QQ"]\n',
        "utf-8",
    )
    r = motcua("config", "check", "--config", str(bad), check=False)
    assert r.returncode == 2
    assert "site.timezone" in r.stderr and "categories[0].prefix" in r.stderr and "QQ" in r.stderr
    broken = bad.with_name("broken.toml")
    broken.write_text("[site\n")
    r = motcua("config", "check", "--config", str(broken), check=False)
    assert r.returncode == 2 and "TOML" in r.stderr


def test_user_and_device_commands_work_against_a_running_server(redis_url):
    srv = make_server(redis_url).start()
    try:
        env = {"REDIS_URL": redis_url, "MOTCUA_CONFIG": str(srv.config_path)}
        motcua("user", "add", "thu", "--role", "clerk", "--password", "mot-hai-ba-bon", "--counters", "2,3", env=env)
        r = httpx.post(srv.base_url + "/api/auth/login", json={"username": "thu", "password": "mot-hai-ba-bon"})
        assert r.status_code == 200 and r.json()["user"]["counters"] == [2, 3]
        weak = motcua("user", "add", "x1", "--role", "clerk", "--password", "123", env=env, check=False)
        assert weak.returncode == 2 and "ít nhất" in weak.stderr
        out = motcua("device", "add", "Kiosk sảnh", "--kind", "kiosk", env=env).stdout
        token = out.strip().splitlines()[-1]
        assert token.startswith("kiosk_")
        r = httpx.post(
            srv.base_url + "/api/tickets", json={"category": "HT"}, headers={"Authorization": f"Bearer {token}"}
        )
        assert r.status_code == 201
        device_id = out.split("id=")[1].split()[0]
        assert "Đã thu hồi" in motcua("device", "revoke", device_id, env=env).stdout
        r = httpx.post(
            srv.base_url + "/api/tickets", json={"category": "HT"}, headers={"Authorization": f"Bearer {token}"}
        )
        assert r.status_code == 401
        listing = motcua("device", "list", env=env).stdout
        assert "ĐÃ THU HỒI" in listing
        # the token is stored hashed, never in clear
        from redis import Redis

        raw = Redis.from_url(redis_url).hgetall(srv.keys.devices)
        assert all(token.encode() not in k + v for k, v in raw.items())
    finally:
        srv.close()


def test_up_warns_when_the_qr_code_points_at_localhost():
    from queue_server.local import public_url_warning

    warning = public_url_warning("http://localhost:8000", 8000)
    assert warning and "Địa chỉ công khai" in warning and "localhost:8000" in warning
    assert public_url_warning("http://127.0.0.1:8000/", 8000)
    assert public_url_warning("https://motcua.ngoclong.gov.vn", 8000) is None
    assert public_url_warning("http://192.168.1.20:8000", 8000) is None


def test_a_port_with_only_time_wait_sockets_is_free_a_listening_one_is_not():
    """Issue #13 item 13: `motcua up` right after Ctrl-C (uvicorn binds with SO_REUSEADDR too)."""
    import socket

    from queue_server.local import _port_free

    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    port = srv.getsockname()[1]
    assert not _port_free(port)  # someone listens: busy
    cli = socket.create_connection(("127.0.0.1", port))
    conn, _ = srv.accept()
    conn.close()  # the server side closes first: its end stays in TIME_WAIT
    cli.recv(1)
    cli.close()
    srv.close()
    assert _port_free(port)


def test_user_passwd_resets_a_forgotten_password_and_lifts_the_lockout(redis_url):
    srv = make_server(redis_url).start()
    try:
        env = {"REDIS_URL": redis_url, "MOTCUA_CONFIG": str(srv.config_path)}
        for _ in range(6):  # locked out after too many failures
            httpx.post(srv.base_url + "/api/auth/login", json={"username": "admin", "password": "sai-roi-nhe"})
        r = motcua("user", "passwd", "admin", "--password", "mat-khau-moi-9", env=env)
        assert "Đã đặt lại mật khẩu" in r.stdout
        r = httpx.post(srv.base_url + "/api/auth/login", json={"username": "admin", "password": "mat-khau-moi-9"})
        assert r.status_code == 200, r.text
        r = motcua("user", "passwd", "khong-co", "--password", "mat-khau-moi-9", env=env, check=False)
        assert r.returncode == 2 and "Không có người dùng" in r.stderr
        r = motcua("user", "passwd", "admin", "--password", "123", env=env, check=False)
        assert r.returncode == 2 and "ít nhất" in r.stderr
    finally:
        srv.close()


def test_the_default_public_url_follows_the_port(redis_url):
    import asyncio

    from queue_server.local import seed_site

    srv = make_server(redis_url)  # a fresh site, not started
    data = Path(tempfile.mkdtemp())
    seeded = asyncio.run(seed_site(redis_url, str(srv.config_path), data, port=8123))
    assert seeded["public_url"] == "http://localhost:8123"
    seeded = asyncio.run(seed_site(redis_url, str(srv.config_path), data, port=8000))
    assert seeded["public_url"] == "http://localhost:8000"


def test_readme_documents_password_recovery():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    assert "motcua user passwd NAME" in readme
