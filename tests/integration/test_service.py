"""`motcua service install`: the systemd units it prints (--dry-run) or writes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

VENV_MOTCUA = str((Path(sys.executable).parent / "motcua").absolute())


def motcua(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "queue_server.cli", *args], capture_output=True, text=True, timeout=60)


def units_of(text: str) -> dict[str, str]:
    """'# /path/name.service' headers -> each unit's text."""
    out: dict[str, str] = {}
    name = None
    for line in text.splitlines():
        if line.startswith("# /"):
            name = Path(line[2:]).name
            out[name] = ""
        elif name:
            out[name] += line + "\n"
    return out


def fields(unit: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in unit.splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            k, _, v = line.partition("=")
            out.setdefault(k, []).append(v)
    return out


def test_dry_run_prints_one_unit_for_up(tmp_path):
    r = motcua(
        "service",
        "install",
        "--dry-run",
        "--user",
        "canbo",
        "--data-dir",
        "/srv/motcua/var",
        "--port",
        "8080",
        "--unit-dir",
        str(tmp_path / "units"),
    )
    assert r.returncode == 0, r.stderr
    units = units_of(r.stdout)
    assert list(units) == ["motcua.service"]
    f = fields(units["motcua.service"])
    assert f["ExecStart"] == [f"{VENV_MOTCUA} up --host 0.0.0.0 --port 8080 --data-dir /srv/motcua/var"]
    assert Path(f["ExecStart"][0].split()[0]).is_absolute()
    assert f["Restart"] == ["on-failure"]
    assert f["After"] == ["network-online.target"] and f["Wants"] == ["network-online.target"]
    assert f["User"] == ["canbo"]
    assert '"MOTCUA_DATA_DIR=/srv/motcua/var"' in f["Environment"]
    assert f["WantedBy"] == ["multi-user.target"]
    assert not (tmp_path / "units").exists()  # a dry run writes nothing


def test_dry_run_split_gives_api_worker_and_print_agent(tmp_path):
    cfg = tmp_path / "site.toml"
    r = motcua(
        "service",
        "install",
        "--dry-run",
        "--split",
        "--user",
        "canbo",
        "--data-dir",
        "/srv/mot cua/var",
        "--config",
        str(cfg),
    )
    assert r.returncode == 0, r.stderr
    units = units_of(r.stdout)
    assert set(units) == {"motcua-api.service", "motcua-worker.service", "motcua-printer.service"}
    for name, text in units.items():
        f = fields(text)
        assert f["Restart"] == ["on-failure"], name
        assert "network-online.target" in f["After"][0], name
        assert f["ExecStart"][0].startswith(VENV_MOTCUA + " "), name
        assert '"MOTCUA_REDIS_URL=redis://127.0.0.1:6379/0"' in f["Environment"], name
    api = fields(units["motcua-api.service"])
    assert api["ExecStart"][0].split(" ", 2)[1] == "serve"
    assert f'--data-dir "/srv/mot cua/var" --config {cfg}' in api["ExecStart"][0]  # a space: quoted
    assert "redis-server.service" in api["After"][0]
    assert fields(units["motcua-worker.service"])["ExecStart"][0].split(" ", 2)[1] == "worker"
    printer = fields(units["motcua-printer.service"])
    assert "--token ${MOTCUA_PRINTER_TOKEN}" in printer["ExecStart"][0]
    assert printer["EnvironmentFile"] == ["/etc/motcua/printer.env"]
    assert "motcua-api.service" in printer["After"][0]


def test_install_writes_the_units_that_systemd_accepts(tmp_path):
    data = tmp_path / "var"
    data.mkdir()
    r = motcua("service", "install", "--user", "root", "--data-dir", str(data), "--unit-dir", str(tmp_path / "units"))
    assert r.returncode == 0, r.stderr
    unit = tmp_path / "units" / "motcua.service"
    assert unit.is_file() and "systemctl enable --now motcua.service" in r.stdout
    if not shutil.which("systemd-analyze"):
        pytest.skip("no systemd-analyze on this machine")
    check = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stderr


def test_a_dollar_or_percent_in_a_path_is_not_expanded_by_systemd():
    from queue_server.service import _join

    assert _join(["/a$b/%h", "${MOTCUA_PRINTER_TOKEN}", "x y"]) == '/a$$b/%%h ${MOTCUA_PRINTER_TOKEN} "x y"'
