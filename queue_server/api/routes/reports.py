"""Period reports (issue #11): the summary of a period with its filters
(supervisor, admin)."""

from __future__ import annotations

from typing import Annotated

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath, QueryParameter

from queue_server.api.auth import PUBLIC, access, authorize
from queue_server.api.deps import CurrentUser, Svc
from queue_server.api.http import field, read_json
from queue_server.api.openapi import documented, obj, string
from queue_server.api.pages import page
from queue_server.domain.accounts import Role
from queue_server.services.reports import FORMATS, Export, ExportJobReply, PeriodicReply, SummaryReply

SUPERVISORS = access(roles=(Role.SUPERVISOR, Role.ADMIN))
PERIOD_ERRORS = ("invalid_period", "invalid_filter")

From = Annotated[str | None, QueryParameter(name="from", description="first day, YYYY-MM-DD (site time)")]
To = Annotated[str | None, QueryParameter(name="to", description="last day, YYYY-MM-DD (site time), included")]
Category = Annotated[str | None, QueryParameter(name="category", description="a category code (of the issue)")]
CounterN = Annotated[str | None, QueryParameter(name="counter", description="a counter number (of the last call)")]
Clerk = Annotated[str | None, QueryParameter(name="clerk", description="a staff user name (of the last call)")]
Source = Annotated[str | None, QueryParameter(name="source", description="walk_in or appointment")]
Compare = Annotated[
    str | None,
    QueryParameter(name="compare", description="previous: add the figures of the period of as many days just before"),
]


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
    compare: Compare = None,
) -> SummaryReply:
    return await svc.reports.summary(from_, to, category, counter, clerk, source, compare)


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


EXPORT_BODY = obj(
    required=("format", "from", "to"),
    format=string("csv, xlsx or pdf", enum=list(FORMATS)),
    category=string("a category code (of the issue)"),
    counter=string("a counter number (of the last call)"),
    clerk=string("a staff user name (of the last call)"),
    source=string("walk_in or appointment"),
)
assert EXPORT_BODY.properties is not None  # "from" is a keyword: added by name
EXPORT_BODY.properties["from"] = string("first day, YYYY-MM-DD (site time)")
EXPORT_BODY.properties["to"] = string("last day, YYYY-MM-DD (site time), included")


@post(
    "/api/reports/exports",
    request_max_body_size=4_000,
    status_code=202,
    summary="Make the period's report file in the worker (supervisor, admin): its job, to poll for progress",
    opt=documented(
        SUPERVISORS,
        body=EXPORT_BODY,
        errors=(*PERIOD_ERRORS, "unsupported_format", "export_not_found"),
        reply=ExportJobReply,
    ),
)
async def start_export(request: Request, svc: Svc, user: CurrentUser) -> ExportJobReply:
    data = await read_json(request)
    args = [field(data, k, str, required=k in ("format", "from", "to")) for k in ("format", "from", "to")]
    filters = [field(data, k, str, required=False) for k in ("category", "counter", "clerk", "source")]
    return await svc.reports.start_export(user.username, *args, *filters)


@get(
    "/api/reports/exports/{job_id:str}",
    summary="How far the worker got with an export (0–100), and its file once done (who asked, or an admin)",
    opt=documented(SUPERVISORS, errors=("export_not_found",), reply=ExportJobReply),
)
async def export_state(svc: Svc, user: CurrentUser, job_id: FromPath[str]) -> ExportJobReply:
    return await svc.reports.export_state(job_id, user.username, user.role == Role.ADMIN)


@get(
    "/api/reports/exports/{job_id:str}/file",
    summary="The file an export job made (who asked for it, or an admin)",
    opt=documented(SUPERVISORS, errors=("export_not_found", "export_not_ready"), media="application/octet-stream"),
)
async def export_job_file(svc: Svc, user: CurrentUser, job_id: FromPath[str]) -> Response[bytes]:
    return _file(await svc.reports.export_file(job_id, user.username, user.role == Role.ADMIN))


@get(
    "/api/reports/periodic",
    summary="The month's and quarter's reports the worker made and keeps, newest first (supervisor, admin)",
    opt=documented(SUPERVISORS, reply=PeriodicReply),
)
async def periodic(svc: Svc) -> PeriodicReply:
    return await svc.reports.periodic()


@get(
    "/api/reports/periodic/{filename:str}",
    summary="One kept period report: thang-YYYY-MM or quy-YYYY-0Q, .xlsx or .pdf (supervisor, admin)",
    opt=documented(SUPERVISORS, errors=("export_not_found",), media="application/octet-stream"),
)
async def periodic_file(svc: Svc, filename: FromPath[str]) -> Response[bytes]:
    return _file(await svc.reports.periodic_file(filename))


@get(
    "/reports",
    summary="The reports page (HTML; its API needs a supervisor or an admin)",
    include_in_schema=False,
    opt=PUBLIC,
)
async def reports_page() -> Response[str]:
    return page("counter_app", "reports.html")


router = Router(
    path="/",
    route_handlers=[
        summary,
        export,
        start_export,
        export_state,
        export_job_file,
        periodic,
        periodic_file,
        events_export,
        reports_page,
    ],
    guards=[authorize],
)
