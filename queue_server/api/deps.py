"""Litestar dependency providers."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency

from queue_server.api.services import Services

# The per-process services, injected into every handler as `svc: Svc`.
Svc = NamedDependency[Services]


def provide_services(state: State) -> Services:
    return state.services
