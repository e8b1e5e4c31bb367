"""This platform's chat next to the server a Python developer would otherwise write, under
the traffic of the real page, with one load generator in the same run.

Run ``python -m tests.bench.chat_compare --help``; tests/bench/README.md explains the
output. Not a test: pytest does not collect it.

Three systems, each on two server processes with Redis between them, the two sides of
every pair on different processes:

* ``clb``: ``clb serve`` (persisted, authorised, rate-limited, triaged);
* ``peer``: python-socketio with ``AsyncRedisManager``, each message persisted with asyncpg
  before its ack (``tests/bench/peer_socketio.py``);
* ``relay``: a bare ``websockets`` relay through Redis pub/sub, no persistence, no auth
  (``tests/bench/bare_relay.py``).

The page's traffic mix: before each message the sender sends a ``typing`` frame, the other
side answers every message with a ``read`` receipt, and every socket pings every 20 s.
Open loop: each sender sends at its share of the rate whatever the answers do. Rates go up
in steps; a step is held when send→receive p99 ≤ 50 ms with nothing lost.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import importlib
import os
import random
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import asyncpg

from tests.bench.chat_load import (
    Counsellor,
    VisitorIdentity,
    assign_conversations,
    create_counsellors,
    create_visitors,
)
from tests.bench.compare_clients import ClbClient, OnEvent
from tests.bench.harness.cpu import CpuWindow, read_rss_kib
from tests.bench.harness.load import LoopLag, bounded, paced
from tests.bench.harness.program import Results, bench_parser, run_info, run_main, run_scratch
from tests.bench.harness.report import fmt, log, print_rows
from tests.bench.harness.servers import Server
from tests.bench.harness.services import Resources
from tests.bench.harness.stats import summarize_ms
from tests.chat.support import staff_cookie
from tests.conftest import ROOT, free_port

MODULES = {"peer": "peer_socketio", "relay": "bare_relay"}
HELD_P99_MS = 50.0
PING_EVERY = 20.0
WHERE = (
    "load generator: this one asyncio process (uvloop) on the same machine, talking to "
    "127.0.0.1; it shares the {cpus} CPU cores with the servers, PostgreSQL and Redis"
)


class ChatClient(Protocol):
    async def send_message(self, client_msg_id: str, body: str, t: float) -> None: ...
    async def send_typing(self, active: bool) -> None: ...
    async def send_read(self, seq: int) -> None: ...
    async def ping(self) -> None: ...
    async def close(self) -> None: ...


ClientFactory = Callable[[OnEvent], Awaitable[ChatClient]]


class Process(Protocol):
    @property
    def pid(self) -> int: ...


class System(Protocol):
    name: str
    processes: list[Process]

    async def start(self) -> None: ...
    async def pairs(self, count: int) -> list[tuple[ClientFactory, ClientFactory]]: ...
    async def visitors(self, count: int) -> list[ClientFactory]: ...
    async def stored(self) -> int | None: ...
    async def stop(self) -> None: ...


# ------------------------------------------------------------------ the systems


class ClbSystem:
    name = "clb"

    def __init__(self, resources: Resources, servers: int) -> None:
        self.resources = resources
        self.servers = servers
        self.processes: list[Process] = []
        self.env = {
            "CLB_CHAT_ALWAYS_OPEN": "true",
            "CLB_LOG_LEVEL": "WARNING",
            "CLB_CHAT_MAX_QUEUE": "1000000",
            # The limits are checked on every message as in production, set high enough
            # that the benchmark's senders stay under them.
            "CLB_CHAT_VISITOR_RATE_PER_MINUTE": "100000",
            "CLB_CHAT_ADDRESS_RATE_PER_MINUTE": "1000000",
            "CLB_CHAT_STAFF_RATE_PER_MINUTE": "100000",
        }

    async def start(self) -> None:
        for index in range(self.servers):  # a second round starts them again
            shutil.rmtree(self.resources.work_dir / f"server{index}", ignore_errors=True)
        await self.resources.start_servers(self.servers, self.env)
        self.processes = list(self.resources.servers)

    async def pairs(self, count: int) -> list[tuple[ClientFactory, ClientFactory]]:
        servers = self.resources.servers
        n = len(servers)
        identities = await create_visitors(
            [servers[k % n] for k in range(count)], self.resources.addresses, 32
        )
        emails = await create_counsellors(self.resources, count, f"cmp{random.randrange(10**6)}")
        counsellors = [
            Counsellor(k, email, servers[(k + 1) % n], servers[k % n], None, [i.conversation_id])
            for k, (email, i) in enumerate(zip(emails, identities, strict=True))
        ]
        await assign_conversations(self.resources, counsellors)
        cookies = await bounded(
            8, [functools.partial(staff_cookie, c.server.base_url, c.email) for c in counsellors]
        )
        return [
            (_clb_visitor(identity), _clb_counsellor(c.server, cookie, identity.conversation_id))
            for identity, c, cookie in zip(identities, counsellors, cookies, strict=True)
        ]

    async def visitors(self, count: int) -> list[ClientFactory]:
        """Pupils in a running chat (held by one counsellor whose console is closed), spread
        over the processes."""
        servers = self.resources.servers
        identities = await create_visitors(
            [servers[k % len(servers)] for k in range(count)], self.resources.addresses, 32
        )
        (email,) = await create_counsellors(self.resources, 1, f"idle{random.randrange(10**6)}")
        holder = Counsellor(0, email, servers[0], servers[0], None)
        holder.conversations = [i.conversation_id for i in identities]
        await assign_conversations(self.resources, [holder])
        return [_clb_visitor(identity) for identity in identities]

    async def stored(self) -> int | None:
        connection = await self.resources.connect()
        try:
            return int(
                await connection.fetchval(
                    "SELECT count(*) FROM chat_messages WHERE sender <> 'system'"
                )
            )
        finally:
            await connection.close()

    async def stop(self) -> None:
        await self.resources.stop_servers()
        self.resources.servers.clear()


def _clb_visitor(identity: VisitorIdentity) -> ClientFactory:
    async def factory(on_event: OnEvent) -> ChatClient:
        return await ClbClient.visitor(
            identity.server.ws_base,
            identity.token,
            identity.conversation_id,
            identity.address,
            on_event,
        )

    return factory


def _clb_counsellor(server: Server, cookie: str, conversation_id: str) -> ClientFactory:
    async def factory(on_event: OnEvent) -> ChatClient:
        return await ClbClient.counsellor(server.ws_base, cookie, conversation_id, on_event)

    return factory


@dataclass
class Started:
    """A peer or relay process."""

    process: subprocess.Popen[bytes]
    port: int

    @property
    def pid(self) -> int:
        return self.process.pid


class OtherSystem:
    """The socket.io peer or the bare relay: ``python -m tests.bench.<module>``."""

    def __init__(self, name: str, resources: Resources, servers: int) -> None:
        self.name = name
        self.resources = resources
        self.servers = servers
        self.processes: list[Process] = []
        self.started: list[Started] = []
        self.prefix = f"{resources.namespace}{name}"

    @property
    def module(self) -> Any:
        """Imported when used: the peer needs python-socketio."""
        return importlib.import_module(f"tests.bench.{MODULES[self.name]}")

    @property
    def dsn(self) -> str:
        return "postgresql://" + self.resources.database_url.split("://", 1)[1]

    async def start(self) -> None:
        if self.name == "peer":
            await self.module.create_schema(self.dsn, self.prefix)
        for index in range(self.servers):
            port = free_port()
            args = [sys.executable, "-m", f"tests.bench.{MODULES[self.name]}"]
            args += ["--port", str(port), "--redis-url", self.resources.redis_url]
            args += ["--prefix", self.prefix]
            if self.name == "peer":
                args += ["--database-url", self.dsn]
            log_path = self.resources.work_dir / f"{self.name}{index}.log"
            process = _launch(args, log_path)
            self.started.append(Started(process, port))
        for started in self.started:
            await _wait_port(started)
        self.processes = list(self.started)

    async def pairs(self, count: int) -> list[tuple[ClientFactory, ClientFactory]]:
        n = len(self.started)
        conversations = [str(uuid.uuid4()) for _ in range(count)]
        if self.name == "peer":
            connection = await asyncpg.connect(self.dsn)
            try:
                await connection.executemany(
                    f"INSERT INTO {self.prefix}_conversations (id) VALUES ($1)",  # noqa: S608
                    [(uuid.UUID(c),) for c in conversations],
                )
            finally:
                await connection.close()
        client = self.module.PeerClient if self.name == "peer" else self.module.RelayClient

        def factory(port: int, conversation: str, role: str) -> ClientFactory:
            async def connect(on_event: OnEvent) -> ChatClient:
                made: ChatClient = await client.connect(
                    f"ws://127.0.0.1:{port}", conversation, role, on_event
                )
                return made

            return connect

        return [
            (
                factory(self.started[k % n].port, c, "visitor"),
                factory(self.started[(k + 1) % n].port, c, "counsellor"),
            )
            for k, c in enumerate(conversations)
        ]

    async def visitors(self, count: int) -> list[ClientFactory]:
        return [visitor for visitor, _ in await self.pairs(count)]

    async def stored(self) -> int | None:
        if self.name != "peer":
            return None
        connection = await asyncpg.connect(self.dsn)
        try:
            return int(
                await connection.fetchval(f"SELECT count(*) FROM {self.prefix}_messages")  # noqa: S608
            )
        finally:
            await connection.close()

    async def stop(self) -> None:
        for started in self.started:
            started.process.terminate()
        for started in self.started:
            try:
                await asyncio.to_thread(started.process.wait, 10)
            except subprocess.TimeoutExpired:
                started.process.kill()
        if self.name == "peer":
            await self.module.drop_schema(self.dsn, self.prefix)


def _launch(args: list[str], log_path: Path) -> subprocess.Popen[bytes]:
    with open(log_path, "wb") as log_file:
        return subprocess.Popen(
            args, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
        )


async def _wait_port(started: Started) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if started.process.poll() is not None:
            raise RuntimeError(f"process on port {started.port} exited early")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", started.port)
        except OSError:
            await asyncio.sleep(0.2)
            continue
        writer.close()
        return
    raise RuntimeError(f"nothing listens on port {started.port} after 60 s")


# ------------------------------------------------------------------ the load


@dataclass
class Sent:
    t_send: float
    measured: bool
    t_ack: float | None = None
    received: bool = False


@dataclass
class Tally:
    """What one step saw."""

    sent: dict[str, Sent] = field(default_factory=dict)
    latency: list[float] = field(default_factory=list)
    ack_latency: list[float] = field(default_factory=list)
    ping: list[float] = field(default_factory=list)
    lag: list[float] = field(default_factory=list)
    duplicates: int = 0
    errors: int = 0
    receipts: int = 0
    typing: int = 0
    last_arrival: float = 0.0


class Side:
    """One socket of a pair, counting what it receives and answering messages with a
    ``read`` receipt, as the page does."""

    def __init__(self, pairs: Pairs) -> None:
        self.pairs = pairs
        self.client: ChatClient | None = None
        self.ping_sent = 0.0
        self.loop = asyncio.get_running_loop()

    def on_event(self, kind: str, data: dict[str, Any]) -> None:
        now = time.monotonic()
        tally = self.pairs.tally
        if kind == "message":
            sent = tally.sent.get(str(data.get("client_msg_id")))
            tally.last_arrival = now
            if sent is None:
                return
            if sent.received:
                tally.duplicates += 1
                return
            sent.received = True
            if sent.measured:
                tally.latency.append(now - sent.t_send)
            if self.client is not None:
                _ = self.loop.create_task(self.client.send_read(int(data["seq"])))
        elif kind == "ack":
            sent = tally.sent.get(str(data.get("client_msg_id")))
            if sent is not None and sent.t_ack is None:
                sent.t_ack = now
                if sent.measured:
                    tally.ack_latency.append(now - sent.t_send)
        elif kind == "pong":
            if self.ping_sent:
                tally.ping.append(now - self.ping_sent)
                self.ping_sent = 0.0
        elif kind == "receipt":
            tally.receipts += 1
        elif kind == "typing":
            tally.typing += 1
        elif kind == "error":
            tally.errors += 1


class Pairs:
    """All the sockets of one system's run."""

    def __init__(self) -> None:
        self.tally = Tally()
        self.sides: list[Side] = []

    async def open(self, factories: list[tuple[ClientFactory, ClientFactory]]) -> None:
        async def one(factory: ClientFactory) -> Side:
            side = Side(self)
            side.client = await factory(side.on_event)
            return side

        flat = [f for pair in factories for f in pair]
        self.sides = await bounded(50, [functools.partial(one, f) for f in flat])

    async def close(self) -> None:
        await asyncio.gather(
            *(s.client.close() for s in self.sides if s.client), return_exceptions=True
        )

    async def ping_round_robin(self, rounds: int | None = None) -> None:
        """Every socket pings every PING_EVERY s, spread evenly (a tick every 50 ms);
        ``rounds``: stop after pinging every socket that often."""
        tick = 0.05
        per_tick = max(1, round(len(self.sides) * tick / PING_EVERY))
        done = 0
        next_tick = time.monotonic()
        while rounds is None or done < rounds:
            for start in range(0, len(self.sides), per_tick):
                next_tick += tick
                await asyncio.sleep(max(0.0, next_tick - time.monotonic()))
                for side in self.sides[start : start + per_tick]:
                    if side.client is not None:
                        side.ping_sent = time.monotonic()
                        await side.client.ping()
            done += 1

    async def step(
        self, rate: float, warmup: float, duration: float, system: System
    ) -> dict[str, Any]:
        self.tally = tally = Tally()
        period = len(self.sides) / rate
        begin = time.monotonic() + 0.5
        measure_from = begin + warmup
        end = measure_from + duration
        body = "x" * 60

        def sender(side: Side) -> Callable[[int, float], Awaitable[None]]:
            async def send(_k: int, _due: float) -> None:
                assert side.client is not None
                client_msg_id = str(uuid.uuid4())
                await side.client.send_typing(True)
                now = time.monotonic()
                tally.sent[client_msg_id] = Sent(now, measure_from <= now < end)
                await side.client.send_message(client_msg_id, body, now)

            return send

        lag = LoopLag()
        lag.start()
        senders = [
            asyncio.create_task(paced(begin, period, end, tally.lag, sender(side)))
            for side in self.sides
        ]
        await asyncio.sleep(max(0.0, measure_from - time.monotonic()))
        cpu = CpuWindow(system.processes)
        stored_before = await system.stored()
        await asyncio.sleep(max(0.0, end - time.monotonic()))
        window = cpu.finish()
        await asyncio.gather(*senders)
        loop_lag = await lag.stop()
        await self.drain()
        measured = [s for s in tally.sent.values() if s.measured]
        delivered = sum(1 for s in measured if s.received)
        lost = sum(1 for s in tally.sent.values() if s.t_ack is not None and not s.received)
        unacked = sum(1 for s in tally.sent.values() if s.t_ack is None)
        latency = summarize_ms(tally.latency)
        stored_after = await system.stored()
        server_cpu = sum(window["servers_pct_of_core"]) / 100 * window["wall_s"]
        return {
            "rate": rate,
            "sent_per_s": round(len(measured) / duration, 1),
            "delivered_per_s": round(delivered / duration, 1),
            "latency_ms": latency,
            "ack_ms": summarize_ms(tally.ack_latency),
            "ping_ms": summarize_ms(tally.ping),
            "lost": lost,
            "unacked": unacked,
            "duplicates": tally.duplicates,
            "errors": tally.errors,
            "receipts_seen": tally.receipts,
            "typing_seen": tally.typing,
            "stored_in_window": (
                stored_after - stored_before
                if stored_after is not None and stored_before is not None
                else None
            ),
            "cpu": window,
            "server_cpu_ms_per_message": (
                round(1000 * server_cpu / len(measured), 3) if measured else None
            ),
            "send_lag_ms": summarize_ms(tally.lag),
            "client_loop_lag_ms": loop_lag,
            "held": bool(
                latency["p99"] is not None
                and latency["p99"] <= HELD_P99_MS
                and lost == 0
                and delivered >= 0.999 * len(measured)
            ),
        }

    async def drain(self, quiet: float = 3.0, limit: float = 60.0) -> None:
        """Wait until every message has arrived, or nothing has for ``quiet`` s."""
        deadline = time.monotonic() + limit
        tally = self.tally
        tally.last_arrival = time.monotonic()
        while time.monotonic() < deadline:
            if all(s.received for s in tally.sent.values()):
                return
            if time.monotonic() - tally.last_arrival > quiet:
                return
            await asyncio.sleep(0.2)


async def run_system(system: System, options: argparse.Namespace) -> dict[str, Any]:
    log(f"{system.name}: starting {options.servers} processes")
    await system.start()
    pairs = Pairs()
    try:
        factories = await system.pairs(options.pairs)
        await pairs.open(factories)
        log(f"{system.name}: {len(pairs.sides)} sockets open")
        pinger = asyncio.create_task(pairs.ping_round_robin())
        steps: list[dict[str, Any]] = []
        try:
            for rate in options.rates:
                step = await pairs.step(rate, options.warmup, options.duration, system)
                steps.append(step)
                lat = step["latency_ms"]
                log(
                    f"{system.name} {rate:g}/s: delivered {step['delivered_per_s']}/s, "
                    f"p50/p99 {fmt(lat['p50'])}/{fmt(lat['p99'])} ms, ack p99 "
                    f"{fmt(step['ack_ms']['p99'])} ms, lost {step['lost']}, servers "
                    f"{step['cpu']['servers_pct_of_core']} %, bench "
                    f"{step['cpu']['bench_pct_of_core']} %"
                )
                if step["delivered_per_s"] < 0.9 * rate or (lat["p99"] or 0) > 5000:
                    break  # overloaded: higher steps say nothing new
        finally:
            pinger.cancel()
        held = [s["rate"] for s in steps if s["held"]]
        return {
            "steps": steps,
            "highest_rate_held": max(held) if held else 0,
            "rss_kib": [read_rss_kib(p.pid) for p in system.processes],
        }
    finally:
        await pairs.close()
        await system.stop()


async def run_idle(system: System, options: argparse.Namespace) -> dict[str, Any]:
    """``--idle`` visitor sockets over the processes, after the handshake, doing nothing but
    the page's ping every 20 s: RSS per socket and the pings' round trip."""
    log(f"{system.name}: starting {options.servers} processes for {options.idle} idle sockets")
    await system.start()
    pairs = Pairs()
    try:
        factories = await system.visitors(options.idle)
        await asyncio.sleep(2)
        before = [read_rss_kib(p.pid) for p in system.processes]
        opening = time.monotonic()
        sides = await bounded(200, [functools.partial(_open_side, pairs, f) for f in factories])
        pairs.sides = sides
        open_s = time.monotonic() - opening
        log(f"{system.name}: {len(sides)} idle sockets open in {open_s:.0f} s; holding")
        await asyncio.sleep(options.hold)
        cpu = CpuWindow(system.processes)
        await pairs.ping_round_robin(rounds=1)  # one page ping per socket, over 20 s
        await asyncio.sleep(2)
        window = cpu.finish()
        after = [read_rss_kib(p.pid) for p in system.processes]
        held = len(pairs.tally.ping)
        return {
            "sockets": len(sides),
            "answered_ping": held,
            "open_s": round(open_s, 1),
            "rss_kib_before": before,
            "rss_kib_after": after,
            "rss_per_socket_kib": round((sum(after) - sum(before)) / max(1, len(sides)), 1),
            "ping_ms": summarize_ms(pairs.tally.ping),
            "cpu": window,
        }
    finally:
        await pairs.close()
        await system.stop()


async def _open_side(pairs: Pairs, factory: ClientFactory) -> Side:
    side = Side(pairs)
    side.client = await factory(side.on_event)
    return side


def make_system(name: str, resources: Resources, servers: int) -> System:
    if name == "clb":
        return ClbSystem(resources, servers)
    return OtherSystem(name, resources, servers)


# ------------------------------------------------------------------ program


def build_parser() -> argparse.ArgumentParser:
    parser = bench_parser(
        "chat_compare",
        "Chat comparison (this platform, a python-socketio peer, a bare relay)",
        ["clb", "peer", "relay"],
        servers=(2, "server processes per system"),
        out=Path("/tmp/chat_compare.json"),  # noqa: S108 - the documented default
        timeout=(5400, "hard limit for the whole run, seconds"),
    )
    parser.add_argument("--pairs", type=int, default=200, help="visitor-counsellor pairs")
    parser.add_argument(
        "--rates",
        type=lambda text: [float(r) for r in text.split(",")],
        default=[250.0, 500.0, 750.0, 1000.0, 1250.0, 1500.0, 2000.0],
        help="messages/s per step, all senders together",
    )
    parser.add_argument("--duration", type=float, default=20, help="measured seconds per step")
    parser.add_argument("--warmup", type=float, default=3, help="unmeasured seconds per step")
    parser.add_argument("--rounds", type=int, default=1, help="run every system this often")
    parser.add_argument(
        "--idle",
        type=int,
        default=0,
        help="instead of the chat steps: this many idle visitor sockets (RSS, ping)",
    )
    parser.add_argument("--hold", type=float, default=20, help="idle seconds before measuring")
    parser.add_argument("--no-uvloop", action="store_true", help="default asyncio loop")
    return parser


async def run(options: argparse.Namespace, resources: Resources, results: Results) -> None:
    async def body() -> None:
        results["run"] = run_info(
            WHERE.format(cpus=os.cpu_count()),
            resources,
            {},
            pairs=options.pairs,
            rates=options.rates,
        )
        names = ["clb", "peer", "relay"] if options.scenario == "all" else [options.scenario]
        results["systems"] = {}
        for round_ in range(options.rounds):
            for name in names:
                system = make_system(name, resources, options.servers)
                if options.idle:
                    idle = await run_idle(system, options)
                    results.setdefault("idle", {}).setdefault(name, []).append(idle)
                    continue
                figures = await run_system(system, options)
                results["systems"].setdefault(name, []).append({"round": round_, **figures})

    await run_scratch(
        resources, results, timeout=options.timeout, cleaning="servers, database", body=body
    )


def print_summary(results: Results) -> None:
    rows: list[tuple[str, str]] = [("where", results["run"]["where"])]
    for name, runs in results.get("systems", {}).items():
        for figures in runs:
            rows.append((f"{name} (round {figures['round']})", ""))
            rows.append(("  highest rate held at p99 <= 50 ms", fmt(figures["highest_rate_held"])))
            for step in figures["steps"]:
                lat, ack, cpu = step["latency_ms"], step["ack_ms"], step["cpu"]
                rows.append(
                    (
                        f"  {step['rate']:g}/s",
                        f"delivered {step['delivered_per_s']}/s; p50/p90/p99 "
                        f"{fmt(lat['p50'])}/{fmt(lat['p90'])}/{fmt(lat['p99'])} ms; ack "
                        f"p50/p99 {fmt(ack['p50'])}/{fmt(ack['p99'])}; lost {step['lost']}; "
                        f"CPU % servers {cpu['servers_pct_of_core']} pg "
                        f"{cpu['postgres_pct_of_core']} redis {cpu['redis_pct_of_core']} "
                        f"bench {cpu['bench_pct_of_core']}; "
                        f"{fmt(step['server_cpu_ms_per_message'])} ms/msg",
                    )
                )
    for name, runs in results.get("idle", {}).items():
        for idle in runs:
            ping = idle["ping_ms"]
            rows.append(
                (
                    f"{name} idle",
                    f"{idle['sockets']} sockets, {idle['rss_per_socket_kib']} KiB RSS each; ping "
                    f"p50/p99 {fmt(ping['p50'])}/{fmt(ping['p99'])} ms "
                    f"({idle['answered_ping']} answered); CPU % "
                    f"{idle['cpu']['servers_pct_of_core']}",
                )
            )
    print_rows(rows)


def main(argv: list[str] | None = None) -> int:
    options = build_parser().parse_args(argv)
    return run_main(
        options, "chat_compare_", run, conclude=lambda _results: None, summary=print_summary
    )


if __name__ == "__main__":
    raise SystemExit(main())
