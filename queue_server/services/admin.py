"""The administrator's use cases: the live configuration, staff accounts,
device tokens and the audit log. Configuration edits are validated, stored
and announced with a "config" event, and apply at once; invalid input is
refused with 400 `config_invalid` naming every bad field (vi/en)."""

from __future__ import annotations

import copy
import time
from datetime import date
from typing import Any

from queue_server.domain.accounts import STAFF, USERNAME_RE, DeviceKind, Role, User
from queue_server.domain.config import ConfigError, Problem, SiteConfig
from queue_server.domain.holidays import public_holidays
from queue_server.domain.passwords import password_problem
from queue_server.errors import AppError
from queue_server.services.appointments import AppointmentService
from queue_server.services.input import field
from queue_server.store.accounts import Accounts
from queue_server.store.audit import AuditLog
from queue_server.store.config_store import ConfigStore
from queue_server.store.ratelimit import RateLimiter

SECTIONS = ("site", "hours", "queue", "categories", "counters", "appointments", "notify", "room")
ONLINE_MS = 3 * 60_000  # a device in contact this recently is shown online (contact is written once a minute)
MERGED = (
    "site",
    "hours",
    "queue",
    "appointments",
    "notify",
    "room",
)  # dict sections: merge keys; list sections: replace


def config_problems(lang: str, problems: list[Problem]) -> AppError:
    text = "; ".join(f"{p.field}: {p.en if lang == 'en' else p.vi}" for p in problems)
    return AppError(
        "config_invalid", detail=text, problems=[{"field": p.field, "vi": p.vi, "en": p.en} for p in problems]
    )


def problem(lang: str, fld: str, vi: str, en: str) -> AppError:
    return config_problems(lang, [Problem(fld, vi, en)])


def device_name(lang: str, name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= 60:
        raise problem(lang, "name", "tên thiết bị dài 1–60 ký tự", "device name must be 1–60 characters")
    return name


def _role(lang: str, v: Any) -> Role:
    try:
        role = Role(v)
        if role not in STAFF:  # a province user is never a site's
            raise ValueError(role)
        return role
    except ValueError:
        raise problem(
            lang, "role", "vai trò phải là admin, supervisor hoặc clerk", "role must be admin, supervisor or clerk"
        ) from None


def _password(lang: str, pw: str) -> str:
    why = password_problem(pw)
    if why or len(pw) > 200:
        raise problem(lang, "password", why or "mật khẩu quá dài", "password must be 8–200 characters")
    return pw


# the gateways' secrets: never in a reply; a masked value saved back keeps the stored one
SECRETS = ("sms_auth_header", "zns_access_token")
MASK = "••••••"


def mask_secret(name: str, value: str) -> str:
    """A secret as the admin API shows it: an auth header keeps its name ("Authorization: ••••••")."""
    if not value:
        return ""
    header, sep, _ = value.partition(":")
    return f"{header.strip()}: {MASK}" if name == "sms_auth_header" and sep else MASK


def masked(config: dict[str, Any]) -> dict[str, Any]:
    """The configuration as `to_dict` gives it, its secrets masked."""
    notify = config.get("notify")
    if not isinstance(notify, dict):
        return config
    return {**config, "notify": {k: mask_secret(k, v) if k in SECRETS else v for k, v in notify.items()}}


class AdminService:
    def __init__(
        self,
        config: ConfigStore,
        accounts: Accounts,
        audit: AuditLog,
        limiter: RateLimiter,
        appointments: AppointmentService | None = None,
    ):
        self.config = config
        self.accounts = accounts
        self.audit = audit
        self.limiter = limiter
        self.appointments = appointments

    # -- configuration ------------------------------------------------------------------
    async def site_config(self) -> SiteConfig:
        return await self.config.get()

    async def config_view(self, cfg: SiteConfig | None = None) -> dict[str, Any]:
        """The configuration (default: the live one) for the admin API: the gateways' secrets masked."""
        return masked((cfg or await self.config.get()).to_dict())

    async def update_config(self, data: dict[str, Any], actor: str, lang: str) -> SiteConfig:
        unknown = [k for k in data if k not in SECTIONS]
        if unknown or not data:
            raise problem(
                lang,
                unknown[0] if unknown else "",
                f"chỉ được sửa các mục: {', '.join(SECTIONS)}",
                f"only these sections: {', '.join(SECTIONS)}",
            )
        before = await self.config.get()
        current = before.to_dict()
        new = copy.deepcopy(current)
        for section, value in data.items():
            if section in MERGED:
                if not isinstance(value, dict):
                    raise problem(lang, section, "phải là một bảng", "must be a table")
                if section == "notify":  # a masked secret sent back (the page saves what it shows) is kept
                    value = {
                        k: current[section].get(k, "") if k in SECRETS and isinstance(v, str) and MASK in v else v
                        for k, v in value.items()
                    }
                new[section] = {**new[section], **value}
            else:
                if not isinstance(value, list):
                    raise problem(lang, section, "phải là một danh sách", "must be a list")
                new[section] = value
        new["site"]["id"] = current["site"]["id"]  # the site id names every Redis key
        try:
            cfg = await self.config.put(new, actor=actor)
        except ConfigError as e:
            raise config_problems(lang, e.problems) from None
        await self.audit.record(actor, "config", ",".join(data), sections=list(data))
        if "hours" in data and self.appointments is not None:
            # a closure added later cancels the bookings on it and tells their holders
            await self.appointments.cancel_for_closures(before, cfg, actor)
        return cfg

    async def holidays(self, year: int | None) -> dict[str, Any]:
        cfg = await self.config.get()
        y = year or date.today().year
        if not 2000 <= y <= 2100:
            raise AppError("invalid_body", detail="year 2000–2100")
        opened = set(cfg.hours.extra_open_days)
        days = [
            {
                "date": d.isoformat(),
                "name": name,
                "weekday": d.weekday(),
                "closed": cfg.hours.public_holidays and d not in opened,
            }
            for d, name in public_holidays(y)
        ]
        return {
            "year": y,
            "public_holidays": cfg.hours.public_holidays,
            "holidays": days,
            "closures": [d.isoformat() for d in cfg.hours.closures if d.year == y],
            "extra_open_days": [d.isoformat() for d in cfg.hours.extra_open_days if d.year == y],
        }

    # -- users ------------------------------------------------------------------------------
    async def _counters(self, lang: str, v: Any) -> list[int]:
        if not isinstance(v, list) or not all(isinstance(x, int) and not isinstance(x, bool) for x in v):
            raise problem(lang, "counters", "phải là danh sách số quầy", "must be a list of counter numbers")
        known = {c.number for c in (await self.config.get()).counters}
        for x in v:
            if x not in known:
                raise problem(lang, "counters", f"không có quầy số {x}", f"there is no counter {x}")
        return sorted(set(v))

    async def user(self, username: str) -> User:
        """The account an admin acts on; 404 when there is none."""
        user = await self.accounts.get_user(username) if USERNAME_RE.match(username or "") else None
        if user is None:
            raise AppError("not_found")
        return user

    async def _other_admins(self, username: str) -> int:
        return sum(
            1
            for u in await self.accounts.list_users()
            if u.role == Role.ADMIN and not u.disabled and u.username != username
        )

    async def users(self) -> list[User]:
        return await self.accounts.list_users()

    async def create_user(self, data: dict[str, Any], actor: str, lang: str) -> User:
        username = field(data, "username", str).strip().lower()
        if not USERNAME_RE.match(username):
            raise problem(
                lang,
                "username",
                "tên đăng nhập chỉ gồm chữ thường không dấu, số, . _ - (2–32 ký tự)",
                "username: lowercase letters, digits, . _ - (2–32 characters)",
            )
        if await self.accounts.get_user(username):
            raise problem(lang, "username", f"tên đăng nhập “{username}” đã tồn tại", f"username “{username}” exists")
        role = _role(lang, field(data, "role", str, required=False, default="clerk"))
        counters = await self._counters(lang, field(data, "counters", list, required=False, default=[]))
        password = _password(lang, field(data, "password", str))
        display_name = field(data, "display_name", str, required=False, default="").strip()[:80]
        user = await self.accounts.add_user(username, role, password, counters, display_name)
        await self.audit.record(actor, "user_create", username, role=str(role), counters=counters)
        return user

    async def update_user(self, user: User, data: dict[str, Any], actor: str, lang: str) -> User:
        username = user.username
        changes: dict[str, Any] = {}
        if "role" in data:
            role = _role(lang, data["role"])
            if user.role == Role.ADMIN and role != Role.ADMIN and not await self._other_admins(username):
                raise problem(lang, "role", "phải còn ít nhất một quản trị viên", "at least one admin must remain")
            changes["role"] = role
        if "counters" in data:
            changes["counters"] = await self._counters(lang, data["counters"])
        if "display_name" in data:
            changes["display_name"] = field(data, "display_name", str).strip()[:80]
        if not changes:
            raise problem(
                lang,
                "",
                "không có thay đổi nào (role, counters, display_name)",
                "nothing to change (role, counters, display_name)",
            )
        for k, v in changes.items():
            setattr(user, k, v)
        if "role" in changes or "counters" in changes:
            user.sessions_after = int(time.time() * 1000)  # new rights take effect at the next login
        await self.accounts.save_user(user)
        await self.audit.record(actor, "user_update", username, **{k: str(v) for k, v in changes.items()})
        return user

    async def reset_password(self, user: User, data: dict[str, Any], actor: str, lang: str) -> None:
        username = user.username
        password = _password(lang, field(data, "password", str))
        await self.accounts.set_password(username, password)
        await self.limiter.clear_failures(username)
        await self.audit.record(actor, "password_reset", username)

    async def unlock(self, username: str, actor: str) -> None:
        await self.user(username)
        await self.limiter.clear_failures(username)
        await self.audit.record(actor, "user_unlock", username)

    async def set_disabled(self, username: str, disabled: bool, actor: str, lang: str) -> User:
        user = await self.user(username)
        if disabled and user.username == actor:
            raise problem(lang, "username", "không thể tự khóa tài khoản của mình", "you cannot disable yourself")
        if disabled and user.role == Role.ADMIN and not await self._other_admins(username):
            raise problem(lang, "username", "phải còn ít nhất một quản trị viên", "at least one admin must remain")
        user.disabled = disabled
        if disabled:
            user.sessions_after = int(time.time() * 1000)
        await self.accounts.save_user(user)
        await self.audit.record(actor, "user_disable" if disabled else "user_enable", username)
        return user

    # -- devices ----------------------------------------------------------------------------
    async def devices(self) -> list[dict[str, Any]]:
        """Every device with its last contact (`last_seen_at`, ms or None) and
        `state`: revoked, online (in contact within ONLINE_MS), offline, never."""
        seen = await self.accounts.devices_seen()
        now = int(time.time() * 1000)
        out = []
        for d in await self.accounts.list_devices():
            at = seen.get(d.id)
            if d.revoked:
                state = "revoked"
            elif at is None:
                state = "never"
            else:
                state = "online" if now - at <= ONLINE_MS else "offline"
            out.append(d.public() | {"last_seen_at": at, "state": state})
        return out

    async def create_device(self, data: dict[str, Any], actor: str, lang: str) -> tuple[dict[str, Any], str]:
        name = device_name(lang, field(data, "name", str))
        try:
            kind = DeviceKind(field(data, "kind", str))
        except ValueError:
            raise problem(
                lang,
                "kind",
                "loại thiết bị phải là kiosk, display, printer hoặc rating",
                "kind must be kiosk, display, printer or rating",
            ) from None
        counter = field(data, "counter", int, required=False)
        if counter is not None:
            if (await self.config.get()).counter(counter) is None:
                raise problem(lang, "counter", f"không có quầy số {counter}", f"there is no counter {counter}")
        elif kind == DeviceKind.RATING:
            raise problem(lang, "counter", "máy tính bảng đánh giá cần số quầy", "a rating tablet needs a counter")
        dev, token = await self.accounts.add_device(name, kind, counter)
        await self.audit.record(actor, "device_create", dev.id, name=name, kind=str(kind), counter=counter)
        return dev.public(), token

    async def revoke_device(self, device_id: str, actor: str) -> None:
        if not await self.accounts.revoke_device(device_id[:64]):
            raise AppError("not_found")
        await self.audit.record(actor, "device_revoke", device_id)

    async def audit_entries(self, count: int, actor: str | None) -> list[dict[str, Any]]:
        count = max(1, min(count, 2000))
        entries = await self.audit.entries(count if not actor else 5000)
        if actor:
            entries = [e for e in entries if e.get("actor") == actor][:count]
        return entries
