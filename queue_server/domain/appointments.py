"""Appointments as plain data: the booking record, its code, the phone rule.

Pure: no Redis. A booking's name and phone are not part of `Appointment`;
they are kept apart (`Personal`) and shown masked (`mask_phone`)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import phonenumbers

# letters and digits a citizen cannot confuse: no 0/O, 1/I/L
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 6


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    CHECKED_IN = "checked_in"
    NO_SHOW = "no_show"
    LATE = "late"  # came after the check-in window: served as a walk-in, not a no-show
    PENDING_OTP = "pending_otp"  # held until its holder types the code sent to her phone
    EXPIRED = "expired"  # a hold released unverified (too late, too many wrong codes)


@dataclass(frozen=True)
class Appointment:
    id: str
    code: str
    category: str
    start_ms: int
    status: AppointmentStatus
    day: str  # YYYYMMDD, the site's zone
    created_at: int
    token_digest: str = ""
    phone_key: str = ""
    cancelled_by: str = ""
    ticket: str = ""  # the ticket of its check-in
    lang: str = "vi"  # the language it was booked in (its notices)
    otp_expires: int = 0  # a pending_otp hold lapses then (ms)

    @classmethod
    def from_hash(cls, h: dict[str, str]) -> Appointment:
        return cls(
            id=h["id"],
            code=h["code"],
            category=h["category"],
            start_ms=int(h["start"]),
            status=AppointmentStatus(h["status"]),
            day=h.get("day", ""),
            created_at=int(h.get("created_at") or 0),
            token_digest=h.get("token", ""),
            phone_key=h.get("phone_key", ""),
            cancelled_by=h.get("cancelled_by", ""),
            ticket=h.get("ticket", ""),
            lang=h.get("lang") or "vi",
            otp_expires=int(h.get("otp_expires") or 0),
        )


@dataclass(frozen=True)
class Personal:
    name: str
    phone: str  # E.164, +84...


def new_code(rng: Any = secrets) -> str:
    return "".join(rng.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(text: str) -> str | None:
    """A code as typed or scanned (spaces, dashes, lower case) -> its form, or
    None (a character outside the alphabet, such as O or 1, is refused)."""
    t = "".join(ch for ch in text.upper() if ch not in " -\t\r\n")
    if len(t) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in t):
        return None
    return t


def parse_vn_mobile(text: str) -> str | None:
    """A Vietnamese mobile number (0912 345 678, +84 912 345 678, 84912345678)
    in E.164 (+84912345678), or None for anything else (landlines too)."""
    if not isinstance(text, str) or not 6 <= len(text.strip()) <= 20:
        return None
    raw = text.strip()
    if raw.startswith("84") and not raw.startswith("+"):
        raw = "+" + raw
    try:
        n = phonenumbers.parse(raw, "VN")
    except phonenumbers.NumberParseException:
        return None
    if n.country_code != 84 or not phonenumbers.is_valid_number(n):
        return None
    if phonenumbers.number_type(n) != phonenumbers.PhoneNumberType.MOBILE:
        return None
    return phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(e164: str) -> str:
    """+84912345678 -> '09xx xxx 678': the first two digits of the national
    form and the last three."""
    national = "0" + e164[3:] if e164.startswith("+84") else e164
    if len(national) < 6:
        return "x" * len(national)
    return f"{national[:2]}xx xxx {national[-3:]}"
