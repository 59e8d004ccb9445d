"""Which waiting ticket a counter calls next.

The Lua script `call_next.lua` enforces exactly this order; an integration
test drives both with the same random queues and compares the choices.

Every queue a counter serves offers its head (its oldest ticket by rank
time). The order among the heads is:

1. starving first: a ticket waiting more than `factor` x its category's
   target wait, oldest first;
2. then priority tickets before others;
3. then the counter's own queue (tickets transferred to this counter),
   then the categories in the counter's work-profile order;
4. then the earliest rank time.

An appointment enters its category's queue with its slot time as rank
time, so it is interleaved with walk-ins by the same rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

DIRECT_QUEUE_INDEX = -1  # the counter's own queue sorts before its profile


@dataclass(frozen=True)
class Head:
    ticket_id: str
    category: str
    rank_ms: int
    priority: bool
    profile_index: int       # DIRECT_QUEUE_INDEX for the counter's own queue


def sort_key(head: Head, now_ms: int, targets_ms: dict[str, int], factor: float) -> tuple:
    target = targets_ms.get(head.category, 0)
    starving = target > 0 and (now_ms - head.rank_ms) > factor * target
    if starving:
        return (0, head.rank_ms, 0, 0)
    return (1, 0 if head.priority else 1, head.profile_index, head.rank_ms)


def choose_next(heads: Iterable[Head], now_ms: int, targets_ms: dict[str, int], factor: float = 2.0) -> Head | None:
    best: Head | None = None
    best_key: tuple | None = None
    for h in heads:
        k = sort_key(h, now_ms, targets_ms, factor)
        if best_key is None or k < best_key:
            best, best_key = h, k
    return best
