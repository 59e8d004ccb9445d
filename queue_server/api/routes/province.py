"""The province level of a deployment (domain/sites.py): its admin page
/province, its users' login, the list of sites, adding a site, and the
reports of all sites. Province users are not any site's: they pass these
routes and the report summary of every site (/s/{site}/api/reports/summary),
nothing else."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, Router, get, post
from litestar.params import QueryParameter

from queue_server.api import replies
from queue_server.api.auth import PUBLIC, SESSION_COOKIE, access, authorize
from queue_server.api.deps import CurrentUser, Svc
from queue_server.api.http import client_ip, field, read_json
from queue_server.api.openapi import array, documented, integer, obj, string
from queue_server.api.pages import page
from queue_server.api.routes.auth import _cookies
from queue_server.bootstrap import Province
from queue_server.domain.sites import MAX_COUNTERS, NewSite
from queue_server.errors import AppError
from queue_server.services.province import ProvinceSummary, SiteReply, SitesReply

PROVINCE_ONLY = access(province=True)

From = Annotated[str | None, QueryParameter(name="from", description="first day, YYYY-MM-DD (each site's time)")]
To = Annotated[str | None, QueryParameter(name="to", description="last day, YYYY-MM-DD, included")]


def _province(request: Request[Any, Any, Any]) -> Province:
    p: Province = request.app.state.province
    return p


@get("/province", summary="The province admin page (HTML)", include_in_schema=False, opt=PUBLIC)
async def province_page() -> Response[str]:
    return page("counter_app", "province.html")


@post(
    "/api/province/login",
    request_max_body_size=4_000,
    status_code=200,
    opt=documented(
        PUBLIC,
        body=obj(required=("username", "password"), username=string(), password=string()),
        errors=("login_failed", "account_locked", "rate_limited"),
        reply=replies.LoggedIn,
    ),
    summary="Province user login: sets the session cookie, returns the CSRF token",
)
async def login(request: Request[Any, Any, Any], svc: Svc) -> Response[Any]:
    data = await read_json(request)
    username = field(data, "username", str)
    password = field(data, "password", str)
    done = await _province(request).auth.login(username, password, client_ip(request, svc.settings.trust_proxy), None)
    return Response(
        content={"user": done.user.public(), "csrf_token": done.csrf},
        cookies=_cookies(svc, done.session_id, done.csrf, None),
    )


@post(
    "/api/province/logout",
    status_code=200,
    summary="End the province session",
    opt=documented(PROVINCE_ONLY, reply=replies.Ok),
)
async def logout(request: Request[Any, Any, Any], svc: Svc, user: CurrentUser) -> Response[Any]:
    await _province(request).auth.logout(user, request.cookies.get(SESSION_COOKIE, ""))
    return Response(content={"ok": True}, cookies=_cookies(svc, "", "", 0))


@get(
    "/api/province/sites",
    summary="The deployment's sites, the default one first (province)",
    opt=documented(PROVINCE_ONLY, reply=SitesReply),
)
async def list_sites(request: Request[Any, Any, Any]) -> SitesReply:
    return {"sites": await _province(request).sites.sites()}


SITE_BODY = obj(
    required=("id", "name", "admin_username", "admin_password"),
    id=string("The site id: lower-case letters, digits, '-' (its pages are under /s/{id}/)", max_length=40),
    name=string("The site's name", max_length=200),
    timezone=string("IANA time zone (default Asia/Ho_Chi_Minh)", max_length=64),
    counters=integer("How many counters (each serves every category)", minimum=1, maximum=MAX_COUNTERS),
    hosts=array(string(max_length=253), "Host names that choose the site without the prefix"),
    admin_username=string("The site's first admin account"),
    admin_password=string("Its password"),
)


@post(
    "/api/province/sites",
    status_code=201,
    summary="Add a site with its first admin account (province)",
    opt=documented(PROVINCE_ONLY, body=SITE_BODY, errors=("invalid_site", "site_exists"), reply=SiteReply),
)
async def add_site(request: Request[Any, Any, Any], user: CurrentUser) -> SiteReply:
    data = await read_json(request)
    hosts = data.get("hosts", [])
    if not isinstance(hosts, list) or not all(isinstance(h, str) for h in hosts) or len(hosts) > 10:
        raise AppError("invalid_site", detail="hosts")
    counters = data.get("counters", 3)
    if not isinstance(counters, int) or isinstance(counters, bool):
        raise AppError("invalid_site", detail="counters")
    tz = data.get("timezone") or "Asia/Ho_Chi_Minh"
    if not isinstance(tz, str) or len(tz) > 64:
        raise AppError("invalid_site", detail="timezone")
    new = NewSite(
        id=field(data, "id", str),
        name=field(data, "name", str),
        timezone=tz,
        counters=counters,
        hosts=tuple(hosts),
    )
    row = await _province(request).sites.add_site(
        user.username, new, field(data, "admin_username", str), field(data, "admin_password", str)
    )
    return {"site": row}


@get(
    "/api/province/summary",
    summary="Each site's report totals for a period, and their sum (province)",
    opt=documented(PROVINCE_ONLY, errors=("invalid_period",), reply=ProvinceSummary),
)
async def summary(request: Request[Any, Any, Any], from_: From = None, to: To = None) -> ProvinceSummary:
    return await _province(request).sites.summary(from_, to)


router = Router(
    path="/",
    route_handlers=[province_page, login, logout, list_sites, add_site, summary],
    guards=[authorize],
)
