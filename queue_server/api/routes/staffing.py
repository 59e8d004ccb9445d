"""Staffing what-if (issue #15): a weekday simulated with the current plan and
a proposed one, and the Erlang C counters needed per hour (supervisor, admin)."""

from __future__ import annotations

from typing import Annotated

from litestar import Response, Router, get
from litestar.params import QueryParameter

from queue_server.api.auth import PUBLIC, access, authorize
from queue_server.api.deps import Svc
from queue_server.api.openapi import documented
from queue_server.api.pages import page
from queue_server.domain.accounts import Role
from queue_server.services.staffing import StaffingReply

SUPERVISORS = access(roles=(Role.SUPERVISOR, Role.ADMIN))

Weekday = Annotated[str | None, QueryParameter(name="weekday", description="0 = Monday … 6 = Sunday (default 0)")]
Open = Annotated[
    str | None, QueryParameter(name="open", description="counters open in each session, e.g. 5,3 (default: all)")
]
Profiles = Annotated[
    str | None,
    QueryParameter(name="profiles", description="work profile changes, e.g. 1:HT.CT;4:DD.KD (categories in order)"),
]
Share = Annotated[
    str | None, QueryParameter(name="appointment_share", description="share of visits booked online, 0–1")
]


@get(
    "/api/staffing/plan",
    summary="A weekday simulated with the current and a proposed staffing, by hour, with Erlang C (supervisor, admin)",
    opt=documented(SUPERVISORS, errors=("invalid_staffing",)),
)
async def plan(
    svc: Svc, weekday: Weekday = None, open_: Open = None, profiles: Profiles = None, share: Share = None
) -> StaffingReply:
    return await svc.staffing.plan(weekday, open_, profiles, share)


@get(
    "/staffing",
    summary="The staffing plan page (HTML; its API needs a supervisor or an admin)",
    include_in_schema=False,
    opt=PUBLIC,
)
async def staffing_page() -> Response[str]:
    return page("counter_app", "staffing.html")


router = Router(path="/", route_handlers=[plan, staffing_page], guards=[authorize])
