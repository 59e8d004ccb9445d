"""Operations: readiness (`/readyz`) and Prometheus metrics (`/metrics`).
`/healthz` (liveness) is in core.py."""

from __future__ import annotations

import hmac
from typing import Any

from litestar import Request, Response, Router, get

from queue_server.api import replies
from queue_server.api.auth import PUBLIC, access, authorize
from queue_server.api.deps import Svc
from queue_server.api.metrics import CONTENT_TYPE
from queue_server.api.openapi import documented
from queue_server.domain.accounts import Role
from queue_server.errors import AppError


def not_ready_message(failed: list[str]) -> str:
    names = ", ".join(failed)
    return f"Hệ thống chưa sẵn sàng: {names}. / Not ready: {names}."


@get(
    "/readyz",
    summary="Readiness: Redis, AOF, free disk (required); worker heartbeat, print agent (reported)",
    opt=documented(PUBLIC, reply=replies.Readiness),
)
async def readyz(svc: Svc) -> Response[dict[str, Any]]:
    r = await svc.health.ready()
    if r["ok"]:
        return Response({"status": "ok", "checks": r["checks"]})
    return Response(
        {
            "status": "fail",
            "error": "unavailable",
            "message": not_ready_message(r["failed"]),
            "failed": r["failed"],
            "checks": r["checks"],
        },
        status_code=503,
    )


def _metrics_token_ok(request: Request, token: str) -> bool:
    if not token:  # no MOTCUA_METRICS_TOKEN: /metrics is off
        return False
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


@get(
    "/metrics",
    summary="Prometheus metrics (Authorization: Bearer $MOTCUA_METRICS_TOKEN)",
    opt=documented(PUBLIC, errors=("metrics_unauthorized",), media="text/plain"),
    media_type=CONTENT_TYPE,
)
async def metrics(request: Request, svc: Svc) -> Response[bytes]:
    """Public route that checks its own token: the metrics token is no user's or device's."""
    if not _metrics_token_ok(request, svc.settings.metrics_token):
        raise AppError("metrics_unauthorized")
    body = request.app.state.metrics.render(await svc.metrics.queues(), await svc.metrics.print_jobs())
    return Response(body, media_type=CONTENT_TYPE)


@get(
    "/api/admin/backup",
    summary="The last backup's result, where backups go, how long they are kept (admin)",
    opt=documented(access(roles=(Role.ADMIN,)), reply=replies.BackupStatus),
)
async def backup_status(svc: Svc) -> dict[str, Any]:
    return await svc.backups.status()


router = Router(path="/", route_handlers=[readyz, metrics, backup_status], guards=[authorize])
