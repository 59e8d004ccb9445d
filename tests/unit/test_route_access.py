"""Every route of the app declares who may call it, and every one of them
is guarded: a handler without an `Access` is closed by the guard."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from litestar.routes import HTTPRoute, WebSocketRoute

from queue_server.api.app import create_app
from queue_server.api.auth import Access, authorize
from queue_server.errors import AppError
from queue_server.settings import Settings


def _handlers():
    """Our handlers; not Litestar's own (the OpenAPI pages, automatic OPTIONS)."""
    app = create_app(Settings())  # no I/O: clients are created at startup only
    for r in app.routes:
        if r.path.startswith("/schema"):
            continue
        if isinstance(r, HTTPRoute):
            yield from ((r.path, h) for h in r.route_handlers if h.http_methods != {"OPTIONS"})
        elif isinstance(r, WebSocketRoute):
            yield r.path, r.route_handler


# sorted: the order must not depend on set iteration (pytest-xdist
# requires every worker to collect the same list)
HANDLERS = sorted(_handlers(), key=lambda ph: (ph[0], ph[1].handler_name))


@pytest.mark.parametrize("path,handler", HANDLERS, ids=[f"{p} {h.handler_name}" for p, h in HANDLERS])
def test_route_declares_access_and_is_guarded(path, handler):
    assert isinstance(handler.opt.get("access"), Access), f"{path}: no opt=access(...)"
    assert authorize in handler.resolve_guards(), f"{path}: not behind the authorize guard"


def test_a_handler_without_access_is_closed():
    handler = SimpleNamespace(opt={})
    with pytest.raises(AppError) as e:
        asyncio.run(authorize(SimpleNamespace(), handler))
    assert e.value.code == "forbidden"
