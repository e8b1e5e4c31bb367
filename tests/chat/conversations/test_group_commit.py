"""Group commit of chat messages and batched receipt marks, on the real database: the same
guarantees as one statement per message (order, seq without gaps, a resend stored once,
only the sender's own open chat), and no deadlock between two processes' batches."""

from __future__ import annotations

import asyncio
import random
import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chat.conversations import service
from chat.conversations.group_commit import MessageBatcher, Outgoing
from chat.conversations.models import Conversation, Message, Sender, Status
from chat.conversations.receipt_marks import ReceiptMarks
from clb.auth.models import StaffAccount
from clb.db import commit
from clb.services import Services
from tests.chat.tools_support import held_chat
from tests.conftest import make_staff


async def held_chats(
    db: AsyncSession, services: Services, staff: StaffAccount, count: int
) -> list[Conversation]:
    """``count`` chats held by ``staff``, each with two messages already (seq 1 and 2)."""
    return [(await held_chat(db, services, staff, f"Sam{i}"))[0] for i in range(count)]


def visitor_of(conversation: Conversation) -> uuid.UUID:
    assert conversation.visitor_id is not None
    return conversation.visitor_id


def visitor_message(conversation: Conversation, body: str) -> Outgoing:
    return Outgoing(
        conversation.id, Sender.visitor, visitor_of(conversation), None, uuid.uuid4(), body
    )


async def stored_bodies(db: AsyncSession, conversation_id: uuid.UUID) -> list[tuple[int, str]]:
    await db.rollback()  # see what the batches committed
    rows = await db.execute(
        select(Message.seq, Message.body)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.seq)
    )
    return [(int(seq), str(body)) for seq, body in rows]


async def test_one_batch_stores_many_chats_each_in_its_order_without_gaps(
    db: AsyncSession, services: Services
) -> None:
    staff = await make_staff(db)
    chats = await held_chats(db, services, staff, 6)
    batcher = MessageBatcher(services)
    writer = asyncio.create_task(batcher.write_forever())
    try:
        # Three messages per chat, all asked for at once: a batch takes one per chat.
        sends = [
            batcher.append(visitor_message(chat, f"{chat.nickname}-{n}"))
            for n in range(3)
            for chat in chats
        ]
        results = await asyncio.gather(*sends)
    finally:
        writer.cancel()
    assert all(result is not None for result in results)
    for chat_id, nickname in [(chat.id, chat.nickname) for chat in chats]:
        bodies = await stored_bodies(db, chat_id)
        assert [seq for seq, _ in bodies] == [1, 2, 3, 4, 5]
        assert [body for _, body in bodies[2:]] == [f"{nickname}-{n}" for n in range(3)]
        last_seq = await db.scalar(select(Conversation.last_seq).where(Conversation.id == chat_id))
        assert last_seq == 5


async def test_a_resend_a_stranger_and_a_closed_chat_store_nothing(
    db: AsyncSession, services: Services
) -> None:
    staff = await make_staff(db)
    other = await make_staff(db, email="bo@clb.example")
    open_chat, closed_chat = await held_chats(db, services, staff, 2)
    closed_chat.status = Status.ended.value
    await commit(db)
    batcher = MessageBatcher(services)
    writer = asyncio.create_task(batcher.write_forever())
    try:
        first = visitor_message(open_chat, "Eerste")
        stored = await batcher.append(first)
        assert stored is not None and stored.seq == 3
        # The same client_msg_id again, a counsellor who does not hold the chat, a message
        # to an ended chat: in one batch with a good message, which is stored.
        refused = await asyncio.gather(
            batcher.append(first),
            batcher.append(
                Outgoing(open_chat.id, Sender.counsellor, other.id, other.id, uuid.uuid4(), "x")
            ),
            batcher.append(visitor_message(closed_chat, "Te laat")),
        )
        good = await batcher.append(visitor_message(open_chat, "Tweede"))
    finally:
        writer.cancel()
    assert list(refused) == [None, None, None]
    assert good is not None and good.seq == 4
    assert [body for _, body in await stored_bodies(db, open_chat.id)][2:] == ["Eerste", "Tweede"]
    assert len(await stored_bodies(db, closed_chat.id)) == 2


async def test_the_socket_path_says_why_a_send_was_not_stored(
    db: AsyncSession, services: Services
) -> None:
    staff = await make_staff(db)
    (chat,) = await held_chats(db, services, staff, 1)
    outgoing = visitor_message(chat, "Hallo")
    message = await service.send_from_socket(services, outgoing)
    again = await service.send_from_socket(services, outgoing)  # a resend: the same ack
    assert (again.seq, again.id) == (message.seq, message.id)
    count = await db.scalar(
        select(func.count())
        .select_from(Message)
        .where(Message.client_msg_id == outgoing.client_msg_id)
    )
    assert count == 1


async def test_two_processes_batches_over_the_same_chats_do_not_deadlock(
    db: AsyncSession, services: Services
) -> None:
    staff = await make_staff(db)
    chats = await held_chats(db, services, staff, 8)
    # Two batchers stand for two processes: their batches hold the same chats in
    # opposite orders, which would deadlock without the rows locked in one order.
    batchers = [MessageBatcher(services), MessageBatcher(services)]
    writers = [asyncio.create_task(b.write_forever()) for b in batchers]
    try:
        sends = []
        for round_ in range(10):
            for k, batcher in enumerate(batchers):
                order = chats if k == 0 else list(reversed(chats))
                shuffled = random.sample(order, len(order)) if round_ % 2 else order
                sends += [batcher.append(visitor_message(c, f"{k}-{round_}")) for c in shuffled]
        results = await asyncio.wait_for(asyncio.gather(*sends), 60)
    finally:
        for writer in writers:
            writer.cancel()
    assert all(result is not None for result in results)
    for chat_id in [chat.id for chat in chats]:
        assert [seq for seq, _ in await stored_bodies(db, chat_id)] == list(range(1, 23))


async def test_receipt_marks_are_written_in_batches_forward_only_and_by_the_owner_only(
    db: AsyncSession, services: Services
) -> None:
    staff = await make_staff(db)
    other = await make_staff(db, email="bo@clb.example")
    first, second = await held_chats(db, services, staff, 2)
    marks = ReceiptMarks(services)
    marks.note(first.id, Sender.visitor, visitor_of(first), "delivered", 1)
    marks.note(first.id, Sender.visitor, visitor_of(first), "read", 2)
    marks.note(first.id, Sender.counsellor, staff.id, "delivered", 99)  # capped at last_seq
    marks.note(second.id, Sender.counsellor, other.id, "read", 2)  # not theirs: ignored
    await marks.flush()
    marks.note(first.id, Sender.visitor, visitor_of(first), "read", 1)  # never backwards
    await marks.flush()
    assert marks.pending == {}
    await db.rollback()
    rows = await db.execute(
        select(
            Conversation.id,
            Conversation.visitor_delivered_seq,
            Conversation.visitor_read_seq,
            Conversation.counsellor_delivered_seq,
            Conversation.counsellor_read_seq,
        ).where(Conversation.id.in_([first.id, second.id]))
    )
    found = {row[0]: tuple(row[1:]) for row in rows}
    assert found[first.id] == (2, 2, 2, 0)
    assert found[second.id] == (0, 0, 0, 0)
