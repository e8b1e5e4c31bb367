"""The chat protocol over real WebSockets against real ``clb serve`` processes."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import websockets
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from websockets.exceptions import ConnectionClosed, InvalidStatus

from chat.conversations.models import Conversation, Message
from chat.conversations.receipt_marks import FLUSH_SECONDS
from tests.chat.support import Socket, Visitor, console, staff_cookie, ws_url
from tests.conftest import (
    ServerUrls,
    free_port,
    make_centre,
    make_staff,
    server_env,
    start_server,
)

pytestmark = pytest.mark.slow


async def counsellor(db: AsyncSession, base_url: str, email: str = "an@clb.example") -> Socket:
    centre = await make_centre(db, slug=f"clb-{uuid.uuid4().hex[:6]}")
    await make_staff(db, email=email, centre=centre)
    return await console(base_url, await staff_cookie(base_url, email))


async def claimed_chat(
    db: AsyncSession, visitor_url: str, counsellor_url: str
) -> tuple[Visitor, Socket, Socket]:
    visitor = await Visitor.join(visitor_url)
    visitor_socket = await visitor.connect()
    staff_socket = await counsellor(db, counsellor_url)
    await staff_socket.send({"type": "claim", "conversation_id": visitor.conversation_id})
    await staff_socket.expect("claimed")
    await visitor_socket.expect("status", status="active")
    return visitor, visitor_socket, staff_socket


async def test_visitor_and_counsellor_on_two_instances_talk_in_order(
    live_server: str, live_server_b: str, db: AsyncSession
) -> None:
    visitor, pupil, staff = await claimed_chat(db, live_server, live_server_b)
    joined = await pupil.expect("message", sender="system")
    assert joined["body"] == "An neemt deel aan het gesprek."

    cid = await pupil.say("Hallo, ik zie op tegen de examens")
    ack = await pupil.expect("ack", client_msg_id=cid)
    heard = await staff.expect("message", sender="visitor")
    assert heard["seq"] == ack["seq"] and heard["body"] == "Hallo, ik zie op tegen de examens"

    await staff.say("Fijn dat je schrijft. Wat maakt het zo moeilijk?", visitor.conversation_id)
    reply = await pupil.expect("message", sender="counsellor")
    assert reply["author"] == "An" and reply["seq"] == ack["seq"] + 1

    await staff.send({"type": "typing", "conversation_id": visitor.conversation_id, "active": True})
    assert (await pupil.expect("typing"))["sender"] == "counsellor"
    await pupil.send({"type": "receipt", "kind": "read", "seq": reply["seq"]})
    receipt = await staff.expect("receipt", by="visitor")
    assert receipt == {
        "type": "receipt",
        "conversation_id": visitor.conversation_id,
        "by": "visitor",
        "kind": "read",
        "seq": reply["seq"],
    }

    await staff.send({"type": "end", "conversation_id": visitor.conversation_id})
    assert (await pupil.expect("status"))["status"] == "ended"
    for socket in (pupil, staff):
        await socket.close()


async def test_same_client_msg_id_sent_five_times_at_once_is_stored_once(
    live_server: str, live_server_b: str, db: AsyncSession
) -> None:
    visitor, first, staff = await claimed_chat(db, live_server, live_server)
    second = await visitor.connect(base_url=live_server_b, origin=live_server)
    client_msg_id = str(uuid.uuid4())
    frame = {"type": "send", "client_msg_id": client_msg_id, "body": "Dubbel?"}
    sockets = [first, second, first, second, first]
    await asyncio.gather(*(socket.send(frame) for socket in sockets))
    acks = [await first.expect("ack") for _ in range(3)] + [
        await second.expect("ack") for _ in range(2)
    ]
    assert len({(a["seq"], a["ts"]) for a in acks}) == 1
    count = await db.scalar(
        select(func.count()).where(Message.client_msg_id == uuid.UUID(client_msg_id))
    )
    assert count == 1
    for socket in (first, second, staff):
        await socket.close()


async def test_resume_after_a_disconnect_gets_every_missed_message_once_in_order(
    live_server: str, live_server_b: str, db: AsyncSession
) -> None:
    visitor, pupil, staff = await claimed_chat(db, live_server, live_server_b)
    last_seen = (await pupil.expect("message", sender="system"))["seq"]
    await pupil.close()
    for n in range(20):
        await staff.say(f"bericht {n}", visitor.conversation_id)
        await staff.expect("ack")
    resumed = await visitor.connect(last_seq=last_seen, base_url=live_server_b, origin=live_server)
    missed = await resumed.messages(20)
    assert [m["body"] for m in missed] == [f"bericht {n}" for n in range(20)]
    assert [m["seq"] for m in missed] == list(range(last_seen + 1, last_seen + 21))
    await staff.say("en nu live", visitor.conversation_id)
    live = await resumed.expect("message")
    assert live["body"] == "en nu live" and live["seq"] == last_seen + 21
    for socket in (resumed, staff):
        await socket.close()


async def test_two_counsellors_claiming_at_once_one_wins(
    live_server: str, live_server_b: str, db: AsyncSession
) -> None:
    visitor = await Visitor.join(live_server)
    one = await counsellor(db, live_server, "an@clb.example")
    two = await counsellor(db, live_server_b, "bo@clb.example")
    claim = {"type": "claim", "conversation_id": visitor.conversation_id}
    await asyncio.gather(one.send(claim), two.send(claim))

    async def outcome(socket: Socket) -> str:
        while True:
            frame = await socket.recv()
            if frame["type"] == "claimed":
                return "won"
            if frame["type"] == "error":
                assert frame["code"] == "already_taken"
                assert frame["message"] == "Een collega heeft dit gesprek al aangenomen."
                return "lost"

    assert sorted(await asyncio.gather(outcome(one), outcome(two))) == ["lost", "won"]
    for socket in (one, two):
        await socket.close()


async def test_a_conversation_that_is_not_yours_is_refused(
    live_server: str, db: AsyncSession
) -> None:
    mine = await Visitor.join(live_server)
    theirs = await Visitor.join(live_server)
    intruder = Visitor(live_server, mine.token, theirs.conversation_id)
    with pytest.raises(ConnectionClosed) as closed:
        socket = await intruder.connect()
        await socket.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4003

    visitor, pupil, staff = await claimed_chat(db, live_server, live_server)
    other = await counsellor(db, live_server, "bo@clb.example")
    await other.say("ik lees mee", visitor.conversation_id)
    refused = await other.expect("error")
    assert refused["code"] == "not_allowed"
    await other.send({"type": "end", "conversation_id": visitor.conversation_id})
    assert (await other.expect("error"))["code"] == "not_allowed"
    await other.send(
        {"type": "receipt", "conversation_id": visitor.conversation_id, "kind": "read", "seq": 1}
    )
    assert (await other.expect("error"))["code"] == "not_allowed"
    for socket in (pupil, staff, other):
        await socket.close()


async def test_a_read_receipt_counts_as_delivered_and_never_runs_ahead(
    live_server: str, db: AsyncSession
) -> None:
    visitor, pupil, staff = await claimed_chat(db, live_server, live_server)
    joined = await pupil.expect("message", sender="system")

    async def marks() -> tuple[int, int]:
        row = (
            await db.execute(
                select(Conversation.visitor_delivered_seq, Conversation.visitor_read_seq).where(
                    Conversation.id == uuid.UUID(visitor.conversation_id)
                )
            )
        ).one()
        return int(row[0]), int(row[1])

    async def marks_after_flush() -> tuple[int, int]:
        # The marks are written in batches (receipt_marks.FLUSH_SECONDS): wait for one.
        deadline = time.monotonic() + 30
        while (found := await marks()) == (0, 0) and time.monotonic() < deadline:
            await db.rollback()
            await asyncio.sleep(0.1)
        return found

    # One "read" (as a page with the chat on screen sends) moves both marks, capped at the
    # last message however far ahead the page claims to be.
    await pupil.send({"type": "receipt", "kind": "read", "seq": joined["seq"] + 50})
    receipt = await staff.expect("receipt", by="visitor")
    assert (receipt["kind"], receipt["seq"]) == ("read", joined["seq"])
    assert await marks_after_flush() == (joined["seq"], joined["seq"])

    # Marks only move forward: an older "delivered" is not passed on and changes nothing.
    await pupil.send({"type": "receipt", "kind": "delivered", "seq": 0})
    await pupil.send({"type": "receipt", "kind": "read", "seq": joined["seq"]})
    await pupil.send({"type": "typing", "active": True})
    assert (await staff.expect("typing", timeout=30))["active"] is True
    assert not [frame for frame in staff.pending if frame["type"] == "receipt"]
    await asyncio.sleep(FLUSH_SECONDS * 2)
    await db.rollback()
    assert await marks() == (joined["seq"], joined["seq"])
    for socket in (pupil, staff):
        await socket.close()


async def test_oversized_frame_closes_with_1009_and_long_body_is_explained(
    live_server: str,
) -> None:
    visitor = await Visitor.join(live_server)
    socket = await visitor.connect()
    await socket.say("x" * 4001)
    error = await socket.expect("error")
    assert error["code"] == "too_long"
    await socket.send({"type": "send", "client_msg_id": str(uuid.uuid4()), "body": "x" * 70_000})
    with pytest.raises(ConnectionClosed) as closed:
        await socket.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


async def test_invalid_frames_get_an_answer_not_silence(live_server: str) -> None:
    visitor = await Visitor.join(live_server)
    socket = await visitor.connect()
    bad_frames: list[str | bytes] = [
        "not json",
        "[1, 2]",
        '{"type": "send", "body": 5}',
        '{"type": "dance"}',
        b"\x00\x01",
    ]
    for bad in bad_frames:
        await socket.connection.send(bad)
        assert (await socket.expect("error"))["code"] == "invalid_frame"
    await socket.send({"type": "ping"})
    await socket.expect("pong")
    await socket.close()


async def test_flood_is_throttled_with_a_clear_message(live_server: str) -> None:
    visitor = await Visitor.join(live_server)
    socket = await visitor.connect()
    for n in range(31):
        await socket.say(f"spam {n}")
    acks = errors = 0
    while acks + errors < 31:
        frame = await socket.recv()
        acks += frame["type"] == "ack"
        if frame["type"] == "error":
            assert frame["code"] == "rate_limited" and frame["retry_after"] >= 1
            assert frame["message"] == "Je stuurt te veel berichten na elkaar. Wacht even."
            errors += 1
    assert acks == 30 and errors == 1
    await socket.close()


async def test_foreign_origin_cannot_open_a_socket(live_server: str) -> None:
    for path in ("/ws/chat", "/ws/console"):
        with pytest.raises(InvalidStatus) as refused:
            await websockets.connect(ws_url(live_server, path), origin="https://evil.example")  # type: ignore[arg-type]
        assert refused.value.response.status_code == 403


async def test_waiting_visitors_see_their_position_move(live_server: str, db: AsyncSession) -> None:
    first = await Visitor.join(live_server)
    second = await Visitor.join(live_server)
    ahead = await first.connect()
    socket = await second.connect()
    queue = await socket.expect("queue", position=2)
    assert queue["estimate"] is None  # nobody on duty: no number we cannot stand behind
    staff = await counsellor(db, live_server)
    await staff.send({"type": "claim", "conversation_id": first.conversation_id})
    moved = await socket.expect("queue", position=1)
    assert moved["estimate"] == {"minutes": 5, "more_than": False}
    for s in (socket, ahead, staff):
        await s.close()


async def test_logout_closes_the_console_within_a_second(
    live_server: str, db: AsyncSession
) -> None:
    await make_staff(db)
    cookie = await staff_cookie(live_server, "an@clb.example")
    socket = await console(live_server, cookie)
    async with httpx.AsyncClient(base_url=live_server) as http:
        for part in cookie.split("; "):
            name, _, value = part.partition("=")
            http.cookies.set(name, value)
        page = await http.get("/console")
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        await http.post("/console/logout", data={"csrf_token": token})
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(1):
            while True:
                await socket.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4001


async def test_visitor_resumes_on_another_instance_after_kill_9(
    live_server: str,
    live_server_factory: Callable[..., tuple[str, subprocess.Popen[bytes]]],
    db: AsyncSession,
) -> None:
    doomed_url, doomed = live_server_factory()
    visitor = await Visitor.join(live_server)
    pupil = await visitor.connect(base_url=doomed_url, origin=live_server)
    staff = await counsellor(db, live_server)
    await staff.send({"type": "claim", "conversation_id": visitor.conversation_id})
    await staff.expect("claimed")
    cid = await pupil.say("net voor het uitvallen")
    acked = await pupil.expect("ack", client_msg_id=cid)
    seen = [m["seq"] for m in await pupil.messages(2)]  # the joined notice and my message
    assert seen == [1, 2] and acked["seq"] == 2

    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=10)
    for n in range(5):
        await staff.say(f"terwijl je weg was {n}", visitor.conversation_id)
        await staff.expect("ack")

    resumed = await visitor.connect(last_seq=max(seen), base_url=live_server)
    missed = await resumed.messages(5)
    assert [m["body"] for m in missed] == [f"terwijl je weg was {n}" for n in range(5)]
    assert [m["seq"] for m in missed] == [3, 4, 5, 6, 7]
    stored = await db.scalar(select(func.count()).where(Message.client_msg_id == uuid.UUID(cid)))
    assert stored == 1  # acked before the crash, so it was committed
    for socket in (resumed, staff):
        await socket.close()


async def test_redis_restart_loses_no_acked_message(
    database_url: str, redis_namespace: str, db: AsyncSession, tmp_path: Path
) -> None:
    """R4: pub/sub is lost while Redis is down; the bus signals a gap and the sockets replay
    from PostgreSQL, so every acked message still arrives exactly once."""
    redis_dir = tmp_path / "redis"
    redis_dir.mkdir()
    port = free_port()
    redis_cmd = [
        _redis_binary(),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(redis_dir),
    ]
    redis = _popen(redis_cmd)
    servers: list[subprocess.Popen[bytes]] = []
    try:
        await _wait_for_redis(port)
        urls = ServerUrls("", f"redis://127.0.0.1:{port}/0")
        bases = []
        for _ in range(2):
            server_port = free_port()
            env = server_env(database_url, urls, redis_namespace, tmp_path, server_port)
            servers.append(start_server(env, server_port))
            bases.append(f"http://127.0.0.1:{server_port}")
        visitor = await Visitor.join(bases[0])
        pupil = await visitor.connect()
        staff = await counsellor(db, bases[1])
        await staff.send({"type": "claim", "conversation_id": visitor.conversation_id})
        await staff.expect("claimed")
        await pupil.expect("message", sender="system")

        redis.terminate()
        redis.wait(timeout=10)
        redis = _popen(redis_cmd)
        await _wait_for_redis(port)
        # Redis lost its state (no persistence): rate limits and presence start over.
        for n in range(3):
            await staff.say(f"na de herstart {n}", visitor.conversation_id)
            await staff.expect("ack", timeout=15)
        received = await pupil.messages(3, timeout=20)
        assert [m["body"] for m in received] == [f"na de herstart {n}" for n in range(3)]
        assert len({m["seq"] for m in received}) == 3
        for socket in (pupil, staff):
            await socket.close()
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=15)
        redis.terminate()
        redis.wait(timeout=10)


def _popen(command: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, stdout=subprocess.DEVNULL)


def _redis_binary() -> str:
    from development.embedded import _redis_binary as binary

    return binary()


async def _wait_for_redis(port: int) -> None:
    client = Redis(host="127.0.0.1", port=port)
    try:
        for _ in range(100):
            with contextlib.suppress(RedisError, OSError):  # still starting
                if await client.ping():
                    return
            await asyncio.sleep(0.05)
        raise RuntimeError("test Redis did not start")
    finally:
        await client.aclose()
