"""Backup and restore of a site's data (`motcua backup`, `motcua restore`,
the daily backup job in jobs.py).

A backup is one dated ``motcua-backup-<site>-YYYYMMDD-HHMMSS.tar.gz``
(the site's local time), written to a temporary name and renamed, holding:

| member | what |
|---|---|
| ``manifest.json`` | when, which site, the keys in Redis, the motcua version |
| ``redis/dump.rdb`` | a consistent snapshot: BGSAVE, waited for, then the RDB copied |
| ``archive/…`` | the event archive under the data dir (``<data dir>/archive``), if there is one |
| ``data/devices.json`` | the data dir's device tokens of `motcua up` (mode 600), if there are |
| ``sites/<site>/config.json`` | each site's configuration as stored in Redis |
| ``sites/<site>/devices.json`` | each site's devices (no tokens: Redis keeps only their digests) |

Backups older than `keep_days` are deleted after a successful one (the
newest is always kept). Restore puts the RDB into an empty data dir, loads
it with AOF off, turns AOF on (Redis rewrites it from memory) and stops:
the next `motcua up` starts on the restored data.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import shutil
import tarfile
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from redis import Redis as SyncRedis

from queue_server import __version__, redis_server
from queue_server.domain.accounts import Device
from queue_server.store.backups import BackupLog
from queue_server.store.connection import open_redis
from queue_server.store.keys import Keys

PREFIX = "motcua-backup-"
DEFAULT_KEEP_DAYS = 14
SAVE_TIMEOUT_S = 300.0


class BackupError(RuntimeError):
    """A backup or restore that did not happen; the message is Vietnamese / English."""


@dataclass
class BackupResult:
    at: str
    file: str
    size: int
    ok: bool = True
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"at": self.at, "file": self.file, "size": self.size, "ok": self.ok, "error": self.error}


# -- backup ---------------------------------------------------------------------------------------
def _wait_bgsave(r: SyncRedis, timeout: float = SAVE_TIMEOUT_S) -> None:
    """BGSAVE and wait until that very save has finished well: INFO's
    rdb_saves (Redis 7) counts it, whatever either clock says. Before Redis
    7, LASTSAVE, with a resolution of a second: a save is asked only once
    Redis's own clock (TIME, not this machine's, which may differ or have
    been stepped back) has moved past the last one, so a newer LASTSAVE is
    this save's."""
    raw_saves = r.info("persistence").get("rdb_saves")
    saves = int(raw_saves) if raw_saves is not None else None
    before = int(r.lastsave().timestamp())
    if saves is None:
        while int(r.time()[0]) <= before:
            time.sleep(0.05)
    try:
        r.bgsave(schedule=True)  # scheduled if an AOF rewrite runs
    except Exception as e:
        if "already in progress" not in str(e):
            raise
    deadline = time.monotonic() + timeout
    while True:
        info: dict[str, Any] = r.info("persistence")
        if saves is not None:
            done = int(info.get("rdb_saves", 0)) > saves
        else:
            done = int(r.lastsave().timestamp()) > before
        if done and not int(info.get("rdb_bgsave_in_progress", 0)):
            if info.get("rdb_last_bgsave_status") != "ok":
                raise BackupError(
                    f"Redis không lưu được bản chụp (rdb_last_bgsave_status={info.get('rdb_last_bgsave_status')}). "
                    "/ Redis could not save its snapshot."
                )
            return
        if time.monotonic() > deadline:
            raise BackupError("Redis lưu bản chụp quá lâu. / Redis took too long to save its snapshot.")
        time.sleep(0.1)


def _rdb_path(r: SyncRedis) -> Path:
    folder = str(r.config_get("dir")["dir"])
    name = str(r.config_get("dbfilename")["dbfilename"])
    path = Path(folder) / name
    if not path.is_file():
        raise BackupError(
            f"Không đọc được tệp RDB {path}: hãy chạy sao lưu trên máy chạy Redis. "
            f"/ Cannot read the RDB file {path}: run the backup on the machine that runs Redis."
        )
    return path


def _site_ids(r: SyncRedis) -> list[str]:
    out = set()
    for key in r.scan_iter(match="mc:{*}:config", count=1000):
        k = key.decode() if isinstance(key, bytes) else str(key)
        out.add(k[len("mc:{") : k.index("}:")])
    return sorted(out)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mode: int = 0o600) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode, int(time.time())
    tar.addfile(info, io.BytesIO(data))


def _stamp(tz: ZoneInfo, now: datetime) -> str:
    return now.astimezone(tz).strftime("%Y%m%d-%H%M%S")


def backup_name(site_id: str, tz: ZoneInfo, now: datetime) -> str:
    return f"{PREFIX}{site_id}-{_stamp(tz, now)}.tar.gz"


def make_backup(
    redis_url: str, data_dir: Path, dest: Path, site_id: str, tz: ZoneInfo, now: datetime | None = None
) -> BackupResult:
    """Write one backup archive into `dest` (made if missing); raises BackupError."""
    now = now or datetime.now(UTC)
    data_dir, dest = Path(data_dir).resolve(), Path(dest).resolve()
    dest.mkdir(parents=True, exist_ok=True)
    r = SyncRedis.from_url(redis_url, socket_timeout=30)
    try:
        try:
            r.ping()
        except Exception as e:
            raise BackupError(f"Redis không trả lời ({e}). / Redis does not answer.") from e
        _wait_bgsave(r)
        rdb = _rdb_path(r)
        sites = _site_ids(r)
        per_site: dict[str, tuple[bytes, bytes]] = {}
        schemas = {sid: int(r.get(Keys(sid).schema_version) or 1) for sid in sites}
        for sid in sites:
            keys = Keys(sid)
            config = r.get(keys.config) or b"{}"
            devices = [Device.from_dict(json.loads(v)).public() for v in r.hgetall(keys.devices).values()]
            devices.sort(key=lambda d: (d["kind"], d["name"], d["id"]))
            per_site[sid] = (
                config if isinstance(config, bytes) else str(config).encode(),
                json.dumps(devices, ensure_ascii=False, indent=2).encode(),
            )
        dbsize = int(r.dbsize())
        redis_version = str(r.info("server").get("redis_version", ""))
    finally:
        r.close()
    manifest = {
        "format": 1,
        "created_at": now.astimezone(tz).isoformat(timespec="seconds"),
        "site": site_id,
        "sites": sites,
        "schema_versions": schemas,  # store/migrations.py: `up` migrates older data, refuses newer
        "keys": dbsize,
        "redis_version": redis_version,
        "motcua_version": __version__,
    }
    final = dest / backup_name(site_id, tz, now)
    fd, tmp_name = tempfile.mkstemp(prefix=".motcua-backup-", suffix=".tmp", dir=dest)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w:gz") as tar:
                _add_bytes(tar, "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2).encode())
                # a copy first: the server may write a new RDB while we read
                with tempfile.TemporaryDirectory() as scratch:
                    copy = Path(scratch) / "dump.rdb"
                    shutil.copyfile(rdb, copy)
                    tar.add(copy, arcname="redis/dump.rdb")
                archive = data_dir / "archive"
                if archive.is_dir():
                    tar.add(archive, arcname="archive")
                tokens = data_dir / "devices.json"
                if tokens.is_file():
                    _add_bytes(tar, "data/devices.json", tokens.read_bytes())
                for sid, (config_json, devices_json) in per_site.items():
                    _add_bytes(tar, f"sites/{sid}/config.json", config_json)
                    _add_bytes(tar, f"sites/{sid}/devices.json", devices_json)
            raw.flush()
            os.fsync(raw.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    with contextlib.suppress(OSError):  # the rename itself on disk
        dfd = os.open(dest, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    return BackupResult(at=str(manifest["created_at"]), file=str(final), size=final.stat().st_size)


def prune(dest: Path, site_id: str, keep_days: int, now: datetime | None = None) -> list[Path]:
    """Delete this site's backups older than `keep_days` (by file time);
    the newest one always stays. Returns what was deleted."""
    now = now or datetime.now(UTC)
    files = sorted(Path(dest).glob(f"{PREFIX}{site_id}-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    cutoff = (now - timedelta(days=keep_days)).timestamp()
    doomed = [p for p in files[:-1] if p.stat().st_mtime < cutoff]
    for p in doomed:
        p.unlink()
    return doomed


async def _record(redis_url: str, site_id: str, result: dict[str, Any]) -> None:
    redis = open_redis(redis_url, max_connections=2)
    try:
        await BackupLog(redis, Keys(site_id)).record(result)
    finally:
        await redis.aclose()


def run_backup(
    redis_url: str, data_dir: Path, dest: Path, site_id: str, tz: ZoneInfo, keep_days: int = DEFAULT_KEEP_DAYS
) -> BackupResult:
    """A backup, then the pruning, with the result (or the error) kept in
    Redis for the admin page. Raises BackupError after recording it."""
    now = datetime.now(UTC)
    try:
        result = make_backup(redis_url, data_dir, dest, site_id, tz, now)
        prune(dest, site_id, keep_days, now)
    except Exception as e:
        failed = BackupResult(at=now.astimezone(tz).isoformat(timespec="seconds"), file="", size=0, ok=False)
        failed.error = str(e)[:500]
        with contextlib.suppress(Exception):  # Redis itself may be what failed
            asyncio.run(_record(redis_url, site_id, failed.to_dict()))
        if isinstance(e, BackupError):
            raise
        raise BackupError(f"Sao lưu thất bại: {e}. / Backup failed: {e}.") from e
    asyncio.run(_record(redis_url, site_id, result.to_dict()))
    return result


# -- restore --------------------------------------------------------------------------------------
def _members(tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    """Every member, refused when one would land outside the target."""
    out = []
    for m in tar.getmembers():
        p = Path(m.name)
        if p.is_absolute() or ".." in p.parts or not (m.isfile() or m.isdir()):
            raise BackupError(f"Tệp sao lưu có mục không hợp lệ: {m.name}. / Bad entry in the backup: {m.name}.")
        out.append(m)
    return out


def _has_data(folder: Path) -> bool:
    return folder.is_dir() and any(folder.iterdir())


def running_server(data_dir: Path) -> str | None:
    """The Redis URL of a `motcua up` running on this data dir (its run.json, answering), or None."""
    run = data_dir / "run.json"
    if not run.is_file():
        return None
    with contextlib.suppress(ValueError, OSError, KeyError):
        url = str(json.loads(run.read_text())["redis_url"])
        r = SyncRedis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        try:
            if r.ping():
                return url
        except Exception:
            return None
        finally:
            r.close()
    return None


def live_problems(data_dir: Path) -> list[str]:
    """What makes the data dir live: a running `motcua up` (its run.json
    with a Redis that answers), Redis data on disk, or an event archive."""
    problems = []
    url = running_server(data_dir)
    if url:
        problems.append(
            f"motcua đang chạy trên thư mục dữ liệu này (Redis {url}); hãy dừng nó trước. "
            f"/ motcua is running on this data dir (Redis {url}); stop it first."
        )
    redis_dir = data_dir / "redis"
    if (redis_dir / "appendonlydir").is_dir() or (redis_dir / "dump.rdb").is_file():
        problems.append(f"Thư mục {redis_dir} đã có dữ liệu Redis. / {redis_dir} already holds Redis data.")
    if _has_data(data_dir / "archive"):
        problems.append(f"Thư mục {data_dir / 'archive'} đã có dữ liệu. / {data_dir / 'archive'} is not empty.")
    return problems


def _wait_aof_on(r: SyncRedis, timeout: float = SAVE_TIMEOUT_S) -> None:
    r.config_set("appendonly", "yes")
    deadline = time.monotonic() + timeout
    while True:
        info: dict[str, Any] = r.info("persistence")
        busy = int(info.get("aof_rewrite_in_progress", 0)) or int(info.get("aof_rewrite_scheduled", 0))
        if int(info.get("aof_enabled", 0)) == 1 and not busy:
            if info.get("aof_last_bgrewrite_status") != "ok":
                raise BackupError("Redis không ghi được AOF. / Redis could not write its AOF.")
            return
        if time.monotonic() > deadline:
            raise BackupError("Redis ghi AOF quá lâu. / Redis took too long to write its AOF.")
        time.sleep(0.1)


def restore(file: Path, data_dir: Path, force: bool = False) -> dict[str, Any]:
    """Restore a backup into `data_dir`. Refuses a live data dir (see
    live_problems); with `force`, existing data is moved aside to
    ``*.before-restore-<time>`` (never deleted), but a running motcua is
    always refused: stop it first."""
    file, data_dir = Path(file).resolve(), Path(data_dir).resolve()
    if not file.is_file():
        raise BackupError(f"Không tìm thấy tệp sao lưu {file}. / Backup file {file} not found.")
    try:
        tar = tarfile.open(file, "r:gz")
    except (tarfile.TarError, OSError) as e:
        raise BackupError(f"Tệp sao lưu hỏng hoặc không đúng định dạng ({e}). / Not a readable backup ({e}).") from e
    with tar:
        members = _members(tar)
        names = {m.name for m in members}
        if "manifest.json" not in names or "redis/dump.rdb" not in names:
            raise BackupError("Tệp này không phải bản sao lưu motcua. / This is not a motcua backup.")
        manifest_file = tar.extractfile("manifest.json")
        manifest = json.loads(manifest_file.read()) if manifest_file else {}
        problems = live_problems(data_dir)
        running = running_server(data_dir) is not None
        if running or (problems and not force):
            hint = (
                ""
                if running
                else "\nDùng --force để ghi đè (dữ liệu cũ được giữ lại bên cạnh). / Use --force to overwrite (the old data is kept aside)."
            )
            raise BackupError("Không khôi phục / Not restoring:\n  - " + "\n  - ".join(problems) + hint)
        data_dir.mkdir(parents=True, exist_ok=True)
        moved = []
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        for name in ("redis", "archive"):
            if (data_dir / name).exists() and _has_data(data_dir / name):
                aside = data_dir / f"{name}.before-restore-{stamp}"
                (data_dir / name).rename(aside)
                moved.append(str(aside))
        redis_dir = data_dir / "redis"
        redis_dir.mkdir(parents=True, exist_ok=True)
        for m in members:
            if m.name == "redis/dump.rdb":
                _extract(tar, m, redis_dir / "dump.rdb")
            elif m.name.startswith("archive/") and m.isfile():
                _extract(tar, m, data_dir / m.name)
            elif m.name == "data/devices.json":
                target = data_dir / "devices.json"
                if target.exists():
                    target.rename(data_dir / f"devices.json.before-restore-{stamp}")
                _extract(tar, m, target)
                os.chmod(target, 0o600)
    # load the RDB with AOF off, then turn AOF on: Redis writes the AOF from memory
    proc = redis_server.start(redis_dir, appendonly=False)
    try:
        r = SyncRedis.from_url(proc.url, socket_timeout=60)
        try:
            keys = int(r.dbsize())
            _wait_aof_on(r)
        finally:
            r.close()
    finally:
        proc.stop()
    return {
        "keys": keys,
        "expected_keys": manifest.get("keys"),
        "site": manifest.get("site"),
        "moved": moved,
        "created_at": manifest.get("created_at"),
    }


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    src = tar.extractfile(member)
    if src is None:
        return
    with src, open(target, "wb") as out:
        shutil.copyfileobj(src, out)
        out.flush()
        os.fsync(out.fileno())
