"""Arranging aged scheduling data straight in the tables: appointments at any time (also
long past) with every personal field filled, and what anonymising must keep."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clb.auth.models import StaffAccount
from clb.org.models import School
from scheduling.appointments.models import Appointment, AppointmentType

EMAIL = "sara.ouder@example.be"
PHONE = "0470123456"
# What anonymising keeps of an appointment: the statistics count these.
KEPT = (
    "id",
    "starts_at",
    "ends_at",
    "status",
    "mode",
    "type_id",
    "counsellor_id",
    "centre_id",
    "school_id",
    "language",
    "booked_for_relation",
)


async def aged_appointment(
    db: AsyncSession,
    staff: StaffAccount,
    school: School,
    starts_at: datetime,
    **fields: Any,
) -> Appointment:
    """An appointment inserted as it is stored (no booking rules), committed."""
    kind = await db.scalar(select(AppointmentType).where(AppointmentType.slug == "gesprek"))
    assert kind is not None
    values: dict[str, Any] = {
        "counsellor_id": staff.id,
        "centre_id": staff.centre_id,
        "school_id": school.id,
        "type_id": kind.id,
        "mode": "office",
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(minutes=45),
        "blocked_from": starts_at,
        "blocked_until": starts_at + timedelta(minutes=45),
        "first_name": "Sara",
        "email": EMAIL,
        "phone": PHONE,
        "topic": "Mijn dochter slaapt slecht voor toetsen.",
        "counsellor_note": "Moeder belt terug.",
        "booked_for_relation": "leerkracht",
        "booker_name": "Meester Jan",
        "booker_email": "jan.leerkracht@school.example",
        "booker_phone": "0480998877",
        "manage_token_hash": secrets.token_hex(32),
        "idempotency_key_hash": secrets.token_hex(32),
        "request_fingerprint": secrets.token_hex(32),
        "created_at": starts_at - timedelta(days=3),
    }
    values.update(fields)
    appointment = Appointment(id=uuid.uuid4(), **values)
    db.add(appointment)
    await db.commit()
    return appointment


def kept_of(appointment: Appointment) -> tuple[Any, ...]:
    return tuple(getattr(appointment, name) for name in KEPT)


def assert_anonymised(appointment: Appointment) -> None:
    """Nothing of the person (nor of the one who booked for them) is left."""
    assert appointment.first_name == ""
    assert appointment.email == "" and appointment.phone is None
    assert appointment.topic == "" and appointment.counsellor_note == ""
    assert appointment.cancel_reason == ""
    assert appointment.booker_phone is None
    assert appointment.booker_name in ("", None) and appointment.booker_email in ("", None)
    assert len(appointment.manage_token_hash) == 32
    assert appointment.idempotency_key_hash is None and appointment.request_fingerprint is None
