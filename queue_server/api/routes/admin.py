"""Admin APIs behind /admin (admin role; the audit log also for supervisors)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get, post, put
from litestar.params import FromPath, FromQuery

from queue_server.api import replies
from queue_server.api.auth import access, authorize
from queue_server.api.deps import CurrentUser, Svc
from queue_server.api.http import field, lang_of, read_json
from queue_server.api.openapi import array, documented, integer, obj, string
from queue_server.domain.accounts import STAFF, DeviceKind, Role
from queue_server.services.admin import SECTIONS, device_name, problem
from queue_server.services.display import CODE_DIGITS

ADMIN = access(roles=(Role.ADMIN,))
# a refused field is config_invalid, naming it (services/admin.problem)
CHECKED = documented(ADMIN, errors=("config_invalid",), reply=replies.UserReply)
ROLE = string("The account's role", enum=[str(r) for r in STAFF])
COUNTERS = array(integer(minimum=1), "The counters a clerk works at")
DISPLAY_NAME = string("The name shown to colleagues", max_length=80)
PASSWORD = string("8–200 characters", max_length=200, min_length=8)


# -- configuration ---------------------------------------------------------------------
@get(
    "/api/admin/config", summary="The live site configuration (admin)", opt=documented(ADMIN, reply=replies.ConfigReply)
)
async def get_config(svc: Svc) -> dict[str, Any]:
    return {"config": await svc.admin.config_view(), "sections": list(SECTIONS)}


@put(
    "/api/admin/config",
    request_max_body_size=200_000,
    status_code=200,
    summary="Change sections of the configuration; applies live (admin)",
    opt=documented(
        ADMIN,
        body=obj(
            description="Only the sections to change: site, hours and queue merge their keys; "
            "categories and counters replace the list (`motcua config show` prints every field)",
            site=obj(free=True),
            hours=obj(free=True),
            queue=obj(free=True),
            categories=array(obj(free=True)),
            counters=array(obj(free=True)),
        ),
        errors=("config_invalid",),
        reply=replies.ConfigReply,
    ),
)
async def put_config(request: Request, svc: Svc, user: CurrentUser) -> dict[str, Any]:
    data = await read_json(request)
    cfg = await svc.admin.update_config(data, user.username, lang_of(request))
    return {"config": await svc.admin.config_view(cfg)}


@get(
    "/api/admin/holidays",
    summary="Vietnam's public holidays for a year, with the site's closures (admin)",
    opt=documented(ADMIN, reply=replies.Holidays),
)
async def get_holidays(svc: Svc, year: FromQuery[int | None] = None) -> dict[str, Any]:
    return await svc.admin.holidays(year)


# -- users ---------------------------------------------------------------------------------
@get("/api/admin/users", summary="Staff accounts (admin)", opt=documented(ADMIN, reply=replies.Users))
async def list_users(svc: Svc) -> dict[str, Any]:
    return {"users": [u.public() for u in await svc.admin.users()]}


@post(
    "/api/admin/users",
    request_max_body_size=4_000,
    status_code=201,
    summary="Create a staff account (admin)",
    opt=documented(
        ADMIN,
        body=obj(
            required=("username", "password"),
            username=string(
                "2–32 letters, digits, . _ - (kept lower-case)", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,31}$"
            ),
            password=PASSWORD,
            role=ROLE,
            counters=COUNTERS,
            display_name=DISPLAY_NAME,
        ),
        errors=("config_invalid",),
        reply=replies.UserReply,
    ),
)
async def create_user(request: Request, svc: Svc, user: CurrentUser) -> dict[str, Any]:
    data = await read_json(request)
    created = await svc.admin.create_user(data, user.username, lang_of(request))
    return {"user": created.public()}


@put(
    "/api/admin/users/{username:str}",
    request_max_body_size=4_000,
    status_code=200,
    summary="Change a user's role, counters or name (admin)",
    opt=documented(
        ADMIN,
        body=obj(description="Only what changes", role=ROLE, counters=COUNTERS, display_name=DISPLAY_NAME),
        errors=("config_invalid",),
        reply=replies.UserReply,
    ),
)
async def update_user(request: Request, svc: Svc, user: CurrentUser, username: FromPath[str]) -> dict[str, Any]:
    target = await svc.admin.user(username)
    data = await read_json(request)
    return {"user": (await svc.admin.update_user(target, data, user.username, lang_of(request))).public()}


@post(
    "/api/admin/users/{username:str}/password",
    request_max_body_size=4_000,
    status_code=200,
    summary="Reset a user's password (admin)",
    opt=documented(
        ADMIN,
        body=obj(required=("password",), password=PASSWORD),
        errors=("config_invalid",),
        reply=replies.Ok,
    ),
)
async def reset_password(request: Request, svc: Svc, user: CurrentUser, username: FromPath[str]) -> dict[str, Any]:
    target = await svc.admin.user(username)
    data = await read_json(request)
    await svc.admin.reset_password(target, data, user.username, lang_of(request))
    return {"ok": True}


@post(
    "/api/admin/users/{username:str}/unlock",
    status_code=200,
    summary="Lift a login lockout (admin)",
    opt=documented(ADMIN, reply=replies.Ok),
)
async def unlock_user(svc: Svc, user: CurrentUser, username: FromPath[str]) -> dict[str, Any]:
    await svc.admin.unlock(username, user.username)
    return {"ok": True}


@post(
    "/api/admin/users/{username:str}/disable",
    status_code=200,
    opt=CHECKED,
    summary="Disable an account; its sessions end (admin)",
)
async def disable_user(request: Request, svc: Svc, user: CurrentUser, username: FromPath[str]) -> dict[str, Any]:
    return {"user": (await svc.admin.set_disabled(username, True, user.username, lang_of(request))).public()}


@post("/api/admin/users/{username:str}/enable", status_code=200, summary="Enable an account (admin)", opt=CHECKED)
async def enable_user(request: Request, svc: Svc, user: CurrentUser, username: FromPath[str]) -> dict[str, Any]:
    return {"user": (await svc.admin.set_disabled(username, False, user.username, lang_of(request))).public()}


# -- devices -------------------------------------------------------------------------------------
@get(
    "/api/admin/devices",
    summary="Device tokens (kiosk, display, printer, rating); never the tokens (admin)",
    opt=documented(ADMIN, reply=replies.Devices),
)
async def list_devices(svc: Svc) -> dict[str, Any]:
    return {"devices": await svc.admin.devices()}


@post(
    "/api/admin/devices",
    request_max_body_size=4_000,
    status_code=201,
    summary="Create a device; its token is shown once (admin)",
    opt=documented(
        ADMIN,
        body=obj(
            required=("name", "kind"),
            name=string("1–60 characters", max_length=60),
            kind=string("What the device is", enum=[str(k) for k in DeviceKind]),
            counter=integer("The counter a rating tablet faces (required for kind rating)", minimum=1),
        ),
        errors=("config_invalid",),
        reply=replies.CreatedDevice,
    ),
)
async def create_device(request: Request, svc: Svc, user: CurrentUser) -> dict[str, Any]:
    data = await read_json(request)
    device, token = await svc.admin.create_device(data, user.username, lang_of(request))
    return {"device": device, "token": token}


@post(
    "/api/admin/display-pairing",
    request_max_body_size=4_000,
    status_code=201,
    opt=documented(
        ADMIN,
        body=obj(
            required=("code",),
            code=string(f"The {CODE_DIGITS}-digit code the display shows", pattern=rf"^[0-9]{{{CODE_DIGITS}}}$"),
            name=string("A name for the display", max_length=60),
        ),
        errors=("config_invalid", "pairing_not_found", "pairing_expired"),
        reply=replies.PairedDevice,
    ),
    summary="Pair the display showing this code: it gets a new display token (admin)",
)
async def pair_display(request: Request, svc: Svc, user: CurrentUser) -> dict[str, Any]:
    lang = lang_of(request)
    data = await read_json(request)
    code = "".join(ch for ch in field(data, "code", str) if not ch.isspace())
    if len(code) != CODE_DIGITS or not code.isdigit():
        raise problem(lang, "code", f"mã ghép nối gồm {CODE_DIGITS} chữ số", f"a pairing code is {CODE_DIGITS} digits")
    name = device_name(lang, field(data, "name", str, required=False) or f"Màn hình {code}")
    return {"device": await svc.display.pair(code, name, user.username)}


@post(
    "/api/admin/devices/{device_id:str}/revoke",
    status_code=200,
    summary="Revoke a device token at once (admin)",
    opt=documented(ADMIN, reply=replies.Ok),
)
async def revoke_device(svc: Svc, user: CurrentUser, device_id: FromPath[str]) -> dict[str, Any]:
    await svc.admin.revoke_device(device_id, user.username)
    return {"ok": True}


# The display notice line and voice settings are served by the display
# module (GET/PUT /api/display/settings, admin role); the admin page calls it.


# -- audit log ------------------------------------------------------------------------------------------
@get(
    "/api/admin/audit",
    summary="Recent audit log entries, newest first (admin, supervisor)",
    opt=documented(access(roles=(Role.ADMIN, Role.SUPERVISOR)), reply=replies.Audit),
)
async def audit_log(svc: Svc, count: FromQuery[int] = 200, actor: FromQuery[str | None] = None) -> dict[str, Any]:
    return {"entries": await svc.admin.audit_entries(count, actor)}


router = Router(
    path="/",
    route_handlers=[
        get_config,
        put_config,
        get_holidays,
        list_users,
        create_user,
        update_user,
        reset_password,
        unlock_user,
        disable_user,
        enable_user,
        list_devices,
        create_device,
        pair_display,
        revoke_device,
        audit_log,
    ],
    guards=[authorize],
)
