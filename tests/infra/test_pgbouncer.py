"""The platform through a real PgBouncer in transaction pooling mode.

PgBouncer gets a server pool of three connections, and while the platform works more
clients than that keep taking them (``contention``), so one client's consecutive
transactions land on different server connections: state kept across them (a prepared
statement, a session lock, a setting) would break something. Through it: the real
migrations, twice at once, on a fresh database; a chat between a counsellor and several
pupils on a ``clb serve`` process, including a burst that group commit stores in batches; a
booking whose confirmation mail a ``clb worker`` process sends. Then: no prepared statement
was left on any server connection, and, as a control, an engine with pooling left at
"session" fails behind the same PgBouncer.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
import redis
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from clb.db import create_engine, create_sessionmaker
from composition.migrate import alembic_config, migrate
from development.pgbouncer import PgBouncer, PoolSizes, pgbouncer_binary, start_pgbouncer
from scheduling.appointments.message_jobs import NOTIFY_JOB
from tests.chat.support import Socket, Visitor, console, staff_cookie
from tests.conftest import (
    ROOT,
    ServerUrls,
    free_port,
    make_centre,
    make_staff,
    server_env,
    serving_smtp,
    start_server,
)
from tests.scheduling.support import bookable_counsellor, booking_body, next_weekday_at

pytestmark = pytest.mark.slow

SERVER_POOL = 3  # server connections PgBouncer may open to the database
CHATS = 5  # conversations in the burst, one counsellor holding them all
BURST = 6  # messages each pupil sends at once
WAIT = 45.0  # seconds for anything that involves a process on this loaded machine


@dataclass(frozen=True)
class Stack:
    bouncer: PgBouncer
    url: str  # the database through PgBouncer, as CLB_DATABASE_URL
    namespace: str  # Redis keys of the processes started here


@pytest.fixture(scope="module")
async def stack(
    server_urls: ServerUrls, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    if pgbouncer_binary() is None:
        message = "pgbouncer is not installed (apt-get install pgbouncer)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    name = f"clb_pgb_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(server_urls.admin_database_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        target = urlunsplit(urlsplit(server_urls.admin_database_url)._replace(path="/" + name))
        bouncer = await asyncio.to_thread(
            start_pgbouncer,
            tmp_path_factory.mktemp("pgbouncer"),
            free_port(),
            target,
            sizes=PoolSizes(default_pool_size=SERVER_POOL),
        )
        try:
            yield Stack(bouncer, bouncer.url(), f"pgb{secrets.token_hex(4)}")
        finally:
            await asyncio.to_thread(bouncer.stop)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(scope="module")
async def migrated(stack: Stack) -> list[BaseException | None]:
    """Two migrations started at once through PgBouncer; what each of them raised."""
    async with churning(stack):
        results = await asyncio.gather(
            migrate(stack.url, pooling="transaction"),
            migrate(stack.url, pooling="transaction"),
            return_exceptions=True,
        )
    return [result if isinstance(result, BaseException) else None for result in results]


@pytest.fixture(scope="module")
async def engine(stack: Stack, migrated: list[BaseException | None]) -> AsyncIterator[AsyncEngine]:
    """This test's own way in (arranging data, reading results): through PgBouncer too."""
    found = create_engine(stack.url, pooling="transaction")
    yield found
    await found.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    maker: async_sessionmaker[AsyncSession] = create_sessionmaker(engine)
    async with maker() as opened:
        yield opened


@pytest.fixture
async def contention(stack: Stack) -> AsyncIterator[None]:
    async with churning(stack):
        yield


@contextlib.asynccontextmanager
async def churning(stack: Stack) -> AsyncIterator[None]:
    """More clients than server connections, each taking one for a short statement after
    another: a server connection that a client lets go between two round trips of one
    piece of work is someone else's before the second round trip."""
    url = stack.bouncer.url(driver="postgresql")
    clients = [await asyncpg.connect(url) for _ in range(SERVER_POOL + 1)]
    stop = asyncio.Event()

    async def churn(client: asyncpg.Connection) -> None:
        while not stop.is_set():
            # No arguments: the simple protocol, which leaves no statement behind.
            await client.execute("SELECT pg_sleep(0.005)")

    tasks = [asyncio.create_task(churn(client)) for client in clients]
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        for client in clients:
            await client.close()


@dataclass
class Inbox:
    """An SMTP server's handler that keeps every recipient of an accepted mail."""

    port: int
    recipients: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.recipients.extend(envelope.rcpt_tos)
        return "250 OK"


@dataclass(frozen=True)
class Served:
    base_url: str
    inbox: Inbox


@pytest.fixture(scope="module")
def served(
    stack: Stack,
    migrated: list[BaseException | None],
    server_urls: ServerUrls,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Served]:
    """``clb serve`` and ``clb worker`` with CLB_DATABASE_URL at PgBouncer."""
    inbox = Inbox(free_port())
    port = free_port()
    data_dir = tmp_path_factory.mktemp("served")
    env = server_env(stack.url, server_urls, stack.namespace, data_dir, port)
    env |= {
        "CLB_DATABASE_POOLING": "transaction",
        "CLB_SMTP_URL": f"smtp://127.0.0.1:{inbox.port}",
        "CLB_CHAT_COUNSELLOR_CAPACITY": str(CHATS),
    }
    with serving_smtp(inbox, inbox.port):
        server = start_server(env, port)
        worker = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "composition", "worker"], env=env, cwd=ROOT
        )
        try:
            yield Served(f"http://127.0.0.1:{port}", inbox)
        finally:
            for process in (worker, server):
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=5)
            _forget_keys(server_urls.redis_url, stack.namespace)


def _forget_keys(redis_url: str, namespace: str) -> None:
    client = redis.Redis.from_url(redis_url)
    patterns = (f"{namespace}:*", f"arq:*:{namespace}:*")
    keys = [key for pattern in patterns for key in client.scan_iter(match=pattern)]
    if keys:
        client.delete(*keys)
    client.close()


async def until(check: Callable[[], Awaitable[bool]], what: str, timeout: float = WAIT) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout} s")


async def test_migrations_run_twice_at_once_through_pgbouncer(
    stack: Stack, migrated: list[BaseException | None], session: AsyncSession
) -> None:
    # Both took the migration lock in turn, inside their one transaction each: neither
    # failed on tables the other had just created.
    assert migrated == [None, None]
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert await session.scalar(text("SELECT version_num FROM alembic_version")) == head
    assert await session.scalar(text("SELECT count(*) FROM chat_messages")) == 0


async def test_a_chat_with_a_burst_through_pgbouncer(
    served: Served, session: AsyncSession, contention: None
) -> None:
    base = served.base_url
    centre = await make_centre(session, slug=f"clb-{uuid.uuid4().hex[:6]}")
    await make_staff(session, email="pgbouncer@clb.example", centre=centre)
    staff = await console(base, await staff_cookie(base, "pgbouncer@clb.example"))
    visitors = [await Visitor.join(base) for _ in range(CHATS)]
    pupils = [await visitor.connect() for visitor in visitors]
    for visitor, pupil in zip(visitors, pupils, strict=True):
        await staff.send({"type": "claim", "conversation_id": visitor.conversation_id})
        await staff.expect("claimed", WAIT)
        await pupil.expect("status", WAIT, status="active")

    first, pupil = visitors[0], pupils[0]
    said = await pupil.say("Hallo, mag ik iets vragen?")
    ack = await pupil.expect("ack", WAIT, client_msg_id=said)
    heard = await staff.expect("message", WAIT, sender="visitor")
    assert heard["seq"] == ack["seq"] and heard["body"] == "Hallo, mag ik iets vragen?"
    await staff.say("Natuurlijk, vertel maar.", first.conversation_id)
    reply = await pupil.expect("message", WAIT, sender="counsellor")
    assert reply["seq"] == ack["seq"] + 1

    # The burst: every pupil at once, and the counsellor in every chat meanwhile.
    async def burst(socket: Socket) -> list[str]:
        return [await socket.say(f"bericht {n}") for n in range(BURST)]

    sent, _ = await asyncio.gather(
        asyncio.gather(*(burst(p) for p in pupils)),
        asyncio.gather(*(staff.say("Ik lees mee.", v.conversation_id) for v in visitors)),
    )
    for socket, ids in zip(pupils, sent, strict=True):
        seqs = [(await socket.expect("ack", WAIT, client_msg_id=cid))["seq"] for cid in ids]
        assert seqs == sorted(seqs) and len(set(seqs)) == BURST
    for _ in range(CHATS * BURST):
        await staff.expect("message", WAIT, sender="visitor")

    await _stored_in_order_and_in_batches(session, [v.conversation_id for v in visitors])
    await _read_mark_written(session, pupil, first.conversation_id, reply["seq"])
    for socket in (*pupils, staff):
        await socket.close()


async def _stored_in_order_and_in_batches(session: AsyncSession, conversations: list[str]) -> None:
    ids = [uuid.UUID(cid) for cid in conversations]
    rows = (
        await session.execute(
            text(
                "SELECT c.last_seq, count(m.id), count(DISTINCT m.seq), max(m.seq) "
                "FROM conversations c JOIN chat_messages m ON m.conversation_id = c.id "
                "WHERE c.id = ANY(:ids) GROUP BY c.id"
            ),
            {"ids": ids},
        )
    ).all()
    assert len(rows) == CHATS
    for last_seq, count, distinct, highest in rows:
        assert count == distinct == highest == last_seq  # every seq once, no gap
    # One batch is one transaction: its messages share now(). A burst from several chats
    # while a batch is under way must have put more than one chat's message in one batch.
    widest = await session.scalar(
        text(
            "SELECT max(chats) FROM (SELECT count(DISTINCT conversation_id) AS chats "
            "FROM chat_messages WHERE conversation_id = ANY(:ids) GROUP BY created_at) AS b"
        ),
        {"ids": ids},
    )
    await session.commit()
    assert widest is not None and widest > 1


async def _read_mark_written(
    session: AsyncSession, pupil: Socket, conversation_id: str, seq: int
) -> None:
    """A read receipt reaches the conversation's row (receipt_marks' batched write)."""
    await pupil.send({"type": "receipt", "kind": "read", "seq": seq})

    async def written() -> bool:
        mark = await session.scalar(
            text("SELECT visitor_read_seq FROM conversations WHERE id = :id"),
            {"id": uuid.UUID(conversation_id)},
        )
        await session.commit()
        return bool(mark == seq)

    await until(written, "the visitor's read mark")


async def test_a_booking_and_its_mail_through_pgbouncer(
    served: Served, session: AsyncSession, contention: None
) -> None:
    staff, school = await bookable_counsellor(session)
    starts = next_weekday_at(1, time(10))
    async with httpx.AsyncClient(base_url=served.base_url, timeout=WAIT) as http:
        booked = await http.post("/api/appointments", json=booking_body(school, staff, starts))
    assert booked.status_code == 201, booked.text

    # The worker took the outbox job, ran it through PgBouncer and sent the confirmation.
    async def mailed() -> bool:
        return "sara.ouder@example.be" in served.inbox.recipients

    await until(mailed, "the confirmation mail")

    async def done() -> bool:
        finished = await session.scalar(
            text(
                "SELECT bool_and(done_at IS NOT NULL) FROM outbox_jobs "
                "WHERE kind = :kind AND payload->>'kind' <> 'reminder'"
            ),
            {"kind": NOTIFY_JOB},
        )
        await session.commit()
        return bool(finished)

    await until(done, "the outbox job marked done")


async def test_no_prepared_statement_outlives_its_transaction(stack: Stack, served: Served) -> None:
    """After the traffic above: one transaction on each server connection at once finds
    no prepared statement kept there (unnamed statements are not listed; named ones
    would be, and would pile up)."""
    clients = [
        await asyncpg.connect(stack.bouncer.url(driver="postgresql"), statement_cache_size=0)
        for _ in range(SERVER_POOL)
    ]
    everyone_in = asyncio.Barrier(SERVER_POOL)

    async def look(client: asyncpg.Connection) -> tuple[int, int]:
        async with client.transaction():
            pid, kept = await client.fetchrow(
                "SELECT pg_backend_pid(), (SELECT count(*) FROM pg_prepared_statements)"
            )
            await everyone_in.wait()  # hold this server connection until all have one
        return int(pid), int(kept)

    try:
        async with asyncio.timeout(WAIT):
            seen = await asyncio.gather(*(look(client) for client in clients))
    finally:
        for client in clients:
            await client.close()
    assert len({pid for pid, _ in seen}) == SERVER_POOL
    assert [kept for _, kept in seen] == [0] * SERVER_POOL


async def test_control_pooling_left_at_session_breaks_behind_pgbouncer(
    stack: Stack, contention: None
) -> None:
    """The same PgBouncer with the engine set up for a direct connection: asyncpg prepares
    a statement once under a generated name and binds it again in the next transactions,
    which run on other server connections."""
    direct_style = create_engine(stack.url, pooling="session")
    try:
        failing = r'prepared statement "__asyncpg_stmt_\w+" (does not|already) exist'
        with pytest.raises(DBAPIError, match=failing):
            async with direct_style.connect() as connection:
                for n in range(100):
                    await connection.scalar(text("SELECT CAST(:n AS int) + 1"), {"n": n})
                    await connection.commit()
    finally:
        await direct_style.dispose()
