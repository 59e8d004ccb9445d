"""Building a process's stores and services: one way for the API, the RQ
worker, the command line and the tests.

`build_stores` binds every store to the site id of the configuration it is
given (never to a process-wide one) and touches Redis once, to seed the
site's configuration. `build_services` wires the use cases over them. Live
fan-out (the broadcaster, the GC keeper) is the API's own business and is
added by `queue_server.api.app` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from redis.asyncio import Redis

from queue_server.adapters.jobs import QUEUE_NAME, RqJobQueue
from queue_server.adapters.notify import ConfiguredNotifier, Outbox
from queue_server.domain.config import SiteConfig
from queue_server.domain.sites import PROVINCE, credential_tag
from queue_server.services.admin import AdminService
from queue_server.services.appointments import AppointmentService
from queue_server.services.auth import AuthService
from queue_server.services.backups import BackupStatus
from queue_server.services.board import BoardService
from queue_server.services.counters import CounterService
from queue_server.services.display import DisplayService
from queue_server.services.health import HealthService
from queue_server.services.limits import Limits
from queue_server.services.metrics import MetricsService
from queue_server.services.notify import JobQueue, Notifier, OutboxService
from queue_server.services.printing import PrintService
from queue_server.services.province import ProvinceService, SiteDirectory
from queue_server.services.ratings import RatingService
from queue_server.services.reports import ReportService
from queue_server.services.room import RoomService
from queue_server.services.site import SiteService
from queue_server.services.staffing import StaffingService
from queue_server.services.supervisor import SupervisorService
from queue_server.services.tickets import TicketService
from queue_server.settings import Settings
from queue_server.store.accounts import Accounts
from queue_server.store.appointments import AppointmentStore
from queue_server.store.archive import EventArchive
from queue_server.store.audit import AuditLog
from queue_server.store.backups import BackupLog
from queue_server.store.config_store import ConfigStore
from queue_server.store.connection import is_cluster_url, open_redis
from queue_server.store.display_settings import DisplaySettings
from queue_server.store.events import EventLog
from queue_server.store.health import HealthProbe
from queue_server.store.keys import Keys, province_keys
from queue_server.store.pairing import Pairings
from queue_server.store.printing import PrintQueue
from queue_server.store.ratelimit import RateLimiter
from queue_server.store.room import RoomStore
from queue_server.store.scripts import Scripts
from queue_server.store.sites import SiteRegistry
from queue_server.store.tickets import TicketStore


@dataclass
class Stores:
    """Every store of one site, over one Redis client."""

    keys: Keys
    config: ConfigStore
    tickets: TicketStore
    events: EventLog
    printing: PrintQueue
    display: DisplaySettings
    accounts: Accounts
    audit: AuditLog
    pairings: Pairings
    limiter: RateLimiter
    appointments: AppointmentStore
    archive: EventArchive
    health: HealthProbe
    backups: BackupLog
    room: RoomStore


async def build_stores(
    redis: Redis,
    seed: SiteConfig,
    site_id: str | None = None,
    data_dir: Path | str = "var",
    credential_tag: str = "",
) -> Stores:
    """The stores of site `site_id` (default: the seed's), seeding its
    configuration in Redis unless it has one. The event archive lives under
    `data_dir`. `credential_tag` starts the site's new session ids and device
    tokens (domain/sites.py: "" for the deployment's default site)."""
    keys = Keys(site_id or seed.site.id)
    scripts = Scripts(redis)
    config = ConfigStore(redis, keys, scripts, seed)
    await config.ensure()
    tickets = TicketStore(redis, keys, scripts, config)
    return Stores(
        keys=keys,
        config=config,
        tickets=tickets,
        events=EventLog(redis, keys),
        printing=PrintQueue(redis, keys, scripts),
        display=DisplaySettings(redis, keys, scripts),
        accounts=Accounts(redis, keys, credential_tag),
        audit=AuditLog(redis, keys),
        pairings=Pairings(redis, keys),
        limiter=RateLimiter(redis, scripts, keys),
        appointments=AppointmentStore(redis, keys, scripts),
        archive=EventArchive(redis, keys, scripts, Path(data_dir)),
        health=HealthProbe(redis),
        backups=BackupLog(redis, keys),
        room=RoomStore(redis, keys, scripts, tickets),
    )


@dataclass
class Services:
    """The use cases of one site."""

    settings: Settings
    site: SiteService
    auth: AuthService
    limits: Limits
    tickets: TicketService
    counters: CounterService
    ratings: RatingService
    board: BoardService
    printing: PrintService
    display: DisplayService
    admin: AdminService
    appointments: AppointmentService
    outbox: OutboxService
    notifier: Notifier
    supervisor: SupervisorService
    reports: ReportService
    staffing: StaffingService
    health: HealthService
    metrics: MetricsService
    backups: BackupStatus
    room: RoomService


def outbox_dir(settings: Settings) -> Path:
    return Path(settings.data_dir) / "outbox"


def build_services(
    stores: Stores, settings: Settings, *, notifier: Notifier | None = None, jobs: JobQueue | None = None
) -> Services:
    """`notifier` (default: the one [notify] of the live configuration names,
    the outbox under the data dir) and `jobs` (default: RQ on settings.rq_redis_url)."""
    s = stores
    jobs = jobs if jobs is not None else RqJobQueue(settings.redis_url, settings.rq_redis_url)
    probe = s.health
    if is_cluster_url(settings.redis_url):  # RQ's workers register on RQ's own Redis
        probe = HealthProbe(s.health.redis, workers=open_redis(settings.rq_redis_url, max_connections=2))
    outbox = Outbox(outbox_dir(settings))
    notifier = notifier if notifier is not None else ConfiguredNotifier(s.config, outbox, jobs)
    printing = PrintService(s.config, s.tickets, s.printing, s.audit)
    room = RoomService(s.config, s.tickets, s.room, notifier, jobs)
    appointments = AppointmentService(
        s.config, s.appointments, s.audit, s.tickets, printing, notifier=notifier, limiter=s.limiter, jobs=jobs
    )
    return Services(
        settings=settings,
        site=SiteService(s.config),
        auth=AuthService(s.accounts, s.limiter, s.audit, settings),
        limits=Limits(s.limiter, settings),
        tickets=TicketService(s.config, s.tickets, s.events, s.audit, printing, room),
        counters=CounterService(s.config, s.tickets, s.events, s.audit, room),
        ratings=RatingService(s.config, s.tickets, s.audit),
        board=BoardService(s.config, s.tickets, s.events, s.display, room),
        printing=printing,
        display=DisplayService(s.config, s.display, s.audit, s.pairings, s.accounts),
        admin=AdminService(s.config, s.accounts, s.audit, s.limiter, appointments),
        appointments=appointments,
        outbox=OutboxService(outbox),
        notifier=notifier,
        supervisor=SupervisorService(s.config, s.tickets, s.events),
        reports=ReportService(
            s.config, s.archive, jobs=jobs if isinstance(jobs, RqJobQueue) else None, data_dir=settings.data_dir
        ),
        staffing=StaffingService(s.config, s.archive),
        health=HealthService(
            probe, s.printing, settings.data_dir, QUEUE_NAME, settings.min_free_disk_mb, settings.ready_require
        ),
        metrics=MetricsService(s.config, s.tickets, s.printing),
        backups=BackupStatus(s.backups, settings),
        room=room,
    )


@dataclass
class Province:
    """The deployment's province level: its own accounts (province users) and
    the use cases across sites (services/province.py)."""

    auth: AuthService
    sites: ProvinceService


def build_province(redis: Redis, default_config: SiteConfig, settings: Settings, directory: SiteDirectory) -> Province:
    """Over the default site's registry and the province keyspace (store/keys.py)."""
    default_keys = Keys(default_config.site.id)
    pkeys = province_keys(default_config.site.id)
    scripts = Scripts(redis)
    audit = AuditLog(redis, pkeys)
    accounts = Accounts(redis, pkeys, credential_tag(PROVINCE))
    return Province(
        auth=AuthService(accounts, RateLimiter(redis, scripts, pkeys), audit, settings),
        sites=ProvinceService(SiteRegistry(redis, default_keys, scripts), audit, default_config, directory),
    )
