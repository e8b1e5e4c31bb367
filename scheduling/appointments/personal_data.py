"""The room's SQL about the person behind an appointment (kept apart from repository.py,
which is near its size limit): finding one person's appointments for a privacy request, and
anonymising them — on that request, or by retention ``retention_appointment_months`` after
the appointment's time (docs/privacy.md).

Anonymising keeps what the counts need — the times, type, mode, counsellor, centre, school,
location, language, status and the messages' records (kind and time, never content) — and
nothing that identifies the person: names, contact details, the written need and notes,
the manage link and the request's idempotency key and fingerprint.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, case, cast, false, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.appointments.models import Appointment, AppointmentNotification

# The "reachable" CHECK wants an e-mail address or a phone number; an address is never
# stored empty (the input makes "" None), so the empty address marks an erased appointment.
ERASED_EMAIL = ""


def _no_token() -> ColumnElement[Any]:
    """A value no manage token hashes to (a hash has 64 characters, this 32): the link
    stops working, and the column stays unique."""
    return func.replace(cast(Appointment.id, String), "-", "")


def _only_if_booked_for_someone(value: str) -> ColumnElement[Any]:
    # The "booker_named" CHECK: an appointment booked for someone else keeps a (blank) booker.
    return case((Appointment.booked_for_relation.is_(None), None), else_=value)


def _erased_person() -> dict[str, Any]:
    return {
        "first_name": "",
        "email": ERASED_EMAIL,
        "phone": None,
        "topic": "",
        "counsellor_note": "",
        "cancel_reason": "",
        "booker_name": _only_if_booked_for_someone(""),
        "booker_email": _only_if_booked_for_someone(""),
        "booker_phone": None,
        "manage_token_hash": _no_token(),
        "idempotency_key_hash": None,
        "request_fingerprint": None,
    }


# Only the one who booked for the person asked: their name and contact go, the person's stay.
ERASED_BOOKER = {"booker_name": "", "booker_email": "", "booker_phone": None}

NOT_ERASED = Appointment.email.is_distinct_from(ERASED_EMAIL)


async def anonymise(session: AsyncSession, ids: Collection[uuid.UUID]) -> int:
    """Erase the person from these appointments; returns how many were changed."""
    if not ids:
        return 0
    result = await session.execute(
        update(Appointment)
        .where(Appointment.id.in_(list(ids)))
        .values(_erased_person())
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def anonymise_booker(session: AsyncSession, ids: Collection[uuid.UUID]) -> int:
    if not ids:
        return 0
    result = await session.execute(
        update(Appointment)
        .where(Appointment.id.in_(list(ids)), Appointment.booked_for_relation.is_not(None))
        .values(ERASED_BOOKER)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def anonymise_started_before(session: AsyncSession, cutoff: datetime) -> int:
    """Retention: every appointment that started before ``cutoff`` and still holds
    personal data is anonymised; returns how many."""
    result = await session.execute(
        update(Appointment)
        .where(Appointment.starts_at < cutoff, NOT_ERASED)
        .values(_erased_person())
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _contact_matches(
    email: str | None, phones: Sequence[str]
) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """(matches the person, matches the one who booked for them)."""
    person: list[ColumnElement[bool]] = []
    booker: list[ColumnElement[bool]] = []
    if email:
        person.append(func.lower(Appointment.email) == email.lower())
        booker.append(func.lower(Appointment.booker_email) == email.lower())
    if phones:
        person.append(Appointment.phone.in_(list(phones)))
        booker.append(Appointment.booker_phone.in_(list(phones)))
    return or_(false(), *person), or_(false(), *booker)


async def matching(
    session: AsyncSession,
    centre_id: uuid.UUID,
    *,
    email: str | None = None,
    phones: Sequence[str] = (),
    ids: Collection[uuid.UUID] = (),
) -> list[tuple[Appointment, bool]]:
    """The centre's appointments of this e-mail address or phone number (as the person or
    as the one who booked for them) or with these ids, with whether the person matched
    (False: only the booker did), the oldest first. Erased ones are never found."""
    person, booker = _contact_matches(email, phones)
    by_id = Appointment.id.in_(list(ids)) if ids else None
    wanted = or_(person, booker, *([by_id] if by_id is not None else []))
    rows = await session.execute(
        select(Appointment, or_(person, *([by_id] if by_id is not None else [])))
        .where(Appointment.centre_id == centre_id, NOT_ERASED, wanted)
        .order_by(Appointment.starts_at, Appointment.id)
        .execution_options(populate_existing=True)
    )
    return [(row[0], bool(row[1])) for row in rows.all()]


async def notifications(
    session: AsyncSession, ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[AppointmentNotification]]:
    found: dict[uuid.UUID, list[AppointmentNotification]] = {i: [] for i in ids}
    if not ids:
        return found
    rows = await session.scalars(
        select(AppointmentNotification)
        .where(AppointmentNotification.appointment_id.in_(list(ids)))
        .order_by(AppointmentNotification.sent_at, AppointmentNotification.id)
    )
    for row in rows:
        found[row.appointment_id].append(row)
    return found
