"""The print agent (`motcua printer-agent`, a real process) SIGKILLed in the
middle of a burst of kiosk tickets and started again, and a network
printer unplugged (connections refused) for longer than a first print may
wait ([queue] print_max_age_s, compressed from the 10 minutes of a real
outage to seconds with the site's own setting): every ticket is printed
exactly once (the cut commands in the real ESC/POS bytes the printer got)
or reported not printed, and none is lost."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.e2e.print_agent_helpers import NetworkPrinter, stop_agent, wait_for
from tests.faults.procs import kill_tree
from tests.server import make_server

CUT = b"\x1dV"


def _agent(srv, printer: str, state: Path, n: int) -> subprocess.Popen:
    """The agent as a service runs it: the same state file across restarts."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", MOTCUA_AGENT_STATE=str(state))
    with open(state.with_name(f"agent-{n}.log"), "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "queue_server.cli", "printer-agent", "--server", srv.base_url]
            + ["--token", srv.tokens["printer"], "--printer", printer, "--width", "80"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


def _states(srv, ids: list[str]) -> dict[str, str]:
    kiosk = srv.device("kiosk")
    return {tid: kiosk.get(f"/api/tickets/{tid}/print").json()["state"] for tid in ids}


def _settled(srv, ids: list[str]) -> dict[str, str] | None:
    st = _states(srv, ids)
    return st if all(s in ("printed", "not_printed") for s in st.values()) else None


def _issue(srv, n: int, tag: str) -> list[str]:
    kiosk = srv.device("kiosk")
    out = []
    for i in range(n):
        r = kiosk.post("/api/tickets", json={"category": "HT"}, headers={"Idempotency-Key": f"{tag}-{i}"})
        assert r.status_code == 201, r.text
        out.append(r.json()["id"])
    return out


def test_print_agent_killed_mid_burst(redis_url, fault_report):
    srv = make_server(redis_url).start()
    tmp = Path(tempfile.mkdtemp(prefix="motcua-fault-agent-"))
    out = tmp / "tickets"
    agent = _agent(srv, f"virtual:{out}", tmp / "agent.printed", 1)
    try:
        wait_for(lambda: srv.device("kiosk").get("/api/printer/status").json()["status"] == "online", 20, what="agent")
        ids = _issue(srv, 25, "burst")
        # the agent dies with part of the burst printed
        wait_for(lambda: len(list(out.glob("*.bin"))) >= 3, 20, 0.005, what="the first tickets printed")
        kill_tree(agent)
        at_kill = len(list(out.glob("*.bin")))
        agent = _agent(srv, f"virtual:{out}", tmp / "agent.printed", 2)
        states = wait_for(lambda: _settled(srv, ids), 60, 0.1, what="every job printed or dropped")
        time.sleep(1.0)  # a late duplicate would land now
        bins = {p.stem: p.read_bytes() for p in out.glob("*.bin")}
        cuts = {tid: bins[tid].count(CUT) if tid in bins else 0 for tid in ids}
        printed = [tid for tid, s in states.items() if s == "printed"]
        lost = sum(1 for tid in printed if cuts[tid] == 0)
        twice = sum(max(0, c - 1) for c in cuts.values()) + sum(1 for k in bins if k not in ids)
        twice += sum(1 for tid, s in states.items() if s == "not_printed" and cuts[tid])
        fault_report(
            "print-agent-killed",
            lost,
            twice,
            printed=len(printed),
            not_printed=len(ids) - len(printed),
            at_kill=at_kill,
        )
        assert lost == 0 and twice == 0, (cuts, states)
        assert at_kill < len(ids)  # it was killed mid-burst
        assert len(printed) == len(ids)  # within print_max_age_s: all printed, once
    finally:
        stop_agent(agent)
        srv.close()


def test_printer_unplugged_longer_than_a_ticket_may_wait(redis_url, fault_report):
    max_age = 7  # seconds; the shipped 60 against a 10-minute outage, compressed
    srv = make_server(redis_url, queue__print_max_age_s=max_age).start()
    tmp = Path(tempfile.mkdtemp(prefix="motcua-fault-unplug-"))
    printer = NetworkPrinter()
    printer.start()
    agent = _agent(srv, printer.spec, tmp / "agent.printed", 1)
    kiosk = srv.device("kiosk")
    try:
        wait_for(lambda: kiosk.get("/api/printer/status").json()["status"] == "online", 20, what="agent online")
        before = _issue(srv, 3, "before")
        wait_for(lambda: printer.tickets() == 3, 20, what="the first tickets printed")
        printer.stop()  # unplugged: connections refused from now on
        old = _issue(srv, 4, "old")  # will be older than max_age when the printer comes back
        wait_for(lambda: kiosk.get("/api/printer/status").json()["status"] == "offline", 20, what="offline")
        # the outage goes on, the kiosk keeps issuing: these are young enough to print once it is back
        first_old = _issued_at(srv, old[0])
        wait_for(lambda: _server_age_ms(srv, first_old) > (max_age - 2) * 1000, 20, what="the outage goes on")
        late = _issue(srv, 3, "late")
        wait_for(lambda: _server_age_ms(srv, _issued_at(srv, old[-1])) > max_age * 1000 + 500, 20, what="too old")
        back = NetworkPrinter()
        back.port = printer.port
        back.start()  # plugged in again
        states = wait_for(lambda: _settled(srv, before + old + late), 60, 0.1, what="every job printed or dropped")
        time.sleep(1.0)
        printed = [t for t, s in states.items() if s == "printed"]
        cuts = printer.tickets() + back.tickets()
        lost = 0
        twice = max(0, cuts - len(printed))
        lost += max(0, len(printed) - cuts)
        fault_report(
            "printer-unplugged",
            lost,
            twice,
            printed=len(printed),
            not_printed=len(states) - len(printed),
            cuts=cuts,
        )
        assert lost == 0 and twice == 0, states
        assert all(states[t] == "printed" for t in before)
        assert all(states[t] == "not_printed" for t in old), states  # reported, not printed into the wrong hand
        assert all(states[t] == "printed" for t in late), states  # printed, once, after the outage
        listed = {e["number"] for e in kiosk.get("/api/printer/status").json()["not_printed"]}
        assert len(listed) == len(old)  # what the admin page lists
        back.stop()
    finally:
        stop_agent(agent)
        printer.stop()
        srv.close()


def _issued_at(srv, tid: str) -> int:
    return srv.client().get(f"/api/tickets/{tid}").json()["issued_at"]


def _server_age_ms(srv, at_ms: int) -> int:
    """How old a server timestamp is, by the server's clock (its /api/board `now`)."""
    return srv.client().get("/api/board").json()["now"] - at_ms
