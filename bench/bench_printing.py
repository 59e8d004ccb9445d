"""Printing benchmark.

1. render + encode: ticket data -> layout -> Pillow 1-bit image -> ESC/POS
   bytes (GS v 0 + cut, as python-escpos makes them), per ticket, 58 mm and 80 mm.
2. kiosk press -> bytes at the printer: POST /api/tickets with a kiosk token
   on a running server, until the last byte (the cut) of that ticket reaches
   a TCP "network printer" through the real print agent subprocess
   (websocket push, render, encode, send).

    .venv/bin/python -m bench.bench_printing [--render 300] [--presses 40]

Targets (issue 4): render+encode < 50 ms per ticket; press -> bytes < 300 ms.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from printer.escpos_out import encode
from printer.layout import TicketData, ticket_layout
from printer.render import render


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))]


def row(name: str, xs: list[float]) -> str:
    return (
        f"| {name} | {len(xs)} | {statistics.median(xs):.1f} | {pct(xs, 0.95):.1f} | "
        f"{pct(xs, 0.99):.1f} | {max(xs):.1f} |"
    )


def bench_render(n: int) -> list[str]:
    rows = []
    for mm in (58, 80):
        lat = []
        for i in range(n):
            t = TicketData(
                "Trung tâm Phục vụ hành chính công xã Ngọc Long",
                f"D{i % 1000:03d}",
                "Bảo trợ xã hội – Người có công – Lao động",
                1_764_000_000_000 + i * 60_000,
                f"http://localhost:8000/t/bench{i:08d}xyz",
                i % 30,
                (i % 30) * 4,
                "Cảm ơn quý công dân. Theo dõi lượt gọi bằng mã QR.",
                priority=i % 7 == 0,
            )
            t0 = time.perf_counter()
            encode(render(ticket_layout(t, mm)))
            lat.append((time.perf_counter() - t0) * 1000)
        rows.append(row(f"render + encode, {mm} mm", lat[5:]))  # first ones load the fonts
    return rows


class Sink:
    """A 9100 "printer": records when each connection's cut command arrived."""

    def __init__(self):
        import socket

        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.cuts: list[float] = []
        self.cond = threading.Condition()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._conn, args=(conn,), daemon=True).start()

    def _conn(self, conn):
        buf = b""
        with conn:
            while True:
                b = conn.recv(65536)
                if not b:
                    return
                buf += b
                if buf.endswith(b"\x1dV\x00"):
                    with self.cond:
                        self.cuts.append(time.perf_counter())
                        self.cond.notify_all()
                    buf = b""


def bench_press(presses: int) -> list[str]:
    import httpx

    from queue_server import redis_server
    from tests.server import make_server

    rp = redis_server.start(tempfile.mkdtemp(prefix="motcua-bench-redis-"))
    srv = make_server(rp.url).start()
    sink = Sink()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    agent = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "queue_server.cli",
            "printer-agent",
            "--server",
            srv.base_url,
            "--token",
            srv.tokens["printer"],
            "--printer",
            f"network:127.0.0.1:{sink.port}",
            "--width",
            "80",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        kiosk = httpx.Client(base_url=srv.base_url, headers={"Authorization": f"Bearer {srv.tokens['kiosk']}"})
        deadline = time.time() + 20
        while kiosk.get("/api/printer/status").json()["status"] != "online":
            if time.time() > deadline:
                raise RuntimeError("agent did not come online")
            time.sleep(0.1)
        lat, api = [], []
        cats = ["HT", "CT", "DD", "XH", "KD", "KH"]
        for i in range(presses + 2):
            with sink.cond:
                before = len(sink.cuts)
            t0 = time.perf_counter()
            r = kiosk.post("/api/tickets", json={"category": cats[i % 6]}, headers={"Idempotency-Key": f"b{i}"})
            t1 = time.perf_counter()
            assert r.status_code == 201, r.text
            with sink.cond:
                if not sink.cond.wait_for(lambda before=before: len(sink.cuts) > before, timeout=10):
                    raise RuntimeError("ticket not printed")
                t2 = sink.cuts[before]
            if i >= 2:  # skip the warm-up presses
                lat.append((t2 - t0) * 1000)
                api.append((t1 - t0) * 1000)
            time.sleep(0.2)
        return [
            row("kiosk press -> HTTP 201 (ticket issued)", api),
            row("kiosk press -> last byte at the printer (agent, 80 mm, TCP)", lat),
        ]
    finally:
        agent.terminate()
        agent.wait(10)
        srv.close()
        rp.stop()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--render", type=int, default=300)
    ap.add_argument("--presses", type=int, default=40)
    a = ap.parse_args()
    rows = bench_render(a.render) + bench_press(a.presses)
    print(
        f"Machine: {platform.platform()}, {platform.machine()}, {os.cpu_count()} cores; Python {platform.python_version()}"
    )
    print("| measure | n | p50 ms | p95 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
