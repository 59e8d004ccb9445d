"""The Litestar application factory. Clients are created at startup, never
at import time."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig

from queue_server import __version__
from queue_server.api import jsonlog, logsafe, memtrace
from queue_server.api.context import LiveContext
from queue_server.api.deps import provide_caller, provide_live, provide_services, provide_user
from queue_server.api.gate import request_gate
from queue_server.api.http import EXCEPTION_HANDLERS, limit_guard, schema_not_found
from queue_server.api.metrics import Metrics, metrics_middleware
from queue_server.api.openapi import document
from queue_server.api.routes import all_routers
from queue_server.api.sites import SiteRuntime, Sites, keep_caches, site_router
from queue_server.bootstrap import build_province, build_services, build_stores
from queue_server.domain.config import SiteConfig, load_toml
from queue_server.domain.sites import SiteEntry
from queue_server.jobs import (
    queue_for,
    schedule_archive,
    schedule_backup,
    schedule_close_day,
    schedule_period_reports,
)
from queue_server.live import gcpolicy
from queue_server.live.board_feed import BoardFeed
from queue_server.live.broadcaster import Broadcaster
from queue_server.settings import Settings
from queue_server.store.clock import steady_ms
from queue_server.store.connection import open_redis
from queue_server.store.scripts import Scripts
from queue_server.store.sites import SiteRegistry

log = logging.getLogger("motcua")

# The body limit of a route that declares none (`request_max_body_size` on
# the handler: login 4,000 bytes, the configuration 200,000).
DEFAULT_MAX_BODY = 64_000


def create_app(settings: Settings | None = None, seed: SiteConfig | None = None) -> Litestar:
    settings = settings or Settings.from_env()

    async def startup(app: Litestar) -> None:
        redis = open_redis(settings.redis_url, settings.redis_max_connections)
        app.state.redis = redis
        stores = await build_stores(redis, seed or load_toml(settings.config_path), data_dir=settings.data_dir)
        # started after the clock was stepped back: what this process stamps still comes after what came before
        steady_ms.not_before(await stores.events.last_ts() or 0)
        services = build_services(stores, settings)
        broadcaster = Broadcaster(redis, stores.keys.channel)
        keep_caches(services, broadcaster, settings)  # before its first event
        await broadcaster.start()
        feed = BoardFeed(services.board, fanout_threads=settings.fanout_thread_count).attach(broadcaster)
        feed.fanout_observer = app.state.metrics.fanout.observe
        gc_task = None
        if settings.gc_deferred:
            gc_task = gcpolicy.GcKeeper().start(lambda: broadcaster.last_event_at)
        app.state.services = services
        app.state.live = LiveContext(broadcaster=broadcaster, board_feed=feed, gc_task=gc_task)
        if settings.tracemalloc_dir:  # finding a leak (api/memtrace.py)
            app.state.memtrace = memtrace.start(settings.tracemalloc_dir)
        cfg = await stores.config.get()
        json_format = getattr(app.state, "json_log_format", None)
        if json_format is not None:  # log times in the site's time zone
            json_format.tz = cfg.site.tz
        await schedule_site_jobs(cfg, settings.config_path)
        # the deployment's further sites (api/sites.py), served on their first request
        sites: Sites = Sites(
            redis,
            settings,
            cfg,
            SiteRuntime(cfg.site.id, services, app.state.live, default=True),
            app.state.metrics,
            on_added=lambda e: schedule_site_jobs_of(sites, e),
        ).bind(SiteRegistry(redis, stores.keys, Scripts(redis)))
        app.state.province = build_province(redis, cfg, settings, sites)
        app.state.sites = sites
        try:
            for entry in await sites.reload():  # every site's nightly jobs, booked once a day
                await schedule_site_jobs_of(sites, entry)
        except Exception as e:
            log.warning("could not read the sites: %s", e)

    async def schedule_site_jobs_of(sites: Sites, entry: SiteEntry) -> None:
        await schedule_site_jobs(await sites.config_of(entry), None)

    async def schedule_site_jobs(cfg: SiteConfig, config_path: str | None) -> None:
        """Book a site's close-day, archive and backup jobs for the RQ worker
        (each idempotent per day: the job ids dedupe)."""
        try:  # book tonight's close-day job for the RQ worker (idempotent per day)
            q = queue_for(settings.redis_url)
            data_dir = str(Path(settings.data_dir).resolve())
            await asyncio.to_thread(schedule_close_day, q, cfg, settings.redis_url, config_path, data_dir=data_dir)
            await asyncio.to_thread(schedule_archive, q, cfg.site.id, settings.redis_url, data_dir)
            await asyncio.to_thread(
                schedule_period_reports, q, cfg.site.id, cfg.site.timezone, settings.redis_url, data_dir
            )
        except Exception as e:  # the desk works without it; say so in the log
            log.warning("could not schedule close-day job: %s", e)
        try:  # and tonight's backup (queue_server/backup.py), also idempotent per day
            await asyncio.to_thread(
                schedule_backup,
                queue_for(settings.redis_url),
                cfg.site.id,
                cfg.site.timezone,
                settings.redis_url,
                str(settings.data_dir.resolve()),
                str(settings.backup_path.resolve()),
                settings.backup_keep_days,
            )
        except Exception as e:
            log.warning("could not schedule the backup job: %s", e)

    async def shutdown(app: Litestar) -> None:
        sites = getattr(app.state, "sites", None)
        if sites is not None:
            await sites.stop()
        await memtrace.stop(getattr(app.state, "memtrace", None))
        live = getattr(app.state, "live", None)
        if live is not None:
            await gcpolicy.stop(live.gc_task)
            await live.broadcaster.stop()
        redis = getattr(app.state, "redis", None)
        if redis is not None:
            await redis.aclose()

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = Litestar(
        route_handlers=all_routers(),
        dependencies={
            "svc": Provide(provide_services, sync_to_thread=False),
            "live": Provide(provide_live, sync_to_thread=False),
            "caller": Provide(provide_caller, sync_to_thread=False),
            "user": Provide(provide_user, sync_to_thread=False),
        },
        on_startup=[startup],
        on_shutdown=[shutdown],
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[metrics_middleware, request_gate],
        request_max_body_size=DEFAULT_MAX_BODY,
        openapi_config=OpenAPIConfig(
            title="motcua API",
            version=__version__,
            # throttled like the other public routes (MOTCUA_PUBLIC_LIMIT)
            openapi_router=Router(
                path="/schema", route_handlers=[], guards=[limit_guard], after_request=schema_not_found
            ),
            description="Hệ thống xếp hàng – bộ phận một cửa cấp xã",
        ),
        state=State({"settings": settings, "metrics": Metrics()}),
        debug=False,
    )
    document(app)  # error replies and request bodies in the OpenAPI
    app.asgi_handler = site_router(app, app.asgi_handler)  # /s/{site}/ before routing (api/sites.py)
    # after Litestar set up its own logging: no forged lines, no NUL from a request's path
    logsafe.install("", "uvicorn", "litestar")
    logsafe.install_redaction("uvicorn.access")
    logsafe.install_redaction("uvicorn.error")  # where uvicorn logs a websocket's path, ?token= and all
    if settings.log_json:  # one JSON object per line (api/jsonlog.py)
        app.state.json_log_format = jsonlog.install(
            seed.site.tz if seed else None, "", "uvicorn", "uvicorn.error", "uvicorn.access", "litestar"
        )
    return app
