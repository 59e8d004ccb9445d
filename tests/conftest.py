"""Shared fixtures: one real redis-server process for the whole run."""

from __future__ import annotations

import os
import tempfile

import pytest

from queue_server import redis_server

# lines for the terminal summary's "schemathesis" section (tests/e2e/test_fuzz_openapi.py)
FUZZ_REPORT = pytest.StashKey[list[str]]()


@pytest.fixture(scope="session")
def redis_proc():
    """A private redis-server (or the pip-shipped Valkey) on a free port, AOF on."""
    data = tempfile.mkdtemp(prefix="motcua-test-redis-")
    proc = redis_server.start(data)
    os.environ["MOTCUA_TEST_REDIS_URL"] = proc.url
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory):
    """A local Redis Cluster, 3 masters + 3 replicas (tests/cluster.py)."""
    from tests.cluster import start_cluster

    cluster = start_cluster(tmp_path_factory.mktemp("cluster"))
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def redis_url(request, redis_proc) -> str:
    """The suite's Redis; with MOTCUA_TEST_CLUSTER=1 the local cluster
    instead (`motcua test` runs the queue, appointment and report tests so a
    second time), RQ then on the plain Redis."""
    if os.environ.get("MOTCUA_TEST_CLUSTER") == "1":
        os.environ["MOTCUA_RQ_REDIS_URL"] = redis_proc.url
        return request.getfixturevalue("redis_cluster").url
    return redis_proc.url


@pytest.fixture(scope="module")
def server(redis_url):
    """A running API server with a fresh site, shared by one test module."""
    from tests.server import make_server

    handle = make_server(redis_url).start()
    yield handle
    handle.close()


@pytest.fixture
def live(server):
    """The module's server with an empty queue for this test."""
    server.reset()
    yield server


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the run (Debian's /usr/bin/chromium)."""
    from playwright.sync_api import sync_playwright

    from tests.browser import launch

    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    pg = ctx.new_page()
    yield pg
    ctx.close()


def pytest_collection_modifyitems(session, config, items):
    """Run the browser tests last (stable order otherwise): once Playwright's
    sync API is running, this thread has a running event loop and a plain
    asyncio.run() in a later test would fail."""
    items.sort(key=lambda item: "browser" in getattr(item, "fixturenames", ()))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """What the schemathesis runs covered, shown without ``-s``."""
    lines = config.stash.get(FUZZ_REPORT, [])
    if lines:
        terminalreporter.section("schemathesis")
        for line in lines:
            terminalreporter.write_line(line)
