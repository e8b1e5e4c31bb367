"""Changing the chat's opening hours, and asking them: the request boundary commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from chat.opening_hours import repository
from chat.opening_hours.models import MAX_NOTE_LENGTH, OpeningException, WeeklyOpeningPeriod
from chat.opening_hours.schedule import (
    DEFAULT_INTAKE_STOP_MINUTES,
    MAX_DAYS_AHEAD,
    MAX_PERIODS_PER_DAY,
    SEARCH_DAYS,
    InvalidOpeningHours,
    OpeningSchedule,
    OpeningStatus,
    Period,
    build_schedule,
    local_date,
    require_aware,
)
from clb.audit import record_audit
from clb.errors import NotFound


def _check_period(period: Period, field: str) -> None:
    if period.closes_at <= period.opens_at:
        raise InvalidOpeningHours("Het einduur moet na het beginuur liggen.", field=field)


def _overlaps(periods: Sequence[Period]) -> bool:
    ordered = sorted(periods)
    return any(b.opens_at < a.closes_at for a, b in zip(ordered, ordered[1:], strict=False))


def _check_note(note: str | None) -> str | None:
    note = (note or "").strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise InvalidOpeningHours("De opmerking mag hoogstens 200 tekens lang zijn.", field="note")
    return note or None


def _check_day(day: date, today: date) -> None:
    if day < today:
        raise InvalidOpeningHours("Deze datum ligt in het verleden.", field="day")
    if day > today + timedelta(days=MAX_DAYS_AHEAD):
        raise InvalidOpeningHours("Kies een datum binnen de komende twee jaar.", field="day")


async def schedule_rows(
    session: AsyncSession, today: date
) -> tuple[list[WeeklyOpeningPeriod], list[OpeningException]]:
    """The weekly periods and the exceptions around ``today`` that questions about now and
    the search window after it need."""
    weekly = await repository.list_weekly_periods(session)
    exceptions = await repository.list_exceptions(
        session, since=today - timedelta(days=1), until=today + timedelta(days=SEARCH_DAYS + 1)
    )
    return weekly, exceptions


async def load_schedule(session: AsyncSession, now: datetime) -> OpeningSchedule:
    """Everything needed to answer questions about ``now`` and the search window after it."""
    weekly, exceptions = await schedule_rows(session, local_date(require_aware(now)))
    return build_schedule(weekly, exceptions)


async def opening_status(
    session: AsyncSession, now: datetime, intake_stop_minutes: int = DEFAULT_INTAKE_STOP_MINUTES
) -> OpeningStatus:
    """For the chat: may a new conversation start now, and when does the chat (re)open."""
    return (await load_schedule(session, now)).status(now, intake_stop_minutes)


def _audit(session: AsyncSession, action: str, actor_id: uuid.UUID | None, obj: str) -> None:
    kind = "chat_weekday" if action == "weekday_set" else "chat_opening_exception"
    record_audit(
        session, f"chat.opening_hours.{action}", actor_id=actor_id, object_type=kind, object_id=obj
    )


async def add_exception(
    session: AsyncSession,
    day: date,
    period: Period | None,
    *,
    note: str | None,
    today: date,
    actor_id: uuid.UUID | None,
) -> OpeningException:
    """A closed day (``period`` None) or an extra opening period on ``day``."""
    _check_day(day, today)
    if period is not None:
        _check_period(period, "closes_at")
    clean_note = _check_note(note)
    existing = await repository.list_exceptions(session, since=day, until=day)
    if period is None and existing:
        raise InvalidOpeningHours(
            "Voor deze datum is al een uitzondering ingesteld. Verwijder die eerst.", field="day"
        )
    if period is not None and any(row.is_closed for row in existing):
        raise InvalidOpeningHours(
            "Deze datum staat als gesloten dag ingesteld. Verwijder die eerst.", field="day"
        )
    others = [Period(r.opens_at, r.closes_at) for r in existing if r.opens_at and r.closes_at]
    if period is not None and _overlaps([*others, period]):
        raise InvalidOpeningHours(
            "Deze uren overlappen met een andere opening op dezelfde dag.", field="opens_at"
        )
    row = OpeningException(
        day=day,
        opens_at=period.opens_at if period else None,
        closes_at=period.closes_at if period else None,
        note=clean_note,
    )
    session.add(row)
    await session.flush()
    action = "closed_day_added" if period is None else "extra_opening_added"
    _audit(session, action, actor_id, str(row.id))
    return row


async def delete_exception(
    session: AsyncSession, exception_id: int, *, actor_id: uuid.UUID | None
) -> None:
    if not await repository.delete_exception(session, exception_id):
        raise NotFound("Deze uitzondering bestaat niet (meer).")
    _audit(session, "exception_deleted", actor_id, str(exception_id))


async def replace_weekday_periods(
    session: AsyncSession,
    weekday: int,
    periods: Sequence[Period],
    *,
    actor_id: uuid.UUID | None,
) -> list[WeeklyOpeningPeriod]:
    """Set a weekday's periods (none = closed that weekday). Validates before changing."""
    if not 0 <= weekday <= 6:
        raise NotFound()
    if len(periods) > MAX_PERIODS_PER_DAY:
        raise InvalidOpeningHours("Er kunnen hoogstens 6 periodes per dag zijn.")
    for period in periods:
        _check_period(period, "closes_at")
    if _overlaps(periods):
        raise InvalidOpeningHours("De periodes op een dag mogen niet overlappen.", field="opens_at")
    await repository.delete_weekday_periods(session, weekday)
    rows = [
        WeeklyOpeningPeriod(weekday=weekday, opens_at=p.opens_at, closes_at=p.closes_at)
        for p in sorted(periods)
    ]
    session.add_all(rows)
    await session.flush()
    _audit(session, "weekday_set", actor_id, str(weekday))
    return rows
