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
"""

from __future__ import annotations

import struct
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
        if proto.conn.extensions:          # e.g. permessage-deflate: frames differ per socket
            return None
    except AttributeError:
        return None
    return proto


def writable(proto: Any) -> bool:
    """Whether a frame written now reaches an open websocket."""
    t = proto.transport
    return (proto.handshake_complete and not proto.close_sent and not proto.disconnected
            and proto.initial_response is None and t is not None and not t.is_closing())
