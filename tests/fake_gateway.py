"""A tiny local HTTP server standing in for an SMS gateway or Zalo ZNS: it
records every request (path, headers, body) and answers from a script of
(status, JSON body) replies, the last one repeated."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class FakeGateway:
    replies: list[tuple[int, dict[str, Any]]] = field(default_factory=lambda: [(200, {"error": 0})])
    seen: list[Seen] = field(default_factory=list)

    def __enter__(self) -> FakeGateway:
        gw = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                gw.seen.append(Seen(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                status, reply = gw.replies[min(len(gw.seen) - 1, len(gw.replies) - 1)]
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
