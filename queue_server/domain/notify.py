"""Notices to citizens as plain data: the message, its text, the channel's
settings ([notify] of the site's TOML), the phone forms gateways want.

Pure: no I/O. A message carries the least personal data it can: the phone
it goes to, the booking code, the time and the place; never the name."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import quote

CHANNELS = ("outbox", "sms_http", "zalo_zns")
ZNS_URL = "https://business.openapi.zalo.me/message/template"
DEFAULT_SMS_TEMPLATE = '{"to": "{phone}", "message": "{text}"}'


class Kind(StrEnum):
    OTP = "otp"
    CONFIRMATION = "confirmation"
    REMINDER = "reminder"
    CANCELLED = "cancelled"  # by the office (a closure added later)


@dataclass(frozen=True)
class Message:
    to: str
    """the phone, E.164 (+84…)"""
    text: str
    kind: str
    lang: str = "vi"
    data: dict[str, str] = field(default_factory=dict)
    """the template's fields (Zalo ZNS): code, time, place, otp"""
    ref: str = ""
    """what it is about (a booking id): the tracking id of a ZNS message"""


@dataclass(frozen=True)
class NotifyConfig:
    """[notify]: which channel sends the notices, and its settings."""

    channel: str = "outbox"
    sms_url: str = ""
    # "Name: value", e.g. "Authorization: Bearer abc"
    sms_auth_header: str = ""
    # {phone} (84xxxxxxxxx), {phone_local} (0xxxxxxxxx), {phone_e164} (+84…) and {text}
    sms_body_template: str = DEFAULT_SMS_TEMPLATE
    sms_content_type: str = "application/json"
    zns_url: str = ZNS_URL
    zns_access_token: str = ""
    # message kind -> the ZNS template id approved for it
    zns_templates: dict[str, str] = field(default_factory=dict)
    # seconds between the tries of a failed HTTP send
    retry_intervals: tuple[int, ...] = (10, 60, 300)


def phone_84(e164: str) -> str:
    """+84912345678 (or 0912345678) -> 84912345678, the form Zalo and most gateways want."""
    digits = "".join(ch for ch in e164 if ch.isdigit())
    if digits.startswith("0"):
        return "84" + digits[1:]
    return digits


def phone_local(e164: str) -> str:
    return "0" + phone_84(e164)[2:]


def fill_template(template: str, content_type: str, values: dict[str, str]) -> str:
    """The gateway's body: each {name} replaced, escaped for the body's type
    (JSON string content, or form-encoded otherwise)."""
    out = template
    for name, value in values.items():
        if "json" in content_type:
            safe = json.dumps(value, ensure_ascii=False)[1:-1]
        else:
            safe = quote(value, safe="")
        out = out.replace("{" + name + "}", safe)
    return out


def sms_values(m: Message) -> dict[str, str]:
    return {"phone": phone_84(m.to), "phone_local": phone_local(m.to), "phone_e164": m.to, "text": m.text}


def zns_body(m: Message, template_id: str) -> dict[str, Any]:
    return {
        "phone": phone_84(m.to),
        "template_id": template_id,
        "template_data": dict(m.data),
        # ours, echoed in Zalo's delivery callbacks: one per message (a booking gets several)
        "tracking_id": f"{m.ref}-{m.kind}"[:48] if m.ref else m.kind,
    }


# -- texts ------------------------------------------------------------------------------------------
def when(at: datetime, lang: str) -> str:
    return f"{at:%H:%M} {at:%d/%m/%Y}" if lang != "en" else f"{at:%H:%M} on {at:%d/%m/%Y}"


def otp_text(otp: str, minutes: int, lang: str) -> str:
    if lang == "en":
        return f"Your booking confirmation code: {otp}. Valid for {minutes} minutes. Do not share it."
    return f"Mã xác nhận lịch hẹn: {otp}. Hiệu lực {minutes} phút. Không chia sẻ mã này."


def confirmation_text(code: str, at: datetime, place: str, manage_url: str, lang: str) -> str:
    """The booking's confirmation; without a manage link (`manage_url` "") when
    its token is gone (a confirmation done again after its process died)."""
    if lang == "en":
        text = f"Booking {code} at {when(at, lang)}, {place}. Check in at the kiosk with the code."
        return f"{text} Manage: {manage_url}" if manage_url else text
    text = f"Lịch hẹn {code} lúc {when(at, lang)} tại {place}. Nhập mã tại máy lấy số khi đến."
    return f"{text} Xem, đổi, hủy: {manage_url}" if manage_url else text


def reminder_text(code: str, at: datetime, place: str, lang: str) -> str:
    if lang == "en":
        return f"Reminder: booking {code} at {when(at, lang)}, {place}. Check in at the kiosk with the code."
    return f"Nhắc lịch hẹn {code} lúc {when(at, lang)} tại {place}. Nhập mã tại máy lấy số khi đến."


def closure_text(code: str, at: datetime, place: str, lang: str) -> str:
    if lang == "en":
        return f"Booking {code} at {when(at, lang)} is cancelled: {place} is closed that day. Please book again."
    return f"Lịch hẹn {code} lúc {when(at, lang)} đã bị hủy do {place} nghỉ ngày này. Vui lòng đặt lịch khác."
