"""Retention of face-to-face requests: ``retention_request_months`` after a request was
closed (or after the appointment it was scheduled into), the person's data goes and what
the statistics count stays."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clb.auth.models import StaffAccount
from clb.db import months_before, transaction, utcnow
from clb.org.models import School
from clb.services import Services
from composition.tasks import PERIODIC_JOBS
from scheduling.meetings import service as meeting_requests
from scheduling.meetings.models import MeetingRequest, MeetingRequestEvent
from scheduling.meetings.tasks import REQUEST_RETENTION, erase_finished_requests
from tests.conftest import make_staff
from tests.scheduling.meeting_pages_support import file_directly
from tests.scheduling.retention_support import aged_appointment

KEPT = ("id", "reference", "centre_id", "school_id", "for_whom", "requester_relation", "status")


async def _closed_at(
    services: Services, school: School, staff_email: str, closed: datetime
) -> uuid.UUID:
    request_id, _ = await file_directly(services, school.id, closed - timedelta(days=5))
    async with transaction(services.sessionmaker) as session:
        staff = await session.scalar(select(StaffAccount).where(StaffAccount.email == staff_email))
        assert staff is not None
        await meeting_requests.close(
            session, request_id, staff, "Zelf opgelost", now=closed, services=services
        )
    return request_id


async def test_requests_closed_past_the_period_lose_the_person(
    services: Services, db: AsyncSession
) -> None:
    staff = await make_staff(db, roles=("counsellor", "coordinator"))
    school = await db.scalar(select(School).where(School.centre_id == staff.centre_id))
    assert school is not None
    start = months_before(utcnow(), services.settings.retention_request_months)
    old = await _closed_at(services, school, staff.email, start - timedelta(days=1))
    recent = await _closed_at(services, school, staff.email, start + timedelta(days=1))
    still_open, _ = await file_directly(services, school.id, start - timedelta(days=60))
    scheduled, _ = await file_directly(services, school.id, start - timedelta(days=60))
    met = await aged_appointment(db, staff, school, start - timedelta(days=30))
    await db.execute(
        update(MeetingRequest)
        .where(MeetingRequest.id == scheduled)
        .values(status="scheduled", appointment_id=met.id)
    )
    await db.commit()
    before = {
        r.id: tuple(getattr(r, k) for k in KEPT) for r in await db.scalars(select(MeetingRequest))
    }

    assert await erase_finished_requests({"services": services}) == 2
    assert await erase_finished_requests({"services": services}) == 0

    db.expire_all()
    rows = {r.id: r for r in await db.scalars(select(MeetingRequest))}
    assert {i: tuple(getattr(r, k) for k in KEPT) for i, r in rows.items()} == before
    for erased in (old, scheduled):
        row = rows[erased]
        assert row.first_name == "" and row.requester_name == ""
        assert row.phone is None and row.email == "" and row.need == ""
        assert row.close_reason is None and len(row.status_token_hash) == 32
    for untouched in (recent, still_open):
        assert rows[untouched].first_name == "Yasmina" and rows[untouched].phone == "0470123456"
    assert rows[recent].close_reason == "Zelf opgelost"
    notes = {
        e.request_id: e.note
        for e in await db.scalars(
            select(MeetingRequestEvent).where(MeetingRequestEvent.to_status == "closed")
        )
    }
    assert notes == {old: "", recent: "Zelf opgelost"}


def test_the_worker_runs_request_retention_nightly() -> None:
    assert REQUEST_RETENTION in PERIODIC_JOBS
