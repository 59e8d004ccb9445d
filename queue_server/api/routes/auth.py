"""Login and logout for staff (session cookie + CSRF token)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.datastructures import Cookie

from queue_server.api import replies
from queue_server.api.auth import CSRF_COOKIE, PUBLIC, SESSION_COOKIE, access, authorize, caller
from queue_server.api.deps import CurrentUser, Svc
from queue_server.api.http import client_ip, field, read_json
from queue_server.api.openapi import documented, obj, string
from queue_server.bootstrap import Services
from queue_server.errors import AppError


def _cookies(svc: Services, sid: str, csrf: str, max_age: int | None) -> list[Cookie]:
    secure = svc.settings.secure_cookies
    return [
        Cookie(
            key=SESSION_COOKIE, value=sid, httponly=True, samesite="strict", secure=secure, path="/", max_age=max_age
        ),
        Cookie(
            key=CSRF_COOKIE, value=csrf, httponly=False, samesite="strict", secure=secure, path="/", max_age=max_age
        ),
    ]


@post(
    "/api/auth/login",
    request_max_body_size=4_000,
    status_code=200,
    opt=documented(
        PUBLIC,
        body=obj(required=("username", "password"), username=string(), password=string()),
        errors=("login_failed", "account_locked", "rate_limited"),
        reply=replies.LoggedIn,
    ),
    summary="Staff login: sets an HttpOnly session cookie, returns the CSRF token",
)
async def login(request: Request, svc: Svc) -> Response[Any]:
    data = await read_json(request)
    username = field(data, "username", str)
    password = field(data, "password", str)
    done = await svc.auth.login(
        username, password, client_ip(request, svc.settings.trust_proxy), request.cookies.get(SESSION_COOKIE)
    )
    return Response(
        content={"user": done.user.public(), "csrf_token": done.csrf},
        cookies=_cookies(svc, done.session_id, done.csrf, None),
    )


@post(
    "/api/auth/logout", status_code=200, summary="End the session", opt=documented(access(users=True), reply=replies.Ok)
)
async def logout(request: Request, svc: Svc, user: CurrentUser) -> Response[Any]:
    await svc.auth.logout(user, request.cookies.get(SESSION_COOKIE, ""))
    return Response(content={"ok": True}, cookies=_cookies(svc, "", "", 0))


@get(
    "/api/auth/me",
    summary="The logged-in user, or the device behind a token",
    opt=documented(PUBLIC, errors=("unauthorized",), reply=replies.Me),
)
async def me(request: Request) -> dict[str, Any]:
    p = await caller(request)
    if p.user:
        return {"user": p.user.public(), "csrf_token": p.csrf}
    if p.device:
        return {"device": p.device.public()}
    raise AppError("unauthorized")


router = Router(path="/", route_handlers=[login, logout, me], guards=[authorize])
