"""The board's fast path under the real server (uvicorn, `motcua serve`):
a board socket is switched to pre-encoded frames written straight to its
transport (the pong says so), and still gets the snapshot first, then
events with contiguous sequence numbers, including after a sync request."""

from __future__ import annotations

import json
import time

from websockets.sync.client import connect


def recv(ws, timeout: float = 5.0) -> dict:
    return json.loads(ws.recv(timeout=timeout))


def pong(ws) -> dict:
    """Ping and return the pong (events may arrive first; they are returned in order)."""
    ws.send(json.dumps({"type": "ping"}))
    deadline = time.monotonic() + 5
    while True:
        msg = recv(ws, max(0.1, deadline - time.monotonic()))
        if msg["type"] == "pong":
            return msg


def fast_pong(ws) -> dict:
    """The socket reaches the fast path once its snapshot is out."""
    deadline = time.monotonic() + 5
    while True:
        msg = pong(ws)
        if msg.get("fast") or time.monotonic() > deadline:
            return msg
        time.sleep(0.05)


def events_until(ws, last_seq: int, want: int) -> list[dict]:
    got = []
    while not got or got[-1]["seq"] < want:
        msg = recv(ws)
        if msg["type"] == "event":
            got.append(msg)
    return got


def test_board_socket_uses_fast_path_and_keeps_order(live):
    kiosk = live.device("kiosk")
    for _ in range(6):
        assert kiosk.post("/api/tickets", json={"category": "CT"}).status_code == 201
    minh = live.login("minh")
    with connect(f"{live.ws_url}/ws/board?token={live.tokens['display']}", open_timeout=10) as ws:
        snap = recv(ws)
        assert snap["type"] == "snapshot"
        assert fast_pong(ws) == {"type": "pong", "fast": True}
        seq = snap["seq"]
        for _ in range(3):
            assert minh.post("/api/counters/3/next").status_code == 200
        want = int(live.client().get("/api/board").json()["seq"])
        msgs = events_until(ws, seq, want)
        # contiguous: every message starts right after the previous one
        for m in msgs:
            assert m["from"] == seq + 1, (m["from"], seq)
            assert [e["seq"] for e in m["events"]] == list(range(m["from"], m["seq"] + 1))
            seq = m["seq"]
        assert msgs[-1]["event"]["type"] == "call" and msgs[-1]["board"]["counters"][2]["number"]
        # a sync request: a fresh snapshot, then the fast path again, still contiguous
        ws.send(json.dumps({"type": "sync"}))
        while True:
            m = recv(ws)
            if m["type"] == "snapshot":
                break
        assert m["seq"] == want
        seq = m["seq"]
        assert fast_pong(ws) == {"type": "pong", "fast": True}
        assert minh.post("/api/counters/3/next").status_code == 200
        want = int(live.client().get("/api/board").json()["seq"])
        for m in events_until(ws, seq, want):
            assert m["from"] == seq + 1
            seq = m["seq"]
        assert seq == want
