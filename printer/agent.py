"""The print agent (`motcua printer-agent`): runs on the kiosk PC next to the
printer, holds a websocket to the server, prints the jobs it receives and
acks them, and reports the printer's status.

Exactly once: the server keeps a job until it is acked; the agent remembers
the job ids it has printed (and, for the virtual printer, finds them on disk),
so a job sent again after a lost ack is acked without printing. The printed
ids are also appended to a small state file (MOTCUA_AGENT_STATE, or one in
the temp dir per server+printer), so this holds across an agent restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import random
import tempfile
import time
from collections import OrderedDict
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from printer import width_px
from printer.connections import ONLINE, Connection, PrinterError, VirtualPrinter, open_printer

log = logging.getLogger("motcua.agent")

PROBE_OK_SECONDS = 15  # status heartbeat while the printer is fine
PROBE_BAD_SECONDS = 2  # look again this often while it is not
BACKOFF_START = 0.5
BACKOFF_MAX = 10.0


def ws_url(server: str) -> str:
    u = urlsplit(server if "://" in server else f"http://{server}")
    scheme = {"https": "wss", "wss": "wss"}.get(u.scheme, "ws")
    return urlunsplit((scheme, u.netloc, u.path.rstrip("/") + "/ws/printer", "", ""))


def render_job(data: dict[str, Any], width_mm: int):
    """Ticket data -> (ESC/POS bytes, image)."""
    from printer.escpos_out import encode
    from printer.layout import TicketData, ticket_layout
    from printer.render import render

    img = render(ticket_layout(TicketData.from_job(data), width_mm))
    return encode(img), img


class Agent:
    def __init__(self, server: str, token: str, conn: Connection, width_mm: int = 80, state_file: str | None = None):
        width_px(width_mm)  # validates 58/80
        self.state_file = state_file
        self.url = ws_url(server)
        self.token = token
        self.conn = conn
        self.width_mm = width_mm
        self.printed: OrderedDict[str, float] = OrderedDict()  # job id -> when
        self.unacked: set[str] = set()  # printed, ack not yet sent
        self.queued: set[str] = set()
        self.status = ""
        self.detail = ""
        self.jobs: asyncio.Queue[dict[str, Any]] | None = None
        self.ws = None

    # -- bookkeeping -------------------------------------------------------
    def load_state(self) -> None:
        """Job ids printed by an earlier run of this agent (survives a crash
        between printing and acking)."""
        if not self.state_file:
            return
        try:
            with open(self.state_file, encoding="utf-8") as f:
                ids = [line.strip() for line in f if line.strip()]
        except OSError:
            return
        for job_id in ids[-5000:]:
            self.printed[job_id] = 0.0

    def _remember(self, job_id: str) -> None:
        self.printed[job_id] = time.time()
        while len(self.printed) > 5000:
            self.printed.popitem(last=False)
        if self.state_file:
            try:
                with open(self.state_file, "a", encoding="utf-8") as f:
                    f.write(job_id + "\n")
                    f.flush()
                    os.fsync(f.fileno())
                if len(self.printed) >= 5000 and os.path.getsize(self.state_file) > 1_000_000:
                    with open(self.state_file + ".tmp", "w", encoding="utf-8") as f:
                        f.write("".join(j + "\n" for j in self.printed))
                    os.replace(self.state_file + ".tmp", self.state_file)
            except OSError as e:
                log.warning("cannot record printed job %s in %s: %s", job_id, self.state_file, e)

    def already_printed(self, job_id: str) -> bool:
        if job_id in self.printed:
            return True
        return isinstance(self.conn, VirtualPrinter) and self.conn.printed(job_id)

    async def _send(self, msg: dict[str, Any]) -> None:
        ws = self.ws
        if ws is None:
            raise ConnectionError("not connected")
        await ws.send(json.dumps(msg, ensure_ascii=False))

    async def report(self, status: str, detail: str = "", force: bool = False) -> None:
        if force or status != self.status or detail != self.detail:
            self.status, self.detail = status, detail
            log.info("printer status: %s %s", status, detail)
        with contextlib.suppress(Exception):
            await self._send({"type": "status", "status": status, "detail": detail})

    # -- printing ----------------------------------------------------------
    async def _print_one(self, job: dict[str, Any]) -> None:
        job_id = job["id"]
        try:
            if self.already_printed(job_id):
                self._remember(job_id)
            else:
                data, img = await asyncio.to_thread(render_job, job.get("data") or {}, self.width_mm)
                await asyncio.to_thread(self.conn.send, job_id, data, img)
                self._remember(job_id)
                log.info("printed %s (%s)", job_id, (job.get("data") or {}).get("number"))
        except PrinterError as e:
            log.warning("print %s failed: %s", job_id, e)
            await self.report(e.status, str(e))
            with contextlib.suppress(Exception):
                await self._send({"type": "fail", "id": job_id, "error": str(e)})
            return
        except Exception as e:  # a bad job must not kill the agent
            log.exception("job %s could not be rendered", job_id)
            with contextlib.suppress(Exception):
                await self._send({"type": "fail", "id": job_id, "error": f"render: {e}"})
            return
        finally:
            self.queued.discard(job_id)
        self.unacked.add(job_id)
        if self.status != ONLINE:
            await self.report(ONLINE)
        await self._flush_acks()

    async def _flush_acks(self) -> None:
        for job_id in sorted(self.unacked):
            try:
                await self._send({"type": "ack", "id": job_id})
            except Exception:
                return
            self.unacked.discard(job_id)

    async def _worker(self) -> None:
        assert self.jobs is not None
        while True:
            job = await self.jobs.get()
            await self._print_one(job)

    async def _prober(self) -> None:
        while True:
            await asyncio.sleep(PROBE_OK_SECONDS if self.status == ONLINE else PROBE_BAD_SECONDS)
            if self.queued:
                continue  # the job in hand will tell
            status = await asyncio.to_thread(self.conn.status)
            await self.report(status, "" if status == ONLINE else self.detail or self.conn.describe(), force=True)

    async def _session(self, ws) -> None:
        self.ws = ws
        status = await asyncio.to_thread(self.conn.status)
        self.status = status
        await self._send(
            {
                "type": "hello",
                "printer": self.conn.describe(),
                "width_mm": self.width_mm,
                "status": status,
                "detail": "" if status == ONLINE else self.conn.describe(),
            }
        )
        await self._flush_acks()
        prober = asyncio.create_task(self._prober())
        try:
            async for raw in ws:
                try:
                    msg = json.loads(raw)
                except ValueError:
                    continue
                if not isinstance(msg, dict) or msg.get("type") != "job" or not isinstance(msg.get("id"), str):
                    continue
                job_id = msg["id"]
                if job_id in self.queued:
                    continue  # being printed right now
                if job_id in self.printed:  # printed before, the ack got lost
                    self.unacked.add(job_id)
                    await self._flush_acks()
                    continue
                self.queued.add(job_id)
                assert self.jobs is not None
                self.jobs.put_nowait(msg)
        finally:
            prober.cancel()
            with contextlib.suppress(BaseException):
                await prober
            self.ws = None

    async def run(self, stop: asyncio.Event | None = None) -> int:
        import websockets

        self.jobs = asyncio.Queue()
        self.load_state()
        with contextlib.suppress(Exception):  # load fonts and modules before the first ticket
            await asyncio.to_thread(render_job, {"number": "A000", "issued_at": 0, "track_url": "x"}, self.width_mm)
        worker = asyncio.create_task(self._worker())
        backoff = BACKOFF_START
        try:
            while stop is None or not stop.is_set():
                try:
                    async with websockets.connect(
                        self.url,
                        additional_headers={"Authorization": f"Bearer {self.token}"},
                        open_timeout=10,
                        ping_interval=15,
                        ping_timeout=15,
                        max_size=2**20,
                    ) as ws:
                        log.info("connected to %s", self.url)
                        backoff = BACKOFF_START
                        session = asyncio.create_task(self._session(ws))
                        waits = [session] + ([asyncio.create_task(stop.wait())] if stop else [])
                        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                        for t in waits:
                            t.cancel()
                            with contextlib.suppress(BaseException):
                                await t
                except asyncio.CancelledError:
                    raise
                except Exception as e:
                    code = getattr(getattr(e, "rcvd", None), "code", None)
                    if code == 4401:
                        log.error("the server refused the printer token")
                    log.warning("server connection lost (%s); retrying in %.1fs", e, backoff)
                if stop is not None and stop.is_set():
                    break
                await asyncio.sleep(backoff * (0.8 + 0.4 * random.random()))
                backoff = min(backoff * 2, BACKOFF_MAX)
        finally:
            worker.cancel()
            with contextlib.suppress(BaseException):
                await worker
        return 0


def run_agent(server: str, token: str, printer: str, width_mm: int = 80) -> int:
    """Entry point of `motcua printer-agent`. Runs until interrupted."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        conn = open_printer(printer)
        state = os.environ.get("MOTCUA_AGENT_STATE") or os.path.join(
            tempfile.gettempdir(),
            "motcua-agent-" + hashlib.sha256(f"{server}|{printer}".encode()).hexdigest()[:16] + ".printed",
        )
        agent = Agent(server, token, conn, int(width_mm), state_file=state)
    except ValueError as e:
        log.error("%s", e)
        return 2
    try:
        return asyncio.run(agent.run())
    except KeyboardInterrupt:
        return 0
