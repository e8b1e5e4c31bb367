"""Arranging a rota: a fixed clock, the default opening week, centres and their staff."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy.ext.asyncio import AsyncSession

from chat.opening_hours.schedule import BRUSSELS, DEFAULT_WEEKLY_SCHEDULE
from chat.opening_hours.service import replace_weekday_periods
from clb.auth.models import StaffAccount
from clb.org.models import Centre
from tests.conftest import make_staff


def local(day: str, clock: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(clock), tzinfo=BRUSSELS)


# Monday 1 June 2026, noon in Brussels: the chat opens at 17:00 (Mon, Tue, Thu 17–21, Wed 14–21).
NOW = local("2026-06-01", "12:00")


def key(day: str, clock: str) -> str:
    """The slot key a form sends for the slot starting at ``clock`` on ``day`` (Brussels)."""
    from chat.rota.slots import slot_key

    return slot_key(local(day, clock))


async def default_week(db: AsyncSession) -> None:
    for weekday in range(7):
        periods = DEFAULT_WEEKLY_SCHEDULE.get(weekday, ())
        await replace_weekday_periods(db, weekday, periods, actor_id=None)
    await db.commit()


async def person(
    db: AsyncSession, centre: Centre, email: str, name: str, *roles: str
) -> StaffAccount:
    account = await make_staff(db, email=email, centre=centre, roles=roles or ("counsellor",))
    account.display_name = name
    await db.commit()
    return account
