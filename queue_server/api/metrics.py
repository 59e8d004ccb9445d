"""Prometheus metrics of one API process (`GET /metrics`, behind
`MOTCUA_METRICS_TOKEN`).

Per request the cost is one histogram observation: the middleware looks up
the (method, route template, status) child once and observes its duration;
its `_count` is the request count. The route is Litestar's path template
(``/api/tickets/{ticket_id:str}``), never the raw path, so no ticket id or
token becomes a label; a path no route matches is not counted. Queue
lengths, longest waits and print jobs are read from Redis when scraped; the
Redis error and reconnect counts come from `store.connection.STATS`."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

from queue_server.errors import AppError
from queue_server.store.connection import STATS, UNAVAILABLE_ERRORS

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
FANOUT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


class _ScrapeCollector(Collector):
    """The values read at scrape time (set just before `render`)."""

    def __init__(self) -> None:
        self.queues: dict[str, dict[str, Any]] = {}
        self.print_jobs: dict[str, int] = {}

    def collect(self) -> Iterable[Metric]:
        length = GaugeMetricFamily("motcua_queue_length", "Tickets waiting, by category", labels=["category"])
        wait = GaugeMetricFamily(
            "motcua_queue_longest_wait_seconds",
            "How long the ticket at the head of the category's queues has waited",
            labels=["category"],
        )
        for code, q in sorted(self.queues.items()):
            length.add_metric([code], q["length"])
            wait.add_metric([code], q["longest_wait_s"])
        jobs = GaugeMetricFamily("motcua_print_jobs", "Print jobs by state", labels=["state"])
        for state, n in sorted(self.print_jobs.items()):
            jobs.add_metric([state], n)
        errors = CounterMetricFamily(
            "motcua_redis_errors", "Connection and timeout errors met talking to Redis (this process)"
        )
        errors.add_metric([], STATS.errors)
        reconnects = CounterMetricFamily(
            "motcua_redis_reconnects", "Commands that went through after a failure, subscriptions made again"
        )
        reconnects.add_metric([], STATS.reconnects)
        unreplicated = CounterMetricFamily(
            "motcua_redis_unreplicated",
            "Redis Cluster: writes acknowledged before a replica held them (their master had no live replica)",
        )
        unreplicated.add_metric([], STATS.unreplicated)
        return [length, wait, jobs, errors, reconnects, unreplicated]


class Metrics:
    """The registry of one app (never the process-wide default one)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.requests = Histogram(
            "motcua_http_request_duration_seconds",
            "HTTP requests by route template: latency (its _count is the request count)",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.fanout = Histogram(
            "motcua_board_fanout_seconds",
            "Time to hand one board message to every connected display",
            buckets=FANOUT_BUCKETS,
            registry=self.registry,
        )
        self.scraped = _ScrapeCollector()
        self.registry.register(self.scraped)
        self._children: dict[tuple[str, str, int], Any] = {}

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self.requests.labels(method, route, str(status))
        child.observe(seconds)

    def render(self, queues: dict[str, dict[str, Any]], print_jobs: dict[str, int]) -> bytes:
        self.scraped.queues, self.scraped.print_jobs = queues, print_jobs
        return generate_latest(self.registry)


def metrics_middleware(app: ASGIApp) -> ASGIApp:
    """Litestar middleware (after routing: the scope has the path template)."""

    async def timed(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        metrics: Metrics | None = getattr(scope["app"].state, "metrics", None)
        if metrics is None:
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await app(scope, receive, send_status)
        except Exception as e:  # a middleware's refusal, answered by the exception handler outside
            if isinstance(e, AppError):
                status = e.status
            elif isinstance(e, UNAVAILABLE_ERRORS):
                status = 503
            else:
                status = getattr(e, "status_code", 500)
            raise
        finally:
            route = scope.get("path_template") or "unmatched"
            metrics.observe_request(str(scope.get("method", "")), route, status, time.perf_counter() - started)

    return timed
