"""Display fan-out benchmark: call -> display latency with many connected
board websockets on ONE server process, and the server's memory per
connection.

    .venv/bin/python -m bench.bench_display [--clients 1000 5000] [--calls 30] [--client-procs 1]

What is measured: for each call, t0 is taken just before `POST
/api/counters/3/next` is sent; every websocket client records when the board
message for that call's event (identified by its sequence number) has been
received and read. Latency = receipt - t0 (CLOCK_MONOTONIC, shared by all
processes on Linux), for every client and every call. The server is a real
`motcua serve` (uvicorn, 1 worker) on a private Redis; the clients
(`websockets` asyncio) run in separate process(es) on the same machine, so
they compete with the server for the same cores.

Memory per connection = (server RSS with N boards connected - RSS before) / N.

The open-files limit is raised to the hard limit with resource.setrlimit
(inherited by the server and client processes); 5,000 clients need about
5,000 descriptors on each side.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

COMPRESSION = os.environ.get("BENCH_WS_COMPRESSION") or None   # "deflate" = what browsers offer
_SEQ = re.compile(rb'^\{"type":\s*"event",\s*"seq":\s*(\d+)')
_SEQ_AT = re.compile(rb'\{"type":\s*"event",\s*"seq":\s*(\d+)')    # match(data, pos)


def raise_fd_limit() -> tuple[int, int]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process."""
    f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))]


# -- the client processes --------------------------------------------------------
def client_main(url: str, n: int, conn, connect_conc: int) -> None:
    """Open n board sockets; record (seq -> receipt time) per socket; on
    "stop", send back every socket's receipts."""
    raise_fd_limit()
    from websockets.asyncio.client import connect

    async def run():
        receipts: list[dict[int, int]] = []
        sockets = []
        sem = asyncio.Semaphore(connect_conc)
        failures = 0
        errors: dict[str, int] = {}

        async def reader(ws, got: dict[int, int]):
            try:
                async for msg in ws:
                    now = time.monotonic_ns()
                    m = _SEQ.match(msg.encode() if isinstance(msg, str) else msg)
                    if m:
                        got[int(m.group(1))] = now
            except Exception:
                pass

        async def open_one():
            nonlocal failures
            async with sem:
                for attempt in range(5):
                    try:
                        ws = await connect(url, open_timeout=60, ping_interval=None, max_size=2**22,
                                           compression=COMPRESSION)
                        first = json.loads(await ws.recv())
                        assert first["type"] == "snapshot"
                        got: dict[int, int] = {}
                        receipts.append(got)
                        sockets.append(ws)
                        asyncio.get_running_loop().create_task(reader(ws, got))
                        return
                    except Exception as e:
                        key = f"{type(e).__name__}: {str(e)[:80]}"
                        errors[key] = errors.get(key, 0) + 1
                        await asyncio.sleep(0.2 * (attempt + 1))
                failures += 1

        await asyncio.gather(*(open_one() for _ in range(n)))
        conn.send(("connected", len(sockets), failures, errors))
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, conn.recv)       # "stop"
        conn.send(("receipts", receipts))
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)

    asyncio.run(run())


def _masked(opcode: int, payload: bytes) -> bytes:
    """A client frame (clients must mask, RFC 6455 §5.3); payload < 126 bytes."""
    key = os.urandom(4)
    body = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return bytes((0x80 | opcode, 0x80 | len(payload))) + key + body


def raw_client_main(url: str, n: int, conn, connect_conc: int) -> None:
    """The cheap load generator: n board sockets on raw non-blocking sockets
    in ONE epoll loop (hand-made HTTP upgrade, minimal frame parser, pings
    answered). A receipt time is taken right after the recv() that completed
    the event's frame. Same protocol as client_main."""
    import select
    import socket
    import base64
    from urllib.parse import urlsplit

    raise_fd_limit()
    u = urlsplit(url)
    host, port = u.hostname, u.port or 80
    path = u.path + ("?" + u.query if u.query else "")
    ep = select.epoll()
    by_fd: dict = {}
    receipts: list[dict[int, int]] = []
    errors: dict[str, int] = {}
    failures = 0
    connected = 0

    class C:
        __slots__ = ("sock", "buf", "state", "got", "tries")

    def request() -> bytes:
        key = base64.b64encode(os.urandom(16)).decode()
        return (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode()

    def start(c) -> None:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.connect_ex((host, port))
        c.sock, c.buf, c.state = s, bytearray(), "connecting"
        by_fd[s.fileno()] = c
        ep.register(s.fileno(), select.EPOLLOUT)

    def fail(c, why: str) -> None:
        nonlocal failures, inflight
        errors[why] = errors.get(why, 0) + 1
        with contextlib.suppress(Exception):
            ep.unregister(c.sock.fileno())
            del by_fd[c.sock.fileno()]
        c.sock.close()
        if c.state != "open":
            inflight -= 1
            c.tries += 1
            if c.tries < 5:
                pending.append(c)
            else:
                failures += 1
        c.state = "dead"

    def frames(c, now: int) -> None:
        nonlocal connected, inflight
        buf = c.buf
        while True:
            if len(buf) < 2:
                return
            b1 = buf[1] & 0x7F
            h = 2
            if b1 == 126:
                if len(buf) < 4:
                    return
                ln, h = int.from_bytes(buf[2:4], "big"), 4
            elif b1 == 127:
                if len(buf) < 10:
                    return
                ln, h = int.from_bytes(buf[2:10], "big"), 10
            else:
                ln = b1
            if len(buf) < h + ln:
                return
            op = buf[0] & 0x0F
            if op == 1:
                if c.state == "snapshot":
                    if not bytes(buf[h:h + 40]).startswith(b'{"type": "snapshot"') and b'"snapshot"' not in buf[h:h + 40]:
                        fail(c, "first message is not a snapshot")
                        return
                    c.state = "open"
                    connected += 1
                    inflight -= 1
                    receipts.append(c.got)
                else:
                    m = _SEQ.match(bytes(buf[h:h + 40]))
                    if m:
                        c.got[int(m.group(1))] = now
            elif op == 9:                                   # ping -> pong
                c.sock.send(_masked(0xA, bytes(buf[h:h + ln])))
            elif op == 8:
                fail(c, "closed by server")
                return
            del buf[:h + ln]

    pending = []
    for _ in range(n):
        c = C()
        c.got, c.tries = {}, 0
        pending.append(c)
    pending.reverse()
    inflight = 0
    stop = False
    pipe_fd = conn.fileno()
    ep.register(pipe_fd, select.EPOLLIN)
    by_fd[pipe_fd] = None
    announced = False
    while not stop:
        while pending and inflight < connect_conc:
            start(pending.pop())
            inflight += 1
        if not announced and not pending and inflight == 0:
            conn.send(("connected", connected, failures, errors))
            announced = True
        for fd, ev in ep.poll(1.0):
            c = by_fd.get(fd)
            if fd == pipe_fd:
                conn.recv()                                 # "stop"
                stop = True
                continue
            if c.state == "connecting":
                err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    fail(c, f"connect errno {err}")
                    continue
                c.sock.send(request())
                c.state = "handshake"
                ep.modify(fd, select.EPOLLIN)
                continue
            try:
                data = c.sock.recv(65536)         # < malloc's mmap threshold
            except (BlockingIOError, InterruptedError):
                continue
            except OSError as e:
                fail(c, type(e).__name__)
                continue
            now = time.monotonic_ns()
            if not data:
                fail(c, "EOF")
                continue
            if c.state == "open" and not c.buf and len(data) > 2 and data[0] == 0x81:
                # the usual case: exactly one whole text frame in this read
                b1 = data[1] & 0x7F
                h = 2 if b1 < 126 else (4 if b1 == 126 else 10)
                ln = b1 if b1 < 126 else int.from_bytes(data[2:h], "big")
                if len(data) == h + ln:
                    m = _SEQ_AT.match(data, h)
                    if m:
                        c.got[int(m.group(1))] = now
                    continue
            c.buf += data
            if c.state == "handshake":
                end = c.buf.find(b"\r\n\r\n")
                if end < 0:
                    continue
                status = bytes(c.buf[:end]).split(b"\r\n", 1)[0]
                if b" 101 " not in status:
                    fail(c, status.decode(errors="replace")[:60])
                    continue
                del c.buf[:end + 4]
                c.state = "snapshot"
            frames(c, now)
    conn.send(("receipts", receipts))
    for c in list(by_fd.values()):
        if c is not None:
            c.sock.close()


# -- the driver ------------------------------------------------------------------
def run_level(server, n_clients: int, calls: int, procs: int, gap_s: float, client: str = "raw") -> dict:
    from redis import Redis

    url = f"{server.ws_url}/ws/board?token={server.tokens['display']}"
    r = Redis.from_url(server.redis_url)
    evseq = server.keys.event_seq
    kiosk = server.device("kiosk")
    clerk = server.login("minh")
    for _ in range(calls + 2):
        assert kiosk.post("/api/tickets", json={"category": "CT"}).status_code == 201
    clerk.post("/api/counters/3/next")                      # warm-up call
    time.sleep(1)
    rss0 = rss_kib(server.proc.pid)

    ctx = mp.get_context("spawn")
    pipes, workers = [], []
    share = [n_clients // procs + (1 if i < n_clients % procs else 0) for i in range(procs)]
    t_conn = time.monotonic()
    for k in share:
        a, b = ctx.Pipe()
        target = raw_client_main if client == "raw" else client_main
        p = ctx.Process(target=target, args=(url, k, b, 100), daemon=True)
        p.start()
        pipes.append(a)
        workers.append(p)
    connected = failures = 0
    errors: dict[str, int] = {}
    for a in pipes:
        tag, ok, bad, errs = a.recv()
        connected += ok
        failures += bad
        for k, v in errs.items():
            errors[k] = errors.get(k, 0) + v
    conn_s = time.monotonic() - t_conn
    time.sleep(2)
    rss1 = rss_kib(server.proc.pid)

    sent: list[tuple[int, int, float]] = []     # (seq, t0_ns, api_ms)
    cpu0 = cpu_s(server.proc.pid)
    ccpu0 = sum(cpu_s(w.pid) for w in workers)
    load0 = os.getloadavg()[0]
    for _ in range(calls):
        t0 = time.monotonic_ns()
        resp = clerk.post("/api/counters/3/next")
        api_ms = (time.monotonic_ns() - t0) / 1e6
        assert resp.status_code == 200, resp.text
        seq = int(r.get(evseq))                 # the call is the last event of call_next
        sent.append((seq, t0, api_ms))
        time.sleep(gap_s)
    time.sleep(max(2.0, gap_s))
    cpu_per_call = (cpu_s(server.proc.pid) - cpu0) / calls * 1000
    client_cpu_per_call = (sum(cpu_s(w.pid) for w in workers) - ccpu0) / calls * 1000
    load1 = os.getloadavg()[0]

    receipts: list[dict[int, int]] = []
    for a in pipes:
        a.send("stop")
    for a in pipes:
        tag, rec = a.recv()
        receipts += rec
    for p in workers:
        p.join(30)
    r.close()

    lat: list[float] = []
    missing = 0
    per_call_p99 = []
    for seq, t0, _ in sent:
        xs = []
        for got in receipts:
            t = got.get(seq)
            if t is None:
                missing += 1
            else:
                xs.append((t - t0) / 1e6)
        lat += xs
        if xs:
            per_call_p99.append(pct(xs, 0.99))
    return {
        "clients": n_clients, "connected": connected, "connect_failures": failures, "connect_s": conn_s,
        "connect_errors": errors,
        "calls": calls, "samples": len(lat), "missing": missing,
        "p50": statistics.median(lat) if lat else float("nan"), "p90": pct(lat, 0.90) if lat else float("nan"),
        "p99": pct(lat, 0.99) if lat else float("nan"), "max": max(lat) if lat else float("nan"),
        "api_p50": statistics.median(x[2] for x in sent),
        "rss0_mib": rss0 / 1024, "rss1_mib": rss1 / 1024,
        "kib_per_conn": (rss1 - rss0) / max(1, connected),
        "server_cpu_ms_per_call": cpu_per_call, "load": (load0 + load1) / 2,
        "client_cpu_ms_per_call": client_cpu_per_call,
        "per_call_p99": [round(x, 1) for x in per_call_p99],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, nargs="+", default=[1000, 5000])
    ap.add_argument("--calls", type=int, default=30)
    ap.add_argument("--client-procs", type=int, default=1)
    ap.add_argument("--gap", type=float, default=0.5, help="seconds between calls")
    ap.add_argument("--client", choices=["raw", "websockets"], default="raw",
                    help="load generator: raw sockets in one epoll loop per process (cheap), or the websockets library")
    ap.add_argument("--markdown", action="store_true", help="print a BENCHMARKS.md section")
    args = ap.parse_args(argv)

    limits = raise_fd_limit()
    from queue_server import redis_server
    from tests.server import make_server

    data = tempfile.mkdtemp(prefix="motcua-bench-redis-")
    redis = redis_server.start(data)
    results = []
    try:
        for n in args.clients:
            server = make_server(redis.url).start()     # a fresh process per level: clean memory figures
            try:
                results.append(run_level(server, n, args.calls, args.client_procs, args.gap, args.client))
            finally:
                server.stop()
            print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    finally:
        redis.stop()

    uname = subprocess.run(["uname", "-a"], capture_output=True, text=True).stdout.strip()
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = [
        "",
        "## Display fan-out: call → display latency (bench/bench_display.py)",
        "",
        f"Run: `.venv/bin/python -m bench.bench_display --clients {' '.join(map(str, args.clients))} "
        f"--calls {args.calls} --client-procs {args.client_procs} --gap {args.gap} --client {args.client}`. Date: {date}.",
        "",
        f"Machine: `{uname}`; nproc = {nproc}; Python {platform.python_version()}; "
        f"open-files limit raised with resource.setrlimit to {limits[0]} (soft = hard).",
        "",
        "One `motcua serve` process (uvicorn, 1 worker, no uvloop/httptools installed) on a private Redis; "
        f"the websocket clients ({'raw sockets in one epoll loop per process' if args.client == 'raw' else 'websockets library'}) "
        f"run in {args.client_procs} separate process(es) on the same machine, so they "
        "share the cores with the server and Redis. Latency = from just before `POST /api/counters/3/next` "
        "is sent to the moment each client has read the board message for that call's event "
        "(sequence number matched), over every client × every call.",
        "",
        "| clients | connected | samples | missing | p50 ms | p90 ms | p99 ms | max ms | API call p50 ms | "
        "server CPU per call | clients' CPU per call | server RSS before → after (MiB) | memory per connection | load avg (1 min) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for x in results:
        lines.append(
            f"| {x['clients']:,} | {x['connected']:,} | {x['samples']:,} | {x['missing']:,} | {x['p50']:.1f} | "
            f"{x['p90']:.1f} | {x['p99']:.1f} | {x['max']:.1f} | {x['api_p50']:.1f} | "
            f"{x['server_cpu_ms_per_call']:.0f} ms | {x['client_cpu_ms_per_call']:.0f} ms | {x['rss0_mib']:.0f} → {x['rss1_mib']:.0f} | "
            f"{x['kib_per_conn']:.1f} KiB | {x['load']:.1f} |")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
