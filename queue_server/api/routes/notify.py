"""The outbox: the latest notices written by the `outbox` notifier (admin),
as JSON and as a page (/admin/outbox)."""

from typing import Any, TypedDict

from litestar import Response, Router, get
from litestar.params import FromQuery

from queue_server.api.auth import PUBLIC, access, authorize
from queue_server.api.deps import Svc
from queue_server.api.openapi import documented
from queue_server.api.pages import page
from queue_server.domain.accounts import Role

# no `from __future__ import annotations`: the TypedDicts below feed the OpenAPI (see api/replies.py)

ADMIN = access(roles=(Role.ADMIN,))


class OutboxMessage(TypedDict):
    to: str
    """The phone, E.164 (+84…)."""
    text: str
    kind: str
    """otp, confirmation, reminder or cancelled"""
    lang: str
    ref: str
    """The booking it is about."""
    created_at: int
    """ms since the epoch"""
    created: str
    """ISO 8601, UTC"""


class Outbox(TypedDict):
    messages: list[OutboxMessage]


@get(
    "/api/admin/outbox",
    summary="The latest notices in the outbox, newest first (admin)",
    opt=documented(ADMIN, reply=Outbox),
)
async def get_outbox(svc: Svc, limit: FromQuery[int] = 50) -> dict[str, Any]:
    return {"messages": await svc.outbox.latest(limit)}


@get(
    "/admin/outbox",
    summary="The outbox page (HTML; its data needs the admin role)",
    include_in_schema=False,
    opt=PUBLIC,
)
async def outbox_page() -> Response[str]:
    return page("counter_app", "outbox.html")


router = Router(path="/", route_handlers=[get_outbox, outbox_page], guards=[authorize])
