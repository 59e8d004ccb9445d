"""Tickets and their queues: typed wrappers over the queue's Lua scripts,
plus the reads they need.

`TicketStore` builds each script's KEYS and ARGV from the live configuration
and turns replies into `Ticket`s; script error codes surface as `AppError`.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from queue_server.domain.config import Counter, SiteConfig
from queue_server.domain.eta import (
    PRIOR_WEIGHT,
    SAMPLE_HI,
    SAMPLE_LO,
    WINDOW,
    estimate_wait_minutes,
    shared_wait_minutes,
    wait_range_minutes,
)
from queue_server.domain.model import CounterStatus, Source, Ticket, TicketStatus
from queue_server.domain.numbering import normalize_number, service_day
from queue_server.domain.room import RATE_WINDOW_MIN
from queue_server.domain.selection import DIRECT_QUEUE_INDEX
from queue_server.errors import AppError
from queue_server.store.clock import steady_ms
from queue_server.store.config_store import ConfigStore
from queue_server.store.connection import text, text_map
from queue_server.store.keys import Keys, counter_queue, normal_queue, priority_queue
from queue_server.store.ratelimit import Budget, refusal
from queue_server.store.scripts import Scripts

IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000
SEQUENCE_TTL_MS = 3 * 24 * 3600 * 1000
COUNTER_STATS_TTL_MS = 3 * 24 * 3600 * 1000


# the service-time rule of domain/eta.py, handed to the scripts with every call
ETA_ARGS = {"window": WINDOW, "prior": PRIOR_WEIGHT, "lo": SAMPLE_LO, "hi": SAMPLE_HI}
DEFAULT_SERVICE_MS = 600_000


def now_ms() -> int:
    return steady_ms()  # never steps back (store/clock.py)


@dataclass
class CallResult:
    ticket: Ticket
    finished: str | None = None
    debounced: bool = False
    replayed: bool = False


@dataclass
class Position:
    ahead: int
    eta_minutes: int
    # (low, high) minutes while the category's service time rests on few samples
    eta_range: tuple[int, int] | None = None

    @classmethod
    def of(cls, ahead: int, eta_minutes: int, samples: int) -> Position:
        return cls(ahead, eta_minutes, wait_range_minutes(eta_minutes, samples))


@dataclass(frozen=True)
class ServiceTime:
    """A category's estimated service time and how many recent services it rests on."""

    ms: float
    samples: int


def _idem_scope(action: str, counter: int | str, key: str) -> str:
    return f"{action}.{counter}.{hashlib.sha256(key.encode()).hexdigest()[:40]}"


def queue_plan(cfg: SiteConfig, counter: int) -> list[dict[str, Any]]:
    """The queues a counter serves, in the order call_next.lua reads them."""
    ct = cfg.counter(counter)
    plan: list[dict[str, Any]] = [
        {"name": counter_queue(counter), "category": "", "profile_index": DIRECT_QUEUE_INDEX, "priority": False}
    ]
    for i, code in enumerate(ct.categories if ct else ()):
        plan.append({"name": priority_queue(code), "category": code, "profile_index": i, "priority": True})
        plan.append({"name": normal_queue(code), "category": code, "profile_index": i, "priority": False})
    return plan


def category_args(cfg: SiteConfig) -> dict[str, dict[str, int]]:
    return {c.code: {"target_ms": c.target_wait_ms, "service_ms": c.service_ms} for c in cfg.categories}


def parse_service_times(cfg: SiteConfig, raw: Mapping[Any, Any]) -> dict[str, ServiceTime]:
    """The averages hash (CAT: estimate, CAT:recent: its samples) read as
    each category's ServiceTime; the configured time where none is kept."""
    kept = text_map(raw)
    out = {}
    for c in cfg.categories:
        recent = json.loads(kept.get(f"{c.code}:recent") or "[]")
        ms = float(kept[c.code]) if c.code in kept else float(c.service_ms)
        out[c.code] = ServiceTime(ms, len(recent) if isinstance(recent, list) else 0)
    return out


def parse_counter_states(cfg: SiteConfig, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each configured counter's hash (in `cfg.counters` order) as its state."""
    out = []
    for c, h in zip(cfg.counters, rows, strict=False):
        status = CounterStatus.CLOSED if not c.enabled else CounterStatus(h.get("status") or "open")
        out.append(
            {
                "counter": c.number,
                "name": c.label,
                "status": str(status),
                "categories": list(c.categories),
                "ticket": h.get("ticket") or None,
                "number": h.get("number") or None,
                "category": h.get("category") or None,
                "called_at": int(h["called_at"]) if h.get("called_at") and h.get("ticket") else None,
                "clerk": h.get("clerk") or None,
                # when the counter last changed between open and paused (counter_status.lua)
                "since": int(h["since"]) if h.get("since") else None,
            }
        )
    return out


def serving_map(cfg: SiteConfig, states: list[dict[str, Any]], category: str) -> dict[int, tuple[str, ...]]:
    """The counters that count for a category's ETA, with the categories each
    serves: the open ones; all enabled ones when none of them that serves the
    category is open (a paused desk comes back)."""
    open_ = {s["counter"] for s in states if s["status"] == "open"}
    enabled = {c.number: tuple(c.categories) for c in cfg.counters if c.enabled}
    serves = {n: cats for n, cats in enabled.items() if n in open_}
    if not any(category in cats for cats in serves.values()):
        return enabled
    return serves


class TicketStore:
    def __init__(
        self, redis: Redis, keys: Keys, scripts: Scripts, config: ConfigStore, clock: Callable[[], int] = now_ms
    ):
        self.redis = redis
        self.keys = keys
        self.scripts = scripts
        self.config = config
        self.clock = clock

    # -- helpers -----------------------------------------------------------
    def _base(
        self, cfg: SiteConfig, *, counter: int | None = None, clerk: str = "", idem: str | None = None
    ) -> dict[str, Any]:
        return {
            "now": self.clock(),
            "channel": self.keys.channel,
            "counter": counter,
            "clerk": clerk,
            "use_idem": bool(idem),
            "idem_ttl": IDEMPOTENCY_TTL_MS,
            "categories": category_args(cfg),
            "eta": ETA_ARGS,
        }

    def _stats_key(self, cfg: SiteConfig, counter: int, now: int) -> str:
        """The counter's statistics hash of the service day `now` falls in."""
        return self.keys.counter_stats(service_day(now, cfg.site.tz), counter)

    def _call_keys(self, cfg: SiteConfig, counter: int, action: str, idem: str | None, now: int) -> list[str]:
        """KEYS[1..8] of call_next.lua and call_ticket.lua (their queues follow, then the room's away set)."""
        k = self.keys
        return [
            k.counter(counter),
            k.tickets,
            k.events,
            k.event_seq,
            k.recent,
            k.averages,
            self._idem_key(action, counter, idem),
            self._stats_key(cfg, counter, now),
        ]

    def _idem_key(self, action: str, counter: int | str, idem: str | None) -> str:
        return self.keys.idempotency(_idem_scope(action, counter, idem or "-"))

    async def _counter_cfg(self, counter: int) -> tuple[SiteConfig, Counter]:
        cfg = await self.config.get()
        ct = cfg.counter(counter)
        if ct is None:
            raise AppError("counter_not_found", counter=counter)
        if not ct.enabled:
            raise AppError("counter_closed", counter=counter)
        return cfg, ct

    async def get_ticket(self, ticket_id: str) -> Ticket:
        raw = await self.redis.hget(self.keys.tickets, ticket_id) if ticket_id else None
        if raw is None:
            raise AppError("ticket_not_found")
        return Ticket.from_dict(json.loads(raw))

    async def find_ticket(self, number: str, day: str | None = None) -> Ticket:
        cfg = await self.config.get()
        norm = normalize_number(number)
        if norm is None:
            raise AppError("ticket_not_found")
        day = day or service_day(self.clock(), cfg.site.tz)
        ticket_id = await self.redis.hget(self.keys.numbers(day), norm)
        if ticket_id is None:
            raise AppError("ticket_not_found")
        return await self.get_ticket(text(ticket_id))

    # -- issuing -------------------------------------------------------------
    async def issue(
        self,
        category: str,
        *,
        priority: bool = False,
        source: Source = Source.WALK_IN,
        idem: str | None = None,
        rank_ms: int | None = None,
        extra: dict[str, Any] | None = None,
        device: str = "",
        clerk: str = "",
        cfg: SiteConfig | None = None,
    ) -> tuple[Ticket, int]:
        """Issue a ticket. `device`: the kiosk's device id, `clerk`: the staff
        user who issued it; each goes to its own field of the issue event.
        `cfg`: the site configuration, when the caller has just read it."""
        cfg = cfg or await self.config.get()
        keys, args = self._issue_call(cfg, category, priority, source, idem, rank_ms, extra, device, clerk)
        reply = await self.scripts.run("issue_ticket", keys, args)
        return await self._replied_ticket(reply), int(reply.get("ahead", 0))

    def _issue_call(
        self,
        cfg: SiteConfig,
        category: str,
        priority: bool,
        source: Source,
        idem: str | None,
        rank_ms: int | None,
        extra: dict[str, Any] | None,
        device: str,
        clerk: str,
    ) -> tuple[list[str], dict[str, Any]]:
        """The KEYS and ARGV of issue_ticket.lua; refuses an unknown or
        disabled category and a priority ticket where there are none."""
        cat = cfg.category(category)
        if cat is None:
            raise AppError("unknown_category", category=category)
        if not cat.enabled:
            raise AppError("category_disabled", category=cat.name)
        if priority and not cfg.queue.priority_enabled:
            raise AppError("priority_disabled")
        base = self._base(cfg, clerk=clerk, idem=idem)
        now = base["now"]  # one clock reading: a walk-in's rank is the script's now
        day = service_day(now, cfg.site.tz)
        qname = priority_queue(category) if priority else normal_queue(category)
        args = base | {
            "device": device,
            "id": secrets.token_urlsafe(12),
            "category": category,
            "prefix": cat.prefix,
            "priority": bool(priority),
            "source": str(source),
            "day": day,
            "rank": rank_ms if rank_ms is not None else now,
            "queue": qname,
            "seq_ttl": SEQUENCE_TTL_MS,
            "extra": extra or {},
            "arrivals_ms": RATE_WINDOW_MIN * 60_000,
        }
        k = self.keys
        return (
            [
                k.tickets,
                k.sequence(day, category),
                k.numbers(day),
                k.queue(qname),
                k.events,
                k.event_seq,
                self._idem_key("issue", device or clerk or "-", idem),
                k.queue(priority_queue(category)),
                k.queue(normal_queue(category)),
                k.room_arrivals,
                k.rate("none"),  # the rate-limit bucket, when issue_walk_in is given one
            ],
            args,
        )

    async def issue_walk_in(
        self,
        category: str,
        *,
        priority: bool,
        idem: str | None,
        device: str,
        clerk: str,
        cfg: SiteConfig,
        budget: Budget | None = None,
    ) -> tuple[Ticket, Position]:
        """Issue a walk-in ticket and read its position in the same round
        trip: the reads of the counter mix are pipelined behind the issue
        script (the ticket's rank is its issue time, known before the script
        runs). A replayed Idempotency-Key returns the first ticket, whose
        position is then read on its own. `budget`: the kiosk's rate limit,
        counted by the script before anything else (rate_limited over it)."""
        keys, args = self._issue_call(cfg, category, priority, Source.WALK_IN, idem, None, None, device, clerk)
        if budget is not None:
            keys[10] = budget.key
            args |= {"rate_limit": budget.limit, "rate_window_ms": budget.window_ms}
        now = args["rank"]

        def position_reads(pipe: Any) -> None:
            pipe.hgetall(self.keys.averages)
            self._mix_reads(pipe, cfg, category, priority, f"({now}", True)

        # an Idempotency-Key: the script replays its stored reply, safe to send again
        rows = await self.scripts.pipelined("issue_ticket", keys, args, position_reads, repeat=bool(idem))
        reply = json.loads(rows[0])
        if reply.get("err") == "rate_limited" and budget is not None:
            raise refusal(int(reply.get("ttl") or 0))
        if "err" in reply:
            raise AppError(reply["err"])
        ticket, ahead = await self._replied_ticket(reply), int(reply.get("ahead", 0))
        if ticket.id != args["id"] or ticket.status != TicketStatus.WAITING:  # a replay: the first ticket
            return ticket, await self.position(ticket, ahead, cfg)
        # (a ticket issued in the same millisecond as another ranks 1 ms later,
        # see issue_into: the other categories are counted before `now`)
        return ticket, self._mix_position(cfg, category, priority, ahead, rows[1:])

    # -- clerk actions -----------------------------------------------------
    async def call_next(self, counter: int, clerk: str = "", idem: str | None = None) -> CallResult:
        cfg, _ = await self._counter_cfg(counter)
        plan = queue_plan(cfg, counter)
        k = self.keys
        args = self._base(cfg, counter=counter, clerk=clerk, idem=idem) | {
            "debounce_ms": cfg.queue.next_debounce_ms,
            "factor": cfg.queue.starvation_factor,
            "queues": [{kk: q[kk] for kk in ("category", "profile_index", "priority")} for q in plan],
            "stats_ttl": COUNTER_STATS_TTL_MS,
        }
        reply = await self.scripts.run(
            "call_next",
            self._call_keys(cfg, counter, "next", idem, args["now"])
            + [k.queue(q["name"]) for q in plan]
            + [k.room_away],
            args,
            counter=counter,
        )
        return await self._call_result(reply)

    async def _replied_ticket(self, reply: dict[str, Any]) -> Ticket:
        """The ticket a script replied with (`stored`: its record as the
        script left it, see answer() in _lib.lua), read only if absent."""
        stored = reply.get("stored")
        return Ticket.from_dict(json.loads(stored)) if stored else await self.get_ticket(reply["ticket"])

    async def _call_result(self, reply: dict[str, Any]) -> CallResult:
        return CallResult(
            ticket=await self._replied_ticket(reply),
            finished=reply.get("finished"),
            debounced=bool(reply.get("debounced")),
            replayed=bool(reply.get("replayed")),
        )

    async def call_ticket(self, counter: int, ticket_id: str, clerk: str = "", idem: str | None = None) -> CallResult:
        cfg, _ = await self._counter_cfg(counter)
        k = self.keys
        names = k.all_queue_names([c.code for c in cfg.categories], [c.number for c in cfg.counters])
        args = self._base(cfg, counter=counter, clerk=clerk, idem=idem) | {
            "id": ticket_id,
            "queue_names": names,
            "stats_ttl": COUNTER_STATS_TTL_MS,
        }
        reply = await self.scripts.run(
            "call_ticket",
            self._call_keys(cfg, counter, "call", idem, args["now"]) + [k.queue(n) for n in names] + [k.room_away],
            args,
            counter=counter,
        )
        return await self._call_result(reply)

    async def recall(self, counter: int, clerk: str = "", idem: str | None = None) -> Ticket:
        return (await self.recall_result(counter, clerk, idem)).ticket

    async def recall_result(self, counter: int, clerk: str = "", idem: str | None = None) -> CallResult:
        """recall(), telling whether the reply is a replay of an earlier press."""
        cfg, _ = await self._counter_cfg(counter)
        k = self.keys
        reply = await self.scripts.run(
            "recall",
            [k.counter(counter), k.tickets, k.events, k.event_seq, k.recent, self._idem_key("recall", counter, idem)],
            self._base(cfg, counter=counter, clerk=clerk, idem=idem),
            counter=counter,
        )
        return await self._call_result(reply)

    async def finish(self, counter: int, outcome: TicketStatus, clerk: str = "", idem: str | None = None) -> Ticket:
        return (await self.finish_result(counter, outcome, clerk, idem)).ticket

    async def finish_result(
        self, counter: int, outcome: TicketStatus, clerk: str = "", idem: str | None = None
    ) -> CallResult:
        """finish(), telling whether the reply is a replay of an earlier press."""
        if outcome not in (TicketStatus.DONE, TicketStatus.NO_SHOW):
            raise ValueError(outcome)
        cfg, _ = await self._counter_cfg(counter)
        k = self.keys
        codes = [c.code for c in cfg.categories]
        args = self._base(cfg, counter=counter, clerk=clerk, idem=idem) | {
            "outcome": str(outcome),
            "stats_ttl": COUNTER_STATS_TTL_MS,
            "noshow_categories": codes,
        }
        day = service_day(args["now"], cfg.site.tz)
        reply = await self.scripts.run(
            "finish",
            [
                k.counter(counter),
                k.tickets,
                k.events,
                k.event_seq,
                k.averages,
                self._idem_key(str(outcome), counter, idem),
                self._stats_key(cfg, counter, args["now"]),
            ]
            + [k.no_shows(day, code) for code in codes],
            args,
            counter=counter,
        )
        return await self._call_result(reply)

    async def transfer(
        self,
        counter: int,
        *,
        to_category: str | None = None,
        to_counter: int | None = None,
        clerk: str = "",
        idem: str | None = None,
    ) -> Ticket:
        return (
            await self.transfer_result(counter, to_category=to_category, to_counter=to_counter, clerk=clerk, idem=idem)
        ).ticket

    async def transfer_result(
        self,
        counter: int,
        *,
        to_category: str | None = None,
        to_counter: int | None = None,
        clerk: str = "",
        idem: str | None = None,
    ) -> CallResult:
        """transfer(), telling whether the reply is a replay of an earlier press."""
        cfg, _ = await self._counter_cfg(counter)
        if (to_category is None) == (to_counter is None):
            raise AppError("transfer_target")
        if to_category is not None:
            cat = cfg.category(to_category)
            if cat is None:
                raise AppError("unknown_category", category=to_category)
            current = await self.current_ticket_id(counter)
            qname = normal_queue(to_category)
            if current:
                t = await self.get_ticket(current)
                if t.priority:
                    qname = priority_queue(to_category)
        elif to_counter is not None:
            target = cfg.counter(to_counter)
            if target is None:
                raise AppError("counter_not_found", counter=to_counter)
            if not target.enabled:
                raise AppError("counter_closed", counter=to_counter)
            qname = counter_queue(to_counter)
        k = self.keys
        reply = await self.scripts.run(
            "transfer",
            [
                k.counter(counter),
                k.tickets,
                k.events,
                k.event_seq,
                self._idem_key("transfer", counter, idem),
                k.queue(qname),
            ],
            self._base(cfg, counter=counter, clerk=clerk, idem=idem)
            | {"queue": qname, "to_category": to_category, "to_counter": to_counter},
            counter=counter,
        )
        return await self._call_result(reply)

    async def requeue(self, ticket_id: str, clerk: str = "", idem: str | None = None) -> Ticket:
        return (await self.requeue_result(ticket_id, clerk, idem)).ticket

    async def requeue_result(self, ticket_id: str, clerk: str = "", idem: str | None = None) -> CallResult:
        """A no-show back in its queue; a repeated Idempotency-Key replays the
        first reply (replayed=True) instead of refusing the ticket as waiting."""
        cfg = await self.config.get()
        t = await self.get_ticket(ticket_id)
        qname = priority_queue(t.category) if t.priority else normal_queue(t.category)
        k = self.keys
        reply = await self.scripts.run(
            "requeue",
            [
                k.tickets,
                k.events,
                k.event_seq,
                k.queue(qname),
                self._idem_key("requeue", ticket_id, idem),
                k.no_shows(service_day(t.finished_at or self.clock(), cfg.site.tz), t.category),
            ],
            self._base(cfg, clerk=clerk, idem=idem) | {"id": ticket_id, "queue": qname},
        )
        return await self._call_result(reply)

    async def set_counter_status(self, counter: int, status: CounterStatus, clerk: str = "") -> bool:
        cfg, _ = await self._counter_cfg(counter)
        k = self.keys
        reply = await self.scripts.run(
            "counter_status",
            [k.counter(counter), k.events, k.event_seq],
            self._base(cfg, counter=counter, clerk=clerk) | {"status": str(status)},
        )
        return bool(reply["changed"])

    async def rate(self, ticket_id: str, level: int, via: str = "") -> Ticket:
        cfg = await self.config.get()
        scale = cfg.queue.rating_scale
        if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= scale:
            raise AppError("invalid_rating", scale=scale)
        k = self.keys
        await self.scripts.run(
            "rate_ticket",
            [k.tickets, k.events, k.event_seq],
            self._base(cfg) | {"id": ticket_id, "level": level, "scale": scale, "via": via},
        )
        return await self.get_ticket(ticket_id)

    async def close_day(self, actor: str = "system") -> int:
        cfg = await self.config.get()
        k = self.keys
        names = k.all_queue_names([c.code for c in cfg.categories], [c.number for c in cfg.counters])
        reply = await self.scripts.run(
            "close_day",
            [k.tickets, k.events, k.event_seq]
            + [k.queue(n) for n in names]
            + [k.counter(c.number) for c in cfg.counters],
            self._base(cfg, clerk=actor) | {"n_queues": len(names)},
        )
        return int(reply["expired"])

    async def purge_tickets(self, keep_days: int, batch: int = 500) -> int:
        """Drop finished tickets older than `keep_days` from the live hash; the
        event log keeps their history for reports."""
        cfg = await self.config.get()
        before = service_day(self.clock() - keep_days * 86_400_000, cfg.site.tz)
        purged = 0
        ids: list[str] = []
        async for tid, raw in self.redis.hscan_iter(self.keys.tickets, count=batch):
            if json.loads(raw).get("day", "") < before:
                ids.append(tid)
            if len(ids) >= batch:
                purged += await self._purge(ids, before)
                ids = []
        if ids:
            purged += await self._purge(ids, before)
        return purged

    async def _purge(self, ids: list[str], before: str) -> int:
        reply = await self.scripts.run("purge_tickets", [self.keys.tickets], {"ids": ids, "before_day": before})
        return int(reply["purged"])

    # -- reads -----------------------------------------------------------------
    async def service_times(self, cfg: SiteConfig) -> dict[str, ServiceTime]:
        """Each category's estimated service time (domain/eta.py), as the
        scripts keep it: CAT the estimate, CAT:recent its samples."""
        return parse_service_times(cfg, await self.redis.hgetall(self.keys.averages))

    async def counter_states(self, cfg: SiteConfig) -> list[dict[str, Any]]:
        pipe = self.redis.pipeline(transaction=False)
        for c in cfg.counters:
            pipe.hgetall(self.keys.counter(c.number))
        return parse_counter_states(cfg, await pipe.execute())

    async def position(self, ticket: Ticket, ahead: int | None = None, cfg: SiteConfig | None = None) -> Position:
        """People ahead of a waiting ticket in its queue, and the estimated
        wait. `ahead`, when the caller already has it (the issue script
        counts it atomically with the issue), is not read again; nor is
        `cfg`, when the caller has it. One round trip to Redis."""
        if ticket.status != TicketStatus.WAITING:
            return Position(0, 0)
        cfg = cfg or await self.config.get()
        k = self.keys
        queue = str(ticket.extra.get("queue") or "")
        before = f"({ticket.rank_ms}"
        pipe = self.redis.pipeline(transaction=False)
        pipe.hgetall(k.averages)
        if queue.startswith("qc:"):
            if ahead is None:
                pipe.zcount(k.queue(queue), "-inf", before)
            rows = await pipe.execute()
            times = parse_service_times(cfg, rows[0])
            ahead = int(rows[1]) if ahead is None else ahead
            service = times.get(ticket.category, ServiceTime(DEFAULT_SERVICE_MS, 0))
            return Position.of(ahead, estimate_wait_minutes(ahead, service.ms, 1), service.samples)
        self._mix_reads(pipe, cfg, ticket.category, ticket.priority, before, ahead is not None)
        return self._mix_position(cfg, ticket.category, ticket.priority, ahead, await pipe.execute())

    def _mix_reads(
        self, pipe: Any, cfg: SiteConfig, category: str, priority: bool, before: str, have_ahead: bool
    ) -> None:
        """Queue the reads of the counter mix on `pipe` after its averages
        HGETALL: the people before a ticket (ranked `before`) in every
        category (its own only when `have_ahead` is False), and the counters."""
        k = self.keys
        for c in cfg.categories:
            mine = c.code == category
            if mine and have_ahead:
                continue
            if mine and priority:  # a priority ticket: only earlier priority ones
                pipe.zcount(k.queue(priority_queue(c.code)), "-inf", before)
            else:
                pipe.zcard(k.queue(priority_queue(c.code)))
                pipe.zcount(k.queue(normal_queue(c.code)), "-inf", before)
        for ct in cfg.counters:
            pipe.hgetall(k.counter(ct.number))

    def _mix_position(
        self, cfg: SiteConfig, category: str, priority: bool, ahead: int | None, rows: Sequence[Any]
    ) -> Position:
        """The Position from the rows of the averages HGETALL and `_mix_reads`."""
        times = parse_service_times(cfg, rows[0])
        i = 1
        counts: dict[str, int] = {}
        for c in cfg.categories:
            if c.code == category and ahead is not None:
                counts[c.code] = ahead
                continue
            if c.code == category and priority:
                counts[c.code] = int(rows[i])
                i += 1
            else:
                counts[c.code] = int(rows[i]) + int(rows[i + 1])
                i += 2
        states = parse_counter_states(cfg, rows[i:])
        mine_ahead = counts.get(category, 0) if ahead is None else ahead
        eta = shared_wait_minutes(
            category, counts, {c: t.ms for c, t in times.items()}, serving_map(cfg, states, category)
        )
        sample = times.get(category, ServiceTime(DEFAULT_SERVICE_MS, 0))
        return Position.of(mine_ahead, eta, sample.samples)

    async def waiting_counts(self, cfg: SiteConfig) -> dict[str, int]:
        pipe = self.redis.pipeline(transaction=False)
        for c in cfg.categories:
            pipe.zcard(self.keys.queue(priority_queue(c.code)))
            pipe.zcard(self.keys.queue(normal_queue(c.code)))
        rows = await pipe.execute()
        return {c.code: int(rows[2 * i]) + int(rows[2 * i + 1]) for i, c in enumerate(cfg.categories)}

    async def issued_today(self, cfg: SiteConfig) -> dict[str, int]:
        """Tickets issued today per category: the day's number sequences the
        issue script increments (one GET each, no scan)."""
        day = service_day(self.clock(), cfg.site.tz)
        pipe = self.redis.pipeline(transaction=False)
        for c in cfg.categories:
            pipe.get(self.keys.sequence(day, c.code))
        rows = await pipe.execute()
        return {c.code: int(v) if v else 0 for c, v in zip(cfg.categories, rows, strict=True)}

    async def counter_queue_counts(self, cfg: SiteConfig) -> dict[int, int]:
        pipe = self.redis.pipeline(transaction=False)
        for c in cfg.counters:
            pipe.zcard(self.keys.queue(counter_queue(c.number)))
        return {c.number: int(n) for c, n in zip(cfg.counters, await pipe.execute(), strict=False)}

    async def queue_summaries(self, names: list[str]) -> dict[str, tuple[int, int | None]]:
        """For each logical queue: how many wait in it, and when its head (the
        next to be called) joined it."""
        pipe = self.redis.pipeline(transaction=False)
        for name in names:
            pipe.zcard(self.keys.queue(name))
            pipe.zrange(self.keys.queue(name), 0, 0)
        rows = await pipe.execute()
        heads = [text(rows[2 * i + 1][0]) if rows[2 * i + 1] else None for i in range(len(names))]
        present = [h for h in heads if h]
        raws = dict(zip(present, await self.redis.hmget(self.keys.tickets, present), strict=True)) if present else {}
        out: dict[str, tuple[int, int | None]] = {}
        for i, name in enumerate(names):
            raw = raws.get(heads[i] or "")
            out[name] = (int(rows[2 * i]), Ticket.from_dict(json.loads(raw)).queued_at if raw else None)
        return out

    async def _tickets(self, ids: list[str]) -> list[Ticket]:
        raws = await self.redis.hmget(self.keys.tickets, ids) if ids else []
        return [Ticket.from_dict(json.loads(raw)) for raw in raws if raw]

    async def waiting_list(self, cfg: SiteConfig, counter: int, limit: int = 20) -> list[Ticket]:
        """The first `limit` tickets waiting in the queues a counter serves:
        those sent to it first, then priority tickets, then by rank. Reads
        at most `limit` entries of each queue (ZRANGE), never a scan."""
        plan = queue_plan(cfg, counter)
        pipe = self.redis.pipeline(transaction=False)
        for q in plan:
            pipe.zrange(self.keys.queue(q["name"]), 0, limit - 1, withscores=True)
        rows = await pipe.execute()
        entries: list[tuple[int, float, str]] = []
        for q, row in zip(plan, rows, strict=True):
            group = 0 if q["name"].startswith("qc:") else 1 if q["priority"] else 2
            entries += [(group, float(score), text(tid)) for tid, score in row]
        entries.sort()
        return await self._tickets([e[2] for e in entries[:limit]])

    async def no_shows_today(self, cfg: SiteConfig, counter: int, limit: int = 20) -> list[Ticket]:
        """Today's no-shows of the categories a counter serves, latest first
        (at most `limit` entries read from each category's no-show set)."""
        ct = cfg.counter(counter)
        codes = list(ct.categories) if ct else []
        day = service_day(self.clock(), cfg.site.tz)
        pipe = self.redis.pipeline(transaction=False)
        for code in codes:
            pipe.zrevrange(self.keys.no_shows(day, code), 0, limit - 1, withscores=True)
        rows = await pipe.execute() if codes else []
        entries = sorted(((float(score), text(tid)) for row in rows for tid, score in row), reverse=True)
        found = await self._tickets([tid for _, tid in entries[:limit]])
        return [t for t in found if t.status == TicketStatus.NO_SHOW]

    async def current_ticket_id(self, counter: int) -> str | None:
        current = await self.redis.hget(self.keys.counter(counter), "ticket")
        return text(current) if current else None

    async def recent_calls(self, limit: int = 8) -> list[dict[str, Any]]:
        return [json.loads(x) for x in await self.redis.lrange(self.keys.recent, 0, limit - 1)]

    async def counter_day_stats(self, counter: int) -> dict[str, Any]:
        """Today's served count, no-shows, calls and average service time at a
        counter (the shape counter_app.counter_stats() gives), from the one
        hash the scripts keep per counter and day."""
        cfg = await self.config.get()
        raw = await self.redis.hgetall(self._stats_key(cfg, counter, self.clock()))
        h = {kk: int(v) for kk, v in text_map(raw).items()}
        served = h.get("served", 0)
        return {
            "served": served,
            "no_shows": h.get("no_shows", 0),
            "calls": h.get("calls", 0),
            "avg_service_ms": round(h.get("service_ms_total", 0) / served) if served else None,
        }

    async def last_done(self, counter: int) -> tuple[str, int] | None:
        """The ticket last finished as served (Done, or the implicit done of
        Next) at a counter and when (ms); None if none. Calls and recalls
        since do not forget it. Whether it is recent enough to ask for a
        rating is the caller's rule."""
        ticket, at = await self.redis.hmget(self.keys.counter(counter), "last_done", "last_done_at")
        if not ticket or not at:
            return None
        return text(ticket), int(at)

    async def serving_number(self, counter: int) -> str | None:
        """The number of the ticket a counter is serving now, or None."""
        number = await self.redis.hget(self.keys.counter(counter), "number")
        if not number:
            return None
        return text(number)
