"""Liveness (`/healthz`) and readiness (`/readyz`).

`/healthz` is ok when Redis answers. `/readyz` names every check with
``ok`` and a reason:

| check | required | ok when |
|---|---|---|
| redis | yes | Redis answers a PING |
| aof | yes | INFO persistence: aof_enabled 1, aof_last_write_status and aof_last_bgrewrite_status ok |
| disk | yes | the data dir's file system has at least `min_free_disk_mb` free |
| worker | no | an RQ worker on the jobs queue sent a heartbeat in the last WORKER_STALE_S |
| printer | no | the print agent was in contact in the last minute (store/printing.py) |

A required check failing makes `/readyz` 503: without Redis, its AOF or
disk space an acknowledged ticket could be lost. The worker (tonight's
close-day, backups) and the print agent (the kiosk shows the number on
screen when nothing prints) are reported but do not stop the desk;
`MOTCUA_READY_REQUIRE` (comma-separated check names) changes the list.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from queue_server.store.health import HealthProbe
from queue_server.store.printing import PrintQueue

# RQ refreshes a worker's heartbeat at least every worker_ttl (420 s) - 15 s
# while idle, and lets its key lapse worker_ttl + 60 s after the last one.
WORKER_STALE_S = 480
DEFAULT_REQUIRED = ("redis", "aof", "disk")
CHECKS = ("redis", "aof", "disk", "worker", "printer")


@dataclass
class Check:
    ok: bool
    reason: str  # Vietnamese
    reason_en: str

    def view(self, required: bool) -> dict[str, Any]:
        return {"ok": self.ok, "required": required, "reason": self.reason, "reason_en": self.reason_en}


def _existing(path: Path) -> Path:
    """The path, or its nearest existing parent (a data dir not made yet)."""
    path = path.resolve()
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def _mb(n: float) -> str:
    return f"{n / 1_000_000:,.0f} MB"


class HealthService:
    def __init__(
        self,
        probe: HealthProbe,
        printing: PrintQueue,
        data_dir: Path,
        queue_name: str,
        min_free_disk_mb: int = 500,
        required: Iterable[str] = DEFAULT_REQUIRED,
        clock: Callable[[], float] = time.time,
        disk_usage: Callable[[Path], Any] = shutil.disk_usage,
    ):
        self.probe = probe
        self.printing = printing
        self.data_dir = data_dir
        self.queue_name = queue_name
        self.min_free_disk_mb = min_free_disk_mb
        self.required = tuple(c for c in required if c in CHECKS) or DEFAULT_REQUIRED
        self.clock = clock
        self.disk_usage = disk_usage

    async def live(self) -> Check:
        try:
            await self.probe.ping()
        except Exception as e:
            return Check(
                False, f"Redis không trả lời ({type(e).__name__})", f"Redis does not answer ({type(e).__name__})"
            )
        return Check(True, "Redis trả lời", "Redis answers")

    async def ready(self) -> dict[str, Any]:
        """Every check by name, and whether the required ones all pass."""
        checks: dict[str, Check] = {"redis": await self.live()}
        if checks["redis"].ok:
            checks["aof"] = await self._aof()
            checks["worker"] = await self._worker()
            checks["printer"] = await self._printer()
        else:
            down = Check(False, "không kiểm tra được: Redis không trả lời", "not checked: Redis does not answer")
            checks.update(aof=down, worker=down, printer=down)
        checks["disk"] = self._disk()
        failed = [name for name in CHECKS if name in self.required and not checks[name].ok]
        return {
            "ok": not failed,
            "failed": failed,
            "checks": {name: checks[name].view(name in self.required) for name in CHECKS},
        }

    async def _aof(self) -> Check:
        try:
            info = await self.probe.persistence()
        except Exception as e:
            return Check(False, f"không đọc được INFO persistence ({type(e).__name__})", "INFO persistence failed")
        enabled = str(info.get("aof_enabled", "0")) == "1"
        write = str(info.get("aof_last_write_status", ""))
        rewrite = str(info.get("aof_last_bgrewrite_status", ""))
        if not enabled:
            return Check(
                False, "AOF đang tắt: dữ liệu có thể mất khi mất điện", "AOF is off: data may be lost on power loss"
            )
        if write != "ok":
            return Check(False, f"ghi AOF lỗi (aof_last_write_status={write})", f"AOF write failed ({write})")
        if rewrite != "ok":
            return Check(
                False, f"viết lại AOF lỗi (aof_last_bgrewrite_status={rewrite})", f"AOF rewrite failed ({rewrite})"
            )
        return Check(True, "AOF bật, lần ghi cuối thành công", "AOF on, last write ok")

    async def _worker(self) -> Check:
        try:
            beats = await self.probe.worker_heartbeats(self.queue_name)
        except Exception as e:
            return Check(False, f"không đọc được worker ({type(e).__name__})", "could not read the workers")
        now = self.clock()
        fresh = {name: now - at for name, at in beats.items() if now - at <= WORKER_STALE_S}
        if not fresh:
            return Check(False, "không có worker nào đang chạy", "no worker is running")
        age = min(fresh.values())
        return Check(
            True,
            f"{len(fresh)} worker, nhịp cuối {age:.0f} giây trước",
            f"{len(fresh)} worker(s), last heartbeat {age:.0f} s ago",
        )

    async def _printer(self) -> Check:
        try:
            st = await self.printing.status()
        except Exception as e:
            return Check(False, f"không đọc được trạng thái máy in ({type(e).__name__})", "could not read the printer")
        seen = st.get("seen_at")
        if not st.get("agent_connected"):
            if seen:
                ago = max(0, self.clock() - seen / 1000)
                return Check(
                    False, f"tác tử in liên lạc lần cuối {ago:.0f} giây trước", f"print agent last seen {ago:.0f} s ago"
                )
            return Check(False, "chưa có tác tử in kết nối", "no print agent has connected")
        ago = max(0, self.clock() - seen / 1000) if seen else 0
        return Check(
            True, f"tác tử in liên lạc {ago:.0f} giây trước ({st.get('status')})", f"print agent seen {ago:.0f} s ago"
        )

    def _disk(self) -> Check:
        try:
            usage = self.disk_usage(_existing(self.data_dir))
        except OSError as e:
            return Check(False, f"không đọc được dung lượng đĩa ({e.strerror})", f"disk usage failed ({e.strerror})")
        need = self.min_free_disk_mb * 1_000_000
        free = _mb(usage.free)
        if usage.free < need:
            return Check(
                False,
                f"đĩa sắp đầy: còn {free}, cần ít nhất {_mb(need)}",
                f"disk nearly full: {free} free, at least {_mb(need)} needed",
            )
        return Check(True, f"còn trống {free}", f"{free} free")
