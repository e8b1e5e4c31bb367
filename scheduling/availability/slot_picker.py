"""Free slots for the booking pages: a week at a time, grouped per day, each slot with a
form value and an accessible name that says the full date and time.

A slot's form value is ``<epoch seconds>_<counsellor id>_<location id or empty>``: enough
for ``booking.book`` / ``changes.reschedule`` to check it again, nothing personal.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from babel.dates import format_date
from sqlalchemy.ext.asyncio import AsyncSession

from clb import i18n
from clb.i18n import gettext as _
from scheduling import labels
from scheduling.appointments import repository
from scheduling.appointments.models import AppointmentType, Mode
from scheduling.availability import offers
from scheduling.availability.slots import Slot, local_day

WEEK = timedelta(days=7)
# Without a chosen week: show the first week with a free slot within this many weeks.
LOOKAHEAD_WEEKS = 8
# "Later" stops this far ahead (the counsellors' horizon ends long before).
MAX_WEEKS_AHEAD = 52


@dataclass(frozen=True)
class ChosenSlot:
    starts_at: datetime
    counsellor_id: uuid.UUID
    location_id: uuid.UUID | None


@dataclass(frozen=True)
class SlotChoice:
    value: str
    time: str  # "14:00", shown
    label: str  # the accessible name: "dinsdag 1 december 2026 om 14:00"
    location: str | None  # the CLB location, when the week has slots at several
    checked: bool


@dataclass(frozen=True)
class DayChoices:
    label: str  # "dinsdag 1 december"
    slots: list[SlotChoice]


@dataclass(frozen=True)
class Week:
    first: date  # Monday
    label: str
    days: list[DayChoices]
    earlier: date | None  # Monday of the week before, when that is not in the past
    later: date | None
    next_free: date | None  # for an empty week: the Monday of the next week with a slot
    next_free_label: str | None
    # The CLB location when every slot of the week is there (else each slot names its own).
    place: str | None = None

    @property
    def count(self) -> int:
        return sum(len(day.slots) for day in self.days)


def slot_value(slot: Slot) -> str:
    location = slot.location_id.hex if slot.location_id else ""
    return f"{int(slot.starts_at.timestamp())}_{slot.counsellor_id.hex}_{location}"


def parse_slot_value(value: str | None) -> ChosenSlot | None:
    parts = (value or "").split("_")
    if len(parts) != 3 or not parts[0].isdigit() or len(parts[0]) > 12:
        return None
    try:
        counsellor_id = uuid.UUID(hex=parts[1])
        location_id = uuid.UUID(hex=parts[2]) if parts[2] else None
    except ValueError:
        return None
    return ChosenSlot(datetime.fromtimestamp(int(parts[0]), tz=UTC), counsellor_id, location_id)


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def parse_week(value: str | None) -> date | None:
    try:
        return monday(date.fromisoformat(value)) if value else None
    except ValueError:
        return None


def day_label(day: date) -> str:
    return format_date(day, "EEEE d MMMM", locale=i18n.babel_locale())


def week_label(first: date) -> str:
    return _("Week van {day}").format(
        day=format_date(first, "d MMMM y", locale=i18n.babel_locale())
    )


def choice_label(starts_at: datetime, location: str | None) -> str:
    """The full date and time, and the place when the slot is at a CLB location."""
    label = labels.slot_label(starts_at)
    return f"{label}, {location}" if location else label


async def load_week(
    session: AsyncSession,
    centre_id: uuid.UUID,
    kind: AppointmentType,
    mode: str,
    *,
    week: date | None,
    now: datetime,
    chosen: str | None = None,
    ignore_appointment: uuid.UUID | None = None,
) -> Week:
    """The free slots of one week (Monday to Sunday). Without ``week``: the first week
    that has a free slot, or this week when none is near."""
    today = local_day(now)
    this_week = monday(today)
    furthest = this_week + MAX_WEEKS_AHEAD * WEEK

    async def offer(first: date, last: date) -> list[Slot]:
        return await offers.offer(
            session,
            centre_id,
            kind,
            mode,
            now=now,
            first=first,
            last=last,
            ignore_appointment=ignore_appointment,
        )

    if week is None:
        ahead = await offer(today, today + LOOKAHEAD_WEEKS * WEEK)
        week = monday(ahead[0].day) if ahead else this_week
        slots = [slot for slot in ahead if monday(slot.day) == week]
    else:
        week = min(max(week, this_week), furthest)
        slots = await offer(max(week, today), week + timedelta(days=6))
    next_free = None
    if not slots and week < furthest:
        ahead = await offer(week + WEEK, week + (LOOKAHEAD_WEEKS + 1) * WEEK)
        next_free = monday(ahead[0].day) if ahead else None
    places = await _places(session, slots, mode)
    single = set(places.values())
    return Week(
        first=week,
        label=week_label(week),
        days=_days(slots, places if len(single) > 1 else {}, chosen),
        earlier=week - WEEK if week > this_week else None,
        later=week + WEEK if week < furthest else None,
        next_free=next_free,
        next_free_label=week_label(next_free) if next_free else None,
        place=single.pop() if len(single) == 1 else None,
    )


async def _places(session: AsyncSession, slots: list[Slot], mode: str) -> dict[uuid.UUID, str]:
    """The names of the CLB locations of office slots."""
    if mode != Mode.office.value:
        return {}
    ids = {slot.location_id for slot in slots if slot.location_id}
    return await repository.location_names(session, ids)


def _days(slots: list[Slot], places: dict[uuid.UUID, str], chosen: str | None) -> list[DayChoices]:
    days: dict[date, list[SlotChoice]] = {}
    for slot in slots:
        location = places.get(slot.location_id) if slot.location_id else None
        value = slot_value(slot)
        days.setdefault(slot.day, []).append(
            SlotChoice(
                value=value,
                time=labels.clock(slot.starts_at),
                label=choice_label(slot.starts_at, location),
                location=location,
                checked=value == chosen,
            )
        )
    return [DayChoices(day_label(day), choices) for day, choices in sorted(days.items())]
