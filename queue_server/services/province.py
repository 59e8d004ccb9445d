"""What a province user does across the sites of a deployment: list them,
add one (with its first admin), read the reports of all of them.

Province users live in an account store of their own (store/keys.py
`province_keys`), never in a site's: they log in here and may read any
site's report summary, nothing else of a site. The sites themselves are
reached through a `SiteDirectory` (the API's per-process site manager), so
this service never builds a store.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Protocol, TypedDict
from zoneinfo import ZoneInfo

from queue_server.domain.accounts import Role
from queue_server.domain.config import SiteConfig
from queue_server.domain.passwords import password_problem
from queue_server.domain.sites import NewSite, SiteEntry, SiteError, check_new_site, new_site_config
from queue_server.errors import AppError
from queue_server.services.reports import ReportService, Totals
from queue_server.store.accounts import Accounts
from queue_server.store.audit import AuditLog
from queue_server.store.sites import SiteRegistry

TOTALS = ("issued", "served", "no_show", "expired", "transferred")


class SiteDirectory(Protocol):
    """The sites of this deployment as the process serves them."""

    async def seed_site(self, cfg: SiteConfig) -> Accounts:
        """Store a new site's first configuration (unless it has one); its accounts."""
        ...

    async def reports_of(self, site_id: str) -> ReportService | None:
        """The report service of a site of the deployment, or None."""
        ...

    async def site_added(self, entry: SiteEntry) -> None:
        """A site was added: serve it and book its nightly jobs."""
        ...


class SiteRow(TypedDict):
    id: str
    name: str
    timezone: str
    hosts: list[str]
    default: bool
    path: str
    created_at: int


class SitesReply(TypedDict):
    sites: list[SiteRow]


class SiteReply(TypedDict):
    site: SiteRow


class SiteTotals(TypedDict):
    id: str
    name: str
    totals: Totals
    service_level: float | None


class ProvinceSummary(TypedDict):
    sites: list[SiteTotals]
    totals: Totals


def site_row(e: SiteEntry) -> SiteRow:
    return {
        "id": e.id,
        "name": e.name,
        "timezone": e.timezone,
        "hosts": list(e.hosts),
        "default": e.default,
        "path": "/" if e.default else f"/s/{e.id}/",
        "created_at": e.created_at,
    }


class ProvinceService:
    def __init__(
        self,
        registry: SiteRegistry,
        audit: AuditLog,
        default_config: SiteConfig,
        directory: SiteDirectory,
    ):
        """`default_config`: the default site's configuration, the pattern of a new site's."""
        self.registry = registry
        self.audit = audit
        self.default_config = default_config
        self.directory = directory

    def default_entry(self) -> SiteEntry:
        s = self.default_config.site
        return SiteEntry(id=s.id, name=s.name, timezone=s.timezone, default=True)

    async def entries(self) -> list[SiteEntry]:
        """The default site first, then the added ones by id."""
        return [self.default_entry(), *await self.registry.list()]

    async def sites(self) -> list[SiteRow]:
        return [site_row(e) for e in await self.entries()]

    async def add_site(self, actor: str, new: NewSite, admin_username: str, admin_password: str) -> SiteRow:
        """Add a site with `new.counters` counters and its first admin
        account; AppError invalid_site / site_exists otherwise."""
        taken = {e.id for e in await self.entries()}
        wanted = new.id.strip().lower()[:40]
        if wanted in taken:
            raise AppError("site_exists", site=wanted)
        try:
            s = check_new_site(new, taken)
            cfg = new_site_config(self.default_config, s)
        except SiteError as e:
            raise AppError("invalid_site", detail=str(e)) from None
        problem = password_problem(admin_password)
        if problem:
            raise AppError("invalid_site", detail=problem)
        # the configuration first: a site in the registry always has one
        accounts = await self.directory.seed_site(cfg)
        try:
            await accounts.add_user(admin_username.strip().lower(), Role.ADMIN, admin_password)
        except ValueError as e:
            raise AppError("invalid_site", detail=str(e)) from None
        entry = SiteEntry(
            id=s.id,
            name=s.name,
            timezone=s.timezone,
            hosts=s.hosts,
            created_at=int(time.time() * 1000),
            created_by=actor,
        )
        await self.registry.add(entry, actor)
        await self.audit.record(actor, "site_add", s.id, name=s.name, admin=admin_username)
        await self.directory.site_added(entry)
        return site_row(entry)

    async def summary(self, start: str | None, end: str | None) -> ProvinceSummary:
        """Each site's report totals for the period (its own time zone; no
        period: the site's today), and their sum."""
        rows: list[SiteTotals] = []
        total: dict[str, int] = {}
        for e in await self.entries():
            reports = await self.directory.reports_of(e.id)
            if reports is None:
                continue
            today = datetime.now(ZoneInfo(e.timezone)).date().isoformat()
            s = await reports.summary(start or end or today, end or start or today)
            rows.append({"id": e.id, "name": e.name, "totals": s["totals"], "service_level": s["service_level"]})
            t = s["totals"]
            for k in TOTALS:
                total[k] = total.get(k, 0) + int(t.get(k, 0) or 0)  # type: ignore[call-overload]
        return {
            "sites": rows,
            "totals": Totals(
                issued=total.get("issued", 0),
                served=total.get("served", 0),
                no_show=total.get("no_show", 0),
                expired=total.get("expired", 0),
                transferred=total.get("transferred", 0),
            ),
        }
