"""Running on one machine: find or start Redis, seed a fresh site, and
supervise the API, the worker and the virtual printer (`motcua up`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from queue_server import redis_server
from queue_server.bootstrap import Stores, build_stores
from queue_server.domain.config import load_toml
from queue_server.store.connection import open_redis
from queue_server.store.keys import Keys

DEFAULT_REDIS_PORT = 6390


def _ping(url: str) -> bool:
    from redis import Redis

    try:
        return bool(Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping())
    except Exception:
        return False


def _run_file(data_dir: Path) -> Path:
    return data_dir / "run.json"


def resolve_redis_url(explicit: str | None, data_dir: Path) -> str:
    """--redis-url, then $MOTCUA_REDIS_URL / $REDIS_URL, then the server a
    running `motcua up` recorded in the data dir."""
    url = explicit or os.environ.get("MOTCUA_REDIS_URL") or os.environ.get("REDIS_URL")
    if url:
        return url
    run = _run_file(data_dir)
    if run.exists():
        with contextlib.suppress(ValueError, OSError):
            url = json.loads(run.read_text())["redis_url"]
            if _ping(url):
                return url
    raise SystemExit(
        "Không tìm thấy Redis. Đặt REDIS_URL, hoặc chạy `motcua up` trước.\n"
        "No Redis found: set REDIS_URL or start `motcua up` first."
    )


@contextlib.asynccontextmanager
async def local_stores(explicit_url: str | None, data_dir: Path, config_path: str | None) -> AsyncIterator[Stores]:
    """The site's stores for a CLI command: no live subscription, no GC
    policy. With no Redis running, the embedded server is started on the
    data dir for the duration of the command."""
    temp = None
    try:
        url = resolve_redis_url(explicit_url, data_dir)
    except SystemExit:
        temp = redis_server.start(data_dir / "redis")
        url = temp.url
    async with _stores(url, config_path, data_dir) as stores:
        try:
            yield stores
        finally:
            if temp:
                temp.stop()


@contextlib.asynccontextmanager
async def _stores(url: str, config_path: str | None, data_dir: Path = Path("var")) -> AsyncIterator[Stores]:
    redis = open_redis(url, max_connections=4)
    try:
        yield await build_stores(redis, load_toml(config_path), data_dir=data_dir)
    finally:
        await redis.aclose()


# `up` and `serve` wait this long for another process's migration of the same
# data (several API processes started at once) before giving up with exit 3
STARTUP_MIGRATION_WAIT_S = 60.0


async def _migrate(url: str, site_ids: list[str], wait_s: float) -> list[Any]:
    from queue_server.store import migrations

    redis = open_redis(url, max_connections=2)
    try:
        return [await migrations.migrate(redis, Keys(site), wait_s=wait_s) for site in site_ids]
    finally:
        await redis.aclose()


async def _site_ids(url: str) -> list[str]:
    redis = open_redis(url, max_connections=2)
    try:
        found = {k[len("mc:{") : k.index("}:")] async for k in redis.scan_iter(match="mc:{*}:*", count=1000)}
        return sorted(found)
    finally:
        await redis.aclose()


def _say(text: str, error: bool = False) -> None:
    """A line for the terminal, or, with MOTCUA_LOG_JSON=true, a JSON log line
    like the API's (api/jsonlog.py), so the log stays one object per line."""
    from queue_server.settings import _env_bool

    stream = sys.stderr if error else sys.stdout
    if not _env_bool("MOTCUA_LOG_JSON", False):
        print(text, file=stream)
        return
    import logging

    from queue_server.api.jsonlog import JsonFormatter

    level = logging.ERROR if error else logging.INFO
    record = logging.LogRecord("motcua.migrations", level, __file__, 0, text, None, None)
    print(JsonFormatter().format(record), file=stream, flush=True)


def prepare_schema(
    url: str, config_path: str | None, all_sites: bool = False, quiet: bool = False, wait_s: float = 0
) -> int:
    """Check the data's schema version and run the migrations it needs
    (store/migrations.py), for the configured site (or every site in Redis).
    0 when the data is ready; 3, with a clear message, when it is newer than
    this code or another process is still migrating it after `wait_s`."""
    from queue_server.store.migrations import MigrationBusy, SchemaTooNew

    sites = {load_toml(config_path).site.id}
    if all_sites:
        sites |= set(asyncio.run(_site_ids(url)))
    try:
        reports = asyncio.run(_migrate(url, sorted(sites), wait_s))
    except (SchemaTooNew, MigrationBusy) as e:
        _say(str(e), error=True)
        return 3
    for r in reports:
        for line in r.applied:
            _say(f"Nâng cấp dữ liệu / migrated {r.site}: {line}")
        if not quiet and not r.applied:
            state = "mới, đã ghi phiên bản / new, stamped" if r.fresh else "đã cập nhật / up to date"
            _say(f"{r.site}: lược đồ / schema v{r.version} ({state})")
    return 0


def _port_free(port: int) -> bool:
    """Whether nothing listens on the port. Binds as uvicorn and redis-server
    do, with SO_REUSEADDR: the TIME_WAIT connections a server leaves for a
    minute after Ctrl-C do not make the port busy; a listening socket does."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")


def _local_url_on(public_url: str, port: int) -> str | None:
    """A localhost public_url moved to `port` (None if it is not a localhost
    URL or already on that port): the default follows `motcua up --port`."""
    scheme, _, rest = public_url.partition("://")
    hostport, slash, path = rest.partition("/")
    host, _, old_port = hostport.rpartition(":") if hostport.count(":") == 1 else (hostport, "", "")
    if host not in LOCAL_HOSTS or old_port == str(port) or scheme != "http":
        return None
    return f"http://{host}:{port}" + (slash + path if path else "")


async def seed_site(url: str, config_path: str | None, data_dir: Path, port: int | None = None) -> dict[str, Any]:
    """First run: an admin account and one device of each kind. Device tokens
    are kept in data_dir/devices.json (mode 600) so `up` can print the URLs
    again; the admin password is printed once. A public_url still pointing at
    localhost follows `port` (the ticket QR codes open on this machine at least)."""
    from queue_server.domain.accounts import DeviceKind, Role

    out: dict[str, Any] = {"admin_password": None}
    async with _stores(url, config_path) as svc:
        if not await svc.accounts.has_users():
            password = secrets.token_urlsafe(9)
            await svc.accounts.add_user("admin", Role.ADMIN, password, display_name="Quản trị")
            out["admin_password"] = password
        path = data_dir / "devices.json"
        tokens: dict[str, str] = {}
        if path.exists():
            with contextlib.suppress(ValueError):
                tokens = json.loads(path.read_text())
        for kind in (DeviceKind.KIOSK, DeviceKind.DISPLAY, DeviceKind.PRINTER, DeviceKind.RATING):
            tok = tokens.get(kind.value)
            if tok and await svc.accounts.device_for_token(tok):
                continue
            counter = 1 if kind == DeviceKind.RATING else None
            _, tokens[kind.value] = await svc.accounts.add_device(f"local-{kind.value}", kind, counter)
        path.write_text(json.dumps(tokens, indent=2))
        os.chmod(path, 0o600)
        out["tokens"] = tokens
        cfg = await svc.config.get()
        moved = _local_url_on(cfg.site.public_url, port) if port else None
        if moved:
            d = cfg.to_dict()
            d["site"]["public_url"] = moved
            cfg = await svc.config.put(d, actor="motcua up")
        out["site_name"] = cfg.site.name
        out["public_url"] = cfg.site.public_url
    return out


class Child:
    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_dir: Path):
        self.name, self.argv, self.env, self.log_dir = name, argv, env, log_dir
        self.proc: subprocess.Popen | None = None
        self.restarts = 0

    def start(self) -> None:
        log = open(self.log_dir / f"{self.name}.log", "ab")
        self.proc = subprocess.Popen(
            self.argv,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    def interrupt(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)

    def finish(self, deadline: float) -> None:
        """Wait for the interrupted process until `deadline` (monotonic), then kill it."""
        if self.proc and self.proc.poll() is None:
            try:
                self.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def stop_all(children: list[Child], grace_s: float = 8.0) -> None:
    """Interrupt every child at once, then wait for them all within one grace
    period: stopping one after the other let a slow one (the worker finishing
    a job on SIGINT) add its 8 s to everyone's, past 30 s in all."""
    for c in children:
        c.interrupt()
    deadline = time.monotonic() + grace_s
    for c in children:
        c.finish(deadline)


def _wait_http(url: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return True
        time.sleep(0.2)
    return False


def run_up(args) -> int:
    data_dir = Path(args.data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "logs").mkdir(exist_ok=True)
    if args.config:
        load_toml(args.config)  # fail early, with the field-by-field errors
    config_path = str(Path(args.config).resolve()) if args.config else None

    redis_proc = None
    url = args.redis_url or os.environ.get("MOTCUA_REDIS_URL") or os.environ.get("REDIS_URL")
    if not url:
        port = DEFAULT_REDIS_PORT if _port_free(DEFAULT_REDIS_PORT) else None
        redis_proc = redis_server.start(data_dir / "redis", port=port)
        url = redis_proc.url
        print(f"Redis (AOF, appendfsync always): {url}  dữ liệu: {data_dir / 'redis'}")
    if not _port_free(args.port):
        print(f"Cổng {args.port} đang bận. Dùng --port khác. / Port {args.port} is busy.", file=sys.stderr)
        if redis_proc:
            redis_proc.stop()
        return 2
    code = prepare_schema(
        url, config_path, quiet=True, wait_s=STARTUP_MIGRATION_WAIT_S
    )  # migrations; refuses data newer than this code
    if code:
        if redis_proc:
            redis_proc.stop()
        return code
    _run_file(data_dir).write_text(json.dumps({"redis_url": url, "pid": os.getpid(), "port": args.port}))

    seeded = asyncio.run(seed_site(url, config_path, data_dir, port=args.port))
    env = dict(os.environ, MOTCUA_REDIS_URL=url, MOTCUA_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1")
    if config_path:
        env["MOTCUA_CONFIG"] = config_path
    py = [sys.executable, "-m", "queue_server.cli"]
    base = f"http://127.0.0.1:{args.port}"
    children = [
        Child(
            "api",
            py
            + ["serve", "--host", args.host, "--port", str(args.port), "--redis-url", url, "--data-dir", str(data_dir)],
            env,
            data_dir / "logs",
        ),
        Child("worker", py + ["worker", "--redis-url", url, "--data-dir", str(data_dir)], env, data_dir / "logs"),
    ]
    if not args.no_printer:
        children.append(
            Child(
                "printer",
                py
                + [
                    "printer-agent",
                    "--server",
                    base,
                    "--token",
                    seeded["tokens"]["printer"],
                    "--printer",
                    f"virtual:{data_dir / 'tickets'}",
                ],
                env,
                data_dir / "logs",
            )
        )
    stopping = False

    def on_term(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_term)
    # Ctrl-C stops everything even when `up` was started with SIGINT ignored
    # (a shell's background job, nohup): Python then installs no handler of its own
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        children[0].start()
        if not _wait_http(base + "/healthz", 30):
            print(f"API không khởi động được; xem {data_dir / 'logs' / 'api.log'}", file=sys.stderr)
            stopping = True
        for c in children[1:]:
            c.start()
        if not stopping:
            _print_urls(args.port, seeded, data_dir)
        while not stopping:
            time.sleep(0.5)
            for c in children:
                if c.proc and c.proc.poll() is not None:
                    c.restarts += 1
                    print(
                        f"[{c.name}] dừng (mã {c.proc.returncode}); khởi động lại (lần {c.restarts})", file=sys.stderr
                    )
                    time.sleep(min(10, c.restarts))
                    c.start()
    except KeyboardInterrupt:
        pass
    finally:
        print("\nĐang dừng… / stopping…")
        stop_all(list(reversed(children)))
        if redis_proc:
            redis_proc.stop()
        with contextlib.suppress(OSError):
            _run_file(data_dir).unlink()
    return 0


def lan_address() -> str | None:
    """This PC's address on the office network (no packet is sent)."""
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("10.255.255.255", 1))
        ip = s.getsockname()[0]
        if not ip.startswith("127."):
            return ip
    return None


def public_url_warning(public_url: str, port: int) -> str | None:
    """Citizens' phones cannot open a QR code that points at localhost."""
    host = public_url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    if host not in ("localhost", "127.0.0.1", "::1"):
        return None
    ip = lan_address()
    hint = f"http://{ip}:{port}" if ip else "http://<địa chỉ IP của máy này>:" + str(port)
    return (
        f"  Lưu ý: mã QR trên phiếu đang trỏ tới {public_url} – điện thoại của công dân không mở được.\n"
        f"  Vào Quản trị → Đơn vị & giờ làm việc → “Địa chỉ công khai” và đặt {hint}."
    )


def _print_urls(port: int, seeded: dict[str, Any], data_dir: Path) -> None:
    base = f"http://localhost:{port}"
    t = seeded["tokens"]
    lines = [
        "",
        f"motcua đang chạy – {seeded.get('site_name', '')}",
        f"  Kiosk lấy số:      {base}/kiosk?token={t['kiosk']}",
        f"  Bảng gọi số (TV):  {base}/display?token={t['display']}",
        f"  Quầy (cán bộ):     {base}/counter",
        f"  Đánh giá quầy 1:   {base}/rate/1?token={t['rating']}",
        f"  Quản trị:          {base}/admin",
        f"  API docs:          {base}/schema",
        f"  Cấp tỉnh:          {base}/province  (thêm đơn vị; trang của đơn vị X: {base}/s/X/kiosk, /s/X/counter…)",
        f"  Phiếu in ảo:       {data_dir / 'tickets'}",
    ]
    if seeded.get("admin_password"):
        lines.append(f"  Tài khoản quản trị: admin / {seeded['admin_password']}  (chỉ hiện lần này)")
    warning = public_url_warning(seeded.get("public_url", ""), port)
    if warning:
        lines.append(warning)
    lines.append("Ctrl-C để dừng. / Press Ctrl-C to stop.")
    print("\n".join(lines), flush=True)
