"""The API process SIGKILLed mid-burst and started again, with 5 clerks
pressing Next, a kiosk issuing and three boards connected: each press is
sent again with its Idempotency-Key until answered, so nothing
acknowledged is lost and nobody is called twice; the boards reconnect and
resync by themselves, and every call acknowledged to a clerk is on them."""

from __future__ import annotations

import json
import time

from redis import Redis

from tests.faults.boards import Board
from tests.faults.rush import Rush, check_rush
from tests.server import make_server


def test_api_killed_mid_burst_with_boards_connected(redis_url, fault_report):
    srv = make_server(redis_url).start()
    boards = [Board(srv) for _ in range(3)]
    try:
        for b in boards:
            b.start()
        rush = Rush(srv).start()
        rush.wait_issued(15)
        srv.kill()  # SIGKILL: requests in flight lose their answers, boards their sockets
        srv.start()
        before = len(rush.issued)
        rush.wait_issued(before + 15)
        rush.finish()
        got = check_rush(rush, redis_url)

        r = Redis.from_url(redis_url, decode_responses=True)
        try:
            numbers = {tid: json.loads(raw)["number"] for tid, raw in r.hgetall(srv.keys.tickets).items()}
        finally:
            r.close()
        acked_calls = {numbers[tid] for _, tid in rush.calls}
        # the boards see the last calls settle; then each has shown every acknowledged call
        deadline = time.monotonic() + 10
        while any(acked_calls - b.shown for b in boards) and time.monotonic() < deadline:
            time.sleep(0.05)
        missed = [sorted(acked_calls - b.shown) for b in boards]
        board_lost = sum(len(m) for m in missed)
        fault_report(
            "api-killed-rush-boards",
            got["lost"] + board_lost,
            got["twice"],
            issued=got["issued"],
            calls=got["calls"],
            board_missed=board_lost,
            board_connects=[b.connects for b in boards],
        )
        assert got["lost"] == 0 and got["twice"] == 0, got
        assert got["out_of_order"] == 0 and not rush.errors, (got, rush.errors[:5])
        assert got["calls"] == got["issued"] >= 30, got
        assert all(b.connects >= 2 and b.snapshots >= 2 for b in boards), [(b.connects, b.snapshots) for b in boards]
        assert board_lost == 0, missed
    finally:
        for b in boards:
            b.stopping.set()
        srv.close()
        for b in boards:
            b.join(5)
