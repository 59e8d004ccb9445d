"""Process settings from the environment (12-factor). No I/O at import."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _env_bool(name: str, default: bool) -> bool:
    v = os.environ.get(name)
    if v is None:
        return default
    return v.strip().lower() in ("1", "true", "yes", "on")


def rq_redis_url(redis_url: str, explicit: str | None = None) -> str:
    """The plain Redis that RQ uses (RQ does not speak Redis Cluster): the
    one given (`MOTCUA_RQ_REDIS_URL`), else the main Redis when it is not a
    cluster (one commune: one Redis for both)."""
    explicit = explicit if explicit is not None else os.environ.get("MOTCUA_RQ_REDIS_URL", "")
    if explicit:
        return explicit
    if redis_url.startswith(("redis+cluster://", "rediss+cluster://")):
        raise ValueError("MOTCUA_REDIS_URL is a Redis Cluster: set MOTCUA_RQ_REDIS_URL to a plain Redis for RQ")
    return redis_url


@dataclass(frozen=True)
class Settings:
    # `redis+cluster://host:port` = a Redis Cluster (README, "Redis Cluster")
    redis_url: str = "redis://127.0.0.1:6379/0"
    # RQ's plain Redis; "" = redis_url (which then must not be a cluster)
    rq_redis_url_setting: str = ""
    config_path: str | None = None  # TOML seed; None = the shipped default
    data_dir: Path = Path("var")
    secure_cookies: bool = False  # set true behind HTTPS
    session_idle_minutes: int = 30
    trust_proxy: bool = False  # honour X-Forwarded-For
    login_limit_per_minute: int = 10
    lockout_failures: int = 5
    lockout_minutes: int = 15
    public_limit_per_minute: int = 120
    kiosk_limit_per_minute: int = 60
    redis_max_connections: int = 64  # per process; more requests wait their turn
    # threads writing one board message to many displays (api/fastsend.py);
    # 0 = one more than the CPU cores, up to 4
    fanout_threads: int = 0
    # full garbage collections only when the board is quiet (queue_server/gcpolicy.py);
    # off = CPython's own thresholds
    gc_deferred: bool = True
    # the longest a kept slots reply is served without an event (services/slots_cache.py)
    slots_max_age_s: float = 2.0
    # the longest an API process keeps the site configuration without reading
    # Redis (store/config_store.py; a `config` event drops it at once); 0 = every request
    config_max_age_s: float = 1.0
    # a directory: tracemalloc snapshots of the API process every minute (api/memtrace.py); "" = off
    tracemalloc_dir: str = ""
    # /readyz: the data dir's file system needs this much free space
    min_free_disk_mb: int = 500
    # /readyz: the checks that make it 503 (services/health.py)
    ready_require: tuple[str, ...] = ("redis", "aof", "disk")
    # /metrics answers only with `Authorization: Bearer <token>`; empty = /metrics is off (401)
    metrics_token: str = ""
    # logs as one JSON object per line (api/jsonlog.py)
    log_json: bool = False
    # backups (queue_server/backup.py): where, and how many days they are kept
    backup_dir: Path | None = None  # None = data_dir/backups
    backup_keep_days: int = 14
    extra: dict = field(default_factory=dict)

    @property
    def fanout_thread_count(self) -> int:
        # one more than the cores: while one thread holds the GIL to pick up
        # its sockets, the cores stay busy sending (bench/bench_display.py)
        return self.fanout_threads if self.fanout_threads > 0 else min(4, (os.cpu_count() or 1) + 1)

    @property
    def rq_redis_url(self) -> str:
        return rq_redis_url(self.redis_url, self.rq_redis_url_setting)

    @property
    def backup_path(self) -> Path:
        return self.backup_dir or self.data_dir / "backups"

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        env = os.environ
        s = cls(
            redis_url=env.get("MOTCUA_REDIS_URL") or env.get("REDIS_URL") or cls.redis_url,
            rq_redis_url_setting=env.get("MOTCUA_RQ_REDIS_URL", ""),
            config_path=env.get("MOTCUA_CONFIG") or None,
            data_dir=Path(env.get("MOTCUA_DATA_DIR", "var")),
            secure_cookies=_env_bool("MOTCUA_SECURE_COOKIES", False),
            session_idle_minutes=int(env.get("MOTCUA_SESSION_IDLE_MINUTES", "30")),
            trust_proxy=_env_bool("MOTCUA_TRUST_PROXY", False),
            login_limit_per_minute=int(env.get("MOTCUA_LOGIN_LIMIT", "10")),
            lockout_failures=int(env.get("MOTCUA_LOCKOUT_FAILURES", "5")),
            lockout_minutes=int(env.get("MOTCUA_LOCKOUT_MINUTES", "15")),
            public_limit_per_minute=int(env.get("MOTCUA_PUBLIC_LIMIT", "120")),
            kiosk_limit_per_minute=int(env.get("MOTCUA_KIOSK_LIMIT", "60")),
            redis_max_connections=int(env.get("MOTCUA_REDIS_MAX_CONNECTIONS", "64")),
            fanout_threads=int(env.get("MOTCUA_FANOUT_THREADS", "0")),
            gc_deferred=_env_bool("MOTCUA_GC_DEFERRED", True),
            slots_max_age_s=float(env.get("MOTCUA_SLOTS_MAX_AGE_S", "2")),
            config_max_age_s=float(env.get("MOTCUA_CONFIG_MAX_AGE_S", "1")),
            tracemalloc_dir=env.get("MOTCUA_TRACEMALLOC_DIR", ""),
            min_free_disk_mb=int(env.get("MOTCUA_MIN_FREE_DISK_MB", "500")),
            ready_require=tuple(
                x.strip() for x in env.get("MOTCUA_READY_REQUIRE", "redis,aof,disk").split(",") if x.strip()
            ),
            metrics_token=env.get("MOTCUA_METRICS_TOKEN", ""),
            log_json=_env_bool("MOTCUA_LOG_JSON", False),
            backup_dir=Path(env["MOTCUA_BACKUP_DIR"]) if env.get("MOTCUA_BACKUP_DIR") else None,
            backup_keep_days=int(env.get("MOTCUA_BACKUP_KEEP_DAYS", "14")),
        )
        if overrides:
            s = cls(**{**s.__dict__, **overrides})
        return s
