"""Queries for managing staff accounts: a centre's accounts with their sessions, links."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clb.auth.models import AccountLink, StaffAccount, StaffSession


@dataclass(frozen=True)
class AccountRow:
    account: StaffAccount
    live_sessions: int
    invitation_open: bool


def _live(now: datetime) -> ColumnElement[bool]:
    return and_(StaffSession.ended_at.is_(None), StaffSession.expires_at > now)


def _open_invitation(now: datetime) -> ColumnElement[bool]:
    return and_(
        AccountLink.purpose == "invite",
        AccountLink.used_at.is_(None),
        AccountLink.expires_at > now,
    )


async def invitation_open(session: AsyncSession, account_id: uuid.UUID, now: datetime) -> bool:
    found = await session.scalar(
        select(AccountLink.id).where(AccountLink.account_id == account_id, _open_invitation(now))
    )
    return found is not None


async def accounts_of_centre(
    session: AsyncSession, centre_id: uuid.UUID, now: datetime
) -> list[AccountRow]:
    live = (
        select(func.count())
        .where(StaffSession.account_id == StaffAccount.id, _live(now))
        .correlate(StaffAccount)
        .scalar_subquery()
    )
    invited = (
        select(func.count())
        .where(AccountLink.account_id == StaffAccount.id, _open_invitation(now))
        .correlate(StaffAccount)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(StaffAccount, live, invited)
        .where(StaffAccount.centre_id == centre_id)
        .order_by(StaffAccount.is_active.desc(), StaffAccount.full_name)
    )
    return [AccountRow(account, int(n), bool(i)) for account, n, i in rows.all()]


async def live_sessions(
    session: AsyncSession, account_id: uuid.UUID, now: datetime
) -> list[StaffSession]:
    result = await session.scalars(
        select(StaffSession)
        .where(StaffSession.account_id == account_id, _live(now))
        .order_by(StaffSession.last_seen_at.desc())
    )
    return list(result)


async def end_sessions(
    session: AsyncSession, account_id: uuid.UUID, now: datetime, *, keep: uuid.UUID | None
) -> list[uuid.UUID]:
    query = (
        update(StaffSession)
        .where(StaffSession.account_id == account_id, StaffSession.ended_at.is_(None))
        .values(ended_at=now)
        .returning(StaffSession.id)
    )
    if keep is not None:
        query = query.where(StaffSession.id != keep)
    return list((await session.scalars(query)).all())


async def retire_links(
    session: AsyncSession, account_id: uuid.UUID, purpose: str | None, now: datetime
) -> None:
    """Earlier links stop working when a new one is sent (or the account is disabled)."""
    query = (
        update(AccountLink)
        .where(AccountLink.account_id == account_id, AccountLink.used_at.is_(None))
        .values(expires_at=now)
    )
    if purpose is not None:
        query = query.where(AccountLink.purpose == purpose)
    await session.execute(query)


async def live_link(
    session: AsyncSession, token_hash: str, now: datetime
) -> tuple[AccountLink, StaffAccount] | None:
    row = (
        await session.execute(
            select(AccountLink, StaffAccount)
            .join(StaffAccount, StaffAccount.id == AccountLink.account_id)
            .where(
                AccountLink.token_hash == token_hash,
                AccountLink.used_at.is_(None),
                AccountLink.expires_at > now,
                StaffAccount.is_active.is_(True),
            )
        )
    ).first()
    return (row[0], row[1]) if row else None


async def mark_link_used(session: AsyncSession, link_id: uuid.UUID, now: datetime) -> bool:
    """Single use even under a double submit: only one UPDATE finds it unused."""
    used = await session.scalar(
        update(AccountLink)
        .where(AccountLink.id == link_id, AccountLink.used_at.is_(None))
        .values(used_at=now)
        .returning(AccountLink.id)
    )
    return used is not None


async def link_for_mail(
    session: AsyncSession, link_id: uuid.UUID, now: datetime
) -> tuple[AccountLink, StaffAccount] | None:
    row = (
        await session.execute(
            select(AccountLink, StaffAccount)
            .join(StaffAccount, StaffAccount.id == AccountLink.account_id)
            .where(
                AccountLink.id == link_id,
                AccountLink.used_at.is_(None),
                AccountLink.expires_at > now,
            )
            .with_for_update(of=AccountLink)
        )
    ).first()
    return (row[0], row[1]) if row else None
