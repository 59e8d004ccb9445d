"""The board's own fan-out: each event becomes ONE message (the event and a
fresh board), built once per process and handed ready-made to every display
socket."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from queue_server.domain.announce import VoiceSettings, announcement
from queue_server.live.fastsend import text_frame
from queue_server.live.hub import TICK, Hub
from queue_server.services.board import BoardService

log = logging.getLogger("motcua.board")
_NOTHING = object()


class BoardFeed(Hub):
    """The board's own fan-out: each event becomes ONE message (the event and
    a fresh board), built once per process and handed ready-made to every
    display socket (5,000 displays cost one snapshot and no per-socket
    rendering). Attach it to the process's Broadcaster; board sockets
    subscribe to the feed instead."""

    def __init__(self, board: BoardService, queue_size: int = 256, fanout_threads: int = 1):
        super().__init__(queue_size, fanout_threads)
        self._board = board
        self._key: object = None
        self._text = ""
        self._inbox: asyncio.Queue[dict[str, Any] | None] | None = None
        self._task: asyncio.Task | None = None
        self._snap: tuple[int, float, str] | None = None  # (event seq, monotonic time, JSON)
        self._snap_task: tuple[int, asyncio.Task] | None = None
        # connects and resyncs hit Redis through a bounded pool: a storm of
        # reconnecting displays (after a restart) queues here, not there
        self.gate = asyncio.Semaphore(32)

    def attach(self, broadcaster: Hub) -> BoardFeed:
        if self._task is None:
            self._inbox = asyncio.Queue()
            broadcaster.add_listener(self._inbox.put_nowait)
            self._task = asyncio.get_running_loop().create_task(self._run(), name="motcua-board-feed")
        return self

    async def _run(self) -> None:
        assert self._inbox is not None
        inbox = self._inbox
        carry: Any = _NOTHING
        while True:
            event = await inbox.get() if carry is _NOTHING else carry
            carry = _NOTHING
            if event is None:  # the broadcaster stopped
                self.close_all()
                return
            if event is TICK or event.get("type") == "resync":
                self.publish_local(event)
                continue
            # Events already waiting (e.g. "done" and "call" from one Next)
            # go out as one message with one board: half the sends.
            batch = [event]
            while not inbox.empty() and len(batch) < 50:
                nxt = inbox.get_nowait()
                if nxt is not None and nxt is not TICK and nxt.get("type") != "resync" and _is_next(batch[-1], nxt):
                    batch.append(nxt)
                else:
                    carry = nxt
                    break
            await self._send_batch(batch)

    async def snapshot_text(self, max_age: float = 2.0) -> str:
        """The board snapshot as JSON for a connecting or resyncing socket.
        Shared while the event log has not moved (one GET checks) and for at
        most `max_age` seconds, so 5,000 displays reconnecting at once cost a
        handful of snapshots. A socket subscribes before it asks, so any
        newer event follows it."""
        loop = asyncio.get_running_loop()
        async with self.gate:
            seq = await self._board.last_seq()
        snap = self._snap
        if snap is not None and snap[0] == seq and loop.time() - snap[1] < max_age:
            return snap[2]
        pending = self._snap_task
        if pending is None or pending[1].done() or pending[0] != seq:
            pending = (seq, loop.create_task(self._build_snapshot()))
            self._snap_task = pending
        return await asyncio.shield(pending[1])

    async def _build_snapshot(self) -> str:
        at = asyncio.get_running_loop().time()
        async with self.gate:
            board = await self._board.snapshot()
        text = json.dumps(board, ensure_ascii=False)
        self._snap = (board["seq"], at, text)
        return text

    async def _send_batch(self, batch: list[dict[str, Any]]) -> None:
        if not self.subscribers:
            # No board socket in this process: build nothing. A socket that
            # subscribes later asks for a snapshot, which reads the log after
            # these events were written, so it misses none of them.
            return
        try:
            text = await self.message(batch[-1], batch)
        except Exception as e:  # Redis blip: sockets resync from a snapshot
            log.warning("board message for event %s failed: %s", batch[-1].get("seq"), e)
            self.publish_local({"type": "resync"})
            return
        # _frame: the websocket frame, encoded once for every fast-path socket
        self.publish_local({"type": "board", "seq": batch[-1].get("seq"), "_text": text, "_frame": text_frame(text)})

    async def message(self, event: dict[str, Any], batch: list[dict[str, Any]] | None = None) -> str:
        """The JSON message for one event, or for a run of consecutive events
        ending with `event`: {"type":"event", "seq": last, "from": first,
        "events": [...], "event": last, "board": {...}, "announce": last call's,
        "announces": [every call's]}. Cached for the latest event."""
        batch = batch or [event]
        # stream_id is unique per logged event: a sequence number seen again
        # (after a site reset) never gets an old board
        key = tuple((e.get("seq"), e.get("type"), e.get("stream_id")) for e in batch)
        if key == self._key:
            return self._text
        board = await self._board.snapshot()
        payload: dict[str, Any] = {
            "type": "event",
            "seq": event.get("seq"),
            "from": batch[0].get("seq"),
            "events": batch,
            "event": event,
            "board": board,
        }
        v = board["voice"]
        voice = VoiceSettings(muted=v["muted"], volume=v["volume"], reading=v["reading"], template=v["template"])
        said = [a for a in (announcement(e, voice) for e in batch) if a is not None]
        if said:
            payload["announce"] = said[-1]
            payload["announces"] = said
        text = json.dumps(payload, ensure_ascii=False)
        self._key, self._text = key, text
        return text


def _is_next(prev: dict[str, Any], nxt: dict[str, Any]) -> bool:
    """Whether `nxt` directly follows `prev` in the event log."""
    try:
        return int(nxt["seq"]) == int(prev["seq"]) + 1
    except (KeyError, TypeError, ValueError):
        return False


async def prebuilt(event: dict[str, Any]) -> str | None:
    """`serve_feed` render for BoardFeed messages (already JSON)."""
    return event.get("_text")
