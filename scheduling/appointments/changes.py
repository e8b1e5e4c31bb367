"""Changing a booked appointment: the manage link, rescheduling, cancelling, no-shows.

A reschedule takes the same (counsellor, day) lock and asks the same slot function as a
booking (scheduling.appointments.booking); the exclusion constraint ``no_overlap`` stays
the guarantee.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clb.db import utcnow
from clb.notifications.kinds import Kind as StaffKind
from clb.services import Services
from scheduling.appointments import repository
from scheduling.appointments.booking import EXCLUSION_VIOLATION, day_lock, slot_at
from scheduling.appointments.message_jobs import plan_messages, tell_counsellors
from scheduling.appointments.models import (
    Appointment,
    AppointmentType,
    CancelledBy,
    Mode,
    NotificationKind,
    Status,
)
from scheduling.availability import offers
from scheduling.availability.slots import Slot, local_day
from scheduling.errors import AppointmentGone, ChangeClosed, InvalidBooking, SlotTaken
from scheduling.tokens import hash_token


async def by_manage_token(session: AsyncSession, token: str) -> Appointment | None:
    """The appointment of a manage link, while the link is valid (until the end of the
    appointment). Anything else is None: the caller answers with a neutral 404."""
    if not token or len(token) > 100:
        return None
    appointment = await repository.by_manage_hash(session, hash_token(token))
    if appointment is None or appointment.ends_at <= utcnow():
        return None
    return appointment


def can_change_online(services: Services, appointment: Appointment, now: datetime) -> bool:
    cutoff = timedelta(hours=services.settings.booking_change_cutoff_hours)
    return appointment.is_active and appointment.starts_at - cutoff > now


async def _locked_active(session: AsyncSession, appointment_id: uuid.UUID) -> Appointment:
    appointment = await repository.lock_appointment(session, appointment_id)
    if appointment is None or not appointment.is_active:
        raise AppointmentGone()
    return appointment


async def _free_slot(
    session: AsyncSession,
    appointment: Appointment,
    kind: AppointmentType,
    counsellor_id: uuid.UUID,
    starts_at: datetime,
    location_id: uuid.UUID | None,
    *,
    now: datetime,
    for_staff: bool,
) -> Slot | None:
    """Exactly this slot for the moved appointment, if the slot function offers it."""
    day = local_day(starts_at)
    calendars = await offers.calendars_for(
        session, [counsellor_id], day, day, appointment.id, for_staff
    )
    closed = await repository.closed_days(session, appointment.centre_id, day, day)
    return slot_at(calendars[0], kind, appointment.mode, starts_at, location_id, now, closed)


def _move(
    appointment: Appointment, counsellor_id: uuid.UUID, kind: AppointmentType, slot: Slot
) -> None:
    """The appointment at ``slot`` with ``counsellor_id``, its calendar SEQUENCE raised."""
    appointment.counsellor_id = counsellor_id
    appointment.starts_at = slot.starts_at
    appointment.ends_at = slot.ends_at
    appointment.blocked_from = slot.starts_at - timedelta(minutes=kind.buffer_before_minutes)
    appointment.blocked_until = slot.ends_at + timedelta(minutes=kind.buffer_after_minutes)
    if appointment.mode == Mode.office.value:
        appointment.location_id = slot.location_id
    appointment.sequence += 1


async def reschedule(
    session: AsyncSession,
    services: Services,
    appointment_id: uuid.UUID,
    counsellor_id: uuid.UUID,
    starts_at: datetime,
    *,
    by_staff: bool,
    location_id: uuid.UUID | None = None,
    reason: str = "",
    now: datetime | None = None,
    actor_id: uuid.UUID | None = None,
) -> Appointment:
    """Move to another free slot of the same kind and mode (the person may also land with
    another counsellor of the centre). SEQUENCE goes up; reminders are re-planned."""
    now = now or utcnow()
    appointment = await _locked_active(session, appointment_id)
    if not by_staff and not can_change_online(services, appointment, now):
        raise ChangeClosed()
    if starts_at.tzinfo is None or starts_at <= now:
        raise InvalidBooking("Kies een moment in de toekomst.", field="slot")
    kind = await session.get_one(AppointmentType, appointment.type_id)
    day = local_day(starts_at)
    centre_id = appointment.centre_id
    if not await repository.is_active_staff_of_centre(session, counsellor_id, centre_id):
        raise SlotTaken()
    await repository.take_locks(session, [day_lock(counsellor_id, day)])
    slot = await _free_slot(
        session,
        appointment,
        kind,
        counsellor_id,
        starts_at,
        location_id,
        now=now,
        for_staff=by_staff,
    )
    if slot is None:
        raise SlotTaken(
            await offers.fresh_alternatives(
                session, appointment.centre_id, kind, appointment.mode, day, now
            )
        )
    was = (appointment.counsellor_id, appointment.starts_at)
    _move(appointment, counsellor_id, kind, slot)
    appointment.cancel_reason = reason.strip()[:500] if by_staff else ""
    appointment.updated_at = now
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        if getattr(exc.orig, "sqlstate", None) == EXCLUSION_VIOLATION:
            raise SlotTaken() from None
        raise
    await plan_messages(session, services, appointment, NotificationKind.rescheduled, now)
    moved = StaffKind.booking_moved
    await tell_counsellors(
        session, services, appointment, moved, actor_id=actor_id, by_staff=by_staff, was=was
    )
    return appointment


async def cancel(
    session: AsyncSession,
    services: Services,
    appointment_id: uuid.UUID,
    *,
    by_staff: bool,
    reason: str = "",
    now: datetime | None = None,
    actor_id: uuid.UUID | None = None,
) -> Appointment:
    """``actor_id``: the staff member who cancels (their counsellor is told unless it was
    them); the person cancelling tells the counsellor too."""
    now = now or utcnow()
    appointment = await _locked_active(session, appointment_id)
    if not by_staff and not can_change_online(services, appointment, now):
        raise ChangeClosed()
    reason = " ".join(reason.split())
    if by_staff and not reason:
        raise InvalidBooking("Geef een reden: de persoon krijgt die te lezen.", field="reason")
    appointment.status = Status.cancelled.value
    appointment.cancelled_by = (CancelledBy.staff if by_staff else CancelledBy.person).value
    appointment.cancelled_at = now
    appointment.cancel_reason = reason[:500]
    appointment.sequence += 1
    appointment.updated_at = now
    await session.flush()
    await plan_messages(session, services, appointment, NotificationKind.cancelled, now)
    cancelled = StaffKind.booking_cancelled
    await tell_counsellors(
        session, services, appointment, cancelled, actor_id=actor_id, by_staff=by_staff
    )
    return appointment


async def mark_no_show(
    session: AsyncSession, appointment_id: uuid.UUID, *, now: datetime | None = None
) -> Appointment:
    now = now or utcnow()
    appointment = await _locked_active(session, appointment_id)
    if appointment.starts_at > now:
        raise InvalidBooking("Je kan pas na het begin van de afspraak 'niet gekomen' aanduiden.")
    appointment.status = Status.no_show.value
    appointment.updated_at = now
    return appointment
