"""Who is calling: a staff login (session + CSRF token) or a device token;
logging in and out with rate limits and lockout."""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass

from queue_server.domain.accounts import Device, DeviceKind, User
from queue_server.errors import AppError
from queue_server.settings import Settings
from queue_server.store.accounts import Accounts
from queue_server.store.audit import AuditLog
from queue_server.store.ratelimit import RateLimiter

TOUCH_EVERY_MS = 60_000  # a device's last contact is written at most this often


@dataclass
class Principal:
    user: User | None = None
    device: Device | None = None
    csrf: str | None = None
    # a province user, from the province's account store (services/province.py)
    province: bool = False

    @property
    def name(self) -> str:
        if self.user:
            return self.user.username
        if self.device:
            return f"device:{self.device.name}"
        return "anonymous"

    def check_csrf(self, sent: str) -> None:
        """A state-changing request of a cookie session must echo its CSRF token."""
        if (
            not self.csrf
            or not sent
            or not hmac.compare_digest(sent.encode("utf-8", "replace"), self.csrf.encode("utf-8"))
        ):
            raise AppError("csrf_failed")


@dataclass
class Login:
    user: User
    session_id: str
    csrf: str


class AuthService:
    def __init__(self, accounts: Accounts, limiter: RateLimiter, audit: AuditLog, settings: Settings):
        self.accounts = accounts
        self.limiter = limiter
        self.audit = audit
        self.settings = settings

        self._touched: dict[str, int] = {}  # device id -> when this process last recorded it (ms)

    async def touch(self, dev: Device) -> None:
        """Record that a device was in contact: at most once a minute per
        device and process, so a busy kiosk or board costs nothing extra."""
        now = int(time.time() * 1000)
        if now - self._touched.get(dev.id, 0) < TOUCH_EVERY_MS:
            return
        self._touched[dev.id] = now
        await self.accounts.touch_device(dev.id, now)

    @property
    def idle_seconds(self) -> int:
        return self.settings.session_idle_minutes * 60

    async def authenticate(self, token: str | None, session_id: str | None) -> Principal:
        """The device behind a token (a bad token is refused), else the user of
        a live session, else nobody."""
        if token:
            dev = await self.accounts.device_for_token(token)
            if dev is None:
                raise AppError("unauthorized")
            await self.touch(dev)
            return Principal(device=dev)
        if session_id:
            loaded = await self.accounts.load_session(session_id, self.idle_seconds)
            if loaded:
                user, csrf = loaded
                return Principal(user=user, csrf=csrf)
        return Principal()

    async def device(self, token: str | None, kind: DeviceKind) -> Device | None:
        """The device behind `token` if it is a `kind`, else None (for pages and
        sockets that answer a bad token themselves)."""
        try:
            p = await self.authenticate(token, None)
        except AppError:
            return None
        return p.device if p.device is not None and p.device.kind == kind else None

    async def session_user(self, session_id: str) -> User | None:
        """The user of a session that is still valid (a live feed rechecks it)."""
        loaded = await self.accounts.load_session(session_id, self.idle_seconds)
        return loaded[0] if loaded else None

    async def login(self, username: str, password: str, address: str, old_session: str | None) -> Login:
        s = self.settings
        username = username.strip().lower()
        await self.limiter.check("login-ip", address, s.login_limit_per_minute)
        locked_ms = await self.limiter.lockout(username, address, s.lockout_failures)
        if locked_ms:
            raise AppError("account_locked", minutes=max(1, (locked_ms + 59_999) // 60_000))
        user = await self.accounts.check_password(username, password)
        if user is None:
            n = await self.limiter.record_failure(username, address, s.lockout_minutes * 60_000)
            await self.audit.record(username or "?", "login_failed", ip=address, failures=n)
            if n >= s.lockout_failures:
                raise AppError("account_locked", minutes=s.lockout_minutes)
            raise AppError("login_failed")
        await self.limiter.clear_failures(username)
        if old_session:
            await self.accounts.end_session(old_session)  # a login never keeps an earlier session id alive
        sid, csrf = await self.accounts.create_session(user, self.idle_seconds)
        await self.audit.record(user.username, "login", ip=address)
        return Login(user, sid, csrf)

    async def logout(self, user: User, session_id: str) -> None:
        await self.accounts.end_session(session_id)
        await self.audit.record(user.username, "logout")
