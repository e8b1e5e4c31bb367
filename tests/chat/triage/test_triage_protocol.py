"""Crisis triage over real sockets on real ``clb serve`` processes: the counsellor's console
shows the flag, the visitor's socket never hears of it."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest
import websockets
from sqlalchemy.ext.asyncio import AsyncSession

from tests.chat.support import Socket, Visitor, console, staff_cookie, ws_url
from tests.conftest import make_centre, make_staff

pytestmark = pytest.mark.slow

FLAG_TYPES = {"flag", "flagged", "flag_dismissed"}


def mentions_flag(frame: dict[str, Any]) -> bool:
    if frame.get("type") in FLAG_TYPES:
        return True
    return any(
        key.startswith("flag") or (isinstance(value, dict) and mentions_flag(value))
        for key, value in frame.items()
    )


async def counsellor(db: AsyncSession, base_url: str) -> Socket:
    centre = await make_centre(db, slug=f"clb-{uuid.uuid4().hex[:6]}")
    await make_staff(db, email="an@clb.example", centre=centre)
    return await console(base_url, await staff_cookie(base_url, "an@clb.example"))


async def queue_items(staff: Socket, *conversation_ids: str) -> dict[str, dict[str, Any]]:
    """The waiting list from the first queue frame that holds all these conversations."""
    while True:
        frame = await staff.expect("queue")
        items = {item["id"]: item for item in frame["waiting"]}
        if all(conversation_id in items for conversation_id in conversation_ids):
            return items


async def test_the_console_sees_the_flag_and_the_visitor_never_does(
    live_server: str, live_server_b: str, db: AsyncSession
) -> None:
    staff = await counsellor(db, live_server_b)
    worried = await Visitor.join(live_server, nickname="Robin", subject="Ik wil dood")
    calm = await Visitor.join(live_server, nickname="Sam", subject="Examens")
    worried_pupil, pupil = await worried.connect(), await calm.connect()  # in the queue now
    waiting = await queue_items(staff, worried.conversation_id, calm.conversation_id)
    assert waiting[worried.conversation_id]["flagged"] is True
    assert waiting[calm.conversation_id]["flagged"] is False

    await staff.send({"type": "claim", "conversation_id": calm.conversation_id})
    claimed = await staff.expect("claimed")
    assert claimed["conversation"]["flagged"] is False
    await pupil.expect("status", status="active")

    await pupil.say("ik wil niet meer leven")
    flagged = await staff.expect("flagged", conversation_id=calm.conversation_id)
    assert (flagged["source"], flagged["term"]) == ("message", "ik wil niet meer leven")

    # Everything the visitor's socket receives up to the counsellor's next message (the
    # conversation channel is ordered): nothing about the flag.
    await staff.say("Ik ben er. Vertel eens?", calm.conversation_id)
    received = []
    while True:
        frame = await pupil.recv()
        received.append(frame)
        if frame["type"] == "message" and frame.get("sender") == "counsellor":
            if frame["body"] == "Ik ben er. Vertel eens?":
                break
    assert [f for f in received if mentions_flag(f)] == []

    for socket in (pupil, worried_pupil, staff):
        await socket.close()


async def test_a_flagged_visitor_connecting_gets_a_welcome_without_the_flag(
    live_server: str,
) -> None:
    worried = await Visitor.join(live_server, nickname="Robin", subject="niemand zou me missen")
    url = ws_url(live_server, "/ws/chat")
    async with websockets.connect(url, origin=live_server) as raw:  # type: ignore[arg-type]
        await raw.send(
            orjson.dumps(
                {
                    "type": "hello",
                    "v": 1,
                    "token": worried.token,
                    "conversation_id": worried.conversation_id,
                    "last_seq": 0,
                }
            ).decode()
        )
        while True:
            frame = orjson.loads(await raw.recv())
            if frame["type"] == "welcome":
                break
    assert frame["conversation"]["status"] == "waiting"
    assert not mentions_flag(frame)
