"""The agent against a websocket server written in the test: a job sent
again (its ack was lost) is acked without a second print, a failing printer
gets a "fail" and an offline status, and the agent reconnects."""

from __future__ import annotations

import asyncio
import json

import websockets

from printer.agent import Agent
from printer.connections import Connection, PrinterError, PrinterSpec
from tests.server import run_sync

JOB = {
    "number": "A007",
    "category_name": "Hộ tịch",
    "site_name": "Xã A",
    "issued_at": 1_764_000_000_000,
    "track_url": "http://x/t/abc",
    "ahead": 2,
    "eta_minutes": 10,
}


class CountingPrinter(Connection):
    """A printer that records what it was sent; it fails while `down`."""

    def __init__(self):
        self.spec = PrinterSpec("test", "counting")
        self.sent: list[tuple[str, bytes]] = []
        self.down = False

    def send(self, job_id, data, image=None):
        if self.down:
            raise PrinterError("paper jam", "offline")
        self.sent.append((job_id, data))

    def status(self):
        return "offline" if self.down else "online"


def test_resent_job_is_acked_not_reprinted_and_failures_reported():
    async def go():
        printer = CountingPrinter()
        got: list[dict] = []
        connections = 0
        first_done = asyncio.Event()

        async def handler(ws):
            nonlocal connections
            connections += 1
            assert ws.request.headers["Authorization"] == "Bearer tok"
            if connections == 1:
                await ws.send(json.dumps({"type": "job", "id": "J1", "data": JOB}))
                while True:
                    m = json.loads(await ws.recv())
                    got.append(m)
                    if m.get("type") == "ack":
                        break
                await ws.close()  # as if the ack were lost with the connection
                first_done.set()
                return
            # second connection: the server did not see the ack and sends J1 again
            await ws.send(json.dumps({"type": "job", "id": "J1", "data": JOB}))
            printer.down = True
            await ws.send(json.dumps({"type": "job", "id": "J2", "data": JOB}))
            async for raw in ws:
                m = json.loads(raw)
                got.append(m)
                if m.get("type") == "fail":
                    await ws.close()
                    return

        async with websockets.serve(handler, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            agent = Agent(f"http://127.0.0.1:{port}", "tok", printer, 58)
            stop = asyncio.Event()
            task = asyncio.create_task(agent.run(stop))
            try:
                await asyncio.wait_for(first_done.wait(), 20)
                await asyncio.wait_for(_until(lambda: any(m.get("type") == "fail" for m in got)), 20)
            finally:
                stop.set()
                await asyncio.wait_for(task, 10)
        assert [jid for jid, _ in printer.sent] == ["J1"]  # printed exactly once
        acks = [m["id"] for m in got if m.get("type") == "ack"]
        assert acks == ["J1", "J1"]  # the resend was acked again
        fails = [m for m in got if m.get("type") == "fail"]
        assert fails[0]["id"] == "J2" and "paper jam" in fails[0]["error"]
        statuses = [m for m in got if m.get("type") == "status"]
        assert statuses and statuses[-1]["status"] == "offline"
        hellos = [m for m in got if m.get("type") == "hello"]
        assert len(hellos) == 2 and hellos[0]["width_mm"] == 58
        assert printer.sent[0][1].count(b"\x1dV") == 1

    run_sync(go())


async def _until(pred, step=0.02):
    while not pred():
        await asyncio.sleep(step)


def test_printed_ids_survive_an_agent_restart(tmp_path):
    state = str(tmp_path / "printed.txt")

    async def serve_once(agent_factory, jobs):
        got: list[dict] = []
        done = asyncio.Event()

        async def handler(ws):
            for j in jobs:
                await ws.send(json.dumps({"type": "job", "id": j, "data": JOB}))
            async for raw in ws:
                m = json.loads(raw)
                got.append(m)
                if sum(1 for x in got if x.get("type") == "ack") == len(jobs):
                    done.set()
                    await ws.close()
                    return

        async with websockets.serve(handler, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            agent = agent_factory(port)
            stop = asyncio.Event()
            task = asyncio.create_task(agent.run(stop))
            await asyncio.wait_for(done.wait(), 20)
            stop.set()
            await asyncio.wait_for(task, 10)
        return got

    async def go():
        p1, p2 = CountingPrinter(), CountingPrinter()
        await serve_once(lambda port: Agent(f"http://127.0.0.1:{port}", "tok", p1, 80, state_file=state), ["K1"])
        # a new agent process (new memory) gets K1 again because the ack was lost, and K2
        got = await serve_once(
            lambda port: Agent(f"http://127.0.0.1:{port}", "tok", p2, 80, state_file=state), ["K1", "K2"]
        )
        assert [j for j, _ in p1.sent] == ["K1"]
        assert [j for j, _ in p2.sent] == ["K2"]
        assert sorted(m["id"] for m in got if m.get("type") == "ack") == ["K1", "K2"]

    run_sync(go())
