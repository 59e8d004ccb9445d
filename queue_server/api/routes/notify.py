"""The outbox: the latest notices written by the `outbox` notifier (admin)."""

from __future__ import annotations

from typing import Any

from litestar import Router, get
from litestar.params import FromQuery

from queue_server.api.auth import access, authorize
from queue_server.api.deps import Svc
from queue_server.domain.accounts import Role

ADMIN = access(roles=(Role.ADMIN,))


@get("/api/admin/outbox", summary="The latest notices in the outbox, newest first (admin)", opt=ADMIN)
async def get_outbox(svc: Svc, limit: FromQuery[int] = 50) -> dict[str, Any]:
    return {"messages": await svc.outbox.latest(limit)}


router = Router(path="/", route_handlers=[get_outbox], guards=[authorize])
