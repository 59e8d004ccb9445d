"""Staff roles, users and devices as plain data (no storage here)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,31}$")


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    CLERK = "clerk"
    # a province user (domain/sites.py): in the province's own account store,
    # never a site's; reads every site's report summary, nothing else there
    PROVINCE = "province"


STAFF = (Role.ADMIN, Role.SUPERVISOR, Role.CLERK)


class DeviceKind(StrEnum):
    KIOSK = "kiosk"
    DISPLAY = "display"
    PRINTER = "printer"
    RATING = "rating"


@dataclass
class User:
    username: str
    role: Role
    password_hash: str = ""
    counters: list[int] = field(default_factory=list)  # empty = any counter (admin, supervisor)
    display_name: str = ""
    disabled: bool = False
    # Sessions created before this instant (ms) are void: set on a password
    # reset, a role/counter change or when the account is disabled.
    sessions_after: int = 0

    def may_use_counter(self, n: int) -> bool:
        if self.role in (Role.ADMIN, Role.SUPERVISOR):
            return True
        return n in self.counters

    def public(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "role": str(self.role),
            "counters": self.counters,
            "display_name": self.display_name,
            "disabled": self.disabled,
        }

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["role"] = str(self.role)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> User:
        known = {k: v for k, v in d.items() if k in _USER_FIELDS}
        known["role"] = Role(known["role"])
        return cls(**known)


_USER_FIELDS = {"username", "role", "password_hash", "counters", "display_name", "disabled", "sessions_after"}


@dataclass
class Device:
    id: str
    name: str
    kind: DeviceKind
    created_at: int
    revoked: bool = False
    counter: int | None = None  # for a rating tablet: the counter it faces

    def public(self) -> dict[str, Any]:
        d = asdict(self)
        d["kind"] = str(self.kind)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Device:
        return cls(
            id=str(d["id"]),
            name=str(d["name"]),
            kind=DeviceKind(d["kind"]),
            created_at=int(d["created_at"]),
            revoked=bool(d.get("revoked")),
            counter=d.get("counter"),
        )


def token_digest(token: str) -> str:
    """What is stored of a device token or session id: never the secret itself."""
    return hashlib.sha256(token.encode()).hexdigest()
