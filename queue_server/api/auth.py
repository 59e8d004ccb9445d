"""Who is calling, read off the connection: a device token (bearer, or
``?token=`` for pages and websockets) or a staff session cookie; and the
guard that enforces each route's declared `Access`.

Every HTTP route declares its access in ``opt={"access": ...}`` (see
`access`); `authorize`, the guard of every route module's Router, refuses
the rest: 401 for nobody, 403 for the wrong role or device, CSRF on cookie
writes, and a clerk only at her own counters. Websocket routes are declared
public to the guard and check the caller themselves, so they can answer
with a close code after accepting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from queue_server.api.sites import Sites, site_of
from queue_server.bootstrap import Services
from queue_server.domain.accounts import DeviceKind, Role
from queue_server.domain.sites import PROVINCE, credential_owner
from queue_server.errors import AppError
from queue_server.services.auth import Principal

SESSION_COOKIE = "motcua_session"
CSRF_COOKIE = "motcua_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@dataclass(frozen=True)
class Access:
    """Who may call a route. `users`: any logged-in staff (limited to `roles`
    when given); `devices`: these device kinds; `counter`: the user must be
    allowed at the path's counter ``{n}``; `public`: anyone (the handler may
    still check a token itself); `province`: a province user too (from the
    province's account store; she passes no other route of a site)."""

    public: bool = False
    users: bool = False
    roles: tuple[Role, ...] = ()
    devices: tuple[DeviceKind, ...] = ()
    counter: bool = False
    province: bool = False


def access(
    *,
    public: bool = False,
    users: bool = False,
    roles: tuple[Role, ...] = (),
    devices: tuple[DeviceKind, ...] = (),
    counter: bool = False,
    province: bool = False,
) -> dict[str, Access]:
    """The `opt` of a route handler: ``@get(..., opt=access(users=True))``."""
    return {
        "access": Access(
            public=public,
            users=users or bool(roles) or counter,
            roles=roles,
            devices=devices,
            counter=counter,
            province=province,
        )
    }


PUBLIC = access(public=True)


def services_of(conn: ASGIConnection[Any, Any, Any, Any]) -> Services:
    """The services of the request's site (api/sites.py)."""
    rt = site_of(conn.scope)
    svc: Services = rt.services if rt is not None else conn.app.state.services
    return svc


def bearer_token(conn: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    auth = conn.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return conn.query_params.get("token") or None


async def caller(conn: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The device or user behind the request's credential. A credential of
    another site (domain/sites.py: its tag) is refused with 403 wrong_site
    when it is valid there (401 when it is valid nowhere); a province user's
    session is read from the province's own store."""
    token = bearer_token(conn)
    session = None if token else conn.cookies.get(SESSION_COOKIE)
    credential = token or session
    sites: Sites | None = getattr(conn.app.state, "sites", None)
    if credential and sites is not None:
        owner = credential_owner(credential) or sites.default.id
        if owner == PROVINCE and session:
            p = await conn.app.state.province.auth.authenticate(None, session)
            if p.user is not None and p.user.role == Role.PROVINCE:
                p.province = True
                return p
            return Principal()
        here = site_of(conn.scope)
        if here is not None and owner != here.id:
            await _refuse_foreign(sites, owner, token, session)
    return await services_of(conn).auth.authenticate(token, session)


async def _refuse_foreign(sites: Sites, owner: str, token: str | None, session: str | None) -> None:
    """Raise wrong_site for a credential valid at its own site, else unauthorized."""
    try:
        other = await sites.runtime(owner) if owner != PROVINCE else None
    except Exception:
        other = None
    if other is not None:
        try:
            p = await other.services.auth.authenticate(token, session)
        except AppError:
            p = Principal()
        if p.user is not None or p.device is not None:
            raise AppError("wrong_site")
    raise AppError("unauthorized")


def check_csrf(conn: ASGIConnection[Any, Any, Any, Any], p: Principal) -> None:
    if conn.scope.get("method", "GET") not in SAFE_METHODS:
        p.check_csrf(conn.headers.get(CSRF_HEADER, ""))


def check_access(conn: ASGIConnection[Any, Any, Any, Any], p: Principal, acc: Access) -> None:
    if p.device is not None:
        if p.device.kind not in acc.devices:
            raise AppError("forbidden")
        return
    if p.user is not None and (p.province or p.user.role == Role.PROVINCE):
        if not (p.province and acc.province):
            raise AppError("forbidden")
        check_csrf(conn, p)
        return
    if p.user is None or not acc.users:
        raise AppError("unauthorized" if p.user is None else "forbidden")
    check_csrf(conn, p)
    if acc.roles and p.user.role not in acc.roles:
        raise AppError("forbidden")
    if acc.counter:
        n = conn.path_params.get("n")
        if not isinstance(n, int) or not p.user.may_use_counter(n):
            raise AppError("counter_forbidden", counter=n)


async def authorize(conn: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """The guard: enforce the handler's declared access; the caller is kept
    in ``conn.state.principal`` for the handler."""
    acc = handler.opt.get("access")
    if not isinstance(acc, Access):
        raise AppError("forbidden")  # a route that declares nothing is closed
    if acc.public:
        return
    p = await caller(conn)
    check_access(conn, p, acc)
    conn.state.principal = p


def same_origin(conn: ASGIConnection[Any, Any, Any, Any]) -> bool:
    """A browser's websocket handshake must come from this site's own pages
    (cookies ride along on cross-site websockets; CSRF headers cannot)."""
    origin = conn.headers.get("origin")
    if not origin:
        return True  # not a browser
    host = conn.headers.get("host", "")
    return bool(host) and urlsplit(origin).netloc.lower() == host.lower()


async def socket_principal(conn: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """Who opens a websocket; a cookie session only counts from our own origin."""
    try:
        p = await caller(conn)
    except AppError:
        return Principal()
    if p.user is not None and (p.province or not same_origin(conn)):
        return Principal()  # no live feed of a site is a province user's
    return p


async def device_of(conn: ASGIConnection[Any, Any, Any, Any], kind: DeviceKind) -> Any:
    """The device behind the connection's token if it is a `kind`, else None."""
    return await services_of(conn).auth.device(bearer_token(conn), kind)
