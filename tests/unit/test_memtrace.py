"""The opt-in leak finder writes tracemalloc snapshots that load and compare."""

from __future__ import annotations

import asyncio
import tracemalloc

from queue_server.api import memtrace


def test_snapshots_are_written_and_compare(tmp_path):
    async def go():
        task = memtrace.start(str(tmp_path), every_s=0.05)
        try:
            kept = []
            for _ in range(40):
                kept.append(bytearray(10_000))  # something that grows between snapshots
                await asyncio.sleep(0.01)
                if len(list(tmp_path.glob("snap-*.tracemalloc"))) >= 2:
                    break
        finally:
            await memtrace.stop(task)
            tracemalloc.stop()
        snaps = sorted(tmp_path.glob("snap-*.tracemalloc"))
        assert len(snaps) >= 2
        diff = tracemalloc.Snapshot.load(str(snaps[-1])).compare_to(tracemalloc.Snapshot.load(str(snaps[0])), "lineno")
        assert any("test_memtrace.py" in str(d.traceback) and d.size_diff > 0 for d in diff)

    asyncio.run(go())
