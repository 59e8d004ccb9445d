"""The kiosk path against the bare framework's floor, side by side in one run.

One redis-server (AOF, appendfsync always) serves both:
- the floor: a bare Litestar app (bench/kiosk_floor_app.py, one uvicorn
  process) whose one POST endpoint runs one small Lua script;
- ours: `motcua serve` (one process) with a kiosk device token, POST
  /api/tickets with a fresh Idempotency-Key per request, every check on.

Both are driven by wrk with the same load (32 connections), in alternating
rounds; each round prints both rates and their ratio, and the end the median
ratio (the machine may be shared: the ratio is far less sensitive to other
load than the absolute rates). Redis INFO commandstats gives the commands
per issue of our path. `--profile FILE` also records our server with py-spy
during one extra round.

    .venv/bin/python -m bench.bench_kiosk_floor [--rounds 5] [--seconds 8] [--profile /tmp/kiosk.txt]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import redis as sync_redis

from queue_server import redis_server
from tests.helpers import stop_process

WRK_SCRIPT = """
local n = 0
local prefix = "%(prefix)s" .. tostring(math.random(1, 1000000000))
wrk.method = "POST"
wrk.body = '{"category": "HT"}'
wrk.headers["Content-Type"] = "application/json"
%(auth)s
request = function()
  n = n + 1
  wrk.headers["Idempotency-Key"] = "bench-" .. prefix .. "-" .. n
  return wrk.format(nil, "%(path)s")
end
"""


def wrk_round(url: str, path: str, seconds: int, conns: int, threads: int, token: str | None) -> tuple[float, int, int]:
    """Requests per second, the count of non-2xx replies and of all replies of one wrk run."""
    auth = f'wrk.headers["Authorization"] = "Bearer {token}"' if token else ""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(WRK_SCRIPT % {"auth": auth, "path": path, "prefix": secrets.token_hex(8)})
    try:
        out = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{conns}", "--timeout", "10s", f"-d{int(seconds)}s", "-s", f.name, url + path],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(f.name)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    if errors:
        print("   wrk:", errors.group(0))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    return rate, int(bad.group(1)) if bad else 0, total


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def commandstats(r: sync_redis.Redis) -> dict[str, int]:
    return {k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in r.info("commandstats").items()}


def start_floor(redis_url: str, port: int, log: Path) -> subprocess.Popen:
    env = dict(os.environ, MOTCUA_FLOOR_REDIS=redis_url)
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "bench.kiosk_floor_app:create_app"]
            + ["--port", str(port), "--log-level", "warning"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(log.read_text()[-3000:])
        try:
            if httpx.post(f"http://127.0.0.1:{port}/issue", json={"category": "HT"}).status_code == 201:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("floor app did not start")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--threads", type=int, default=1, help="wrk threads")
    ap.add_argument("--profile", help="py-spy our server during one extra round, raw output to this file")
    ap.add_argument("--native", action="store_true", help="py-spy --native")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install -y wrk)")

    from tests.server import AS_DEPLOYED, make_server

    tmp = Path(tempfile.mkdtemp(prefix="kiosk-floor-"))
    rp = redis_server.start(tmp / "redis")
    r = sync_redis.Redis.from_url(rp.url)
    floor = srv = None
    try:
        info = r.info("server")
        floor_port = redis_server.free_port()
        floor = start_floor(rp.url, floor_port, tmp / "floor.log")
        srv = make_server(rp.url)
        srv.env_overrides = AS_DEPLOYED
        srv.start()
        token = srv.tokens["kiosk"]
        warm = srv.device("kiosk").post("/api/tickets", json={"category": "HT"})
        assert warm.status_code == 201, warm.text
        floor_url, ours_url = f"http://127.0.0.1:{floor_port}", srv.base_url

        print(
            f"Machine: {platform.platform()}, {os.cpu_count()} cores; Python {platform.python_version()}; "
            f"redis {info['redis_version']} appendfsync {r.config_get('appendfsync')['appendfsync']}; "
            f"wrk -t{args.threads} -c{args.connections} -d{args.seconds}s; load avg {os.getloadavg()[0]:.1f}"
        )
        short = max(2, args.seconds // 4)
        wrk_round(floor_url, "/issue", short, args.connections, args.threads, None)  # warm up both
        wrk_round(ours_url, "/api/tickets", short, args.connections, args.threads, token)

        ratios, floors, ourss, cpus = [], [], [], []
        per_issue: dict[str, float] = {}
        print(
            "| round | floor req/s | ours req/s | ratio | CPU ms/req floor | CPU ms/req ours | ours non-2xx | load avg |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for i in range(args.rounds):
            order = [
                ("floor", floor_url, "/issue", None, floor.pid),
                ("ours", ours_url, "/api/tickets", token, srv.proc.pid),
            ]
            if i % 2:
                order.reverse()
            got: dict[str, tuple[float, int, int]] = {}
            cpu: dict[str, float] = {}
            for name, url, path, tok, pid in order:
                c0 = cpu_seconds(pid)
                before = commandstats(r) if name == "ours" else {}
                held = r.hlen(srv.keys.tickets)
                got[name] = wrk_round(url, path, args.seconds, args.connections, args.threads, tok)
                cpu[name] = (cpu_seconds(pid) - c0) * 1000 / max(1, got[name][2])
                if name == "ours":
                    after = commandstats(r)
                    issued = r.hlen(srv.keys.tickets) - held  # tickets made, answered or not
                    if i == 0 and issued:
                        per_issue = {k: (v - before.get(k, 0)) / issued for k, v in after.items()}
            (fr, fbad, _), (orate, obad, _) = got["floor"], got["ours"]
            ratios.append(orate / fr)
            floors.append(fr)
            ourss.append(orate)
            cpus.append(cpu["ours"] / cpu["floor"])
            print(
                f"| {i + 1} | {fr:,.0f} | {orate:,.0f} | {orate / fr:.2f} | {cpu['floor']:.2f} | {cpu['ours']:.2f} | {obad} "
                f"(floor {fbad}) | {os.getloadavg()[0]:.1f} |"
            )
        print(
            f"\nmedian: floor {statistics.median(floors):,.0f}/s, ours {statistics.median(ourss):,.0f}/s, "
            f"ratio {statistics.median(ratios):.2f} (min {min(ratios):.2f}, max {max(ratios):.2f}); "
            f"server CPU per request, ours / floor: {statistics.median(cpus):.1f}x"
        )
        if per_issue:
            cmds = ", ".join(f"{k} {v:.2f}" for k, v in sorted(per_issue.items(), key=lambda x: -x[1]) if v >= 0.01)
            print(f"Redis commands per issue (round 1, ours): {cmds}")
        if args.profile:
            spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
            cmd = [spy, "record", "--format", "raw", "-r", "200", "-d", str(int(args.seconds)), "-o", args.profile]
            cmd += ["--native"] if args.native else []
            prof = subprocess.Popen(cmd + ["--pid", str(srv.proc.pid)], stdout=subprocess.DEVNULL)
            time.sleep(0.5)
            rate, _, _ = wrk_round(ours_url, "/api/tickets", args.seconds, args.connections, args.threads, token)
            prof.wait(60)
            print(f"profiled round: ours {rate:,.0f}/s (under py-spy); raw stacks in {args.profile}")
    finally:
        if srv is not None:
            srv.close()
        if floor is not None:
            stop_process(floor)
        r.close()
        rp.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
