"""`motcua test`: install what pip cannot (Debian's chromium, redis-server,
espeak-ng, poppler-utils and faketime, when missing and we are root), run the gates (lint, format,
types, layers), then the whole suite."""

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


def run_tests(pytest_args: list[str]) -> int:
    ensure_system_packages()
    root = Path(__file__).resolve().parent.parent
    if os.environ.get("MOTCUA_SKIP_GATES") != "1" and run_gates(root):
        return 1
    cmd = [sys.executable, "-m", "pytest", *(pytest_args or [str(root / "tests")])]
    print("motcua test:", " ".join(cmd), flush=True)
    return subprocess.call(cmd, cwd=root)
