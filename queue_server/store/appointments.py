"""Appointments: typed wrappers over book/cancel/move_appointment.lua, and
the reads they need (a slot's places left, a booking, a day's list).

The manage token is never stored: the record keeps its SHA-256 digest. So
that a booking replayed by its Idempotency-Key still hands its holder the
same token, the reply stored with the key carries the token sealed with a
pad derived from the Idempotency-Key itself (which is stored only as a
digest in the key's name): Redis alone cannot give the token back.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from queue_server.domain.appointments import Appointment, AppointmentStatus, Personal, new_code
from queue_server.domain.room import RATE_WINDOW_MIN
from queue_server.domain.slots import Slot
from queue_server.errors import AppError
from queue_server.store.clock import steady_ms
from queue_server.store.connection import text, text_map
from queue_server.store.keys import Keys, normal_queue, priority_queue
from queue_server.store.scripts import Scripts
from queue_server.store.tickets import SEQUENCE_TTL_MS

IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000
DAY_MS = 24 * 3600 * 1000
TOKEN_BYTES = 24
CODE_CANDIDATES = 4


def now_ms() -> int:
    return steady_ms()  # never steps back (store/clock.py)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _pad(idem: str) -> bytes:
    return hashlib.sha256(b"motcua-appointment-token:" + idem.encode()).digest()[:TOKEN_BYTES]


def seal(token: str, idem: str) -> str:
    raw = base64.urlsafe_b64decode(token)
    return bytes(x ^ y for x, y in zip(raw, _pad(idem), strict=True)).hex()


def unseal(sealed: str, idem: str) -> str:
    raw = bytes(x ^ y for x, y in zip(bytes.fromhex(sealed), _pad(idem), strict=True))
    return base64.urlsafe_b64encode(raw).decode()


def otp_digest(appointment_id: str, otp: str) -> str:
    """What the record keeps of an OTP (never the code)."""
    return hashlib.sha256(f"motcua-otp:{appointment_id}:{otp}".encode()).hexdigest()


def _otp_pad(appointment_id: str, otp: str) -> str:
    return f"otp:{appointment_id}:{otp}"


def new_otp() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def new_token() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(TOKEN_BYTES)).decode()


@dataclass(frozen=True)
class Booked:
    """A booking as its holder receives it: with the manage token."""

    appointment: Appointment
    token: str
    replayed: bool = False


@dataclass(frozen=True)
class OtpHold:
    """Book as a hold until `expires_ms`, to be verified with `otp` (sent to the phone)."""

    otp: str
    expires_ms: int


@dataclass(frozen=True)
class CheckIn:
    """A check-in's ticket, the people ahead of it, and whether it came late (a walk-in)."""

    ticket: str
    ahead: int
    late: bool


@dataclass(frozen=True)
class Places:
    """What a slot has sold: its own places and its hour's (held-back cancelled places included)."""

    slot: int
    hour: int


class AppointmentStore:
    def __init__(self, redis: Redis, keys: Keys, scripts: Scripts, clock: Callable[[], int] = now_ms):
        self.redis = redis
        self.keys = keys
        self.scripts = scripts
        self.clock = clock

    def phone_key(self, phone: str) -> str:
        """The phone as keys and limits name it: a digest, never the number."""
        return self._phone_key(phone)

    def _phone_key(self, phone: str) -> str:
        return hashlib.sha256(f"{self.keys.site}:{phone}".encode()).hexdigest()[:32]

    def _idem_key(self, idem: str | None) -> str:
        return self.keys.idempotency("appt." + hashlib.sha256((idem or "-").encode()).hexdigest()[:40])

    # -- reads ------------------------------------------------------------------------
    async def get(self, appointment_id: str) -> Appointment:
        h = text_map(await self.redis.hgetall(self.keys.appointment(appointment_id))) if appointment_id else {}
        if not h:
            raise AppError("appointment_not_found")
        return Appointment.from_hash(h)

    async def by_code(self, code: str) -> Appointment:
        found = await self.redis.hget(self.keys.appointment_codes, code)
        if found is None:
            raise AppError("appointment_not_found")
        return await self.get(text(found))

    async def personal(self, appointment_id: str) -> Personal | None:
        h = text_map(await self.redis.hgetall(self.keys.appointment_personal(appointment_id)))
        return Personal(h.get("name", ""), h.get("phone", "")) if h else None

    async def day(self, day: str) -> list[tuple[Appointment, Personal | None]]:
        ids = [
            text(i)
            for i in await self.redis.zrange(self.keys.appointment_day(day), 0, -1)
            if isinstance(i, (bytes, str))
        ]
        pipe = self.redis.pipeline(transaction=False)
        for i in ids:
            pipe.hgetall(self.keys.appointment(i))
            pipe.hgetall(self.keys.appointment_personal(i))
        got = await pipe.execute()
        out = []
        for rec, pii in zip(got[::2], got[1::2], strict=True):
            if rec:
                p = text_map(pii)
                out.append((Appointment.from_hash(text_map(rec)), Personal(p["name"], p["phone"]) if p else None))
        return out

    async def places(self, category: str, slots: Iterable[Slot]) -> dict[str, Places]:
        """Each slot's places taken (by its key), held-back places included."""
        return (await self.day_places(category, slots))[0]

    async def day_places(self, category: str, slots: Iterable[Slot]) -> tuple[dict[str, Places], int | None]:
        """`places`, and when the first held place among them lapses (ms; None
        when none is held): until then the counts stand unless a script runs.
        One round trip."""
        now = self.clock()
        slots = list(slots)
        hours = list(dict.fromkeys(s.hour for s in slots))
        pipe = self.redis.pipeline(transaction=False)
        for s in slots:
            pipe.scard(self.keys.appointment_slot(category, s.key))
            pipe.zcount(self.keys.appointment_held(category, s.key), f"({now}", "+inf")
        for h in hours:
            pipe.scard(self.keys.appointment_hour(category, h))
            pipe.zcount(self.keys.appointment_held_hour(category, h), f"({now}", "+inf")
        for h in hours:  # a slot's held place is held in its hour's zset too
            pipe.zrangebyscore(self.keys.appointment_held_hour(category, h), f"({now}", "+inf", 0, 1, withscores=True)
        got = await pipe.execute()
        n = 2 * len(slots)
        counts = [int(x) for x in got[: n + 2 * len(hours)]]
        per_hour = {h: counts[n + 2 * i] + counts[n + 2 * i + 1] for i, h in enumerate(hours)}
        firsts = [int(found[0][1]) for found in got[n + 2 * len(hours) :] if found]
        places = {s.key: Places(counts[2 * i] + counts[2 * i + 1], per_hour[s.hour]) for i, s in enumerate(slots)}
        return places, min(firsts) if firsts else None

    async def notices_done(self, appointment_id: str, *, older_than_ms: int) -> list[str]:
        """The booking's confirmation and reminders are done (its entry in the
        notices still to do goes); and the bookings whose notices were left
        undone for `older_than_ms` (their process died before doing them).
        One round trip."""
        k = self.keys
        pipe = self.redis.pipeline(transaction=False)
        pipe.zrem(k.appointment_notices, appointment_id)
        pipe.zrangebyscore(k.appointment_notices, "-inf", self.clock() - older_than_ms, 0, 20)
        _, left = await pipe.execute()
        return [text(i) for i in left if isinstance(i, (bytes, str))]

    async def notices_left(self, *, older_than_ms: int, limit: int = 1000) -> list[str]:
        """The bookings whose confirmation and reminders were left undone for `older_than_ms`."""
        found = await self.redis.zrangebyscore(
            self.keys.appointment_notices, "-inf", self.clock() - older_than_ms, 0, limit
        )
        return [text(i) for i in found if isinstance(i, (bytes, str))]

    async def claim_notice(self, appointment_id: str) -> bool:
        """Take a booking's undone notices to do them (True once, for one caller)."""
        return bool(await self.redis.zrem(self.keys.appointment_notices, appointment_id))

    # -- mutations --------------------------------------------------------------------
    async def book(
        self,
        slot: Slot,
        category: str,
        *,
        name: str,
        phone: str,
        per_phone: int,
        keep_personal_days: int,
        idem: str | None = None,
        lang: str = "vi",
        otp: OtpHold | None = None,
    ) -> Booked:
        """Book `slot` (its capacity and hour budget as the domain computed them),
        or with `otp` hold it for verify(). Raises AppError slot_full / phone_limit."""
        k = self.keys
        token = new_token()
        appointment_id = secrets.token_urlsafe(12)
        day = slot.start.strftime("%Y%m%d")
        phone_key = self._phone_key(phone)
        expire_at = slot.start_ms + keep_personal_days * DAY_MS
        now = self.clock()
        lang = "en" if lang == "en" else "vi"
        digest = token_digest(token)
        args = {
            "id": appointment_id,
            "codes": [new_code() for _ in range(CODE_CANDIDATES)],
            "token": digest,
            "sealed": seal(token, idem) if idem else "",
            "category": category,
            "start": slot.start_ms,
            "slot": slot.key,
            "hour": slot.hour,
            "day": day,
            "capacity": slot.capacity,
            "hour_budget": slot.hour_budget,
            "per_phone": per_phone,
            "name": name,
            "phone": phone,
            "phone_key": phone_key,
            "expire_at": expire_at,
            "sets_expire_at": slot.start_ms + DAY_MS,
            "now": now,
            "channel": k.channel,
            "use_idem": bool(idem),
            "idem_ttl": IDEMPOTENCY_TTL_MS,
            "lang": lang,
            "otp": otp_digest(appointment_id, otp.otp) if otp else "",
            "otp_sealed": seal(token, _otp_pad(appointment_id, otp.otp)) if otp else "",
            "otp_expires": otp.expires_ms if otp else 0,
        }
        keys = [
            k.appointment(appointment_id),
            k.appointment_personal(appointment_id),
            k.appointment_slot(category, slot.key),
            k.appointment_hour(category, slot.hour),
            k.appointment_held(category, slot.key),
            k.appointment_held_hour(category, slot.hour),
            k.appointment_phone(day, phone_key),
            k.appointment_codes,
            k.appointment_day(day),
            k.events,
            k.event_seq,
            self._idem_key(idem),
            k.appointment_phone_pending(day, phone_key),
            k.appointment_notices,
        ]
        reply = await self._run("book_appointment", keys, args, per_phone=per_phone)
        if reply.get("replayed"):  # the booking as it is now, with the token its first reply gave
            token = unseal(str(reply["sealed"]), idem or "")
            return Booked(await self.get(str(reply["id"])), token, True)
        # just written by the script: no need to read it back
        booked = Appointment(
            id=appointment_id,
            code=str(reply["code"]),
            category=category,
            start_ms=slot.start_ms,
            status=AppointmentStatus(str(reply["status"])),
            day=day,
            created_at=now,
            token_digest=digest,
            phone_key=phone_key,
            lang=lang,
            otp_expires=otp.expires_ms if otp else 0,
        )
        return Booked(booked, token)

    async def _run(
        self, name: str, keys: list[str], args: dict[str, Any], *, per_phone: int = 0, before_ms: int = 0
    ) -> dict[str, Any]:
        """Run a script; its refusal becomes the AppError with the values its message names."""
        try:
            return await self.scripts.run(name, keys, args)
        except AppError as e:
            if e.code == "phone_limit":
                raise AppError("phone_limit", limit=per_phone) from None
            if e.code == "change_closed":
                raise AppError("change_closed", minutes=before_ms // 60_000) from None
            raise

    def _slot_keys(self, category: str, slot: str, hour: str) -> list[str]:
        k = self.keys
        return [
            k.appointment_slot(category, slot),
            k.appointment_hour(category, hour),
            k.appointment_held(category, slot),
            k.appointment_held_hour(category, hour),
        ]

    async def _record(self, appointment_id: str) -> dict[str, str]:
        h = text_map(await self.redis.hgetall(self.keys.appointment(appointment_id))) if appointment_id else {}
        if not h:
            raise AppError("appointment_not_found")
        return h

    async def _on_record(
        self,
        appointment_id: str,
        script: str,
        build: Callable[[dict[str, str]], tuple[list[str], dict[str, Any]]],
        **err: int,
    ) -> Appointment:
        """Run `script` with the KEYS and ARGV `build` makes from the booking's
        record as read now. The record may move between the read and the
        script (the script answers `conflict`): read it again and retry, three
        times at most. The booking as it is after the script."""
        for _ in range(3):
            keys, args = build(await self._record(appointment_id))
            try:
                await self._run(script, keys, args, **err)
            except AppError as e:
                if e.code == "conflict":
                    continue
                raise
            return await self.get(appointment_id)
        raise AppError("conflict", detail="retry")

    async def cancel(
        self, appointment_id: str, *, token: str | None, clerk: str = "", before_ms: int, hold_ms: int
    ) -> Appointment:
        """Cancel by the holder (`token`; until `before_ms` before the slot) or
        by staff (`token` None, `clerk` named). The place is held back `hold_ms`."""

        def build(h: dict[str, str]) -> tuple[list[str], dict[str, Any]]:
            k = self.keys
            keys = [
                k.appointment(appointment_id),
                *self._slot_keys(h["category"], h["slot"], h["hour"]),
                k.appointment_phone(h["day"], h["phone_key"]),
                k.events,
                k.event_seq,
            ]
            now = self.clock()
            args = {
                "id": appointment_id,
                "token": token_digest(token) if token is not None else "",
                "slot": h["slot"],
                "before_ms": before_ms,
                "hold_until": now + hold_ms,
                "sets_expire_at": int(h["start"]) + DAY_MS,
                "clerk": clerk,
                "now": now,
                "channel": k.channel,
            }
            return keys, args

        return await self._on_record(appointment_id, "cancel_appointment", build, before_ms=before_ms)

    async def move(
        self,
        appointment_id: str,
        to: Slot,
        *,
        token: str,
        per_phone: int,
        keep_personal_days: int,
        before_ms: int,
        hold_ms: int,
    ) -> Appointment:
        k = self.keys

        def build(h: dict[str, str]) -> tuple[list[str], dict[str, Any]]:
            cat = h["category"]
            new_day = to.start.strftime("%Y%m%d")
            keys = [
                k.appointment(appointment_id),
                k.appointment_personal(appointment_id),
                *self._slot_keys(cat, h["slot"], h["hour"]),
                k.appointment_phone(h["day"], h["phone_key"]),
                *self._slot_keys(cat, to.key, to.hour),
                k.appointment_phone(new_day, h["phone_key"]),
                k.appointment_day(h["day"]),
                k.appointment_day(new_day),
                k.events,
                k.event_seq,
            ]
            now = self.clock()
            args = {
                "id": appointment_id,
                "token": token_digest(token),
                "slot": h["slot"],
                "before_ms": before_ms,
                "hold_until": now + hold_ms,
                "new": {
                    "start": to.start_ms,
                    "slot": to.key,
                    "hour": to.hour,
                    "day": new_day,
                    "capacity": to.capacity,
                    "hour_budget": to.hour_budget,
                },
                "per_phone": per_phone,
                "expire_at": to.start_ms + keep_personal_days * DAY_MS,
                "sets_expire_at": to.start_ms + DAY_MS,
                "old_sets_expire_at": int(h["start"]) + DAY_MS,
                "now": now,
                "channel": k.channel,
            }
            return keys, args

        return await self._on_record(
            appointment_id, "move_appointment", build, before_ms=before_ms, per_phone=per_phone
        )

    async def verify(self, appointment_id: str, otp: str, *, per_phone: int, max_tries: int) -> Booked:
        """Book a held booking by the OTP sent to its phone: the booking and its
        manage token. Raises invalid_otp (tries_left), otp_expired, phone_limit,
        appointment_not_booked, appointment_not_found."""
        h = await self._record(appointment_id)
        k = self.keys
        keys = [
            k.appointment(appointment_id),
            *self._slot_keys(h["category"], h["slot"], h["hour"]),
            k.appointment_phone(h["day"], h["phone_key"]),
            k.appointment_phone_pending(h["day"], h["phone_key"]),
            k.events,
            k.event_seq,
        ]
        args = {
            "id": appointment_id,
            "otp": otp_digest(appointment_id, otp),
            "max_tries": max_tries,
            "per_phone": per_phone,
            "sets_expire_at": int(h["start"]) + DAY_MS,
            "now": self.clock(),
            "channel": k.channel,
        }
        reply = await self.scripts.reply("verify_appointment", keys, args)
        err = reply.get("err")
        if err == "invalid_otp":
            raise AppError("invalid_otp", tries_left=int(reply.get("tries_left", 0)))
        if err == "phone_limit":
            raise AppError("phone_limit", limit=per_phone)
        if err:
            raise AppError(str(err))
        token = unseal(str(reply["otp_sealed"]), _otp_pad(appointment_id, otp))
        return Booked(await self.get(appointment_id), token)

    # -- the day of the appointment ---------------------------------------------------
    async def check_in(
        self,
        a: Appointment,
        *,
        prefix: str,
        day: str,
        early_ms: int,
        late_ms: int,
        device: str = "",
        clerk: str = "",
        idem: str | None = None,
    ) -> CheckIn:
        """Check `a` in (its window: early_ms before to late_ms after the slot)
        and issue its ticket into today's queue. Raises too_early (with the
        window's opening, ms, as `opens_ms`), already_checked_in, appointment_not_booked."""
        k = self.keys
        cat = a.category
        args = {
            "appointment": a.id,
            "early_ms": early_ms,
            "late_ms": late_ms,
            "id": secrets.token_urlsafe(12),
            "category": cat,
            "prefix": prefix,
            "day": day,
            "now": self.clock(),
            "queue": normal_queue(cat),
            "channel": k.channel,
            "clerk": clerk,
            "device": device,
            "use_idem": bool(idem),
            "idem_ttl": IDEMPOTENCY_TTL_MS,
            "seq_ttl": SEQUENCE_TTL_MS,
            "arrivals_ms": RATE_WINDOW_MIN * 60_000,
        }
        idem_key = k.idempotency(
            f"checkin.{device or clerk or '-'}." + hashlib.sha256((idem or "-").encode()).hexdigest()[:40]
        )
        keys = [
            k.appointment(a.id),
            k.tickets,
            k.sequence(day, cat),
            k.numbers(day),
            k.queue(normal_queue(cat)),
            k.events,
            k.event_seq,
            idem_key,
            k.queue(priority_queue(cat)),
            k.room_arrivals,
        ]
        reply = await self.scripts.reply("check_in_appointment", keys, args)
        if reply.get("err") == "too_early":
            raise AppError("too_early", opens_ms=int(reply["opens"]))
        if "err" in reply:
            raise AppError(str(reply["err"]))
        return CheckIn(str(reply["ticket"]), int(reply.get("ahead", 0)), bool(reply.get("late")))

    async def forget_personal(self, keep_personal_days: int, *, scan_days: int = 60) -> int:
        """Delete the name and phone of every booking whose slot began more than
        `keep_personal_days` ago, and take its code out of the code index (the days `scan_days` before that are looked at
        too, should runs have been missed); how many were forgotten."""
        now = self.clock()
        before = now - keep_personal_days * DAY_MS
        k = self.keys
        # the day keys are local dates: a day either side of the UTC one covers every zone
        days = [time.strftime("%Y%m%d", time.gmtime(before / 1000 - d * 86_400)) for d in range(-1, scan_days + 2)]
        pipe = self.redis.pipeline(transaction=False)
        for day in days:
            pipe.zrangebyscore(k.appointment_day(day), "-inf", f"({before}")
        ids = [text(i) for found in await pipe.execute() for i in found if isinstance(i, (bytes, str))]
        if not ids:
            return 0
        keys = [k.appointment_codes, *(key for i in ids for key in (k.appointment(i), k.appointment_personal(i)))]
        reply = await self.scripts.run("forget_appointments", keys, {"before": before})
        return len(reply.get("forgotten", []))

    async def sweep_no_shows(self, day: str, *, late_ms: int, clerk: str = "") -> list[str]:
        """Mark the day's bookings whose check-in window has closed unused as
        no-shows (one script); their ids."""
        now = self.clock()
        k = self.keys
        ids = [
            text(i)
            for i in await self.redis.zrangebyscore(k.appointment_day(day), "-inf", f"({now - late_ms}")
            if isinstance(i, (bytes, str))
        ]
        if not ids:
            return []
        reply = await self.scripts.run(
            "no_show_appointments",
            [k.events, k.event_seq, *(k.appointment(i) for i in ids)],
            {"late_ms": late_ms, "now": now, "channel": k.channel, "clerk": clerk},
        )
        return [str(i) for i in reply.get("no_shows", [])]
