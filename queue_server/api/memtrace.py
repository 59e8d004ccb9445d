"""Opt-in memory tracing for finding a leak (MOTCUA_TRACEMALLOC_DIR): the
process starts tracemalloc and writes a snapshot into that directory every
`every_s` seconds (snap-0001.tracemalloc, …), to be compared offline:

    python -c "import tracemalloc as t; a=t.Snapshot.load('snap-0002.tracemalloc');
               b=t.Snapshot.load('snap-0010.tracemalloc');
               [print(s) for s in b.compare_to(a, 'traceback')[:15]]"

Off by default: tracing costs the process about half its speed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tracemalloc
from pathlib import Path

log = logging.getLogger("motcua.memtrace")


def start(directory: str, every_s: float = 60.0) -> asyncio.Task[None]:
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    tracemalloc.start(12)
    log.warning("tracemalloc on: a snapshot every %.0f s into %s", every_s, out)

    async def dump() -> None:
        n = 0
        while True:
            await asyncio.sleep(every_s)
            n += 1
            snap = tracemalloc.take_snapshot()
            await asyncio.to_thread(snap.dump, str(out / f"snap-{n:04d}.tracemalloc"))

    return asyncio.create_task(dump(), name="motcua-memtrace")


async def stop(task: asyncio.Task[None] | None) -> None:
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
