"""Issue #12: hostile input over real sockets. Each row is an exact
reproduction from the issue; every answer is a JSON 4xx ``{"error",
"message"}`` (never a 500, never plain text), and nothing forged reaches the log."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import httpx
import pytest
from redis.asyncio import Redis

from queue_server.redis_server import free_port
from tests.helpers import run_sync
from tests.server import make_server

DEEP_1000 = b"[" * 1000 + b"]" * 1000


def _json_error(r: httpx.Response, status: int | tuple[int, ...], code: str | None = None) -> dict:
    statuses = status if isinstance(status, tuple) else (status,)
    assert r.status_code in statuses, f"{r.status_code} {r.text[:300]}"
    assert r.headers.get("content-type", "").startswith("application/json"), r.text[:300]
    body = r.json()
    assert set(body) >= {"error", "message"} and body["message"], body
    if code is not None:
        assert body["error"] == code, body
    return body


def _raw_json(client: httpx.Client, method: str, url: str, body: bytes, **headers: str) -> httpx.Response:
    return client.request(method, url, content=body, headers={"Content-Type": "application/json", **headers})


# -- the table: (who, method, path, body) -> (status, error) ---------------------------------------------
# who: anon | kiosk | lan (clerk of counters 1-2, CSRF header set) | admin
SURROGATES = (
    rb'{"username":"\udc80admin","password":"\ud800"}',
    rb'{"category":"\ud800"}',
    rb'{"ticket":"\ud800"}',
)
TABLE = [
    # 2. deep JSON
    ("anon", "POST", "/api/auth/login", DEEP_1000, 400, "invalid_json"),
    ("kiosk", "POST", "/api/tickets", DEEP_1000, 400, "invalid_json"),
    ("lan", "POST", "/api/counters/1/call", DEEP_1000, 400, "invalid_json"),
    ("lan", "POST", "/api/counters/1/call", b"[" * 20000 + b"]" * 20000, 400, "invalid_json"),
    ("lan", "POST", "/api/counters/1/call", b'{"a":' * 5000 + b"1" + b"}" * 5000, 400, "invalid_json"),
    # 3. lone surrogates
    ("anon", "POST", "/api/auth/login", SURROGATES[0], 400, "invalid_json"),
    ("kiosk", "POST", "/api/tickets", SURROGATES[1], 400, "invalid_json"),
    ("lan", "POST", "/api/counters/1/transfer", SURROGATES[1], 400, "invalid_json"),
    ("lan", "POST", "/api/counters/1/call", SURROGATES[2], 400, "invalid_json"),
    (
        "admin",
        "POST",
        "/api/admin/users",
        rb'{"username":"\ud800","password":"mat-khau-123","role":"clerk"}',
        400,
        "invalid_json",
    ),
    ("admin", "PUT", "/api/display/settings", rb'{"notice":"\ud800"}', 400, "invalid_json"),
    ("admin", "PUT", "/api/display/settings", rb'{"\udfff":1}', 400, "invalid_json"),
    # 4. odd path characters
    ("anon", "GET", "/api/display/pairing/a%20b", b"", 404, "pairing_expired"),
    ("anon", "GET", "/api/display/pairing/x%0aERROR%20-%20FAKE%20LOG%20LINE", b"", 404, "pairing_expired"),
    ("anon", "GET", "/static/counter-app/x%00.js", b"", 404, "not_found"),
    ("anon", "GET", "/display/static/x%00.js", b"", 404, "not_found"),
    # 5. Unicode digits
    ("lan", "GET", "/api/tickets?number=A%C2%B9", b"", 404, "ticket_not_found"),
    ("lan", "GET", "/api/tickets?number=%C3%9D%C2%B9", b"", 404, "ticket_not_found"),
    ("lan", "POST", "/api/counters/1/call", '{"number":"A¹"}'.encode(), 404, "ticket_not_found"),
    ("lan", "POST", "/api/counters/1/call", '{"number":"A١٢"}'.encode(), 404, "ticket_not_found"),
]


def _client(live, who: str) -> httpx.Client:
    if who == "anon":
        return live.client()
    if who == "kiosk":
        return live.device("kiosk")
    return live.login(who)


@pytest.mark.parametrize(
    "who,method,path,body,status,code", TABLE, ids=[f"{w} {m} {p[:50]} {b[:24]!r}" for w, m, p, b, _, _ in TABLE]
)
def test_reproductions_from_the_issue(live, who, method, path, body, status, code):
    c = _client(live, who)
    r = _raw_json(c, method, path, body) if body else c.request(method, path)
    _json_error(r, status, code)
    en = (
        _raw_json(c, method, path, body, **{"Accept-Language": "en"})
        if body
        else c.request(method, path, headers={"Accept-Language": "en"})
    )
    assert en.json()["message"] != r.json()["message"], "English on request"


def test_deep_json_is_refused_for_every_caller_not_only_once(live):
    with live.client() as c:
        codes = {_raw_json(c, "POST", "/api/auth/login", DEEP_1000).status_code for _ in range(20)}
    assert codes == {400}


def test_an_error_reply_with_a_lone_surrogate_still_serialises():
    from queue_server.errors import AppError

    e = AppError("unknown_category", category="\ud800")
    text = json.dumps(e.body(), ensure_ascii=False)
    text.encode("utf-8")  # a plain-text 500 before: the reply itself could not be encoded
    assert e.body("en")["message"].startswith("Unknown category")


# -- 1. bodies too large ---------------------------------------------------------------------------------------
def _raw_request(port: int, head: bytes, body_parts: list[bytes] = (), wait: float = 5.0) -> bytes:
    """Send a request head (and maybe some of its body), then read what the
    server answers without finishing the body."""
    s = socket.create_connection(("127.0.0.1", port), timeout=wait)
    try:
        s.sendall(head)
        for part in body_parts:
            s.sendall(part)
        s.settimeout(wait)
        data = b""
        try:
            while b"\r\n\r\n" not in data or not _complete(data):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except TimeoutError:
            pass
        return data
    finally:
        s.close()


def _complete(data: bytes) -> bool:
    head, _, rest = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(rest) >= int(line.split(b":", 1)[1])
    return False


def _parse(data: bytes) -> tuple[int, dict[str, str], bytes]:
    assert data, "no answer before the body was sent"
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, rest


def _head(path: str, *lines: str, method: str = "POST") -> bytes:
    return ("\r\n".join([f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *lines]) + "\r\n\r\n").encode()


def test_over_long_content_length_is_refused_before_the_body_is_read(live):
    head = _head("/api/auth/login", "Content-Type: application/json", "Content-Length: 9999000")
    status, headers, body = _parse(_raw_request(live.port, head))
    assert status == 413
    assert headers["content-type"].startswith("application/json")
    assert json.loads(body)["error"] == "body_too_large"


@pytest.mark.parametrize(
    "method,path", [("POST", "/api/tickets"), ("POST", "/api/counters/1/next"), ("PUT", "/api/admin/config")]
)
def test_over_long_content_length_is_refused_before_authentication(live, method, path):
    head = _head(path, "Content-Type: application/json", "Content-Length: 50000000", method=method)
    status, _, body = _parse(_raw_request(live.port, head))
    assert status == 413 and json.loads(body)["error"] == "body_too_large"


def test_a_chunked_body_is_cut_at_the_limit(live):
    head = _head("/api/auth/login", "Content-Type: application/json", "Transfer-Encoding: chunked")
    chunk = b"3e8\r\n" + b" " * 1000 + b"\r\n"  # 1,000 bytes; the login limit is 4,000
    status, _, body = _parse(_raw_request(live.port, head, [chunk] * 6))  # never the last chunk
    assert status == 413 and json.loads(body)["error"] == "body_too_large"


def test_a_body_within_the_limit_still_works(live):
    with live.client() as c:
        r = c.post("/api/auth/login", content=json.dumps({"username": "lan", "password": "mat-khau-123"}))
        assert r.status_code == 415  # no Content-Type: not JSON
        r = c.post("/api/auth/login", json={"username": "lan", "password": "mat-khau-123", "pad": " " * 3000})
        assert r.status_code == 200, r.text
        r = c.post("/api/auth/login", json={"username": "lan", "password": "mat-khau-123", "pad": " " * 5000})
        _json_error(r, 413, "body_too_large")
    admin = live.login("admin")
    r = admin.put("/api/admin/config", json={"site": {"name": "Trung tâm thử nghiệm"}, "pad": "x" * 100_000})
    assert r.status_code != 413, r.text  # the configuration may be large


# -- 6. a non-ASCII CSRF header ------------------------------------------------------------------------------
def test_a_non_ascii_csrf_header_is_403_json(live):
    lan = live.login("lan")
    for raw in (b"\xff\xfe", "é".encode("latin-1") + lan.cookies.get("motcua_csrf").encode(), b"\x80" * 300):
        _json_error(lan.post("/api/counters/1/pause", headers={"X-CSRF-Token": raw}), 403, "csrf_failed")
    assert lan.post("/api/counters/1/pause").status_code == 200  # the session itself still works


# -- 8. log injection ------------------------------------------------------------------------------------------
def test_nothing_forged_or_binary_reaches_the_log(live):
    with live.client() as c:
        c.get("/api/display/pairing/x%0aERROR%20-%20FAKE%20LOG%20LINE")
        c.get("/api/display/pairing/x%0d%0aWARNING%20forged")
        c.get("/static/counter-app/x%00.js")
        c.get("/display/static/x%00.js")
        c.get("/api/tickets/%00%0a%1b[31m")
    time.sleep(0.3)
    log = live.log_path.read_bytes()
    lines = log.split(b"\n")
    assert not any(line.startswith((b"ERROR - FAKE", b"WARNING forged")) for line in lines)
    assert b"\x00" not in log and b"\x1b" not in log and b"\r" not in log


# -- 9. cross-site forms --------------------------------------------------------------------------------------
LOGIN = json.dumps({"username": "lan", "password": "mat-khau-123"})


def test_a_cross_site_text_plain_login_is_refused(live):
    with live.client() as c:
        r = c.post(
            "/api/auth/login", content=LOGIN, headers={"Content-Type": "text/plain", "Origin": "http://evil.example"}
        )
        _json_error(r, (403, 415))
        assert "set-cookie" not in r.headers
    with live.client() as c:
        r = c.post("/api/auth/login", content=LOGIN, headers={"Content-Type": "text/plain"})
        _json_error(r, 415, "unsupported_media_type")
        assert "set-cookie" not in r.headers
        for ctype in ("application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
            _json_error(c.post("/api/auth/login", content=LOGIN, headers={"Content-Type": ctype}), 415)
        ok = c.post("/api/auth/login", content=LOGIN, headers={"Content-Type": "application/json; charset=utf-8"})
        assert ok.status_code == 200, ok.text


@pytest.mark.parametrize(
    "headers",
    [{"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}, {"Origin": "null"}],
)
def test_a_browsers_cross_site_write_is_refused(live, headers):
    with live.client() as c:
        r = c.post("/api/auth/login", content=LOGIN, headers={"Content-Type": "application/json", **headers})
        _json_error(r, 403, "cross_site")
        assert "set-cookie" not in r.headers
    lan = live.login("lan")
    _json_error(lan.post("/api/counters/1/pause", headers=headers), 403, "cross_site")
    admin = live.login("admin")
    _json_error(admin.put("/api/display/settings", json={"notice": "x"}, headers=headers), 403, "cross_site")


def test_same_origin_and_non_browser_writes_still_work(live):
    same = {"Origin": live.base_url, "Sec-Fetch-Site": "same-origin"}
    with live.client() as c:
        r = c.post("/api/auth/login", content=LOGIN, headers={"Content-Type": "application/json", **same})
        assert r.status_code == 200, r.text
    lan = live.login("lan")
    assert lan.post("/api/counters/1/pause", headers=same).status_code == 200
    assert lan.post("/api/counters/1/resume").status_code == 200  # no Origin: curl, the print agent
    # a cross-site GET is only a read
    assert live.client().get("/api/board", headers={"Origin": "http://evil.example"}).status_code == 200


def test_account_locked_says_when_to_retry(live):
    admin = live.login("admin")
    admin.post("/api/admin/users", json={"username": "khanh", "password": "mat-khau-khanh", "role": "clerk"})
    with live.client() as c:
        for i in range(5):
            r = c.post("/api/auth/login", json={"username": "khanh", "password": f"sai-{i}"})
        _json_error(r, 429, "account_locked")
        assert int(r.headers["Retry-After"]) >= 60


# -- 10. public routes are throttled or cost nothing -------------------------------------------------------------
LIMIT = 5


@pytest.fixture(scope="module")
def limited(redis_url):
    """A server of its own with a public limit of 5 a minute per address."""
    handle = make_server(redis_url)
    port = free_port()
    env = dict(
        os.environ,
        MOTCUA_REDIS_URL=handle.redis_url,
        MOTCUA_CONFIG=str(handle.config_path),
        MOTCUA_DATA_DIR=str(handle.config_path.parent / "var"),
        PYTHONUNBUFFERED="1",
        MOTCUA_PUBLIC_LIMIT=str(LIMIT),
        MOTCUA_TRUST_PROXY="true",  # X-Forwarded-For gives each test its own address
    )
    with open(handle.config_path.with_suffix(".limited.log"), "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "queue_server.cli", "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    handle.port, handle.proc = port, proc
    deadline = time.monotonic() + 30
    while True:
        assert proc.poll() is None and time.monotonic() < deadline, "server did not start"
        try:
            if httpx.get(handle.base_url + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield handle
    handle.close()


@pytest.mark.parametrize("path", ["/api/categories", "/api/site", "/t/{ticket}", "/schema/openapi.json"])
def test_public_routes_are_throttled(limited, path):
    if "{ticket}" in path:  # a real ticket: an unknown one is a 404 page (issue #13 item 7)
        issued = limited.device("kiosk").post("/api/tickets", json={"category": "HT"})
        assert issued.status_code == 201, issued.text
        path = path.format(ticket=issued.json()["id"])
    with limited.client(headers={"X-Forwarded-For": f"10.0.0.{len(path)}"}) as c:
        codes = [c.get(path).status_code for _ in range(LIMIT + 3)]
        assert codes[:LIMIT] == [200] * LIMIT and codes[LIMIT:] == [429] * 3, codes
        r = c.get(path, headers={"Accept": "application/json"})
        _json_error(r, 429, "rate_limited")
        assert int(r.headers["Retry-After"]) >= 1


def test_healthz_is_cached_so_a_flood_costs_no_redis_call(limited):
    async def pings() -> int:
        r = Redis.from_url(limited.redis_url)
        try:
            return int((await r.info("commandstats")).get("cmdstat_ping", {}).get("calls", 0))
        finally:
            await r.aclose()

    before = run_sync(pings())
    with limited.client() as c:
        codes = [c.get("/healthz").status_code for _ in range(100)]
    assert codes == [200] * 100  # health checkers are never throttled
    assert run_sync(pings()) - before <= 5


def test_a_print_agent_cannot_forge_log_lines(live):
    from websockets.sync.client import connect

    token = {"Authorization": f"Bearer {live.tokens['printer']}"}
    with connect(live.ws_url + "/ws/printer", additional_headers=token, proxy=None, open_timeout=5) as ws:
        ws.send(json.dumps({"type": "fail", "id": "job-1", "error": "paper\nERROR motcua: FAKE LOG LINE\x00"}))
        time.sleep(0.5)
    time.sleep(0.3)
    log = live.log_path.read_bytes()
    assert b"paper\\nERROR motcua: FAKE LOG LINE\\x00" in log  # the record is there, escaped
    assert not any(line.startswith(b"ERROR motcua: FAKE") for line in log.split(b"\n"))
    assert b"\x00" not in log
