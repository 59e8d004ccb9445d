"""The fast path's frame encoding (checked with the websockets library's own
parser) and the hub's handling of a stuck transport."""

from __future__ import annotations

import asyncio

import pytest
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from queue_server.live.fastsend import MAX_BUFFER, fast_protocol, text_frame
from queue_server.live.hub import Hub


@pytest.mark.parametrize("size", [0, 5, 125, 126, 1000, 65535, 65536, 200_000])
def test_text_frame_parses_as_one_unmasked_text_frame(size):
    text = ("Số A001 – quầy 3 " * (size // 10 + 1))[:size]
    reader = StreamReader()
    reader.feed_data(text_frame(text))
    reader.feed_eof()
    gen = Frame.parse(reader.read_exact, mask=False)
    try:
        while True:
            next(gen)
    except StopIteration as done:
        frame = done.value
    assert frame.opcode is Opcode.TEXT and frame.fin
    assert frame.data.decode() == text


def test_fast_protocol_ignores_other_senders():
    async def send(message):
        pass

    assert fast_protocol(send) is None
    assert fast_protocol(object()) is None


class _Transport:
    def __init__(self, buffered: int):
        self.buffered = buffered
        self.written: list[bytes] = []
        self.aborted = False

    def is_closing(self):
        return self.aborted

    def get_write_buffer_size(self):
        return self.buffered

    def write(self, data):
        self.written.append(data)

    def abort(self):
        self.aborted = True


class _Proto:
    handshake_complete = True
    close_sent = False
    disconnected = False
    initial_response = None

    def __init__(self, buffered: int):
        self.transport = _Transport(buffered)


def test_hub_writes_frames_and_drops_a_stuck_transport():
    async def run():
        hub = Hub()
        ok, stuck, slow = hub.subscribe(), hub.subscribe(), hub.subscribe()
        ok.proto, stuck.proto = _Proto(0), _Proto(MAX_BUFFER + 1)
        hub.publish_local({"type": "board", "seq": 7, "_text": "{}", "_frame": b"\x81\x02{}"})
        assert ok.proto.transport.written == [b"\x81\x02{}"] and ok.queue.empty()
        assert stuck.proto is None and stuck.overflowed and hub.fast_dropped == 1
        assert await stuck.get() is None  # its socket closes and resyncs
        assert (await slow.get())["seq"] == 7  # not on the fast path: queued
        assert hub.frames_written == 1 and hub.subscribers == 2

    asyncio.run(run())


def test_tick_wakes_only_queued_sockets_and_pings_idle_fast_ones():
    from queue_server.live.hub import PING_FRAME, TICK

    async def run():
        hub = Hub()
        fast, slow = hub.subscribe(), hub.subscribe()
        fast.proto = _Proto(0)
        hub.publish_local(TICK)  # idle since start: a ping frame, no wakeup
        assert fast.queue.empty() and fast.proto.transport.written == [PING_FRAME]
        assert await slow.get() is TICK
        hub.publish_local({"type": "board", "seq": 1, "_text": "{}", "_frame": b"\x81\x02{}"})
        hub.publish_local(TICK)  # just wrote: no ping
        assert fast.proto.transport.written == [PING_FRAME, b"\x81\x02{}"] and fast.queue.empty()

    asyncio.run(run())


# -- direct sends: the C loop, its Python twin, the threads, the hub ------------------
import shutil
import socket
import sysconfig
from pathlib import Path

from queue_server.live import fastsend
from queue_server.live.fastsend import FrameWriter, send_each_py


def _pairs(n: int):
    pairs = [socket.socketpair() for _ in range(n)]
    for a, _b in pairs:
        a.setblocking(False)
    return pairs


def _read_all(sock: socket.socket) -> bytes:
    sock.setblocking(False)
    out = b""
    while True:
        try:
            chunk = sock.recv(1 << 20)
        except BlockingIOError:
            return out
        if not chunk:
            return out
        out += chunk


SENDERS = [send_each_py] + ([fastsend.send_each] if fastsend.send_each is not send_each_py else [])


@pytest.mark.parametrize("send_each", SENDERS, ids=lambda f: f.__module__)
def test_send_each_reports_full_buffers_and_closed_sockets(send_each):
    pairs = _pairs(4)
    full_a, full_b = pairs[1]
    full_a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    while True:  # fill it: its reader never reads
        try:
            full_a.send(b"x" * 4096)
        except BlockingIOError:
            break
    closed_a, _ = pairs[2]
    closed_a.close()  # fileno() is now -1
    frame = text_frame("Mời công dân có số A015 đến quầy số 3")
    socks = [a for a, _ in pairs]
    short = send_each(socks, frame, 0, len(socks))
    assert [i for i, _ in short] == [1, 2]
    assert 0 <= short[0][1] < len(frame) and short[1] == (2, -1)
    assert _read_all(pairs[0][1]) == frame and _read_all(pairs[3][1]) == frame
    assert send_each(socks, frame, 3, 4) == [] and _read_all(pairs[3][1]) == frame  # a range only
    for a, b in pairs:
        a.close()
        b.close()


def test_the_c_send_loop_is_built_where_a_compiler_is():
    """`pip install -e .` compiles queue_server/live/_sendmany.c when it can;
    on such a machine (CI) the fan-out must not silently fall back."""
    include = Path(sysconfig.get_paths()["include"]) / "Python.h"
    if not (shutil.which("cc") or shutil.which("gcc")) or not include.exists():
        pytest.skip("no C compiler or Python headers here: the Python loop is used")
    assert fastsend.send_each is not send_each_py


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_frame_writer_sends_once_to_every_socket_on_its_threads(threads):
    pairs = _pairs(25)
    writer = FrameWriter(threads, min_parallel=1)
    frame = text_frame('{"type": "event", "seq": 9}')
    try:
        assert writer.send([a for a, _ in pairs], frame) == []
        assert all(_read_all(b) == frame for _, b in pairs)
    finally:
        writer.close()
        for a, b in pairs:
            a.close()
            b.close()


class _RealProto:
    """What the hub reads of uvicorn's protocol, over a real asyncio transport."""

    handshake_complete = True
    close_sent = False
    disconnected = False
    initial_response = None

    def __init__(self, transport):
        self.transport = transport


def test_hub_sends_directly_until_another_write_leaves_bytes_buffered():
    async def run():
        accepted: asyncio.Queue = asyncio.Queue()

        async def on_client(reader, writer):
            await accepted.put(writer.transport)

        server = await asyncio.start_server(on_client, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        clients = []
        for _ in range(2):
            c = socket.create_connection(("127.0.0.1", port))
            c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            clients.append(c)
        transports = [await accepted.get() for _ in clients]
        hub = Hub()
        subs = [hub.subscribe() for _ in transports]
        for sub, t in zip(subs, transports, strict=False):
            sub.proto = _RealProto(t)
        assert set(hub._direct) == set(subs)  # both on direct sends
        first = text_frame('{"seq": 1}')
        hub.publish_local({"type": "board", "seq": 1, "_frame": first})
        assert hub.frames_written == 2
        # a write by someone else that stays buffered (the client does not
        # read): the next frame must queue behind it, not overtake it
        transports[0].get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        big = b"B" * (256 << 10)  # under MAX_BUFFER: not a stuck display
        transports[0].write(big)
        assert transports[0].get_write_buffer_size() > 0
        assert subs[0] not in hub._direct and subs[1] in hub._direct
        second = text_frame('{"seq": 2}')
        hub.publish_local({"type": "board", "seq": 2, "_frame": second})
        # a close frame written by the server takes a socket off direct sends too
        transports[1].write(b"\x88\x02\x03\xe8")
        assert subs[1] not in hub._direct
        got = b""
        clients[0].settimeout(5)
        want = len(first) + len(big) + len(second)
        while len(got) < want:
            chunk = await asyncio.get_running_loop().run_in_executor(None, clients[0].recv, 1 << 20)
            if not chunk:
                break
            got += chunk
        assert got == first + big + second
        assert "write" not in vars(transports[0]) and "write" not in vars(transports[1])  # unwatched
        hub.close_all()
        for t in transports:
            t.close()
        for c in clients:
            c.close()
        server.close()
        await server.wait_closed()

    asyncio.run(run())
