"""The wall clock stepped back 2 minutes (an NTP correction) under a running
API: the machine's clock cannot be changed here, so the API process runs
under libfaketime (Debian's `faketime`) with an offset file that the test
rewrites mid-run (FAKETIME_TIMESTAMP_FILE); its monotonic clock is left
alone, as NTP leaves CLOCK_MONOTONIC. Numbering, the order of calls and
the waits carry on as if nothing happened, also across a restart of the API
on the stepped-back clock."""

from __future__ import annotations

import email.utils
import glob
import time

import pytest

from tests.server import make_server

STEP_S = 120


@pytest.fixture
def libfaketime():
    found = sorted(
        glob.glob("/usr/lib/*/faketime/libfaketimeMT.so.1") + glob.glob("/usr/lib/faketime/libfaketimeMT.so.1")
    )
    if not found:
        pytest.skip("libfaketime is not installed (Debian package faketime; `motcua test` installs it as root)")
    return found[0]


def _server_clock(srv) -> float:
    """The API process's wall clock, from its Date header (whole seconds)."""
    r = srv.client().get("/healthz")
    return email.utils.parsedate_to_datetime(r.headers["date"]).timestamp()


def test_wall_clock_stepped_back_two_minutes(redis_url, libfaketime, monkeypatch, tmp_path, fault_report):
    offset = tmp_path / "faketime"
    offset.write_text("+0\n")
    srv = make_server(redis_url)

    def start() -> None:
        with monkeypatch.context() as m:  # the API process's environment only
            m.setenv("LD_PRELOAD", libfaketime)
            m.setenv("FAKETIME_TIMESTAMP_FILE", str(offset))
            m.setenv("FAKETIME_CACHE_DURATION", "0")
            m.setenv("FAKETIME_DONT_FAKE_MONOTONIC", "1")
            srv.start()

    start()
    try:
        kiosk, clerk = srv.device("kiosk"), srv.login("lan")
        issued = []  # (ticket, the test's monotonic time at the answer)
        for i in range(4):
            r = kiosk.post("/api/tickets", json={"category": "HT"}, headers={"Idempotency-Key": f"before-{i}"})
            assert r.status_code == 201, r.text
            issued.append((r.json(), time.monotonic()))
        assert abs(_server_clock(srv) - time.time()) < 5
        offset.write_text(f"-{STEP_S}\n")  # NTP steps the clock back
        deadline = time.monotonic() + 10
        while _server_clock(srv) > time.time() - STEP_S + 5:
            assert time.monotonic() < deadline, "the API's clock did not step"
            time.sleep(0.05)
        for i in range(4):
            r = kiosk.post("/api/tickets", json={"category": "HT"}, headers={"Idempotency-Key": f"after-{i}"})
            assert r.status_code == 201, r.text
            issued.append((r.json(), time.monotonic()))
        # the API restarts on the stepped-back clock: it goes on after the newest event
        down = time.monotonic()
        srv.stop()
        start()
        down = time.monotonic() - down
        restarted_from = len(issued)
        for i in range(2):
            r = kiosk.post("/api/tickets", json={"category": "HT"}, headers={"Idempotency-Key": f"restarted-{i}"})
            assert r.status_code == 201, r.text
            issued.append((r.json(), time.monotonic()))
        calls = []  # (ticket, the test's monotonic time at the answer)
        for i in range(len(issued)):
            r = clerk.post("/api/counters/1/next", headers={"Idempotency-Key": f"next-{i}"})
            assert r.status_code == 200, r.text
            calls.append((r.json()["ticket"], time.monotonic()))
        numbers = [t["number"] for t, _ in issued]
        called = [t["number"] for t, _ in calls]
        out_of_order = sum(1 for a, b in zip(numbers, called, strict=True) if a != b)
        ts = [t["issued_at"] for t, _ in issued]
        backwards = sum(1 for a, b in zip(ts, ts[1:], strict=False) if b < a)
        # each citizen's wait as the server has it, against the test's own monotonic measure
        called_at = {t["id"]: (t["called_at"], at) for t, at in calls}
        off = []
        for t, at in issued:
            server_ms, answered = called_at[t["id"]]
            off.append(abs((server_ms - t["issued_at"]) / 1000 - (answered - at)))
        # lost: a number skipped, or a citizen passed over (called after one who came later);
        # twice: a number issued twice or a citizen called twice
        skipped = len(set(range(1, 11)) - {int(n[1:]) for n in numbers}) + out_of_order
        doubled = (len(numbers) - len(set(numbers))) + (len(called) - len(set(called)))
        fault_report(
            "clock-stepped-back",
            skipped,
            doubled,
            backwards=backwards,
            worst_wait_error_s=round(max(off), 1),
            restart_s=round(down, 1),
        )
        assert numbers == [f"A{n:03d}" for n in range(1, 11)], numbers  # numbering goes on
        assert out_of_order == 0, (numbers, called)  # called in the order they came
        assert backwards == 0, ts
        # no wait is 2 minutes off; one across the restart misses at most the restart's downtime
        # (the new process starts from the newest event's time: store/clock.py not_before)
        assert max(off[restarted_from:]) < 5, off
        assert max(off[:restarted_from]) < down + 5, (off, down)
    finally:
        srv.close()
