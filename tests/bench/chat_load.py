"""Load benchmark for the realtime chat, against real ``clb serve`` processes.

Run ``python -m tests.bench.chat_load --help``; tests/bench/README.md explains the output.
Not a test: pytest does not collect it (no ``test_`` file or function names).

It makes its own scratch database (migrated with the real migrations) and Redis namespace,
starts ``clb serve`` processes on 127.0.0.1 and drives them like browsers would, through
HTTP for set-up and WebSockets for the chat:

* ``hold``: many visitor sockets on ONE process; its RSS per socket.
* ``chat``: visitor/counsellor pairs across the processes (visitor on one, counsellor on
  another) sending at a steady aggregate rate; send→receive latency, loss, duplicates.

The load generator is this single asyncio process on the same machine: it shares the CPU
with the servers, PostgreSQL and Redis, and its own CPU use is reported next to theirs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import math
import os
import signal
import time
import uuid
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
from sqlalchemy import select, text, update
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

from chat.conversations.models import Conversation
from clb.auth.models import StaffAccount
from clb.db import create_engine, create_sessionmaker
from clb.org.models import Centre
from tests.bench.harness.cpu import CpuSampler, CpuWindow, count_fds
from tests.bench.harness.load import Addresses, LoopLag, bounded, paced, sleep_until
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
from tests.chat.support import FORM, staff_cookie
from tests.conftest import TEST_PASSWORD_HASH

# The server's own limits this benchmark has to respect (chat/, clb/auth/router.py).
SERVER_STAFF_MESSAGES_PER_MINUTE = 120  # chat.socket_common.STAFF_MESSAGES, fixed
SERVER_MAX_CAPACITY = 10  # Settings.chat_counsellor_capacity le=10
SERVER_VISITOR_DEFAULT_PER_MINUTE = 30  # Settings.chat_visitor_rate_per_minute default

DEFAULT_OUT = Path("/tmp/chat_bench.json")  # noqa: S108 - the documented default
WHERE = (
    "load generator: this one asyncio process on the same machine, talking to 127.0.0.1; it "
    "shares the {cpus} CPU cores with the servers, PostgreSQL and Redis"
)


# ------------------------------------------------------------------ options


def build_parser() -> argparse.ArgumentParser:
    parser = bench_parser(
        "chat_load",
        "Chat load benchmark",
        ["hold", "chat"],
        servers=(2, "clb serve processes"),
        out=DEFAULT_OUT,
        timeout=(1800, "hard limit for the whole run, seconds"),
    )
    parser.add_argument(
        "--setup-concurrency", type=positive_int, default=32, help="parallel set-up requests"
    )
    parser.add_argument(
        "--address-rate",
        type=positive_int,
        default=100_000,
        help="CLB_CHAT_ADDRESS_RATE_PER_MINUTE passed to the servers",
    )
    parser.add_argument(
        "--no-uvloop", action="store_true", help="plain asyncio loop for the client"
    )
    add_hold_options(parser.add_argument_group("hold scenario"))
    add_chat_options(parser.add_argument_group("chat scenario"))
    return parser


def add_hold_options(hold: argparse._ArgumentGroup) -> None:
    hold.add_argument("--sockets", type=positive_int, default=5000, help="visitor sockets held")
    hold.add_argument(
        "--open-concurrency", type=positive_int, default=200, help="sockets opened at a time"
    )
    hold.add_argument(
        "--warmup-sockets",
        type=int,
        default=100,
        help="sockets opened before the marginal-RSS baseline (at most 10%% of --sockets)",
    )
    hold.add_argument(
        "--hold-status",
        choices=["active", "waiting"],
        default="active",
        help="active: each chat held by a counsellor (made in the database, no console); "
        "waiting: all in the queue (each waiting page re-reads its queue position every 30 s)",
    )
    hold.add_argument(
        "--hold-seconds",
        type=float,
        default=40,
        help="keep them all open this long (idle CPU; waiting visitors refresh every 30 s)",
    )


def add_chat_options(chat: argparse._ArgumentGroup) -> None:
    chat.add_argument(
        "--pairs",
        type=positive_int,
        default=250,
        help="visitor+counsellor conversations (raised when --rate needs more, see README)",
    )
    chat.add_argument("--rate", type=float, default=500, help="messages/s, all senders together")
    chat.add_argument("--duration", type=float, default=30, help="measured seconds")
    chat.add_argument("--warmup", type=float, default=5, help="unmeasured seconds at full rate")
    chat.add_argument(
        "--drain",
        type=float,
        default=15,
        help="after sending, wait for stragglers until nothing arrives for this long, s",
    )
    chat.add_argument(
        "--capacity",
        type=positive_int,
        default=10,
        help=f"chats per counsellor (CLB_CHAT_COUNSELLOR_CAPACITY, <= {SERVER_MAX_CAPACITY})",
    )
    chat.add_argument(
        "--visitor-per-minute",
        type=float,
        default=25,
        help="max messages/min one visitor sends; above "
        f"{SERVER_VISITOR_DEFAULT_PER_MINUTE * 5 // 6} the bench raises "
        "CLB_CHAT_VISITOR_RATE_PER_MINUTE to match",
    )
    chat.add_argument(
        "--counsellor-per-minute",
        type=float,
        default=100,
        help="max messages/min one counsellor sends over all its chats (server: "
        f"{SERVER_STAFF_MESSAGES_PER_MINUTE}/min, fixed)",
    )
    chat.add_argument("--body-chars", type=int, default=100, help="message body length")
    chat.add_argument(
        "--receipts",
        action="store_true",
        help="receivers send read receipts (debounced 100 ms) like the real pages",
    )


# ------------------------------------------------------------------ people


@dataclass
class VisitorIdentity:
    server: Server
    token: str
    conversation_id: str
    address: str  # X-Forwarded-For: one address per pupil (see README)


async def create_visitors(
    targets: list[Server], addresses: Addresses, concurrency: int
) -> list[VisitorIdentity]:
    """For each target server: POST /api/visitors, then POST /api/chat/conversations."""
    clients = {
        s.index: httpx.AsyncClient(
            base_url=s.base_url,
            timeout=60,
            trust_env=False,
            limits=httpx.Limits(max_connections=concurrency),
        )
        for s in set_of(targets)
    }

    async def one(server: Server, address: str) -> VisitorIdentity:
        # A keep-alive connection the server closed just as it was reused: once more, on a
        # new connection (a visitor made twice is harmless).
        for attempt in range(3):
            try:
                return await make(server, address)
            except httpx.TransportError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def make(server: Server, address: str) -> VisitorIdentity:
        http = clients[server.index]
        headers = {"X-Forwarded-For": address}
        response = await http.post("/api/visitors", headers=headers)
        if response.status_code != 201:
            raise RuntimeError(f"POST /api/visitors: {response.status_code} {response.text}")
        token = response.json()["token"]
        response = await http.post(
            "/api/chat/conversations",
            json={**FORM, "nickname": "Bench"},
            headers={**headers, "authorization": f"Bearer {token}"},
        )
        if response.status_code != 201:
            raise RuntimeError(
                f"POST /api/chat/conversations: {response.status_code} {response.text}"
            )
        return VisitorIdentity(server, token, response.json()["conversation_id"], address)

    try:
        return await bounded(
            concurrency,
            [functools.partial(one, server, addresses.take()) for server in targets],
        )
    finally:
        for client in clients.values():
            await client.aclose()


def set_of(servers: list[Server]) -> list[Server]:
    return list({s.index: s for s in servers}.values())


async def open_socket(
    resources: Resources,
    server: Server,
    path: str,
    *,
    headers: dict[str, str],
    timeout: float,
) -> ClientConnection:
    connection = await connect(
        server.ws_base + path,
        origin=Origin(server.base_url),
        additional_headers=headers,
        compression=None,  # the server has per-message deflate off
        ping_interval=None,  # browsers do not ping; the server pings every 20 s
        open_timeout=timeout,
        close_timeout=2,
        max_size=2**24,
        proxy=None,
    )
    resources.sockets.add(connection)
    return connection


async def send_json(connection: ClientConnection, frame: dict[str, Any]) -> None:
    await connection.send(orjson.dumps(frame).decode())


async def wait_for_type(connection: ClientConnection, kind: str, timeout: float) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while True:
            frame: dict[str, Any] = orjson.loads(await connection.recv())
            if frame.get("type") == kind:
                return frame
            if frame.get("type") == "error":
                raise RuntimeError(f"error frame while waiting for {kind}: {frame}")


async def visitor_hello(
    resources: Resources, identity: VisitorIdentity, server: Server, timeout: float
) -> tuple[ClientConnection, float]:
    started = time.monotonic()
    connection = await open_socket(
        resources,
        server,
        "/ws/chat",
        headers={"X-Forwarded-For": identity.address},
        timeout=timeout,
    )
    try:
        await send_json(
            connection,
            {
                "type": "hello",
                "v": 1,
                "token": identity.token,
                "conversation_id": identity.conversation_id,
                "last_seq": 0,
            },
        )
        await wait_for_type(connection, "welcome", timeout)
    except BaseException:
        resources.sockets.discard(connection)
        connection.transport.abort()
        raise
    return connection, time.monotonic() - started


async def close_all(resources: Resources, connections: list[ClientConnection]) -> None:
    async def close(connection: ClientConnection) -> None:
        with contextlib.suppress(Exception):
            await connection.close()
        resources.sockets.discard(connection)

    await bounded(500, [functools.partial(close, c) for c in connections])


async def end_open_conversations(resources: Resources) -> None:
    """End the hold scenario's conversations directly, without a storm of events."""
    engine = create_engine(resources.database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "UPDATE conversations SET ended_at = now(), ended_by = 'visitor', "
                    "status = CASE status WHEN 'waiting' THEN 'abandoned' ELSE 'ended' END "
                    "WHERE status IN ('waiting', 'active')"
                )
            )
    finally:
        await engine.dispose()


# ------------------------------------------------------------------ scenario: hold


class HeldSocket:
    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.frames = 0
        self.pong: asyncio.Future[float] | None = None
        self.closed_code: int | None = None
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.connection:
                self.frames += 1
                if self.pong is not None and not self.pong.done():
                    frame = orjson.loads(raw)
                    if frame.get("type") == "pong":
                        self.pong.set_result(time.monotonic())
        except ConnectionClosed:
            pass
        self.closed_code = self.connection.close_code or -1

    async def ping(self, timeout: float) -> float | None:
        if self.closed_code is not None:
            return None
        self.pong = asyncio.get_running_loop().create_future()
        started = time.monotonic()
        try:
            await send_json(self.connection, {"type": "ping"})
            return await asyncio.wait_for(self.pong, timeout) - started
        except (TimeoutError, ConnectionClosed):
            return None


async def hold_setup(
    resources: Resources, options: argparse.Namespace, target: Server
) -> list[VisitorIdentity]:
    """The visitors and conversations over HTTP; with ``--hold-status active`` each held
    by a counsellor (made and assigned in the database)."""
    servers = resources.servers
    count: int = options.sockets
    log(f"hold: creating {count} visitors and conversations over HTTP")
    identities = await create_visitors(
        [servers[i % len(servers)] for i in range(count)],
        resources.addresses,
        options.setup_concurrency,
    )
    if options.hold_status == "active":
        capacity = min(options.capacity, SERVER_MAX_CAPACITY)
        emails = await create_counsellors(resources, math.ceil(count / capacity), "hold")
        holders = [Counsellor(k, email, target, target) for k, email in enumerate(emails)]
        for k, identity in enumerate(identities):
            holders[k // capacity].conversations.append(identity.conversation_id)
        await assign_conversations(resources, holders)
    return identities


@dataclass
class Held:
    """What the hold scenario saw: its sockets, and the server's RSS (KiB) and CPU."""

    warm: int
    sockets: list[HeldSocket] = field(default_factory=list)
    open_times: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    rss: dict[str, int] = field(default_factory=dict)
    fds: dict[str, int] = field(default_factory=dict)
    cpu: dict[str, dict[str, Any]] = field(default_factory=dict)
    open_s: float = 0.0
    answered: list[float] = field(default_factory=list)
    closed_early: Counter[int] = field(default_factory=Counter)


async def scenario_hold(resources: Resources, options: argparse.Namespace) -> dict[str, Any]:
    target = resources.servers[0]
    started = time.monotonic()
    identities = await hold_setup(resources, options, target)
    setup_s = time.monotonic() - started
    log(
        f"hold: set-up took {setup_s:.1f} s; opening {options.hold_status} visitors' sockets "
        f"to server 0 (pid {target.pid})"
    )
    await asyncio.sleep(2)
    held = Held(warm=max(0, min(options.warmup_sockets, len(identities) // 10)))
    held.rss["no_sockets"] = target.rss_kib()
    held.fds["no_sockets"] = count_fds(target.pid)
    try:
        await hold_sockets(resources, options, target, identities, held)
    finally:
        log("hold: closing sockets")
        await close_all(resources, [h.connection for h in held.sockets])
        for socket in held.sockets:
            socket.reader.cancel()
    await asyncio.sleep(5)
    held.rss["after_close"] = target.rss_kib()
    await end_open_conversations(resources)
    return hold_figures(options, target, held, setup_s)


async def hold_sockets(
    resources: Resources,
    options: argparse.Namespace,
    target: Server,
    identities: list[VisitorIdentity],
    held: Held,
) -> None:
    """Open the warm-up sockets, then the rest, hold them all, then ping every one."""

    async def open_one(identity: VisitorIdentity) -> None:
        try:
            connection, took = await visitor_hello(resources, identity, target, timeout=60)
        except Exception as error:  # counted and reported
            held.failures[type(error).__name__ + ": " + str(error)[:80]] += 1
            return
        held.open_times.append(took)
        held.sockets.append(HeldSocket(connection))

    concurrency: int = options.open_concurrency
    warm = held.warm
    await bounded(concurrency, [functools.partial(open_one, i) for i in identities[:warm]])
    await asyncio.sleep(2)
    held.rss["after_warmup"] = target.rss_kib()
    cpu = CpuWindow([target])
    opening = time.monotonic()
    await bounded(concurrency, [functools.partial(open_one, i) for i in identities[warm:]])
    held.open_s = time.monotonic() - opening
    held.cpu["open"] = cpu.finish()
    log(
        f"hold: {len(held.sockets)} sockets open in {held.open_s:.1f} s; "
        f"holding {options.hold_seconds} s"
    )
    await asyncio.sleep(3)
    held.rss["all_open"] = target.rss_kib()
    idle = CpuWindow([target])
    await asyncio.sleep(options.hold_seconds)
    held.cpu["idle"] = idle.finish()
    held.rss["after_hold"] = target.rss_kib()
    held.fds["held"] = count_fds(target.pid)
    log("hold: ping round over every socket")
    pongs = await bounded(500, [functools.partial(h.ping, 30) for h in held.sockets])
    held.answered = [p for p in pongs if p is not None]
    held.rss["after_ping"] = target.rss_kib()
    held.closed_early = Counter(h.closed_code for h in held.sockets if h.closed_code is not None)


def hold_figures(
    options: argparse.Namespace, target: Server, held: Held, setup_s: float
) -> dict[str, Any]:
    rss, warm, opened = held.rss, held.warm, len(held.sockets)
    alive = len(held.answered)
    per_socket = (rss["after_hold"] - rss["no_sockets"]) / alive if alive else None
    marginal = (rss["after_hold"] - rss["after_warmup"]) / (alive - warm) if alive > warm else None
    return {
        "server": {"index": target.index, "pid": target.pid, "nofile": target.nofile_limit()},
        "requested": options.sockets,
        "conversation_status": options.hold_status,
        "opened": opened,
        "held_alive": alive,
        "open_failures": dict(held.failures),
        "closed_early_codes": {str(k): v for k, v in held.closed_early.items()},
        "setup_http_s": round(setup_s, 1),
        "open_s": round(held.open_s, 1),
        "open_per_s": round((opened - warm) / held.open_s, 1) if held.open_s else None,
        "open_latency_ms": summarize_ms(held.open_times),
        "open_cpu": held.cpu["open"],
        "idle_cpu": held.cpu["idle"],
        "ping_rtt_ms": summarize_ms(held.answered),
        "rss_kib": {
            key: rss[key]
            for key in (
                "no_sockets",
                "after_warmup",
                "all_open",
                "after_hold",
                "after_ping",
                "after_close",
            )
        },
        "rss_per_socket_kib": round(per_socket, 1) if per_socket is not None else None,
        "rss_per_socket_marginal_kib": round(marginal, 1) if marginal is not None else None,
        "warmup_sockets": warm,
        "fds": {"no_sockets": held.fds["no_sockets"], "held": held.fds["held"]},
    }


# ------------------------------------------------------------------ scenario: chat


@dataclass
class ChatPlan:
    pairs: int
    counsellors: int
    capacity: int
    visitor_rate: float  # messages/s per visitor
    counsellor_rate: float  # messages/s per counsellor account
    pairs_requested: int
    note: str

    @property
    def total_rate(self) -> float:
        return self.pairs * self.visitor_rate + self.counsellors * self.counsellor_rate


def plan_chat(options: argparse.Namespace) -> ChatPlan:
    """The fewest pairs (>= --pairs) that reach --rate without any sender going over its
    per-minute budget, and the per-sender rates that add up to exactly --rate."""
    capacity = min(int(options.capacity), SERVER_MAX_CAPACITY)
    v_max = float(options.visitor_per_minute) / 60
    c_max = min(float(options.counsellor_per_minute), SERVER_STAFF_MESSAGES_PER_MINUTE * 5 / 6) / 60

    def ceiling(pairs: int) -> float:
        return pairs * v_max + math.ceil(pairs / capacity) * c_max

    pairs = options.pairs
    while ceiling(pairs) < options.rate:
        pairs += 1
    counsellors = math.ceil(pairs / capacity)
    scale = options.rate / ceiling(pairs)
    note = ""
    if pairs != options.pairs:
        note = (
            f"--pairs raised from {options.pairs} to {pairs}: {options.rate:g} msg/s with each "
            f"visitor <= {options.visitor_per_minute:g}/min and each counsellor <= "
            f"{c_max * 60:g}/min over {capacity} chats needs that many"
        )
    return ChatPlan(
        pairs=pairs,
        counsellors=counsellors,
        capacity=capacity,
        visitor_rate=v_max * scale,
        counsellor_rate=c_max * scale,
        pairs_requested=options.pairs,
        note=note,
    )


@dataclass
class Sent:
    conversation_id: str
    sender: str
    t_send: float
    measured: bool
    t_ack: float | None = None
    seq: int | None = None
    received: int = 0


class ChatStats:
    def __init__(self) -> None:
        self.sent: dict[str, Sent] = {}
        self.latency: dict[str, list[float]] = {"visitor": [], "counsellor": []}
        self.ack_latency: list[float] = []
        self.send_lag: list[float] = []  # actual minus scheduled send time (generator health)
        self.errors: Counter[str] = Counter()
        self.duplicates = 0
        self.gaps = 0
        self.corrupt = 0
        self.unknown = 0
        self.receipts_sent = 0
        self.measure_start = math.inf
        self.measure_end = math.inf
        self.timeline: dict[int, list[float]] = {}


class ChatSocket:
    """One visitor page or one console, reading everything it is sent."""

    def __init__(
        self,
        connection: ClientConnection,
        role: str,
        stats: ChatStats,
        receipts: bool,
    ) -> None:
        self.connection = connection
        self.role = role  # "visitor" or "counsellor": who sends on this socket
        self.stats = stats
        self.seen: dict[str, set[int]] = {}
        self.top: dict[str, int] = {}
        self.closed_code: int | None = None
        self.receipts = receipts
        self.dirty: set[str] = set()
        self.tasks = [asyncio.create_task(self._read())]
        if receipts:
            self.tasks.append(asyncio.create_task(self._send_receipts()))

    async def _read(self) -> None:
        try:
            async for raw in self.connection:
                self.on_frame(orjson.loads(raw), time.monotonic())
        except ConnectionClosed:
            pass
        self.closed_code = self.connection.close_code or -1

    def on_frame(self, frame: dict[str, Any], now: float) -> None:
        kind = frame.get("type")
        stats = self.stats
        if kind == "message":
            cid: str = frame["conversation_id"]
            seq: int = frame["seq"]
            seen = self.seen.setdefault(cid, set())
            if seq in seen:
                stats.duplicates += 1
                return
            top = self.top.get(cid, 0)
            if seq > top + 1:
                stats.gaps += 1
            seen.add(seq)
            self.top[cid] = max(top, seq)
            if self.receipts:
                self.dirty.add(cid)
            sender = frame.get("sender")
            if sender == self.role or sender == "system":
                return
            sent = stats.sent.get(frame.get("client_msg_id") or "")
            if sent is None:
                stats.unknown += 1
                return
            sent.received += 1
            body: str = frame.get("body", "")
            stamp = body.split(" ", 2)[1][2:] if body.startswith("bench t=") else ""
            try:
                t_body = float(stamp)
            except ValueError:
                stats.corrupt += 1
                return
            if abs(t_body - sent.t_send) > 1e-5:
                stats.corrupt += 1
            if sent.measured:
                stats.latency[sent.sender].append(now - t_body)
                second = int(sent.t_send - stats.measure_start)
                stats.timeline.setdefault(second, []).append(now - t_body)
        elif kind == "ack":
            sent = stats.sent.get(frame.get("client_msg_id") or "")
            if sent is not None and sent.t_ack is None:
                sent.t_ack = now
                sent.seq = frame.get("seq")
                if sent.measured:
                    stats.ack_latency.append(now - sent.t_send)
        elif kind == "error":
            stats.errors[str(frame.get("code"))] += 1

    async def send_message(self, conversation_id: str, body_pad: str, measured: bool) -> None:
        client_msg_id = str(uuid.uuid4())
        t_send = time.monotonic()
        frame: dict[str, Any] = {
            "type": "send",
            "client_msg_id": client_msg_id,
            "body": f"bench t={t_send:.6f} {body_pad}",
        }
        if self.role == "counsellor":
            frame["conversation_id"] = conversation_id
        self.stats.sent[client_msg_id] = Sent(conversation_id, self.role, t_send, measured)
        try:
            await send_json(self.connection, frame)
        except ConnectionClosed:
            self.stats.errors["send_on_closed_socket"] += 1

    async def _send_receipts(self) -> None:
        """Like the pages with the chat on screen: after 100 ms of quiet, "read" up to the
        newest seq (the server counts it as delivered too)."""
        while True:
            await asyncio.sleep(0.1)
            dirty, self.dirty = self.dirty, set()
            for cid in dirty:
                frame: dict[str, Any] = {"type": "receipt", "kind": "read", "seq": self.top[cid]}
                if self.role == "counsellor":
                    frame["conversation_id"] = cid
                with contextlib.suppress(ConnectionClosed):
                    await send_json(self.connection, frame)
                    self.stats.receipts_sent += 1

    def stop(self) -> None:
        for task in self.tasks:
            task.cancel()


@dataclass
class Counsellor:
    index: int
    email: str
    server: Server
    visitors_server: Server
    socket: ChatSocket | None = None
    conversations: list[str] = field(default_factory=list)


async def create_counsellors(resources: Resources, count: int, prefix: str) -> list[str]:
    """Counsellor accounts, straight in the database, with the test suite's password."""
    engine = create_engine(resources.database_url)
    emails = [f"{prefix}{i}@clb.example" for i in range(count)]
    try:
        async with create_sessionmaker(engine)() as session:
            centre = Centre(
                slug=f"clb-{prefix}",
                name="CLB Bench",
                phone=None,
                email=None,
                website=None,
                second_factor_required=False,
            )
            session.add(centre)
            await session.flush()
            for i, email in enumerate(emails):
                session.add(
                    StaffAccount(
                        email=email,
                        full_name=f"Bench Counsellor {prefix} {i}",
                        display_name=f"Bench{i}",
                        centre_id=centre.id,
                        roles=["counsellor"],
                        password_hash=TEST_PASSWORD_HASH,
                        is_active=True,
                    )
                )
            await session.commit()
    finally:
        await engine.dispose()
    return emails


async def assign_conversations(resources: Resources, counsellors: list[Counsellor]) -> None:
    """Make each counsellor hold its chats, as a claim would (status, counsellor, time)."""
    engine = create_engine(resources.database_url)
    try:
        async with engine.begin() as connection:
            for counsellor in counsellors:
                if not counsellor.conversations:
                    continue
                staff_id = select(StaffAccount.id).where(StaffAccount.email == counsellor.email)
                await connection.execute(
                    update(Conversation)
                    .where(Conversation.id.in_([uuid.UUID(c) for c in counsellor.conversations]))
                    .values(
                        status="active",
                        counsellor_id=staff_id.scalar_subquery(),
                        claimed_at=datetime.now(UTC),
                    )
                )
    finally:
        await engine.dispose()


async def pg_sessions(resources: Resources) -> int:
    """Sessions (connections) the scratch database has seen so far (PostgreSQL 14+)."""
    admin = await asyncpg.connect(resources.admin_dsn)
    try:
        value = await admin.fetchval(
            "SELECT sessions FROM pg_stat_database WHERE datname = $1", resources.database
        )
    except asyncpg.PostgresError:
        value = None
    finally:
        await admin.close()
    return int(value or 0)


@dataclass
class ChatRun:
    """One chat scenario's plan, figures, people and sockets."""

    plan: ChatPlan
    stats: ChatStats
    counsellors: list[Counsellor]
    sockets: list[ChatSocket] = field(default_factory=list)
    visitors: list[tuple[ChatSocket, str]] = field(default_factory=list)


@dataclass
class Sending:
    """What was measured while the senders ran."""

    seconds: float
    cpu: dict[str, Any]
    per_second_cpu: list[dict[str, Any]]
    loop_lag: dict[str, float | int | None]
    sessions: int  # new PostgreSQL sessions
    rss_start: list[int]


async def scenario_chat(resources: Resources, options: argparse.Namespace) -> dict[str, Any]:
    servers = resources.servers
    plan = plan_chat(options)
    if plan.note:
        log("chat: " + plan.note)
    log(
        f"chat: {plan.pairs} pairs, {plan.counsellors} counsellors x {plan.capacity} chats; "
        f"visitor {plan.visitor_rate * 60:.1f}/min, counsellor {plan.counsellor_rate * 60:.1f}"
        f"/min -> {plan.total_rate:.1f} msg/s"
    )
    started = time.monotonic()
    emails = await create_counsellors(resources, plan.counsellors, "chat")
    counsellors = [
        Counsellor(
            index=k,
            email=email,
            server=servers[k % len(servers)],
            visitors_server=servers[(k + 1) % len(servers)],
        )
        for k, email in enumerate(emails)
    ]
    chat = ChatRun(plan, ChatStats(), counsellors)
    try:
        await chat_setup(resources, options, chat)
        setup_s = time.monotonic() - started
        log(
            f"chat: set-up took {setup_s:.1f} s; {options.warmup:g} s warm-up, then "
            f"{options.duration:g} s measured"
        )
        sending = await chat_send(resources, options, chat)
        log(f"chat: sending done; waiting for stragglers (until {options.drain:g} s idle)")
        drain_s = await drain(chat.stats, options.drain)
        await asyncio.sleep(1)  # late duplicates show up too
        rss_end = [s.rss_kib() for s in servers]
        closed = Counter(s.closed_code for s in chat.sockets if s.closed_code is not None)
    finally:
        for socket in chat.sockets:
            socket.stop()
        await close_all(resources, [s.connection for s in chat.sockets])
    return {
        "plan": plan_figures(options, plan),
        "sockets": {"visitors": len(chat.visitors), "consoles": len(counsellors)},
        "setup_s": round(setup_s, 1),
        "measured_s": round(sending.seconds, 2),
        "drain_s": round(drain_s, 1),
        **delivery_figures(options, chat),
        "closed_sockets": {str(k): v for k, v in closed.items()},
        **latency_figures(chat.stats),
        "client_loop_lag_ms": sending.loop_lag,
        "cpu": sending.cpu,
        # New PostgreSQL connections per second while sending: the pools' overflow churning.
        "pg_sessions_per_s": round(sending.sessions / options.duration, 1),
        "rss_kib": {"start": sending.rss_start, "end": rss_end},
        "timeline": timeline(chat.stats, sending.per_second_cpu),
    }


async def chat_setup(resources: Resources, options: argparse.Namespace, chat: ChatRun) -> None:
    """Visitors over HTTP, their chats assigned to the counsellors, consoles and visitor
    sockets open."""
    plan, stats = chat.plan, chat.stats
    shares: list[tuple[Counsellor, int]] = []
    remaining = plan.pairs
    for counsellor in chat.counsellors:
        shares.append((counsellor, min(plan.capacity, remaining)))
        remaining -= shares[-1][1]
    log(f"chat: {plan.pairs} visitors join the queue over HTTP")
    identities = await create_visitors(
        [c.visitors_server for c, n in shares for _ in range(n)],
        resources.addresses,
        options.setup_concurrency,
    )
    groups: list[list[VisitorIdentity]] = []
    for counsellor, n in shares:
        groups.append(identities[:n])
        identities = identities[n:]
        counsellor.conversations = [i.conversation_id for i in groups[-1]]
    # Not with claim frames: every claim publishes a queue move, and a burst of them
    # overflows the consoles' queue subscriptions (see README, "Findings").
    await assign_conversations(resources, chat.counsellors)

    log("chat: counsellors log in through the form, open their consoles and chats")

    async def log_in(counsellor: Counsellor) -> None:
        cookie = await staff_cookie(counsellor.server.base_url, counsellor.email)
        connection = await open_socket(
            resources, counsellor.server, "/ws/console", headers={"Cookie": cookie}, timeout=60
        )
        await send_json(connection, {"type": "hello", "v": 1})
        welcome = await wait_for_type(connection, "welcome", 60)
        held = {c["id"] for c in welcome["conversations"]}
        if held != set(counsellor.conversations):
            raise RuntimeError(f"{counsellor.email} holds {len(held)} chats, not the planned")
        counsellor.socket = ChatSocket(connection, "counsellor", stats, options.receipts)
        chat.sockets.append(counsellor.socket)
        for conversation_id in counsellor.conversations:
            await send_json(
                connection, {"type": "open", "conversation_id": conversation_id, "last_seq": 0}
            )

    await bounded(8, [functools.partial(log_in, c) for c in chat.counsellors])

    log("chat: visitors open their sockets")

    async def join(identity: VisitorIdentity) -> None:
        connection, _ = await visitor_hello(resources, identity, identity.server, 60)
        socket = ChatSocket(connection, "visitor", stats, options.receipts)
        chat.sockets.append(socket)
        chat.visitors.append((socket, identity.conversation_id))

    await bounded(
        100,
        [functools.partial(join, i) for group in groups for i in group],
    )


async def chat_send(resources: Resources, options: argparse.Namespace, chat: ChatRun) -> Sending:
    """Every visitor and counsellor sends at its steady rate (open loop) through the warm-up
    and the measured window; CPU, loop lag and PostgreSQL sessions over the window."""
    plan, stats, servers = chat.plan, chat.stats, resources.servers
    body_pad = "x" * max(0, options.body_chars - len("bench t=0000000.000000 "))
    begin = time.monotonic() + 0.5
    stats.measure_start = begin + options.warmup
    stats.measure_end = stats.measure_start + options.duration

    def visitor_sender(socket: ChatSocket, conversation_id: str) -> Coroutine[Any, Any, None]:
        async def send(_k: int, due: float) -> None:
            await socket.send_message(conversation_id, body_pad, due >= stats.measure_start)

        return paced(begin, 1 / plan.visitor_rate, stats.measure_end, stats.send_lag, send)

    def counsellor_sender(counsellor: Counsellor) -> Coroutine[Any, Any, None]:
        socket = counsellor.socket
        assert socket is not None

        async def send(k: int, due: float) -> None:
            conversation_id = counsellor.conversations[k % len(counsellor.conversations)]
            await socket.send_message(conversation_id, body_pad, due >= stats.measure_start)

        return paced(begin, 1 / plan.counsellor_rate, stats.measure_end, stats.send_lag, send)

    senders = [asyncio.create_task(visitor_sender(s, c)) for s, c in chat.visitors] + [
        asyncio.create_task(counsellor_sender(c)) for c in chat.counsellors if c.conversations
    ]
    await sleep_until(stats.measure_start)
    sessions_before = await pg_sessions(resources)
    cpu = CpuWindow(servers)
    lag = LoopLag()
    lag.start()
    sampler = CpuSampler(servers)
    sampler.start()
    rss_start = [s.rss_kib() for s in servers]
    await asyncio.gather(*senders)
    cpu_measured = cpu.finish()
    sessions_after = await pg_sessions(resources)
    loop_lag = await lag.stop()
    per_second_cpu = await sampler.stop()
    return Sending(
        seconds=time.monotonic() - stats.measure_start,
        cpu=cpu_measured,
        per_second_cpu=per_second_cpu,
        loop_lag=loop_lag,
        sessions=sessions_after - sessions_before,
        rss_start=rss_start,
    )


async def drain(stats: ChatStats, quiet: float) -> float:
    """Wait for stragglers until nothing has arrived for ``quiet`` s (at most DRAIN_CAP)."""
    drain_start = last_progress = time.monotonic()
    last_pending = -1
    while (now := time.monotonic()) < drain_start + DRAIN_CAP:
        pending = sum(1 for s in stats.sent.values() if not s.received or s.t_ack is None)
        if pending == 0 or now - last_progress > quiet:
            break
        if pending != last_pending:
            last_pending, last_progress = pending, now
        await asyncio.sleep(0.2)
    return time.monotonic() - drain_start


def plan_figures(options: argparse.Namespace, plan: ChatPlan) -> dict[str, Any]:
    return {
        "pairs": plan.pairs,
        "pairs_requested": plan.pairs_requested,
        "counsellors": plan.counsellors,
        "capacity": plan.capacity,
        "visitor_msgs_per_min": round(plan.visitor_rate * 60, 2),
        "counsellor_msgs_per_min": round(plan.counsellor_rate * 60, 2),
        "target_rate": options.rate,
        "note": plan.note,
        "receipts": options.receipts,
        "body_chars": options.body_chars,
        "layout": "counsellor k's console on server k % N, its visitors on server (k+1) % N",
    }


def delivery_figures(options: argparse.Namespace, chat: ChatRun) -> dict[str, Any]:
    """Sent, delivered, lost, doubled, unacknowledged."""
    stats = chat.stats
    measured = [s for s in stats.sent.values() if s.measured]
    delivered = [s for s in measured if s.received]
    # Who should receive what: the counsellor's console for a visitor's message and back.
    receiver: dict[tuple[str, str], ChatSocket] = {}
    for socket, conversation_id in chat.visitors:
        receiver[(conversation_id, "counsellor")] = socket
    for counsellor in chat.counsellors:
        for conversation_id in counsellor.conversations:
            if counsellor.socket is not None:
                receiver[(conversation_id, "visitor")] = counsellor.socket
    undelivered = [s for s in stats.sent.values() if s.t_ack is not None and not s.received]
    receiver_closed = sum(
        1
        for s in undelivered
        if (r := receiver.get((s.conversation_id, s.sender))) is None or r.closed_code is not None
    )
    duplicates = stats.duplicates + sum(
        s.received - 1 for s in stats.sent.values() if s.received > 1
    )
    return {
        "sent_total": len(stats.sent),
        "sent_measured": len(measured),
        "sent_per_s": round(len(measured) / options.duration, 1),
        "delivered_per_s": round(len(delivered) / options.duration, 1),
        "lost": len(undelivered) - receiver_closed,
        # Acknowledged, not delivered because the server closed the receiving socket; a page
        # would reconnect with its last seq and get them (the benchmark does not reconnect).
        "undelivered_receiver_closed": receiver_closed,
        "not_acked": sum(1 for s in stats.sent.values() if s.t_ack is None),
        "duplicates": duplicates,
        "seq_gaps": stats.gaps,
        "corrupt_bodies": stats.corrupt,
        "unknown_messages": stats.unknown,
        "error_frames": dict(stats.errors),
    }


def latency_figures(stats: ChatStats) -> dict[str, Any]:
    return {
        "receipts_sent": stats.receipts_sent,
        "latency_ms": summarize_ms(stats.latency["visitor"] + stats.latency["counsellor"]),
        "latency_ms_visitor_to_counsellor": summarize_ms(stats.latency["visitor"]),
        "latency_ms_counsellor_to_visitor": summarize_ms(stats.latency["counsellor"]),
        "ack_ms": summarize_ms(stats.ack_latency),
        "client_send_lag_ms": summarize_ms(stats.send_lag),
    }


def timeline(stats: ChatStats, per_second_cpu: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per second of send time: latency, and the CPU use of that second."""
    return [
        {
            "second": second,
            **summarize_ms(values),
            "cpu": per_second_cpu[second] if second < len(per_second_cpu) else None,
        }
        for second, values in sorted(stats.timeline.items())
    ]


# ------------------------------------------------------------------ report


DRAIN_CAP = 300.0  # seconds: never wait longer than this for stragglers
HOLD_TARGET_SOCKETS = 5000
HOLD_TARGET_KIB = 50
CHAT_TARGET_RATE = 500
CHAT_TARGET_P99_MS = 50


def verdicts(results: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    hold = results.get("hold")
    if hold:
        per = hold["rss_per_socket_kib"]
        found["hold"] = {
            "target": f">= {HOLD_TARGET_SOCKETS} sockets at <= {HOLD_TARGET_KIB} KiB RSS each",
            "met": bool(
                hold["held_alive"] >= HOLD_TARGET_SOCKETS
                and per is not None
                and per <= HOLD_TARGET_KIB
            ),
        }
    chat = results.get("chat")
    if chat:
        p99 = chat["latency_ms"]["p99"]
        found["chat"] = {
            "target": f"p99 <= {CHAT_TARGET_P99_MS} ms at >= {CHAT_TARGET_RATE} msg/s, "
            "no loss, no duplicates",
            "met": bool(
                chat["delivered_per_s"] >= CHAT_TARGET_RATE * 0.98
                and p99 is not None
                and p99 <= CHAT_TARGET_P99_MS
                and chat["lost"] == 0
                and chat["duplicates"] == 0
            ),
        }
    return found


def print_summary(results: dict[str, Any]) -> None:
    run = results["run"]
    rows: list[tuple[str, str]] = [
        ("where", run["where"]),
        ("servers", f"{run['servers']} x clb serve (uvicorn, websockets-sansio)"),
    ]
    if results.get("hold"):
        rows += hold_rows(results["hold"])
    if results.get("chat"):
        rows += chat_rows(results["chat"], run["servers"])
    for name, verdict in results.get("verdicts", {}).items():
        rows.append(target_row(f"TARGET {name}", verdict))
    print_rows(rows)


def hold_rows(hold: dict[str, Any]) -> list[tuple[str, str]]:
    rss = hold["rss_kib"]
    return [
        (
            "HOLD",
            f"one process (server 0, pid {hold['server']['pid']}), "
            f"{hold['conversation_status']} conversations",
        ),
        (
            "  sockets held (answer ping)",
            f"{fmt(hold['held_alive'])} / {fmt(hold['requested'])}",
        ),
        ("  open failures", fmt(sum(hold["open_failures"].values()))),
        ("  RSS per socket", f"{fmt(hold['rss_per_socket_kib'])} KiB"),
        ("  RSS per socket, marginal", f"{fmt(hold['rss_per_socket_marginal_kib'])} KiB"),
        (
            "  RSS no sockets -> held -> closed",
            f"{rss['no_sockets'] / 1024:,.0f} -> {rss['after_hold'] / 1024:,.0f} -> "
            f"{rss['after_close'] / 1024:,.0f} MiB",
        ),
        (
            "  open rate, hello->welcome p50/p99",
            f"{fmt(hold['open_per_s'])}/s, {fmt(hold['open_latency_ms']['p50'])} / "
            f"{fmt(hold['open_latency_ms']['p99'])} ms",
        ),
        (
            "  ping->pong p50/p99/max",
            f"{fmt(hold['ping_rtt_ms']['p50'])} / {fmt(hold['ping_rtt_ms']['p99'])} / "
            f"{fmt(hold['ping_rtt_ms']['max'])} ms",
        ),
        (
            "  server CPU opening / idle-held",
            f"{fmt(hold['open_cpu']['servers_pct_of_core'][0])}% / "
            f"{fmt(hold['idle_cpu']['servers_pct_of_core'][0])}% of a core "
            f"(PG {fmt(hold['idle_cpu']['postgres_pct_of_core'])}% idle-held)",
        ),
    ]


def chat_rows(chat: dict[str, Any], servers: int) -> list[tuple[str, str]]:
    plan = chat["plan"]
    lat = chat["latency_ms"]
    return [
        ("CHAT", f"{plan['pairs']} pairs over {servers} servers, persisted"),
        (
            "  senders",
            f"{chat['sockets']['visitors']} visitors @ {plan['visitor_msgs_per_min']}/min, "
            f"{chat['sockets']['consoles']} consoles @ {plan['counsellor_msgs_per_min']}/min",
        ),
        (
            "  msgs/s sent / delivered",
            f"{fmt(chat['sent_per_s'])} / {fmt(chat['delivered_per_s'])} "
            f"(target {fmt(plan['target_rate'])})",
        ),
        (
            "  send->receive p50/p90/p99/max",
            f"{fmt(lat['p50'])} / {fmt(lat['p90'])} / {fmt(lat['p99'])} / {fmt(lat['max'])} ms",
        ),
        (
            "  v->c p99, c->v p99",
            f"{fmt(chat['latency_ms_visitor_to_counsellor']['p99'])} ms, "
            f"{fmt(chat['latency_ms_counsellor_to_visitor']['p99'])} ms",
        ),
        (
            "  send->ack p50/p99",
            f"{fmt(chat['ack_ms']['p50'])} / {fmt(chat['ack_ms']['p99'])} ms",
        ),
        (
            "  lost / duplicates / gaps / not acked",
            f"{chat['lost']} / {chat['duplicates']} / {chat['seq_gaps']} / "
            f"{chat['not_acked']}  (+{chat['undelivered_receiver_closed']} undelivered: "
            "receiver closed by the server)",
        ),
        ("  error frames", str(chat["error_frames"] or "none")),
        ("  sockets closed by the server", str(chat["closed_sockets"] or "none")),
        ("  drain after sending", f"{fmt(chat['drain_s'])} s"),
        *cpu_rows(chat["cpu"], machine=True),
        ("  new PostgreSQL connections/s", fmt(chat["pg_sessions_per_s"])),
        (
            "  client loop lag p99/max",
            f"{fmt(chat['client_loop_lag_ms']['p99'])} / "
            f"{fmt(chat['client_loop_lag_ms']['max'])} ms",
        ),
    ]


# ------------------------------------------------------------------ main


async def run(options: argparse.Namespace, resources: Resources, results: Results) -> None:
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)

    async def scenarios() -> None:
        visitor_per_minute = max(
            SERVER_VISITOR_DEFAULT_PER_MINUTE, math.ceil(options.visitor_per_minute * 1.2)
        )
        extra_env = {
            "CLB_CHAT_ALWAYS_OPEN": "true",
            "CLB_LOG_LEVEL": "WARNING",
            "CLB_CHAT_MAX_QUEUE": "1000000",
            "CLB_CHAT_COUNSELLOR_CAPACITY": str(min(options.capacity, SERVER_MAX_CAPACITY)),
            "CLB_CHAT_ADDRESS_RATE_PER_MINUTE": str(options.address_rate),
            "CLB_CHAT_VISITOR_RATE_PER_MINUTE": str(visitor_per_minute),
        }
        await resources.start_servers(options.servers, extra_env)
        results["run"] = run_info(
            WHERE.format(cpus=os.cpu_count()),
            resources,
            extra_env,
            server_pids=[s.pid for s in resources.servers],
            server_nofile=[s.nofile_limit() for s in resources.servers],
        )
        log(f"{options.servers} servers ready: {[s.base_url for s in resources.servers]}")
        if options.scenario in ("all", "hold"):
            results["hold"] = await scenario_hold(resources, options)
        if options.scenario in ("all", "chat"):
            results["chat"] = await scenario_chat(resources, options)
        resources.check_servers()

    await run_scratch(
        resources,
        results,
        timeout=options.timeout,
        cleaning="sockets, servers, database, Redis keys",
        body=scenarios,
    )


def conclude(results: Results) -> None:
    results["verdicts"] = verdicts(results)


def main(argv: list[str] | None = None) -> int:
    options = build_parser().parse_args(argv)
    return run_main(options, "chat_bench_", run, conclude=conclude, summary=print_summary)


if __name__ == "__main__":
    raise SystemExit(main())
