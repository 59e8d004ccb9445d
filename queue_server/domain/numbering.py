"""Ticket numbers: a daily sequence per category, rolled over in the site's time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def service_day(now_ms: int, tz: ZoneInfo) -> str:
    """The local calendar day (YYYYMMDD) a moment belongs to."""
    return datetime.fromtimestamp(now_ms / 1000, tz=UTC).astimezone(tz).strftime("%Y%m%d")


def format_number(prefix: str, seq: int) -> str:
    """'A' + 15 -> 'A015'; past 999 the number simply grows ('A1000')."""
    if seq < 1:
        raise ValueError("sequence starts at 1")
    return f"{prefix}{seq:03d}"


def parse_number(text: str) -> tuple[str, int] | None:
    """'a15' or 'A015' -> ('A', 15); anything else -> None (only an ASCII
    letter and ASCII digits: 'A¹', 'Ý1' and 'A١٢' are no ticket numbers)."""
    t = text.strip().upper()
    if len(t) < 2 or not t.isascii() or not t[0].isalpha() or not t[1:].isdigit():
        return None
    return t[0], int(t[1:])


def normalize_number(text: str) -> str | None:
    p = parse_number(text)
    return format_number(*p) if p and p[1] >= 1 else None
