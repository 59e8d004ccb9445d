"""Many sites in one process (domain/sites.py): which site a request is for,
and each site's services and live fan-out, built once per process on the
site's first request.

`site_router` wraps the application before Litestar routes a request:

- ``/s/{site}/rest`` is served as ``/rest`` for that site (an unknown site:
  404 JSON, or a websocket closed with 4404); its HTML pages get one script
  (counter_app/site.js) that keeps their absolute ``/api/...``, ``/ws/...``
  URLs and links under the prefix, and a redirect to ``/x`` goes to
  ``/s/{site}/x``;
- else a host name a site lists chooses it (no prefix);
- else the default site, exactly as a single-site deployment: and a page
  opened there with a token of another site (``?token=site~...``) is sent on
  to that site's prefix.

Handlers get the site's `Services` and `LiveContext` through the usual
dependencies (api/deps.py), which read them off the scope.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from litestar.types import ASGIApp, Receive, Scope

from queue_server.api.context import LiveContext
from queue_server.bootstrap import Services, build_services, build_stores
from queue_server.domain.config import SiteConfig
from queue_server.domain.sites import PROVINCE, NewSite, SiteEntry, credential_owner, credential_tag, new_site_config
from queue_server.errors import AppError, pick_language
from queue_server.live.board_feed import BoardFeed
from queue_server.live.broadcaster import Broadcaster, SharedSubscription
from queue_server.services.reports import ReportService
from queue_server.services.slots_cache import SlotsCache
from queue_server.settings import Settings
from queue_server.store import migrations
from queue_server.store.accounts import Accounts
from queue_server.store.config_store import ConfigStore
from queue_server.store.keys import Keys
from queue_server.store.scripts import Scripts
from queue_server.store.sites import SiteRegistry

log = logging.getLogger("motcua.sites")

SITE_SCOPE = "motcua.site"  # the SiteRuntime of the request
PREFIX_SCOPE = "motcua.prefix"  # "" or "/s/{site}"
# an unknown site id or host reloads the registry at most this often (per process)
RELOAD_MISS_S = 1.0
# the host names of sites are re-read this often
RELOAD_HOSTS_S = 30.0


@dataclass
class SiteRuntime:
    """One site as this process serves it."""

    id: str
    services: Services
    live: LiveContext
    default: bool = False


def keep_caches(services: Services, broadcaster: Broadcaster, settings: Settings) -> None:
    """The per-process caches of a site that its events keep right: the
    configuration and the slots replies (kept between bookings)."""
    services.appointments.slots_cache = SlotsCache(max_age_s=settings.slots_max_age_s)
    broadcaster.add_listener(services.appointments.slots_cache.on_event)
    broadcaster.add_listener(services.site.keep_config(settings.config_max_age_s))


async def start_live(
    redis: Any,
    services: Services,
    channel: str,
    settings: Settings,
    metrics: Any,
    shared: SharedSubscription | None = None,
) -> LiveContext:
    """A site's subscription (its channel: on `shared`, the process's one
    subscription for the added sites) and board feed, started."""
    broadcaster = Broadcaster(redis, channel, shared=shared)
    keep_caches(services, broadcaster, settings)
    await broadcaster.start()
    feed = BoardFeed(services.board, fanout_threads=settings.fanout_thread_count).attach(broadcaster)
    feed.fanout_observer = metrics.fanout.observe
    return LiveContext(broadcaster=broadcaster, board_feed=feed)


class Sites:
    """The sites this process serves: the default one (built at startup) and
    the registry's, each built on its first request and kept."""

    def __init__(
        self,
        redis: Any,
        settings: Settings,
        default_seed: SiteConfig,
        default: SiteRuntime,
        metrics: Any,
        on_added: Any = None,
    ):
        self.redis = redis
        self.settings = settings
        self.default_seed = default_seed
        self.default = default
        self.metrics = metrics
        self._registry: SiteRegistry | None = None
        self._on_added = on_added  # called with a SiteEntry: books its jobs
        self._entries: dict[str, SiteEntry] = {}
        self._hosts: dict[str, str] = {}
        self._loaded_at = 0.0
        self._missed_at = 0.0
        self._built: dict[str, SiteRuntime] = {default.id: default}
        self._lock = asyncio.Lock()
        # the added sites share one Redis subscription (live/broadcaster.py)
        self._shared: SharedSubscription | None = None

    def bind(self, registry: SiteRegistry) -> Sites:
        self._registry = registry
        return self

    # -- the registry, cached ---------------------------------------------------
    async def reload(self) -> list[SiteEntry]:
        assert self._registry is not None
        entries = await self._registry.list()
        self._entries = {e.id: e for e in entries}
        self._hosts = {h: e.id for e in entries for h in e.hosts}
        self._loaded_at = time.monotonic()
        return entries

    async def entry(self, site_id: str) -> SiteEntry | None:
        e = self._entries.get(site_id)
        if e is None and time.monotonic() - self._missed_at > RELOAD_MISS_S:
            self._missed_at = time.monotonic()
            await self.reload()
            e = self._entries.get(site_id)
        return e

    def may_map_hosts(self) -> bool:
        """Some site lists host names, or it is time to look again."""
        return bool(self._hosts) or time.monotonic() - self._loaded_at > RELOAD_HOSTS_S

    async def for_host(self, host: str) -> str | None:
        if time.monotonic() - self._loaded_at > RELOAD_HOSTS_S:
            try:
                await self.reload()
            except Exception as e:  # keep serving with what is known
                self._loaded_at = time.monotonic()
                log.warning("could not re-read the sites: %s", e)
        return self._hosts.get(host) if self._hosts else None

    # -- runtimes ---------------------------------------------------------------
    def seed_for(self, e: SiteEntry) -> SiteConfig:
        """A site's fallback configuration (it has its own in Redis since it was added)."""
        n = max(1, len(self.default_seed.counters))
        return new_site_config(self.default_seed, NewSite(e.id, e.name, e.timezone, n))

    async def config_of(self, e: SiteEntry) -> SiteConfig:
        """A site's live configuration, without building its runtime."""
        rt = self._built.get(e.id)
        if rt is not None:
            return await rt.services.site.config.get()
        return await ConfigStore(self.redis, Keys(e.id), Scripts(self.redis), self.seed_for(e)).get()

    async def runtime(self, site_id: str) -> SiteRuntime | None:
        """The site's runtime, built on first use; None: no such site."""
        rt = self._built.get(site_id)
        if rt is not None:
            return rt
        e = await self.entry(site_id)
        if e is None:
            return None
        async with self._lock:
            rt = self._built.get(site_id)
            if rt is None:
                stores = await build_stores(
                    self.redis, self.seed_for(e), e.id, self.settings.data_dir, credential_tag(e.id)
                )
                services = build_services(stores, self.settings)
                if self._shared is None:
                    self._shared = SharedSubscription(self.redis)
                live = await start_live(
                    self.redis, services, stores.keys.channel, self.settings, self.metrics, self._shared
                )
                rt = self._built[site_id] = SiteRuntime(e.id, services, live)
                log.info("serving site %s", e.id)
        return rt

    async def stop(self) -> None:
        for rt in list(self._built.values()):
            if not rt.default:
                await rt.live.broadcaster.stop()
        if self._shared is not None:
            await self._shared.stop()

    # -- SiteDirectory (services/province.py) ------------------------------------
    async def seed_site(self, cfg: SiteConfig) -> Accounts:
        await migrations.migrate(self.redis, Keys(cfg.site.id))  # a fresh site: stamped with the current layout
        stores = await build_stores(self.redis, cfg, cfg.site.id, self.settings.data_dir, credential_tag(cfg.site.id))
        return stores.accounts

    async def reports_of(self, site_id: str) -> ReportService | None:
        rt = self.default if site_id == self.default.id else await self.runtime(site_id)
        return rt.services.reports if rt else None

    async def site_added(self, entry: SiteEntry) -> None:
        await self.reload()
        if self._on_added is not None:
            await self._on_added(entry)


# -- the ASGI wrapper ---------------------------------------------------------------
def _json_reply(status: int, body: dict[str, Any]) -> tuple[Any, Any]:
    data = json.dumps(body, ensure_ascii=False).encode()
    start = {
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())],
    }
    return start, {"type": "http.response.body", "body": data}


def _header(scope: Scope, name: bytes) -> str:
    for k, v in scope.get("headers", ()):
        if k == name:
            return str(v.decode("latin-1"))
    return ""


async def _refuse(scope: Any, send: Any, err: AppError) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 4404 if err.status == 404 else 1011})
        return
    lang = pick_language(_header(scope, b"accept-language"))
    for m in _json_reply(err.status, err.body(lang)):
        await send(m)


def _prefixed_send(send: Any, prefix: str) -> Any:
    """Redirects stay under the prefix; an HTML page gets the prefix script."""
    script = f'<script src="{prefix}/static/counter-app/site.js"></script>'.encode()
    held: dict[str, Any] = {}

    async def wrapped(message: Any) -> None:
        if message["type"] == "http.response.start":
            headers = []
            html = False
            for k, v in message.get("headers", ()):
                if k.lower() == b"location" and v.startswith(b"/") and not v.startswith(b"//"):
                    if not v.startswith(prefix.encode() + b"/"):
                        v = prefix.encode() + v
                if k.lower() == b"content-type" and v.startswith(b"text/html"):
                    html = True
                headers.append((k, v))
            message = {**message, "headers": headers}
            if html:
                held["start"] = message
                held["body"] = b""
                return
        elif message["type"] == "http.response.body" and "start" in held:
            held["body"] += message.get("body", b"")
            if message.get("more_body"):
                return
            body = _inject(held["body"], script)
            start = held.pop("start")
            start["headers"] = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"] + [
                (b"content-length", str(len(body)).encode())
            ]
            await send(start)
            message = {"type": "http.response.body", "body": body}
        await send(message)

    return wrapped


def _inject(body: bytes, script: bytes) -> bytes:
    lower = body[:4096].lower()
    at = lower.find(b"<head>")
    if at >= 0:
        at += len(b"<head>")
        return body[:at] + script + body[at:]
    at = lower.find(b"<html")
    if at >= 0:
        end = body.find(b">", at)
        if end > 0:
            return body[: end + 1] + script + body[end + 1 :]
    return script + body


def _foreign_token_site(scope: Scope, default_id: str) -> str | None:
    """The site of a page's ``?token=`` when it is another site's."""
    qs = scope.get("query_string", b"")
    if b"token=" not in qs:
        return None
    token = parse_qs(qs.decode("latin-1")).get("token", [""])[0]
    owner = credential_owner(token)
    return owner if owner and owner not in (PROVINCE, default_id) else None


def site_router(app: Any, inner: ASGIApp) -> ASGIApp:
    """Wrap Litestar's handler (`app.asgi_handler`): runs before routing."""

    async def route(scope: Any, receive: Receive, send: Any) -> None:
        sites: Sites | None = getattr(app.state, "sites", None)
        if sites is None or scope["type"] not in ("http", "websocket"):
            await inner(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith("/s/"):
            site_id, slash, rest = path[3:].partition("/")
            try:
                rt = await sites.runtime(site_id) if site_id else None
            except Exception as e:  # Redis unreachable while building the site
                log.warning("site %s unavailable: %s", site_id, e)
                await _refuse(scope, send, AppError("unavailable"))
                return
            if rt is None:
                await _refuse(scope, send, AppError("site_not_found", site=site_id[:40]))
                return
            if not slash and scope["type"] == "http":  # /s/x -> /s/x/
                await send(
                    {"type": "http.response.start", "status": 308, "headers": [(b"location", path.encode() + b"/")]}
                )
                await send({"type": "http.response.body", "body": b""})
                return
            prefix = f"/s/{site_id}"
            scope["path"] = "/" + rest
            scope["raw_path"] = scope["path"].encode()
            scope[SITE_SCOPE] = rt
            scope[PREFIX_SCOPE] = prefix
            await inner(scope, receive, _prefixed_send(send, prefix) if scope["type"] == "http" else send)
            return
        rt = sites.default
        host_site = None
        if sites.may_map_hosts():
            host_site = await sites.for_host(_header(scope, b"host").lower())
        if host_site:
            try:
                rt = await sites.runtime(host_site) or rt
            except Exception as e:
                log.warning("site %s unavailable: %s", host_site, e)
                await _refuse(scope, send, AppError("unavailable"))
                return
        elif scope["type"] == "http" and scope.get("method") in ("GET", "HEAD") and not path.startswith("/api/"):
            owner = _foreign_token_site(scope, rt.id)
            if owner and await sites.entry(owner):
                qs = scope.get("query_string", b"")
                to = f"/s/{owner}{path}".encode() + (b"?" + qs if qs else b"")
                await send({"type": "http.response.start", "status": 307, "headers": [(b"location", to)]})
                await send({"type": "http.response.body", "body": b""})
                return
        scope[SITE_SCOPE] = rt
        scope[PREFIX_SCOPE] = ""
        await inner(scope, receive, send)

    return route


def site_of(scope: Any) -> SiteRuntime | None:
    """The request's site, as `site_router` put it in the scope."""
    rt: SiteRuntime | None = scope.get(SITE_SCOPE)
    return rt
