"""Printer connections from a spec string.

    virtual:DIR            writes DIR/<job>.bin (the exact ESC/POS bytes) and DIR/<job>.png
    usb:VID:PID            USB printer, ids in hex (e.g. usb:0416:5011)
    network:HOST[:PORT]    raw TCP (port 9100 by default)
    serial:DEV[:BAUD]      serial port (9600 baud by default)
    file:PATH              a device file such as /dev/usb/lp0
    cups:NAME              a CUPS queue (raw)

Every connection sends the same bytes (`printer.escpos_out.encode`); only the
transport differs. `status()` tells what can be known without printing:
"online", "offline", "paper_low" or "paper_out".
"""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

ONLINE, OFFLINE, PAPER_LOW, PAPER_OUT = "online", "offline", "paper_low", "paper_out"
STATUSES = (ONLINE, OFFLINE, PAPER_LOW, PAPER_OUT)


class PrinterError(Exception):
    """The printer could not take the job (unreachable, no paper, ...)."""

    def __init__(self, message: str, status: str = OFFLINE):
        super().__init__(message)
        self.status = status


@dataclass
class PrinterSpec:
    kind: str
    target: str
    option: str = ""


_SPEC = re.compile(r"^(virtual|usb|network|serial|file|cups):(.+)$")


def parse_spec(spec: str) -> PrinterSpec:
    m = _SPEC.match(spec.strip())
    if not m:
        raise ValueError(
            f"unknown printer spec {spec!r}: use virtual:DIR, usb:VID:PID, network:HOST[:PORT], "
            "serial:DEV[:BAUD], file:PATH or cups:NAME"
        )
    kind, rest = m.group(1), m.group(2)
    if kind == "usb":
        parts = rest.split(":")
        if len(parts) != 2 or not all(re.fullmatch(r"(0x)?[0-9a-fA-F]{1,4}", p) for p in parts):
            raise ValueError(f"usb printer needs usb:VID:PID in hex, not {spec!r}")
        return PrinterSpec(kind, parts[0], parts[1])
    if kind == "network":
        host, _, port = rest.rpartition(":") if rest.count(":") == 1 else (rest, "", "")
        if not port:
            host, port = rest, "9100"
        if not port.isdigit() or not host:
            raise ValueError(f"network printer needs network:HOST[:PORT], not {spec!r}")
        return PrinterSpec(kind, host, port)
    if kind == "serial":
        dev, sep, baud = rest.rpartition(":")
        if not sep or not baud.isdigit() or not dev:
            dev, baud = rest, "9600"
        return PrinterSpec(kind, dev, baud)
    return PrinterSpec(kind, rest)


class Connection:
    spec: PrinterSpec

    def send(self, job_id: str, data: bytes, image: Image.Image | None = None) -> None:
        raise NotImplementedError

    def status(self) -> str:
        return ONLINE

    def describe(self) -> str:
        return f"{self.spec.kind}:{self.spec.target}"


class VirtualPrinter(Connection):
    """Writes each ticket's exact bytes and a PNG of it into a directory."""

    def __init__(self, spec: PrinterSpec):
        self.spec = spec
        self.dir = Path(spec.target)

    def _safe(self, job_id: str) -> str:
        return re.sub(r"[^A-Za-z0-9_.-]", "_", job_id)[:120]

    def send(self, job_id: str, data: bytes, image: Image.Image | None = None) -> None:
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            name = self._safe(job_id)
            tmp = self.dir / f"{name}.bin.part"
            tmp.write_bytes(data)
            if image is not None:
                # a preview: zlib's fastest level, 2/3 of the CPU of the default for ~25 % more bytes
                image.save(self.dir / f"{name}.png", compress_level=1)
            os.replace(tmp, self.dir / f"{name}.bin")
        except OSError as e:
            raise PrinterError(f"virtual printer cannot write to {self.dir}: {e}") from e

    def printed(self, job_id: str) -> bool:
        return (self.dir / f"{self._safe(job_id)}.bin").exists()

    def status(self) -> str:
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError:
            return OFFLINE
        return ONLINE if os.access(self.dir, os.W_OK) else OFFLINE


class EscposConnection(Connection):
    """A python-escpos printer opened for each job and closed after it."""

    def __init__(self, spec: PrinterSpec, timeout: float = 5.0):
        self.spec = spec
        self.timeout = timeout

    def _make(self):
        from escpos import printer as ep

        s = self.spec
        if s.kind == "usb":
            return ep.Usb(int(s.target, 16), int(s.option, 16), timeout=int(self.timeout * 1000))
        if s.kind == "network":
            return ep.Network(s.target, int(s.option), timeout=self.timeout)
        if s.kind == "serial":
            return ep.Serial(devfile=s.target, baudrate=int(s.option), timeout=self.timeout)
        if s.kind == "file":
            return ep.File(devfile=s.target)
        if s.kind == "cups":
            return ep.CupsPrinter(printer_name=s.target)
        raise ValueError(s.kind)

    def _open(self):
        try:
            p = self._make()
            if self.spec.kind == "network":
                # our own socket: python-escpos's open() drops it unclosed when connect() fails
                sock = socket.create_connection((p.host, p.port), timeout=p.timeout)
                p.device = sock
            else:
                p.open()
        except Exception as e:  # DeviceNotFoundError, OSError, missing pyusb/pyserial/pycups
            raise PrinterError(f"{self.describe()}: {e}") from e
        return p

    def _paper(self, p) -> str:
        """DLE EOT 4 paper sensor, where the transport can read replies."""
        if self.spec.kind not in ("usb", "serial"):
            return ONLINE
        try:
            level = p.paper_status()
        except Exception:
            return ONLINE
        return {0: PAPER_OUT, 1: PAPER_LOW}.get(level, ONLINE)

    def send(self, job_id: str, data: bytes, image: Image.Image | None = None) -> None:
        p = self._open()
        try:
            if self._paper(p) == PAPER_OUT:
                raise PrinterError(f"{self.describe()}: out of paper", PAPER_OUT)
            p._raw(data)
        except PrinterError:
            raise
        except Exception as e:
            raise PrinterError(f"{self.describe()}: {e}") from e
        finally:
            try:
                p.close()
            except Exception:
                pass

    def status(self) -> str:
        if self.spec.kind == "network":
            try:
                with socket.create_connection((self.spec.target, int(self.spec.option)), timeout=self.timeout):
                    return ONLINE
            except OSError:
                return OFFLINE
        if self.spec.kind == "file":
            return ONLINE if os.access(self.spec.target, os.W_OK) else OFFLINE
        try:
            p = self._open()
        except PrinterError:
            return OFFLINE
        try:
            return self._paper(p)
        finally:
            try:
                p.close()
            except Exception:
                pass


class LpConnection(Connection):
    """A CUPS queue through the `lp` command (raw), used when pycups is not
    installed (it needs libcups headers to build)."""

    def __init__(self, spec: PrinterSpec, timeout: float = 15.0):
        self.spec = spec
        self.timeout = timeout

    def send(self, job_id: str, data: bytes, image: Image.Image | None = None) -> None:
        import subprocess

        try:
            r = subprocess.run(
                ["lp", "-d", self.spec.target, "-o", "raw", "-t", job_id, "-"],
                input=data,
                capture_output=True,
                timeout=self.timeout,
            )
        except (OSError, subprocess.SubprocessError) as e:
            raise PrinterError(f"cups:{self.spec.target}: {e}") from e
        if r.returncode != 0:
            raise PrinterError(f"cups:{self.spec.target}: {r.stderr.decode(errors='replace').strip()}")

    def status(self) -> str:
        import subprocess

        try:
            r = subprocess.run(["lpstat", "-p", self.spec.target], capture_output=True, timeout=self.timeout)
        except (OSError, subprocess.SubprocessError):
            return OFFLINE
        out = r.stdout.decode(errors="replace").lower()
        return ONLINE if r.returncode == 0 and "disabled" not in out else OFFLINE


def open_printer(spec: str) -> Connection:
    s = parse_spec(spec)
    if s.kind == "virtual":
        return VirtualPrinter(s)
    if s.kind == "cups":
        try:
            import cups  # noqa: F401  (pycups)
        except ImportError:
            return LpConnection(s)
    return EscposConnection(s)
