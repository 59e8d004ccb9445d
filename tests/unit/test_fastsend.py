"""The fast path's frame encoding (checked with the websockets library's own
parser) and the hub's handling of a stuck transport."""

from __future__ import annotations

import asyncio

import pytest
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from queue_server.api.fastsend import MAX_BUFFER, fast_protocol, text_frame
from queue_server.live import Hub


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
        assert await stuck.get() is None                      # its socket closes and resyncs
        assert (await slow.get())["seq"] == 7                 # not on the fast path: queued
        assert hub.frames_written == 1 and hub.subscribers == 2
    asyncio.run(run())


def test_tick_wakes_only_queued_sockets_and_pings_idle_fast_ones():
    from queue_server.live import PING_FRAME, TICK

    async def run():
        hub = Hub()
        fast, slow = hub.subscribe(), hub.subscribe()
        fast.proto = _Proto(0)
        hub.publish_local(TICK)                      # idle since start: a ping frame, no wakeup
        assert fast.queue.empty() and fast.proto.transport.written == [PING_FRAME]
        assert await slow.get() is TICK
        hub.publish_local({"type": "board", "seq": 1, "_text": "{}", "_frame": b"\x81\x02{}"})
        hub.publish_local(TICK)                      # just wrote: no ping
        assert fast.proto.transport.written == [PING_FRAME, b"\x81\x02{}"] and fast.queue.empty()
    asyncio.run(run())
