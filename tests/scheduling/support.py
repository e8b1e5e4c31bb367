"""Arranging bookable counsellors and reading what the appointments module did."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clb.auth.models import StaffAccount
from clb.org.models import Centre, Location, School
from scheduling.availability.models import AvailabilityRule, BookingPolicy
from scheduling.availability.slots import BRUSSELS, is_public_holiday
from tests.conftest import make_centre, make_staff

ALL_MODES = ["office", "school", "phone", "video", "chat"]


async def bookable_counsellor(
    session: AsyncSession,
    *,
    centre: Centre | None = None,
    email: str | None = None,
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4),
    hours: tuple[time, time] = (time(9), time(17)),
    modes: list[str] | None = None,
    min_notice_working_days: int = 0,
    max_per_day: int = 20,
    horizon_days: int = 60,
) -> tuple[StaffAccount, School]:
    """A counsellor with weekly hours at a location of ``centre``, and a school of it."""
    centre = centre or await make_centre(session, slug=f"clb-{uuid.uuid4().hex[:6]}")
    location = await add_location(session, centre)
    staff = await make_staff(
        session, email=email or f"{uuid.uuid4().hex[:8]}@clb.example", centre=centre
    )
    for weekday in weekdays:
        session.add(
            AvailabilityRule(
                counsellor_id=staff.id,
                weekday=weekday,
                starts_at=hours[0],
                ends_at=hours[1],
                modes=modes or ALL_MODES,
                location_id=location.id,
            )
        )
    session.add(
        BookingPolicy(
            counsellor_id=staff.id,
            min_notice_working_days=min_notice_working_days,
            max_per_day=max_per_day,
            horizon_days=horizon_days,
        )
    )
    await session.commit()
    school = await session.scalar(select(School).where(School.centre_id == centre.id))
    assert school is not None
    return staff, school


async def add_location(
    session: AsyncSession,
    centre: Centre,
    name: str = "Vestiging Gent",
    address: tuple[str, str, str] = ("Kortrijksesteenweg 1", "9000", "Gent"),
) -> Location:
    """A location of ``centre`` at ``address`` (street, postcode, municipality), flushed."""
    street, postcode, municipality = address
    location = Location(
        centre_id=centre.id,
        name=name,
        street=street,
        postcode=postcode,
        municipality=municipality,
    )
    session.add(location)
    await session.flush()
    return location


def next_weekday_at(weekday: int, clock: time, *, after: datetime | None = None) -> datetime:
    """The next date with this weekday (at least two days ahead) at a Brussels clock time,
    never a public holiday nor in the Christmas holiday the migration seeds as closed."""
    start = (after or datetime.now(UTC)).astimezone(BRUSSELS).date() + timedelta(days=2)
    while start.weekday() != weekday or is_public_holiday(start) or _christmas_break(start):
        start += timedelta(days=1)
    return datetime.combine(start, clock, tzinfo=BRUSSELS).astimezone(UTC)


def _christmas_break(day: date) -> bool:
    return (day.month == 12 and day.day >= 21) or (day.month == 1 and day.day <= 3)


def booking_body(
    school: School, staff: StaffAccount, starts_at: datetime, **changes: object
) -> dict[str, object]:
    body: dict[str, object] = {
        "school_id": str(school.id),
        "type": "gesprek",
        "mode": "office",
        "counsellor_id": str(staff.id),
        "starts_at": starts_at.isoformat(),
        "contact": {"first_name": "Sara", "email": "sara.ouder@example.be", "language": "nl"},
    }
    body.update(changes)
    return body
