"""Who is calling: a logged-in user (session cookie + CSRF header) or a
device (bearer token, or ``?token=`` for pages and websockets)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from urllib.parse import urlsplit

from litestar.connection import ASGIConnection

from queue_server.api.services import Services
from queue_server.errors import AppError
from queue_server.security.accounts import Device, DeviceKind, Role, User

SESSION_COOKIE = "motcua_session"
CSRF_COOKIE = "motcua_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@dataclass
class Principal:
    user: User | None = None
    device: Device | None = None
    csrf: str | None = None

    @property
    def name(self) -> str:
        if self.user:
            return self.user.username
        if self.device:
            return f"device:{self.device.name}"
        return "anonymous"


def bearer_token(conn: ASGIConnection) -> str | None:
    auth = conn.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return conn.query_params.get("token") or None


async def authenticate(conn: ASGIConnection, svc: Services) -> Principal:
    token = bearer_token(conn)
    if token:
        dev = await svc.accounts.device_for_token(token)
        if dev is None:
            raise AppError("unauthorized")
        return Principal(device=dev)
    sid = conn.cookies.get(SESSION_COOKIE)
    if sid:
        loaded = await svc.accounts.load_session(sid, svc.settings.session_idle_minutes * 60)
        if loaded:
            user, csrf = loaded
            return Principal(user=user, csrf=csrf)
    return Principal()


async def device_of(conn: ASGIConnection, svc: Services, kind: DeviceKind) -> Device | None:
    """The device behind the connection's token if it is a `kind`, else None
    (for pages and sockets that answer a bad token themselves)."""
    try:
        p = await authenticate(conn, svc)
    except AppError:
        return None
    return p.device if p.device is not None and p.device.kind == kind else None


def _check_csrf(conn: ASGIConnection, p: Principal) -> None:
    method = conn.scope.get("method", "GET")
    if method in SAFE_METHODS:
        return
    sent = conn.headers.get(CSRF_HEADER, "")
    if not p.csrf or not sent or not hmac.compare_digest(sent, p.csrf):
        raise AppError("csrf_failed")


async def require_user(conn: ASGIConnection, svc: Services, *roles: Role) -> User:
    p = await authenticate(conn, svc)
    if p.user is None:
        raise AppError("unauthorized" if p.device is None else "forbidden")
    _check_csrf(conn, p)
    if roles and p.user.role not in roles:
        raise AppError("forbidden")
    return p.user


async def require_clerk_at(conn: ASGIConnection, svc: Services, counter: int) -> User:
    user = await require_user(conn, svc)
    if not user.may_use_counter(counter):
        raise AppError("counter_forbidden", counter=counter)
    return user


async def require_device(conn: ASGIConnection, svc: Services, *kinds: DeviceKind, allow_roles: tuple[Role, ...] = ()) -> Principal:
    """A device of one of `kinds`; users with `allow_roles` may act for it."""
    p = await authenticate(conn, svc)
    if p.device is not None:
        if p.device.kind not in kinds:
            raise AppError("forbidden")
        return p
    if p.user is not None and p.user.role in allow_roles:
        _check_csrf(conn, p)
        return p
    raise AppError("unauthorized" if p.user is None else "forbidden")


def same_origin(conn: ASGIConnection) -> bool:
    """A browser's websocket handshake must come from this site's own pages
    (cookies ride along on cross-site websockets; CSRF headers cannot)."""
    origin = conn.headers.get("origin")
    if not origin:
        return True          # not a browser
    host = conn.headers.get("host", "")
    return bool(host) and urlsplit(origin).netloc.lower() == host.lower()


async def socket_principal(conn: ASGIConnection, svc: Services) -> Principal:
    """Who opens a websocket; a cookie session only counts from our own origin."""
    try:
        p = await authenticate(conn, svc)
    except AppError:
        return Principal()
    if p.user is not None and not same_origin(conn):
        return Principal()
    return p
