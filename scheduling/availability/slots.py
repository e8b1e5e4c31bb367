"""Free slots: one pure function serves both the listing and the booking check.

Inputs are plain values (loaded by scheduling.repository), so every rule — weekly hours in
local time, date overrides, closed days, minimum notice in working days, horizon, buffers,
maximum per day — is tested without a database, and a booking is accepted only if the very
same function offers its slot.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

BRUSSELS = ZoneInfo("Europe/Brussels")
STEP = timedelta(minutes=15)


@lru_cache(maxsize=16)
def _public_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("BE", years=year))


def is_public_holiday(day: date) -> bool:
    return day in _public_holidays(day.year)


def public_holiday_name(day: date) -> str | None:
    return holidays.country_holidays("BE", years=day.year, language="nl").get(day)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and not is_public_holiday(day)


def add_working_days(moment: datetime, days: int) -> datetime:
    """``moment`` moved ``days`` working days ahead at the same local clock time; 0 days is
    ``moment`` itself. Friday 15:00 + 1 working day = Monday 15:00 (Tuesday if Monday is a
    public holiday)."""
    local = moment.astimezone(BRUSSELS)
    day = local.date()
    for _ in range(days):
        day += timedelta(days=1)
        while not is_working_day(day):
            day += timedelta(days=1)
    return local_instant(day, local.time().replace(tzinfo=None)) if days else moment


def local_instant(day: date, clock: time) -> datetime:
    """A Brussels clock time on a date, as a UTC instant. A time skipped by the spring DST
    change (02:00–03:00) resolves forward as zoneinfo does; a repeated one takes the first."""
    return datetime.combine(day, clock, tzinfo=BRUSSELS).astimezone(UTC)


def local_day(moment: datetime) -> date:
    return moment.astimezone(BRUSSELS).date()


@dataclass(frozen=True)
class WeeklyHours:
    weekday: int
    starts_at: time
    ends_at: time
    modes: frozenset[str]
    location_id: uuid.UUID | None


@dataclass(frozen=True)
class DayHours:
    """An override for one date; ``starts_at`` None means: not available that day."""

    day: date
    starts_at: time | None
    ends_at: time | None
    modes: frozenset[str]
    location_id: uuid.UUID | None


@dataclass(frozen=True)
class Busy:
    blocked_from: datetime
    blocked_until: datetime


@dataclass
class CounsellorCalendar:
    """Everything about one counsellor that decides their free slots."""

    counsellor_id: uuid.UUID
    weekly: Sequence[WeeklyHours]
    overrides: Sequence[DayHours] = ()
    busy: Sequence[Busy] = ()
    # Active appointments per local date (for the maximum per day).
    booked_per_day: dict[date, int] = field(default_factory=dict)
    min_notice_working_days: int = 1
    horizon_days: int = 42
    max_per_day: int = 6


@dataclass(frozen=True)
class Duration:
    minutes: int
    buffer_before: int = 0
    buffer_after: int = 0


@dataclass(frozen=True)
class Window:
    counsellor_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    modes: frozenset[str]
    location_id: uuid.UUID | None


@dataclass(frozen=True, order=True)
class Slot:
    starts_at: datetime
    ends_at: datetime
    counsellor_id: uuid.UUID
    mode: str
    location_id: uuid.UUID | None

    @property
    def day(self) -> date:
        return local_day(self.starts_at)


def _dates(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def windows(
    calendar: CounsellorCalendar, first: date, last: date, closed_days: frozenset[date]
) -> Iterator[Window]:
    """The counsellor's working periods on each date, as UTC instants."""
    overrides: dict[date, list[DayHours]] = defaultdict(list)
    for override in calendar.overrides:
        overrides[override.day].append(override)
    for day in _dates(first, last):
        if day in closed_days or is_public_holiday(day):
            continue
        # A date's overrides replace its weekly hours.
        todays: Sequence[WeeklyHours | DayHours] = (
            overrides[day]
            if day in overrides
            else [weekly for weekly in calendar.weekly if weekly.weekday == day.weekday()]
        )
        for hours in todays:
            if hours.starts_at is None or hours.ends_at is None:
                continue  # an override without hours: not available that day
            yield Window(
                calendar.counsellor_id,
                local_instant(day, hours.starts_at),
                local_instant(day, hours.ends_at),
                hours.modes,
                hours.location_id,
            )


def _overlaps(start: datetime, end: datetime, busy: Iterable[Busy]) -> bool:
    return any(start < b.blocked_until and b.blocked_from < end for b in busy)


def free_slots(
    calendar: CounsellorCalendar,
    duration: Duration,
    mode: str,
    *,
    now: datetime,
    first: date,
    last: date,
    closed_days: frozenset[date] = frozenset(),
) -> list[Slot]:
    """Every bookable start for this counsellor between two local dates (inclusive)."""
    earliest = add_working_days(now, calendar.min_notice_working_days)
    horizon_end = local_day(now) + timedelta(days=calendar.horizon_days)
    last = min(last, horizon_end)
    length = timedelta(minutes=duration.minutes)
    before = timedelta(minutes=duration.buffer_before)
    after = timedelta(minutes=duration.buffer_after)
    slots: list[Slot] = []
    for window in windows(calendar, first, last, closed_days):
        if mode not in window.modes:
            continue
        if calendar.booked_per_day.get(local_day(window.starts_at), 0) >= calendar.max_per_day:
            continue
        # Only what touches this window can block a start in it (calendars can be full).
        busy = [
            b
            for b in calendar.busy
            if b.blocked_until > window.starts_at - before
            and b.blocked_from < window.ends_at + after
        ]
        start = window.starts_at
        while start + length <= window.ends_at:
            if start >= earliest and not _overlaps(start - before, start + length + after, busy):
                slots.append(
                    Slot(start, start + length, window.counsellor_id, mode, window.location_id)
                )
            start += STEP
    slots.sort()
    return slots


def merge_by_time(slots: Iterable[Slot], load: dict[tuple[uuid.UUID, date], int]) -> list[Slot]:
    """One offer per start time (and place): when several counsellors are free at once,
    the one with the fewest appointments that day gets it, ties by id, so the choice is
    stable between listing and booking."""
    best: dict[tuple[datetime, uuid.UUID | None], Slot] = {}
    for slot in slots:
        key = (slot.starts_at, slot.location_id)
        current = best.get(key)
        if current is None or _rank(slot, load) < _rank(current, load):
            best[key] = slot
    return sorted(best.values())


def _rank(slot: Slot, load: dict[tuple[uuid.UUID, date], int]) -> tuple[int, str]:
    return (load.get((slot.counsellor_id, slot.day), 0), str(slot.counsellor_id))
