"""Every opening-hours query."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from chat.opening_hours.models import OpeningException, WeeklyOpeningPeriod


async def list_weekly_periods(session: AsyncSession) -> list[WeeklyOpeningPeriod]:
    query = select(WeeklyOpeningPeriod).order_by(
        WeeklyOpeningPeriod.weekday, WeeklyOpeningPeriod.opens_at
    )
    return list((await session.scalars(query)).all())


async def list_exceptions(
    session: AsyncSession, *, since: date, until: date | None = None
) -> list[OpeningException]:
    query = select(OpeningException).where(OpeningException.day >= since)
    if until is not None:
        query = query.where(OpeningException.day <= until)
    query = query.order_by(OpeningException.day, OpeningException.opens_at, OpeningException.id)
    return list((await session.scalars(query)).all())


async def delete_exception(session: AsyncSession, exception_id: int) -> bool:
    """True when there was such an exception."""
    result = await session.execute(
        delete(OpeningException)
        .where(OpeningException.id == exception_id)
        .returning(OpeningException.id)
    )
    return result.scalar_one_or_none() is not None


async def delete_weekday_periods(session: AsyncSession, weekday: int) -> None:
    await session.execute(delete(WeeklyOpeningPeriod).where(WeeklyOpeningPeriod.weekday == weekday))
