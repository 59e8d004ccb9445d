"""Login and logout for staff (session cookie + CSRF token)."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.datastructures import Cookie

from queue_server.api.auth import CSRF_COOKIE, SESSION_COOKIE, authenticate, require_user
from queue_server.api.deps import Svc
from queue_server.api.http import client_ip, field, read_json
from queue_server.api.services import Services
from queue_server.errors import AppError


def _cookies(svc: Services, sid: str, csrf: str, max_age: int | None) -> list[Cookie]:
    secure = svc.settings.secure_cookies
    return [
        Cookie(key=SESSION_COOKIE, value=sid, httponly=True, samesite="strict", secure=secure, path="/", max_age=max_age),
        Cookie(key=CSRF_COOKIE, value=csrf, httponly=False, samesite="strict", secure=secure, path="/", max_age=max_age),
    ]


@post("/api/auth/login", status_code=200, summary="Staff login: sets an HttpOnly session cookie, returns the CSRF token")
async def login(request: Request, svc: Svc) -> Response:
    data = await read_json(request, max_bytes=4_000)
    username = field(data, "username", str).strip().lower()
    password = field(data, "password", str)
    s = svc.settings
    ip = client_ip(request, s.trust_proxy)
    await svc.limiter.check("login-ip", ip, s.login_limit_per_minute)
    locked_ms = await svc.limiter.lockout(username, ip, s.lockout_failures)
    if locked_ms:
        raise AppError("account_locked", minutes=max(1, (locked_ms + 59_999) // 60_000))
    user = await svc.accounts.check_password(username, password)
    if user is None:
        n = await svc.limiter.record_failure(username, ip, s.lockout_minutes * 60_000)
        await svc.accounts.audit(username or "?", "login_failed", ip=ip, failures=n)
        if n >= s.lockout_failures:
            raise AppError("account_locked", minutes=s.lockout_minutes)
        raise AppError("login_failed")
    await svc.limiter.clear_failures(username)
    old_sid = request.cookies.get(SESSION_COOKIE)
    if old_sid:
        await svc.accounts.end_session(old_sid)        # a login never keeps an earlier session id alive
    sid, csrf = await svc.accounts.create_session(user, s.session_idle_minutes * 60)
    await svc.accounts.audit(user.username, "login", ip=ip)
    return Response(content={"user": user.public(), "csrf_token": csrf}, cookies=_cookies(svc, sid, csrf, None))


@post("/api/auth/logout", status_code=200, summary="End the session")
async def logout(request: Request, svc: Svc) -> Response:
    user = await require_user(request, svc)
    await svc.accounts.end_session(request.cookies.get(SESSION_COOKIE, ""))
    await svc.accounts.audit(user.username, "logout")
    return Response(content={"ok": True}, cookies=_cookies(svc, "", "", 0))


@get("/api/auth/me", summary="The logged-in user, or the device behind a token")
async def me(request: Request, svc: Svc) -> dict:
    p = await authenticate(request, svc)
    if p.user:
        return {"user": p.user.public(), "csrf_token": p.csrf}
    if p.device:
        return {"device": p.device.public()}
    raise AppError("unauthorized")


ROUTES = [login, logout, me]
