"""Every chat query: the message path, the queue, claims and the retention purge."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Text,
    Uuid,
    delete,
    func,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from chat.models import OPEN_STATUSES, Conversation, Message, Status
from clb.auth.models import StaffAccount


async def lock_conversation(
    session: AsyncSession, conversation_id: uuid.UUID
) -> Conversation | None:
    """The conversation row, locked until commit: one writer at a time takes the next seq."""
    return await session.scalar(
        select(Conversation).where(Conversation.id == conversation_id).with_for_update()
    )


async def get_conversation(
    session: AsyncSession, conversation_id: uuid.UUID
) -> Conversation | None:
    return await session.get(Conversation, conversation_id)


async def open_conversation_of(session: AsyncSession, visitor_id: uuid.UUID) -> Conversation | None:
    return await session.scalar(
        select(Conversation).where(
            Conversation.visitor_id == visitor_id, Conversation.status.in_(OPEN_STATUSES)
        )
    )


async def find_message(
    session: AsyncSession, conversation_id: uuid.UUID, sender: str, client_msg_id: uuid.UUID
) -> Message | None:
    return await session.scalar(
        select(Message).where(
            Message.conversation_id == conversation_id,
            Message.sender == sender,
            Message.client_msg_id == client_msg_id,
        )
    )


async def waiting_conversations(session: AsyncSession, limit: int = 200) -> Sequence[Conversation]:
    result = await session.scalars(
        select(Conversation)
        .where(Conversation.status == Status.waiting.value)
        .order_by(Conversation.priority.desc(), Conversation.created_at)
        .limit(limit)
    )
    return result.all()


async def waiting_count(session: AsyncSession) -> int:
    count = await session.scalar(
        select(func.count()).where(Conversation.status == Status.waiting.value)
    )
    return int(count or 0)


async def claim(
    session: AsyncSession,
    conversation_id: uuid.UUID,
    counsellor_id: uuid.UUID,
    capacity: int,
    now: datetime,
) -> Conversation | None:
    """Take a waiting conversation in one statement; None when someone else was first or the
    counsellor is at capacity. The advisory lock serialises one counsellor's claims across
    instances, so two simultaneous claims cannot both pass the capacity check."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"chat-claim:{counsellor_id}"},
    )
    held = (
        select(func.count())
        .where(
            Conversation.counsellor_id == counsellor_id,
            Conversation.status == Status.active.value,
        )
        .scalar_subquery()
    )
    return await session.scalar(
        update(Conversation)
        .where(
            Conversation.id == conversation_id,
            Conversation.status == Status.waiting.value,
            held < capacity,
        )
        .values(status=Status.active.value, counsellor_id=counsellor_id, claimed_at=now)
        .returning(Conversation)
    )


async def active_count_of(session: AsyncSession, counsellor_id: uuid.UUID) -> int:
    count = await session.scalar(
        select(func.count()).where(
            Conversation.counsellor_id == counsellor_id,
            Conversation.status == Status.active.value,
        )
    )
    return int(count or 0)


async def held_conversations(
    session: AsyncSession, counsellor_id: uuid.UUID
) -> Sequence[Conversation]:
    result = await session.scalars(
        select(Conversation)
        .where(
            Conversation.counsellor_id == counsellor_id,
            Conversation.status == Status.active.value,
        )
        .order_by(Conversation.claimed_at)
    )
    return result.all()


async def active_count(session: AsyncSession) -> int:
    count = await session.scalar(
        select(func.count()).where(Conversation.status == Status.active.value)
    )
    return int(count or 0)


async def median_handling_minutes(session: AsyncSession, sample: int = 50) -> tuple[float, int]:
    """Median minutes from claim to end over the most recent chats, and how many there were."""
    recent = (
        select(
            (func.extract("epoch", Conversation.ended_at - Conversation.claimed_at) / 60).label(
                "minutes"
            )
        )
        .where(Conversation.claimed_at.is_not(None), Conversation.ended_at.is_not(None))
        .order_by(Conversation.ended_at.desc())
        .limit(sample)
        .subquery()
    )
    row = (
        await session.execute(
            select(
                func.percentile_cont(0.5).within_group(recent.c.minutes), func.count()
            ).select_from(recent)
        )
    ).one()
    return float(row[0] or 0.0), int(row[1])


async def purge_transcript(
    session: AsyncSession, conversation_id: uuid.UUID, now: datetime
) -> bool:
    """Delete the messages and wipe what the visitor typed into the form; counts, times,
    topic and rating stay for statistics. True when something was purged."""
    await session.execute(delete(Message).where(Message.conversation_id == conversation_id))
    result = await session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.purged_at.is_(None))
        .values(purged_at=now, nickname="", subject=None, rating_comment=None)
    )
    return bool(getattr(result, "rowcount", 0))


async def messages_with_authors(
    session: AsyncSession, conversation_id: uuid.UUID, after_seq: int, limit: int = 1000
) -> Sequence[tuple[Message, str | None]]:
    """Messages after ``after_seq`` with the staff author's display name, if any."""
    result = await session.execute(
        select(Message, StaffAccount.display_name)
        .outerjoin(StaffAccount, StaffAccount.id == Message.author_id)
        .where(Message.conversation_id == conversation_id, Message.seq > after_seq)
        .order_by(Message.seq)
        .limit(limit)
    )
    return [(row[0], row[1]) for row in result.all()]


async def waiting_ids(session: AsyncSession) -> list[uuid.UUID]:
    """Every waiting conversation in queue order (priority first, then first come)."""
    result = await session.scalars(
        select(Conversation.id)
        .where(Conversation.status == Status.waiting.value)
        .order_by(Conversation.priority.desc(), Conversation.created_at)
    )
    return list(result.all())


async def append_message(
    session: AsyncSession,
    *,
    conversation_id: uuid.UUID,
    owner: ColumnElement[bool],
    statuses: tuple[str, ...],
    sender: str,
    body: str,
    client_msg_id: uuid.UUID,
    author_id: uuid.UUID | None,
) -> tuple[int, int, datetime] | None:
    """Take the next seq and store the message in one statement: the UPDATE locks the
    conversation row (one writer at a time) and the INSERT reuses its new ``last_seq``.

    Returns (id, seq, created_at), or None when the conversation is not the sender's or not
    open. A known ``client_msg_id`` raises IntegrityError and, being one statement, burns
    no seq: the caller rolls back and fetches the original.
    """
    bumped = (
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.status.in_(statuses), owner)
        .values(last_seq=Conversation.last_seq + 1)
        .returning(Conversation.id, Conversation.last_seq)
        .cte("bumped")
    )
    row = (
        await session.execute(
            insert(Message)
            .from_select(
                [
                    "conversation_id",
                    "seq",
                    "sender",
                    "author_id",
                    "client_msg_id",
                    "body",
                    "created_at",
                ],
                select(
                    bumped.c.id,
                    bumped.c.last_seq,
                    literal(sender),
                    literal(author_id, Uuid()),
                    literal(client_msg_id, Uuid()),
                    literal(body, Text()),
                    func.now(),
                ),
            )
            .add_cte(bumped)
            .returning(Message.id, Message.seq, Message.created_at)
        )
    ).first()
    return (int(row[0]), int(row[1]), row[2]) if row else None


async def conversation_matches(
    session: AsyncSession, conversation_id: uuid.UUID, condition: ColumnElement[bool]
) -> bool:
    found = await session.scalar(
        select(Conversation.id).where(Conversation.id == conversation_id, condition)
    )
    return found is not None
