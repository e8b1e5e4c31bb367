"""When the chat is open: a weekly schedule in Europe/Brussels plus dated exceptions.

Clock times are local (Brussels) wall-clock times, expanded per calendar date and only then
turned into instants, so "17:00" stays 17:00 across both DST changes. All comparisons are
done in UTC: aware datetimes sharing one tzinfo compare by wall clock, which is wrong in
the repeated hour of the October change.

An exception replaces the weekly schedule for its date: a closed day has no periods, a
holiday opening has its own periods (several rows for the same date add up).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends
from sqlalchemy import CheckConstraint, SmallInteger, String, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from clb.audit import record_audit
from clb.db import Base, Timestamped
from clb.errors import ClbError, NotFound

BRUSSELS = ZoneInfo("Europe/Brussels")
DEFAULT_INTAKE_STOP_MINUTES = 15
SEARCH_DAYS = 60
MAX_PERIODS_PER_DAY = 6
MAX_NOTE_LENGTH = 200
# Exceptions further ahead than this are almost always a typo in the year.
MAX_DAYS_AHEAD = 2 * 366


async def chat_clock() -> datetime:
    """The current instant. A dependency so tests can move the clock (async: FastAPI
    would run a plain function in a worker thread)."""
    return datetime.now(UTC)


ChatClock = Annotated[datetime, Depends(chat_clock)]


class InvalidOpeningHours(ClbError):
    status = 422
    code = "invalid_opening_hours"
    message = "Deze openingsuren kloppen niet."

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        super().__init__(message, details={"field": field} if field else None)
        self.field = field


# --- Models ------------------------------------------------------------------------------


class WeeklyOpeningPeriod(Base):
    """One opening period on a weekday (0 = Monday) in Brussels wall-clock time."""

    __tablename__ = "chat_weekly_opening_periods"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("opens_at < closes_at", name="opens_before_closes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    weekday: Mapped[int] = mapped_column(SmallInteger, index=True)
    opens_at: Mapped[time]
    closes_at: Mapped[time]


class OpeningException(Timestamped, Base):
    """A date that differs from the weekly schedule: closed (no times) or open at the given
    times instead of the usual ones."""

    __tablename__ = "chat_opening_exceptions"
    __table_args__ = (
        CheckConstraint(
            "(opens_at IS NULL AND closes_at IS NULL) OR "
            "(opens_at IS NOT NULL AND closes_at IS NOT NULL AND opens_at < closes_at)",
            name="closed_or_valid_period",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(index=True)
    opens_at: Mapped[time | None]
    closes_at: Mapped[time | None]
    # Shown to visitors on the closed screen (e.g. "Kerstvakantie").
    note: Mapped[str | None] = mapped_column(String(MAX_NOTE_LENGTH))

    @property
    def is_closed(self) -> bool:
        return self.opens_at is None


# --- Pure logic --------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Period:
    opens_at: time
    closes_at: time


Interval = tuple[datetime, datetime]

# What the migration installs: Mon, Tue, Thu 17:00–21:00 and Wed 14:00–21:00.
DEFAULT_WEEKLY_SCHEDULE: Mapping[int, tuple[Period, ...]] = {
    0: (Period(time(17), time(21)),),
    1: (Period(time(17), time(21)),),
    2: (Period(time(14), time(21)),),
    3: (Period(time(17), time(21)),),
}


@dataclass(frozen=True)
class OpeningStatus:
    open: bool
    intake_open: bool
    closes_at: datetime | None
    intake_closes_at: datetime | None
    next_opening: datetime | None


def _require_aware(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(UTC)


def local_date(now: datetime) -> date:
    return now.astimezone(BRUSSELS).date()


def _instant(day: date, clock: time) -> datetime:
    # fold=0: a clock time in the skipped hour of March lands an hour later (02:30 → 03:30),
    # one in the repeated hour of October means its first occurrence.
    return datetime.combine(day, clock, tzinfo=BRUSSELS).astimezone(UTC)


@dataclass(frozen=True)
class OpeningSchedule:
    """The weekly periods per weekday and the exceptions per date (an empty tuple = closed)."""

    weekly: Mapping[int, tuple[Period, ...]] = field(default_factory=dict)
    exceptions: Mapping[date, tuple[Period, ...]] = field(default_factory=dict)

    def periods_on(self, day: date) -> tuple[Period, ...]:
        if day in self.exceptions:
            return tuple(sorted(self.exceptions[day]))
        return tuple(sorted(self.weekly.get(day.weekday(), ())))

    def intervals(self, first: date, last: date) -> list[Interval]:
        """Opening intervals (UTC) of the local dates first..last; touching or overlapping
        periods are merged, so 14:00–17:00 + 17:00–21:00 closes at 21:00."""
        raw: list[Interval] = []
        day = first
        while day <= last:
            for period in self.periods_on(day):
                start, end = _instant(day, period.opens_at), _instant(day, period.closes_at)
                if start < end:
                    raw.append((start, end))
            day += timedelta(days=1)
        merged: list[Interval] = []
        for start, end in sorted(raw):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        return merged

    def _current(self, now: datetime) -> Interval | None:
        utc_now = _require_aware(now)
        today = local_date(utc_now)
        for start, end in self.intervals(today - timedelta(days=1), today + timedelta(days=1)):
            if start <= utc_now < end:
                return start, end
        return None

    def is_open(self, now: datetime) -> bool:
        return self._current(now) is not None

    def current_period_closes_at(self, now: datetime) -> datetime | None:
        current = self._current(now)
        return current[1].astimezone(BRUSSELS) if current else None

    def intake_open(
        self, now: datetime, intake_stop_minutes: int = DEFAULT_INTAKE_STOP_MINUTES
    ) -> bool:
        """New chats may start while open, except in the last minutes before a closing
        (running chats may finish)."""
        current = self._current(now)
        if current is None:
            return False
        return _require_aware(now) < current[1] - timedelta(minutes=max(0, intake_stop_minutes))

    def next_opening(self, now: datetime, search_days: int = SEARCH_DAYS) -> datetime | None:
        """The first opening strictly after ``now`` (while open: the one after this period);
        None when the chat does not open within ``search_days``."""
        utc_now = _require_aware(now)
        today = local_date(utc_now)
        for start, _end in self.intervals(
            today - timedelta(days=1), today + timedelta(search_days)
        ):
            if start > utc_now:
                return start.astimezone(BRUSSELS)
        return None

    def status(
        self, now: datetime, intake_stop_minutes: int = DEFAULT_INTAKE_STOP_MINUTES
    ) -> OpeningStatus:
        closes_at = self.current_period_closes_at(now)
        intake_closes_at = (
            closes_at - timedelta(minutes=max(0, intake_stop_minutes)) if closes_at else None
        )
        return OpeningStatus(
            open=closes_at is not None,
            intake_open=self.intake_open(now, intake_stop_minutes),
            closes_at=closes_at,
            intake_closes_at=intake_closes_at,
            next_opening=self.next_opening(now),
        )


def build_schedule(
    weekly: Iterable[WeeklyOpeningPeriod], exceptions: Iterable[OpeningException]
) -> OpeningSchedule:
    by_weekday: dict[int, list[Period]] = {}
    for row in weekly:
        by_weekday.setdefault(row.weekday, []).append(Period(row.opens_at, row.closes_at))
    by_date: dict[date, list[Period]] = {}
    for exc in exceptions:
        periods = by_date.setdefault(exc.day, [])
        if exc.opens_at is not None and exc.closes_at is not None:
            periods.append(Period(exc.opens_at, exc.closes_at))
    return OpeningSchedule(
        weekly={k: tuple(sorted(v)) for k, v in by_weekday.items()},
        exceptions={k: tuple(sorted(v)) for k, v in by_date.items()},
    )


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


# --- Repository and service (the request boundary commits) -------------------------------


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


async def load_schedule(session: AsyncSession, now: datetime) -> OpeningSchedule:
    """Everything needed to answer questions about ``now`` and the search window after it."""
    today = local_date(_require_aware(now))
    weekly = await list_weekly_periods(session)
    exceptions = await list_exceptions(
        session, since=today - timedelta(days=1), until=today + timedelta(days=SEARCH_DAYS + 1)
    )
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
    existing = await list_exceptions(session, since=day, until=day)
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
    result = await session.execute(
        delete(OpeningException)
        .where(OpeningException.id == exception_id)
        .returning(OpeningException.id)
    )
    if result.scalar_one_or_none() is None:
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
    await session.execute(delete(WeeklyOpeningPeriod).where(WeeklyOpeningPeriod.weekday == weekday))
    rows = [
        WeeklyOpeningPeriod(weekday=weekday, opens_at=p.opens_at, closes_at=p.closes_at)
        for p in sorted(periods)
    ]
    session.add_all(rows)
    await session.flush()
    _audit(session, "weekday_set", actor_id, str(weekday))
    return rows
