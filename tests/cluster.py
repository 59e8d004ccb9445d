"""A local Redis Cluster for the tests: 3 masters and 3 replicas, each a
redis-server started by `queue_server.redis_server.start` (AOF on, a free
port), joined with `redis-cli --cluster create`."""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from queue_server import redis_server
from queue_server.redis_server import RedisProcess

# Small, so a killed master's replica is promoted within a few seconds.
NODE_TIMEOUT_MS = 1000


def cluster_port() -> int:
    """A free port whose cluster bus port (+10000) is free too; at most 55535."""
    for _ in range(200):
        port = random.randint(20_000, 45_000)
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + 10_000))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port pair for a cluster node")


def cli(port: int, *args: str, timeout: float = 10) -> str:
    out = subprocess.run(
        ["redis-cli", "-p", str(port), *args], capture_output=True, text=True, timeout=timeout, check=True
    )
    return out.stdout


def info(port: int, section: str) -> dict[str, str]:
    text = cli(port, "info", section) if section != "cluster" else cli(port, "cluster", "info")
    pairs = (line.strip().split(":", 1) for line in text.splitlines() if ":" in line)
    return {k: v for k, v in pairs}


@dataclass
class Cluster:
    nodes: list[RedisProcess]
    base: Path
    killed: set[int] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"redis+cluster://127.0.0.1:{self.nodes[0].port}"

    @property
    def alive(self) -> list[RedisProcess]:
        return [n for n in self.nodes if n.port not in self.killed]

    def role(self, node: RedisProcess) -> str:
        return info(node.port, "replication").get("role", "")

    def master_of_key(self, key: str) -> RedisProcess:
        slot = int(cli(self.alive[0].port, "cluster", "keyslot", key).strip())
        for line in cli(self.alive[0].port, "cluster", "nodes").splitlines():
            parts = line.split()
            if "master" not in parts[2] or "fail" in parts[2]:
                continue
            for rng in parts[8:]:
                lo, _, hi = rng.partition("-")
                if lo.isdigit() and int(lo) <= slot <= int(hi or lo):
                    port = int(parts[1].split("@")[0].rsplit(":", 1)[1])
                    return next(n for n in self.nodes if n.port == port)
        raise RuntimeError(f"no master holds slot {slot}")

    def replica_of(self, master: RedisProcess) -> RedisProcess:
        node_id = cli(master.port, "cluster", "myid").strip()
        for line in cli(master.port, "cluster", "replicas", node_id).splitlines():
            port = int(line.split()[1].split("@")[0].rsplit(":", 1)[1])
            return next(n for n in self.nodes if n.port == port)
        raise RuntimeError(f"master {master.port} has no replica")

    def kill(self, node: RedisProcess) -> None:
        node.kill()
        self.killed.add(node.port)

    def wait_ok(self, timeout: float = 30) -> None:
        """Every live node says cluster_state:ok and every live replica's link is up."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                states = [info(n.port, "cluster").get("cluster_state") for n in self.alive]
                repl = [info(n.port, "replication") for n in self.alive]
                links = [r.get("master_link_status", "up") for r in repl if r.get("role") == "slave"]
                if all(s == "ok" for s in states) and all(link == "up" for link in links):
                    return
            except subprocess.SubprocessError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"cluster not ok in {timeout}s (see {self.base})")
            time.sleep(0.1)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


def start_cluster(base: Path, masters: int = 3, replicas: int = 1) -> Cluster:
    """3 masters + 3 replicas on free ports, `cluster_state:ok`."""
    if not shutil.which("redis-cli"):
        raise RuntimeError("redis-cli is needed to create a cluster (Debian: redis-tools)")
    nodes: list[RedisProcess] = []
    try:
        for i in range(masters * (1 + replicas)):
            nodes.append(
                redis_server.start(
                    base / f"node{i}",
                    port=cluster_port(),
                    extra_args=(
                        "--cluster-enabled",
                        "yes",
                        "--cluster-config-file",
                        "nodes.conf",
                        "--cluster-node-timeout",
                        str(NODE_TIMEOUT_MS),
                    ),
                )
            )
        addresses = [f"127.0.0.1:{n.port}" for n in nodes]
        subprocess.run(
            ["redis-cli", "--cluster", "create", *addresses, "--cluster-replicas", str(replicas), "--cluster-yes"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        cluster = Cluster(nodes, base)
        cluster.wait_ok()
        return cluster
    except BaseException:
        for node in nodes:
            node.stop()
        raise
