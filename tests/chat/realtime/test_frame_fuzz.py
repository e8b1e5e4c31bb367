"""Every frame type of both chat sockets, with hostile values: NUL and other controls, bidi
overrides, huge and negative numbers, wrong types, unknown ids. Each is answered (an error
frame, or what the frame asks) and the socket stays open: never a 1011 (issue 15)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.chat.realtime.test_protocol import claimed_chat
from tests.chat.support import Socket

pytestmark = pytest.mark.slow

HOSTILE: list[Any] = [
    "\x00",
    "a\x07\x1b[2J\u202eb",
    "x" * 5000,
    2**63,
    -(2**63),
    1e308,
    None,
    [],
    {"nested": "\x00"},
    True,
]


def variants(frame: dict[str, Any]) -> list[dict[str, Any]]:
    """The frame with each field (but its type) replaced by each hostile value."""
    return [{**frame, field: value} for field in frame if field != "type" for value in HOSTILE]


async def still_open(socket: Socket) -> None:
    await socket.send({"type": "ping"})
    await socket.expect("pong", timeout=10)


async def hammer(socket: Socket, frames: list[dict[str, Any]]) -> None:
    for frame in frames:
        for variant in variants(frame):
            await socket.send(variant)
        await still_open(socket)


async def test_hostile_frames_on_both_sockets_are_answered_and_the_sockets_stay_open(
    live_server: str, db: AsyncSession
) -> None:
    visitor, pupil, staff = await claimed_chat(db, live_server, live_server)
    cid = visitor.conversation_id
    other = str(uuid.uuid4())
    await hammer(
        pupil,
        [
            {"type": "send", "client_msg_id": str(uuid.uuid4()), "body": "hallo"},
            {"type": "typing", "active": True},
            {"type": "receipt", "kind": "read", "seq": 1},
        ],
    )
    await hammer(
        staff,
        [
            {
                "type": "send",
                "conversation_id": cid,
                "client_msg_id": str(uuid.uuid4()),
                "body": "x",
            },
            {"type": "typing", "conversation_id": cid, "active": True},
            {"type": "receipt", "conversation_id": cid, "kind": "read", "seq": 1},
            {"type": "open", "conversation_id": cid, "last_seq": 0},
            {"type": "extend", "conversation_id": cid, "minutes": 15},
            {"type": "claim", "conversation_id": other},
            {"type": "duty", "duty": "on_duty"},
            {"type": "transfer", "conversation_id": other, "kind": "cold"},
            {"type": "heartbeat"},
        ],
    )
    # After all that, both sides still talk.
    sent = await pupil.say("nog steeds hier")
    await pupil.expect("ack", timeout=10, client_msg_id=sent)
    reply = await staff.say("ik ook", cid)
    await staff.expect("ack", timeout=10, client_msg_id=reply)
    for socket in (pupil, staff):
        await socket.close()
