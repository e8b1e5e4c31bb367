"""The counsellor's agenda: who may see whose appointments, and loading them per local day.

A counsellor sees their own agenda; a coordinator also those of the counsellors of their own
centre. Reading the contact data of someone else's appointment is written to the audit log
(who, which appointment, when; never the data itself).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from clb.audit import record_audit
from clb.auth.models import Role, StaffAccount
from clb.db import utcnow
from clb.errors import Forbidden, NotFound
from clb.web.deps import CurrentStaff
from scheduling.agenda.repository import (
    appointments_between,
    centre_counsellors,
    notifications_for,
)
from scheduling.appointments import repository
from scheduling.appointments.models import Appointment, AppointmentNotification
from scheduling.appointments.repository import Details
from scheduling.availability.slots import local_day, local_instant

CONTACT_READ = "scheduling.appointment.contact_read"


async def agenda_clock() -> datetime:
    """The current instant. A dependency so tests can move the clock (async: FastAPI
    would run a plain function in a worker thread)."""
    return utcnow()


AgendaClock = Annotated[datetime, Depends(agenda_clock)]


async def agenda_staff(account: CurrentStaff) -> StaffAccount:
    """Counsellors (their own agenda) and coordinators (their centre's agendas)."""
    if not (account.has_role(Role.counsellor) or account.has_role(Role.coordinator)):
        raise Forbidden()
    return account


AgendaStaff = Annotated[StaffAccount, Depends(agenda_staff)]


def may_see_others(viewer: StaffAccount) -> bool:
    return viewer.has_role(Role.coordinator)


async def agenda_owner(
    session: AsyncSession, viewer: StaffAccount, counsellor_id: uuid.UUID | None
) -> StaffAccount | None:
    """Whose agenda ``viewer`` gets to see: their own unless they pick a colleague.

    A counsellor asking for a colleague's agenda gets 403; a coordinator asking for someone
    outside their centre gets 404 (as if there were nobody). A coordinator without own
    appointments starts with the first counsellor of the centre (None: there is none).
    """
    if counsellor_id == viewer.id:
        return viewer
    if counsellor_id is None:
        if Role.counsellor.value in viewer.roles:
            return viewer
        colleagues = await centre_counsellors(session, viewer.centre_id)
        return colleagues[0] if colleagues else None
    if not may_see_others(viewer):
        raise Forbidden()
    owner = await session.get(StaffAccount, counsellor_id)
    if owner is None or owner.centre_id != viewer.centre_id:
        raise NotFound()
    return owner


async def visible_appointment(
    session: AsyncSession, viewer: StaffAccount, appointment_id: uuid.UUID
) -> Appointment:
    """The appointment if ``viewer`` may see it (its counsellor, or a coordinator of its
    centre); 404 otherwise, so ids of other centres reveal nothing."""
    appointment = await session.get(Appointment, appointment_id)
    if appointment is None:
        raise NotFound()
    if appointment.counsellor_id == viewer.id:
        return appointment
    if may_see_others(viewer) and appointment.centre_id == viewer.centre_id:
        return appointment
    raise NotFound()


def record_contact_reads(
    session: AsyncSession, viewer: StaffAccount, appointments: list[Appointment]
) -> None:
    """One audit row per appointment of another counsellor whose contact data is shown."""
    for appointment in appointments:
        if appointment.counsellor_id != viewer.id:
            record_audit(
                session,
                CONTACT_READ,
                actor_id=viewer.id,
                object_type="appointment",
                object_id=str(appointment.id),
            )


# --- Loading -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AgendaEntry:
    appointment: Appointment
    details: Details
    notifications: list[AppointmentNotification]


async def entries(session: AsyncSession, appointments: list[Appointment]) -> list[AgendaEntry]:
    details = await repository.details_for(session, [a.id for a in appointments])
    sent = await notifications_for(session, [a.id for a in appointments])
    return [AgendaEntry(a, details[a.id], sent.get(a.id, [])) for a in appointments]


async def agenda_days(
    session: AsyncSession, counsellor_id: uuid.UUID, first: date, last: date
) -> dict[date, list[AgendaEntry]]:
    """Every local date from ``first`` to ``last`` with the appointments starting on it
    (Brussels midnight to midnight, so a DST day is 23 or 25 hours long)."""
    start = local_instant(first, time())
    end = local_instant(last + timedelta(days=1), time())
    found = await entries(session, await appointments_between(session, counsellor_id, start, end))
    days: dict[date, list[AgendaEntry]] = {}
    day = first
    while day <= last:
        days[day] = []
        day += timedelta(days=1)
    for entry in found:
        days.setdefault(local_day(entry.appointment.starts_at), []).append(entry)
    return days
