"""Queries for the counsellor's tools: private notes, canned replies, the outcome at close
and its handover code, and what the retention purge removes of them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, exists, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from chat.console.models import ConversationTransfer
from chat.conversations.models import Conversation
from chat.counsellor_tools.models import CannedReply, ConversationNote, ConversationOutcome
from clb.auth.models import StaffAccount

# --- Who worked on a conversation --------------------------------------------------------


async def has_held(session: AsyncSession, conversation_id: uuid.UUID, staff_id: uuid.UUID) -> bool:
    """Whether this person holds the conversation now or held it before a transfer."""
    transferred = exists().where(
        ConversationTransfer.conversation_id == conversation_id,
        or_(ConversationTransfer.from_id == staff_id, ConversationTransfer.to_id == staff_id),
    )
    found = await session.scalar(
        select(Conversation.id).where(
            Conversation.id == conversation_id,
            or_(Conversation.counsellor_id == staff_id, transferred),
        )
    )
    return found is not None


async def held_in_centre(
    session: AsyncSession, conversation_id: uuid.UUID, centre_id: uuid.UUID
) -> bool:
    """Whether a counsellor of this centre holds the conversation now or held it before a
    transfer: the chats whose notes that centre's coordinators may read."""
    own = select(StaffAccount.id).where(StaffAccount.centre_id == centre_id)
    transferred = exists().where(
        ConversationTransfer.conversation_id == conversation_id,
        or_(ConversationTransfer.from_id.in_(own), ConversationTransfer.to_id.in_(own)),
    )
    found = await session.scalar(
        select(Conversation.id).where(
            Conversation.id == conversation_id,
            or_(Conversation.counsellor_id.in_(own), transferred),
        )
    )
    return found is not None


# --- Notes ---------------------------------------------------------------------------------


async def notes_of(
    session: AsyncSession, conversation_id: uuid.UUID
) -> Sequence[tuple[ConversationNote, str | None]]:
    """Every staff note on the conversation, oldest first, with the author's display name."""
    result = await session.execute(
        select(ConversationNote, StaffAccount.display_name)
        .outerjoin(StaffAccount, StaffAccount.id == ConversationNote.author_id)
        .where(ConversationNote.conversation_id == conversation_id)
        .order_by(ConversationNote.created_at, ConversationNote.id)
    )
    return [(row[0], row[1]) for row in result.all()]


async def add_note(
    session: AsyncSession,
    conversation_id: uuid.UUID,
    kind: str,
    author_id: uuid.UUID,
    body: str,
    now: datetime,
) -> ConversationNote:
    note = ConversationNote(
        conversation_id=conversation_id, kind=kind, author_id=author_id, body=body, created_at=now
    )
    session.add(note)
    await session.flush()
    return note


# --- Canned replies ------------------------------------------------------------------------


async def canned_replies_for(
    session: AsyncSession, centre_id: uuid.UUID, owner_id: uuid.UUID
) -> Sequence[CannedReply]:
    """The centre's shared replies and this person's own, shared first, then by title."""
    result = await session.scalars(
        select(CannedReply)
        .where(
            CannedReply.centre_id == centre_id,
            or_(CannedReply.owner_id.is_(None), CannedReply.owner_id == owner_id),
        )
        .order_by(CannedReply.owner_id.is_not(None), CannedReply.title, CannedReply.created_at)
    )
    return result.all()


async def get_canned_reply(session: AsyncSession, reply_id: uuid.UUID) -> CannedReply | None:
    return await session.get(CannedReply, reply_id)


async def delete_canned_reply(session: AsyncSession, reply_id: uuid.UUID) -> None:
    await session.execute(delete(CannedReply).where(CannedReply.id == reply_id))


# --- Outcome and handover code -------------------------------------------------------------


async def get_outcome(
    session: AsyncSession, conversation_id: uuid.UUID
) -> ConversationOutcome | None:
    return await session.scalar(
        select(ConversationOutcome)
        .where(ConversationOutcome.conversation_id == conversation_id)
        .execution_options(populate_existing=True)
    )


async def upsert_outcome(
    session: AsyncSession,
    conversation_id: uuid.UUID,
    *,
    topics: list[str],
    referrals: list[str],
    summary: str | None,
    recorded_by: uuid.UUID,
    now: datetime,
) -> None:
    """One statement, so two saves at once cannot both insert; the handover code stays."""
    values = {
        "topics": topics,
        "referrals": referrals,
        "summary": summary,
        "recorded_by": recorded_by,
        "recorded_at": now,
    }
    statement = insert(ConversationOutcome).values(conversation_id=conversation_id, **values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[ConversationOutcome.conversation_id], set_=values
        )
    )


async def set_handover_hash(
    session: AsyncSession,
    conversation_id: uuid.UUID,
    code_hash: str,
    recorded_by: uuid.UUID,
    now: datetime,
) -> None:
    """Store a new code's hash (an earlier code stops working), creating the outcome row
    with empty codes when the counsellor has not recorded one yet."""
    statement = insert(ConversationOutcome).values(
        conversation_id=conversation_id,
        topics=[],
        referrals=[],
        handover_code_hash=code_hash,
        recorded_by=recorded_by,
        recorded_at=now,
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[ConversationOutcome.conversation_id],
            set_={"handover_code_hash": code_hash},
        )
    )


async def hash_in_use(session: AsyncSession, code_hash: str) -> bool:
    found = await session.scalar(
        select(ConversationOutcome.conversation_id).where(
            ConversationOutcome.handover_code_hash == code_hash
        )
    )
    return found is not None


async def outcome_by_code_hash(session: AsyncSession, code_hash: str) -> ConversationOutcome | None:
    """The outcome behind a handover code, unless its conversation was purged."""
    return await session.scalar(
        select(ConversationOutcome)
        .join(Conversation, Conversation.id == ConversationOutcome.conversation_id)
        .where(
            ConversationOutcome.handover_code_hash == code_hash,
            Conversation.purged_at.is_(None),
        )
    )


# --- Retention -----------------------------------------------------------------------------


async def purge_counsellor_tools(session: AsyncSession, conversation_id: uuid.UUID) -> None:
    """With the transcript go the notes, the summary and the handover code; the topic and
    referral codes stay for statistics."""
    await session.execute(
        delete(ConversationNote).where(ConversationNote.conversation_id == conversation_id)
    )
    await session.execute(
        update(ConversationOutcome)
        .where(ConversationOutcome.conversation_id == conversation_id)
        .values(summary=None, handover_code_hash=None)
    )


async def clear_handover_codes_before(session: AsyncSession, cutoff: datetime) -> int:
    """Retention of handover codes: the code of a chat that ended before ``cutoff`` stops
    working (its hash goes; the summary stays until the transcript purge). A code's own
    time is not stored; it is given during the chat, so never after the chat's end."""
    ended_before = select(Conversation.id).where(Conversation.ended_at < cutoff)
    result = await session.execute(
        update(ConversationOutcome)
        .where(
            ConversationOutcome.handover_code_hash.is_not(None),
            ConversationOutcome.conversation_id.in_(ended_before),
        )
        .values(handover_code_hash=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
