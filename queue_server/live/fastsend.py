"""Board fan-out fast path: one pre-encoded websocket frame written straight
to every display's transport.

Under uvicorn's websockets (sans-I/O) protocol, the ASGI `send` of a
websocket is a bound method of the connection's protocol object. For a
socket on that plain protocol (no permessage-deflate or other extension),
the server's text frame for a message is the same bytes for every socket:
0x81, the payload length, the UTF-8 payload (server frames are never
masked, RFC 6455 §5.1). BoardFeed builds that frame once per event and the
Hub writes it to each transport from the feed task, with no per-socket task
wakeup and no per-socket framing. Anything else (another protocol, an
extension, a closing socket) keeps the ordinary ASGI path.

Sending to thousands of displays is the kernel's TCP path, one send() per
socket. Under an asyncio selector transport with nothing buffered, the
transport's own write() would make that same send(), so the Hub keeps the
sockets of such transports in a list and sends to them directly
(`FrameWriter`): on several threads, which overlap in the kernel because
send() releases the GIL, and without touching each socket's Python objects
per event. `watch_writes` takes a socket off that list as soon as anything
else writes to its transport (a pong, a close frame), since those bytes may
stay buffered and a direct send must never overtake them.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

try:  # the implementation uvicorn picks when `websockets` is installed
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
except Exception:  # pragma: no cover - uvicorn without websockets
    WebSocketsSansIOProtocol = None  # type: ignore[assignment,misc]

# Unsent bytes a display may hold before it is dropped (it reconnects and
# resyncs from a snapshot): a board message is a few KiB, so this is
# hundreds of messages a stuck TV has not read.
MAX_BUFFER = 1 << 20


def text_frame(text: str) -> bytes:
    """`text` as one final, unmasked RFC 6455 text frame."""
    data = text.encode("utf-8")
    n = len(data)
    if n < 126:
        head = struct.pack("!BB", 0x81, n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", 0x81, 126, n)
    else:
        head = struct.pack("!BBQ", 0x81, 127, n)
    return head + data


def _owner(fn: Any, depth: int = 4) -> Any:
    """The protocol object behind an ASGI send callable: its bound
    instance, or one found through the closures of the wrappers around it
    (Litestar's WebSocket wraps `send` to check its own state)."""
    if WebSocketsSansIOProtocol is None:
        return None
    owner = getattr(fn, "__self__", None)
    if type(owner) is WebSocketsSansIOProtocol:
        return owner
    if depth == 0:
        return None
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            inner = cell.cell_contents
        except ValueError:
            continue
        if callable(inner) and not isinstance(inner, type):
            found = _owner(inner, depth - 1)
            if found is not None:
                return found
    return None


def fast_protocol(send: Any) -> Any:
    """The uvicorn protocol to write frames to for this ASGI send, or None
    when the fast path does not apply (other server or implementation, an
    extension negotiated, not open)."""
    proto = _owner(send)
    if proto is None or not writable(proto):
        return None
    try:
        if proto.conn.extensions:  # e.g. permessage-deflate: frames differ per socket
            return None
    except AttributeError:
        return None
    return proto


def writable(proto: Any) -> bool:
    """Whether a frame written now reaches an open websocket."""
    t = proto.transport
    return (
        proto.handshake_complete
        and not proto.close_sent
        and not proto.disconnected
        and proto.initial_response is None
        and t is not None
        and not t.is_closing()
    )


def raw_socket(transport: Any) -> socket.socket | None:
    """The socket under an asyncio selector transport (the one its write()
    sends on), or None for any other transport (uvloop, SSL, a test double),
    which then keeps being written through its write()."""
    sock = getattr(transport, "_sock", None)
    return sock if type(sock) is socket.socket else None


# The first byte of a server's close frame (FIN + opcode 0x8).
CLOSE_OPCODE_BYTE = b"\x88"


def watch_writes(transport: Any, on_write: Callable[[Any], None]) -> None:
    """Call on_write(data) after every write(data) anyone makes to
    `transport`, until unwatch_writes(). (An instance attribute in front of
    the class's write.)"""
    write = type(transport).write

    def watched(data: Any) -> None:
        write(transport, data)
        on_write(data)

    transport.write = watched


def unwatch_writes(transport: Any) -> None:
    vars(transport).pop("write", None)


def send_each_py(socks: Sequence[socket.socket], frame: bytes, start: int, stop: int) -> list[tuple[int, int]]:
    """send() `frame` on socks[start:stop]. Returns (index, bytes sent) of
    every socket that did not take all of it at once: 0..len-1 when its send
    buffer was full, -1 when send() failed (reset, closed).

    Each send() releases the GIL, but taking it back after each one is what
    limits several threads running this; the C twin (_sendmany.c, built at
    install when a compiler is there) releases it once for the whole run."""
    n = len(frame)
    short: list[tuple[int, int]] = []
    for i in range(start, stop):
        try:
            k = socks[i].send(frame)
        except (BlockingIOError, InterruptedError):
            k = 0
        except OSError:
            k = -1
        if k != n:
            short.append((i, k))
    return short


try:
    from queue_server.live._sendmany import send_each
except ImportError:  # not compiled (no C compiler at install): same thing in Python
    send_each = send_each_py


class FrameWriter:
    """Sends one frame on many sockets, split over up to `threads` threads
    (the calling thread is one of them). The caller, the event loop's thread,
    waits until every send is done, so no socket is used by two threads at
    once. Fewer than `min_parallel` sockets stay on the calling thread."""

    def __init__(self, threads: int = 1, min_parallel: int = 512):
        self.threads = max(1, threads)
        self.min_parallel = max(1, min_parallel)
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def send(self, socks: Sequence[socket.socket], frame: bytes) -> list[tuple[int, int]]:
        """What send_each returns, for all of `socks`."""
        n = len(socks)
        if self.threads == 1 or n < self.min_parallel:
            return send_each(socks, frame, 0, n)
        step = -(-n // self.threads)
        pool = self._executor()
        futures = [pool.submit(send_each, socks, frame, a, min(n, a + step)) for a in range(step, n, step)]
        short = send_each(socks, frame, 0, step)
        for f in futures:
            short += f.result()
        return short

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.threads - 1, thread_name_prefix="motcua-fanout")
            return self._pool

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False)
                self._pool = None
