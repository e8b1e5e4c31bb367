"""The rota's opening slots: the chat's opening intervals (chat.opening_hours.schedule, the
one rule for when the chat is open) for the weeks a coordinator plans. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from chat.opening_hours.schedule import BRUSSELS, OpeningSchedule, local_date

SLOT_YEARS = (2000, 2200)  # the years a slot key may name


@dataclass(frozen=True, order=True)
class Slot:
    """One opening interval of one day (UTC instants)."""

    starts_at: datetime
    ends_at: datetime

    @property
    def day(self) -> date:
        return self.starts_at.astimezone(BRUSSELS).date()

    @property
    def key(self) -> str:
        """How a form names the slot: its start, UTC, to the second."""
        return slot_key(self.starts_at)

    def has_ended(self, now: datetime) -> bool:
        return self.ends_at <= now

    def has_started(self, now: datetime) -> bool:
        return self.starts_at <= now

    def contains(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at


def slot_key(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def parse_slot_key(value: str) -> datetime | None:
    """The instant a form's slot key names; None when it is not one."""
    try:
        moment = datetime.strptime(value.strip(), "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None
    # Years far off would overflow once shifted to another zone (9999-12-31T23:59:59+0000
    # in Brussels); no rota slot lies there.
    if not SLOT_YEARS[0] <= moment.year <= SLOT_YEARS[1]:
        return None
    return moment.astimezone(UTC)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def planning_weeks(now: datetime, weeks_ahead: int) -> list[date]:
    """The Mondays of this week and the ``weeks_ahead - 1`` weeks after it."""
    first = monday_of(local_date(now))
    return [first + timedelta(weeks=n) for n in range(max(1, weeks_ahead))]


def slots_between(schedule: OpeningSchedule, first: date, last: date) -> list[Slot]:
    """Every opening slot of the local dates first..last, in time order. Periods that touch
    are one slot (the schedule merges them), as the chat is open without a break."""
    return [Slot(start, end) for start, end in schedule.intervals(first, last)]


def slots_of_week(schedule: OpeningSchedule, monday: date) -> list[Slot]:
    return slots_between(schedule, monday, monday + timedelta(days=6))


def find_slot(schedule: OpeningSchedule, starts_at: datetime) -> Slot | None:
    """The slot that starts at ``starts_at`` under the current opening hours, if any."""
    day = starts_at.astimezone(BRUSSELS).date()
    for slot in slots_between(schedule, day, day):
        if slot.starts_at == starts_at:
            return slot
    return None


def current_or_next(schedule: OpeningSchedule, now: datetime, days: int = 14) -> Slot | None:
    """The slot running at ``now``, else the next one within ``days``."""
    today = local_date(now)
    for slot in slots_between(schedule, today - timedelta(days=1), today + timedelta(days=days)):
        if slot.ends_at > now:
            return slot
    return None
