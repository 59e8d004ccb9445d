"""Operations: readiness (`/readyz`). `/healthz` (liveness) is in core.py."""

from __future__ import annotations

from typing import Any

from litestar import Response, Router, get

from queue_server.api.auth import PUBLIC, authorize
from queue_server.api.deps import Svc


def not_ready_message(failed: list[str]) -> str:
    names = ", ".join(failed)
    return f"Hệ thống chưa sẵn sàng: {names}. / Not ready: {names}."


@get(
    "/readyz",
    summary="Readiness: Redis, AOF, free disk (required); worker heartbeat, print agent (reported)",
    opt=PUBLIC,
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


router = Router(path="/", route_handlers=[readyz], guards=[authorize])
