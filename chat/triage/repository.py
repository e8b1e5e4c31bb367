"""Queries for crisis triage: the lexicon and the flags it raised."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chat.triage.models import ConversationFlag, TriageTerm


async def all_terms(session: AsyncSession) -> list[str]:
    return list((await session.scalars(select(TriageTerm.term).order_by(TriageTerm.id))).all())


async def list_terms(session: AsyncSession, contains: str = "") -> Sequence[TriageTerm]:
    query = select(TriageTerm).order_by(TriageTerm.term)
    if contains:
        escaped = contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(TriageTerm.term.ilike(f"%{escaped}%", escape="\\"))
    return (await session.scalars(query)).all()


async def count_terms(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(TriageTerm)) or 0)


async def delete_term(session: AsyncSession, term_id: int) -> bool:
    result = await session.execute(delete(TriageTerm).where(TriageTerm.id == term_id))
    return bool(getattr(result, "rowcount", 0))


async def flag_exists(
    session: AsyncSession, conversation_id: uuid.UUID, source: str, seq: int | None
) -> bool:
    """Whether this very hit was recorded already (a resent message is checked again)."""
    same_seq = ConversationFlag.seq.is_(None) if seq is None else ConversationFlag.seq == seq
    found = await session.scalar(
        select(
            exists().where(
                ConversationFlag.conversation_id == conversation_id,
                ConversationFlag.source == source,
                ConversationFlag.dismissed_at.is_(None),
                same_seq,
            )
        )
    )
    return bool(found)


async def dismiss_open_flags(
    session: AsyncSession,
    conversation_id: uuid.UUID,
    staff_id: uuid.UUID,
    reason: str,
    now: datetime,
) -> int:
    result = await session.execute(
        update(ConversationFlag)
        .where(
            ConversationFlag.conversation_id == conversation_id,
            ConversationFlag.dismissed_at.is_(None),
        )
        .values(dismissed_at=now, dismissed_by=staff_id, dismiss_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0))
