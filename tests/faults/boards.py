"""A board websocket client as display/live.js runs it: a snapshot on
connect, then events by sequence; a gap asks for a fresh snapshot
({"type":"sync"}); a closed socket reconnects. What it has shown (every
call in an event, in a snapshot's recent calls or on a counter) is kept."""

from __future__ import annotations

import json
import threading
import time

from websockets.sync.client import connect


class Board(threading.Thread):
    def __init__(self, srv):
        super().__init__(daemon=True)
        self.srv = srv
        self.shown: set[str] = set()  # ticket numbers the board has called
        self.connects = 0
        self.snapshots = 0
        self.gaps = 0
        self.last_seq = 0
        self.stopping = threading.Event()

    def _snapshot(self, msg: dict) -> None:
        self.snapshots += 1
        self.last_seq = int(msg.get("seq") or 0)
        for call in msg.get("recent") or []:
            if call.get("type") in ("call", None):
                self.shown.add(call["number"])
        for c in msg.get("counters") or []:
            if c.get("number"):
                self.shown.add(c["number"])

    def _event(self, ws, msg: dict) -> None:
        seq = int(msg.get("seq") or 0)
        first = int(msg.get("from") or seq)
        if seq <= self.last_seq:
            return
        if first > self.last_seq + 1:
            self.gaps += 1
            self.last_seq = 10**12  # ignore events until the snapshot
            ws.send(json.dumps({"type": "sync"}))
            return
        self.last_seq = seq
        for ev in msg.get("events") or [msg.get("event") or {}]:
            if ev.get("type") == "call":
                self.shown.add(ev["number"])

    def run(self) -> None:
        url = f"{self.srv.ws_url}/ws/board?token={self.srv.tokens['display']}"
        while not self.stopping.is_set():
            try:
                with connect(url, open_timeout=5) as ws:
                    self.connects += 1
                    synced = False
                    while not self.stopping.is_set():
                        try:
                            raw = ws.recv(timeout=0.5)
                        except TimeoutError:
                            continue
                        msg = json.loads(raw)
                        kind = msg.get("type")
                        if kind == "ping":
                            ws.send(json.dumps({"type": "pong"}))
                        elif kind == "snapshot":
                            self._snapshot(msg)
                            synced = True
                        elif kind == "event" and synced:
                            self._event(ws, msg)
            except Exception:  # the server went away: connect again
                time.sleep(0.05)

    def stop(self) -> None:
        self.stopping.set()
        self.join(5)
