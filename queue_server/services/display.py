"""The board's notice line and voice settings, and pairing a TV by code."""

from __future__ import annotations

import re
from typing import Any

from queue_server.domain.accounts import DeviceKind
from queue_server.domain.announce import VoiceSettingsError, settings_from_hash, update_settings
from queue_server.errors import AppError
from queue_server.store.accounts import Accounts
from queue_server.store.audit import AuditLog
from queue_server.store.config_store import ConfigStore
from queue_server.store.display_settings import DisplaySettings
from queue_server.store.pairing import CODE_DIGITS, Pairing, Pairings

__all__ = ["CODE_DIGITS", "DisplayService"]

_POLL_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")

MAX_NOTICE = 500
SETTING_NAMES = {"notice", "voice", "muted", "volume", "reading", "template"}


class DisplayService:
    def __init__(
        self, config: ConfigStore, settings: DisplaySettings, audit: AuditLog, pairings: Pairings, accounts: Accounts
    ):
        self.config = config
        self.settings = settings
        self.audit = audit
        self.pairings = pairings
        self.accounts = accounts

    async def read(self) -> dict[str, Any]:
        h = await self.settings.get()
        cfg = await self.config.get()
        return {"notice": h.get("notice", cfg.site.notice), "voice": settings_from_hash(h).to_dict()}

    async def update(self, data: dict[str, Any], actor: str) -> dict[str, Any]:
        """Body: ``{"notice": "...", "voice": {"muted", "volume", "reading",
        "template"}}`` (voice fields may also be given at the top level).
        Every board updates live."""
        voice_changes = dict(data.get("voice") or {}) if isinstance(data.get("voice", {}), dict) else None
        if voice_changes is None:
            raise AppError("invalid_body", detail="“voice” phải là đối tượng / must be an object")
        for k in ("muted", "volume", "reading", "template"):
            if k in data:
                voice_changes[k] = data[k]
        unknown = set(data) - SETTING_NAMES
        if unknown:
            raise AppError("invalid_body", detail=f"không có thiết lập / unknown setting: {', '.join(sorted(unknown))}")
        fields: dict[str, str] = {}
        if "notice" in data:
            notice = data["notice"]
            if not isinstance(notice, str):
                raise AppError("invalid_body", detail="“notice” phải là chuỗi / must be a string", field="notice")
            notice = " ".join(notice.split())
            if len(notice) > MAX_NOTICE:
                raise AppError(
                    "invalid_body",
                    detail=f"dòng thông báo dài quá {MAX_NOTICE} ký tự / notice too long",
                    field="notice",
                )
            fields["notice"] = notice
        if voice_changes:
            current = settings_from_hash(await self.settings.get())
            try:
                new = update_settings(current, voice_changes)
            except VoiceSettingsError as e:
                raise AppError("invalid_body", detail=f"{e.vi} / {e.en}", field=e.field) from None
            fields.update({k: v for k, v in new.to_hash().items() if k[6:] in voice_changes})
        if not fields:
            raise AppError("invalid_body", detail="không có gì để thay đổi / nothing to change")
        await self.settings.put(fields, actor)
        await self.audit.record(actor, "display_settings", "settings", fields=",".join(sorted(fields)))
        return await self.read()

    # -- pairing a TV without typing its token --------------------------------------
    async def start_pairing(self) -> Pairing:
        return await self.pairings.start()

    async def poll_pairing(self, poll_id: str) -> dict[str, str]:
        if not _POLL_ID.fullmatch(poll_id):  # not one we handed out (token_urlsafe)
            raise AppError("pairing_expired")
        state = await self.pairings.poll(poll_id)
        if state is None:
            raise AppError("pairing_expired")
        return state

    async def pair(self, code: str, name: str, actor: str) -> dict[str, Any]:
        """An admin typed the code a TV shows: it gets a new display token, once."""
        poll_id = await self.pairings.claim(code)
        if poll_id is None:
            raise AppError("pairing_not_found", pairing_code=code)
        dev, token = await self.accounts.add_device(name, DeviceKind.DISPLAY)
        if not await self.pairings.deliver(poll_id, token):
            await self.accounts.revoke_device(dev.id)
            raise AppError("pairing_expired")
        await self.audit.record(actor, "device_pair", dev.id, name=name, kind=str(DeviceKind.DISPLAY))
        return dev.public()
