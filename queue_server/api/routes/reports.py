"""Period reports (issue #11): the summary of a period with its filters
(supervisor, admin)."""

from __future__ import annotations

from typing import Annotated

from litestar import Response, Router, get
from litestar.params import QueryParameter

from queue_server.api.auth import PUBLIC, access, authorize
from queue_server.api.deps import Svc
from queue_server.api.openapi import documented
from queue_server.api.pages import page
from queue_server.domain.accounts import Role
from queue_server.services.reports import Export, SummaryReply

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
    summary="The summary of a period by the report definitions (supervisor, admin; a province user, of any site)",
    opt=documented(access(roles=(Role.SUPERVISOR, Role.ADMIN), province=True), errors=PERIOD_ERRORS),
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


Format = Annotated[str | None, QueryParameter(name="format", description="the file format")]


def _file(export: Export) -> Response[bytes]:
    return Response(
        export.content,
        media_type=export.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{export.filename}"',
            "Cache-Control": "no-store",
        },
    )


@get(
    "/api/reports/export",
    summary="The period's report as a file: format=csv (UTF-8 with BOM), xlsx or pdf (supervisor, admin)",
    # the OpenAPI names the CSV's type; format=xlsx and format=pdf answer theirs
    opt=documented(SUPERVISORS, errors=(*PERIOD_ERRORS, "unsupported_format"), media="text/csv"),
)
async def export(
    svc: Svc,
    fmt: Format = None,
    from_: From = None,
    to: To = None,
    category: Category = None,
    counter: CounterN = None,
    clerk: Clerk = None,
    source: Source = None,
) -> Response[bytes]:
    return _file(await svc.reports.export(fmt, from_, to, category, counter, clerk, source))


@get(
    "/api/events/export",
    summary="The raw events of a period: format=csv or parquet (admin)",
    opt=documented(access(roles=(Role.ADMIN,)), errors=("invalid_period", "unsupported_format"), media="text/csv"),
)
async def events_export(svc: Svc, fmt: Format = None, from_: From = None, to: To = None) -> Response[bytes]:
    return _file(await svc.reports.events_export(fmt, from_, to))


@get(
    "/reports",
    summary="The reports page (HTML; its API needs a supervisor or an admin)",
    include_in_schema=False,
    opt=PUBLIC,
)
async def reports_page() -> Response[str]:
    return page("counter_app", "reports.html")


router = Router(path="/", route_handlers=[summary, export, events_export, reports_page], guards=[authorize])
