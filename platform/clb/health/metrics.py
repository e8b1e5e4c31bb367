"""Prometheus metrics an operator on call needs, one registry per app (and its services).

Counters and histograms are updated where things happen; gauges that need a query (the
outbox backlog, the worker's heartbeat) are refreshed when ``/metrics`` is read, by the
refreshers the domains register. No label ever carries an id, a name or content.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

if TYPE_CHECKING:
    from clb.services import Services

Refresher = Callable[["Services"], Awaitable[None]]

# Seconds: where a chat send's ack should land (p99 target 50 ms) and where it must not.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        registry = self.registry = CollectorRegistry()
        self.requests = Counter(
            "clb_http_requests_total",
            "HTTP requests by route and status",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "clb_http_request_seconds",
            "HTTP request duration by route",
            ["method", "route"],
            registry=registry,
        )
        self._chat_metrics(registry)
        self._operations_metrics(registry)
        self.refreshers: list[Refresher] = []

    def _chat_metrics(self, registry: CollectorRegistry) -> None:
        self.sockets = Gauge(
            "clb_sockets_open", "Open WebSockets by kind", ["kind"], registry=registry
        )
        self.bus_subscriptions = Gauge(
            "clb_bus_subscriptions",
            "Redis pub/sub channels this process follows",
            registry=registry,
        )
        self.messages = Counter(
            "clb_chat_messages_total",
            "Chat messages stored, by sender",
            ["sender"],
            registry=registry,
        )
        self.send_ack = Histogram(
            "clb_chat_send_ack_seconds",
            "From a chat send frame read to its ack queued",
            buckets=ACK_BUCKETS,
            registry=registry,
        )
        self.queue = Gauge(
            "clb_chat_queue_waiting",
            "Waiting chats by whether their visitor is there (present) or away",
            ["state"],
            registry=registry,
        )
        self.counsellors_available = Gauge(
            "clb_chat_counsellors_available",
            "Counsellors on duty with a live console (who can take a waiting chat)",
            registry=registry,
        )

    def _operations_metrics(self, registry: CollectorRegistry) -> None:
        self.outbox_backlog = Gauge(
            "clb_outbox_backlog", "Outbox jobs due and not yet done", registry=registry
        )
        self.outbox_oldest = Gauge(
            "clb_outbox_oldest_due_seconds",
            "Age of the oldest due outbox job (0 when none)",
            registry=registry,
        )
        self.jobs_failed = Gauge(
            "clb_jobs_failed", "Outbox jobs that gave up (failed_at set)", registry=registry
        )
        self.worker_heartbeat = Gauge(
            "clb_worker_heartbeat_age_seconds",
            "Seconds since a worker last said it is alive (-1: never)",
            registry=registry,
        )
        self.loops_failing = Gauge(
            "clb_background_loop_failing",
            "1 while a long-lived background loop is failing and retrying",
            ["loop"],
            registry=registry,
        )

    async def refresh(self, services: Services) -> None:
        """Run the registered refreshers (each on its own; one failing leaves the others)."""
        for refresher in self.refreshers:
            try:
                await refresher(services)
            except Exception:  # noqa: BLE001, S112 - a metric that cannot be read stays stale
                continue
