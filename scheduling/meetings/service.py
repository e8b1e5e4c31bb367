"""Face-to-face meeting requests: filing, the staff workflow and the first-contact deadline.

Nothing here commits: the caller's transaction boundary does. Filing validates everything
before anything is added, so a refused request leaves no trace. The first contact is due
``meeting_first_contact_working_days`` working days after filing, at the same clock time;
two outbox jobs watch that deadline (a reminder some hours before, an escalation to the
coordinators at it). Both do nothing once the request was contacted, scheduled or closed,
and those steps cancel them as well.

Each step locks the request, checks that it fits the current status and writes a
``meeting_request_events`` row with who and when.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from clb import i18n
from clb.auth.models import Role, StaffAccount
from clb.errors import Forbidden
from clb.jobs import NewJob, cancel_job, pending_jobs, schedule_job, schedule_jobs
from clb.notifications.kinds import Kind as StaffKind
from clb.notifications.service import notify
from clb.org.models import School
from clb.services import Services
from scheduling.appointments.booking import book
from scheduling.appointments.booking_input import BookingRequest, Contact
from scheduling.appointments.models import Mode
from scheduling.availability.slots import add_working_days
from scheduling.errors import (
    InvalidRequest,
    MeetingRequestNotFound,
    RequestStateConflict,
)
from scheduling.meetings import repository
from scheduling.meetings.models import (
    ForWhom,
    MeetingRequest,
    MeetingRequestEvent,
    Place,
    RequestStatus,
)
from scheduling.meetings.validation import MeetingRequestData, one_line, validate
from scheduling.tokens import hash_token, link_token

STATUS_PURPOSE = "meeting-status"
SLA_REMINDER_JOB = "meeting.sla_reminder"
SLA_ESCALATION_JOB = "meeting.sla_escalation"
SLA_JOBS = (SLA_REMINDER_JOB, SLA_ESCALATION_JOB)
# Each change of status is told to who asked, through the contact they gave (tasks.py).
STATUS_MESSAGE_JOB = "meeting.status_message"
REMINDER_BEFORE = timedelta(hours=4)
# No 0/O, 1/I/L, U/V: a code that can be read out on the phone without doubt.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"
NOTE_MAX = 500

OPEN = frozenset({RequestStatus.new, RequestStatus.assigned})
# Which statuses each step may start from.
ASSIGNABLE = frozenset({RequestStatus.new, RequestStatus.assigned, RequestStatus.contacted})
CONTACTABLE = OPEN
SCHEDULABLE = frozenset({RequestStatus.new, RequestStatus.assigned, RequestStatus.contacted})


# --- Filing ------------------------------------------------------------------------------


def new_reference() -> str:
    code = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))
    return f"CLB-{code[:4]}-{code[4:]}"


async def _free_reference(session: AsyncSession) -> str:
    # 29^6 ≈ 600 million codes: a clash is rare; the unique constraint stays the guard.
    for _ in range(10):
        reference = new_reference()
        if not await repository.reference_taken(session, reference):
            return reference
    raise RuntimeError("no free meeting request reference after 10 tries")


def status_token(services: Services, request: MeetingRequest) -> str:
    return link_token(
        services.settings, STATUS_PURPOSE, request.id, request.status_token_generation
    )


async def file_request(
    session: AsyncSession, services: Services, data: MeetingRequestData, now: datetime
) -> tuple[MeetingRequest, str]:
    """A new request and its status token (for the link shown and mailed to the requester)."""
    valid = validate(data)
    school = await session.get(School, data.school_id) if data.school_id else None
    if school is None:
        raise InvalidRequest("Kies de school uit de lijst.", field="school")
    due = add_working_days(now, services.settings.meeting_first_contact_working_days)
    request = MeetingRequest(
        id=uuid.uuid4(),
        reference=await _free_reference(session),
        centre_id=school.centre_id,
        school_id=school.id,
        for_whom=valid.for_whom.value,
        requester_relation=valid.relation.value if valid.relation else None,
        consent_of_person=valid.for_whom is ForWhom.other,
        first_name=valid.first_name,
        requester_name=valid.requester_name,
        phone=valid.phone,
        email=valid.email,
        via_school=data.via_school,
        via_bridge=data.via_bridge,
        requester_phone=valid.requester_phone,
        requester_email=valid.requester_email,
        preferred_days=valid.days,
        preferred_times=valid.times,
        preferred_place=valid.place.value,
        interpreter_language=valid.interpreter_language,
        need=valid.need,
        consent_contact=True,
        status=RequestStatus.new.value,
        first_contact_due_at=due,
        status_token_generation=0,
        status_token_hash="",
        language=i18n.current_language(),
        created_at=now,
    )
    token = status_token(services, request)
    request.status_token_hash = hash_token(token)
    session.add(request)
    await session.flush()
    _event(session, request, None, None, RequestStatus.new, now)
    payload = {"request_id": str(request.id), "due": due.isoformat()}
    planned = [NewJob(SLA_ESCALATION_JOB, payload, due)]
    if due - REMINDER_BEFORE > now:
        planned.insert(0, NewJob(SLA_REMINDER_JOB, payload, due - REMINDER_BEFORE))
    await schedule_jobs(session, services.jobs, planned)
    return request, token


async def by_status_token(session: AsyncSession, token: str) -> MeetingRequest | None:
    """The request of a status link; anything else is None (the caller answers a neutral
    404, the same for a wrong and an unknown token)."""
    if not token or len(token) > 100:
        return None
    return await repository.by_status_token_hash(session, hash_token(token))


# --- Staff workflow ----------------------------------------------------------------------


def _event(
    session: AsyncSession,
    request: MeetingRequest,
    actor_id: uuid.UUID | None,
    from_status: RequestStatus | None,
    to_status: RequestStatus,
    now: datetime,
    note: str = "",
) -> MeetingRequestEvent:
    event = MeetingRequestEvent(
        request_id=request.id,
        at=now,
        actor_id=actor_id,
        from_status=from_status.value if from_status else None,
        to_status=to_status.value,
        note=note[:NOTE_MAX],
    )
    session.add(event)
    return event


async def _locked(
    session: AsyncSession, request_id: uuid.UUID, actor: StaffAccount
) -> MeetingRequest:
    request = await repository.lock_request(session, request_id)
    if request is None:
        raise MeetingRequestNotFound()
    if request.centre_id != actor.centre_id and not actor.has_role(Role.admin):
        raise Forbidden()
    return request


def _require(request: MeetingRequest, allowed: frozenset[RequestStatus]) -> RequestStatus:
    current = RequestStatus(request.status)
    if current not in allowed:
        raise RequestStateConflict()
    return current


async def _counsellor_of(
    session: AsyncSession, request: MeetingRequest, counsellor_id: uuid.UUID
) -> StaffAccount:
    counsellor = await session.get(StaffAccount, counsellor_id)
    if (
        counsellor is None
        or not counsellor.is_active
        or counsellor.centre_id != request.centre_id
        or Role.counsellor.value not in counsellor.roles
    ):
        raise InvalidRequest("Kies een CLB-medewerker van dit centrum.", field="counsellor")
    return counsellor


async def _stop_deadline_jobs(session: AsyncSession, request: MeetingRequest) -> None:
    for kind in SLA_JOBS:
        for job in await pending_jobs(session, kind, request_id=str(request.id)):
            cancel_job(job)


async def _move(
    session: AsyncSession,
    services: Services,
    request: MeetingRequest,
    actor: StaffAccount,
    moves: tuple[RequestStatus, RequestStatus],
    now: datetime,
    note: str = "",
    *,
    deadline_met: bool,
) -> MeetingRequest:
    """Put the request in its new status and write the step in its history;
    ``deadline_met``: the first-contact deadline no longer applies, so its jobs are off.
    A new status is told to who asked (no change of status, no message)."""
    current, target = moves
    request.status = target.value
    _event(session, request, actor.id, current, target, now, note)
    if deadline_met:
        await _stop_deadline_jobs(session, request)
    if target is not current:
        payload = {"request_id": str(request.id), "status": target.value}
        await schedule_job(session, services.jobs, STATUS_MESSAGE_JOB, payload)
    await session.flush()
    return request


async def assign(
    session: AsyncSession,
    request_id: uuid.UUID,
    counsellor_id: uuid.UUID,
    actor: StaffAccount,
    *,
    now: datetime,
    services: Services,
) -> MeetingRequest:
    """Give the request to a counsellor of its centre (again, to hand it over); they are
    told, unless they took it themselves."""
    request = await _locked(session, request_id, actor)
    current = _require(request, ASSIGNABLE)
    counsellor = await _counsellor_of(session, request, counsellor_id)
    already = request.assigned_to == counsellor.id
    request.assigned_to = counsellor.id
    target = RequestStatus.assigned if current in OPEN else current
    await notify(
        session,
        services.jobs,
        [] if already else [counsellor.id],
        StaffKind.request_assigned,
        link=f"/console/aanvragen/{request.id}",
        params={"reference": request.reference},
        actor_id=actor.id,
    )
    moves = (current, target)
    return await _move(session, services, request, actor, moves, now, deadline_met=False)


async def mark_contacted(
    session: AsyncSession,
    request_id: uuid.UUID,
    actor: StaffAccount,
    *,
    now: datetime,
    services: Services,
    note: str = "",
) -> MeetingRequest:
    """The first contact happened: the deadline's reminder and escalation are off."""
    request = await _locked(session, request_id, actor)
    current = _require(request, CONTACTABLE)
    if request.assigned_to is None:
        request.assigned_to = actor.id
    moves = (current, RequestStatus.contacted)
    note = one_line(note)
    return await _move(session, services, request, actor, moves, now, note, deadline_met=True)


async def schedule(
    session: AsyncSession,
    services: Services,
    request_id: uuid.UUID,
    actor: StaffAccount,
    counsellor_id: uuid.UUID,
    starts_at: datetime,
    type_slug: str,
    location_id: uuid.UUID | None,
    now: datetime,
) -> MeetingRequest:
    """Book a real in-person appointment (at the CLB or at school, as the request prefers)
    and link it. The booking runs first: a taken slot raises SlotTaken and — as
    ``booking.book`` rolls the session back — nothing of the request changes (nor anything
    else the caller had pending in this session)."""
    request = await _locked(session, request_id, actor)
    current = _require(request, SCHEDULABLE)
    await _counsellor_of(session, request, counsellor_id)
    if request.email is None and request.phone is None:
        raise InvalidRequest(
            "Deze aanvraag heeft geen e-mailadres of telefoonnummer. Maak de afspraak "
            "met de persoon en noteer ze in de agenda.",
            field="contact",
        )
    mode = Mode.school if request.preferred_place == Place.school.value else Mode.office
    booked = await book(
        session,
        services,
        BookingRequest(
            school_id=request.school_id,
            type_slug=type_slug,
            mode=mode.value,
            counsellor_id=counsellor_id,
            starts_at=starts_at,
            contact=Contact(request.first_name, request.email, request.phone),
            location_id=location_id,
            booked_by=actor.id,
        ),
        now=now,
    )
    request.appointment_id = booked.appointment.id
    if request.assigned_to is None:
        request.assigned_to = counsellor_id
    moves = (current, RequestStatus.scheduled)
    return await _move(session, services, request, actor, moves, now, deadline_met=True)


async def close(
    session: AsyncSession,
    request_id: uuid.UUID,
    actor: StaffAccount,
    reason: str,
    *,
    now: datetime,
    services: Services,
) -> MeetingRequest:
    """End the request with a reason (staff's words; no personal data, please)."""
    reason = one_line(reason)
    if not reason:
        raise InvalidRequest("Geef een reden om de aanvraag af te sluiten.", field="reason")
    if len(reason) > NOTE_MAX:
        raise InvalidRequest("Schrijf hoogstens 500 tekens.", field="reason")
    request = await _locked(session, request_id, actor)
    current = RequestStatus(request.status)
    if current is RequestStatus.closed:
        raise RequestStateConflict()
    request.close_reason = reason
    moves = (current, RequestStatus.closed)
    return await _move(session, services, request, actor, moves, now, reason, deadline_met=True)


# --- Lists -------------------------------------------------------------------------------


async def overdue(
    session: AsyncSession, centre_id: uuid.UUID, now: datetime
) -> list[MeetingRequest]:
    """The centre's requests still without a first contact past their deadline, oldest first."""
    return await repository.overdue(session, centre_id, now, OPEN)


async def for_centre(
    session: AsyncSession, centre_id: uuid.UUID, statuses: tuple[RequestStatus, ...] = ()
) -> list[MeetingRequest]:
    """The centre's requests (optionally of these statuses), the earliest deadline first."""
    return await repository.for_centre(session, centre_id, statuses)


async def events(session: AsyncSession, request_id: uuid.UUID) -> list[MeetingRequestEvent]:
    """The request's history, oldest first."""
    return await repository.events(session, request_id)
