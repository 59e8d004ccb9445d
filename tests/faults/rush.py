"""A rush for the fault cases: a kiosk issuing KH tickets (every counter
serves KH) and 5 clerks pressing Next, each press sent again with its
Idempotency-Key until it gets a final answer, however long a fault lasts.
What was acknowledged is kept, to check against Redis afterwards."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
from redis import Redis

CATEGORY = "KH"
CLERKS = {1: "lan", 2: "lan", 3: "minh", 4: "minh", 5: "hoa"}
FINAL_GIVE_UP_S = 120  # a press with no final answer for this long fails the case


@dataclass
class Rush:
    srv: object  # tests.server.ServerHandle
    issued: dict[str, str] = field(default_factory=dict)  # ticket id -> number, acknowledged to the kiosk
    calls: list[tuple[int, str]] = field(default_factory=list)  # (counter, ticket id) acknowledged to a clerk
    errors: list[str] = field(default_factory=list)
    stop_issuing: threading.Event = field(default_factory=threading.Event)
    stop_calling: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    threads: list[threading.Thread] = field(default_factory=list)
    presses: int = 0

    def _final(self, send, what: str) -> httpx.Response | None:
        """Send until the answer is final (not a 503 or a dropped connection)."""
        deadline = time.monotonic() + FINAL_GIVE_UP_S
        while time.monotonic() < deadline:
            try:
                r = send()
            except httpx.HTTPError:
                time.sleep(0.05)
                continue
            if r.status_code in (502, 503, 504):
                time.sleep(0.05)
                continue
            return r
        with self.lock:
            self.errors.append(f"{what}: no final answer in {FINAL_GIVE_UP_S}s")
        return None

    def _kiosk(self, issue_every: float) -> None:
        kiosk = self.srv.device("kiosk")
        i = 0
        while not self.stop_issuing.is_set():
            key = f"kiosk-{i}-{time.monotonic_ns()}"
            r = self._final(
                lambda key=key: kiosk.post(
                    "/api/tickets", json={"category": CATEGORY}, headers={"Idempotency-Key": key}
                ),
                f"issue {key}",
            )
            if r is not None:
                if r.status_code == 201:
                    with self.lock:
                        self.issued[r.json()["id"]] = r.json()["number"]
                else:
                    with self.lock:
                        self.errors.append(f"issue {r.status_code} {r.text[:200]}")
            i += 1
            time.sleep(issue_every)

    def _clerk(self, counter: int, client: httpx.Client) -> None:
        i = 0
        while True:
            key = f"next-{counter}-{i}-{time.monotonic_ns()}"
            i += 1
            r = self._final(
                lambda key=key: client.post(f"/api/counters/{counter}/next", headers={"Idempotency-Key": key}),
                f"next {counter} {key}",
            )
            with self.lock:
                self.presses += 1
            if r is None:
                continue
            if r.status_code == 200:
                ticket = r.json().get("ticket")
                if ticket:
                    with self.lock:
                        self.calls.append((counter, ticket["id"]))
                continue
            if r.status_code == 409:  # queue_empty
                if self.stop_calling.is_set():
                    return
                time.sleep(0.05)
                continue
            with self.lock:
                self.errors.append(f"next {counter}: {r.status_code} {r.text[:200]}")
            time.sleep(0.05)

    def start(self, issue_every: float = 0.03, counters: tuple[int, ...] = tuple(CLERKS)) -> Rush:
        clients = {}
        for counter in counters:
            clients[counter] = self.srv.login(CLERKS[counter])
        self.threads = [threading.Thread(target=self._kiosk, args=(issue_every,), daemon=True)]
        self.threads += [threading.Thread(target=self._clerk, args=(n, c), daemon=True) for n, c in clients.items()]
        for t in self.threads:
            t.start()
        return self

    def wait_issued(self, n: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while len(self.issued) < n:
            assert time.monotonic() < deadline, f"only {len(self.issued)} tickets issued: {self.errors[:3]}"
            time.sleep(0.02)

    def finish(self, timeout: float = 90) -> None:
        """Stop the kiosk, let the clerks empty the queue, stop them."""
        self.stop_issuing.set()
        self.threads[0].join(timeout)
        self.stop_calling.set()
        for t in self.threads[1:]:
            t.join(timeout)
        assert not any(t.is_alive() for t in self.threads), "a press never got its final answer"


def check_rush(rush: Rush, redis_url: str, first_number: int = 1) -> dict[str, int]:
    """What the rush lost and did twice, from Redis's own records:
    lost: acknowledged tickets missing or never called, numbers skipped;
    twice: a citizen called by two presses, a number issued twice, a call
    out of the order of issue (a skipped citizen called late)."""
    srv = rush.srv
    r = Redis.from_url(redis_url, decode_responses=True)
    try:
        import json

        stored = {tid: json.loads(raw) for tid, raw in r.hgetall(srv.keys.tickets).items()}
        events = r.xrange(srv.keys.events)
    finally:
        r.close()
    mine = {tid: t for tid, t in stored.items() if t["category"] == CATEGORY}
    lost = sum(1 for tid in rush.issued if tid not in stored)
    # every ticket issued (acknowledged or not: the last press of an outage)
    # was called and served; none still waits
    never_called = [t["number"] for t in mine.values() if t["status"] == "waiting"]
    lost += len(never_called)
    numbers = sorted(int(t["number"][1:]) for t in mine.values())
    expected = list(range(first_number, first_number + len(numbers)))
    skipped_numbers = len(set(expected) - set(numbers))
    lost += skipped_numbers
    twice_numbers = len(numbers) - len(set(numbers))
    per_ticket = Counter(tid for _, tid in rush.calls)
    twice = sum(n - 1 for n in per_ticket.values() if n > 1) + twice_numbers
    call_events = [e for _, e in events if e.get("type") == "call" and e.get("category") == CATEGORY]
    per_event = Counter(e["ticket"] for e in call_events)
    twice += sum(n - 1 for n in per_event.values() if n > 1)
    # first come, first served: the calls, in stream order, go up in number
    called_numbers = [int(e["number"][1:]) for e in call_events]
    out_of_order = sum(1 for a, b in zip(called_numbers, called_numbers[1:], strict=False) if b < a)
    # an acknowledged call that Redis does not have
    acked_missing = sum(1 for tid in per_ticket if tid not in per_event)
    lost += acked_missing
    return {
        "lost": lost,
        "twice": twice,
        "out_of_order": out_of_order,
        "issued": len(mine),
        "calls": len(call_events),
        "errors": len(rush.errors),
    }
