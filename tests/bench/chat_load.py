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
import platform
import random
import resource
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import orjson
from redis.asyncio import Redis
from sqlalchemy import select, text, update
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

from chat.conversations.models import Conversation
from clb.auth.models import StaffAccount
from clb.db import create_engine, create_sessionmaker
from clb.org.models import Centre
from composition.migrate import migrate
from tests.chat.support import FORM, staff_cookie
from tests.conftest import ROOT, TEST_PASSWORD_HASH, ServerUrls, free_port, server_env

T = TypeVar("T")

# The server's own limits this benchmark has to respect (chat/, clb/auth/router.py).
SERVER_STAFF_MESSAGES_PER_MINUTE = 120  # chat.socket_common.STAFF_MESSAGES, fixed
SERVER_MAX_CAPACITY = 10  # Settings.chat_counsellor_capacity le=10
SERVER_VISITOR_DEFAULT_PER_MINUTE = 30  # Settings.chat_visitor_rate_per_minute default

CLK_TCK = os.sysconf("SC_CLK_TCK")
DEFAULT_OUT = Path("/tmp/chat_bench.json")  # noqa: S108 - the documented default
WHERE = (
    "load generator: this one asyncio process on the same machine, talking to 127.0.0.1; it "
    "shares the {cpus} CPU cores with the servers, PostgreSQL and Redis"
)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# ------------------------------------------------------------------ options


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench.chat_load",
        description=(
            "Chat load benchmark against real `clb serve` processes on 127.0.0.1 with a "
            "scratch database and Redis namespace (both removed at the end). "
            "See tests/bench/README.md."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--scenario", choices=["all", "hold", "chat"], default="all", help="what to run"
    )
    parser.add_argument(
        "--database-url",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="PostgreSQL server (any database on it) where bench_<random> is created",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379", help="Redis server")
    parser.add_argument("--servers", type=positive_int, default=2, help="clb serve processes")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results")
    parser.add_argument(
        "--timeout", type=float, default=1800, help="hard limit for the whole run, seconds"
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

    hold = parser.add_argument_group("hold scenario")
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

    chat = parser.add_argument_group("chat scenario")
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
    return parser


# ------------------------------------------------------------------ measuring processes


def read_rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def read_cpu_seconds(pid: int, *, reaped_children: bool = False) -> float:
    """utime + stime; with ``reaped_children`` also the CPU of children that have exited
    (PostgreSQL backends that closed are counted in the postmaster's cutime + cstime)."""
    with open(f"/proc/{pid}/stat") as stat:
        data = stat.read()
    fields = data[data.rindex(")") + 2 :].split()
    ticks = int(fields[11]) + int(fields[12])
    if reaped_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / CLK_TCK


def count_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def cpu_by_program() -> dict[str, float]:
    """CPU seconds used so far by every PostgreSQL and Redis process on the machine."""
    totals = {"postgres": 0.0, "redis": 0.0}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/comm") as comm:
                name = comm.read().strip()
            kind = (
                "postgres"
                if name.startswith("postgres")
                else "redis"
                if name.startswith("redis-server")
                else None
            )
            if kind:
                totals[kind] += read_cpu_seconds(int(entry), reaped_children=True)
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return totals


def machine_cpu() -> tuple[float, float, float, float]:
    """(busy, total, irq+softirq, steal) CPU seconds of the whole machine, all cores."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:9]]
    idle = values[3] + values[4]
    total = sum(values)
    return (
        (total - idle) / CLK_TCK,
        total / CLK_TCK,
        (values[5] + values[6]) / CLK_TCK,
        values[7] / CLK_TCK,
    )


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class CpuWindow:
    """CPU use between start and finish, as % of ONE core per program (machine: % of all)."""

    def __init__(self, servers: list[Server]) -> None:
        self.servers = servers
        self.wall = time.monotonic()
        self.server_cpu = [read_cpu_seconds(s.pid) for s in servers]
        self.bench = own_cpu_seconds()
        self.programs = cpu_by_program()
        self.machine = machine_cpu()

    def finish(self) -> dict[str, Any]:
        wall = time.monotonic() - self.wall
        programs = cpu_by_program()
        busy, total, irq, steal = machine_cpu()

        def pct(seconds: float) -> float:
            return round(100 * seconds / wall, 1) if wall > 0 else 0.0

        servers = [
            read_cpu_seconds(s.pid) - before
            for s, before in zip(self.servers, self.server_cpu, strict=True)
        ]
        bench = own_cpu_seconds() - self.bench
        postgres = programs["postgres"] - self.programs["postgres"]
        redis = programs["redis"] - self.programs["redis"]
        machine_busy = busy - self.machine[0]
        irq -= self.machine[2]
        steal -= self.machine[3]
        return {
            "wall_s": round(wall, 2),
            "servers_pct_of_core": [pct(seconds) for seconds in servers],
            "bench_pct_of_core": pct(bench),
            "postgres_pct_of_core": pct(postgres),
            "redis_pct_of_core": pct(redis),
            "irq_pct_of_core": pct(irq),  # interrupts and softirqs (e.g. loopback networking)
            "steal_pct_of_core": pct(steal),  # taken by the hypervisor
            # Every other process on the machine (other jobs: they disturb the figures).
            "other_pct_of_core": pct(
                max(0.0, machine_busy - sum(servers) - bench - postgres - redis - irq - steal)
            ),
            "machine_busy_pct_of_all_cores": round(
                100 * machine_busy / max(total - self.machine[1], 1e-9), 1
            ),
        }


class CpuSampler:
    """CpuWindow every second, to line up latency spikes with who was using the CPU."""

    def __init__(self, servers: list[Server]) -> None:
        self.servers = servers
        self.samples: list[dict[str, Any]] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            window = CpuWindow(self.servers)
            await asyncio.sleep(1)
            self.samples.append(window.finish())

    async def stop(self) -> list[dict[str, Any]]:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        return self.samples


class LoopLag:
    """How late this (client) event loop wakes up: a saturated load generator shows here."""

    def __init__(self, every: float = 0.02) -> None:
        self.every = every
        self.samples: list[float] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.samples.clear()
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(self.every)
            self.samples.append(time.monotonic() - before - self.every)

    async def stop(self) -> dict[str, float | int | None]:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        return summarize_ms(self.samples)


def percentile(ordered: list[float], q: float) -> float:
    rank = max(0, math.ceil(q / 100 * len(ordered)) - 1)
    return ordered[rank]


def summarize_ms(seconds: Iterable[float]) -> dict[str, float | int | None]:
    ordered = sorted(seconds)
    if not ordered:
        return {"count": 0, "p50": None, "p90": None, "p99": None, "max": None, "mean": None}
    return {
        "count": len(ordered),
        "p50": round(percentile(ordered, 50) * 1000, 2),
        "p90": round(percentile(ordered, 90) * 1000, 2),
        "p99": round(percentile(ordered, 99) * 1000, 2),
        "max": round(ordered[-1] * 1000, 2),
        "mean": round(sum(ordered) / len(ordered) * 1000, 2),
    }


# ------------------------------------------------------------------ servers and resources


def _raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# Runs `python -m clb serve ...` in the same process (same pid) after raising the open-file
# limit to the hard limit, and asks the kernel to SIGTERM it if the bench dies (the parent
# is the thread that started it: always the main thread here).
SERVER_WRAPPER = """
import ctypes, os, resource, signal, sys
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
hard = 1 << 20 if hard == resource.RLIM_INFINITY else hard
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
os.execv(sys.executable, [sys.executable, *sys.argv[1:]])
"""


@dataclass
class Server:
    index: int
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_base(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def rss_kib(self) -> int:
        return read_rss_kib(self.pid)

    def alive(self) -> bool:
        return self.process.poll() is None

    def nofile_limit(self) -> int:
        with open(f"/proc/{self.pid}/limits") as limits:
            for line in limits:
                if line.startswith("Max open files"):
                    return int(line.split()[3])
        return -1


def stop_process(process: subprocess.Popen[bytes], grace: float = 15) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def with_database(dsn: str, name: str) -> str:
    return urlunsplit(urlsplit(dsn)._replace(path="/" + name))


class Addresses:
    """Distinct client addresses 10.x.y.z, one per visitor of the run."""

    def __init__(self) -> None:
        self.next = 1

    def take(self) -> str:
        n, self.next = self.next, self.next + 1
        return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


@dataclass
class Resources:
    """Everything the run creates, so that cleanup can undo it whatever happened."""

    admin_dsn: str
    redis_url: str
    namespace: str = field(default_factory=lambda: f"bench{secrets.token_hex(4)}")
    database: str = field(default_factory=lambda: f"bench_{secrets.token_hex(5)}")
    database_created: bool = False
    database_dropped: bool = False
    redis_cleaned: bool = False
    servers: list[Server] = field(default_factory=list)
    work_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="chat_bench_")))
    sockets: set[ClientConnection] = field(default_factory=set)
    addresses: Addresses = field(default_factory=Addresses)

    @property
    def database_url(self) -> str:
        return (
            "postgresql+asyncpg://"
            + with_database(self.admin_dsn, self.database).split("://", 1)[1]
        )

    async def create_database(self) -> None:
        admin = await asyncpg.connect(self.admin_dsn)
        try:
            await admin.execute(f'CREATE DATABASE "{self.database}"')
            self.database_created = True
        finally:
            await admin.close()
        await migrate(self.database_url)

    def launch_server(self, index: int, extra_env: dict[str, str]) -> Server:
        port = free_port()
        data_dir = self.work_dir / f"server{index}"
        data_dir.mkdir()
        env = server_env(
            self.database_url,
            ServerUrls(self.admin_dsn, self.redis_url),
            self.namespace,
            data_dir,
            port,
        )
        env.update(extra_env)
        log_path = self.work_dir / f"server{index}.log"
        with open(log_path, "wb") as log_file:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    SERVER_WRAPPER,
                    "-m",
                    "composition",
                    "serve",
                    "--port",
                    str(port),
                ],
                env=env,
                cwd=ROOT,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl+C reaches the bench, which stops them in order
            )
        return Server(index, port, process, log_path)

    async def start_servers(self, count: int, extra_env: dict[str, str]) -> None:
        for index in range(count):
            self.servers.append(self.launch_server(index, extra_env))
        for server in self.servers:
            await wait_ready(server, timeout=60)

    async def stop_servers(self) -> None:
        await asyncio.gather(
            *(asyncio.to_thread(stop_process, s.process) for s in self.servers),
            return_exceptions=True,
        )

    def abort_sockets(self) -> None:
        for socket in list(self.sockets):
            with contextlib.suppress(Exception):
                socket.transport.abort()
        self.sockets.clear()

    async def drop_database(self) -> None:
        if not self.database_created or self.database_dropped:
            return
        admin = await asyncpg.connect(self.admin_dsn)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            self.database_dropped = True
        finally:
            await admin.close()

    async def clean_redis(self) -> None:
        if self.redis_cleaned:
            return
        client = Redis.from_url(self.redis_url)
        try:
            for pattern in (f"{self.namespace}:*", f"arq:*:{self.namespace}:*"):
                keys = [key async for key in client.scan_iter(match=pattern, count=1000)]
                for start in range(0, len(keys), 1000):
                    await client.delete(*keys[start : start + 1000])
            self.redis_cleaned = True
        finally:
            await client.aclose()

    async def cleanup(self) -> None:
        """Idempotent; each step on its own so one failure does not skip the others."""
        self.abort_sockets()
        for step in (self.stop_servers, self.drop_database, self.clean_redis):
            try:
                await asyncio.wait_for(step(), 60)
            except Exception as error:  # report and go on cleaning
                log(f"cleanup: {step.__name__} failed: {error!r}")

    def cleanup_sync(self) -> None:
        """Last resort after the event loop is gone (second Ctrl+C, crash)."""
        for server in self.servers:
            with contextlib.suppress(Exception):
                stop_process(server.process, grace=5)
        if self.database_created and not self.database_dropped:
            try:
                asyncio.run(self.drop_database())
            except Exception:
                log(f"could not drop database {self.database}: drop it by hand")
        if not self.redis_cleaned:
            with contextlib.suppress(Exception):
                asyncio.run(self.clean_redis())


async def wait_ready(server: Server, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2, trust_env=False) as http:
        while time.monotonic() < deadline:
            if not server.alive():
                tail = server.log_path.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"server {server.index} exited early:\n{tail}")
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(f"{server.base_url}/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise RuntimeError(f"server {server.index} not ready within {timeout} s")


async def bounded(limit: int, jobs: Iterable[Callable[[], Awaitable[T]]]) -> list[T]:
    """Run the jobs with at most ``limit`` at a time; results in order; first error raises."""
    semaphore = asyncio.Semaphore(limit)

    async def one(job: Callable[[], Awaitable[T]]) -> T:
        async with semaphore:
            return await job()

    return list(await asyncio.gather(*(one(job) for job in jobs)))


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


async def scenario_hold(resources: Resources, options: argparse.Namespace) -> dict[str, Any]:
    servers = resources.servers
    target = servers[0]
    count: int = options.sockets
    log(f"hold: creating {count} visitors and conversations over HTTP")
    started = time.monotonic()
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
    setup_s = time.monotonic() - started
    log(
        f"hold: set-up took {setup_s:.1f} s; opening {options.hold_status} visitors' sockets "
        f"to server 0 (pid {target.pid})"
    )

    await asyncio.sleep(2)
    rss_no_sockets = target.rss_kib()
    fds_no_sockets = count_fds(target.pid)
    warm = max(0, min(options.warmup_sockets, count // 10))
    held: list[HeldSocket] = []
    open_times: list[float] = []
    failures: Counter[str] = Counter()

    async def open_one(identity: VisitorIdentity) -> None:
        try:
            connection, took = await visitor_hello(resources, identity, target, timeout=60)
        except Exception as error:  # counted and reported
            failures[type(error).__name__ + ": " + str(error)[:80]] += 1
            return
        open_times.append(took)
        held.append(HeldSocket(connection))

    concurrency: int = options.open_concurrency
    try:
        await bounded(concurrency, [functools.partial(open_one, i) for i in identities[:warm]])
        await asyncio.sleep(2)
        rss_after_warmup = target.rss_kib()
        cpu = CpuWindow([target])
        opening = time.monotonic()
        await bounded(concurrency, [functools.partial(open_one, i) for i in identities[warm:]])
        open_s = time.monotonic() - opening
        open_cpu = cpu.finish()
        log(f"hold: {len(held)} sockets open in {open_s:.1f} s; holding {options.hold_seconds} s")
        await asyncio.sleep(3)
        rss_open = target.rss_kib()
        idle = CpuWindow([target])
        await asyncio.sleep(options.hold_seconds)
        idle_cpu = idle.finish()
        rss_held = target.rss_kib()
        fds_held = count_fds(target.pid)
        log("hold: ping round over every socket")
        pongs = await bounded(500, [functools.partial(h.ping, 30) for h in held])
        answered = [p for p in pongs if p is not None]
        rss_after_ping = target.rss_kib()
        closed_early = Counter(h.closed_code for h in held if h.closed_code is not None)
    finally:
        log("hold: closing sockets")
        await close_all(resources, [h.connection for h in held])
        for socket in held:
            socket.reader.cancel()
    await asyncio.sleep(5)
    rss_closed = target.rss_kib()
    await end_open_conversations(resources)

    alive = len(answered)
    per_socket = (rss_held - rss_no_sockets) / alive if alive else None
    marginal = (rss_held - rss_after_warmup) / (alive - warm) if alive > warm else None
    return {
        "server": {"index": target.index, "pid": target.pid, "nofile": target.nofile_limit()},
        "requested": count,
        "conversation_status": options.hold_status,
        "opened": len(held),
        "held_alive": alive,
        "open_failures": dict(failures),
        "closed_early_codes": {str(k): v for k, v in closed_early.items()},
        "setup_http_s": round(setup_s, 1),
        "open_s": round(open_s, 1),
        "open_per_s": round((len(held) - warm) / open_s, 1) if open_s else None,
        "open_latency_ms": summarize_ms(open_times),
        "open_cpu": open_cpu,
        "idle_cpu": idle_cpu,
        "ping_rtt_ms": summarize_ms(answered),
        "rss_kib": {
            "no_sockets": rss_no_sockets,
            "after_warmup": rss_after_warmup,
            "all_open": rss_open,
            "after_hold": rss_held,
            "after_ping": rss_after_ping,
            "after_close": rss_closed,
        },
        "rss_per_socket_kib": round(per_socket, 1) if per_socket is not None else None,
        "rss_per_socket_marginal_kib": round(marginal, 1) if marginal is not None else None,
        "warmup_sockets": warm,
        "fds": {"no_sockets": fds_no_sockets, "held": fds_held},
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
                slug=f"clb-{prefix}", name="CLB Bench", phone=None, email=None, website=None
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


async def sleep_until(moment: float) -> None:
    delay = moment - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)


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
    stats = ChatStats()
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
    sockets: list[ChatSocket] = []
    visitors: list[tuple[ChatSocket, str]] = []
    body_pad = "x" * max(0, options.body_chars - len("bench t=0000000.000000 "))
    try:
        shares: list[tuple[Counsellor, int]] = []
        remaining = plan.pairs
        for counsellor in counsellors:
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
        await assign_conversations(resources, counsellors)

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
            sockets.append(counsellor.socket)
            for conversation_id in counsellor.conversations:
                await send_json(
                    connection, {"type": "open", "conversation_id": conversation_id, "last_seq": 0}
                )

        await bounded(8, [functools.partial(log_in, c) for c in counsellors])

        log("chat: visitors open their sockets")

        async def join(identity: VisitorIdentity) -> None:
            connection, _ = await visitor_hello(resources, identity, identity.server, 60)
            socket = ChatSocket(connection, "visitor", stats, options.receipts)
            sockets.append(socket)
            visitors.append((socket, identity.conversation_id))

        await bounded(
            100,
            [functools.partial(join, i) for group in groups for i in group],
        )
        setup_s = time.monotonic() - started
        log(
            f"chat: set-up took {setup_s:.1f} s; {options.warmup:g} s warm-up, then "
            f"{options.duration:g} s measured"
        )

        begin = time.monotonic() + 0.5
        stats.measure_start = begin + options.warmup
        stats.measure_end = stats.measure_start + options.duration

        async def visitor_sender(socket: ChatSocket, conversation_id: str) -> None:
            period = 1 / plan.visitor_rate
            first = begin + random.uniform(0, period)
            k = 0
            while (at := first + k * period) < stats.measure_end:
                await sleep_until(at)
                stats.send_lag.append(time.monotonic() - at)
                await socket.send_message(conversation_id, body_pad, at >= stats.measure_start)
                k += 1

        async def counsellor_sender(counsellor: Counsellor) -> None:
            assert counsellor.socket is not None
            period = 1 / plan.counsellor_rate
            first = begin + random.uniform(0, period)
            k = 0
            while (at := first + k * period) < stats.measure_end:
                await sleep_until(at)
                stats.send_lag.append(time.monotonic() - at)
                chat = counsellor.conversations[k % len(counsellor.conversations)]
                await counsellor.socket.send_message(chat, body_pad, at >= stats.measure_start)
                k += 1

        senders = [asyncio.create_task(visitor_sender(s, c)) for s, c in visitors] + [
            asyncio.create_task(counsellor_sender(c)) for c in counsellors if c.conversations
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
        sending_s = time.monotonic() - stats.measure_start

        log(f"chat: sending done; waiting for stragglers (until {options.drain:g} s idle)")
        drain_start = last_progress = time.monotonic()
        last_pending = -1
        while (now := time.monotonic()) < drain_start + DRAIN_CAP:
            pending = sum(1 for s in stats.sent.values() if not s.received or s.t_ack is None)
            if pending == 0 or now - last_progress > options.drain:
                break
            if pending != last_pending:
                last_pending, last_progress = pending, now
            await asyncio.sleep(0.2)
        drain_s = time.monotonic() - drain_start
        await asyncio.sleep(1)  # late duplicates show up too
        rss_end = [s.rss_kib() for s in servers]
        closed = Counter(s.closed_code for s in sockets if s.closed_code is not None)
    finally:
        for socket in sockets:
            socket.stop()
        await close_all(resources, [s.connection for s in sockets])

    measured = [s for s in stats.sent.values() if s.measured]
    delivered = [s for s in measured if s.received]
    # Who should receive what: the counsellor's console for a visitor's message and back.
    receiver: dict[tuple[str, str], ChatSocket] = {}
    for socket, conversation_id in visitors:
        receiver[(conversation_id, "counsellor")] = socket
    for counsellor in counsellors:
        for conversation_id in counsellor.conversations:
            if counsellor.socket is not None:
                receiver[(conversation_id, "visitor")] = counsellor.socket
    undelivered = [s for s in stats.sent.values() if s.t_ack is not None and not s.received]
    receiver_closed = sum(
        1
        for s in undelivered
        if (r := receiver.get((s.conversation_id, s.sender))) is None or r.closed_code is not None
    )
    lost = len(undelivered) - receiver_closed
    not_acked = sum(1 for s in stats.sent.values() if s.t_ack is None)
    duplicates = stats.duplicates + sum(
        s.received - 1 for s in stats.sent.values() if s.received > 1
    )
    both = stats.latency["visitor"] + stats.latency["counsellor"]
    timeline = [
        {
            "second": second,
            **summarize_ms(values),
            "cpu": per_second_cpu[second] if second < len(per_second_cpu) else None,
        }
        for second, values in sorted(stats.timeline.items())
    ]
    return {
        "plan": {
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
        },
        "sockets": {"visitors": len(visitors), "consoles": len(counsellors)},
        "setup_s": round(setup_s, 1),
        "measured_s": round(sending_s, 2),
        "drain_s": round(drain_s, 1),
        "sent_total": len(stats.sent),
        "sent_measured": len(measured),
        "sent_per_s": round(len(measured) / options.duration, 1),
        "delivered_per_s": round(len(delivered) / options.duration, 1),
        "lost": lost,
        # Acknowledged, not delivered because the server closed the receiving socket; a page
        # would reconnect with its last seq and get them (the benchmark does not reconnect).
        "undelivered_receiver_closed": receiver_closed,
        "not_acked": not_acked,
        "duplicates": duplicates,
        "seq_gaps": stats.gaps,
        "corrupt_bodies": stats.corrupt,
        "unknown_messages": stats.unknown,
        "error_frames": dict(stats.errors),
        "closed_sockets": {str(k): v for k, v in closed.items()},
        "receipts_sent": stats.receipts_sent,
        "latency_ms": summarize_ms(both),
        "latency_ms_visitor_to_counsellor": summarize_ms(stats.latency["visitor"]),
        "latency_ms_counsellor_to_visitor": summarize_ms(stats.latency["counsellor"]),
        "ack_ms": summarize_ms(stats.ack_latency),
        "client_send_lag_ms": summarize_ms(stats.send_lag),
        "client_loop_lag_ms": loop_lag,
        "cpu": cpu_measured,
        # New PostgreSQL connections per second while sending: the pools' overflow churning.
        "pg_sessions_per_s": round((sessions_after - sessions_before) / options.duration, 1),
        "rss_kib": {"start": rss_start, "end": rss_end},
        "timeline": timeline,
    }


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


def fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def print_summary(results: dict[str, Any]) -> None:
    rows: list[tuple[str, str]] = []
    run = results["run"]
    rows.append(("where", run["where"]))
    rows.append(("servers", f"{run['servers']} x clb serve (uvicorn, websockets-sansio)"))
    hold = results.get("hold")
    if hold:
        rss = hold["rss_kib"]
        rows += [
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
    chat = results.get("chat")
    if chat:
        plan = chat["plan"]
        lat = chat["latency_ms"]
        cpu = chat["cpu"]
        rows += [
            ("CHAT", f"{plan['pairs']} pairs over {run['servers']} servers, persisted"),
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
            (
                "  CPU % of a core: servers / PG / Redis / bench",
                f"{' + '.join(fmt(c) for c in cpu['servers_pct_of_core'])} / "
                f"{fmt(cpu['postgres_pct_of_core'])} / {fmt(cpu['redis_pct_of_core'])} / "
                f"{fmt(cpu['bench_pct_of_core'])}",
            ),
            (
                "  CPU % of a core: irq / steal / other jobs",
                f"{fmt(cpu['irq_pct_of_core'])} / {fmt(cpu['steal_pct_of_core'])} / "
                f"{fmt(cpu['other_pct_of_core'])}  "
                f"(machine {fmt(cpu['machine_busy_pct_of_all_cores'])}% busy of all cores)",
            ),
            ("  new PostgreSQL connections/s", fmt(chat["pg_sessions_per_s"])),
            (
                "  client loop lag p99/max",
                f"{fmt(chat['client_loop_lag_ms']['p99'])} / "
                f"{fmt(chat['client_loop_lag_ms']['max'])} ms",
            ),
        ]
    for name, verdict in results.get("verdicts", {}).items():
        rows.append(
            (f"TARGET {name}", f"{'MET' if verdict['met'] else 'MISSED'}: {verdict['target']}")
        )
    width = max(len(name) for name, _ in rows)
    print()
    print("=" * 100)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print("=" * 100)


# ------------------------------------------------------------------ main


async def run(options: argparse.Namespace, resources: Resources, results: dict[str, Any]) -> None:
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        async with asyncio.timeout(options.timeout):
            log(f"database {resources.database}, Redis namespace {resources.namespace}")
            await resources.create_database()
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
            results["run"] = {
                "started": now_iso(),
                "argv": sys.argv[1:],
                "where": WHERE.format(cpus=os.cpu_count()),
                "host": {
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "kernel": platform.release(),
                    "client_loop": type(asyncio.get_running_loop()).__module__,
                },
                "servers": options.servers,
                "server_env": extra_env,
                "server_pids": [s.pid for s in resources.servers],
                "server_nofile": [s.nofile_limit() for s in resources.servers],
                "work_dir": str(resources.work_dir),
            }
            log(f"{options.servers} servers ready: {[s.base_url for s in resources.servers]}")
            if options.scenario in ("all", "hold"):
                results["hold"] = await scenario_hold(resources, options)
            if options.scenario in ("all", "chat"):
                results["chat"] = await scenario_chat(resources, options)
            for server in resources.servers:
                if not server.alive():
                    raise RuntimeError(f"server {server.index} died; see {server.log_path}")
    finally:
        results["server_log_problems"] = [server_log_problems(s) for s in resources.servers]
        log("cleaning up: sockets, servers, database, Redis keys")
        await resources.cleanup()


def server_log_problems(server: Server) -> int:
    """Lines in a server's log (level WARNING and up) that mention an error or traceback."""
    with contextlib.suppress(OSError):
        text = server.log_path.read_text(errors="replace")
        return sum(1 for line in text.splitlines() if "Error" in line or "Traceback" in line)
    return -1


def main(argv: list[str] | None = None) -> int:
    options = build_parser().parse_args(argv)
    _raise_nofile()
    admin_dsn = "postgresql://" + options.database_url.split("://", 1)[1]
    resources = Resources(admin_dsn=admin_dsn, redis_url=options.redis_url)
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    if not options.no_uvloop:
        with contextlib.suppress(ImportError):
            import uvloop

            loop_factory = uvloop.new_event_loop
    results: dict[str, Any] = {}
    code = 0
    try:
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            runner.run(run(options, resources, results))
    except KeyboardInterrupt:
        results["error"] = "interrupted"
        code = 130
    except TimeoutError:
        results["error"] = f"hard timeout of {options.timeout:g} s reached"
        code = 2
    except Exception as error:
        traceback.print_exc()
        results["error"] = repr(error)
        code = 1
    finally:
        resources.cleanup_sync()
    results["verdicts"] = verdicts(results)
    options.out.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
    if "run" in results:
        print_summary(results)
    if "error" in results:
        log(f"run stopped early: {results['error']} (partial results written)")
    print(f"JSON: {options.out}   server logs: {resources.work_dir}")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
