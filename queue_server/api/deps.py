"""Litestar dependency providers."""

from __future__ import annotations

from litestar import Request
from litestar.di import NamedDependency
from litestar.types import Scope

from queue_server.api.context import LiveContext
from queue_server.api.sites import site_of
from queue_server.bootstrap import Services
from queue_server.domain.accounts import User
from queue_server.errors import AppError
from queue_server.services.auth import Principal

# The per-process services, injected into every handler as `svc: Svc`.
Svc = NamedDependency[Services]
# The live fan-out, for websocket handlers: `live: Live`.
Live = NamedDependency[LiveContext]
# Who called, as the route's guard found it: `caller: Caller`; the staff
# user for routes that require one: `user: CurrentUser`.
Caller = NamedDependency[Principal]
CurrentUser = NamedDependency[User]


def provide_services(scope: Scope) -> Services:
    """The services of the request's site (api/sites.py), else the default site's."""
    rt = site_of(scope)
    svc: Services = rt.services if rt is not None else scope["app"].state.services
    return svc


def provide_live(scope: Scope) -> LiveContext:
    rt = site_of(scope)
    live: LiveContext = rt.live if rt is not None else scope["app"].state.live
    return live


# The providers form a chain (svc <- caller <- user): Litestar resolves
# dependencies of one level concurrently, in an anyio task group per request,
# which cost ~2.5 % of a ticket issue's CPU; a chain resolves them in turn.
def provide_caller(request: Request, svc: NamedDependency[Services]) -> Principal:
    p: Principal | None = getattr(request.state, "principal", None)
    return p or Principal()


def provide_user(caller: NamedDependency[Principal]) -> User:
    if caller.user is None:
        raise AppError("unauthorized")
    return caller.user
