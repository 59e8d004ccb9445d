"""The Litestar application factory. Clients are created at startup, never
at import time."""

from __future__ import annotations

import asyncio
import logging

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig

from queue_server import __version__
from queue_server.api.deps import provide_services
from queue_server.api.http import EXCEPTION_HANDLERS
from queue_server.api.routes import all_routes
from queue_server.api.services import build_services
from queue_server.config import SiteConfig
from queue_server.jobs import queue_for, schedule_close_day
from queue_server.settings import Settings


def create_app(settings: Settings | None = None, seed: SiteConfig | None = None) -> Litestar:
    settings = settings or Settings.from_env()

    async def startup(app: Litestar) -> None:
        services = await build_services(settings, seed)
        app.state.services = services
        cfg = await services.config.get()
        try:  # book tonight's close-day job for the RQ worker (idempotent per day)
            await asyncio.to_thread(schedule_close_day, queue_for(settings.redis_url), cfg,
                                    settings.redis_url, settings.config_path)
        except Exception as e:  # the desk works without it; say so in the log
            logging.getLogger("motcua").warning("could not schedule close-day job: %s", e)

    async def shutdown(app: Litestar) -> None:
        services = getattr(app.state, "services", None)
        if services is not None:
            await services.close()

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return Litestar(
        route_handlers=all_routes(),
        dependencies={"svc": Provide(provide_services, sync_to_thread=False)},
        on_startup=[startup],
        on_shutdown=[shutdown],
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=OpenAPIConfig(title="motcua API", version=__version__, path="/schema",
                                     description="Hệ thống xếp hàng – bộ phận một cửa cấp xã"),
        state=State({"settings": settings}),
        debug=False,
    )
