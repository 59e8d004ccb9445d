"""Position and estimated wait for a waiting ticket, and the service time
per category that the estimate rests on.

The service time of a category is robust, so that one quick or one endless
service does not swing every citizen's estimate (a single 1-minute service
used to replace a configured 10 minutes):

- each finished service is one sample, clamped to 20 %–400 % of the
  category's configured service time (a 2-second "service", a clerk who went
  to lunch);
- the category keeps its last WINDOW samples; their median is the observed
  time (outliers inside the window move a median little);
- the estimate starts at the configured time and moves towards the observed
  one as samples come: the configured time weighs as PRIOR_WEIGHT samples.

`store/lua/_lib.lua` (finish_current) keeps the same rule in Redis; a
differential test drives both with random services and compares.

The wait counts the counter mix (`shared_wait_minutes`): a category's
counters also serve other categories, whose people ahead take their time too.
`bench/bench_eta.py` replays simulated days and measures the estimates
against the real waits (BENCHMARKS.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

WINDOW = 15  # recent service times kept per category
PRIOR_WEIGHT = 4  # the configured time counts as this many samples
SAMPLE_LO, SAMPLE_HI = 0.2, 4.0  # samples are clamped to this share of the configured time
CONFIDENT_SAMPLES = 5  # fewer samples than this: the wait is shown as a range
RANGE_LO, RANGE_HI = 0.7, 1.5  # the range around an unsure estimate


def estimate_wait_minutes(ahead: int, avg_service_ms: float, counters_serving: int) -> int:
    """Minutes until a ticket with `ahead` people before it is called.

    The people ahead are shared among the open counters that serve the
    category; each takes the category's estimated service time.
    Rounded up to whole minutes; 0 when nobody is ahead.
    """
    if ahead <= 0:
        return 0
    servers = max(1, counters_serving)
    return max(1, math.ceil(ahead * avg_service_ms / servers / 60_000))


def wait_range_minutes(eta_minutes: int, samples: int) -> tuple[int, int] | None:
    """(low, high) minutes around an estimate that rests on few samples yet, else None."""
    if eta_minutes <= 0 or samples >= CONFIDENT_SAMPLES:
        return None
    lo, hi = max(1, math.ceil(eta_minutes * RANGE_LO)), math.ceil(eta_minutes * RANGE_HI)
    return (lo, hi) if hi > lo else None


def clamp_service_sample(sample_ms: int, configured_ms: int) -> int:
    """A finished service's time, clamped to SAMPLE_LO..SAMPLE_HI of the configured time."""
    lo, hi = math.floor(configured_ms * SAMPLE_LO), math.floor(configured_ms * SAMPLE_HI)
    return min(max(int(sample_ms), lo), hi)


def median_ms(samples: Sequence[int]) -> int:
    """The median, in whole ms (the lower-rounded mean of the middle two for an even count)."""
    s = sorted(samples)
    n = len(s)
    if n % 2:
        return s[n // 2]
    return (s[n // 2 - 1] + s[n // 2]) // 2


def service_estimate(configured_ms: int, recent: Sequence[int]) -> int:
    """The category's service time: the median of its recent samples, drawn
    towards the configured time by PRIOR_WEIGHT samples' worth."""
    n = len(recent)
    if n == 0:
        return int(configured_ms)
    return (PRIOR_WEIGHT * int(configured_ms) + n * median_ms(recent)) // (PRIOR_WEIGHT + n)


def add_sample(recent: Sequence[int], sample_ms: int, configured_ms: int) -> list[int]:
    """The window after one more finished service (oldest dropped)."""
    return [*recent, clamp_service_sample(sample_ms, configured_ms)][-WINDOW:]


def shared_wait_minutes(
    category: str,
    ahead: dict[str, int],
    service_ms: dict[str, float],
    serves: dict[int, tuple[str, ...]],
) -> int:
    """Minutes until a ticket of `category` is called, when its counters also
    serve other categories (the counter mix).

    `ahead[D]`: people of category D before the ticket (for `category`
    itself, its people ahead); `serves`: the open counters and the categories
    each serves. The work ahead is every category's people times its service
    time, each weighted by the share of that category's counters that also
    serve `category` (they are the ones it competes with); the ticket's own
    counters share that work.
    """
    mine = {n for n, cats in serves.items() if category in cats}
    if not mine:
        return 0 if ahead.get(category, 0) <= 0 else estimate_wait_minutes(ahead[category], service_ms[category], 1)
    work = 0.0
    for d, people in ahead.items():
        if people <= 0:
            continue
        theirs = {n for n, cats in serves.items() if d in cats}
        share = len(theirs & mine) / len(theirs) if theirs else 0.0
        work += people * service_ms.get(d, 0.0) * share
    if ahead.get(category, 0) <= 0:
        return 0
    return max(1, math.ceil(work / len(mine) / 60_000))
