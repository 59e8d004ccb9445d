"""systemd units for running motcua for years (`motcua service install`).

One unit, ``motcua.service``, runs `motcua up` (Redis, API, worker and the
virtual printer, restarted by `up` itself when one stops). With ``--split``
the API, the worker and the print agent are units of their own
(``motcua-api``, ``motcua-worker``, ``motcua-printer``) over the system's
Redis (Debian's ``redis-server`` package, with ``appendonly yes``). Every
unit restarts on failure, starts after the network is up, and names the
virtualenv's programs and the data dir by absolute path.
"""

from __future__ import annotations

import getpass
import os
import sys
from dataclasses import dataclass
from pathlib import Path

UNIT_DIR = Path("/etc/systemd/system")


@dataclass
class ServiceOptions:
    data_dir: Path
    user: str
    port: int = 8000
    config: Path | None = None
    split: bool = False
    redis_url: str = "redis://127.0.0.1:6379/0"
    printer: str | None = None  # --split: the print agent's printer (default: virtual, under the data dir)
    host: str = "0.0.0.0"


def motcua_command() -> list[str]:
    """The venv's `motcua` script by absolute path (else this Python with -m)."""
    script = Path(sys.executable).parent / "motcua"
    if script.is_file():
        return [str(script.absolute())]
    return [str(Path(sys.executable).absolute()), "-m", "queue_server.cli"]


def default_user() -> str:
    return os.environ.get("SUDO_USER") or getpass.getuser()


def _join(argv: list[str]) -> str:
    """A command line as systemd reads it: a word with a space or a quote in
    double quotes, ``$`` and ``%`` doubled (systemd would expand them), our
    own ``${MOTCUA_…}`` left for systemd to expand."""
    out = []
    for a in argv:
        if not (a.startswith("${MOTCUA_") and a.endswith("}")):
            a = a.replace("$", "$$").replace("%", "%%")
        if a and not any(c in a for c in " \t\"'\\;"):
            out.append(a)
        else:
            out.append('"' + a.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return " ".join(out)


def _unit(description: str, exec_start: list[str], opts: ServiceOptions, env: dict[str, str], after: str = "") -> str:
    lines = [
        "[Unit]",
        f"Description={description}",
        "Wants=network-online.target",
        f"After=network-online.target{(' ' + after) if after else ''}",
        "",
        "[Service]",
        "Type=simple",
        f"User={opts.user}",
        f"WorkingDirectory={opts.data_dir.parent}",
        *(f'Environment="{k}={v}"' for k, v in env.items()),
        f"ExecStart={_join(exec_start)}",
        "Restart=on-failure",
        "RestartSec=5",
        "TimeoutStopSec=30",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ]
    return "\n".join(lines)


def units(opts: ServiceOptions) -> dict[str, str]:
    """unit file name -> its text."""
    cmd = motcua_command()
    data = str(opts.data_dir)
    env = {"MOTCUA_DATA_DIR": data, "PYTHONUNBUFFERED": "1"}
    if opts.config:
        env["MOTCUA_CONFIG"] = str(opts.config)
    config = ["--config", str(opts.config)] if opts.config else []
    if not opts.split:
        return {
            "motcua.service": _unit(
                "motcua – hệ thống xếp hàng một cửa (motcua up)",
                [*cmd, "up", "--host", opts.host, "--port", str(opts.port), "--data-dir", data, *config],
                opts,
                env,
            )
        }
    env["MOTCUA_REDIS_URL"] = opts.redis_url
    after = "redis-server.service"
    printer = opts.printer or f"virtual:{opts.data_dir / 'tickets'}"
    return {
        "motcua-api.service": _unit(
            "motcua – API (motcua serve)",
            [*cmd, "serve", "--host", opts.host, "--port", str(opts.port), "--data-dir", data, *config],
            opts,
            env,
            after,
        ),
        "motcua-worker.service": _unit(
            "motcua – jobs worker: close of day, backups (motcua worker)",
            [*cmd, "worker", "--data-dir", data, *config],
            opts,
            env,
            after,
        ),
        # the printer device token: MOTCUA_PRINTER_TOKEN in /etc/motcua/printer.env (motcua device add … --kind printer)
        "motcua-printer.service": _unit(
            "motcua – print agent (motcua printer-agent)",
            [
                *cmd,
                "printer-agent",
                "--server",
                f"http://127.0.0.1:{opts.port}",
                "--token",
                "${MOTCUA_PRINTER_TOKEN}",
                "--printer",
                printer,
            ],
            opts,
            env,
            "motcua-api.service",
        ).replace("[Service]\n", "[Service]\nEnvironmentFile=/etc/motcua/printer.env\n"),
    }


def install(opts: ServiceOptions, unit_dir: Path = UNIT_DIR, dry_run: bool = False) -> str:
    """Write the units (or, dry, return them as text); returns what to print."""
    made = units(opts)
    if dry_run:
        return "\n".join(f"# {unit_dir / name}\n{text}" for name, text in made.items())
    unit_dir.mkdir(parents=True, exist_ok=True)
    for name, text in made.items():
        (unit_dir / name).write_text(text, "utf-8")
    names = " ".join(made)
    lines = [f"Đã ghi / written: {unit_dir / n}" for n in made]
    if opts.split:
        lines.append(
            "Cần Redis của hệ thống (apt install redis-server, appendonly yes) và mã máy in trong "
            "/etc/motcua/printer.env (MOTCUA_PRINTER_TOKEN=…). / Needs the system's Redis and the printer token."
        )
    lines.append(f"Bật và chạy / enable and start:  systemctl daemon-reload && systemctl enable --now {names}")
    return "\n".join(lines)
