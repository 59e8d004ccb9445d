"""The board websocket with a real client (the `websockets` library) against
a running server: snapshot, then events with contiguous sequence numbers;
heartbeat; gap detection and resync; display settings events."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

import pytest
from redis.asyncio import Redis
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from queue_server.store.events import EventLog


@contextlib.contextmanager
def board(live, token: str | None = None):
    tok = live.tokens["display"] if token is None else token
    with connect(f"{live.ws_url}/ws/board?token={tok}", open_timeout=10) as ws:
        yield ws


def recv(ws, timeout: float = 5.0) -> dict:
    return json.loads(ws.recv(timeout=timeout))


def recv_until(ws, pred, timeout: float = 5.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, "expected message did not arrive"
        msg = recv(ws, left)
        if pred(msg):
            return msg


def test_a_board_token_never_reaches_the_log(live):
    """A board (and the print agent, and a rating tablet) passes its device
    token as ?token= on the websocket: uvicorn logs the connection through
    its error logger, not the access log, and the token must be redacted
    there too."""
    with board(live) as ws:
        recv(ws)  # the snapshot: the connection was logged
    with live.client() as c:
        assert c.get(f"/display?token={live.tokens['display']}").status_code == 200
    time.sleep(0.3)
    log = live.log_path.read_text(errors="replace")
    assert "/ws/board?token=…" in log and "/display?token=…" in log
    assert live.tokens["display"] not in log


def test_snapshot_then_events_with_contiguous_seq(live):
    kiosk = live.device("kiosk")
    pre = kiosk.post("/api/tickets", json={"category": "HT"}).json()
    with board(live) as ws:
        snap = recv(ws)
        assert snap["type"] == "snapshot"
        assert [c["counter"] for c in snap["counters"]] == [1, 2, 3, 4, 5]
        assert snap["seats"] == 10 and snap["waiting_total"] == 1
        assert snap["site"]["name"]
        assert snap["voice"]["template"] == "Mời công dân có số {number} đến quầy số {counter}"
        # public data only: numbers, never names or ticket ids of people
        assert "clerk" not in json.dumps(snap["counters"])
        seq = snap["seq"]
        t2 = kiosk.post("/api/tickets", json={"category": "HT"}).json()
        minh = live.login("minh")
        assert minh.post("/api/counters/3/next").status_code == 200
        assert minh.post("/api/counters/3/recall").status_code == 200
        events, msgs = [], {}
        while len(events) < 3:
            msg = recv(ws)
            if msg["type"] == "event" and msg["seq"] > seq:
                # one message carries one event or a run of consecutive ones
                assert [e["seq"] for e in msg["events"]] == list(range(msg["from"], msg["seq"] + 1))
                assert msg["event"] == msg["events"][-1]
                for e in msg["events"]:
                    events.append(e)
                    msgs[e["type"]] = msg
        assert [e["seq"] for e in events] == [seq + 1, seq + 2, seq + 3]
        assert [e["type"] for e in events] == ["issue", "call", "recall"]
        issue, call, recall = events
        assert issue["number"] == t2["number"]
        assert call["number"] == pre["number"]
        board_msg = msgs["call"]
        c3 = next(c for c in board_msg["board"]["counters"] if c["counter"] == 3)
        assert c3["number"] == pre["number"] and c3["category_name"] == "Hộ tịch"
        assert board_msg["board"]["recent"][0]["number"] == pre["number"]
        said = {a["type"]: a for m in msgs.values() for a in m.get("announces", [])}
        assert said["call"]["text"] == f"Mời công dân có số {pre['number']} đến quầy số 3"
        assert said["call"]["speech"] == "Mời công dân có số A không không một đến quầy số ba"
        assert said["recall"]["text"] == said["call"]["text"] and said["recall"]["seq"] == recall["seq"]
        assert all(a["seq"] != issue["seq"] for a in said.values())  # an issue is not announced


def test_next_sends_done_and_call_as_one_run(live):
    """A Next that finishes the current ticket logs "done" then "call"; the
    board gets them as consecutive seqs (one message when they arrive
    together), the board showing the new number."""
    kiosk = live.device("kiosk")
    a = kiosk.post("/api/tickets", json={"category": "HT"}).json()
    b = kiosk.post("/api/tickets", json={"category": "HT"}).json()
    minh = live.login("minh")
    minh.post("/api/counters/3/next")
    with board(live) as ws:
        snap = recv(ws)
        minh.post("/api/counters/3/next")
        events, last = [], None
        while len(events) < 2:
            msg = recv(ws)
            if msg["type"] == "event":
                # a message older than the snapshot (in flight while we connected) is skipped, as the page does
                events += [e for e in msg["events"] if e["seq"] > snap["seq"]]
                last = msg
        assert [(e["type"], e["number"]) for e in events] == [("done", a["number"]), ("call", b["number"])]
        assert [e["seq"] for e in events] == [snap["seq"] + 1, snap["seq"] + 2]
        assert next(c for c in last["board"]["counters"] if c["counter"] == 3)["number"] == b["number"]
        assert last["announce"]["number"] == b["number"]


def test_heartbeat_both_ways(live):
    with board(live) as ws:
        recv(ws)
        ws.send(json.dumps({"type": "ping"}))
        assert recv_until(ws, lambda m: m["type"] == "pong")["type"] == "pong"
        ws.ping().wait(5)  # protocol-level ping answered by the server too


def test_unauthorized_socket_is_refused(live):
    for tok in ("nope", live.tokens["kiosk"], ""):
        with pytest.raises(InvalidStatus) as e:
            with board(live, token=tok):
                pass
        assert e.value.response.status_code == 403


async def _publish(redis_url: str, channel: str, payload: dict) -> None:
    r = Redis.from_url(redis_url)
    try:
        await r.publish(channel, json.dumps(payload))
    finally:
        await r.aclose()


def test_gap_is_detected_and_resynced_from_a_snapshot(live):
    """A message lost between Redis and the socket shows up as a jump in seq;
    the client then asks for a snapshot, which carries the true state."""
    kiosk = live.device("kiosk")
    with board(live) as ws:
        snap = recv(ws)
        last = snap["seq"]
        # a sequence number the client never saw: simulate a lost message
        asyncio.run(_publish(live.redis_url, live.keys.channel, {"type": "issue", "seq": last + 3, "number": "Z999"}))
        msg = recv_until(ws, lambda m: m["type"] == "event")
        assert msg["seq"] == last + 3 and msg["seq"] > last + 1  # a gap: ask for a snapshot
        t = kiosk.post("/api/tickets", json={"category": "CT"}).json()
        ws.send(json.dumps({"type": "sync"}))
        fresh = recv_until(ws, lambda m: m["type"] == "snapshot")
        assert fresh["seq"] == last + 1  # the real last event (the issue)
        assert any(w["category"] == "CT" and w["count"] == 1 for w in fresh["waiting"])
        # after the resync, events continue from the snapshot's seq
        live.login("minh").post("/api/counters/3/next")
        call = recv_until(ws, lambda m: m["type"] == "event" and m["event"]["type"] == "call")
        assert call["seq"] == fresh["seq"] + 1 and call["event"]["number"] == t["number"]


def test_admin_sets_notice_and_voice_and_boards_update_live(live):
    with board(live) as ws:
        snap = recv(ws)
        admin = live.login("admin")
        r = admin.put(
            "/api/display/settings",
            json={"notice": "Chiều nay nghỉ từ 16:00.", "voice": {"reading": "natural", "volume": 60}},
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["notice"] == "Chiều nay nghỉ từ 16:00."
        assert body["voice"] == {
            "muted": False,
            "volume": 60,
            "reading": "natural",
            "template": "Mời công dân có số {number} đến quầy số {counter}",
        }
        msg = recv_until(ws, lambda m: m["type"] == "event")
        assert msg["seq"] == snap["seq"] + 1 and msg["event"]["type"] == "notice"
        assert msg["board"]["notice"] == "Chiều nay nghỉ từ 16:00."
        assert msg["board"]["voice"]["reading"] == "natural" and msg["board"]["voice"]["volume"] == 60
        # the reading style applies to the next call's speech
        live.device("kiosk").post("/api/tickets", json={"category": "HT"})
        live.login("minh").post("/api/counters/3/next")
        call = recv_until(ws, lambda m: m["type"] == "event" and m["event"]["type"] == "call")
        assert call["announce"]["speech"] == "Mời công dân có số A một đến quầy số ba"
        assert call["announce"]["text"] == "Mời công dân có số A001 đến quầy số 3"

    async def events():
        r = Redis.from_url(live.redis_url)
        try:
            return [e async for e in EventLog(r, live.keys).iter()]
        finally:
            await r.aclose()

    notice = [e for e in asyncio.run(events()) if e["type"] == "notice"]
    assert len(notice) == 1 and notice[0]["clerk"] == "admin"
    assert notice[0]["changed"] == "notice,voice.reading,voice.volume"


def test_display_settings_are_admin_only_and_validated(live):
    r = live.login("sup").put("/api/display/settings", json={"notice": "x"})
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    r = live.client().put("/api/display/settings", json={"notice": "x"})
    assert r.status_code == 401
    admin = live.login("admin")
    for bad in (
        {"voice": {"reading": "fast"}},
        {"volume": 150},
        {"template": "Mời {number}"},
        {"notice": 5},
        {"colour": "red"},
        {},
        {"notice": "x" * 501},
    ):
        r = admin.put("/api/display/settings", json=bad)
        assert r.status_code == 400 and r.json()["error"] == "invalid_body", (bad, r.text)
    r = admin.put("/api/display/settings?lang=en", json={"reading": "fast"})
    assert "Reading style" in r.json()["message"]
    r = admin.put("/api/display/settings", json={"muted": True, "template": "Xin mời số {number} tới quầy {counter}"})
    assert r.status_code == 200 and r.json()["voice"]["muted"] is True
    got = live.device("display").get("/api/display/settings").json()
    assert got["voice"]["template"] == "Xin mời số {number} tới quầy {counter}" and got["voice"]["muted"] is True
    assert live.client().get("/api/display/settings").status_code == 401


def test_voice_endpoint_renders_and_caches_vietnamese_speech(live):
    dev = live.device("display")
    text = f"Mời công dân có số A không một năm đến quầy số ba {time.time_ns()}"
    r = dev.get("/api/voice", params={"text": text})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "audio/wav" and r.content[:4] == b"RIFF" and len(r.content) > 10_000
    assert r.headers["x-voice-cache"] == "miss"
    again = dev.get("/api/voice", params={"text": text})
    assert again.headers["x-voice-cache"] == "hit" and again.content == r.content
    assert r.headers["x-voice-source"] == "espeak"
    assert live.client().get("/api/voice", params={"text": "xin chào"}).status_code == 401
    assert dev.get("/api/voice", params={"text": "   "}).status_code == 400


def test_voice_endpoint_falls_back_clearly_without_espeak(redis_url, monkeypatch, tmp_path):
    """No espeak-ng on the server: the default wording is joined from the
    shipped word clips; a phrase with words that have no clip gets a 503 JSON
    answer naming the fallback (chime and caption), never a 500."""
    from tests.server import make_server

    monkeypatch.setenv("MOTCUA_ESPEAK", "/nonexistent/espeak-ng")
    monkeypatch.setenv("MOTCUA_DATA_DIR", str(tmp_path))  # no phrase cached by earlier tests
    srv = make_server(redis_url).start()
    try:
        dev = srv.device("display")
        r = dev.get("/api/voice", params={"text": "Mời công dân có số A không không một đến quầy số ba"})
        assert r.status_code == 200 and r.headers["x-voice-source"] == "clips" and r.content[:4] == b"RIFF"
        text = f"Mời công dân có số A không không một đến quầy số ba {time.time_ns()}"  # never cached, no clip
        r = dev.get("/api/voice", params={"text": text})
        assert r.status_code == 503 and r.headers["x-voice-fallback"] == "chime-and-text"
        assert r.json()["error"] == "voice_unavailable" and "espeak-ng" in r.json()["message"]
        assert dev.get("/api/display/settings").json()["offline_voice"] is False
    finally:
        srv.close()
