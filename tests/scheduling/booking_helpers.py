"""Helpers for the booking-guarantee tests: open dates, row counts, error shapes."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clb.auth.models import StaffAccount
from clb.db import utcnow
from clb.jobs import OutboxJob
from clb.org.models import School
from scheduling.appointments import repository
from scheduling.appointments.models import Appointment
from scheduling.availability.slots import is_working_day, local_day, local_instant
from tests.scheduling.support import bookable_counsellor


async def open_day(
    session: AsyncSession,
    centre_id: uuid.UUID,
    *,
    weekday: int | None = None,
    after: date | None = None,
) -> date:
    """The first working day at least two days from now (and after ``after``) that no closed
    period of the centre covers, optionally on ``weekday``: tests do not fail in the
    Christmas holidays or on a public holiday."""
    day = max(local_day(utcnow()) + timedelta(days=2), (after or date.min) + timedelta(days=1))
    while True:
        if (
            (weekday is None or day.weekday() == weekday)
            and is_working_day(day)
            and not await repository.closed_days(session, centre_id, day, day)
        ):
            return day
        day += timedelta(days=1)


# Bypassing the service (as a faulty code path or a manual fix might): a copy of appointment
# $1 for counsellor $2 (NULL: the same) from $3 to $4 with status $5, written straight into
# the table, without the (counsellor, day) lock.
COPY_BYPASSING_SERVICE = """
    INSERT INTO appointments (
        id, counsellor_id, centre_id, school_id, type_id, mode, location_id,
        starts_at, ends_at, blocked_from, blocked_until, status, first_name, email, phone,
        language, topic, manage_token_generation, manage_token_hash, sequence,
        counsellor_note, cancel_reason, created_at, updated_at)
    SELECT gen_random_uuid(), coalesce($2, counsellor_id), centre_id, school_id, type_id,
        mode, location_id, $3, $4, $3, $4, $5, first_name, email, phone, language, topic,
        0, md5(random()::text), 0, '', '', now(), now()
    FROM appointments WHERE id = $1
"""


async def counsellor_with_open_day(
    session: AsyncSession, **options: Any
) -> tuple[StaffAccount, School, date]:
    """A bookable counsellor (``options`` as for :func:`bookable_counsellor`), a school of
    the centre, and the centre's next open day: where a booking test starts."""
    staff, school = await bookable_counsellor(session, **options)
    return staff, school, await open_day(session, school.centre_id)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A Brussels clock time on ``day`` as a UTC instant."""
    return local_instant(day, time(hour, minute))


async def count(session: AsyncSession, model: type[Appointment] | type[OutboxJob]) -> int:
    # End the read transaction (commit keeps loaded objects usable, a rollback would expire
    # them): the count sees what other sessions committed.
    await session.commit()
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def error_of(body: dict[str, Any]) -> dict[str, Any]:
    error = body["error"]
    assert isinstance(error, dict)
    return error


def field_named(error: dict[str, Any]) -> str:
    """The form field an error points at: ``details.field`` (the booking service's own
    errors) or the one entry of ``details.fields`` (request validation by FastAPI)."""
    details = error.get("details") or {}
    if "field" in details:
        return str(details["field"])
    fields = details.get("fields") or []
    assert len(fields) == 1, fields
    return str(fields[0]["field"])
