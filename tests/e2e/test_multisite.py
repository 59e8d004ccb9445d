"""Issue #16, acceptance 1: two sites side by side in one process (the
module's server: its default site A, and a site B a province user adds
through the API, served under /s/{b}/). Their numbers, queues, boards,
users, devices and reports never mix; every credential of one is refused on
the other's routes (403 wrong_site, walked over every API route); the
province user reads both sites' reports and nothing else of theirs."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from websockets.sync.client import connect

from queue_server.domain.accounts import DeviceKind, Role
from queue_server.domain.sites import PROVINCE, credential_tag
from queue_server.jobs import queue_for
from queue_server.store.accounts import Accounts
from queue_server.store.connection import open_redis
from queue_server.store.keys import Keys, province_keys
from tests.e2e.test_authz import HTTP_ROUTES, PUBLIC_HTTP, fill, send, ws_outcome
from tests.helpers import run_sync
from tests.server import PASSWORD, USERS

B_STAFF = ("sup", "lan", "minh")
API_ROUTES = [(m, p) for m, p in HTTP_ROUTES if p.startswith("/api/") and (m, p) not in PUBLIC_HTTP]


def _add_province_user(server) -> None:
    """As an operator does it: `motcua province-user add` on the deployment's TOML."""
    r = subprocess.run(
        [sys.executable, "-m", "queue_server.cli", "province-user", "add", "tinh", "--password", PASSWORD]
        + ["--redis-url", server.redis_url, "--config", str(server.config_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "/province" in r.stdout


async def _province_users(redis_url: str, default_site: str) -> list[tuple[str, str]]:
    r = open_redis(redis_url)
    try:
        users = await Accounts(r, province_keys(default_site), credential_tag(PROVINCE)).list_users()
        return [(u.username, str(u.role)) for u in users]
    finally:
        await r.aclose()


async def _seed_site(redis_url: str, site: str) -> dict[str, str]:
    """B's staff (the same names as A's, other people) and devices, made as the API makes them."""
    r = open_redis(redis_url)
    try:
        acc = Accounts(r, Keys(site), credential_tag(site))
        for name in B_STAFF:  # B's admin is the one the province made
            role, counters = USERS[name]
            await acc.add_user(name, role, PASSWORD, counters)
        tokens = {}
        for kind in DeviceKind:
            _, tokens[kind.value] = await acc.add_device(
                f"b-{kind.value}", kind, 1 if kind == DeviceKind.RATING else None
            )
        return tokens
    finally:
        await r.aclose()


class Site:
    """A site as a browser or device reaches it: A at /, B at /s/{b}/."""

    def __init__(self, server, prefix: str, tokens: dict[str, str]):
        self.server, self.prefix, self.tokens = server, prefix, tokens
        self.sessions: dict[str, httpx.Client] = {}  # one login per user for the module (logins are slow)

    @property
    def base_url(self) -> str:
        return self.server.base_url + self.prefix

    def client(self, **kw) -> httpx.Client:
        c = httpx.Client(base_url=self.base_url, timeout=10, **kw)
        self.server.clients.append(c)
        return c

    def device(self, kind: str) -> httpx.Client:
        return self.client(headers={"Authorization": f"Bearer {self.tokens[kind]}"})

    def login(self, username: str) -> httpx.Client:
        if username in self.sessions:
            return self.sessions[username]
        c = self.sessions[username] = self.client()
        r = c.post("/api/auth/login", json={"username": username, "password": PASSWORD})
        assert r.status_code == 200, r.text
        c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        return c


async def _seed_province_user(redis_url: str, default_site: str) -> None:
    r = open_redis(redis_url)
    try:
        await Accounts(r, province_keys(default_site), credential_tag(PROVINCE)).add_user(
            "tinh", Role.PROVINCE, PASSWORD
        )
    finally:
        await r.aclose()


@pytest.fixture(scope="module")
def sites(server, redis_url):
    server.reset()
    _add_province_user(server)
    # in the province's own store, never the default site's users
    assert run_sync(_province_users(redis_url, server.site_id)) == [("tinh", "province")]
    tinh = server.client()
    r = tinh.post("/api/province/login", json={"username": "tinh", "password": PASSWORD})
    assert r.status_code == 200, r.text
    tinh.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    b_id = "b-" + secrets.token_hex(4)
    r = tinh.post(
        "/api/province/sites",
        json={
            "id": b_id,
            "name": "Phường Bến Thành",
            "timezone": "Asia/Ho_Chi_Minh",
            "counters": 5,
            "hosts": [f"{b_id}.example"],
            "admin_username": "admin",
            "admin_password": PASSWORD,
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["site"]["path"] == f"/s/{b_id}/"
    a = Site(server, "", server.tokens)
    b = Site(server, f"/s/{b_id}", run_sync(_seed_site(redis_url, b_id)))
    yield {"a": a, "b": b, "b_id": b_id, "province": tinh}


def test_province_adds_a_site_once_and_lists_both(sites, server):
    tinh = sites["province"]
    listed = tinh.get("/api/province/sites").json()["sites"]
    assert [(s["id"], s["default"]) for s in listed[:1]] == [(server.site_id, True)]
    assert sites["b_id"] in {s["id"] for s in listed}
    again = tinh.post(
        "/api/province/sites",
        json={"id": sites["b_id"], "name": "Lại", "admin_username": "admin", "admin_password": PASSWORD},
    )
    assert again.status_code == 409 and again.json()["error"] == "site_exists"
    bad = tinh.post(
        "/api/province/sites", json={"id": "Xã Có Dấu", "name": "X", "admin_username": "a1", "admin_password": PASSWORD}
    )
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_site"
    # B has its own configuration: its name, five counters
    site_b = sites["b"].client().get("/api/site").json()
    assert site_b["name"] == "Phường Bến Thành"
    assert server.client().get("/api/site").json()["name"] != "Phường Bến Thành"
    # the worker has B's nightly jobs booked, as A's
    booked = queue_for(server.redis_url).scheduled_job_registry.get_job_ids()
    for job in ("close-day", "archive", "backup"):
        for site in (server.site_id, sites["b_id"]):
            assert any(j.startswith(f"{job}-{site}-") for j in booked), (job, site, booked)
    # an unknown site is a 404 in our words
    r = server.client().get("/s/khong-co/api/site")
    assert r.status_code == 404 and r.json()["error"] == "site_not_found"


def test_a_host_name_chooses_its_site_without_the_prefix(sites, server):
    b = sites["b"]
    with httpx.Client(base_url=server.base_url, headers={"Host": f"{sites['b_id']}.example"}, timeout=10) as c:
        assert c.get("/api/site").json()["name"] == "Phường Bến Thành"
        auth = {"Authorization": f"Bearer {b.tokens['display']}"}
        assert c.get("/api/display/settings", headers=auth).status_code == 200
        # A's token on B's host: B's routes, so refused
        r = c.get("/api/display/settings", headers={"Authorization": f"Bearer {sites['a'].tokens['display']}"})
        assert r.status_code == 403 and r.json()["error"] == "wrong_site"


def test_numbers_and_queues_continue_independently(sites):
    a, b = sites["a"], sites["b"]
    ka, kb = a.device("kiosk"), b.device("kiosk")
    n = lambda c: c.post("/api/tickets", json={"category": "HT"}).json()["number"]  # noqa: E731
    first_a = n(ka)
    first_b = n(kb)
    assert first_b == "A001"  # B's day starts at one, whatever A issued
    assert [n(ka), n(kb), n(kb), n(ka)] == [_next(first_a), "A002", "A003", _next(first_a, 2)]
    # each clerk calls from her own site's queue
    lan_a, lan_b = a.login("lan"), b.login("lan")
    call_b = lan_b.post("/api/counters/1/next").json()["ticket"]
    assert call_b["number"] == "A001"
    call_a = lan_a.post("/api/counters/1/next").json()["ticket"]
    assert call_a["number"] == first_a and call_a["id"] != call_b["id"]
    # a ticket of one site is not found at the other
    assert a.client().get(f"/api/tickets/{call_b['id']}").status_code == 404
    assert b.client().get(f"/api/tickets/{call_b['id']}").status_code == 200
    waiting_b = b.client().get("/api/board").json()["waiting_total"]
    assert waiting_b == 2


def _next(number: str, k: int = 1) -> str:
    return f"{number[0]}{int(number[1:]) + k:03d}"


def _recv_until(ws, pred, timeout=5.0):
    while True:
        msg = json.loads(ws.recv(timeout=timeout))
        if pred(msg):
            return msg


def test_boards_see_only_their_own_site(sites, server):
    a, b = sites["a"], sites["b"]
    url = server.ws_url
    with (
        connect(f"{url}/ws/board?token={a.tokens['display']}", open_timeout=10) as ws_a,
        connect(f"{url}{b.prefix}/ws/board?token={b.tokens['display']}", open_timeout=10) as ws_b,
    ):
        snap_a, snap_b = json.loads(ws_a.recv(timeout=5)), json.loads(ws_b.recv(timeout=5))
        assert snap_a["site"]["name"] != snap_b["site"]["name"] == "Phường Bến Thành"
        b.device("kiosk").post("/api/tickets", json={"category": "CT"})
        called = b.login("minh").post("/api/counters/3/next").json()["ticket"]
        ev = _recv_until(ws_b, lambda m: m["type"] == "event" and m["event"]["type"] == "call")
        assert ev["event"]["ticket"] == called["id"]
        # then something on A: A's board sees A's event first and never B's
        mark = a.device("kiosk").post("/api/tickets", json={"category": "DD"}).json()
        while True:
            m = json.loads(ws_a.recv(timeout=5))
            if m["type"] != "event":
                continue
            ids = {e.get("ticket") for e in m["events"]}
            assert called["id"] not in ids, "A's board got B's call"
            if mark["id"] in ids:
                break
    # a display token of one site opens no board at the other
    assert ws_outcome(server, f"{b.prefix}/ws/board?token={a.tokens['display']}") == "refused"
    assert ws_outcome(server, f"/ws/board?token={b.tokens['display']}") == "refused"


def _walk(client: httpx.Client) -> list[str]:
    """Every non-public API route called with a foreign credential: what did not answer 403 wrong_site."""
    values = {"n": "1", "ticket_id": "x" * 12, "username": "lan", "device_id": "d", "name": "x", "path": "x"}
    bad = []
    for method, path in API_ROUTES:
        r = send(client, method, path, fill(path, values))
        if r.status_code != 403 or r.json().get("error") != "wrong_site":
            bad.append(f"{method} {path}: {r.status_code} {r.text[:120]}")
    return bad


def test_credentials_of_one_site_are_refused_on_the_other(sites):
    a, b = sites["a"], sites["b"]
    admin_a, lan_b = a.login("admin"), b.login("lan")
    # B's clerk and A's kiosk token walk every route of the other site;
    # A's admin session and B's display token try a few
    for other, cred, walk in (
        (a, {"cookies": lan_b.cookies, "headers": {"X-CSRF-Token": lan_b.headers["X-CSRF-Token"]}}, True),
        (b, {"headers": {"Authorization": f"Bearer {a.tokens['kiosk']}"}}, True),
        (b, {"cookies": admin_a.cookies, "headers": {"X-CSRF-Token": admin_a.headers["X-CSRF-Token"]}}, False),
        (a, {"headers": {"Authorization": f"Bearer {b.tokens['display']}"}}, False),
    ):
        with httpx.Client(base_url=other.base_url, timeout=10, **cred) as c:
            if walk:
                assert _walk(c) == []
            for method, path in (("GET", "/api/admin/users"), ("POST", "/api/tickets"), ("GET", "/api/voice")):
                r = send(c, method, path, path, json={"category": "HT"} if method == "POST" else None)
                assert r.status_code == 403 and r.json()["error"] == "wrong_site", (method, path, r.text)
            me = c.get("/api/auth/me")
            assert me.status_code == 403 and "đơn vị khác" in me.json()["message"]
    # and no live feed: B's clerk at A's counter socket, A's supervisor view from B
    cookie_b = {"Cookie": f"motcua_session={lan_b.cookies.get('motcua_session')}"}
    assert ws_outcome(a.server, "/ws/counters/1", cookie_b) == "refused"
    assert ws_outcome(a.server, f"{b.prefix}/ws/counters/1", cookie_b) == "open"
    cookie_a = {"Cookie": f"motcua_session={admin_a.cookies.get('motcua_session')}"}
    assert ws_outcome(a.server, f"{b.prefix}/ws/supervisor", cookie_a) == "refused"
    # each works at home
    assert admin_a.get("/api/admin/users").status_code == 200
    assert lan_b.get("/api/counters/1/state").status_code == 200
    # B's own admin (made by the province) manages B only
    admin_b = b.login("admin")
    users_b = {u["username"] for u in admin_b.get("/api/admin/users").json()["users"]}
    assert users_b == {"admin", *B_STAFF}
    r = admin_b.post("/api/admin/devices", json={"name": "b-kiosk-2", "kind": "kiosk"})
    assert r.status_code == 201 and r.json()["token"].startswith(sites["b_id"] + "~")
    # a token nobody made, tagged with B: 401 at A as at B
    fake = f"{sites['b_id']}~kiosk_not-a-token"
    for s in (a, b):
        with s.client(headers={"Authorization": f"Bearer {fake}"}) as c:
            assert c.post("/api/tickets", json={"category": "HT"}).status_code == 401


def test_reports_never_mix_and_the_province_reads_all(sites, server):
    a, b, tinh = sites["a"], sites["b"], sites["province"]
    sup_a, sup_b = a.login("sup"), b.login("sup")

    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date().isoformat()
    period = {"from": today, "to": today}

    def issued(c: httpx.Client) -> int:
        r = c.get("/api/reports/summary", params=period)
        assert r.status_code == 200, r.text
        return r.json()["totals"]["issued"]

    before_a, before_b = issued(sup_a), issued(sup_b)
    for _ in range(3):
        a.device("kiosk").post("/api/tickets", json={"category": "KH"})
    b.device("kiosk").post("/api/tickets", json={"category": "KH"})
    assert (issued(sup_a) - before_a, issued(sup_b) - before_b) == (3, 1)
    # the province user: every site's summary, and the sum
    with httpx.Client(base_url=b.base_url, cookies=tinh.cookies, timeout=10) as tb:
        assert issued(tb) == issued(sup_b)
        assert tb.get("/api/admin/users").status_code == 403
        assert tb.get("/api/counters/1/state").status_code == 403
        assert tb.get("/api/supervisor").status_code == 403
    assert issued(tinh) == issued(sup_a)
    total = tinh.get("/api/province/summary", params=period).json()
    per_site = {s["id"]: s["totals"]["issued"] for s in total["sites"]}
    assert per_site[server.site_id] == issued(sup_a) and per_site[sites["b_id"]] == issued(sup_b)
    assert total["totals"]["issued"] == sum(per_site.values())
    # site staff never reach the province's routes
    assert sup_a.get("/api/province/sites").status_code == 403
    assert a.login("admin").get("/api/province/summary", params=period).status_code == 403


@pytest.mark.browser
def test_province_page_adds_a_site_whose_kiosk_works_under_its_prefix(server, redis_url, page):
    run_sync(_seed_province_user(redis_url, server.site_id))
    page.goto(f"{server.base_url}/province")
    page.wait_for_selector("#view-login:not(.hidden)")
    assert page.inner_text("h1") == "Quản trị cấp tỉnh"
    page.fill("#username", "tinh")
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector(f"#sites tr[data-site='{server.site_id}']")
    c_id = "c-" + secrets.token_hex(4)
    page.fill("#s-id", c_id)
    page.fill("#s-name", "Xã Tân Phú")
    page.fill("#s-counters", "2")
    page.fill("#s-pass", PASSWORD)
    page.click("#btn-add")
    page.wait_for_selector(f"#sites tr[data-site='{c_id}']")
    assert f"/s/{c_id}/" in page.inner_text("#msg")
    page.click("#btn-lang")
    page.wait_for_function("document.querySelector('h1').textContent === 'Province administration'")
    # the new site's admin (typed in the form) makes a kiosk; the kiosk page works under /s/{c}/
    c = Site(server, f"/s/{c_id}", {})
    admin_c = c.login("admin")
    token = admin_c.post("/api/admin/devices", json={"name": "kiosk-c", "kind": "kiosk"}).json()["token"]
    page.goto(f"{c.base_url}/kiosk?token={token}")
    page.wait_for_selector("body[data-ready='1']", timeout=10_000)
    page.click("button.cat[data-code='HT']")
    page.wait_for_selector("#result:not(.hidden)")
    assert page.inner_text("#r-number") == "A001"
    # the ticket is C's: C's staff find it, A's do not know it
    tid = page.get_attribute("#result", "data-ticket")
    assert admin_c.get(f"/api/tickets/{tid}").status_code == 200
    assert server.login("admin").get(f"/api/tickets/{tid}").status_code == 404
    assert c.client().get("/api/site").json()["name"] == "Xã Tân Phú"
    # opened without the prefix, the kiosk page with C's token is sent on to C's
    page.goto(f"{server.base_url}/kiosk?token={token}")
    page.wait_for_selector("body[data-ready='1']", timeout=10_000)
    assert page.url.startswith(f"{c.base_url}/kiosk")
