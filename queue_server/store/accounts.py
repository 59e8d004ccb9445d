"""Users, device tokens and sessions of one site in Redis."""

from __future__ import annotations

import json
import secrets
import time

from redis.asyncio import Redis

from queue_server.domain.accounts import USERNAME_RE, Device, DeviceKind, Role, User, token_digest
from queue_server.domain.passwords import hash_password, verify_password
from queue_server.store.connection import text
from queue_server.store.keys import Keys


def _now_ms() -> int:
    return int(time.time() * 1000)


class Accounts:
    def __init__(self, redis: Redis, keys: Keys, tag: str = ""):
        """`tag` starts every session id and device token made here (the
        site's credential tag, domain/sites.py; "" for the default site)."""
        self.redis = redis
        self.keys = keys
        self.tag = tag

    # -- users ---------------------------------------------------------------
    async def get_user(self, username: str) -> User | None:
        raw = await self.redis.hget(self.keys.users, username)
        if raw is None:
            return None
        return User.from_dict(json.loads(raw))

    async def list_users(self) -> list[User]:
        raw = await self.redis.hgetall(self.keys.users)
        return sorted((User.from_dict(json.loads(v)) for v in raw.values()), key=lambda u: u.username)

    async def save_user(self, user: User) -> None:
        await self.redis.hset(self.keys.users, user.username, json.dumps(user.to_dict(), ensure_ascii=False))

    async def add_user(
        self, username: str, role: Role, password: str, counters: list[int] | None = None, display_name: str = ""
    ) -> User:
        if not USERNAME_RE.match(username):
            raise ValueError(
                "tên đăng nhập chỉ gồm chữ thường không dấu, số, dấu chấm, gạch dưới, gạch ngang (2–32 ký tự)"
            )
        user = User(
            username=username,
            role=Role(role),
            password_hash=hash_password(password),
            counters=sorted(set(counters or [])),
            display_name=display_name,
        )
        await self.save_user(user)
        return user

    async def set_password(self, username: str, password: str) -> User | None:
        """New password; every open session of the user ends."""
        user = await self.get_user(username)
        if user is None:
            return None
        user.password_hash = hash_password(password)
        user.sessions_after = _now_ms()
        await self.save_user(user)
        return user

    async def delete_user(self, username: str) -> bool:
        return bool(await self.redis.hdel(self.keys.users, username))

    async def has_users(self) -> bool:
        return bool(await self.redis.hlen(self.keys.users))

    async def check_password(self, username: str, password: str) -> User | None:
        user = await self.get_user(username) if USERNAME_RE.match(username or "") else None
        ok = verify_password(user.password_hash if user else None, password)
        if not ok or user is None or user.disabled:
            return None
        return user

    # -- devices ---------------------------------------------------------------
    async def add_device(self, name: str, kind: DeviceKind, counter: int | None = None) -> tuple[Device, str]:
        """Create a device; returns it and its token, which is never stored in clear."""
        token = f"{self.tag}{DeviceKind(kind).value}_" + secrets.token_urlsafe(24)
        dev = Device(id=secrets.token_hex(6), name=name, kind=DeviceKind(kind), created_at=_now_ms(), counter=counter)
        await self.redis.hset(self.keys.devices, token_digest(token), json.dumps(dev.public(), ensure_ascii=False))
        return dev, token

    async def device_for_token(self, token: str) -> Device | None:
        if not token or len(token) > 200:
            return None
        raw = await self.redis.hget(self.keys.devices, token_digest(token))
        if raw is None:
            return None
        dev = Device.from_dict(json.loads(raw))
        return None if dev.revoked else dev

    async def list_devices(self) -> list[Device]:
        devices = (Device.from_dict(json.loads(v)) for v in (await self.redis.hgetall(self.keys.devices)).values())
        return sorted(devices, key=lambda d: (d.kind, d.name))

    async def touch_device(self, device_id: str, at_ms: int) -> None:
        """Record a device's last contact (the caller throttles)."""
        await self.redis.hset(self.keys.device_seen, device_id, str(at_ms))

    async def devices_seen(self) -> dict[str, int]:
        """Every device's last contact (ms), by device id."""
        return {text(k): int(v) for k, v in (await self.redis.hgetall(self.keys.device_seen)).items()}

    async def revoke_device(self, device_id: str) -> bool:
        for digest, v in (await self.redis.hgetall(self.keys.devices)).items():
            d = json.loads(v)
            if d["id"] == device_id and not d.get("revoked"):
                d["revoked"] = True
                await self.redis.hset(self.keys.devices, digest, json.dumps(d, ensure_ascii=False))
                return True
        return False

    # -- sessions ----------------------------------------------------------------
    async def create_session(self, user: User, idle_seconds: int) -> tuple[str, str]:
        sid = self.tag + secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(24)
        data = {"username": user.username, "csrf": csrf, "created_at": _now_ms()}
        await self.redis.set(self.keys.session(token_digest(sid)), json.dumps(data), ex=idle_seconds)
        return sid, csrf

    async def load_session(self, sid: str, idle_seconds: int) -> tuple[User, str] | None:
        if not sid or len(sid) > 100:
            return None
        key = self.keys.session(token_digest(sid))
        raw = await self.redis.get(key)
        if raw is None:
            return None
        data = json.loads(raw)
        user = await self.get_user(data["username"])
        if user is None or user.disabled or int(data.get("created_at", 0)) < user.sessions_after:
            await self.redis.delete(key)
            return None
        await self.redis.expire(key, idle_seconds)  # idle timeout slides
        return user, str(data["csrf"])

    async def end_session(self, sid: str) -> None:
        await self.redis.delete(self.keys.session(token_digest(sid)))
