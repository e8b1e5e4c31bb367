"""Queries for accounts, sessions and visitors."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from clb.auth.models import AccountLink, StaffAccount, StaffSession, Visitor
from clb.org.models import Centre


async def account_by_email(session: AsyncSession, email: str) -> StaffAccount | None:
    return await session.scalar(select(StaffAccount).where(StaffAccount.email == email))


async def live_session_by_hash(
    session: AsyncSession, token_hash: str, *, now: datetime, idle_since: datetime
) -> StaffSession | None:
    return await session.scalar(
        select(StaffSession)
        .options(joinedload(StaffSession.account))
        .where(
            StaffSession.token_hash == token_hash,
            StaffSession.ended_at.is_(None),
            StaffSession.expires_at > now,
            StaffSession.last_seen_at > idle_since,
        )
    )


async def end_session_by_hash(
    session: AsyncSession, token_hash: str, now: datetime
) -> tuple[uuid.UUID, uuid.UUID] | None:
    row = (
        await session.execute(
            update(StaffSession)
            .where(StaffSession.token_hash == token_hash, StaffSession.ended_at.is_(None))
            .values(ended_at=now)
            .returning(StaffSession.id, StaffSession.account_id)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def end_sessions_of(session: AsyncSession, account_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        update(StaffSession)
        .where(StaffSession.account_id == account_id, StaffSession.ended_at.is_(None))
        .values(ended_at=now)
    )


async def purge_sessions_before(session: AsyncSession, cutoff: datetime) -> int:
    result = await session.execute(
        delete(StaffSession).where(
            or_(StaffSession.ended_at < cutoff, StaffSession.expires_at < cutoff)
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def purge_links_before(session: AsyncSession, cutoff: datetime) -> int:
    result = await session.execute(
        delete(AccountLink).where(
            or_(AccountLink.used_at < cutoff, AccountLink.expires_at < cutoff)
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def visitor_by_hash(session: AsyncSession, token_hash: str) -> Visitor | None:
    return await session.scalar(select(Visitor).where(Visitor.token_hash == token_hash))


async def centre_requires_second_factor(session: AsyncSession, centre_id: uuid.UUID) -> bool:
    required = await session.scalar(
        select(Centre.second_factor_required).where(Centre.id == centre_id)
    )
    return bool(required)
