"""`motcua test`: install what pip cannot (Debian's chromium, redis-server,
espeak-ng, poppler-utils, faketime and redis-tools, when missing and we are root), run
the gates (lint, format, types, layers), then the whole suite, then the queue,
appointment and report tests a second time on a local Redis Cluster
(`CLUSTER_TESTS`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
APT_PACKAGES = {  # executable -> Debian package
    CHROMIUM: "chromium",
    "redis-server": "redis-server",
    "redis-cli": "redis-tools",  # `redis-cli --cluster create` (tests/cluster.py)
    "espeak-ng": "espeak-ng",
    # the PDF report's tests read it back (pdftotext) and photograph it (pdftoppm)
    "pdftotext": "poppler-utils",
    # the fault suite steps the API's wall clock back with libfaketime (tests/faults/test_clock_step.py)
    "faketime": "faketime",
}


def _missing() -> list[str]:
    out = []
    for exe, pkg in APT_PACKAGES.items():
        present = Path(exe).exists() if exe.startswith("/") else shutil.which(exe)
        if not present:
            out.append(pkg)
    return out


def ensure_system_packages() -> None:
    missing = _missing()
    if not missing:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        print(
            f"motcua test: missing {', '.join(missing)}; install them with your package manager "
            "(tests that need them will fail)",
            file=sys.stderr,
        )
        return
    print(f"motcua test: apt-get install -y {' '.join(missing)}", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], check=True, env=env)


# Each gate, as the command a developer runs by hand (CONTRIBUTING.md).
GATES = (
    ("ruff check", [sys.executable, "-m", "ruff", "check", "."]),
    ("ruff format --check", [sys.executable, "-m", "ruff", "format", "--check", "."]),
    ("mypy", [sys.executable, "-m", "mypy"]),
    ("lint-imports", [str(Path(sys.executable).with_name("lint-imports"))]),
)


def run_gates(root: Path) -> int:
    """Run every gate (all of them, so one run shows every problem); the
    number of gates that failed."""
    failed = []
    for name, cmd in GATES:
        print(f"motcua test: {name}", flush=True)
        if subprocess.call(cmd, cwd=root) != 0:
            failed.append(name)
    if failed:
        print(f"motcua test: failed gates: {', '.join(failed)}", file=sys.stderr, flush=True)
    return len(failed)


# Run again with MOTCUA_TEST_CLUSTER=1: their `redis_url` is then a local
# 3-master Redis Cluster (tests/conftest.py), RQ on the plain Redis. The
# failover case (tests/faults/test_cluster_failover.py) is in the first pass.
CLUSTER_TESTS = (
    "tests/integration/test_queue_engine.py",
    "tests/integration/test_issue_walk_in.py",  # the kiosk issue: script and position reads in one pipeline
    "tests/integration/test_service.py",
    "tests/integration/test_broadcast.py",
    "tests/faults/test_lost_reply.py",
    "tests/integration/test_appointments_store.py",
    "tests/integration/test_appointments_service.py",
    "tests/integration/test_appointment_checkin.py",
    "tests/integration/test_archive.py",
    "tests/integration/test_counter_stats.py",
    # every script that emits, and the MULTIs (display notices, login failures)
    "tests/integration/test_event_schema.py",
    "tests/integration/test_lockout.py",
    "tests/integration/test_rq_redis.py",
)


def run_cluster_tests(root: Path) -> int:
    print("motcua test: the queue, appointment and report tests on a Redis Cluster", flush=True)
    cmd = [sys.executable, "-m", "pytest", *(str(root / t) for t in CLUSTER_TESTS)]
    return subprocess.call(cmd, cwd=root, env=dict(os.environ, MOTCUA_TEST_CLUSTER="1"))


def run_tests(pytest_args: list[str]) -> int:
    ensure_system_packages()
    root = Path(__file__).resolve().parent.parent
    if os.environ.get("MOTCUA_SKIP_GATES") != "1" and run_gates(root):
        return 1
    cmd = [sys.executable, "-m", "pytest", *(pytest_args or [str(root / "tests")])]
    print("motcua test:", " ".join(cmd), flush=True)
    code = subprocess.call(cmd, cwd=root)
    if pytest_args:  # a chosen subset: that only
        return code
    cluster = run_cluster_tests(root)  # also after a failure: one run shows every problem
    return code or cluster
