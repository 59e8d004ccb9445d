"""When the supervisor view raises an alert (issue #11): a wait past its
category's target, the waiting seats full, a counter paused for long.

Pure: the view's service calls it for the snapshot it sends, and the page
(counter_app/supervisor.js) applies the same three rules on its own clock
between messages, since a wait passes its target with no event at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CategoryWait:
    category: str
    oldest_since_ms: int | None  # when the longest waiting ticket joined the queue
    target_ms: int


@dataclass(frozen=True)
class CounterPause:
    counter: int
    status: str
    since_ms: int | None  # when the counter last changed between open and paused


def alerts(
    now_ms: int,
    categories: Sequence[CategoryWait],
    counters: Sequence[CounterPause],
    waiting: int,
    seats: int,
    pause_alert_ms: int,
) -> list[dict[str, Any]]:
    """The alerts at ``now_ms``, waits first, then the seats, then pauses.

    - ``wait``: the longest wait of a category is past (strictly more than)
      its target wait;
    - ``seats``: as many or more citizens wait as there are seats (``seats`` 0:
      the site has not said, never full), the board's rule;
    - ``paused``: a counter paused for ``pause_alert_ms`` or longer.
    """
    out: list[dict[str, Any]] = []
    for c in categories:
        if c.oldest_since_ms is None:
            continue
        wait = max(0, now_ms - c.oldest_since_ms)
        if wait > c.target_ms:
            out.append({"kind": "wait", "category": c.category, "wait_ms": wait, "target_ms": c.target_ms})
    if seats > 0 and waiting >= seats:
        out.append({"kind": "seats", "waiting": waiting, "seats": seats})
    for ct in counters:
        if ct.status != "paused" or ct.since_ms is None:
            continue
        paused = max(0, now_ms - ct.since_ms)
        if paused >= pause_alert_ms:
            out.append({"kind": "paused", "counter": ct.counter, "paused_ms": paused, "limit_ms": pause_alert_ms})
    return out
