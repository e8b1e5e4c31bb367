"""Booking appointments: one in the caller's transaction, or a batch in one transaction.

The order of a booking: validate (booking_input) → lock (counsellor, local day) → one read
of that day → ask the slot function whether exactly this slot is free → insert → outbox
jobs (confirmation, reminders). A batch (batcher) does each step once for all its
bookings: their locks in one statement, one read, one INSERT, one outbox INSERT; each
booking is checked against its day as read plus the batch-mates booked before it. The
lock keeps "maximum per day" exact and makes conflicts cheap; the exclusion constraint
``no_overlap`` is what guarantees no double booking even if all of that were wrong: its
SQLSTATE 23P01 becomes the same 409 as a slot found taken. The statements themselves are
in the repository.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from clb.db import rollback, utcnow
from clb.errors import ClbError, UnstorableText
from clb.jobs import schedule_jobs
from clb.notifications.service import notify_all
from clb.services import Services
from scheduling.appointments import repository, video_room
from scheduling.appointments.booking_input import BookingRequest, clean_contact, mode_or_error
from scheduling.appointments.message_jobs import NOTIFY_JOB as NOTIFY_JOB
from scheduling.appointments.message_jobs import booking_notices, message_jobs
from scheduling.appointments.models import (
    Appointment,
    AppointmentType,
    Mode,
    NotificationKind,
    Status,
)
from scheduling.availability import offers
from scheduling.availability.slots import Busy, CounsellorCalendar, Slot, free_slots, local_day
from scheduling.errors import IdempotencyKeyReused, InvalidBooking, SlotTaken
from scheduling.tokens import hash_token, link_token

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


@dataclass(frozen=True)
class Taken:
    """The slot is not free. The caller looks up alternatives (``conflict``) only after the
    transaction that held the day's lock is over, so a storm of requests for one slot does
    not queue behind them."""

    centre_id: uuid.UUID
    kind: AppointmentType
    mode: str
    day: date


# What became of one wanted booking: booked (or replayed), taken, or refused.
Outcome = Booked | Taken | ClbError


@dataclass(frozen=True)
class Wish:
    """A booking to make: a request checked by ``prepare``, and its Idempotency-Key."""

    request: BookingRequest
    idempotency_key: str | None = None


class BatchConflict(Exception):  # noqa: N818 - a signal to the batcher, not an error shown
    """A batch's INSERT failed on a constraint, usually a booking its read did not see.
    Nothing of the batch is kept; the batcher books each of its requests alone, so only
    the one at fault gets the conflict (or the error)."""


def manage_token(services: Services, appointment: Appointment) -> str:
    return link_token(
        services.settings, MANAGE_PURPOSE, appointment.id, appointment.manage_token_generation
    )


def manage_url(services: Services, appointment: Appointment) -> str:
    return f"{services.settings.public_url}/afspraak/beheer/{manage_token(services, appointment)}"


# --- Locks -------------------------------------------------------------------------------


def day_lock(counsellor_id: uuid.UUID, day: date) -> str:
    return f"booking:{counsellor_id}:{day}"


# --- Book --------------------------------------------------------------------------------


def prepare(request: BookingRequest) -> BookingRequest:
    """The request with its contact cleaned, or InvalidBooking (no database needed)."""
    if request.starts_at.tzinfo is None:
        raise InvalidBooking("Kies een moment uit de lijst.", field="slot")
    mode_or_error(request.mode)
    return dataclasses.replace(request, contact=clean_contact(request.contact))


async def book(
    session: AsyncSession,
    services: Services,
    request: BookingRequest,
    *,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> Booked:
    """One booking in the caller's transaction (the booking form, a meeting request). A
    taken slot rolls the session back and raises SlotTaken with fresh alternatives."""
    now = now or utcnow()
    wish = Wish(prepare(request), idempotency_key)
    [outcome] = await book_many(session, services, [wish], now=now)
    if isinstance(outcome, Taken):
        await rollback(session)  # nothing of the attempt stays, and the day's lock is free
        raise await conflict(session, outcome, now)
    booked = booked_or_raise(outcome)
    if not booked.replayed:
        # The caller's session keeps it as the persistent row it now is.
        make_transient_to_detached(booked.appointment)
        session.add(booked.appointment)
    return booked


async def conflict(session: AsyncSession, taken: Taken, now: datetime) -> SlotTaken:
    """The 409 for a taken slot, with fresh alternatives (looked up outside the lock)."""
    return SlotTaken(
        await offers.fresh_alternatives(
            session, taken.centre_id, taken.kind, taken.mode, taken.day, now
        )
    )


def booked_or_raise(outcome: Booked | ClbError) -> Booked:
    if isinstance(outcome, ClbError):
        raise outcome
    return outcome


async def book_many(
    session: AsyncSession, services: Services, wishes: Sequence[Wish], *, now: datetime
) -> list[Outcome]:
    """Book these (prepared) requests in ``session``'s transaction; an outcome each, in
    order. A batch must not hold one Idempotency-Key twice. Raises BatchConflict when
    the INSERT of more than one booking fails on a constraint."""
    keys = [_idempotency(wish) for wish in wishes]
    days = [local_day(wish.request.starts_at) for wish in wishes]
    await repository.take_locks(
        session,
        [day_lock(wish.request.counsellor_id, day) for wish, day in zip(wishes, days, strict=True)]
        + [f"idempotency:{key[0]}" for key in keys if key],
    )
    outcomes: list[Outcome | None] = [None] * len(wishes)
    if any(keys):
        await _replays(session, services, keys, outcomes)
    todo = [i for i, outcome in enumerate(outcomes) if outcome is None]
    snapshots = await repository.booking_snapshots(
        session,
        [
            repository.Wanted(
                wishes[i].request.school_id,
                wishes[i].request.type_slug,
                wishes[i].request.counsellor_id,
                days[i],
            )
            for i in todo
        ],
    )
    # One calendar per (counsellor, day), so a booking sees its batch-mates' bookings.
    calendars: dict[tuple[uuid.UUID, date], CounsellorCalendar] = {}
    made: list[tuple[int, Booked, Taken]] = []
    for i, found in zip(todo, snapshots, strict=True):
        request = wishes[i].request
        if found is None:
            outcomes[i] = InvalidBooking("Kies je school uit de lijst.", field="school")
            continue
        calendar = calendars.setdefault((request.counsellor_id, days[i]), found.calendar)
        outcome = _decide(services, request, keys[i], found, calendar, now)
        outcomes[i] = outcome
        if isinstance(outcome, Booked):
            _hold(calendar, outcome.appointment, days[i])
            assert found.kind is not None  # noqa: S101 - booked, so the type was found
            made.append((i, outcome, Taken(found.centre_id, found.kind, request.mode, days[i])))
    if made:
        await _write(session, services, made, outcomes, now, wishes)
    return _all(outcomes)


async def _write(
    session: AsyncSession,
    services: Services,
    made: list[tuple[int, Booked, Taken]],
    outcomes: list[Outcome | None],
    now: datetime,
    wishes: Sequence[Wish],
) -> None:
    """INSERT the bookings made, their outbox rows and notices. A lone booking whose INSERT
    hits the exclusion constraint becomes Taken; a batch's raises BatchConflict, and so does
    a batch with text the database cannot store, so that only its own request fails."""
    try:
        await repository.insert_appointments(session, [booked.appointment for _, booked, _ in made])
    except (IntegrityError, UnstorableText) as exc:
        if len(made) > 1:
            raise BatchConflict() from None
        if isinstance(exc, UnstorableText):
            raise
        if getattr(exc.orig, "sqlstate", None) != EXCLUSION_VIOLATION:
            raise
        [(i, _, taken)] = made
        outcomes[i] = taken
        return
    jobs = [
        job
        for _, booked, _ in made
        for job in message_jobs(services, booked.appointment, NotificationKind.confirmation, now)
    ]
    await schedule_jobs(session, services.jobs, jobs)
    bookers = [(booked.appointment, wishes[i].request.booked_by) for i, booked, _ in made]
    await notify_all(session, services.jobs, booking_notices(bookers))  # one statement


def _all(outcomes: list[Outcome | None]) -> list[Outcome]:
    decided = [outcome for outcome in outcomes if outcome is not None]
    assert len(decided) == len(outcomes)  # noqa: S101 - every request got one
    return decided


def _idempotency(wish: Wish) -> tuple[str, str] | None:
    """(hash of the key, the request's fingerprint), or None without a key."""
    if wish.idempotency_key is None:
        return None
    return hash_token(f"booking:{wish.idempotency_key}"), wish.request.fingerprint()


async def _replays(
    session: AsyncSession,
    services: Services,
    keys: list[tuple[str, str] | None],
    outcomes: list[Outcome | None],
) -> None:
    """The outcome of every request whose Idempotency-Key already booked something: the
    same appointment again, or IdempotencyKeyReused when the request differs."""
    hashes = [key[0] for key in keys if key]
    existing = {
        appointment.idempotency_key_hash: appointment
        for appointment in await repository.by_idempotency_hashes(session, hashes)
    }
    for i, key in enumerate(keys):
        appointment = existing.get(key[0]) if key else None
        if key is None or appointment is None:
            continue
        if appointment.request_fingerprint != key[1]:
            outcomes[i] = IdempotencyKeyReused()
            continue
        details = await repository.details(session, appointment)
        outcomes[i] = Booked(
            appointment,
            manage_token(services, appointment),
            replayed=True,
            centre_name=details.centre_name,
            counsellor_name=details.counsellor_name,
            type_name=details.type_name,
        )


def _decide(
    services: Services,
    request: BookingRequest,
    key: tuple[str, str] | None,
    found: repository.BookingSnapshot,
    calendar: CounsellorCalendar,
    now: datetime,
) -> Outcome:
    """Booked (not yet inserted), taken or refused, from the snapshot read under the lock."""
    kind = found.kind
    if kind is None:
        return InvalidBooking("Kies waarover de afspraak gaat.", field="type")
    if request.starts_at <= now:
        return InvalidBooking(
            "Dit moment is al voorbij. Kies een moment in de toekomst.", field="slot"
        )
    slot = None
    if found.counsellor_name is not None:
        slot = slot_at(
            calendar,
            kind,
            request.mode,
            request.starts_at,
            request.location_id,
            now,
            found.closed_days,
        )
    if slot is None:
        return Taken(found.centre_id, kind, request.mode, local_day(request.starts_at))
    appointment = _appointment(request, found.centre_id, kind, slot, key, now)
    token = manage_token(services, appointment)
    appointment.manage_token_hash = hash_token(token)
    return Booked(
        appointment,
        token,
        centre_name=found.centre_name,
        counsellor_name=found.counsellor_name or "",
        type_name=kind.name,
    )


def slot_at(
    calendar: CounsellorCalendar,
    kind: AppointmentType,
    mode: str,
    starts_at: datetime,
    location_id: uuid.UUID | None,
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


def _hold(calendar: CounsellorCalendar, appointment: Appointment, day: date) -> None:
    """Count a booking just made in its day's calendar, for the next in the batch."""
    calendar.busy = [*calendar.busy, Busy(appointment.blocked_from, appointment.blocked_until)]
    calendar.booked_per_day[day] = calendar.booked_per_day.get(day, 0) + 1


def _appointment(
    request: BookingRequest,
    centre_id: uuid.UUID,
    kind: AppointmentType,
    slot: Slot,
    key: tuple[str, str] | None,
    now: datetime,
) -> Appointment:
    contact, booker = request.contact, request.booker
    return Appointment(
        id=uuid.uuid4(),
        counsellor_id=request.counsellor_id,
        centre_id=centre_id,
        school_id=request.school_id,
        type_id=kind.id,
        mode=request.mode,
        location_id=slot.location_id if request.mode == Mode.office.value else None,
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
        booked_for_relation=booker.relation if booker else None,
        booker_name=booker.name if booker else None,
        booker_email=booker.email if booker else None,
        booker_phone=booker.phone if booker else None,
        handover_conversation_id=request.handover_conversation_id,
        manage_token_generation=0,
        manage_token_hash="",
        sequence=0,
        idempotency_key_hash=key[0] if key else None,
        request_fingerprint=key[1] if key else None,
        conversation_id=None,
        video_room=video_room.room_for(request.mode),
        counsellor_note="",
        cancel_reason="",
        cancelled_by=None,
        cancelled_at=None,
        created_at=now,
        updated_at=now,
    )
