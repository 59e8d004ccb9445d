"""Litestar dependency providers."""

from __future__ import annotations

from litestar.datastructures import State

from queue_server.api.services import Services


def provide_services(state: State) -> Services:
    return state.services
