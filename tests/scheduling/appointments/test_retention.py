"""Retention of appointments: ``retention_appointment_months`` after its time, the person's
data on an appointment goes and what the statistics count stays."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clb.db import months_before, utcnow
from clb.org.models import School
from clb.services import Services
from composition.tasks import PERIODIC_JOBS
from scheduling.appointments.models import Appointment
from scheduling.appointments.tasks import APPOINTMENT_RETENTION, erase_past_appointments
from tests.conftest import make_staff
from tests.scheduling.retention_support import (
    EMAIL,
    aged_appointment,
    assert_anonymised,
    kept_of,
)


async def test_appointments_past_the_period_lose_the_person_and_keep_the_counts(
    services: Services, db: AsyncSession
) -> None:
    staff = await make_staff(db)
    school = await db.scalar(select(School).where(School.centre_id == staff.centre_id))
    assert school is not None
    start = months_before(utcnow(), services.settings.retention_appointment_months)
    old = await aged_appointment(db, staff, school, start - timedelta(days=1))
    cancelled = await aged_appointment(
        db,
        staff,
        school,
        start - timedelta(days=40),
        status="cancelled",
        cancel_reason="Sara is ziek",
        booked_for_relation=None,
        booker_name=None,
        booker_email=None,
        booker_phone=None,
    )
    inside = await aged_appointment(db, staff, school, start + timedelta(days=1))
    kept = {a.id: kept_of(a) for a in (old, cancelled, inside)}

    assert await erase_past_appointments({"services": services}) == 2
    assert await erase_past_appointments({"services": services}) == 0  # nothing twice

    db.expire_all()
    rows = {a.id: a for a in await db.scalars(select(Appointment))}
    assert {i: kept_of(a) for i, a in rows.items()} == kept
    assert_anonymised(rows[old.id])
    assert_anonymised(rows[cancelled.id])
    assert rows[cancelled.id].booker_name is None  # not booked for someone else: stays NULL
    assert rows[old.id].booker_name == ""  # the CHECK wants a (blank) booker
    assert rows[inside.id].email == EMAIL and rows[inside.id].first_name == "Sara"
    assert rows[inside.id].manage_token_hash == inside.manage_token_hash


def test_the_worker_runs_appointment_retention_nightly() -> None:
    assert APPOINTMENT_RETENTION in PERIODIC_JOBS
    assert APPOINTMENT_RETENTION.hour is not None and len(APPOINTMENT_RETENTION.hour) == 1
