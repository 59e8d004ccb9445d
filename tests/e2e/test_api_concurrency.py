"""Parallel clients over real HTTP against two server processes on one Redis."""

from __future__ import annotations

import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from queue_server.redis_server import free_port
from tests.server import ServerHandle, make_server


@pytest.fixture(scope="module")
def twin(redis_url):
    """Two API processes serving the same site."""
    a = make_server(redis_url).start()
    b = ServerHandle(
        redis_url=redis_url, site_id=a.site_id, config_path=a.config_path, port=free_port(), tokens=a.tokens
    ).start()
    yield a, b
    a.close()
    b.close()


def events(server, client, ticket_ids):
    out = []
    for tid in ticket_ids:
        out += client.get(f"/api/tickets/{tid}/events").json()["events"]
    return out


def test_numbers_never_repeat_under_parallel_kiosks(twin):
    a, b = twin
    a.reset()

    def press(i):
        srv = (a, b)[i % 2]
        with httpx.Client(
            base_url=srv.base_url, headers={"Authorization": f"Bearer {srv.tokens['kiosk']}"}, timeout=20
        ) as c:
            r = c.post("/api/tickets", json={"category": "HT" if i % 3 else "CT"})
            assert r.status_code == 201, r.text
            return r.json()

    with ThreadPoolExecutor(24) as pool:
        tickets = list(pool.map(press, range(240)))
    numbers = [t["number"] for t in tickets]
    assert len(set(numbers)) == 240
    assert len({t["id"] for t in tickets}) == 240
    ht = sorted(int(n[1:]) for n in numbers if n.startswith("A"))
    ct = sorted(int(n[1:]) for n in numbers if n.startswith("B"))
    assert ht == list(range(1, len(ht) + 1)) and ct == list(range(1, len(ct) + 1))


def test_a_ticket_is_never_called_twice(twin):
    a, b = twin
    a.reset()
    kiosk = a.device("kiosk")
    issued = [kiosk.post("/api/tickets", json={"category": cat}).json()["id"] for cat in ["HT", "CT", "KH"] * 30]
    clerks = {1: "lan", 2: "lan", 3: "minh", 4: "minh", 5: "hoa"}

    def work(counter):
        srv = a if counter % 2 else b
        c = srv.login(clerks[counter])
        called = []
        while True:
            r = c.post(f"/api/counters/{counter}/next", headers={"Idempotency-Key": uuid.uuid4().hex})
            if r.status_code == 409:
                assert r.json()["error"] == "queue_empty"
                return called
            assert r.status_code == 200, r.text
            called.append(r.json()["ticket"]["id"])

    with ThreadPoolExecutor(5) as pool:
        results = list(pool.map(work, [1, 2, 3, 4, 5]))
    all_called = [t for r in results for t in r]
    assert Counter(all_called).most_common(1)[0][1] == 1
    assert sorted(all_called) == sorted(issued)
    admin = a.login("admin")
    calls = [e for e in events(a, admin, issued) if e["type"] == "call"]
    assert len(calls) == len(issued)


def test_double_pressed_next_calls_one_citizen(twin):
    a, b = twin
    a.reset()
    kiosk = a.device("kiosk")
    first = kiosk.post("/api/tickets", json={"category": "HT"}).json()
    second = kiosk.post("/api/tickets", json={"category": "HT"}).json()
    lan_a, lan_b = a.login("lan"), b.login("lan")
    key = uuid.uuid4().hex

    def press(i):
        c = (lan_a, lan_b)[i % 2]
        return c.post("/api/counters/1/next", headers={"Idempotency-Key": key})

    with ThreadPoolExecutor(10) as pool:
        replies = list(pool.map(press, range(10)))
    assert all(r.status_code == 200 for r in replies), [r.text for r in replies]
    assert {r.json()["ticket"]["id"] for r in replies} == {first["id"]}
    assert sum(1 for r in replies if not r.json()["replayed"]) == 1
    # the second citizen is still waiting: nobody was skipped
    assert a.client().get(f"/api/tickets/{second['id']}").json()["status"] == "waiting"


def test_double_press_without_key_is_debounced(redis_url):
    srv = make_server(redis_url, queue__next_debounce_ms=2000).start()
    try:
        kiosk = srv.device("kiosk")
        first = kiosk.post("/api/tickets", json={"category": "HT"}).json()
        second = kiosk.post("/api/tickets", json={"category": "HT"}).json()
        lan = srv.login("lan")
        r1 = lan.post("/api/counters/1/next").json()
        r2 = lan.post("/api/counters/1/next").json()
        assert r1["ticket"]["id"] == r2["ticket"]["id"] == first["id"]
        assert r2["debounced"] is True
        assert srv.client().get(f"/api/tickets/{second['id']}").json()["status"] == "waiting"
        assert srv.client().get(f"/api/tickets/{first['id']}").json()["status"] == "called"
    finally:
        srv.close()
