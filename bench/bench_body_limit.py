"""Memory of the API server under oversized request bodies (issue #12, item 1).

Starts a private Redis and a real server (`motcua serve`), then sends
`--clients` parallel `POST /api/auth/login` bodies of `--size` bytes each
(anonymous, as the issue describes) and reports the answers and the
server's resident memory: before, the peak (the kernel's VmHWM for the
process), and after.

    .venv/bin/python -m bench.bench_body_limit [--clients 100] [--size 9999000]
"""

from __future__ import annotations

import argparse
import collections
import platform
import socket
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

from queue_server import redis_server


def rss_kb(pid: int) -> dict[str, int]:
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
    return out


def send(port: int, size: int, chunked: bool) -> str:
    """One oversized login; returns the status line's code (or what went wrong)."""
    head = "POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    head += "Transfer-Encoding: chunked\r\n\r\n" if chunked else f"Content-Length: {size}\r\n\r\n"
    block = b"x" * 65536
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    try:
        s.sendall(head.encode())
        sent = 0
        try:
            while sent < size:
                part = block[: min(len(block), size - sent)]
                s.sendall(b"%x\r\n%s\r\n" % (len(part), part) if chunked else part)
                sent += len(part)
            if chunked:
                s.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server answered and closed while we were still sending
        data = b""
        try:
            while b"\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except OSError as e:
            return f"error {type(e).__name__}"
        return data.split(b" ", 2)[1].decode() if data else "no answer"
    finally:
        s.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--size", type=int, default=9_999_000)
    args = ap.parse_args()
    from tests.server import make_server

    proc = redis_server.start(tempfile.mkdtemp(prefix="motcua-bench-"))
    print(f"{platform.node()}; {__import__('os').cpu_count()} cores; Python {platform.python_version()}")
    try:
        for chunked in (False, True):  # a fresh server each, so each peak is its own
            srv = make_server(proc.url).start()
            try:
                pid = srv.proc.pid
                time.sleep(1)
                before = rss_kb(pid)
                t0 = time.perf_counter()
                with ThreadPoolExecutor(max_workers=args.clients) as pool:
                    codes = list(pool.map(lambda _, c=chunked, p=srv.port: send(p, args.size, c), range(args.clients)))
                wall = time.perf_counter() - t0
                time.sleep(0.5)
                now = rss_kb(pid)
            finally:
                srv.close()
            kind = "chunked" if chunked else "Content-Length"
            print(
                f"{args.clients} x {args.size:,} bytes ({kind}): answers {dict(collections.Counter(codes))} "
                f"in {wall:.1f} s; server RSS before {before['VmRSS'] / 1024:.0f} MB, "
                f"peak {now['VmHWM'] / 1024:.0f} MB, after {now['VmRSS'] / 1024:.0f} MB"
            )
    finally:
        proc.stop()


if __name__ == "__main__":
    main()
