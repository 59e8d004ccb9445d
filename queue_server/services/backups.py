"""What the admin page shows of the backups: the last result, where they
go and how long they are kept (`motcua backup`, the daily job)."""

from __future__ import annotations

from typing import Any

from queue_server.settings import Settings
from queue_server.store.backups import BackupLog


class BackupStatus:
    def __init__(self, log: BackupLog, settings: Settings):
        self.log = log
        self.settings = settings

    async def status(self) -> dict[str, Any]:
        return {
            "last": await self.log.last(),
            "keep_days": self.settings.backup_keep_days,
            "dir": str(self.settings.backup_path.resolve()),
        }
