"""The `motcua` command line.

motcua up                  everything on one machine
motcua serve               the API server only
motcua worker              an RQ worker (with its scheduler)
motcua printer-agent       the print agent next to a ticket printer
motcua user add NAME ...   create or reset a staff account
motcua user passwd NAME    set a new password (a forgotten admin password)
motcua province-user add NAME --password P   a province account (/province: many sites)
motcua device add NAME ... create a device token (shown once)
motcua config check        validate the site configuration
motcua demo-data           a realistic backdated history in the archive
motcua archive             append new events to the Parquet archive, trim the stream
motcua backup [--to DIR]   a dated snapshot of the data (.tar.gz)
motcua restore FILE        put a backup back onto an empty data dir
motcua migrate             bring the data up to this version's layout
motcua service install     systemd units to run it for years
motcua test                install what the suite needs, then run it
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

from queue_server.domain.config import ConfigError, load_toml


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--redis-url", default=None, help="Redis URL (default: $REDIS_URL, else the local data dir's server)"
    )
    p.add_argument(
        "--config", default=os.environ.get("MOTCUA_CONFIG"), help="site TOML (default: the shipped commune desk)"
    )
    p.add_argument(
        "--data-dir", default=os.environ.get("MOTCUA_DATA_DIR", "var"), help="where local data lives (default ./var)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="motcua", description="motcua – hệ thống xếp hàng bộ phận một cửa")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("up", help="start Redis (embedded if needed), API, worker and a virtual printer")
    _add_common(p)
    p.add_argument("--host", default="0.0.0.0")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--no-printer", action="store_true", help="do not start the virtual printer agent")

    p = sub.add_parser("serve", help="run the API server")
    _add_common(p)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1)

    p = sub.add_parser("worker", help="run an RQ worker with its scheduler")
    _add_common(p)
    p.add_argument("--burst", action="store_true", help="exit when the queue is empty")

    p = sub.add_parser("printer-agent", help="print tickets sent by the server on a local printer")
    p.add_argument("--server", required=True, help="server base URL, e.g. http://192.168.1.10:8000")
    p.add_argument("--token", required=True, help="printer device token")
    p.add_argument(
        "--printer",
        default="virtual:var/tickets",
        help="printer: virtual:DIR | usb:VID:PID | network:HOST[:PORT] | serial:DEV[:BAUD] | file:PATH | cups:NAME",
    )
    p.add_argument("--width", type=int, choices=(58, 80), default=80, help="paper width in mm")

    p = sub.add_parser("user", help="staff accounts")
    us = p.add_subparsers(dest="action", required=True)
    a = us.add_parser("add", help="create or reset a user")
    _add_common(a)
    a.add_argument("name")
    a.add_argument("--role", required=True, choices=("admin", "supervisor", "clerk"))
    a.add_argument("--password", required=True)
    a.add_argument("--counters", default="", help="comma-separated counter numbers a clerk may use, e.g. 1,2")
    a.add_argument("--display-name", default="")
    a = us.add_parser("list", help="list users")
    _add_common(a)
    a = us.add_parser("passwd", help="set a new password (e.g. a forgotten admin password); lifts a login lockout")
    _add_common(a)
    a.add_argument("name")
    a.add_argument("--password", default=None, help="the new password (asked twice when left out)")

    p = sub.add_parser("province-user", help="province accounts: /province adds sites and reads every site's reports")
    ps = p.add_subparsers(dest="action", required=True)
    a = ps.add_parser("add", help="create or reset a province user")
    _add_common(a)
    a.add_argument("name")
    a.add_argument("--password", required=True)
    a = ps.add_parser("list", help="list province users")
    _add_common(a)

    p = sub.add_parser("device", help="device tokens for kiosk, display, printer and rating tablets")
    ds = p.add_subparsers(dest="action", required=True)
    a = ds.add_parser("add", help="create a device; prints its token once")
    _add_common(a)
    a.add_argument("name")
    a.add_argument("--kind", required=True, choices=("kiosk", "display", "printer", "rating"))
    a.add_argument("--counter", type=int, default=None, help="for a rating tablet: the counter it faces")
    a = ds.add_parser("list", help="list devices")
    _add_common(a)
    a = ds.add_parser("revoke", help="revoke a device by id")
    _add_common(a)
    a.add_argument("device_id")

    p = sub.add_parser("config", help="site configuration")
    cs = p.add_subparsers(dest="action", required=True)
    a = cs.add_parser("check", help="validate a site TOML file and print clear errors")
    a.add_argument("--config", default=os.environ.get("MOTCUA_CONFIG"))
    a = cs.add_parser("show", help="print the default configuration file")

    p = sub.add_parser("close-day", help="expire every ticket still waiting (normally scheduled)")
    _add_common(p)

    p = sub.add_parser("archive", help="append new events to the Parquet archive, trim the stream (normally scheduled)")
    _add_common(p)
    p.add_argument("--window-days", type=int, default=35, help="days of events the stream keeps (default 35)")

    p = sub.add_parser("demo-data", help="fill the archive with a realistic backdated history (for the reports)")
    _add_common(p)
    p.add_argument("--days", type=int, default=90, help="calendar days before today (default 90)")
    p.add_argument("--per-day", type=int, default=300, help="tickets on each working day (default 300)")
    p.add_argument("--seed", type=int, default=1)

    p = sub.add_parser("backup", help="write a dated backup archive (Redis snapshot, event archive, config, devices)")
    _add_common(p)
    p.add_argument("--to", default=None, help="where to write it (default: $MOTCUA_BACKUP_DIR, else DATA_DIR/backups)")
    p.add_argument("--keep-days", type=int, default=None, help="delete backups older than this (default 14)")

    p = sub.add_parser("restore", help="restore a backup onto an empty data dir (refuses a live one)")
    p.add_argument("file")
    p.add_argument(
        "--data-dir", default=os.environ.get("MOTCUA_DATA_DIR", "var"), help="where local data lives (default ./var)"
    )
    p.add_argument("--force", action="store_true", help="restore over existing data (moved aside, not deleted)")

    p = sub.add_parser("migrate", help="run the data migrations (also run by up and serve at start)")
    _add_common(p)
    p.add_argument("--all", action="store_true", help="every site found in Redis, not only the configured one")

    p = sub.add_parser("service", help="systemd units (Ubuntu, Debian; WSL2 with systemd)")
    ss = p.add_subparsers(dest="action", required=True)
    a = ss.add_parser("install", help="write systemd units for motcua up (or API, worker, print agent with --split)")
    a.add_argument("--dry-run", action="store_true", help="print the units, write nothing")
    a.add_argument("--split", action="store_true", help="API, worker and print agent as units of their own")
    a.add_argument("--user", default=None, help="the account the units run as (default: the one calling sudo)")
    a.add_argument("--data-dir", default=os.environ.get("MOTCUA_DATA_DIR", "var"), help="the data dir (default ./var)")
    a.add_argument("--config", default=os.environ.get("MOTCUA_CONFIG"), help="site TOML")
    a.add_argument("--port", type=int, default=8000)
    a.add_argument("--redis-url", default="redis://127.0.0.1:6379/0", help="--split: the system's Redis")
    a.add_argument("--printer", default=None, help="--split: the print agent's --printer (default: virtual)")
    a.add_argument("--unit-dir", default="/etc/systemd/system", help="where to write the units")

    p = sub.add_parser("test", help="install what the suite needs (Chromium, redis-server) and run pytest")
    p.add_argument("pytest_args", nargs=argparse.REMAINDER)
    return parser


# ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = {
        "up": _cmd_up,
        "serve": _cmd_serve,
        "worker": _cmd_worker,
        "printer-agent": _cmd_printer_agent,
        "user": _cmd_user,
        "province-user": _cmd_province_user,
        "device": _cmd_device,
        "config": _cmd_config,
        "close-day": _cmd_close_day,
        "archive": _cmd_archive,
        "demo-data": _cmd_demo_data,
        "backup": _cmd_backup,
        "restore": _cmd_restore,
        "migrate": _cmd_migrate,
        "service": _cmd_service,
        "test": _cmd_test,
    }[args.command]
    try:
        return handler(args) or 0
    except ConfigError as e:
        print("Cấu hình không hợp lệ / invalid configuration:", file=sys.stderr)
        for problem in e.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _cmd_config(args) -> int:
    if args.action == "show":
        from importlib import resources

        print(resources.files("queue_server").joinpath("default_site.toml").read_text("utf-8"))
        return 0
    try:
        cfg = load_toml(args.config)
    except FileNotFoundError:
        print(f"Không tìm thấy tệp cấu hình: {args.config}", file=sys.stderr)
        return 2
    print(f"OK: {cfg.site.name} – {len(cfg.categories)} lĩnh vực, {len(cfg.counters)} quầy, {cfg.site.seats} ghế chờ")
    for c in cfg.counters:
        print(f"  {c.label}: {' > '.join(c.categories)}")
    return 0


def cap_malloc_arenas(arenas: int = 2) -> bool:
    """glibc gives each thread that allocates its own malloc arena (up to 8
    per core) and seldom hands their memory back: the API's fan-out threads
    and thread-pool jobs made its resident memory creep in the soak
    (BENCHMARKS.md). A MALLOC_ARENA_MAX the operator set wins. True when set."""
    if os.environ.get("MALLOC_ARENA_MAX") or not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        return bool(ctypes.CDLL("libc.so.6").mallopt(-8, arenas))  # M_ARENA_MAX
    except (OSError, AttributeError):
        return False


def _cmd_serve(args) -> int:
    import uvicorn

    cap_malloc_arenas()  # before uvicorn starts any thread

    from queue_server.local import STARTUP_MIGRATION_WAIT_S, prepare_schema, resolve_redis_url

    os.environ["MOTCUA_REDIS_URL"] = resolve_redis_url(args.redis_url, Path(args.data_dir))
    if args.config:
        os.environ["MOTCUA_CONFIG"] = str(Path(args.config).resolve())
    code = prepare_schema(
        os.environ["MOTCUA_REDIS_URL"], os.environ.get("MOTCUA_CONFIG"), quiet=True, wait_s=STARTUP_MIGRATION_WAIT_S
    )
    if code:  # data newer than this code: refuse, non-zero
        return code
    os.environ["MOTCUA_DATA_DIR"] = args.data_dir
    uvicorn.run(
        "queue_server.api.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="info",
        ws_ping_interval=20,
        ws_ping_timeout=20,
        # permessage-deflate costs a zlib stream per socket: with it, board
        # fan-out takes 2.2x the CPU and memory (bench/bench_display.py)
        ws_per_message_deflate=os.environ.get("MOTCUA_WS_DEFLATE", "").lower() in ("1", "true", "on"),
        proxy_headers=False,
        server_header=False,
    )
    return 0


def _cmd_worker(args) -> int:
    from redis import Redis as SyncRedis
    from rq import Queue, Worker

    from queue_server.adapters.jobs import recover_abandoned
    from queue_server.jobs import QUEUE_NAME
    from queue_server.local import resolve_redis_url
    from queue_server.settings import rq_redis_url

    url = resolve_redis_url(args.redis_url, Path(args.data_dir))
    conn = SyncRedis.from_url(rq_redis_url(url))
    # the jobs' own lines (what close-day expired, what the archive wrote): RQ sets up only its logger
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    recover_abandoned(conn)  # what a killed worker left half done runs again now
    worker = Worker([Queue(QUEUE_NAME, connection=conn)], connection=conn)
    worker.work(with_scheduler=True, burst=args.burst)
    return 0


def _cmd_printer_agent(args) -> int:
    from printer.agent import run_agent

    return run_agent(server=args.server, token=args.token, printer=args.printer, width_mm=args.width)


def _with_store(args, fn):
    from queue_server.local import local_stores

    async def go():
        async with local_stores(args.redis_url, Path(args.data_dir), args.config) as stores:
            return await fn(stores)

    return asyncio.run(go())


def _cmd_user(args) -> int:
    from queue_server.domain.accounts import Role
    from queue_server.domain.passwords import password_problem

    if args.action == "list":

        async def list_users(svc):
            for u in await svc.accounts.list_users():
                print(f"{u.username:20} {u.role:10} quầy: {','.join(map(str, u.counters)) or 'tất cả'}")

        _with_store(args, list_users)
        return 0
    if args.action == "passwd":
        return _user_passwd(args)
    problem = password_problem(args.password)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    try:
        counters = [int(x) for x in args.counters.split(",") if x.strip()]
    except ValueError:
        print("--counters: danh sách số quầy, ví dụ 1,2", file=sys.stderr)
        return 2

    async def add(svc):
        cfg = await svc.config.get()
        unknown = [n for n in counters if cfg.counter(n) is None]
        if unknown:
            raise SystemExit(f"Không có quầy số {unknown}")
        user = await svc.accounts.add_user(args.name, Role(args.role), args.password, counters, args.display_name)
        await svc.audit.record("cli", "user_add", user.username, role=str(user.role))
        print(f"Đã tạo/cập nhật người dùng {user.username} ({user.role}).")

    try:
        _with_store(args, add)
    except ValueError as e:
        print(str(e), file=sys.stderr)
        return 2
    return 0


def _cmd_province_user(args) -> int:
    """Province users live in the deployment's province account store
    (store/keys.py `province_keys`), not in a site's."""
    from queue_server.domain.accounts import Role
    from queue_server.domain.passwords import password_problem
    from queue_server.domain.sites import PROVINCE, credential_tag
    from queue_server.store.accounts import Accounts
    from queue_server.store.keys import province_keys

    if args.action == "add":
        problem = password_problem(args.password)
        if problem:
            print(problem, file=sys.stderr)
            return 2

    async def run(stores):
        acc = Accounts(stores.accounts.redis, province_keys(stores.keys.site), credential_tag(PROVINCE))
        if args.action == "list":
            for u in await acc.list_users():
                print(u.username)
            return
        user = await acc.add_user(args.name, Role.PROVINCE, args.password)
        await stores.audit.record("cli", "province_user_add", user.username)
        print(f"Đã tạo/cập nhật tài khoản cấp tỉnh {user.username}. Trang: /province")

    _with_store(args, run)
    return 0


def _user_passwd(args) -> int:
    import getpass

    from queue_server.domain.passwords import password_problem

    password = args.password
    if password is None:
        password = getpass.getpass("Mật khẩu mới / New password: ")
        if getpass.getpass("Nhập lại / Again: ") != password:
            print("Hai lần nhập không khớp. / The passwords do not match.", file=sys.stderr)
            return 2
    problem = password_problem(password)
    if problem:
        print(problem, file=sys.stderr)
        return 2

    async def passwd(svc) -> bool:
        user = await svc.accounts.set_password(args.name, password)
        if user is None:
            return False
        await svc.limiter.clear_failures(user.username)
        await svc.audit.record("cli", "password_reset", user.username)
        return True

    if not _with_store(args, passwd):
        print(f"Không có người dùng “{args.name}”. / No such user.", file=sys.stderr)
        return 2
    print(f"Đã đặt lại mật khẩu của {args.name}; các phiên đăng nhập cũ đã kết thúc.")
    return 0


def _cmd_device(args) -> int:
    from queue_server.domain.accounts import DeviceKind

    async def run(svc):
        if args.action == "add":
            dev, token = await svc.accounts.add_device(args.name, DeviceKind(args.kind), args.counter)
            await svc.audit.record("cli", "device_add", dev.id, kind=str(dev.kind), name=dev.name)
            print(f"Thiết bị {dev.name} ({dev.kind}) id={dev.id}")
            print("Mã thiết bị (chỉ hiện một lần, hãy lưu lại):")
            print(token)
        elif args.action == "list":
            for d in await svc.accounts.list_devices():
                state = "ĐÃ THU HỒI" if d.revoked else "hoạt động"
                print(f"{d.id}  {d.kind:8} {d.name:24} {state}")
        else:
            ok = await svc.accounts.revoke_device(args.device_id)
            print("Đã thu hồi." if ok else "Không tìm thấy thiết bị đang hoạt động với id này.")
            return 0 if ok else 1
        return 0

    return _with_store(args, run)


def _cmd_close_day(args) -> int:
    async def run(svc):
        n = await svc.tickets.close_day(actor="cli")
        print(f"Đã kết thúc ngày: {n} số còn chờ được đóng.")

    _with_store(args, run)
    return 0


def _cmd_archive(args) -> int:
    import time

    async def run(svc):
        cfg = await svc.config.get()
        done = await svc.archive.run(cfg.site.tz, int(time.time() * 1000), args.window_days)
        print(
            f"Đã lưu trữ {done.archived} sự kiện (đến {done.checkpoint or '–'}), "
            f"đã cắt {done.trimmed} khỏi luồng. / {done.archived} events archived, {done.trimmed} trimmed."
        )

    _with_store(args, run)
    return 0


def _cmd_demo_data(args) -> int:
    from datetime import UTC, datetime

    from queue_server.domain.demo import history
    from queue_server.domain.holidays import is_public_holiday

    if args.days < 1 or args.per_day < 1:
        print("--days và --per-day phải ≥ 1 / must be at least 1", file=sys.stderr)
        return 2

    async def run(svc):
        cfg = await svc.config.get()
        tz = cfg.site.tz
        today = datetime.now(UTC).astimezone(tz).date()
        holiday = is_public_holiday if cfg.hours.public_holidays else (lambda d: False)
        total = tickets = 0
        for day, events in history(cfg, today, args.days, args.per_day, args.seed, holiday):
            # ids are unique per day: the day's ordinal keeps days apart
            total += await asyncio.to_thread(svc.archive.import_events, events, tz, day.toordinal() * 100_000)
            tickets += sum(1 for e in events if e["type"] == "issue")
        await asyncio.to_thread(svc.archive.warm, tz)
        print(f"Đã tạo {tickets} số, {total} sự kiện trong {args.days} ngày. / {tickets} tickets, {total} events.")

    _with_store(args, run)
    return 0


def _cmd_backup(args) -> int:
    from queue_server import redis_server
    from queue_server.backup import BackupError, run_backup
    from queue_server.local import resolve_redis_url
    from queue_server.settings import Settings

    data_dir = Path(args.data_dir)
    settings = Settings.from_env(data_dir=data_dir)
    dest = Path(args.to) if args.to else settings.backup_path
    keep = args.keep_days if args.keep_days is not None else settings.backup_keep_days
    temp = None
    try:
        url = resolve_redis_url(args.redis_url, data_dir)
    except SystemExit:  # nothing running: the data dir's own server, for the length of the command
        temp = redis_server.start(data_dir / "redis")
        url = temp.url
    try:

        async def site(svc):
            return await svc.config.get()

        cfg = _with_store(argparse.Namespace(redis_url=url, data_dir=args.data_dir, config=args.config), site)
        result = run_backup(url, data_dir, dest, cfg.site.id, cfg.site.tz, keep)
    except BackupError as e:
        print(str(e), file=sys.stderr)
        return 1
    finally:
        if temp:
            temp.stop()
    print(f"Đã sao lưu / backed up: {result.file} ({result.size:,} bytes)")
    return 0


def _cmd_restore(args) -> int:
    from queue_server.backup import BackupError, restore

    try:
        out = restore(Path(args.file), Path(args.data_dir), force=args.force)
    except BackupError as e:
        print(str(e), file=sys.stderr)
        return 1
    print(
        f"Đã khôi phục bản sao lưu {out['created_at']} của {out['site']} vào {Path(args.data_dir).resolve()}: "
        f"{out['keys']} khoá. / Restored the {out['created_at']} backup of {out['site']}: {out['keys']} keys."
    )
    for aside in out["moved"]:
        print(f"  Dữ liệu cũ được giữ ở / the old data is kept in: {aside}")
    print("Chạy `motcua up` để khởi động. / Run `motcua up` to start.")
    return 0


def _cmd_migrate(args) -> int:
    from queue_server import redis_server
    from queue_server.local import prepare_schema, resolve_redis_url

    temp = None
    try:
        url = resolve_redis_url(args.redis_url, Path(args.data_dir))
    except SystemExit:  # nothing running: the data dir's own server, for the length of the command
        temp = redis_server.start(Path(args.data_dir) / "redis")
        url = temp.url
    try:
        return prepare_schema(url, args.config, all_sites=args.all)
    finally:
        if temp:
            temp.stop()


def _cmd_service(args) -> int:
    from queue_server.service import ServiceOptions, default_user, install

    opts = ServiceOptions(
        data_dir=Path(args.data_dir).absolute(),
        user=args.user or default_user(),
        port=args.port,
        config=Path(args.config).absolute() if args.config else None,
        split=args.split,
        redis_url=args.redis_url,
        printer=args.printer,
    )
    try:
        print(install(opts, Path(args.unit_dir), dry_run=args.dry_run))
    except PermissionError as e:
        print(
            f"Không ghi được {e.filename}: hãy chạy bằng sudo. / Cannot write {e.filename}: run it with sudo.",
            file=sys.stderr,
        )
        return 1
    return 0


def _cmd_up(args) -> int:
    from queue_server.local import run_up

    return run_up(args)


def _cmd_test(args) -> int:
    from queue_server.testrun import run_tests

    return run_tests(args.pytest_args)


if __name__ == "__main__":
    sys.exit(main())
