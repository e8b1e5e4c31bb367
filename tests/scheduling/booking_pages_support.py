"""Arranging and reading the booking pages in tests: open days, a booked appointment with
its manage token, the CSRF token and the slot values a page offers."""

from __future__ import annotations

import html
import re
import uuid
from datetime import date, datetime, time, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clb.auth.models import StaffAccount
from clb.db import utcnow
from clb.org.models import Location, School
from clb.services import Services
from scheduling.appointments import booking, repository
from scheduling.appointments.booking_input import BookingRequest, Contact
from scheduling.appointments.models import Appointment
from scheduling.availability.slot_picker import monday, slot_value
from scheduling.availability.slots import Slot, is_working_day, local_day, local_instant

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_SLOT = re.compile(r'name="moment" id="moment-[^"]+" value="([^"]+)"')


async def open_day(
    session: AsyncSession, centre_id: uuid.UUID, *, after: date | None = None
) -> date:
    """The first working day at least two days ahead (and after ``after``) that no closed
    period covers: the tests also pass in the Christmas holidays."""
    day = max(local_day(utcnow()) + timedelta(days=2), (after or date.min) + timedelta(days=1))
    while not is_working_day(day) or await repository.closed_days(session, centre_id, day, day):
        day += timedelta(days=1)
    return day


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return local_instant(day, time(hour, minute))


def week_of(moment: datetime) -> str:
    return monday(local_day(moment)).isoformat()


def value_of(
    staff: StaffAccount, starts_at: datetime, location_id: uuid.UUID | None, minutes: int = 45
) -> str:
    """The form value the pages give this slot."""
    return slot_value(
        Slot(starts_at, starts_at + timedelta(minutes=minutes), staff.id, "office", location_id)
    )


async def location_of(session: AsyncSession, school: School) -> uuid.UUID:
    """The CLB location ``bookable_counsellor`` made for the school's centre."""
    found = await session.scalar(select(Location.id).where(Location.centre_id == school.centre_id))
    assert found is not None
    return found


def csrf_of(page: str) -> str:
    found = _CSRF.search(page)
    assert found is not None, "no CSRF field on the page"
    return html.unescape(found[1])


def slot_values(page: str) -> list[str]:
    return [html.unescape(value) for value in _SLOT.findall(page)]


async def book_directly(
    session: AsyncSession,
    services: Services,
    staff: StaffAccount,
    school: School,
    starts_at: datetime,
    *,
    mode: str = "office",
    email: str | None = "sara.ouder@example.be",
) -> tuple[Appointment, str]:
    """An appointment made through the booking service (committed), and its manage token."""
    booked = await booking.book(
        session,
        services,
        BookingRequest(
            school_id=school.id,
            type_slug="gesprek",
            mode=mode,
            counsellor_id=staff.id,
            starts_at=starts_at,
            contact=Contact("Sara", email, None if email else "0470123456"),
        ),
    )
    await session.commit()
    return booked.appointment, booked.manage_token


async def move_to(session: AsyncSession, appointment: Appointment, starts_at: datetime) -> None:
    """Put an appointment at another time behind the service's back (to reach the cut-off
    or the end of the link's life without waiting)."""
    length = appointment.ends_at - appointment.starts_at
    await session.execute(
        update(Appointment)
        .where(Appointment.id == appointment.id)
        .values(
            starts_at=starts_at,
            ends_at=starts_at + length,
            blocked_from=starts_at,
            blocked_until=starts_at + length,
        )
    )
    await session.commit()
