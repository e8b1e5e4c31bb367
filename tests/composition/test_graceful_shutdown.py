"""Graceful shutdown of ``clb serve``: SIGTERM an instance holding 200 chat sockets while
messages flow; every client resumes on the other instance, and no message is lost, stored
twice or shown out of order. See docs/chat-protocol.md (close codes)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from websockets.exceptions import ConnectionClosed

from chat.conversations.models import Conversation, Message
from clb.auth import service as auth_service
from clb.config import Settings
from clb.db import utcnow
from clb.web.deps import session_cookie_name
from tests.chat.support import Socket, Visitor, console
from tests.conftest import ServerEnv, free_port, make_centre, make_staff, start_server

pytestmark = pytest.mark.slow

VISITORS = 160
CHATS_PER_COUNSELLOR = 4
COUNSELLORS = VISITORS // CHATS_PER_COUNSELLOR  # 160 + 40 = 200 sockets on instance A
MESSAGES = 6  # each client sends this many, one about every SEND_EVERY seconds
SEND_EVERY = 1.0
GRACE_SECONDS = 25
SPREAD_SECONDS = 2.0
# Generous: a loaded two-core machine runs both servers, PostgreSQL, Redis and 200 clients.
WAIT = 60.0
# Refusals that say "send it again later" (Redis or PostgreSQL briefly slow on a loaded box).
RETRY_CODES = {"temporarily_unavailable", "rate_limited"}
# The pages' limits are for people, and these clients send faster than one person types;
# the shutdown settings spelled out (the defaults are 25 and 2).
SERVER_SETTINGS = {
    "CLB_CHAT_VISITOR_RATE_PER_MINUTE": "600",
    "CLB_CHAT_STAFF_RATE_PER_MINUTE": "6000",
    "CLB_SHUTDOWN_GRACE_SECONDS": str(GRACE_SECONDS),
    "CLB_SHUTDOWN_SPREAD_SECONDS": str(SPREAD_SECONDS),
}


@dataclass
class Instance:
    url: str
    process: subprocess.Popen[bytes]


@pytest.fixture
def instances(session_server_env: ServerEnv, tmp_path: Path) -> Iterator[tuple[Instance, Instance]]:
    """Two ``clb serve`` processes on the test database and Redis; B accepts pages that
    came from A (behind one load balancer they would share an origin)."""
    started: list[Instance] = []
    try:
        first_url = ""
        for name in ("a", "b"):
            port = free_port()
            (tmp_path / name).mkdir()
            env = {**session_server_env(tmp_path / name, port), **SERVER_SETTINGS}
            if first_url:
                env["CLB_ALLOWED_ORIGINS"] = json.dumps([first_url])
            started.append(Instance(f"http://127.0.0.1:{port}", start_server(env, port)))
            first_url = first_url or started[0].url
        yield started[0], started[1]
    finally:
        for instance in started:
            if instance.process.poll() is None:
                instance.process.kill()
                instance.process.wait(timeout=15)


@dataclass
class Sent:
    conversation_id: str
    client_msg_id: str
    body: str
    ack: dict[str, Any] | None = None
    acked_on: str = ""
    wire: int = -1  # the connection it last went out on
    first_wire: int = -1


@dataclass
class Client:
    """One page: its socket, which reconnects to instance B after a close (a short jittered
    wait, as reconnecting-socket.js does), its own messages kept until acked and sent again
    after the reconnect, and what it was shown, by seq, duplicates dropped."""

    name: str
    chats: list[str]
    origin: str
    visitor: Visitor | None = None
    cookie: str = ""
    socket: Socket | None = None
    instance: str = ""
    connection: int = 0
    up: asyncio.Event = field(default_factory=asyncio.Event)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    sent: list[Sent] = field(default_factory=list)
    pending: dict[str, Sent] = field(default_factory=dict)
    shown: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)
    closes: list[tuple[int | None, float, datetime]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    retries: set[asyncio.Task[None]] = field(default_factory=set)

    async def open(self, name: str, url: str) -> None:
        if self.visitor is not None:
            last = max(self.shown.get(self.chats[0], {0: {}}))
            self.socket = await self.visitor.connect(last, base_url=url, origin=self.origin)
        else:
            self.socket = await console(url, self.cookie, origin=self.origin, on_duty=False)
            for chat in self.chats:
                last = max(self.shown.get(chat, {0: {}}))
                await self.socket.send({"type": "open", "conversation_id": chat, "last_seq": last})
        self.instance = name
        self.connection += 1
        async with self.lock:  # what was never acked goes out again, oldest first
            for sent in list(self.pending.values()):
                await self.transmit(sent)
        self.up.set()

    async def transmit(self, sent: Sent) -> None:
        assert self.socket is not None
        frame = {"type": "send", "client_msg_id": sent.client_msg_id, "body": sent.body}
        if self.visitor is None:
            frame["conversation_id"] = sent.conversation_id
        sent.wire = self.connection
        if sent.first_wire < 0:
            sent.first_wire = self.connection
        with contextlib.suppress(ConnectionClosed):
            await self.socket.send(frame)

    async def read_until_closed(self) -> None:
        assert self.socket is not None
        try:
            while self.socket.pending:
                self.receive(self.socket.pending.pop(0))
            while True:
                self.receive(await self.socket.recv(timeout=3600))
        except ConnectionClosed as closed:
            self.up.clear()
            code = closed.rcvd.code if closed.rcvd is not None else None
            self.closes.append((code, time.monotonic(), datetime.now(UTC)))

    def receive(self, frame: dict[str, Any]) -> None:
        if frame["type"] == "message":
            self.shown.setdefault(frame["conversation_id"], {}).setdefault(frame["seq"], frame)
        elif frame["type"] == "ack":
            sent = self.pending.pop(frame["client_msg_id"], None)
            if sent is not None:
                sent.ack, sent.acked_on = frame, self.instance
        elif frame["type"] == "error" and frame["code"] in RETRY_CODES:
            # As the page does: what is not acked goes out again after the wait asked for.
            retry = asyncio.create_task(self.resend_after(float(frame.get("retry_after") or 1)))
            self.retries.add(retry)
            retry.add_done_callback(self.retries.discard)
        elif frame["type"] == "error":
            self.errors.append(frame)

    async def resend_after(self, delay: float) -> None:
        await asyncio.sleep(delay)
        async with self.lock:
            if self.up.is_set():
                for sent in list(self.pending.values()):
                    await self.transmit(sent)

    async def live(self, a: Instance, b: Instance) -> None:
        """Connected to A until it closes the socket, then on B for the rest of the test."""
        await self.read_until_closed()
        await asyncio.sleep(random.uniform(0.25, 0.5))  # noqa: S311 - jitter, not a secret
        await self.open("B", b.url)
        await self.read_until_closed()

    async def send_all(self) -> None:
        for n in range(MESSAGES):
            chat = self.chats[n % len(self.chats)]
            sent = Sent(chat, str(uuid.uuid4()), f"{self.name} #{n}")
            self.sent.append(sent)
            self.pending[sent.client_msg_id] = sent
            async with self.lock:
                if self.up.is_set() and sent.wire != self.connection:
                    await self.transmit(sent)
            await asyncio.sleep(SEND_EVERY * random.uniform(0.5, 1.5))  # noqa: S311


async def bounded(limit: int, jobs: list[Any]) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(job: Any) -> Any:
        async with gate:
            return await job

    return await asyncio.gather(*(one(job) for job in jobs))


async def eventually(
    what: str, check: Any, clients: list[Client], tasks: list[asyncio.Task[None]]
) -> None:
    """Wait until ``check()`` holds (polled: the clients' own tasks make it true); fail at
    once when a client was refused something or one of its tasks failed."""
    deadline = time.monotonic() + WAIT
    while not check():
        assert [e for c in clients for e in c.errors] == []
        for task in tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                raise AssertionError(f"a client failed while waiting for {what}") from (
                    task.exception()
                )
        assert time.monotonic() < deadline, f"not within {WAIT} s: {what}"
        await asyncio.sleep(0.05)


async def make_clients(db: AsyncSession, settings: Settings, a: Instance) -> list[Client]:
    """160 visitors, each in a chat held by one of 40 counsellors (4 each), as if claimed."""
    visitors: list[Visitor] = await bounded(
        16,
        [Visitor.join(a.url, address=f"10.9.{n // 250}.{n % 250 + 1}") for n in range(VISITORS)],
    )
    centre = await make_centre(db, slug="clb-shutdown")
    clients = [
        Client(f"visitor {n}", [v.conversation_id], a.url, visitor=v)
        for n, v in enumerate(visitors)
    ]
    for n in range(COUNSELLORS):
        staff = await make_staff(db, email=f"c{n}@clb.example", centre=centre)
        token = await auth_service.start_session(db, staff, settings)
        chats = [v.conversation_id for v in visitors[n::COUNSELLORS]]
        now = utcnow()
        await db.execute(
            update(Conversation)
            .where(Conversation.id.in_([uuid.UUID(c) for c in chats]))
            .values(status="active", counsellor_id=staff.id, claimed_at=now, talk_started_at=now)
        )
        cookie = f"{session_cookie_name(settings)}={token}"
        clients.append(Client(f"counsellor {n}", chats, a.url, cookie=cookie))
    await db.commit()
    return clients


def exit_time(process: subprocess.Popen[bytes]) -> tuple[int, float]:
    """The process's exit code and when it exited (watched from a thread)."""
    returncode = process.wait(timeout=GRACE_SECONDS + 10)
    return returncode, time.monotonic()


async def readiness_after_sigterm(a: Instance) -> list[str]:
    """Ask A's /readyz from just after the SIGTERM until A no longer accepts connections:
    what it answered (never "200", once it was told to stop)."""
    answers: list[str] = []
    async with httpx.AsyncClient(base_url=a.url, timeout=5) as http:
        assert (await http.get("/readyz")).status_code == 200  # a kept-alive connection
        a.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                answers.append(str((await http.get("/readyz")).status_code))
            except httpx.TransportError:
                answers.append("refused")
                return answers
            await asyncio.sleep(0.05)
    return answers


async def test_sigterm_moves_200_sockets_to_the_other_instance_and_loses_nothing(
    instances: tuple[Instance, Instance], db: AsyncSession, settings: Settings
) -> None:
    a, b = instances
    clients = await make_clients(db, settings, a)
    await bounded(20, [client.open("A", a.url) for client in clients])
    tasks = [asyncio.create_task(client.live(a, b)) for client in clients]
    senders = [asyncio.create_task(client.send_all()) for client in clients]
    tasks += senders

    async def until(what: str, check: Any) -> None:
        await eventually(what, check, clients, tasks)

    try:
        # Messages flow on A: every client has had at least one ack there.
        await until(
            "an ack on A for every client", lambda: all(c.sent and c.sent[0].ack for c in clients)
        )
        started = time.monotonic()
        exit_of_a = asyncio.create_task(asyncio.to_thread(exit_time, a.process))
        answers = await readiness_after_sigterm(a)
        await until(
            "every client on B", lambda: all(c.instance == "B" and c.up.is_set() for c in clients)
        )
        returncode, exited_at = await exit_of_a
        exited = exited_at - started
        await asyncio.gather(*senders)
        await until("an ack for every message", lambda: not any(c.pending for c in clients))
        expected = expected_views(clients)
        await until(
            "every message shown on both sides",
            lambda: all(shown_seqs(c) == expected_seqs(c, expected) for c in clients),
        )
    finally:
        await stop(clients, tasks)

    report(clients, answers, exited)
    assert returncode == 0 and exited < GRACE_SECONDS
    assert answers[-1] == "refused" and "200" not in answers[1:], answers
    assert [c.closes[0][0] for c in clients] == [1012] * len(clients)
    first_close = [c.closes[0][1] for c in clients]
    assert max(first_close) - min(first_close) >= SPREAD_SECONDS / 2  # spread, no stampede
    assert lost_acks(clients) == []
    await check_stored_once_in_order(db, clients, expected)


async def stop(clients: list[Client], tasks: list[asyncio.Task[None]]) -> None:
    retries = [retry for client in clients for retry in client.retries]
    for task in (*tasks, *retries):
        task.cancel()
    await asyncio.gather(*tasks, *retries, return_exceptions=True)
    for client in clients:
        if client.socket is not None:
            with contextlib.suppress(Exception):
                await client.socket.close()


def expected_views(clients: list[Client]) -> dict[str, list[Sent]]:
    """Each chat's messages in the order the database numbered them (from the acks)."""
    chats: dict[str, list[Sent]] = {}
    for client in clients:
        for sent in client.sent:
            chats.setdefault(sent.conversation_id, []).append(sent)
    for messages in chats.values():
        messages.sort(key=lambda sent: sent.ack["seq"] if sent.ack else 0)
    return chats


def expected_seqs(client: Client, chats: dict[str, list[Sent]]) -> dict[str, list[int]]:
    return {chat: list(range(1, len(chats[chat]) + 1)) for chat in client.chats}


def shown_seqs(client: Client) -> dict[str, list[int]]:
    return {chat: sorted(client.shown.get(chat, {})) for chat in client.chats}


def lost_acks(clients: list[Client]) -> list[str]:
    """Messages A stored but did not ack before closing the socket (the ack came from B,
    for the resend, with a time before the client saw A close)."""
    return [
        sent.body
        for client in clients
        for sent in client.sent
        if sent.ack is not None
        and sent.acked_on == "B"
        and datetime.fromisoformat(sent.ack["ts"]) < client.closes[0][2]
    ]


async def check_stored_once_in_order(
    db: AsyncSession, clients: list[Client], chats: dict[str, list[Sent]]
) -> None:
    rows = (
        await db.execute(
            select(Message.conversation_id, Message.seq, Message.client_msg_id, Message.body)
        )
    ).all()
    stored = {(str(r.conversation_id), r.seq): (str(r.client_msg_id), r.body) for r in rows}
    every = [sent for messages in chats.values() for sent in messages]
    assert len(rows) == len(every)  # nothing stored twice, no stray message
    for chat, messages in chats.items():
        # Numbered 1, 2, 3 … in the order each side sent them, each acked with its own seq.
        for seq, sent in enumerate(messages, start=1):
            assert sent.ack is not None and sent.ack["seq"] == seq
            assert stored[(chat, seq)] == (sent.client_msg_id, sent.body)
        for sender in {sent.body.split(" #")[0] for sent in messages}:
            own = [int(s.body.split(" #")[1]) for s in messages if s.body.startswith(sender + " #")]
            assert own == sorted(own), (chat, sender)
    for client in clients:  # each page showed exactly what was stored, in seq order
        for chat in client.chats:
            bodies = [client.shown[chat][seq]["body"] for seq in sorted(client.shown[chat])]
            assert bodies == [sent.body for sent in chats[chat]]


def report(clients: list[Client], answers: list[str], exited: float) -> None:
    first_close = [c.closes[0][1] for c in clients]
    codes: dict[int | None, int] = {}
    for client in clients:
        codes[client.closes[0][0]] = codes.get(client.closes[0][0], 0) + 1
    on_b = sum(1 for c in clients for s in c.sent if s.acked_on == "B")
    resent = sum(1 for c in clients for s in c.sent if s.first_wire == 1 and s.acked_on == "B")
    print(  # noqa: T201 - the measurement, shown with -s
        f"\nreadyz after SIGTERM: {answers}; A exited after {exited:.1f} s; close codes {codes}; "
        f"closes spread over {max(first_close) - min(first_close):.2f} s; "
        f"messages {sum(len(c.sent) for c in clients)}, acked on B {on_b}, of which sent on A "
        f"first and resent {resent}; "
        f"stored on A without an ack: {len(lost_acks(clients))}"
    )


async def test_readiness_answers_503_while_shutting_down(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    assert (await client.get("/readyz")).status_code == 200
    app.state.draining = True  # what clb serve's SIGTERM handler sets
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "shutting down"}
    assert (await client.get("/healthz")).status_code == 200  # alive, only not ready
