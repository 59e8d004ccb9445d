"""Which waiting ticket a counter calls next.

The Lua script `call_next.lua` enforces exactly this order; an integration
test drives both with the same random queues and compares the choices.

Every queue a counter serves offers its head (its first ticket by rank
time). A ticket has two times: its rank (`rank_ms`, the queue's sort order:
the issue time of a walk-in, the slot of an appointment) and the time it
joined the queue (`queued_at`: issue or check-in time), which its wait is
measured from. The order among the heads is:

1. starving first: a ticket that joined more than `factor` x its
   category's target wait ago, the one that joined first first (then by rank);
2. then priority tickets before others;
3. then the counter's own queue (tickets transferred to this counter),
   then the categories in the counter's work-profile order;
4. then the earliest rank time.

An appointment enters its category's queue with its slot time as rank
time, so it is interleaved with walk-ins by the same rule. A transfer or a
requeue keeps both times.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

DIRECT_QUEUE_INDEX = -1  # the counter's own queue sorts before its profile


@dataclass(frozen=True)
class Head:
    ticket_id: str
    category: str
    rank_ms: int  # the queue's sort order (the ZSET score)
    priority: bool
    profile_index: int  # DIRECT_QUEUE_INDEX for the counter's own queue
    joined_ms: int | None = None  # when the ticket joined the queue; None: rank_ms

    @property
    def joined(self) -> int:
        return self.rank_ms if self.joined_ms is None else self.joined_ms


SortKey = tuple[int, int, int, int]


def sort_key(head: Head, now_ms: int, targets_ms: dict[str, int], factor: float) -> SortKey:
    target = targets_ms.get(head.category, 0)
    starving = target > 0 and (now_ms - head.joined) > factor * target
    if starving:
        return (0, head.joined, head.rank_ms, 0)
    return (1, 0 if head.priority else 1, head.profile_index, head.rank_ms)


def choose_next(heads: Iterable[Head], now_ms: int, targets_ms: dict[str, int], factor: float = 2.0) -> Head | None:
    best: Head | None = None
    best_key: SortKey | None = None
    for h in heads:
        k = sort_key(h, now_ms, targets_ms, factor)
        if best_key is None or k < best_key:
            best, best_key = h, k
    return best
