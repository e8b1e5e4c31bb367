"""Free slots of a centre for the people booking (and the fresh ones a conflict offers),
through the one slot function of scheduling.availability.slots."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from clb.org.models import School
from scheduling.appointments import repository
from scheduling.appointments.models import AppointmentType
from scheduling.availability import repository as availability_repository
from scheduling.availability.slots import (
    CounsellorCalendar,
    Duration,
    Slot,
    free_slots,
    local_day,
    merge_by_time,
)
from scheduling.errors import InvalidBooking

FRESH_SLOTS = 6  # alternatives offered with a conflict
ALTERNATIVE_SPANS = (0, 2, 14)  # days after the wanted one searched for them: nearby first


def duration_of(kind: AppointmentType) -> Duration:
    return Duration(kind.duration_minutes, kind.buffer_before_minutes, kind.buffer_after_minutes)


async def school_or_error(session: AsyncSession, school_id: uuid.UUID | None) -> School:
    school = await session.get(School, school_id) if school_id else None
    if school is None:
        raise InvalidBooking("Kies je school uit de lijst.", field="school")
    return school


async def type_or_error(session: AsyncSession, slug: str) -> AppointmentType:
    kind = await repository.type_by_slug(session, slug)
    if kind is None:
        raise InvalidBooking("Kies waarover de afspraak gaat.", field="type")
    return kind


STAFF_HORIZON_DAYS = 366


async def calendars_for(
    session: AsyncSession,
    counsellor_ids: list[uuid.UUID],
    first: date,
    last: date,
    ignore_appointment: uuid.UUID | None,
    for_staff: bool,
) -> list[CounsellorCalendar]:
    calendars = await availability_repository.load_calendars(
        session, counsellor_ids, first, last, ignore_appointment=ignore_appointment
    )
    if for_staff:
        for calendar in calendars:
            calendar.min_notice_working_days = 0
            calendar.horizon_days = STAFF_HORIZON_DAYS
    return calendars


async def offer(
    session: AsyncSession,
    centre_id: uuid.UUID,
    kind: AppointmentType,
    mode: str,
    *,
    now: datetime,
    first: date,
    last: date,
    counsellor_ids: list[uuid.UUID] | None = None,
    ignore_appointment: uuid.UUID | None = None,
    for_staff: bool = False,
) -> list[Slot]:
    """Free slots of the centre, one per start time and place. ``for_staff``: a counsellor
    planning their own agenda is not held to the notice and horizon people are."""
    ids = (
        counsellor_ids
        if counsellor_ids is not None
        else await repository.bookable_counsellors(session, centre_id)
    )
    calendars = await calendars_for(session, ids, first, last, ignore_appointment, for_staff)
    closed = await repository.closed_days(session, centre_id, first, last)
    slots = [
        slot
        for calendar in calendars
        for slot in free_slots(
            calendar, duration_of(kind), mode, now=now, first=first, last=last, closed_days=closed
        )
    ]
    load = {
        (calendar.counsellor_id, day): count
        for calendar in calendars
        for day, count in calendar.booked_per_day.items()
    }
    return merge_by_time(slots, load)


def slot_json(slot: Slot) -> dict[str, Any]:
    return {
        "starts_at": slot.starts_at.isoformat(),
        "ends_at": slot.ends_at.isoformat(),
        "counsellor_id": str(slot.counsellor_id),
        "mode": slot.mode,
        "location_id": str(slot.location_id) if slot.location_id else None,
    }


async def fresh_alternatives(
    session: AsyncSession,
    centre_id: uuid.UUID,
    kind: AppointmentType,
    mode: str,
    around: date,
    now: datetime,
) -> list[dict[str, Any]]:
    """A few free moments from ``around`` on: that day first, then the next days, two
    weeks only when those are full (a conflict should not cost much more than a booking)."""
    first = max(around, local_day(now))
    for span in ALTERNATIVE_SPANS:
        slots = await offer(
            session, centre_id, kind, mode, now=now, first=first, last=first + timedelta(days=span)
        )
        if len(slots) >= FRESH_SLOTS:
            break
    return [slot_json(slot) for slot in slots[:FRESH_SLOTS]]
