"""When the chat is open: a weekly schedule in Europe/Brussels plus dated exceptions.

Clock times are local (Brussels) wall-clock times, expanded per calendar date and only then
turned into instants, so "17:00" stays 17:00 across both DST changes. All comparisons are
done in UTC: aware datetimes sharing one tzinfo compare by wall clock, which is wrong in
the repeated hour of the October change.

An exception replaces the weekly schedule for its date: a closed day has no periods, a
holiday opening has its own periods (several rows for the same date add up).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends

from chat.opening_hours.models import OpeningException, WeeklyOpeningPeriod
from clb.errors import ClbError

BRUSSELS = ZoneInfo("Europe/Brussels")
DEFAULT_INTAKE_STOP_MINUTES = 15
SEARCH_DAYS = 60
MAX_PERIODS_PER_DAY = 6
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


def require_aware(now: datetime) -> datetime:
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
        utc_now = require_aware(now)
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
        return require_aware(now) < current[1] - timedelta(minutes=max(0, intake_stop_minutes))

    def next_opening(self, now: datetime, search_days: int = SEARCH_DAYS) -> datetime | None:
        """The first opening strictly after ``now`` (while open: the one after this period);
        None when the chat does not open within ``search_days``."""
        utc_now = require_aware(now)
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
