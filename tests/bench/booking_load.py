"""Load benchmark for the booking endpoint (POST /api/appointments) against real servers.

Run ``python -m tests.bench.booking_load --help``; tests/bench/README.md explains the output.
Not a test: pytest does not collect it (no ``test_`` file or function names).

It makes its own scratch database (migrated with the real migrations) and Redis namespace,
seeds centres with bookable counsellors, starts ``clb serve`` processes on 127.0.0.1 and:

* ``load``: books distinct slots (counsellors x days x hours, shuffled, so most succeed; a
  share re-requests a slot booked a second or more earlier and gets 409) at steady target
  rates, one step per rate, open loop: request *i* is due at t0 + i/rate whatever the
  earlier ones do, and its latency is measured both from that due time and from when it was
  actually sent. Each server is primed with a hundred bookings first;
* ``storm``: N requests for ONE slot at once (connections opened beforehand): how long until
  all are answered, and that exactly one got 201;
* ``breakdown``: sequential bookings in THIS process through the app (no network), with
  timers around each step of the request and counts of SQL statements and Redis commands,
  plus the bare round-trip times of PostgreSQL and Redis, to see where a booking's time goes.

The load generator is this single asyncio process on the same machine: it shares the CPU
with the servers, PostgreSQL and Redis, and its own CPU use is reported next to theirs. It
sends with httpx (default) or, with ``--client raw``, with a minimal HTTP/1.1 client that
costs a fraction of httpx's CPU. Before each measured part it waits for the machine to be
nearly idle (``--wait-quiet``): other jobs on a shared machine spoil the figures.
No worker runs: the outbox rows and ARQ jobs each booking makes are written, not sent.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import importlib.util
import math
import os
import pstats
import random
import re
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

import httpx
import orjson
from redis.asyncio import Redis
from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from clb.auth.models import StaffAccount
from clb.config import Settings
from clb.db import create_engine, create_sessionmaker, utcnow
from clb.org.models import Centre, Location, School, SchoolLevel
from scheduling.availability.models import AvailabilityRule, BookingPolicy, ClosedPeriod
from scheduling.availability.slots import is_working_day, local_day, local_instant
from tests.bench.harness.cpu import CpuWindow, wait_quiet
from tests.bench.harness.load import LoopLag, sleep_until
from tests.bench.harness.program import (
    Results,
    bench_parser,
    positive_int,
    run_info,
    run_main,
    run_scratch,
)
from tests.bench.harness.report import cpu_rows, fmt, log, print_rows, target_row
from tests.bench.harness.servers import Server
from tests.bench.harness.services import Resources
from tests.bench.harness.stats import summarize_ms
from tests.conftest import ROOT, TEST_PASSWORD_HASH

TARGET_RATE = 500  # requests/s (issue 5)
TARGET_P99_MS = 100.0
DEFAULT_OUT = Path("/tmp/booking_bench.json")  # noqa: S108 - the documented default
ALL_MODES = ["office", "school", "phone", "video", "chat"]
HOURS = range(9, 17)  # gesprek: 45 min + 15 min buffer, so one per hour 09:00 … 16:00
WHERE = (
    "load generator: this one asyncio process ({client} client) on the same machine, talking to "
    "127.0.0.1; it shares the {cpus} CPU cores with the servers, PostgreSQL and Redis"
)


def build_parser() -> argparse.ArgumentParser:
    parser = bench_parser(
        "booking_load",
        "Booking benchmark",
        ["load", "storm", "breakdown"],
        servers=(1, "clb serve processes (same DB)"),
        out=DEFAULT_OUT,
        timeout=(900, "hard limit, seconds"),
    )
    parser.add_argument("--seed", type=int, default=5, help="random seed for the plan")
    parser.add_argument(
        "--no-uvloop", action="store_true", help="plain asyncio loop for the client"
    )
    parser.add_argument(
        "--client",
        choices=["httpx", "raw"],
        default="httpx",
        help="httpx.AsyncClient, or a minimal HTTP/1.1 client on asyncio streams (less CPU)",
    )
    parser.add_argument(
        "--cprofile",
        action="store_true",
        help="run server 0 under cProfile and print where its CPU time went (slows it down)",
    )
    add_load_options(parser.add_argument_group("load scenario"))
    storm = parser.add_argument_group("storm scenario")
    storm.add_argument("--storm", type=positive_int, default=200, help="requests for one slot")
    breakdown = parser.add_argument_group("breakdown scenario")
    breakdown.add_argument(
        "--breakdown-requests",
        type=positive_int,
        default=300,
        help="sequential bookings (and as many conflicts) timed step by step in-process",
    )
    return parser


def add_load_options(load: argparse._ArgumentGroup) -> None:
    load.add_argument(
        "--rates",
        default="25,50,75,100,150,200,300,500",
        help="requests/s, open loop, one step each (comma-separated, rising); stepping stops "
        "after the first step the servers could not keep up with",
    )
    load.add_argument("--duration", type=float, default=15, help="measured seconds per step")
    load.add_argument(
        "--drain-limit",
        type=float,
        default=30,
        help="after a step, wait at most this long for answers; the rest count as unanswered",
    )
    load.add_argument(
        "--warmup", type=float, default=3, help="unmeasured seconds at the rate before each step"
    )
    load.add_argument(
        "--counsellors", type=positive_int, default=60, help="bookable counsellors in all"
    )
    load.add_argument("--per-centre", type=positive_int, default=10, help="counsellors per centre")
    load.add_argument(
        "--conflict-share",
        type=float,
        default=0.05,
        help="share of requests for a slot already requested >= 1 s earlier (409 expected)",
    )
    load.add_argument(
        "--connections", type=positive_int, default=256, help="client connections in all"
    )
    load.add_argument(
        "--clients", type=positive_int, default=8, help="clients sharing the connections"
    )
    load.add_argument(
        "--wait-quiet",
        type=float,
        default=300,
        help="before measuring, wait up to this long for the machine to be nearly idle",
    )


# ------------------------------------------------------------------ data


@dataclass(frozen=True)
class Counsellor:
    id: uuid.UUID
    school_id: uuid.UUID


@dataclass(frozen=True)
class Target:
    counsellor: Counsellor
    starts_at: datetime

    def body(self, n: int) -> dict[str, Any]:
        return {
            "school_id": str(self.counsellor.school_id),
            "type": "gesprek",
            "mode": "office",
            "counsellor_id": str(self.counsellor.id),
            "starts_at": self.starts_at.isoformat(),
            "contact": {
                "first_name": "Bench",
                "email": f"ouder{n}@example.be",
                "language": "nl",
                "topic": "Hoe gaat het op school?",
            },
        }


async def seed(
    database_url: str, groups: dict[str, int], per_centre: int
) -> dict[str, list[Counsellor]]:
    """Per group, centres (each with a location and a school) and counsellors with weekly
    hours Monday-Friday 9-17 in every mode, no minimum notice, a year's horizon, 40 a day.
    Groups share no centre, so one scenario's bookings never touch another's slots."""
    made: dict[str, list[Counsellor]] = {}
    for group, count in groups.items():
        made[group] = await seed_group(database_url, group, count, per_centre)
    return made


async def seed_group(
    database_url: str, group: str, counsellors: int, per_centre: int
) -> list[Counsellor]:
    engine = create_engine(database_url)
    made: list[Counsellor] = []
    try:
        async with create_sessionmaker(engine)() as session:
            for c in range(math.ceil(counsellors / per_centre)):
                location, school = await add_centre(session, group, c)
                for k in range(min(per_centre, counsellors - c * per_centre)):
                    made.append(await add_counsellor(session, group, c, k, location, school))
            await session.commit()
    finally:
        await engine.dispose()
    return made


async def add_centre(session: AsyncSession, group: str, c: int) -> tuple[Location, School]:
    """Centre ``c`` of ``group``, with one location and one school."""
    centre = Centre(
        slug=f"bench-{group}-{c}", name=f"CLB Bench {group} {c}", second_factor_required=False
    )
    session.add(centre)
    await session.flush()
    location = Location(
        centre_id=centre.id,
        name="Vestiging",
        street="Straat 1",
        postcode="9000",
        municipality="Gent",
    )
    school = School(
        centre_id=centre.id,
        name=f"School {c}",
        municipality="Gent",
        postcode="9000",
        level=SchoolLevel.secundair,
    )
    session.add_all([location, school])
    await session.flush()
    return location, school


async def add_counsellor(
    session: AsyncSession, group: str, c: int, k: int, location: Location, school: School
) -> Counsellor:
    """Counsellor ``k`` of centre ``c``: weekly hours and a booking policy."""
    staff = StaffAccount(
        email=f"bench-{group}-{c}-{k}@clb.example",
        full_name=f"Bench {c}-{k}",
        display_name=f"B{k}",
        centre_id=location.centre_id,
        roles=["counsellor"],
        password_hash=TEST_PASSWORD_HASH,
    )
    session.add(staff)
    await session.flush()
    session.add_all(
        [
            AvailabilityRule(
                counsellor_id=staff.id,
                weekday=weekday,
                starts_at=clock(9),
                ends_at=clock(17),
                modes=ALL_MODES,
                location_id=location.id,
            )
            for weekday in range(5)
        ]
    )
    session.add(
        BookingPolicy(
            counsellor_id=staff.id,
            min_notice_working_days=0,
            horizon_days=365,
            max_per_day=40,
        )
    )
    return Counsellor(staff.id, school.id)


async def closed_days(database_url: str) -> set[date]:
    engine = create_engine(database_url)
    days: set[date] = set()
    try:
        async with create_sessionmaker(engine)() as session:
            for first, last in await session.execute(
                select(ClosedPeriod.first_day, ClosedPeriod.last_day)
            ):
                day = first
                while day <= last:
                    days.add(day)
                    day += timedelta(days=1)
    finally:
        await engine.dispose()
    return days


def open_days(closed: set[date]) -> Iterator[date]:
    day = local_day(utcnow()) + timedelta(days=1)
    while True:
        if is_working_day(day) and day not in closed:
            yield day
        day += timedelta(days=1)


def fresh_targets(
    counsellors: list[Counsellor], closed: set[date], count: int, rng: random.Random
) -> list[Target]:
    """``count`` distinct, non-overlapping slots (hourly gesprekken), shuffled."""
    targets: list[Target] = []
    for day in open_days(closed):
        for counsellor in counsellors:
            for hour in HOURS:
                targets.append(Target(counsellor, local_instant(day, clock(hour))))
        if len(targets) >= count:
            break
    rng.shuffle(targets)
    return targets[:count]


@dataclass(frozen=True)
class Planned:
    target: Target
    repeat: bool  # a slot requested before: 409 expected


def plan_requests(
    targets: list[Target], total: int, rate: float, share: float, seed: int
) -> list[Planned]:
    rng = random.Random(seed)
    fresh = iter(targets)
    plan: list[Planned] = []
    gap = max(1, int(rate))  # a repeat asks for a slot first requested >= 1 s earlier
    for i in range(total):
        if i > gap and rng.random() < share:
            plan.append(Planned(plan[rng.randrange(0, i - gap)].target, True))
        else:
            plan.append(Planned(next(fresh), False))
    return plan


# ------------------------------------------------------------------ clients


def http_client(base_url: str, connections: int) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=60,
        trust_env=False,
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
    )


class RawClient:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams, for ``--client raw``: it
    sends only what this benchmark sends and reads Content-Length bodies, at a fraction of
    httpx's CPU cost, so more of the machine is left to the servers."""

    def __init__(self, base_url: str, connections: int) -> None:
        parts = httpx.URL(base_url)
        self.host, self.port = parts.host, parts.port or 80
        self.limit = connections
        self.opened = 0
        self.idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
            asyncio.Queue()
        )

    async def _take(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bool]:
        if self.idle.empty() and self.opened < self.limit:
            self.opened += 1
            try:
                reader, writer = await asyncio.open_connection(self.host, self.port)
            except BaseException:
                self.opened -= 1
                raise
            return reader, writer, True
        reader, writer = await self.idle.get()
        return reader, writer, False

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        while True:
            reader, writer, fresh = await self._take()
            answered = False
            try:
                writer.write(head + body)
                status_line = await reader.readline()
                if not status_line:
                    raise ConnectionError("connection closed by the server")
                answered = True
                status = int(status_line.split(b" ", 2)[1])
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                data = await reader.readexactly(length) if length else b""
            except (ConnectionError, OSError) as error:
                self.opened -= 1
                writer.close()
                # A kept-alive connection the server closed while it was idle (uvicorn's
                # keep-alive timeout): nothing was read, so sending again is safe.
                if fresh or answered:
                    raise error from None
                continue
            except BaseException:
                self.opened -= 1
                writer.close()
                raise
            self.idle.put_nowait((reader, writer))
            return status, data

    async def aclose(self) -> None:
        while not self.idle.empty():
            _reader, writer = self.idle.get_nowait()
            writer.close()


class Client:
    """One client of the kind ``--client`` names; ``post`` answers (status, error code)."""

    def __init__(self, kind: str, base_url: str, connections: int) -> None:
        self.connections = connections
        self.httpx = http_client(base_url, connections) if kind == "httpx" else None
        self.raw = RawClient(base_url, connections) if kind == "raw" else None

    async def post(self, body: bytes) -> tuple[int, str]:
        if self.httpx is not None:
            response = await self.httpx.post(
                "/api/appointments", content=body, headers={"content-type": "application/json"}
            )
            status, data = response.status_code, response.content
        else:
            assert self.raw is not None
            status, data = await self.raw.request("POST", "/api/appointments", body)
        code = ""
        if status != 201:
            with contextlib.suppress(ValueError, KeyError, TypeError):
                code = orjson.loads(data)["error"]["code"]
        return status, code

    async def warm(self) -> None:
        """Open all connections before measuring (GET /healthz on each)."""
        if self.httpx is not None:
            client = self.httpx
            await asyncio.gather(*(client.get("/healthz") for _ in range(self.connections)))
        else:
            assert self.raw is not None
            raw = self.raw
            await asyncio.gather(*(raw.request("GET", "/healthz") for _ in range(self.connections)))

    async def aclose(self) -> None:
        if self.httpx is not None:
            await self.httpx.aclose()
        if self.raw is not None:
            await self.raw.aclose()


async def prime(servers: list[Server], options: argparse.Namespace, targets: list[Target]) -> None:
    """A few hundred bookings, 8 at a time, before anything is measured: each server opens
    its database pool and warms its caches (the first requests of a fresh process are slow)."""
    clients = [Client(options.client, s.base_url, 8) for s in servers]
    semaphore = asyncio.Semaphore(8 * len(servers))

    async def one(n: int, target: Target) -> None:
        async with semaphore:
            await clients[n % len(clients)].post(orjson.dumps(target.body(n)))

    try:
        await asyncio.gather(*(one(n, t) for n, t in enumerate(targets)))
    finally:
        for client in clients:
            await client.aclose()


# ------------------------------------------------------------------ scenario: load


@dataclass
class Outcome:
    due: float
    sent: float
    done: float
    status: int  # 0: no HTTP answer
    code: str
    repeat: bool


async def scenario_load(
    resources: Resources, options: argparse.Namespace, counsellors: list[Counsellor]
) -> list[dict[str, Any]]:
    """One step per rate in ``--rates``, each on slots of its own; stops stepping up once a
    step could not keep up (answered < 90 % of the rate)."""
    rates = [float(r) for r in options.rates.split(",")]
    sizes = [math.ceil(rate * (options.warmup + options.duration)) for rate in rates]
    closed = await closed_days(resources.database_url)
    priming = 100 * len(resources.servers)
    everything = fresh_targets(
        counsellors, closed, priming + sum(sizes), random.Random(options.seed)
    )
    await prime(resources.servers, options, everything[:priming])
    targets = everything[priming:]
    last_day = max(local_day(t.starts_at) for t in targets)
    log(
        f"load: rates {rates}/s, {sum(sizes)} distinct slots over {len(counsellors)} "
        f"counsellors up to {last_day}"
    )
    steps: list[dict[str, Any]] = []
    offset = 0
    for rate, size in zip(rates, sizes, strict=True):
        plan = plan_requests(
            targets[offset : offset + size], size, rate, options.conflict_share, options.seed
        )
        offset += size
        step = await load_step(resources, options, rate, plan)
        steps.append(step)
        log(
            f"load {rate:g}/s: answered {step['answered_per_s']}/s, p50 "
            f"{step['latency_ms']['p50']} ms, p99 {step['latency_ms']['p99']} ms"
        )
        if step["answered_per_s"] < 0.9 * rate:
            log("load: the servers did not keep up; not stepping higher")
            break
    return steps


async def load_step(
    resources: Resources, options: argparse.Namespace, rate: float, plan: list[Planned]
) -> dict[str, Any]:
    clients, described = load_clients(options, resources.servers)
    sender = Sender(clients, plan)
    try:
        sent = await sender.run(resources, options, rate)
    finally:
        for client in clients:
            await client.aclose()
    await asyncio.sleep(1)  # let the servers finish what the cancelled requests started
    after = await verify_bookings(resources)
    batches = await batch_sizes(resources, sent.began)
    return {
        "requests": len(plan),
        "clients": described,
        "machine_before": sent.machine_before,
        "target_rate": rate,
        **step_figures(sent, options.duration),
        "answered_201": sum(o.status == 201 for o in sent.outcomes),
        "booked": after["appointments"] - sent.before["appointments"],
        "bookings_per_batch": batches,
        "database": after,
        "timeline": timeline(sent.outcomes, sent.start),
    }


def load_clients(options: argparse.Namespace, servers: list[Server]) -> tuple[list[Client], str]:
    """The step's clients, and how many of them with how many connections each.

    Several small clients rather than one big one: httpcore's pool does work per request
    that grows with its number of connections. Client k talks to server k mod N."""
    count = max(len(servers), options.clients // len(servers) * len(servers))
    per_client = max(1, options.connections // count)
    clients = [
        Client(options.client, servers[k % len(servers)].base_url, per_client) for k in range(count)
    ]
    return clients, f"{count} {options.client} clients x {per_client} connections"


@dataclass
class Sent:
    """What sending one step's plan gave: the outcomes and the measuring window."""

    outcomes: list[Outcome]
    machine_before: dict[str, float]
    before: dict[str, int]
    began: datetime
    start: float
    window_start: float
    window_end: float
    cpu: dict[str, Any]
    drained: float
    loop_lag: dict[str, float | int | None]


class Sender:
    """Sends a step's plan open loop: request *i* at start + i/rate, whatever came before."""

    def __init__(self, clients: list[Client], plan: list[Planned]) -> None:
        self.clients = clients
        self.plan = plan
        # Encoded beforehand: the generator's own CPU goes to sending.
        self.payloads = [orjson.dumps(p.target.body(n)) for n, p in enumerate(plan)]
        self.outcomes: list[Outcome] = []
        self.tasks: dict[asyncio.Task[None], tuple[float, float, bool]] = {}

    async def run(self, resources: Resources, options: argparse.Namespace, rate: float) -> Sent:
        await asyncio.gather(*(c.warm() for c in self.clients))
        machine_before = await wait_quiet(options.wait_quiet)
        before = await verify_bookings(resources)
        began = datetime.now(UTC)
        lag = LoopLag()
        lag.start()
        start = time.monotonic() + 0.2
        window_start = start + options.warmup
        window_end = window_start + options.duration
        cpu = await self.schedule(rate, start, window_start, resources.servers)
        await sleep_until(window_end)
        cpu_result = cpu.finish() if cpu is not None else {}
        drained = await self.drain(options.drain_limit) - window_end
        loop_lag = await lag.stop()
        return Sent(
            self.outcomes,
            machine_before,
            before,
            began,
            start,
            window_start,
            window_end,
            cpu_result,
            drained,
            loop_lag,
        )

    async def schedule(
        self, rate: float, start: float, window_start: float, servers: list[Server]
    ) -> CpuWindow | None:
        """Start every request at its due time; CPU is measured from ``window_start``."""
        cpu: CpuWindow | None = None
        for n, planned in enumerate(self.plan):
            due = start + n / rate
            if cpu is None and due >= window_start:
                await sleep_until(window_start)
                cpu = CpuWindow(servers)
            await sleep_until(due)
            task = asyncio.create_task(self.send(n, planned, due))
            self.tasks[task] = (due, time.monotonic(), planned.repeat)
            task.add_done_callback(self.tasks.pop)
        return cpu

    async def send(self, n: int, planned: Planned, due: float) -> None:
        client = self.clients[n % len(self.clients)]
        sent = time.monotonic()
        status, code = 0, ""
        try:
            status, code = await client.post(self.payloads[n])
        except (httpx.HTTPError, OSError, asyncio.IncompleteReadError, ValueError) as error:
            code = type(error).__name__
        self.outcomes.append(Outcome(due, sent, time.monotonic(), status, code, planned.repeat))

    async def drain(self, limit: float) -> float:
        """Wait for the backlog, but not forever: what is left then counts as unanswered.
        Answers when it stopped waiting (``time.monotonic()``)."""
        deadline = time.monotonic() + limit
        while self.tasks and time.monotonic() < deadline:
            await asyncio.wait(list(self.tasks), timeout=max(0.0, deadline - time.monotonic()))
        stopped = time.monotonic()
        for task, (due, sent, repeat) in list(self.tasks.items()):
            task.cancel()
            self.outcomes.append(Outcome(due, sent, math.inf, 0, "unanswered", repeat))
        return stopped


def step_figures(sent: Sent, duration: float) -> dict[str, Any]:
    """Rates, statuses, latencies and CPU of the requests due in the measuring window."""
    window = (sent.window_start, sent.window_end)
    measured = [o for o in sent.outcomes if window[0] <= o.due < window[1]]
    done_count = sum(1 for o in sent.outcomes if window[0] <= o.done < window[1])
    return {
        "measured_s": duration,
        "sent_per_s": round(len(measured) / duration, 1),
        "answered_per_s": round(done_count / duration, 1),
        **outcome_figures(measured),
        "cpu": sent.cpu,
        **cpu_per_request(sent.cpu, duration, done_count),
        "drain_s": round(sent.drained, 2),
        "client_loop_lag_ms": sent.loop_lag,
    }


def outcome_figures(measured: list[Outcome]) -> dict[str, Any]:
    statuses = Counter(o.status for o in measured)
    ok = [o for o in measured if o.status == 201]
    conflicts = [o for o in measured if o.status == 409]
    answered = [o for o in measured if o.status]
    return {
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "codes": dict(Counter(o.code for o in measured if o.code)),
        "unexpected": {
            "repeat_booked": sum(o.repeat and o.status == 201 for o in measured),
            "fresh_refused": sum(not o.repeat and o.status not in (0, 201) for o in measured),
        },
        "latency_ms": summarize_ms(o.done - o.due for o in answered),
        "latency_from_send_ms": summarize_ms(o.done - o.sent for o in answered),
        "latency_201_ms": summarize_ms(o.done - o.due for o in ok),
        "latency_409_ms": summarize_ms(o.done - o.due for o in conflicts),
        "send_delay_ms": summarize_ms(max(0.0, o.sent - o.due) for o in measured),
    }


def cpu_per_request(cpu: dict[str, Any], duration: float, answered: int) -> dict[str, Any]:
    """CPU ms of the servers and of PostgreSQL per request answered in the window."""
    servers_cpu = sum(cpu.get("servers_pct_of_core", [])) / 100 * duration
    pg_cpu = cpu.get("postgres_pct_of_core", 0) / 100 * duration
    return {
        "server_cpu_ms_per_request": round(1000 * servers_cpu / answered, 2) if answered else None,
        "postgres_cpu_ms_per_request": round(1000 * pg_cpu / answered, 2) if answered else None,
    }


def timeline(outcomes: list[Outcome], start: float) -> list[dict[str, Any]]:
    """Per second of due time: requests, answered, p50/p99 latency."""
    seconds: dict[int, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        seconds[int(outcome.due - start)].append(outcome)
    rows = []
    for second in sorted(seconds):
        group = seconds[second]
        latency = summarize_ms(o.done - o.due for o in group if o.status)
        rows.append(
            {
                "second": second,
                "requests": len(group),
                "answered": sum(1 for o in group if o.status),
                "p50_ms": latency["p50"],
                "p99_ms": latency["p99"],
                "errors": sum(o.status not in (201, 409) for o in group),
            }
        )
    return rows


async def verify_bookings(resources: Resources) -> dict[str, int]:
    """What is in the database afterwards: bookings, and overlapping pairs (must be 0)."""
    connection = await resources.connect()
    try:
        appointments = await connection.fetchval("SELECT count(*) FROM appointments")
        overlapping = await connection.fetchval(
            "SELECT count(*) FROM appointments a JOIN appointments b "
            "ON a.counsellor_id = b.counsellor_id AND a.id < b.id "
            "AND a.status <> 'cancelled' AND b.status <> 'cancelled' "
            "AND tstzrange(a.blocked_from, a.blocked_until) "
            "&& tstzrange(b.blocked_from, b.blocked_until)"
        )
        outbox = await connection.fetchval("SELECT count(*) FROM outbox_jobs")
    finally:
        await connection.close()
    return {
        "appointments": int(appointments),
        "overlapping_pairs": int(overlapping),
        "outbox_jobs": int(outbox),
    }


async def batch_sizes(resources: Resources, since: datetime) -> dict[str, float]:
    """How many bookings the servers wrote per transaction (scheduling.batcher): a batch
    stamps all its bookings with one ``created_at``."""
    connection = await resources.connect()
    try:
        sizes = sorted(
            await connection.fetchval(
                "SELECT array_agg(n) FROM (SELECT count(*) AS n FROM appointments "
                "WHERE created_at >= $1 GROUP BY created_at) AS batches",
                since,
            )
            or [0]
        )
    finally:
        await connection.close()
    return {
        "batches": len(sizes),
        "mean": round(sum(sizes) / len(sizes), 2),
        "p50": sizes[len(sizes) // 2],
        "p90": sizes[int(len(sizes) * 0.9)],
        "max": sizes[-1],
    }


# ------------------------------------------------------------------ scenario: storm


async def scenario_storm(
    resources: Resources, options: argparse.Namespace, counsellor: Counsellor
) -> dict[str, Any]:
    closed = await closed_days(resources.database_url)
    day = next(open_days(closed))
    target = Target(counsellor, local_instant(day, clock(10)))
    servers = resources.servers
    per_server = math.ceil(options.storm / len(servers))
    clients = [Client(options.client, s.base_url, per_server) for s in servers]
    payloads = [orjson.dumps(target.body(n)) for n in range(options.storm)]
    try:
        await asyncio.gather(*(c.warm() for c in clients))
        before = await verify_bookings(resources)
        await wait_quiet(options.wait_quiet)
        cpu = CpuWindow(servers)

        async def one(n: int) -> tuple[int, float]:
            status, _code = await clients[n % len(clients)].post(payloads[n])
            return status, time.monotonic()

        started = time.monotonic()
        answers = await asyncio.gather(*(one(n) for n in range(options.storm)))
        cpu_result = cpu.finish()
    finally:
        for client in clients:
            await client.aclose()
    after = await verify_bookings(resources)
    statuses = Counter(status for status, _ in answers)
    done = sorted(moment - started for _, moment in answers)
    winner = next((moment - started for status, moment in answers if status == 201), None)
    return {
        "requests": options.storm,
        "servers": len(servers),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "resolved_s": round(done[-1], 3),
        "first_answer_s": round(done[0], 3),
        "winner_answered_s": round(winner, 3) if winner is not None else None,
        "per_request_ms": round(1000 * done[-1] / options.storm, 2),
        "latency_ms": summarize_ms(done),
        "booked": after["appointments"] - before["appointments"],
        "cpu": cpu_result,
    }


# ------------------------------------------------------------------ scenario: breakdown


class StepTimer:
    """Wraps module attributes with timers; nested steps are counted in their parents too."""

    def __init__(self) -> None:
        self.seconds: dict[str, list[float]] = defaultdict(list)
        self._undo: list[tuple[Any, str, Any]] = []

    def wrap(self, owner: Any, name: str, label: str) -> None:
        original = getattr(owner, name, None)
        if original is None:  # renamed in the code under test: that step goes unreported
            log(f"breakdown: {getattr(owner, '__name__', owner)}.{name} not found, not timed")
            return
        seconds = self.seconds[label]
        if asyncio.iscoroutinefunction(original):

            @functools.wraps(original)
            async def timed_async(*args: Any, **kwargs: Any) -> Any:
                started = time.perf_counter()
                try:
                    return await original(*args, **kwargs)
                finally:
                    seconds.append(time.perf_counter() - started)

            setattr(owner, name, timed_async)
        else:

            @functools.wraps(original)
            def timed(*args: Any, **kwargs: Any) -> Any:
                started = time.perf_counter()
                try:
                    return original(*args, **kwargs)
                finally:
                    seconds.append(time.perf_counter() - started)

            setattr(owner, name, timed)
        self._undo.append((owner, name, original))

    def restore(self) -> None:
        for owner, name, original in reversed(self._undo):
            setattr(owner, name, original)
        self._undo.clear()

    def reset(self) -> None:
        for values in self.seconds.values():
            values.clear()

    def report(self, requests: int) -> dict[str, dict[str, float]]:
        return {
            label: {
                "calls_per_request": round(len(values) / requests, 2),
                "ms_per_request": round(1000 * sum(values) / requests, 3),
            }
            for label, values in self.seconds.items()
            if values
        }


async def redis_commands(redis: Redis) -> dict[str, int]:
    info = await redis.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in info.items()}


async def scenario_breakdown(
    resources: Resources, options: argparse.Namespace, counsellors: list[Counsellor]
) -> dict[str, Any]:
    """Sequential bookings through the app in this process, each step timed."""
    from composition.app import create_app

    app = create_app(breakdown_settings(resources))
    count = options.breakdown_requests
    closed = await closed_days(resources.database_url)
    targets = fresh_targets(counsellors, closed, count, random.Random(options.seed + 1))
    timer = StepTimer()
    statements = StatementCounter()
    result: dict[str, Any] = {}
    try:
        async with app.router.lifespan_context(app):
            services = app.state.services
            statements.listen(services.engine.sync_engine)
            result["round_trips_ms"] = await round_trips(resources, services)
            for owner, name, label in timed_steps():
                timer.wrap(owner, name, label)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
                for phase, repeat in (("book_201", False), ("conflict_409", True)):
                    result[phase] = await breakdown_phase(
                        http, services.redis, targets, timer, statements, phase, repeat
                    )
            statements.remove()
    finally:
        timer.restore()
    return result


def breakdown_settings(resources: Resources) -> Settings:
    """The app's settings for the in-process breakdown: this run's database and Redis."""
    return Settings(
        env="test",
        database_url=resources.database_url,
        redis_url=resources.redis_url,
        redis_namespace=resources.namespace,
        data_dir=resources.work_dir,
        public_url="http://127.0.0.1:8000",
        secret_key="test-secret-" + "x" * 40,
        migrate_on_start=False,
        booking_rate_per_hour=10_000_000,
        log_level="WARNING",
    )


def timed_steps() -> list[tuple[Any, str, str]]:
    """The steps of a booking the breakdown times: (module or class, attribute, label)."""
    from clb import db, jobs, ratelimit
    from scheduling.appointments import batcher, booking, repository
    from scheduling.availability import offers
    from scheduling.availability import repository as availability_repository

    return [
        (ratelimit.RateLimiter, "hit", "1 rate limit (Redis)"),
        (booking, "prepare", "2 prepare (e-mail check)"),
        (batcher.BookingBatcher, "_transaction", "3 the batch's transaction (one booking here)"),
        (batcher, "book_many", "3a book_many()"),
        (repository, "take_locks", "3b advisory locks"),
        (repository, "booking_snapshots", "3c the one read: school … calendar, closed day"),
        (booking, "free_slots", "3d slot function (CPU)"),
        (booking, "manage_token", "3e manage token (HMAC)"),
        (repository, "insert_appointments", "3f INSERT of the appointments"),
        (booking, "schedule_jobs", "3g outbox rows (one INSERT)"),
        (db, "commit", "3h commit + after-commit"),
        (jobs.JobQueue, "enqueue", "3h.1 ARQ enqueue (Redis)"),
        (offers, "fresh_alternatives", "4 fresh alternatives (409 only)"),
        (availability_repository, "load_calendars", "4a load_calendars (409 only)"),
        (repository, "closed_days", "4b closed_days (409 only)"),
        (offers, "free_slots", "4c slot function for the alternatives (CPU)"),
    ]


class StatementCounter:
    """Counts the SQL statements an engine sends (reset it before each request)."""

    def __init__(self) -> None:
        self.count = 0
        self._engine: Any = None

    def _seen(self, *_args: Any) -> None:
        self.count += 1

    def listen(self, sync_engine: Any) -> None:
        self._engine = sync_engine
        event.listen(sync_engine, "before_cursor_execute", self._seen)

    def remove(self) -> None:
        if self._engine is not None:
            event.remove(self._engine, "before_cursor_execute", self._seen)
            self._engine = None


async def breakdown_phase(
    http: httpx.AsyncClient,
    redis: Redis,
    targets: list[Target],
    timer: StepTimer,
    statements: StatementCounter,
    phase: str,
    repeat: bool,
) -> dict[str, Any]:
    """Book every target once, one at a time (``repeat``: all were booked, 409 expected)."""
    count = len(targets)
    timer.reset()
    per_request: list[int] = []
    before = await redis_commands(redis)
    totals: list[float] = []
    for n, target in enumerate(targets):
        statements.count = 0
        started = time.perf_counter()
        response = await http.post("/api/appointments", json=target.body(10_000_000 + n))
        totals.append(time.perf_counter() - started)
        expected = 409 if repeat else 201
        if response.status_code != expected:
            raise RuntimeError(f"breakdown {phase}: {response.status_code} {response.text[:300]}")
        per_request.append(statements.count)
    after = await redis_commands(redis)
    used = {k: v - before.get(k, 0) for k, v in after.items()}
    return {
        "requests": count,
        "total_ms": summarize_ms(totals),
        "sql_statements_per_request": round(sum(per_request) / count, 2),
        "redis_commands_per_request": {
            k: round(v / count, 2) for k, v in sorted(used.items()) if v and k not in ("info",)
        },
        "steps": timer.report(count),
    }


async def round_trips(resources: Resources, services: Any) -> dict[str, float]:
    """Median time of one bare round trip, several ways, in this process."""

    async def median_ms(action: Callable[[], Awaitable[object]], times: int = 300) -> float:
        samples = []
        for _ in range(times):
            started = time.perf_counter()
            await action()
            samples.append(time.perf_counter() - started)
        samples.sort()
        return round(1000 * samples[len(samples) // 2], 3)

    raw = await resources.connect()
    try:
        asyncpg_select = await median_ms(lambda: raw.fetchval("SELECT 1"))
    finally:
        await raw.close()
    async with services.sessionmaker() as session:
        orm_select = await median_ms(lambda: session.scalar(text("SELECT 1")))

        async def session_unit() -> None:
            async with services.sessionmaker() as fresh:
                await fresh.scalar(text("SELECT 1"))
                await fresh.commit()

        unit = await median_ms(session_unit)
    redis_ping = await median_ms(lambda: services.redis.ping())
    return {
        "asyncpg SELECT 1": asyncpg_select,
        "SQLAlchemy session SELECT 1 (in a transaction)": orm_select,
        "SQLAlchemy new session: BEGIN, SELECT 1, COMMIT": unit,
        "Redis PING": redis_ping,
    }


# ------------------------------------------------------------------ profile


def profile_summary(path: Path, top: int = 25) -> dict[str, Any]:
    """Where server 0's time went: own time (tottime) by package, and the top functions."""
    stats = pstats.Stats(str(path))
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    by_package: Counter[str] = Counter()
    total = 0.0
    rows = []
    for (filename, line, name), (_cc, _nc, tottime, cumtime, _callers) in raw.items():
        package = package_of(filename)
        by_package[package] += tottime
        total += tottime
        rows.append((tottime, cumtime, f"{package}: {Path(filename).name}:{line} {name}"))
    rows.sort(reverse=True)
    return {
        "total_s": round(total, 2),
        "by_package_pct": {
            k: round(100 * v / total, 1) for k, v in by_package.most_common() if v / total > 0.005
        },
        "top_tottime": [
            {"tottime_s": round(t, 3), "cumtime_s": round(c, 3), "function": f}
            for t, c, f in rows[:top]
        ],
    }


_SITE = re.compile(r"site-packages/([^/]+)/")


def package_of(filename: str) -> str:
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins (C)"
    found = _SITE.search(filename)
    if found:
        return found.group(1)
    if "/lib/python3" in filename:
        match = re.search(r"/lib/python3\.\d+/([^/]+)", filename)
        return "stdlib " + (match.group(1).removesuffix(".py") if match else "?")
    relative = filename.split(str(ROOT) + "/", 1)[-1]
    if relative.startswith("platform/clb/"):
        return "clb"
    return relative.split("/", 1)[0] if "/" in relative else relative


# ------------------------------------------------------------------ summary


def verdict(results: dict[str, Any]) -> dict[str, Any] | None:
    steps = results.get("load")
    if not steps:
        return None

    def meets(step: dict[str, Any]) -> bool:
        p99 = step["latency_ms"]["p99"]
        return bool(
            step["target_rate"] >= TARGET_RATE
            and step["answered_per_s"] >= TARGET_RATE * 0.98
            and p99 is not None
            and p99 < TARGET_P99_MS
            and set(step["statuses"]) <= {"201", "409"}
        )

    return {
        "target": f">= {TARGET_RATE} requests/s with p99 < {TARGET_P99_MS:g} ms",
        "met": any(meets(step) for step in steps),
    }


def print_summary(results: dict[str, Any]) -> None:
    run = results["run"]
    rows: list[tuple[str, str]] = [
        ("where", run["where"]),
        ("servers", f"{run['servers']} x clb serve (uvicorn, uvloop), one database"),
    ]
    if run.get("cprofile"):
        rows.append(("NOTE", "server 0 ran under cProfile: figures are slower than normal"))
    for step in results.get("load") or []:
        rows += load_rows(step)
    if results.get("storm"):
        rows += storm_rows(results["storm"])
    if results.get("breakdown"):
        rows += breakdown_rows(results["breakdown"])
    profile = results.get("profile")
    if profile:
        rows.append(("PROFILE server 0", "own time by package (%)"))
        rows.append(
            ("  ", ", ".join(f"{k} {v}" for k, v in list(profile["by_package_pct"].items())[:12]))
        )
    found = results.get("verdict")
    if found:
        rows.append(target_row("TARGET", found))
    print_rows(rows)


def load_rows(step: dict[str, Any]) -> list[tuple[str, str]]:
    lat = step["latency_ms"]
    return [
        (
            f"LOAD {fmt(step['target_rate'])}/s",
            f"{step['requests']} requests; {step['clients']}; machine "
            f"{fmt(step['machine_before']['busy_pct_of_all_cores'])}% busy before",
        ),
        (
            "  requests/s sent / answered",
            f"{fmt(step['sent_per_s'])} / {fmt(step['answered_per_s'])}",
        ),
        (
            "  statuses (0: unanswered)",
            ", ".join(f"{k}: {v}" for k, v in step["statuses"].items())
            + f"  codes {step['codes'] or '-'}",
        ),
        (
            "  due->answer p50/p90/p99/max",
            f"{fmt(lat['p50'])} / {fmt(lat['p90'])} / {fmt(lat['p99'])} / {fmt(lat['max'])} ms",
        ),
        (
            "  send->answer p50/p99",
            f"{fmt(step['latency_from_send_ms']['p50'])} / "
            f"{fmt(step['latency_from_send_ms']['p99'])} ms",
        ),
        (
            "  201 p50/p99, 409 p50/p99",
            f"{fmt(step['latency_201_ms']['p50'])} / {fmt(step['latency_201_ms']['p99'])}"
            f" ms, {fmt(step['latency_409_ms']['p50'])} / "
            f"{fmt(step['latency_409_ms']['p99'])} ms",
        ),
        *cpu_rows(step["cpu"], machine=False),
        (
            "  CPU ms per answered request: servers / PG",
            f"{fmt(step['server_cpu_ms_per_request'])} / "
            f"{fmt(step['postgres_cpu_ms_per_request'])}",
        ),
        (
            "  client loop lag p99 / send delay p99",
            f"{fmt(step['client_loop_lag_ms']['p99'])} / {fmt(step['send_delay_ms']['p99'])} ms",
        ),
        (
            "  booked / answered 201 / overlapping pairs",
            f"{fmt(step['booked'])} / {fmt(step['answered_201'])} / "
            f"{step['database']['overlapping_pairs']}",
        ),
        (
            "  bookings per batch: mean / p50 / p90 / max",
            " / ".join(fmt(step["bookings_per_batch"][k]) for k in ("mean", "p50", "p90", "max")),
        ),
    ]


def storm_rows(storm: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        ("STORM", f"{storm['requests']} requests for one slot over {storm['servers']} servers"),
        ("  statuses", ", ".join(f"{k}: {v}" for k, v in storm["statuses"].items())),
        (
            "  all answered after / winner after",
            f"{fmt(storm['resolved_s'])} s / {fmt(storm['winner_answered_s'])} s "
            f"({fmt(storm['per_request_ms'])} ms per request)",
        ),
        ("  booked", fmt(storm["booked"])),
    ]


def breakdown_rows(breakdown: dict[str, Any]) -> list[tuple[str, str]]:
    rows = [("BREAKDOWN", "sequential, in-process, ms per request")]
    for name, value in breakdown["round_trips_ms"].items():
        rows.append((f"  {name}", f"{value} ms"))
    for phase in ("book_201", "conflict_409"):
        data = breakdown[phase]
        rows.append(
            (
                f"  {phase}",
                f"p50 {fmt(data['total_ms']['p50'])} ms, "
                f"{data['sql_statements_per_request']} SQL statements, Redis "
                + ", ".join(f"{k} {v}" for k, v in data["redis_commands_per_request"].items()),
            )
        )
        for label, step in data["steps"].items():
            rows.append(
                (
                    f"    {label}",
                    f"{step['ms_per_request']:.2f} ms ({step['calls_per_request']:g} calls)",
                )
            )
    return rows


# ------------------------------------------------------------------ main


async def run(options: argparse.Namespace, resources: Resources, results: Results) -> None:
    async def scenarios() -> None:
        started = time.monotonic()
        groups = {"load": options.counsellors, "storm": 1, "breakdown": options.per_centre}
        seeded = await seed(resources.database_url, groups, options.per_centre)
        log(f"seeded {sum(groups.values())} counsellors in {time.monotonic() - started:.1f} s")
        extra_env = {"CLB_BOOKING_RATE_PER_HOUR": "100000000", "CLB_LOG_LEVEL": "WARNING"}
        profile_out = resources.work_dir / "server0.prof" if options.cprofile else None
        if options.scenario != "breakdown":
            await resources.start_servers(options.servers, extra_env, profile_out)
        results["run"] = run_info(
            WHERE.format(cpus=os.cpu_count(), client=options.client),
            resources,
            extra_env,
            cprofile=options.cprofile,
        )
        if options.scenario in ("all", "load"):
            results["load"] = await scenario_load(resources, options, seeded["load"])
        if options.scenario in ("all", "storm"):
            results["storm"] = await scenario_storm(resources, options, seeded["storm"][0])
        resources.check_servers()
        await resources.stop_servers()
        if profile_out is not None and profile_out.exists():
            results["profile"] = profile_summary(profile_out)
        if options.scenario in ("all", "breakdown"):
            results["breakdown"] = await scenario_breakdown(resources, options, seeded["breakdown"])

    await run_scratch(
        resources,
        results,
        timeout=options.timeout,
        cleaning="servers, database, Redis keys",
        body=scenarios,
    )


def avoid_sniffio_import_per_request() -> None:
    """httpcore tries ``import sniffio`` on every request; when it is not installed each try
    searches sys.path again (about 1.5 ms of CPU per request here). Mark it as absent."""
    if importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


def conclude(results: Results) -> None:
    results["verdict"] = verdict(results)


def main(argv: list[str] | None = None) -> int:
    options = build_parser().parse_args(argv)
    avoid_sniffio_import_per_request()
    return run_main(options, "booking_bench_", run, conclude=conclude, summary=print_summary)


if __name__ == "__main__":
    raise SystemExit(main())
