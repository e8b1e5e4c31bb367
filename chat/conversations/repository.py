"""Every chat query: the message path, the queue, claims and the retention purge."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    delete,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from chat.console import repository as staff_repository
from chat.conversations.models import OPEN_STATUSES, Conversation, Message, Status
from chat.counsellor_tools.models import ConversationNote, NoteKind
from clb.auth.models import StaffAccount
from clb.i18n import SOURCE_LANGUAGE


async def lock_conversation(
    session: AsyncSession, conversation_id: uuid.UUID
) -> Conversation | None:
    """The conversation row, locked until commit: one writer at a time takes the next seq."""
    # populate_existing: an instance this session loaded earlier gets the locked row's
    # values (last_seq above all), not the stale ones it already had.
    return await session.scalar(
        select(Conversation)
        .where(Conversation.id == conversation_id)
        .with_for_update()
        .execution_options(populate_existing=True)
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
    """The queue as the console lists it: chats whose visitor connected at least once."""
    result = await session.scalars(
        select(Conversation)
        .where(Conversation.status == Status.waiting.value, Conversation.joined_at.is_not(None))
        .order_by(Conversation.priority.desc(), Conversation.created_at)
        .limit(limit)
    )
    return result.all()


async def open_statuses(session: AsyncSession) -> dict[uuid.UUID, str]:
    """Every waiting or running conversation, with its status."""
    result = await session.execute(
        select(Conversation.id, Conversation.status).where(Conversation.status.in_(OPEN_STATUSES))
    )
    return {row[0]: row[1] for row in result.all()}


async def _lock_claims_of(session: AsyncSession, counsellor_id: uuid.UUID) -> None:
    """Serialise one counsellor's claims and incoming transfers across instances, so two at
    once cannot both pass the capacity check (held until commit)."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"chat-claim:{counsellor_id}"},
    )


def _may_take(counsellor_id: uuid.UUID, default_capacity: int) -> ColumnElement[bool]:
    """On duty and under their own maximum (or the platform default)."""
    return and_(
        staff_repository.is_on_duty(counsellor_id),
        staff_repository.held_count(counsellor_id)
        < staff_repository.max_chats_of(counsellor_id, default_capacity),
    )


async def _take(
    session: AsyncSession,
    target: ColumnElement[uuid.UUID] | uuid.UUID,
    counsellor_id: uuid.UUID,
    default_capacity: int,
    now: datetime,
) -> Conversation | None:
    """Give the waiting conversation ``target`` to the counsellor in one statement, under
    their claim lock. ``claimed_at`` keeps the first claim (a chat sent back to the queue is
    claimed again), so wait statistics stay true."""
    await _lock_claims_of(session, counsellor_id)
    return await session.scalar(
        update(Conversation)
        .where(
            Conversation.id == target,
            Conversation.status == Status.waiting.value,
            _may_take(counsellor_id, default_capacity),
        )
        .values(
            status=Status.active.value,
            counsellor_id=counsellor_id,
            claimed_at=func.coalesce(Conversation.claimed_at, now),
            talk_started_at=now,
        )
        .returning(Conversation),
        execution_options={"populate_existing": True},
    )


async def claim(
    session: AsyncSession,
    conversation_id: uuid.UUID,
    counsellor_id: uuid.UUID,
    default_capacity: int,
    now: datetime,
) -> Conversation | None:
    """Take a waiting conversation; None when someone else was first, or the counsellor is
    not on duty or at their maximum."""
    return await _take(session, conversation_id, counsellor_id, default_capacity, now)


@dataclass(frozen=True)
class LanguageRule:
    """A chat in another language than Dutch waits ``wait`` for a counsellor who speaks it,
    while one of ``fresh`` (consoles heard from) is on duty with room and speaks it."""

    fresh: Collection[uuid.UUID]
    wait: timedelta


def _offered_to(
    counsellor_id: uuid.UUID, default_capacity: int, now: datetime, rule: LanguageRule
) -> tuple[ColumnElement[bool], ColumnElement[int]]:
    """May this counsellor's "next" take the chat, and the chats in a language they speak
    (besides Dutch) first within one priority."""
    mine = staff_repository.speaks(counsellor_id, Conversation.language)
    other = Conversation.language != SOURCE_LANGUAGE
    allowed = or_(
        ~other,
        mine,
        Conversation.created_at <= now - rule.wait,
        ~staff_repository.speaker_available(Conversation.language, rule.fresh, default_capacity),
    )
    return allowed, case((and_(other, mine), 0), else_=1)


async def claim_next(
    session: AsyncSession,
    counsellor_id: uuid.UUID,
    default_capacity: int,
    now: datetime,
    among: list[uuid.UUID],
    rule: LanguageRule,
) -> Conversation | None:
    """Take the highest-priority, longest-waiting conversation of ``among`` (those whose
    visitor is there) that the language rule offers this counsellor, in one statement. SKIP
    LOCKED: a row another counsellor is claiming right now is passed over, not waited for."""
    allowed, mine_first = _offered_to(counsellor_id, default_capacity, now, rule)
    first = (
        select(Conversation.id)
        .where(Conversation.status == Status.waiting.value, Conversation.id.in_(among), allowed)
        .order_by(Conversation.priority.desc(), mine_first, Conversation.created_at)
        .limit(1)
        .with_for_update(of=Conversation, skip_locked=True)
        .scalar_subquery()
    )
    return await _take(session, first, counsellor_id, default_capacity, now)


async def lock_claims_and_check(
    session: AsyncSession, counsellor_id: uuid.UUID, default_capacity: int
) -> bool:
    """For a transfer to this counsellor: take their claim lock, then may they take one more?"""
    await _lock_claims_of(session, counsellor_id)
    return bool(await session.scalar(select(_may_take(counsellor_id, default_capacity))))


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


# The message path's one statement, as plain SQL: built and compiled once, it skips the ORM's
# bulk-insert machinery and cache-key work that an ORM INSERT … FROM SELECT costs per message
# (a fifth of a server's CPU under load). The owner column is fixed per statement.
_APPEND_MESSAGE = """
WITH bumped AS (
    UPDATE conversations SET last_seq = last_seq + 1
    WHERE id = :conversation_id AND status = ANY(:statuses) AND {owner} = :owner_id
    RETURNING id, last_seq, nickname
), stored AS (
    INSERT INTO chat_messages (conversation_id, seq, sender, author_id, client_msg_id, body,
                               created_at)
    SELECT id, last_seq, CAST(:sender AS varchar), CAST(:author_id AS uuid),
           CAST(:client_msg_id AS uuid), CAST(:body AS text), now()
    FROM bumped
    RETURNING id, seq, created_at
)
SELECT stored.id, stored.seq, stored.created_at, bumped.nickname FROM stored, bumped
"""
OwnerColumn = Literal["visitor_id", "counsellor_id"]
_APPEND_BY_OWNER = {
    owner: text(_APPEND_MESSAGE.format(owner=owner)) for owner in ("visitor_id", "counsellor_id")
}


@dataclass(frozen=True)
class Appended:
    id: int
    seq: int
    created_at: datetime
    nickname: str  # the visitor's, for the event's author line


async def append_message(
    session: AsyncSession,
    *,
    conversation_id: uuid.UUID,
    owner_column: OwnerColumn,
    owner_id: uuid.UUID,
    statuses: tuple[str, ...],
    sender: str,
    body: str,
    client_msg_id: uuid.UUID,
    author_id: uuid.UUID | None,
) -> Appended | None:
    """Take the next seq and store the message in one statement: the UPDATE locks the
    conversation row (one writer at a time) and the INSERT reuses its new ``last_seq``.

    None when the conversation is not the sender's (``owner_column`` = ``owner_id``) or not
    open. A known ``client_msg_id`` raises IntegrityError and, being one statement, burns
    no seq: the caller rolls back and fetches the original.
    """
    row = (
        await session.execute(
            _APPEND_BY_OWNER[owner_column],
            {
                "conversation_id": conversation_id,
                "statuses": list(statuses),
                "owner_id": owner_id,
                "sender": sender,
                "author_id": author_id,
                "client_msg_id": client_msg_id,
                "body": body,
            },
        )
    ).first()
    return Appended(int(row[0]), int(row[1]), row[2], str(row[3])) if row else None


ReceiptSide = Literal["visitor", "counsellor"]
ReceiptKind = Literal["delivered", "read"]


async def conversation_matches(
    session: AsyncSession, conversation_id: uuid.UUID, condition: ColumnElement[bool]
) -> bool:
    found = await session.scalar(
        select(Conversation.id).where(Conversation.id == conversation_id, condition)
    )
    return found is not None


async def handover_notes(
    session: AsyncSession, recipient_id: uuid.UUID, conversation_ids: list[uuid.UUID]
) -> list[tuple[uuid.UUID, str | None, str]]:
    """(conversation, author's display name, body) of the latest handover note to this
    counsellor in each of these conversations."""
    if not conversation_ids:
        return []
    result = await session.execute(
        select(ConversationNote.conversation_id, StaffAccount.display_name, ConversationNote.body)
        .outerjoin(StaffAccount, StaffAccount.id == ConversationNote.author_id)
        .where(
            ConversationNote.conversation_id.in_(conversation_ids),
            ConversationNote.kind == NoteKind.handover.value,
            ConversationNote.recipient_id == recipient_id,
        )
        .order_by(ConversationNote.conversation_id, ConversationNote.id.desc())
        .distinct(ConversationNote.conversation_id)
    )
    return [(row[0], row[1], row[2]) for row in result.all()]
