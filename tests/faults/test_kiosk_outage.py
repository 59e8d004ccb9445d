"""The kiosk page in Chromium while Redis is down: the citizen taps, taps
again, Redis comes back, and the press yields exactly one ticket; the page
says it is reconnecting meanwhile."""

from __future__ import annotations

import contextlib
import tempfile

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from redis import Redis

from queue_server import redis_server
from tests.server import make_server

pytestmark = pytest.mark.browser


@pytest.fixture
def own_redis_server():
    """A Redis of its own (to kill) and an API server against it."""
    handles = {"proc": redis_server.start(tempfile.mkdtemp(prefix="motcua-fault-kiosk-"))}
    srv = make_server(handles["proc"].url).start()
    try:
        yield srv, handles
    finally:
        srv.close()
        handles["proc"].stop()


def _tickets(url: str, srv) -> int:
    r = Redis.from_url(url, decode_responses=True)
    try:
        return r.hlen(srv.keys.tickets)
    finally:
        r.close()


def _open_kiosk(browser, srv, init_script: str | None = None):
    ctx = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    if init_script:
        ctx.add_init_script(init_script)
    page = ctx.new_page()
    keys: list[str] = []
    page.on(
        "request",
        lambda req: (
            keys.append(req.headers.get("idempotency-key", ""))
            if req.method == "POST" and req.url.split("?")[0].endswith("/api/tickets")
            else None
        ),
    )
    page.goto(f"{srv.base_url}/kiosk?token={srv.tokens['kiosk']}")
    page.wait_for_selector("body[data-ready='1']", timeout=10_000)
    page.wait_for_selector("button.cat[data-code='HT']")
    return ctx, page, keys


def test_press_during_outage_repeated_yields_one_ticket(browser, own_redis_server):
    srv, handles = own_redis_server
    proc = handles["proc"]
    ctx, page, keys = _open_kiosk(browser, srv)
    try:
        proc.kill()
        page.click("button.cat[data-code='HT']")
        page.wait_for_timeout(1000)
        # the citizen taps the category again (a tap that reaches it however the screen looks)
        page.evaluate("() => document.querySelector(\"button.cat[data-code='HT']\").click()")
        # the server tries Redis for a few seconds before it answers 503
        with contextlib.suppress(PlaywrightTimeout):
            page.wait_for_function("document.body.innerText.includes('Đang kết nối lại')", timeout=15_000)
        during = page.inner_text("main")
        page.wait_for_timeout(1000)
        handles["proc"] = proc = redis_server.start(proc.data_dir, port=proc.port)
        page.wait_for_selector("#result:not(.hidden)", timeout=30_000)
        assert page.inner_text("#r-number") == "A001"
        page.wait_for_timeout(1500)  # nothing else in flight
        assert _tickets(proc.url, srv) == 1
        assert "Đang kết nối lại" in during, during
        assert len(keys) >= 2 and len(set(keys)) == 1 and len(keys[0]) == 32, keys  # retried with one key
    finally:
        ctx.close()


def test_keys_without_crypto_get_random_values(browser, own_redis_server):
    srv, _ = own_redis_server
    # an old browser without crypto.getRandomValues: Math.random makes the keys
    ctx, page, keys = _open_kiosk(browser, srv, "window.crypto.getRandomValues = undefined;")
    try:
        assert page.evaluate("() => typeof window.crypto.getRandomValues") == "undefined"
        for number in ("A001", "A002"):
            page.click("button.cat[data-code='HT']")
            page.wait_for_selector("#result:not(.hidden)")
            assert page.inner_text("#r-number") == number
            page.click("#done")
            page.wait_for_selector("#start:not(.hidden)")
        assert len(keys) == 2 and keys[0] != keys[1] and all(len(k) == 32 for k in keys), keys
    finally:
        ctx.close()
