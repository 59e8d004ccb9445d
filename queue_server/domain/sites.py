"""Many sites in one deployment, as plain data (no storage here).

A deployment has one *default* site (the one its TOML configures: a single
commune sees nothing else) and any number of further sites a province admin
adds. A request is for the site of its path prefix ``/s/{site}/`` or of its
host name, else for the default site.

Every credential belongs to one site. A session id or device token made for
a site other than the default one starts with the site's *tag* (``site~``),
so a request can tell whose credential it carries without looking in every
site's accounts; an untagged credential is the default site's (all the
tokens that existed before there were sites). A province user's session
carries the province tag.
"""

from __future__ import annotations

import copy
import re
from dataclasses import asdict, dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from queue_server.domain.config import ConfigError, SiteConfig, parse_config

# What a site added by the province may be called: it becomes a path segment
# (/s/{id}/), a key's hash tag and a credential's tag.
SITE_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}\Z")
TAG_SEP = "~"
# The owner of province users' sessions (no site id can start with "_").
PROVINCE = "_province"
MAX_COUNTERS = 60
HOST_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,62}\.)*[a-z0-9-]{1,63}(:[0-9]{1,5})?\Z")


class SiteError(ValueError):
    """A site that cannot be added; the message says which field (Vietnamese)."""


def credential_tag(site_id: str) -> str:
    """What starts every credential made for `site_id` (not the default site's)."""
    return f"{site_id}{TAG_SEP}"


def credential_owner(credential: str) -> str | None:
    """The site (or PROVINCE) a credential was made for; None: untagged, the default site's."""
    owner, sep, _ = credential.partition(TAG_SEP)
    return owner if sep and owner else None


@dataclass(frozen=True)
class SiteEntry:
    """A site of the deployment's registry."""

    id: str
    name: str
    timezone: str = "Asia/Ho_Chi_Minh"
    hosts: tuple[str, ...] = ()  # host names that choose this site without a path prefix
    created_at: int = 0
    created_by: str = ""
    default: bool = False

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["hosts"] = list(self.hosts)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SiteEntry:
        return cls(
            id=str(d["id"]),
            name=str(d.get("name", "")),
            timezone=str(d.get("timezone", "Asia/Ho_Chi_Minh")),
            hosts=tuple(str(h) for h in d.get("hosts", ())),
            created_at=int(d.get("created_at", 0)),
            created_by=str(d.get("created_by", "")),
            default=bool(d.get("default", False)),
        )


@dataclass(frozen=True)
class NewSite:
    """What the province admin types to add a site."""

    id: str
    name: str
    timezone: str = "Asia/Ho_Chi_Minh"
    counters: int = 3
    hosts: tuple[str, ...] = field(default_factory=tuple)


def check_new_site(s: NewSite, taken: set[str]) -> NewSite:
    """The site, cleaned, or SiteError naming the bad field."""
    sid = s.id.strip().lower()
    if not SITE_ID_RE.match(sid):
        raise SiteError("mã đơn vị chỉ gồm chữ thường không dấu, số và gạch ngang (2–40 ký tự)")
    if sid in taken:
        raise SiteError(f"mã đơn vị “{sid}” đã có")
    name = " ".join(s.name.split())
    if not 2 <= len(name) <= 200:
        raise SiteError("tên đơn vị cần 2–200 ký tự")
    try:
        ZoneInfo(s.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SiteError(f"múi giờ “{s.timezone}” không tồn tại") from None
    if not 1 <= s.counters <= MAX_COUNTERS:
        raise SiteError(f"số quầy phải từ 1 đến {MAX_COUNTERS}")
    hosts = tuple(sorted({h.strip().lower() for h in s.hosts if h.strip()}))
    for h in hosts:
        if not HOST_RE.match(h):
            raise SiteError(f"tên miền “{h}” không hợp lệ")
    return NewSite(sid, name, s.timezone, s.counters, hosts)


def new_site_config(base: SiteConfig, s: NewSite) -> SiteConfig:
    """A new site's first configuration: the deployment's default one (its
    categories, hours, rules) under the new id, name and time zone, with
    `s.counters` counters that serve every category. Its admin edits the
    rest on its own admin page."""
    d = copy.deepcopy(base.to_dict())
    site = d["site"]
    site.update(id=s.id, name=s.name, name_en="", timezone=s.timezone, place="")
    site["report_body"] = f"TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG\n{s.name.upper()}"
    site["public_url"] = str(site.get("public_url", "")).rstrip("/") + f"/s/{s.id}"
    codes = [c["code"] for c in d["categories"]]
    d["counters"] = [{"number": n, "categories": codes} for n in range(1, s.counters + 1)]
    try:
        return parse_config(d)
    except ConfigError as e:
        raise SiteError(str(e)) from None
