"""Run the real print agent (`motcua printer-agent`) as a subprocess, and a
raw TCP "network printer" that can refuse connections and then accept."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from queue_server.redis_server import free_port
from tests.helpers import stop_process


def start_agent(server, printer: str, width: int = 80, log_dir: Path | None = None) -> subprocess.Popen:
    run_id = time.monotonic_ns()
    base = log_dir or Path(server.config_path).parent
    env = dict(os.environ, PYTHONUNBUFFERED="1", MOTCUA_AGENT_STATE=str(base / f"agent-{run_id}.printed"))
    with open(base / f"agent-{run_id}.log", "ab") as log:  # the child keeps its own copy
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "queue_server.cli",
                "printer-agent",
                "--server",
                server.base_url,
                "--token",
                server.tokens["printer"],
                "--printer",
                printer,
                "--width",
                str(width),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


def stop_agent(proc: subprocess.Popen) -> None:
    stop_process(proc)


def wait_for(pred, timeout: float = 10, step: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise AssertionError(f"timed out waiting for {what}")


class NetworkPrinter:
    """A TCP server standing in for a 9100 printer. `start()` listens on a
    port chosen up front; before that, connections to it are refused."""

    def __init__(self):
        self.port = free_port()
        self.sock: socket.socket | None = None
        self.received: list[bytes] = []  # one entry per connection that sent data
        self.connections = 0
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def start(self) -> None:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(8)
        s.settimeout(0.2)
        self.sock = s
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        assert self.sock is not None
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            chunks = []
            conn.settimeout(5)
            with conn:
                while True:
                    try:
                        b = conn.recv(65536)
                    except OSError:
                        break
                    if not b:
                        break
                    chunks.append(b)
            if chunks:
                self.received.append(b"".join(chunks))

    def stop(self) -> None:
        self._stop.set()
        if self.sock:
            self.sock.close()
        if self._thread:
            self._thread.join(2)

    @property
    def spec(self) -> str:
        return f"network:127.0.0.1:{self.port}"

    def tickets(self) -> int:
        """How many cut commands arrived: one per printed ticket."""
        return sum(data.count(b"\x1dV") for data in self.received)
