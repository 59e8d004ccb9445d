"""Position and estimated wait for a waiting ticket."""

from __future__ import annotations

import math


def estimate_wait_minutes(ahead: int, avg_service_ms: float, counters_serving: int) -> int:
    """Minutes until a ticket with `ahead` people before it is called.

    The people ahead are shared among the open counters that serve the
    category; each takes the category's rolling average service time.
    Rounded up to whole minutes; 0 when nobody is ahead.
    """
    if ahead <= 0:
        return 0
    servers = max(1, counters_serving)
    return max(1, math.ceil(ahead * avg_service_ms / servers / 60_000))


def rolling_average(previous_ms: float | None, sample_ms: float, alpha: float = 0.2) -> float:
    """Exponentially weighted average of service times (the Lua mirrors it)."""
    if previous_ms is None or previous_ms <= 0:
        return float(sample_ms)
    return alpha * sample_ms + (1 - alpha) * previous_ms


def clamp_service_sample(sample_ms: float, default_ms: float) -> float:
    """Ignore absurd samples: a 2-second 'service' or a clerk who went to lunch."""
    lo, hi = default_ms * 0.1, default_ms * 6
    return min(max(sample_ms, lo), hi)
