"""A conversation feed delivers messages in seq order when the two sides' messages cross on
their way through Redis (they are published by different processes), without reading the
database for every crossing; a predecessor that never comes is read from the database."""

from __future__ import annotations

import uuid
from typing import Any, cast

from fastapi import WebSocket
from sqlalchemy.ext.asyncio import AsyncSession

from chat.conversations.models import Conversation, Sender
from chat.realtime.connection import Connection, ConversationFeed
from clb.bus import Subscription
from clb.services import Services
from tests.chat.tools_support import held_chat
from tests.conftest import make_staff


def sent_seqs(connection: Connection) -> list[int]:
    pending = cast(list[dict[str, Any]], connection._pending)
    return [frame["seq"] for frame in pending if frame.get("type") == "message"]


def event(conversation: Conversation, seq: int) -> dict[str, Any]:
    return {
        "type": "message",
        "conversation_id": str(conversation.id),
        "seq": seq,
        "sender": "visitor",
        "author": "Sam",
        "raw_body": f"bericht {seq}",
        "ts": "2026-12-05T08:00:00+00:00",
        "client_msg_id": str(uuid.uuid4()),
    }


async def test_crossed_messages_are_delivered_in_order_without_the_database(
    db: AsyncSession, services: Services
) -> None:
    staff = await make_staff(db)
    conversation, _ = await held_chat(db, services, staff)  # seq 1 and 2 stored
    connection = Connection(cast(WebSocket, None))  # frames stay queued: nothing is written
    feed = ConversationFeed(connection, services, conversation.id, 2, Sender.counsellor)
    await feed.deliver(event(conversation, 5))
    await feed.deliver(event(conversation, 4))
    assert sent_seqs(connection) == []  # 3 is not here yet
    await feed.deliver(event(conversation, 3))
    assert sent_seqs(connection) == [3, 4, 5]
    assert (feed.last_seq, feed.early) == (5, None)


async def test_a_predecessor_that_never_comes_is_read_from_the_database(
    db: AsyncSession, services: Services
) -> None:
    staff = await make_staff(db)
    conversation, _ = await held_chat(db, services, staff)  # seq 1 and 2 stored
    connection = Connection(cast(WebSocket, None))
    feed = ConversationFeed(connection, services, conversation.id, 1, Sender.counsellor)
    await feed.deliver(event(conversation, 3))  # seq 2 is in the database, not on its way
    subscription = Subscription("test", 10)
    # Nothing else arrives: after EARLY_WAIT the feed says so, and replay reads seq 2.
    assert await feed._next(subscription) is None
    await feed.replay()
    assert sent_seqs(connection) == [2]
    assert (feed.last_seq, feed.early) == (2, None)  # 3 comes again after a real store
