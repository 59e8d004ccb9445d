"""Period reports (issue #11): the summary of a period with its filters
(supervisor, admin)."""

from __future__ import annotations

from typing import Annotated

from litestar import Router, get
from litestar.params import QueryParameter

from queue_server.api.auth import access, authorize
from queue_server.api.deps import Svc
from queue_server.api.openapi import documented
from queue_server.domain.accounts import Role
from queue_server.services.reports import SummaryReply

SUPERVISORS = access(roles=(Role.SUPERVISOR, Role.ADMIN))
PERIOD_ERRORS = ("invalid_period", "invalid_filter")

From = Annotated[str | None, QueryParameter(name="from", description="first day, YYYY-MM-DD (site time)")]
To = Annotated[str | None, QueryParameter(name="to", description="last day, YYYY-MM-DD (site time), included")]
Category = Annotated[str | None, QueryParameter(name="category", description="a category code (of the issue)")]
CounterN = Annotated[str | None, QueryParameter(name="counter", description="a counter number (of the last call)")]
Clerk = Annotated[str | None, QueryParameter(name="clerk", description="a staff user name (of the last call)")]
Source = Annotated[str | None, QueryParameter(name="source", description="walk_in or appointment")]


@get(
    "/api/reports/summary",
    summary="The summary of a period by the report definitions (supervisor, admin)",
    opt=documented(SUPERVISORS, errors=PERIOD_ERRORS),
)
async def summary(
    svc: Svc,
    from_: From = None,
    to: To = None,
    category: Category = None,
    counter: CounterN = None,
    clerk: Clerk = None,
    source: Source = None,
) -> SummaryReply:
    return await svc.reports.summary(from_, to, category, counter, clerk, source)


router = Router(path="/", route_handlers=[summary], guards=[authorize])
