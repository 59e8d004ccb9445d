"""Display fan-out benchmark: call -> display latency with many connected
board websockets on ONE server process, and the server's memory per
connection.

    .venv/bin/python -m bench.bench_display [--clients 1000 5000] [--calls 30]
        [--client-procs 2] [--stamp read|kernel]

What is measured: for each call, t0 is taken just before `POST
/api/counters/3/next` is sent; every websocket client records when the board
message for that call's event (identified by its sequence number) reached
it. Latency = receipt - t0, for every client and every call. The server is a
real `motcua serve` (uvicorn, 1 worker) on a private Redis with
`appendfsync always`; the clients run in separate process(es) on the same
machine.

When a frame "reached" a client (--stamp):
- read (default): when the client process has read it. The clients wait in
  epoll and read at once, so their CPU (and the kernel waking them, which
  on loopback is paid inside the server's send()) comes out of the same 2
  cores the server is measured on.
- kernel: the kernel's receive stamp of the frame (SO_TIMESTAMPNS), i.e. when
  it arrived in the client's socket. The clients sleep during a fan-out and
  read between calls, as TVs on other machines would take no CPU from the
  server. The last socket to connect (the driver's probe) says when a
  fan-out is over; the clients read then, and once more half a gap later.
  Reading one frame per recvmsg keeps a later frame (the server's keepalive
  ping), which the kernel merges into an unread one, from stamping it.

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
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

COMPRESSION = os.environ.get("BENCH_WS_COMPRESSION") or None  # "deflate" = what browsers offer
_SEQ = re.compile(rb'^\{"type":\s*"event",\s*"seq":\s*(\d+)')
# Linux: a socket option asking the kernel to stamp each received packet
# with CLOCK_REALTIME in ns, and the control message carrying the stamp
SO_TIMESTAMPNS = SCM_TIMESTAMPNS = 35
# An API call this slow waited on the disk (the AOF's fsync), not on the fan-out
STALL_MS = 100.0
_SEQ_AT = re.compile(rb'\{"type":\s*"event",\s*"seq":\s*(\d+)')  # match(data, pos)


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
                        ws = await connect(
                            url, open_timeout=60, ping_interval=None, max_size=2**22, compression=COMPRESSION
                        )
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
        await loop.run_in_executor(None, conn.recv)  # "stop"
        conn.send(("receipts", receipts))
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)

    asyncio.run(run())


def _frame_bounds(buf) -> tuple[int, int] | None:
    """(header length, payload length) of the websocket frame that starts
    `buf`, or None while its header is incomplete."""
    if len(buf) < 2:
        return None
    b1 = buf[1] & 0x7F
    h = 2 if b1 < 126 else (4 if b1 == 126 else 10)
    if len(buf) < h:
        return None
    return h, (b1 if b1 < 126 else int.from_bytes(buf[2:h], "big"))


def _masked(opcode: int, payload: bytes) -> bytes:
    """A client frame (clients must mask, RFC 6455 §5.3); payload < 126 bytes."""
    key = os.urandom(4)
    body = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return bytes((0x80 | opcode, 0x80 | len(payload))) + key + body


def raw_client_main(url: str, n: int, conn, connect_conc: int, stamp: str = "read") -> None:
    """The cheap load generator: n board sockets on raw non-blocking sockets
    in ONE epoll loop (hand-made HTTP upgrade, minimal frame parser, pings
    answered). A receipt time is taken right after the recv() that completed
    the event's frame. Same protocol as client_main."""
    import base64
    import select
    import socket
    from urllib.parse import urlsplit

    raise_fd_limit()
    kernel = stamp == "kernel"
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
        return (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()

    def start(c) -> None:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if kernel:
            s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
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
            bounds = _frame_bounds(buf)
            if bounds is None:
                return
            h, ln = bounds
            if len(buf) < h + ln:
                return
            op = buf[0] & 0x0F
            if op == 1:
                if c.state == "snapshot":
                    if (
                        not bytes(buf[h : h + 40]).startswith(b'{"type": "snapshot"')
                        and b'"snapshot"' not in buf[h : h + 40]
                    ):
                        fail(c, "first message is not a snapshot")
                        return
                    c.state = "open"
                    connected += 1
                    inflight -= 1
                    receipts.append(c.got)
                else:
                    m = _SEQ.match(bytes(buf[h : h + 40]))
                    if m:
                        c.got[int(m.group(1))] = now
            elif op == 9:  # ping -> pong
                c.sock.send(_masked(0xA, bytes(buf[h : h + ln])))
            elif op == 8:
                fail(c, "closed by server")
                return
            del buf[: h + ln]

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

    def handle(fd: int) -> None:
        c = by_fd.get(fd)
        if c.state == "connecting":
            err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                fail(c, f"connect errno {err}")
                return
            c.sock.send(request())
            c.state = "handshake"
            ep.modify(fd, select.EPOLLIN)
            return
        try:
            if kernel:
                # TCP reports the stamp of the LAST packet a read took: read
                # one whole frame at a time, so a ping that came later is
                # not what stamps the board message before it
                size = 65536
                if c.state == "open" and not c.buf:
                    bounds = _frame_bounds(c.sock.recv(10, socket.MSG_PEEK))
                    if bounds is not None:
                        size = sum(bounds)
                data, anc, _, _ = c.sock.recvmsg(size, 64)
            else:
                data = c.sock.recv(65536)  # < malloc's mmap threshold
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            fail(c, type(e).__name__)
            return
        now = time.time_ns() if kernel else time.monotonic_ns()
        if kernel:
            for level, kind, raw in anc:
                if level == socket.SOL_SOCKET and kind == SCM_TIMESTAMPNS and len(raw) >= 16:
                    sec, nsec = struct.unpack("qq", raw[:16])
                    now = sec * 1_000_000_000 + nsec
        if not data:
            fail(c, "EOF")
            return
        if c.state == "open" and not c.buf and len(data) > 2 and data[0] == 0x81:
            # the usual case: exactly one whole text frame in this read
            bounds = _frame_bounds(data)
            if bounds is not None and len(data) == sum(bounds):
                m = _SEQ_AT.match(data, bounds[0])
                if m:
                    c.got[int(m.group(1))] = now
                return
        c.buf += data
        if c.state == "handshake":
            end = c.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(c.buf[:end]).split(b"\r\n", 1)[0]
            if b" 101 " not in status:
                fail(c, status.decode(errors="replace")[:60])
                return
            del c.buf[: end + 4]
            c.state = "snapshot"
        frames(c, now)

    while not announced:  # connect everything
        while pending and inflight < connect_conc:
            start(pending.pop())
            inflight += 1
        if not pending and inflight == 0:
            conn.send(("connected", connected, failures, errors))
            announced = True
            break
        for fd, _ in ep.poll(1.0):
            if fd != pipe_fd:
                handle(fd)
    while True:
        if kernel:
            # stand-in for TVs on other machines: sleep on the driver's pipe
            # while the server fans out (no CPU taken from it, no reader
            # waiting in epoll for the kernel to wake), read when told to
            order = conn.recv()
            if order == "stop":
                break
            while True:
                ready = [fd for fd, _ in ep.poll(0) if fd != pipe_fd]
                if not ready:
                    break
                for fd in ready:
                    handle(fd)
            conn.send(("drained",))
            continue
        stop = False
        for fd, _ in ep.poll(1.0):
            if fd == pipe_fd:
                conn.recv()  # "stop"
                stop = True
            else:
                handle(fd)
        if stop:
            break
    conn.send(("receipts", receipts))
    for c in list(by_fd.values()):
        if c is not None:
            c.sock.close()


# -- the driver ------------------------------------------------------------------
def run_level(
    server, n_clients: int, calls: int, procs: int, gap_s: float, client: str = "raw", stamp: str = "read"
) -> dict:
    from redis import Redis

    url = f"{server.ws_url}/ws/board?token={server.tokens['display']}"
    r = Redis.from_url(server.redis_url)
    evseq = server.keys.event_seq
    kiosk = server.device("kiosk")
    clerk = server.login("minh")
    for _ in range(calls + 2):
        assert kiosk.post("/api/tickets", json={"category": "CT"}).status_code == 201
    clerk.post("/api/counters/3/next")  # warm-up call
    time.sleep(1)
    rss0 = rss_kib(server.proc.pid)

    ctx = mp.get_context("spawn")
    pipes, workers = [], []
    share = [n_clients // procs + (1 if i < n_clients % procs else 0) for i in range(procs)]
    t_conn = time.monotonic()
    for k in share:
        a, b = ctx.Pipe()
        if client == "raw":
            p = ctx.Process(target=raw_client_main, args=(url, k, b, 100, stamp), daemon=True)
        else:
            p = ctx.Process(target=client_main, args=(url, k, b, 100), daemon=True)
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
    probe = None
    if stamp == "kernel":
        # The last socket to connect is last in the server's send order: it
        # tells the driver when a fan-out is over, so the clients read right
        # after it. (A frame that arrives later on a socket whose board frame
        # is still unread, e.g. the server's keepalive ping, is merged into
        # it by the kernel and stamps it with its own, later time.)
        from websockets.sync.client import connect as ws_connect

        probe = ws_connect(url, compression=None, max_size=None)
        probe.recv(10)  # its snapshot
    time.sleep(2)
    rss1 = rss_kib(server.proc.pid)

    sent: list[tuple[int, int, float]] = []  # (seq, t0_ns, api_ms)
    cpu0 = cpu_s(server.proc.pid)
    ccpu0 = sum(cpu_s(w.pid) for w in workers)
    load0 = os.getloadavg()[0]
    clock = time.time_ns if stamp == "kernel" else time.monotonic_ns
    for _ in range(calls):
        t0 = clock()
        resp = clerk.post("/api/counters/3/next")
        api_ms = (clock() - t0) / 1e6
        assert resp.status_code == 200, resp.text
        seq = int(r.get(evseq))  # the call is the last event of call_next
        sent.append((seq, t0, api_ms))
        if probe is not None:  # the clients read what came once the fan-out is over
            t_call = time.monotonic()
            while time.monotonic() - t_call < 5:
                msg = probe.recv(5)
                m = _SEQ.match(msg.encode()[:60]) if isinstance(msg, str) else None
                if m and int(m.group(1)) >= seq:
                    break
            # and once more later, for sockets the server sent to after the
            # probe (the send threads run side by side): reading late does
            # not change a frame's stamp, another frame arriving on it would
            for when in (0.0, gap_s / 2):
                time.sleep(max(0.0, when - (time.monotonic() - t_call)))
                for a in pipes:
                    a.send("drain")
                for a in pipes:
                    a.recv()
            time.sleep(max(0.0, gap_s - (time.monotonic() - t_call)))
        else:
            time.sleep(gap_s)
    time.sleep(max(2.0, gap_s))
    cpu_per_call = (cpu_s(server.proc.pid) - cpu0) / calls * 1000
    client_cpu_per_call = (sum(cpu_s(w.pid) for w in workers) - ccpu0) / calls * 1000
    load1 = os.getloadavg()[0]

    receipts: list[dict[int, int]] = []
    if probe is not None:
        probe.close()
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
    late = []
    calm: list[float] = []  # samples of calls whose API call took < STALL_MS
    for seq, t0, api_ms in sent:
        xs = []
        for got in receipts:
            t = got.get(seq)
            if t is None:
                missing += 1
            else:
                xs.append((t - t0) / 1e6)
        lat += xs
        if api_ms < STALL_MS:
            calm += xs
        if xs:
            per_call_p99.append(pct(xs, 0.99))
            late.append(sum(1 for x in xs if x > 100))
    return {
        "clients": n_clients,
        "connected": connected,
        "connect_failures": failures,
        "connect_s": conn_s,
        "connect_errors": errors,
        "calls": calls,
        "samples": len(lat),
        "missing": missing,
        "p50": statistics.median(lat) if lat else float("nan"),
        "p90": pct(lat, 0.90) if lat else float("nan"),
        "p99": pct(lat, 0.99) if lat else float("nan"),
        "max": max(lat) if lat else float("nan"),
        "api_p50": statistics.median(x[2] for x in sent),
        "rss0_mib": rss0 / 1024,
        "rss1_mib": rss1 / 1024,
        "kib_per_conn": (rss1 - rss0) / max(1, connected),
        "server_cpu_ms_per_call": cpu_per_call,
        "load": (load0 + load1) / 2,
        "client_cpu_ms_per_call": client_cpu_per_call,
        "per_call_p99": [round(x, 1) for x in per_call_p99],
        "per_call_api": [round(x[2], 1) for x in sent],
        "per_call_late": late,
        "stalled_calls": sum(1 for x in sent if x[2] >= STALL_MS),
        "p99_calm": pct(calm, 0.99) if calm else float("nan"),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, nargs="+", default=[1000, 5000])
    ap.add_argument("--calls", type=int, default=30)
    ap.add_argument("--client-procs", type=int, default=1)
    ap.add_argument("--gap", type=float, default=0.5, help="seconds between calls")
    ap.add_argument(
        "--client",
        choices=["raw", "websockets"],
        default="raw",
        help="load generator: raw sockets in one epoll loop per process (cheap), or the websockets library",
    )
    ap.add_argument(
        "--stamp",
        choices=["read", "kernel"],
        default="read",
        help="receipt time: when the client process has read the frame (clients wait in epoll and "
        "read at once, on the server's cores), or the kernel's receive stamp of the frame "
        "(SO_TIMESTAMPNS; clients sleep during the fan-out and read between calls, as TVs on "
        "other machines would not take the server's CPU); raw client only",
    )
    ap.add_argument("--markdown", action="store_true", help="print a BENCHMARKS.md section")
    args = ap.parse_args(argv)
    if args.stamp == "kernel" and args.client != "raw":
        ap.error("--stamp kernel needs --client raw (only it reads kernel stamps and drains on the driver's word)")

    limits = raise_fd_limit()
    from queue_server import redis_server
    from tests.server import make_server

    data = tempfile.mkdtemp(prefix="motcua-bench-redis-")
    redis = redis_server.start(data)
    results = []
    try:
        for n in args.clients:
            server = make_server(redis.url).start()  # a fresh process per level: clean memory figures
            try:
                results.append(run_level(server, n, args.calls, args.client_procs, args.gap, args.client, args.stamp))
            finally:
                server.stop()
            print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    finally:
        redis.stop()

    from queue_server.live import fastsend
    from queue_server.settings import Settings

    sender = (
        f"{'C (_sendmany.c)' if fastsend.send_each is not fastsend.send_each_py else 'Python'}, "
        f"{Settings.from_env().fanout_thread_count} thread(s)"
    )
    uname = subprocess.run(["uname", "-a"], capture_output=True, text=True).stdout.strip()
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = [
        "",
        "## Display fan-out: call → display latency (bench/bench_display.py)",
        "",
        f"Run: `.venv/bin/python -m bench.bench_display --clients {' '.join(map(str, args.clients))} "
        f"--calls {args.calls} --client-procs {args.client_procs} --gap {args.gap} --client {args.client} "
        f"--stamp {args.stamp}`. Date: {date}.",
        "",
        f"Machine: `{uname}`; nproc = {nproc}; Python {platform.python_version()}; "
        f"open-files limit raised with resource.setrlimit to {limits[0]} (soft = hard).",
        "",
        f"One `motcua serve` process (uvicorn, 1 worker, fan-out send loop: {sender}) on a private Redis "
        "(`appendfsync always`); the websocket clients "
        f"({'raw sockets in one epoll loop per process' if args.client == 'raw' else 'websockets library'}) "
        f"run in {args.client_procs} separate process(es) on the same machine. Latency = from just before "
        "`POST /api/counters/3/next` is sent until the board message for that call's event (sequence number "
        + (
            "matched) arrived in each client's socket (the kernel's receive stamp; clients read between calls)"
            if args.stamp == "kernel"
            else "matched) was read by each client (clients read at once, on the same cores)"
        )
        + f", over every client × every call. A call whose API call took {STALL_MS:.0f} ms or more waited on "
        "the disk's fsync: such calls are counted, and p99 is also given without them.",
        "",
        "| clients | connected | samples | missing | p50 ms | p90 ms | p99 ms | max ms | API call p50 ms | "
        "calls with an fsync stall | p99 ms without them | "
        "server CPU per call | clients' CPU per call | server RSS before → after (MiB) | memory per connection | load avg (1 min) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for x in results:
        lines.append(
            f"| {x['clients']:,} | {x['connected']:,} | {x['samples']:,} | {x['missing']:,} | {x['p50']:.1f} | "
            f"{x['p90']:.1f} | {x['p99']:.1f} | {x['max']:.1f} | {x['api_p50']:.1f} | "
            f"{x['stalled_calls']} of {x['calls']} | {x['p99_calm']:.1f} | "
            f"{x['server_cpu_ms_per_call']:.0f} ms | {x['client_cpu_ms_per_call']:.0f} ms | {x['rss0_mib']:.0f} → {x['rss1_mib']:.0f} | "
            f"{x['kib_per_conn']:.1f} KiB | {x['load']:.1f} |"
        )
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
