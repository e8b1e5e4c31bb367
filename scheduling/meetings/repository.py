"""The queries of meeting requests, and the names their console pages show."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import any_, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from clb.auth.models import Role, StaffAccount
from clb.org.models import School
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
