"""Fan-out of messages to this process's websockets: one bounded queue per
subscriber, or the pre-encoded frame written straight to its socket (the
board's fast path, live/fastsend.py). A subscriber that falls behind is
dropped and its socket resyncs from a snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from queue_server.live import fastsend

log = logging.getLogger("motcua.live")

# Put in every subscriber's queue every `tick_seconds`: lets each socket send
# its idle heartbeat without a timer of its own (one timer per process, not
# one `wait_for` per socket per event).
TICK: dict[str, Any] = {"type": "_tick"}


class Subscription:
    def __init__(self, maxsize: int, hub: Hub | None = None):
        self.queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize)
        self.overflowed = False
        self._hub = hub
        self._proto: Any = None

    @property
    def proto(self) -> Any:
        """Fast path (queue_server/api/fastsend.py): the socket's uvicorn
        protocol; messages carrying a "_frame" are written to it directly
        instead of queued. Set only while the queue is empty."""
        return self._proto

    @proto.setter
    def proto(self, value: Any) -> None:
        if value is not self._proto:
            self._proto = value
            if self._hub is not None:
                self._hub._fast_changed(self)

    async def get(self) -> dict[str, Any] | None:
        """The next event; None when closed or when this subscriber fell
        behind (its socket then closes and the client resyncs)."""
        if self.overflowed:
            return None
        return await self.queue.get()


# The idle heartbeat of a fast-path socket, as its websocket text frame.
PING: dict[str, Any] = {"type": "ping"}
PING_FRAME = b'\x81\x0f{"type":"ping"}'

Listener = Callable[[dict[str, Any] | None], None]


class Hub:
    """Fan-out of messages to local subscribers (one bounded queue each).
    Listeners are called synchronously with every message (None on stop)."""

    def __init__(self, queue_size: int = 256, fanout_threads: int = 1):
        self._queue_size = queue_size
        self._subs: set[Subscription] = set()
        # fast-path subscribers whose frames go straight to their socket
        # (their transport holds nothing unsent): sub -> (socket, transport),
        # and the same as two lists, rebuilt after a change
        self._direct: dict[Subscription, tuple[Any, Any]] = {}
        self._direct_lists: tuple[list[Subscription], list[Any]] | None = None
        self.writer = fastsend.FrameWriter(fanout_threads)
        self._listeners: list[Listener] = []
        self.last_seq = 0
        self.frames_written = 0  # fast-path frames written to transports
        self.fast_dropped = 0  # fast-path sockets closed for a full write buffer
        self.last_frame_at = 0.0  # loop time of the last fast-path fan-out
        self.last_event_at = time.monotonic()  # of the last message other than a tick
        self.idle_ping_seconds = 15.0  # a fast-path socket hears at least this often
        # called with the seconds each board message's fan-out took (/metrics)
        self.fanout_observer: Callable[[float], None] | None = None

    def subscribe(self) -> Subscription:
        sub = Subscription(self._queue_size, self)
        self._subs.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._drop(sub)

    def _drop(self, sub: Subscription) -> None:
        self._subs.discard(sub)
        self._undirect(sub)

    def _fast_changed(self, sub: Subscription) -> None:
        """sub.proto was set or cleared: send to its socket directly when it
        is a plain socket with nothing buffered, until a write by anyone else
        leaves bytes buffered or closes it."""
        self._undirect(sub)
        p = sub.proto
        if p is None or sub not in self._subs:
            return
        t = p.transport
        sock = fastsend.raw_socket(t)
        if sock is None or t.get_write_buffer_size():
            return  # written through its transport, checked each time

        def written(data: Any) -> None:
            # someone else wrote (a pong, a keepalive ping, a close frame):
            # direct sends stop if bytes stay buffered or the socket closes
            if t.get_write_buffer_size() or data[:1] == fastsend.CLOSE_OPCODE_BYTE:
                self._undirect(sub)

        fastsend.watch_writes(t, written)
        self._direct[sub] = (sock, t)
        self._direct_lists = None

    def _undirect(self, sub: Subscription) -> None:
        entry = self._direct.pop(sub, None)
        if entry is not None:
            fastsend.unwatch_writes(entry[1])
            self._direct_lists = None

    def add_listener(self, fn: Listener) -> None:
        self._listeners.append(fn)

    @property
    def subscribers(self) -> int:
        return len(self._subs)

    def _close(self, sub: Subscription) -> None:
        self._drop(sub)
        with contextlib.suppress(asyncio.QueueFull):
            sub.queue.put_nowait(None)

    def close_all(self) -> None:
        for sub in list(self._subs):
            self._close(sub)
        for fn in self._listeners:
            with contextlib.suppress(Exception):
                fn(None)
        self.writer.close()

    def publish_local(self, event: dict[str, Any]) -> None:
        if event is not TICK:
            self.last_event_at = time.monotonic()
        if isinstance(event.get("seq"), (int, float)):
            self.last_seq = max(self.last_seq, int(event["seq"]))
        for fn in self._listeners:
            try:
                fn(event)
            except Exception:  # a listener never stops the fan-out
                log.exception("event listener failed")
        frame = event.get("_frame")
        if frame is not None:
            started = time.perf_counter()
            try:
                self._publish_frame(event, frame)
                if self.fanout_observer is not None:
                    self.fanout_observer(time.perf_counter() - started)
            except Exception:  # never stops the feed; sockets resync on their next gap
                log.exception("fan-out of event %s failed", event.get("seq"))
            return
        if event is TICK:
            # fast-path sockets get no task wakeup for a tick: when the hub
            # has written nothing for a while, they get a ping frame instead
            fast = 0
            for sub in list(self._subs):
                if sub.proto is not None:
                    fast += 1
                    continue
                with contextlib.suppress(asyncio.QueueFull):
                    sub.queue.put_nowait(event)
            if fast:
                with contextlib.suppress(RuntimeError):
                    if asyncio.get_running_loop().time() - self.last_frame_at >= self.idle_ping_seconds:
                        self._publish_frame(PING, PING_FRAME, queue_others=False)
            return
        for sub in list(self._subs):
            self._enqueue(sub, event)

    def _enqueue(self, sub: Subscription, event: dict[str, Any]) -> None:
        """Queue an event for a socket's own task; a subscriber whose queue
        is full has fallen behind and is dropped (its socket resyncs)."""
        try:
            sub.queue.put_nowait(event)
        except asyncio.QueueFull:
            sub.overflowed = True
            self._drop(sub)

    def _publish_frame(self, event: dict[str, Any], frame: bytes, queue_others: bool = True) -> None:
        """A message with its websocket frame pre-encoded: sent straight to
        the socket of every fast-path subscriber whose transport holds
        nothing unsent (on the FrameWriter's threads), written to the
        transport of the other fast-path ones, queued for the rest. A
        socket whose transport holds more than MAX_BUFFER unsent bytes (a
        stuck TV) is aborted; its client reconnects and resyncs."""
        direct = self._direct
        others = self._subs.difference(direct) if len(self._subs) > len(direct) else ()
        written = 0
        if direct:
            if self._direct_lists is None:
                self._direct_lists = (list(direct), [sock for sock, _ in direct.values()])
            subs, socks = self._direct_lists
            short = self.writer.send(socks, frame)
            written = len(socks) - len(short)
            for i, sent in short:
                sub = subs[i]
                self._undirect(sub)
                if sent >= 0:  # its send buffer was full: the rest waits in the transport
                    sub.proto.transport.write(frame[sent:])
                    written += 1
                elif self._write_checked(sub, event, frame, queue_others):
                    written += 1
        for sub in others:
            if self._write_checked(sub, event, frame, queue_others):
                written += 1
        if written:
            self.frames_written += written
            with contextlib.suppress(RuntimeError):
                self.last_frame_at = asyncio.get_running_loop().time()

    def _write_checked(self, sub: Subscription, event: dict[str, Any], frame: bytes, queue_others: bool) -> bool:
        """One subscriber that does not get a direct send: queue the event
        (not on the fast path), close it (closing or stuck socket), or write
        the frame to its transport. True when a frame was written."""
        p = sub.proto
        if p is None:
            if queue_others:
                self._enqueue(sub, event)
            return False
        t = p.transport
        if p.close_sent or p.disconnected or t.is_closing():
            sub.proto = None
            self._close(sub)
            return False
        if t.get_write_buffer_size() > fastsend.MAX_BUFFER:
            self.fast_dropped += 1
            sub.proto = None
            sub.overflowed = True
            self._close(sub)
            t.abort()
            return False
        t.write(frame)
        if not t.get_write_buffer_size():  # all sent: back to direct sends
            self._fast_changed(sub)
        return True
