"""Admin APIs behind /admin (admin role; the audit log also for supervisors).

Configuration edits go through `ConfigStore.put`: validated, stored in
Redis, announced with a "config" event, applied live. Invalid input is
refused with 400 `config_invalid` naming every bad field (vi/en).
"""

from __future__ import annotations

import copy
import time
from datetime import date
from typing import Any

from litestar import Request, get, post, put
from litestar.params import FromPath, FromQuery

from queue_server.api.auth import require_user
from queue_server.api.deps import Svc
from queue_server.api.http import field, lang_of, read_json
from queue_server.api.services import Services
from queue_server.config import ConfigError, Problem
from queue_server.errors import AppError
from queue_server.holidays_vn import public_holidays
from queue_server.security.accounts import USERNAME_RE, DeviceKind, Role
from queue_server.security.pairing import CODE_DIGITS, Pairings
from queue_server.security.passwords import password_problem

SECTIONS = ("site", "hours", "queue", "categories", "counters")
MERGED = ("site", "hours", "queue")          # dict sections: merge keys; list sections: replace

def _bad(lang: str, problems: list[Problem]) -> AppError:
    text = "; ".join(f"{p.field}: {p.en if lang == 'en' else p.vi}" for p in problems)
    return AppError("config_invalid", detail=text,
                    problems=[{"field": p.field, "vi": p.vi, "en": p.en} for p in problems])


def _problem(lang: str, fld: str, vi: str, en: str) -> AppError:
    return _bad(lang, [Problem(fld, vi, en)])


# -- configuration ---------------------------------------------------------------------
@get("/api/admin/config", summary="The live site configuration (admin)")
async def get_config(request: Request, svc: Svc) -> dict:
    await require_user(request, svc, Role.ADMIN)
    cfg = await svc.config.get()
    return {"config": cfg.to_dict(), "sections": list(SECTIONS)}


@put("/api/admin/config", status_code=200, summary="Change sections of the configuration; applies live (admin)")
async def put_config(request: Request, svc: Svc) -> dict:
    user = await require_user(request, svc, Role.ADMIN)
    lang = lang_of(request)
    data = await read_json(request, max_bytes=200_000)
    unknown = [k for k in data if k not in SECTIONS]
    if unknown or not data:
        raise _problem(lang, unknown[0] if unknown else "",
                       f"chỉ được sửa các mục: {', '.join(SECTIONS)}", f"only these sections: {', '.join(SECTIONS)}")
    current = (await svc.config.get()).to_dict()
    new = copy.deepcopy(current)
    for section, value in data.items():
        if section in MERGED:
            if not isinstance(value, dict):
                raise _problem(lang, section, "phải là một bảng", "must be a table")
            new[section] = {**new[section], **value}
        else:
            if not isinstance(value, list):
                raise _problem(lang, section, "phải là một danh sách", "must be a list")
            new[section] = value
    new["site"]["id"] = current["site"]["id"]          # the site id names every Redis key
    try:
        cfg = await svc.config.put(new, actor=user.username)
    except ConfigError as e:
        raise _bad(lang, e.problems) from None
    await svc.accounts.audit(user.username, "config", ",".join(data), sections=list(data))
    return {"config": cfg.to_dict()}


@get("/api/admin/holidays", summary="Vietnam's public holidays for a year, with the site's closures (admin)")
async def get_holidays(request: Request, svc: Svc, year: FromQuery[int | None] = None) -> dict:
    await require_user(request, svc, Role.ADMIN)
    cfg = await svc.config.get()
    y = year or date.today().year
    if not 2000 <= y <= 2100:
        raise AppError("invalid_body", detail="year 2000–2100")
    opened = set(cfg.hours.extra_open_days)
    days = [{"date": d.isoformat(), "name": name, "weekday": d.weekday(), "closed": cfg.hours.public_holidays and d not in opened}
            for d, name in public_holidays(y)]
    return {
        "year": y, "public_holidays": cfg.hours.public_holidays, "holidays": days,
        "closures": [d.isoformat() for d in cfg.hours.closures if d.year == y],
        "extra_open_days": [d.isoformat() for d in cfg.hours.extra_open_days if d.year == y],
    }


# -- users ---------------------------------------------------------------------------------
def _role(lang: str, v: Any) -> Role:
    try:
        return Role(v)
    except ValueError:
        raise _problem(lang, "role", "vai trò phải là admin, supervisor hoặc clerk",
                       "role must be admin, supervisor or clerk") from None


async def _counters(svc: Services, lang: str, v: Any) -> list[int]:
    if not isinstance(v, list) or not all(isinstance(x, int) and not isinstance(x, bool) for x in v):
        raise _problem(lang, "counters", "phải là danh sách số quầy", "must be a list of counter numbers")
    known = {c.number for c in (await svc.config.get()).counters}
    for x in v:
        if x not in known:
            raise _problem(lang, "counters", f"không có quầy số {x}", f"there is no counter {x}")
    return sorted(set(v))


def _password(lang: str, pw: str) -> str:
    why = password_problem(pw)
    if why or len(pw) > 200:
        raise _problem(lang, "password", why or "mật khẩu quá dài", "password must be 8–200 characters")
    return pw


@get("/api/admin/users", summary="Staff accounts (admin)")
async def list_users(request: Request, svc: Svc) -> dict:
    await require_user(request, svc, Role.ADMIN)
    return {"users": [u.public() for u in await svc.accounts.list_users()]}


@post("/api/admin/users", status_code=201, summary="Create a staff account (admin)")
async def create_user(request: Request, svc: Svc) -> dict:
    admin = await require_user(request, svc, Role.ADMIN)
    lang = lang_of(request)
    data = await read_json(request, max_bytes=4_000)
    username = field(data, "username", str).strip().lower()
    if not USERNAME_RE.match(username):
        raise _problem(lang, "username", "tên đăng nhập chỉ gồm chữ thường không dấu, số, . _ - (2–32 ký tự)",
                       "username: lowercase letters, digits, . _ - (2–32 characters)")
    if await svc.accounts.get_user(username):
        raise _problem(lang, "username", f"tên đăng nhập “{username}” đã tồn tại", f"username “{username}” exists")
    role = _role(lang, field(data, "role", str, required=False, default="clerk"))
    counters = await _counters(svc, lang, field(data, "counters", list, required=False, default=[]))
    password = _password(lang, field(data, "password", str))
    display_name = field(data, "display_name", str, required=False, default="").strip()[:80]
    user = await svc.accounts.add_user(username, role, password, counters, display_name)
    await svc.accounts.audit(admin.username, "user_create", username, role=str(role), counters=counters)
    return {"user": user.public()}


async def _target_user(svc: Services, username: str):
    user = await svc.accounts.get_user(username) if USERNAME_RE.match(username or "") else None
    if user is None:
        raise AppError("not_found")
    return user


async def _other_admins(svc: Services, username: str) -> int:
    return sum(1 for u in await svc.accounts.list_users()
               if u.role == Role.ADMIN and not u.disabled and u.username != username)


@put("/api/admin/users/{username:str}", status_code=200, summary="Change a user's role, counters or name (admin)")
async def update_user(request: Request, svc: Svc, username: FromPath[str]) -> dict:
    admin = await require_user(request, svc, Role.ADMIN)
    lang = lang_of(request)
    user = await _target_user(svc, username)
    data = await read_json(request, max_bytes=4_000)
    changes: dict[str, Any] = {}
    if "role" in data:
        role = _role(lang, data["role"])
        if user.role == Role.ADMIN and role != Role.ADMIN and not await _other_admins(svc, username):
            raise _problem(lang, "role", "phải còn ít nhất một quản trị viên", "at least one admin must remain")
        changes["role"] = role
    if "counters" in data:
        changes["counters"] = await _counters(svc, lang, data["counters"])
    if "display_name" in data:
        changes["display_name"] = field(data, "display_name", str).strip()[:80]
    if not changes:
        raise _problem(lang, "", "không có thay đổi nào (role, counters, display_name)",
                       "nothing to change (role, counters, display_name)")
    for k, v in changes.items():
        setattr(user, k, v)
    if "role" in changes or "counters" in changes:
        user.sessions_after = int(time.time() * 1000)     # new rights take effect at the next login
    await svc.accounts.save_user(user)
    await svc.accounts.audit(admin.username, "user_update", username, **{k: str(v) for k, v in changes.items()})
    return {"user": user.public()}


@post("/api/admin/users/{username:str}/password", status_code=200, summary="Reset a user's password (admin)")
async def reset_password(request: Request, svc: Svc, username: FromPath[str]) -> dict:
    admin = await require_user(request, svc, Role.ADMIN)
    lang = lang_of(request)
    await _target_user(svc, username)
    data = await read_json(request, max_bytes=4_000)
    password = _password(lang, field(data, "password", str))
    await svc.accounts.set_password(username, password)
    await svc.limiter.clear_failures(username)
    await svc.accounts.audit(admin.username, "password_reset", username)
    return {"ok": True}


@post("/api/admin/users/{username:str}/unlock", status_code=200, summary="Lift a login lockout (admin)")
async def unlock_user(request: Request, svc: Svc, username: FromPath[str]) -> dict:
    admin = await require_user(request, svc, Role.ADMIN)
    await _target_user(svc, username)
    await svc.limiter.clear_failures(username)
    await svc.accounts.audit(admin.username, "user_unlock", username)
    return {"ok": True}


async def _set_disabled(request: Request, svc: Services, username: str, disabled: bool) -> dict:
    admin = await require_user(request, svc, Role.ADMIN)
    lang = lang_of(request)
    user = await _target_user(svc, username)
    if disabled and user.username == admin.username:
        raise _problem(lang, "username", "không thể tự khóa tài khoản của mình", "you cannot disable yourself")
    if disabled and user.role == Role.ADMIN and not await _other_admins(svc, username):
        raise _problem(lang, "username", "phải còn ít nhất một quản trị viên", "at least one admin must remain")
    user.disabled = disabled
    if disabled:
        user.sessions_after = int(time.time() * 1000)
    await svc.accounts.save_user(user)
    await svc.accounts.audit(admin.username, "user_disable" if disabled else "user_enable", username)
    return {"user": user.public()}


@post("/api/admin/users/{username:str}/disable", status_code=200, summary="Disable an account; its sessions end (admin)")
async def disable_user(request: Request, svc: Svc, username: FromPath[str]) -> dict:
    return await _set_disabled(request, svc, username, True)


@post("/api/admin/users/{username:str}/enable", status_code=200, summary="Enable an account (admin)")
async def enable_user(request: Request, svc: Svc, username: FromPath[str]) -> dict:
    return await _set_disabled(request, svc, username, False)


# -- devices -------------------------------------------------------------------------------------
def _device_name(lang: str, name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= 60:
        raise _problem(lang, "name", "tên thiết bị dài 1–60 ký tự", "device name must be 1–60 characters")
    return name


@get("/api/admin/devices", summary="Device tokens (kiosk, display, printer, rating); never the tokens (admin)")
async def list_devices(request: Request, svc: Svc) -> dict:
    await require_user(request, svc, Role.ADMIN)
    return {"devices": [d.public() for d in await svc.accounts.list_devices()]}


@post("/api/admin/devices", status_code=201, summary="Create a device; its token is shown once (admin)")
async def create_device(request: Request, svc: Svc) -> dict:
    admin = await require_user(request, svc, Role.ADMIN)
    lang = lang_of(request)
    data = await read_json(request, max_bytes=4_000)
    name = _device_name(lang, field(data, "name", str))
    try:
        kind = DeviceKind(field(data, "kind", str))
    except ValueError:
        raise _problem(lang, "kind", "loại thiết bị phải là kiosk, display, printer hoặc rating",
                       "kind must be kiosk, display, printer or rating") from None
    counter = field(data, "counter", int, required=False)
    if counter is not None:
        if (await svc.config.get()).counter(counter) is None:
            raise _problem(lang, "counter", f"không có quầy số {counter}", f"there is no counter {counter}")
    elif kind == DeviceKind.RATING:
        raise _problem(lang, "counter", "máy tính bảng đánh giá cần số quầy", "a rating tablet needs a counter")
    dev, token = await svc.accounts.add_device(name, kind, counter)
    await svc.accounts.audit(admin.username, "device_create", dev.id, name=name, kind=str(kind), counter=counter)
    return {"device": dev.public(), "token": token}


@post("/api/admin/display-pairing", status_code=201,
      summary="Pair the display showing this code: it gets a new display token (admin)")
async def pair_display(request: Request, svc: Svc) -> dict:
    admin = await require_user(request, svc, Role.ADMIN)
    lang = lang_of(request)
    data = await read_json(request, max_bytes=4_000)
    code = "".join(ch for ch in field(data, "code", str) if not ch.isspace())
    if len(code) != CODE_DIGITS or not code.isdigit():
        raise _problem(lang, "code", f"mã ghép nối gồm {CODE_DIGITS} chữ số", f"a pairing code is {CODE_DIGITS} digits")
    name = _device_name(lang, field(data, "name", str, required=False) or f"Màn hình {code}")
    pairings = Pairings(svc.redis, svc.keys)
    poll_id = await pairings.claim(code)
    if poll_id is None:
        raise AppError("pairing_not_found", pairing_code=code)
    dev, token = await svc.accounts.add_device(name, DeviceKind.DISPLAY)
    if not await pairings.deliver(poll_id, token):
        await svc.accounts.revoke_device(dev.id)
        raise AppError("pairing_expired")
    await svc.accounts.audit(admin.username, "device_pair", dev.id, name=name, kind=str(DeviceKind.DISPLAY))
    return {"device": dev.public()}


@post("/api/admin/devices/{device_id:str}/revoke", status_code=200, summary="Revoke a device token at once (admin)")
async def revoke_device(request: Request, svc: Svc, device_id: FromPath[str]) -> dict:
    admin = await require_user(request, svc, Role.ADMIN)
    if not await svc.accounts.revoke_device(device_id[:64]):
        raise AppError("not_found")
    await svc.accounts.audit(admin.username, "device_revoke", device_id)
    return {"ok": True}


# The display notice line and voice settings are served by the display
# module (GET/PUT /api/display/settings, admin role); the admin page calls it.


# -- audit log ------------------------------------------------------------------------------------------
@get("/api/admin/audit", summary="Recent audit log entries, newest first (admin, supervisor)")
async def audit_log(request: Request, svc: Svc, count: FromQuery[int] = 200, actor: FromQuery[str | None] = None) -> dict:
    await require_user(request, svc, Role.ADMIN, Role.SUPERVISOR)
    count = max(1, min(count, 2000))
    entries = await svc.accounts.audit_entries(count if not actor else 5000)
    if actor:
        entries = [e for e in entries if e.get("actor") == actor][:count]
    return {"entries": entries}


ROUTES = [get_config, put_config, get_holidays, list_users, create_user, update_user, reset_password, unlock_user,
          disable_user, enable_user, list_devices, create_device, pair_display, revoke_device,
          audit_log]
