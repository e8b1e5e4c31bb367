"""The queries of meeting requests, and the names their console pages show."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    any_,
    case,
    cast,
    false,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from clb.auth.models import Role, StaffAccount
from clb.org.models import School
from scheduling.appointments.models import Appointment
from scheduling.centre_staff import active_staff_of
from scheduling.meetings.models import MeetingRequest, MeetingRequestEvent, RequestStatus


async def reference_taken(session: AsyncSession, reference: str) -> bool:
    taken = await session.scalar(
        select(MeetingRequest.id).where(MeetingRequest.reference == reference)
    )
    return taken is not None


async def by_status_token_hash(session: AsyncSession, token_hash: str) -> MeetingRequest | None:
    found: MeetingRequest | None = await session.scalar(
        select(MeetingRequest).where(MeetingRequest.status_token_hash == token_hash)
    )
    return found


async def lock_request(session: AsyncSession, request_id: uuid.UUID) -> MeetingRequest | None:
    return await session.scalar(
        select(MeetingRequest)
        .where(MeetingRequest.id == request_id)
        # FOR NO KEY UPDATE: a deadline job inserting its event row (a key-share lock on
        # this row) while this step waits for that job's outbox row cannot deadlock.
        .with_for_update(key_share=True)
    )


async def request_by_id(session: AsyncSession, request_id: uuid.UUID) -> MeetingRequest | None:
    """A plain read: a workflow step locks the request and then the outbox rows, so a job
    that read it with a lock could deadlock with one."""
    return await session.scalar(select(MeetingRequest).where(MeetingRequest.id == request_id))


async def overdue(
    session: AsyncSession,
    centre_id: uuid.UUID,
    now: datetime,
    open_statuses: Iterable[RequestStatus],
) -> list[MeetingRequest]:
    rows = await session.scalars(
        select(MeetingRequest)
        .where(
            MeetingRequest.centre_id == centre_id,
            MeetingRequest.status.in_([status.value for status in open_statuses]),
            MeetingRequest.first_contact_due_at <= now,
        )
        .order_by(MeetingRequest.first_contact_due_at)
    )
    return list(rows.all())


async def for_centre(
    session: AsyncSession, centre_id: uuid.UUID, statuses: tuple[RequestStatus, ...] = ()
) -> list[MeetingRequest]:
    query = select(MeetingRequest).where(MeetingRequest.centre_id == centre_id)
    if statuses:
        query = query.where(MeetingRequest.status.in_([status.value for status in statuses]))
    rows = await session.scalars(query.order_by(MeetingRequest.first_contact_due_at))
    return list(rows.all())


async def events(session: AsyncSession, request_id: uuid.UUID) -> list[MeetingRequestEvent]:
    rows = await session.scalars(
        select(MeetingRequestEvent)
        .where(MeetingRequestEvent.request_id == request_id)
        .order_by(MeetingRequestEvent.at, MeetingRequestEvent.id)
    )
    return list(rows.all())


async def coordinators(session: AsyncSession, centre_id: uuid.UUID) -> list[StaffAccount]:
    is_coordinator = literal(Role.coordinator.value) == any_(StaffAccount.roles)
    rows = await session.scalars(
        active_staff_of(centre_id, is_coordinator).order_by(StaffAccount.email)
    )
    return list(rows.all())


async def staff_names(session: AsyncSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = await session.execute(
        select(StaffAccount.id, StaffAccount.full_name).where(StaffAccount.id.in_(ids))
    )
    return {staff_id: name for staff_id, name in rows}


async def school_names(session: AsyncSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = await session.execute(select(School.id, School.name).where(School.id.in_(ids)))
    return {school_id: name for school_id, name in rows}


# --- The person behind a request: privacy requests and retention ---------------------------
# Anonymising keeps what the counts need (centre, school, for whom and the relation, the
# preferences, status, deadline, assignment, appointment and the history's steps) and
# nothing that identifies the person (docs/privacy.md).

# The "reachable" CHECK wants a way to reach someone; an address is never stored empty (the
# form makes "" None), so the empty address marks an erased request.
ERASED_EMAIL = ""
NOT_ERASED = MeetingRequest.email.is_distinct_from(ERASED_EMAIL)


def _erased() -> dict[str, Any]:
    return {
        "first_name": "",
        # The "other_has_consent" CHECK: a request for someone else keeps a (blank) requester.
        "requester_name": case((MeetingRequest.for_whom == "other", ""), else_=None),
        "email": ERASED_EMAIL,
        "phone": None,
        "requester_phone": None,
        "requester_email": None,
        "interpreter_language": None,
        "need": "",
        "close_reason": None,
        # No status token hashes to this (32 characters, a hash has 64): the link stops.
        "status_token_hash": func.replace(cast(MeetingRequest.id, String), "-", ""),
    }


async def anonymise_requests(session: AsyncSession, ids: Collection[uuid.UUID]) -> int:
    """Erase the person from these requests and what staff typed in their history."""
    if not ids:
        return 0
    result = await session.execute(
        update(MeetingRequest)
        .where(MeetingRequest.id.in_(list(ids)))
        .values(_erased())
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(MeetingRequestEvent)
        .where(MeetingRequestEvent.request_id.in_(list(ids)))
        .values(note="")
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def filed_by(
    session: AsyncSession, centre_id: uuid.UUID, *, email: str | None, phones: Sequence[str]
) -> list[MeetingRequest]:
    """The centre's requests (not erased) that this person filed for someone else with their
    own e-mail address or phone ("via mij"); the oldest first."""
    found: list[ColumnElement[bool]] = []
    if email:
        found.append(func.lower(MeetingRequest.requester_email) == email.lower())
    if phones:
        found.append(MeetingRequest.requester_phone.in_(list(phones)))
    rows = await session.scalars(
        select(MeetingRequest)
        .where(MeetingRequest.centre_id == centre_id, NOT_ERASED, or_(false(), *found))
        .order_by(MeetingRequest.created_at, MeetingRequest.id)
        .execution_options(populate_existing=True)
    )
    return list(rows.all())


async def anonymise_filers(session: AsyncSession, ids: Collection[uuid.UUID]) -> int:
    """Erase who filed these requests for someone else (their name and own contact); the
    request of the person it is for stays."""
    if not ids:
        return 0
    result = await session.execute(
        update(MeetingRequest)
        .where(MeetingRequest.id.in_(list(ids)), MeetingRequest.for_whom == "other")
        .values(requester_name="", requester_phone=None, requester_email=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def finished_before(session: AsyncSession, cutoff: datetime) -> list[uuid.UUID]:
    """Requests not yet erased that were closed before ``cutoff`` (the time of the step to
    "closed" in their history), or scheduled with an appointment that started before it."""
    closed_at = (
        select(func.max(MeetingRequestEvent.at))
        .where(
            MeetingRequestEvent.request_id == MeetingRequest.id,
            MeetingRequestEvent.to_status == RequestStatus.closed.value,
        )
        .scalar_subquery()
    )
    met_at = (
        select(Appointment.starts_at)
        .where(Appointment.id == MeetingRequest.appointment_id)
        .scalar_subquery()
    )
    rows = await session.scalars(
        select(MeetingRequest.id).where(
            NOT_ERASED,
            or_(
                and_(
                    MeetingRequest.status == RequestStatus.closed.value,
                    func.coalesce(closed_at, MeetingRequest.created_at) < cutoff,
                ),
                and_(MeetingRequest.status == RequestStatus.scheduled.value, met_at < cutoff),
            ),
        )
    )
    return list(rows.all())


async def matching_requests(
    session: AsyncSession,
    centre_id: uuid.UUID,
    *,
    email: str | None = None,
    phones: Sequence[str] = (),
    reference: str | None = None,
    appointment_ids: Collection[uuid.UUID] = (),
) -> list[MeetingRequest]:
    """The centre's requests (not erased) with this e-mail address, phone number or
    reference, or linked to these appointments; the oldest first."""
    found: list[ColumnElement[bool]] = []
    if email:
        found.append(func.lower(MeetingRequest.email) == email.lower())
    if phones:
        found.append(MeetingRequest.phone.in_(list(phones)))
    if reference:
        found.append(MeetingRequest.reference == reference)
    if appointment_ids:
        found.append(MeetingRequest.appointment_id.in_(list(appointment_ids)))
    rows = await session.scalars(
        select(MeetingRequest)
        .where(MeetingRequest.centre_id == centre_id, NOT_ERASED, or_(false(), *found))
        .order_by(MeetingRequest.created_at, MeetingRequest.id)
        .execution_options(populate_existing=True)
    )
    return list(rows.all())
