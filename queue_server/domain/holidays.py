"""Vietnam's public holidays, from the `holidays` package (no network)."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import holidays


@lru_cache(maxsize=16)
def _year(year: int) -> dict[date, str]:
    return dict(holidays.country_holidays("VN", years=year, language="vi"))


def is_public_holiday(day: date) -> bool:
    return day in _year(day.year)


def public_holidays(year: int) -> list[tuple[date, str]]:
    return sorted(_year(year).items())
