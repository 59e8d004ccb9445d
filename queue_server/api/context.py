"""What the API process keeps besides its services: the live fan-out."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from queue_server.live.board_feed import BoardFeed
from queue_server.live.broadcaster import Broadcaster


@dataclass
class LiveContext:
    broadcaster: Broadcaster
    board_feed: BoardFeed
    gc_task: asyncio.Task[None] | None = None
    # per-process caches of the feeds (counter snapshots shared by sockets)
    caches: dict[Any, Any] = field(default_factory=dict)
