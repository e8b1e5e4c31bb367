"""Booking, rescheduling and cancelling appointments.

The order of a booking: validate (scheduling.booking_input) → lock (counsellor, local day)
→ one read of that day → ask the slot function whether exactly this slot is free → insert
→ outbox jobs (confirmation, reminders). The lock keeps "maximum per day" exact and makes
conflicts cheap; the exclusion constraint
``no_overlap`` is what guarantees no double booking even if all of that were wrong: its
SQLSTATE 23P01 becomes the same 409 as a slot found taken.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from clb.auth.models import StaffAccount
from clb.db import rollback, utcnow
from clb.jobs import NewJob, cancel_job, pending_jobs, schedule_jobs
from clb.services import Services
from scheduling import offers, repository
from scheduling.booking_input import BookingRequest, clean_contact, mode_or_error
from scheduling.errors import (
    AppointmentGone,
    ChangeClosed,
    IdempotencyKeyReused,
    InvalidBooking,
    SlotTaken,
)
from scheduling.models import (
    Appointment,
    AppointmentType,
    CancelledBy,
    Mode,
    NotificationKind,
    Status,
)
from scheduling.slots import (
    CounsellorCalendar,
    Slot,
    free_slots,
    local_day,
)
from scheduling.tokens import derive_token, hash_token

NOTIFY_JOB = "scheduling.notify"
MANAGE_PURPOSE = "appointment-manage"
EXCLUSION_VIOLATION = "23P01"


@dataclass(frozen=True)
class Booked:
    appointment: Appointment
    manage_token: str
    replayed: bool = False
    # What the confirmation says besides the appointment's own columns.
    centre_name: str = ""
    counsellor_name: str = ""
    type_name: str = ""


# --- Offer -------------------------------------------------------------------------------


# --- Book --------------------------------------------------------------------------------


def manage_token(services: Services, appointment: Appointment) -> str:
    return derive_token(
        services.settings.secret_key or "",
        MANAGE_PURPOSE,
        appointment.id,
        appointment.manage_token_generation,
    )


def manage_url(services: Services, appointment: Appointment) -> str:
    return f"{services.settings.public_url}/afspraak/beheer/{manage_token(services, appointment)}"


async def _lock(session: AsyncSession, *parts: object) -> None:
    key = ":".join(str(part) for part in parts)
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key}
    )


async def _replay(
    session: AsyncSession, services: Services, key_hash: str, fingerprint: str
) -> Booked | None:
    existing = await session.scalar(
        select(Appointment).where(Appointment.idempotency_key_hash == key_hash)
    )
    if existing is None:
        return None
    if existing.request_fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    details = await repository.details(session, existing)
    return Booked(
        existing,
        manage_token(services, existing),
        replayed=True,
        centre_name=details.centre_name,
        counsellor_name=details.counsellor_name,
        type_name=details.type_name,
    )


async def _free_slot(
    session: AsyncSession,
    centre_id: uuid.UUID,
    kind: AppointmentType,
    mode: str,
    counsellor_id: uuid.UUID,
    starts_at: datetime,
    location_id: uuid.UUID | None,
    *,
    now: datetime,
    ignore_appointment: uuid.UUID | None = None,
    for_staff: bool = False,
) -> Slot | None:
    day = local_day(starts_at)
    calendars = await offers.calendars_for(
        session, [counsellor_id], day, day, ignore_appointment, for_staff
    )
    closed = await repository.closed_days(session, centre_id, day, day)
    return _slot_at(calendars[0], kind, mode, starts_at, location_id, now=now, closed=closed)


def _slot_at(
    calendar: CounsellorCalendar,
    kind: AppointmentType,
    mode: str,
    starts_at: datetime,
    location_id: uuid.UUID | None,
    *,
    now: datetime,
    closed: frozenset[date],
) -> Slot | None:
    """Exactly this slot, if the slot function offers it."""
    day = local_day(starts_at)
    for slot in free_slots(
        calendar, offers.duration_of(kind), mode, now=now, first=day, last=day, closed_days=closed
    ):
        if slot.starts_at == starts_at and (location_id is None or slot.location_id == location_id):
            return slot
    return None


async def _counsellor_of_centre(
    session: AsyncSession, counsellor_id: uuid.UUID, centre_id: uuid.UUID
) -> bool:
    found = await session.scalar(
        select(StaffAccount.id).where(
            StaffAccount.id == counsellor_id,
            StaffAccount.centre_id == centre_id,
            StaffAccount.is_active.is_(True),
        )
    )
    return found is not None


# The appointment's INSERT, written once from the table's columns: a booking sends it as
# is, without the unit of work or a statement compilation per request (the hot path).
_APPOINTMENT_COLUMNS = tuple(column.key for column in Appointment.__table__.columns)
_INSERT_APPOINTMENT = text(
    f"INSERT INTO appointments ({', '.join(_APPOINTMENT_COLUMNS)}) "  # noqa: S608 - the model's
    f"VALUES ({', '.join(':' + name for name in _APPOINTMENT_COLUMNS)})"
)


async def _insert(session: AsyncSession, appointment: Appointment) -> None:
    """Insert, then keep ``appointment`` in the session as the persistent row it now is."""
    values = {name: getattr(appointment, name) for name in _APPOINTMENT_COLUMNS}
    await session.execute(_INSERT_APPOINTMENT, values)
    make_transient_to_detached(appointment)
    session.add(appointment)


async def book(
    session: AsyncSession,
    services: Services,
    request: BookingRequest,
    *,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> Booked:
    now = now or utcnow()
    contact = clean_contact(request.contact)
    request = dataclasses.replace(request, contact=contact)
    if request.starts_at.tzinfo is None:
        raise InvalidBooking("Kies een moment uit de lijst.", field="slot")
    mode = mode_or_error(request.mode)
    key_hash = fingerprint = None
    if idempotency_key is not None:
        key_hash = hash_token(f"booking:{idempotency_key}")
        fingerprint = request.fingerprint()
        await _lock(session, "idempotency", key_hash)
        replay = await _replay(session, services, key_hash, fingerprint)
        if replay is not None:
            return replay
    day = local_day(request.starts_at)
    # Locked first, so the day's bookings read next include every one committed before.
    await _lock(session, "booking", request.counsellor_id, day)
    found = await repository.booking_snapshot(
        session, request.school_id, request.type_slug, request.counsellor_id, day
    )
    if found is None:
        raise InvalidBooking("Kies je school uit de lijst.", field="school")
    kind = found.kind
    if kind is None:
        raise InvalidBooking("Kies waarover de afspraak gaat.", field="type")
    if request.starts_at <= now:
        raise InvalidBooking(
            "Dit moment is al voorbij. Kies een moment in de toekomst.", field="slot"
        )
    slot = None
    if found.counsellor_name is not None:
        slot = _slot_at(
            found.calendar,
            kind,
            mode.value,
            request.starts_at,
            request.location_id,
            now=now,
            closed=found.closed_days,
        )
    if slot is None:
        raise await _taken(session, found.centre_id, kind, mode, day, now)
    appointment = Appointment(
        id=uuid.uuid4(),
        counsellor_id=request.counsellor_id,
        centre_id=found.centre_id,
        school_id=request.school_id,
        type_id=kind.id,
        mode=mode.value,
        location_id=slot.location_id if mode is Mode.office else None,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        blocked_from=slot.starts_at - timedelta(minutes=kind.buffer_before_minutes),
        blocked_until=slot.ends_at + timedelta(minutes=kind.buffer_after_minutes),
        status=Status.confirmed.value,
        first_name=contact.first_name,
        email=contact.email,
        phone=contact.phone,
        language=contact.language,
        topic=contact.topic,
        booked_for_relation=request.booker.relation if request.booker else None,
        booker_name=request.booker.name if request.booker else None,
        booker_email=request.booker.email if request.booker else None,
        booker_phone=request.booker.phone if request.booker else None,
        handover_conversation_id=request.handover_conversation_id,
        manage_token_generation=0,
        manage_token_hash="",
        sequence=0,
        idempotency_key_hash=key_hash,
        request_fingerprint=fingerprint,
        conversation_id=None,
        counsellor_note="",
        cancel_reason="",
        cancelled_by=None,
        cancelled_at=None,
        created_at=now,
        updated_at=now,
    )
    token = manage_token(services, appointment)
    appointment.manage_token_hash = hash_token(token)
    try:
        await _insert(session, appointment)
    except IntegrityError as exc:
        if getattr(exc.orig, "sqlstate", None) != EXCLUSION_VIOLATION:
            raise
        raise await _taken(session, found.centre_id, kind, mode, day, now) from None
    await _plan_messages(
        session, services, appointment, NotificationKind.confirmation, now, new=True
    )
    return Booked(
        appointment,
        token,
        centre_name=found.centre_name,
        counsellor_name=found.counsellor_name or "",
        type_name=kind.name,
    )


async def _taken(
    session: AsyncSession,
    centre_id: uuid.UUID,
    kind: AppointmentType,
    mode: str,
    day: date,
    now: datetime,
) -> SlotTaken:
    """The conflict, with what is free now. Rolled back first: the (counsellor, day) lock
    is released before the (slower) alternatives are looked up, so a storm of requests for
    one slot does not queue behind them. (The type is not in the session: it survives.)"""
    await rollback(session)
    return SlotTaken(await offers.fresh_alternatives(session, centre_id, kind, mode, day, now))


# --- Messages ----------------------------------------------------------------------------


async def _plan_messages(
    session: AsyncSession,
    services: Services,
    appointment: Appointment,
    notice: NotificationKind,
    now: datetime,
    *,
    new: bool = False,
) -> None:
    """The notice now and, unless cancelled, fresh reminders for the current start. Any
    reminder still pending for an earlier start is cancelled first: its outbox version
    changes, so a copy already queued in ARQ does nothing when it runs."""
    pending = (
        [] if new else await pending_jobs(session, NOTIFY_JOB, appointment_id=str(appointment.id))
    )
    for job in pending:
        if job.payload.get("kind") == NotificationKind.reminder.value:
            cancel_job(job)
    payload = {"appointment_id": str(appointment.id), "about": appointment.starts_at.isoformat()}
    planned = [NewJob(NOTIFY_JOB, {**payload, "kind": notice.value})]
    if appointment.is_active:
        for hours in services.settings.booking_reminder_hours:
            run_at = appointment.starts_at - timedelta(hours=hours)
            if run_at > now:
                reminder = {**payload, "kind": NotificationKind.reminder.value, "hours": hours}
                planned.append(NewJob(NOTIFY_JOB, reminder, run_at))
    await schedule_jobs(session, services.jobs, planned)


# --- Manage ------------------------------------------------------------------------------


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
    if not await _counsellor_of_centre(session, counsellor_id, appointment.centre_id):
        raise SlotTaken()
    await _lock(session, "booking", counsellor_id, day)
    slot = await _free_slot(
        session,
        appointment.centre_id,
        kind,
        appointment.mode,
        counsellor_id,
        starts_at,
        location_id,
        now=now,
        ignore_appointment=appointment.id,
        for_staff=by_staff,
    )
    if slot is None:
        raise SlotTaken(
            await offers.fresh_alternatives(
                session, appointment.centre_id, kind, appointment.mode, day, now
            )
        )
    appointment.counsellor_id = counsellor_id
    appointment.starts_at = slot.starts_at
    appointment.ends_at = slot.ends_at
    appointment.blocked_from = slot.starts_at - timedelta(minutes=kind.buffer_before_minutes)
    appointment.blocked_until = slot.ends_at + timedelta(minutes=kind.buffer_after_minutes)
    if appointment.mode == Mode.office.value:
        appointment.location_id = slot.location_id
    appointment.sequence += 1
    appointment.cancel_reason = reason.strip()[:500] if by_staff else ""
    appointment.updated_at = now
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        if getattr(exc.orig, "sqlstate", None) == EXCLUSION_VIOLATION:
            raise SlotTaken() from None
        raise
    await _plan_messages(session, services, appointment, NotificationKind.rescheduled, now)
    return appointment


async def cancel(
    session: AsyncSession,
    services: Services,
    appointment_id: uuid.UUID,
    *,
    by_staff: bool,
    reason: str = "",
    now: datetime | None = None,
) -> Appointment:
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
    await _plan_messages(session, services, appointment, NotificationKind.cancelled, now)
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
