"""The honest queue (issue 14): only visitors who are there count, those who leave drop out
and get their place back within the return window, floods from one address are refused.

Real ``clb serve`` processes with short presence times, real PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from websockets.exceptions import ConnectionClosed

from chat.conversations.away import end_away_conversations
from chat.conversations.models import Conversation, Message
from clb.config import Settings
from clb.services import Services
from tests.chat.support import Socket, Visitor, console, staff_cookie
from tests.composition.test_worker_resilience import worker_process
from tests.conftest import ServerEnv, free_port, make_centre, make_staff

pytestmark = pytest.mark.slow

# Presence on a short leash, so that leaving and coming back take seconds in a test.
QUICK = {"CLB_CHAT_PRESENCE_TTL_SECONDS": "4", "CLB_CHAT_PRESENCE_GRACE_SECONDS": "1"}
Factory = Callable[..., tuple[str, subprocess.Popen[bytes]]]


@pytest.fixture(scope="module")
def quick(live_server: str, live_server_factory: Factory) -> tuple[str, str]:
    """Two instances sharing PostgreSQL and Redis, with QUICK presence. (``live_server``
    first: every later server accepts pages from the first one's origin.)"""
    return live_server_factory(**QUICK)[0], live_server_factory(**QUICK)[0]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The in-process side (the sweep the worker runs): windows of three seconds."""
    return settings.model_copy(
        update={"chat_return_window_minutes": 0.05, "chat_active_away_minutes": 0.05}
    )


async def counsellor(db: AsyncSession, base_url: str) -> Socket:
    centre = await make_centre(db, slug=f"clb-{uuid.uuid4().hex[:6]}")
    await make_staff(db, email="an@clb.example", centre=centre)
    return await console(base_url, await staff_cookie(base_url, "an@clb.example"))


async def place(socket: Socket, position: int) -> dict[str, Any]:
    """Wait (generously) until the visitor is told this position."""
    return await socket.expect("queue", timeout=30, position=position)


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 30) -> None:
    """Poll a condition the system reaches by itself (a sweep, an expiry)."""
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.2)


async def status_of(db: AsyncSession, visitor: Visitor) -> Conversation:
    db.expire_all()
    conversation = await db.get(Conversation, uuid.UUID(visitor.conversation_id))
    assert conversation is not None
    await db.commit()
    return conversation


async def test_a_chat_started_over_http_only_is_never_in_the_queue(
    quick: tuple[str, str], db: AsyncSession
) -> None:
    ghost = await Visitor.join(quick[0])  # never opens a socket
    visitor = await Visitor.join(quick[1])
    pupil = await visitor.connect()
    assert (await place(pupil, 1))["estimate"] is None  # nobody on duty yet
    staff = await counsellor(db, quick[0])
    queue = await staff.expect("queue", timeout=30)
    while [w["id"] for w in queue["waiting"]] != [visitor.conversation_id]:
        queue = await staff.expect("queue", timeout=30)
    assert ghost.conversation_id not in str(queue)
    await staff.send({"type": "next"})
    assert (await staff.expect("claimed"))["conversation"]["id"] == visitor.conversation_id
    await staff.send({"type": "next"})
    assert (await staff.expect("error"))["code"] == "queue_empty"  # the ghost is not offered
    for socket in (pupil, staff):
        await socket.close()


async def test_a_pupil_who_leaves_drops_out_comes_back_ahead_and_is_abandoned_later(
    quick: tuple[str, str], db: AsyncSession, services: Services
) -> None:
    first, second = await Visitor.join(quick[0]), await Visitor.join(quick[1])
    first_socket = await first.connect()
    await place(first_socket, 1)
    second_socket = await second.connect()
    await place(second_socket, 2)

    await first_socket.close()  # the tab closes
    await place(second_socket, 1)  # within the grace time (plus the announcement)

    back = await first.connect(last_seq=0)  # a refresh, within the return window
    await place(back, 1)
    await place(second_socket, 2)

    await back.close()
    await place(second_socket, 1)

    async def abandoned() -> bool:
        await end_away_conversations(services)
        return (await status_of(db, first)).status == "abandoned"

    await until(abandoned)
    ended = await status_of(db, first)
    assert ended.ended_by == "system" and ended.joined_at is not None
    assert (await status_of(db, second)).status == "waiting"  # present: never swept
    await end_away_conversations(services)
    assert (await status_of(db, second)).status == "waiting"
    await second_socket.close()


async def test_kill_9_makes_the_pupil_away_and_they_resume_elsewhere_with_their_place(
    quick: tuple[str, str], live_server_factory: Factory, db: AsyncSession
) -> None:
    doomed_url, doomed = live_server_factory(**QUICK)
    first, second = await Visitor.join(quick[0]), await Visitor.join(quick[1])
    first_socket = await first.connect(base_url=doomed_url, origin=doomed_url)
    await place(first_socket, 1)
    second_socket = await second.connect()
    await place(second_socket, 2)

    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=10)
    await place(second_socket, 1)  # the dead instance's heartbeats stopped: first is away

    resumed = await first.connect(base_url=quick[1], origin=quick[1])
    await place(resumed, 1)  # the same place, on the other instance
    await place(second_socket, 2)
    for socket in (resumed, second_socket):
        await socket.close()


async def refused(socket: Socket) -> dict[str, Any]:
    """The error frame of a refused socket, and that it closed with 4029."""
    error = await socket.expect("error")
    with pytest.raises(ConnectionClosed) as closed:
        await socket.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4029
    return error


async def test_a_school_of_thirty_gets_in_a_flood_does_not_and_others_still_do(
    quick: tuple[str, str],
) -> None:
    school = "203.0.113.7"
    pupils = [await Visitor.join(quick[n % 2], address=school) for n in range(30)]
    sockets = [await pupil.connect() for pupil in pupils]
    await place(sockets[-1], 30)
    # A script behind the same address: no more chats from there now.
    extra = await Visitor.join(quick[0], address=school)
    error = await refused(await extra.connect(welcome=False))
    assert error["code"] == "busy_network" and "netwerk" in error["message"]
    # Someone elsewhere still gets in, behind the thirty.
    elsewhere = await Visitor.join(quick[1], address="198.51.100.9")
    theirs = await elsewhere.connect()
    await place(theirs, 31)
    for socket in (*sockets, theirs):
        await socket.close()


async def test_one_token_holds_three_windows_at_most(quick: tuple[str, str]) -> None:
    visitor = await Visitor.join(quick[0], address="192.0.2.44")
    windows = [await visitor.connect(base_url=url, origin=url) for url in (*quick, quick[0])]
    error = await refused(await visitor.connect(welcome=False))
    assert error["code"] == "too_many_windows"
    await windows.pop().close()
    windows.append(await visitor.connect())  # a window closed: there is room again
    for socket in windows:
        await socket.close()


async def test_the_counsellor_sees_the_pupil_go_away_come_back_and_leave(
    quick: tuple[str, str], db: AsyncSession, services: Services
) -> None:
    visitor = await Visitor.join(quick[0])
    pupil = await visitor.connect()
    staff = await counsellor(db, quick[1])
    await staff.send({"type": "claim", "conversation_id": visitor.conversation_id})
    await staff.expect("claimed")
    await pupil.expect("status", status="active")
    cid = visitor.conversation_id

    await pupil.close()  # the connection drops
    away = await staff.expect("presence", timeout=15, conversation_id=cid, present=False)
    assert away["since"] and away["left"] is False
    pupil = await visitor.connect()
    await staff.expect("presence", timeout=15, conversation_id=cid, present=True)

    # Quick exit: the page tells the server on its way out; the console knows at once.
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=quick[0]) as http:
        response = await http.post(
            f"/api/chat/conversations/{cid}/exit",
            headers={"authorization": f"Bearer {visitor.token}"},
        )
    assert response.status_code == 204
    left = await staff.expect("presence", timeout=5, conversation_id=cid, left=True)
    notice = await staff.expect("message", timeout=5, sender="system")
    while "verlaten" not in notice["body"]:
        notice = await staff.expect("message", timeout=5, sender="system")
    assert time.monotonic() - started < 2 and left["present"] is False
    assert notice["body"] == "Sam heeft het gesprek verlaten."
    assert (await status_of(db, visitor)).status == "active"  # the counsellor decides

    await pupil.close()

    async def ended() -> bool:
        await end_away_conversations(services)
        return (await status_of(db, visitor)).status == "ended"

    await until(ended)
    await staff.expect("status", timeout=10, status="ended")
    bodies = await db.scalars(
        select(Message.body).where(Message.conversation_id == uuid.UUID(cid)).order_by(Message.seq)
    )
    assert '"ended_away"' in list(bodies)[-1]
    await staff.close()


async def test_quick_exit_while_waiting_leaves_the_queue(quick: tuple[str, str]) -> None:
    first, second = await Visitor.join(quick[0]), await Visitor.join(quick[1])
    first_socket = await first.connect()
    await place(first_socket, 1)
    second_socket = await second.connect()
    await place(second_socket, 2)
    async with httpx.AsyncClient(base_url=quick[1]) as http:
        exit_url = f"/api/chat/conversations/{first.conversation_id}/exit"
        auth = {"authorization": f"Bearer {first.token}"}
        assert (await http.post(exit_url, headers=auth)).status_code == 204
        assert (await http.post(exit_url, headers=auth)).status_code == 204  # twice: no change
        other = {"authorization": f"Bearer {second.token}"}
        assert (await http.post(exit_url, headers=other)).status_code == 403
    await first_socket.expect("status", status="abandoned")
    await place(second_socket, 1)
    for socket in (first_socket, second_socket):
        await socket.close()


async def test_the_worker_ends_the_chat_of_a_pupil_who_never_came_back(
    quick: tuple[str, str],
    session_server_env: ServerEnv,
    tmp_path: Path,
    db: AsyncSession,
    services: Services,
) -> None:
    visitor = await Visitor.join(quick[0])
    pupil = await visitor.connect()
    await place(pupil, 1)
    await pupil.close()
    env = session_server_env(tmp_path, free_port())
    env["CLB_CHAT_RETURN_WINDOW_MINUTES"] = "0.05"
    with worker_process(env, tmp_path / "worker.log"):

        async def abandoned() -> bool:
            return (await status_of(db, visitor)).status == "abandoned"

        await until(abandoned, timeout=90)  # the sweep runs four times a minute
    # The worker said it is alive, which /metrics shows.
    await services.metrics.refresh(services)
    assert 0 <= services.metrics.worker_heartbeat._value.get() < 60
