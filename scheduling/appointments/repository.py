"""The appointments' queries: what the booking pages and the slot function need, in a few
set-based queries, and the booking's own statements (its locks, its one read, its INSERT)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import orjson
from sqlalchemy import (
    ARRAY,
    Date,
    String,
    Uuid,
    bindparam,
    func,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

from clb.auth.models import Role, StaffAccount
from clb.org.models import Centre, Location, School
from scheduling.appointments.models import Appointment, AppointmentNotification, AppointmentType
from scheduling.availability.models import AvailabilityRule, ClosedPeriod
from scheduling.availability.repository import calendar_parts, calendars_from
from scheduling.availability.slots import CounsellorCalendar

SCHOOL_MATCHES = 25


@dataclass(frozen=True)
class SchoolMatch:
    id: uuid.UUID
    name: str
    municipality: str
    centre_id: uuid.UUID
    centre_name: str


async def school_and_centre(
    session: AsyncSession, school_id: uuid.UUID
) -> tuple[School, Centre] | None:
    row = (
        await session.execute(
            select(School, Centre)
            .join(Centre, Centre.id == School.centre_id)
            .where(School.id == school_id)
        )
    ).one_or_none()
    return (row[0], row[1]) if row is not None else None


async def location_names(
    session: AsyncSession, location_ids: set[uuid.UUID]
) -> dict[uuid.UUID, str]:
    if not location_ids:
        return {}
    rows = await session.execute(
        select(Location.id, Location.name).where(Location.id.in_(location_ids))
    )
    return {location_id: name for location_id, name in rows}


async def bookable_counsellors(session: AsyncSession, centre_id: uuid.UUID) -> list[uuid.UUID]:
    """Active counsellors of the centre who have weekly hours."""
    rows = await session.scalars(
        select(StaffAccount.id)
        .where(
            StaffAccount.centre_id == centre_id,
            StaffAccount.is_active.is_(True),
            StaffAccount.roles.op("@>")(literal([Role.counsellor.value], ARRAY(String))),
            select(AvailabilityRule.id)
            .where(AvailabilityRule.counsellor_id == StaffAccount.id)
            .exists(),
        )
        .order_by(StaffAccount.id)
    )
    return list(rows)


async def closed_days(
    session: AsyncSession, centre_id: uuid.UUID, first: date, last: date
) -> frozenset[date]:
    rows = await session.execute(
        select(ClosedPeriod.first_day, ClosedPeriod.last_day).where(
            or_(ClosedPeriod.centre_id == centre_id, ClosedPeriod.centre_id.is_(None)),
            ClosedPeriod.first_day <= last,
            ClosedPeriod.last_day >= first,
        )
    )
    days: set[date] = set()
    for start, end in rows:
        day = max(start, first)
        while day <= min(end, last):
            days.add(day)
            day += timedelta(days=1)
    return frozenset(days)


async def active_types(session: AsyncSession) -> list[AppointmentType]:
    rows = await session.scalars(
        select(AppointmentType)
        .where(AppointmentType.is_active.is_(True))
        .order_by(AppointmentType.sort_order, AppointmentType.id)
    )
    return list(rows)


async def type_by_slug(session: AsyncSession, slug: str) -> AppointmentType | None:
    return await session.scalar(
        select(AppointmentType).where(
            AppointmentType.slug == slug, AppointmentType.is_active.is_(True)
        )
    )


async def offered_modes(session: AsyncSession, centre_id: uuid.UUID) -> set[str]:
    """The modes some counsellor of the centre offers in their weekly hours."""
    rows = await session.scalars(
        select(func.unnest(AvailabilityRule.modes))
        .join(StaffAccount, StaffAccount.id == AvailabilityRule.counsellor_id)
        .where(StaffAccount.centre_id == centre_id, StaffAccount.is_active.is_(True))
        .distinct()
    )
    return set(rows)


async def by_manage_hash(session: AsyncSession, token_hash: str) -> Appointment | None:
    return await session.scalar(
        select(Appointment).where(Appointment.manage_token_hash == token_hash)
    )


async def lock_appointment(session: AsyncSession, appointment_id: uuid.UUID) -> Appointment | None:
    # FOR NO KEY UPDATE: it serialises changes to the appointment but, unlike FOR UPDATE,
    # lets a worker record a sent message meanwhile (the foreign key check's KEY SHARE).
    return await session.scalar(
        select(Appointment).where(Appointment.id == appointment_id).with_for_update(key_share=True)
    )


@dataclass(frozen=True)
class Details:
    """What people are told about an appointment besides its own columns."""

    centre_name: str
    centre_phone: str | None
    centre_email: str | None
    school_name: str
    type_name: str
    counsellor_name: str  # the display name (first name or alias)
    location_name: str | None
    location_address: str | None


async def details(session: AsyncSession, appointment: Appointment) -> Details:
    return (await details_for(session, [appointment.id]))[appointment.id]


async def details_for(
    session: AsyncSession, appointment_ids: list[uuid.UUID]
) -> dict[uuid.UUID, Details]:
    """The details of many appointments in one query."""
    if not appointment_ids:
        return {}
    rows = await session.execute(
        select(
            Appointment.id,
            Centre.name,
            Centre.phone,
            Centre.email,
            School.name,
            AppointmentType.name,
            StaffAccount.display_name,
            Location.name,
            Location.street,
            Location.postcode,
            Location.municipality,
        )
        .select_from(Appointment)
        .join(Centre, Centre.id == Appointment.centre_id)
        .join(School, School.id == Appointment.school_id)
        .join(AppointmentType, AppointmentType.id == Appointment.type_id)
        .join(StaffAccount, StaffAccount.id == Appointment.counsellor_id)
        .outerjoin(Location, Location.id == Appointment.location_id)
        .where(Appointment.id.in_(appointment_ids))
    )
    found: dict[uuid.UUID, Details] = {}
    for row in rows:
        address = f"{row[8]}, {row[9]} {row[10]}" if row[8] else None
        found[row[0]] = Details(row[1], row[2], row[3], row[4], row[5], row[6], row[7], address)
    return found


@dataclass(frozen=True)
class BookingSnapshot:
    """Everything a booking checks, read under its (counsellor, day) lock."""

    centre_id: uuid.UUID
    centre_name: str
    kind: AppointmentType | None  # None: no active type with that slug
    counsellor_name: str | None  # None: not an active staff member of the school's centre
    calendar: CounsellorCalendar  # the counsellor's, for the day
    closed_days: frozenset[date]  # the day, if the centre is closed then


@dataclass(frozen=True)
class Wanted:
    """What a booking asks for, as far as the snapshot is concerned."""

    school_id: uuid.UUID
    type_slug: str
    counsellor_id: uuid.UUID
    day: date


# Per wanted booking: school, centre, type, counsellor, the counsellor's calendar for the
# day and whether the centre is closed: the one read of a batch of bookings, a row per
# booking in their order (a text statement: this is the hot path). Busy times one day
# wider than the day, for buffers at midnight, as in availability.repository.
_SNAPSHOTS_SQL = text(
    """
    SELECT s.centre_id, c.name, t.id, t.name, t.duration_minutes, t.buffer_before_minutes,
           t.buffer_after_minutes, staff.display_name,
           EXISTS (SELECT 1 FROM closed_periods p
                    WHERE (p.centre_id = s.centre_id OR p.centre_id IS NULL)
                      AND p.first_day <= w.day AND p.last_day >= w.day) AS closed,"""  # noqa: S608
    + calendar_parts(
        "= w.counsellor",
        "w.day",
        "w.day",
        "CAST(w.day - 1 AS timestamp) AT TIME ZONE 'Europe/Brussels'",
        "CAST(w.day + 2 AS timestamp) AT TIME ZONE 'Europe/Brussels'",
    )
    + """
      FROM unnest(CAST(:schools AS uuid[]), CAST(:types AS text[]),
                  CAST(:counsellors AS uuid[]), CAST(:days AS date[]))
           WITH ORDINALITY AS w(school, type_slug, counsellor, day, i)
      LEFT JOIN schools s ON s.id = w.school
      LEFT JOIN centres c ON c.id = s.centre_id
      LEFT JOIN appointment_types t ON t.slug = w.type_slug AND t.is_active
      LEFT JOIN staff_accounts staff
        ON staff.id = w.counsellor AND staff.centre_id = s.centre_id AND staff.is_active
     ORDER BY w.i
    """
).bindparams(
    bindparam("schools", type_=ARRAY(Uuid())),
    bindparam("types", type_=ARRAY(String())),
    bindparam("counsellors", type_=ARRAY(Uuid())),
    bindparam("days", type_=ARRAY(Date())),
    bindparam("ignore", type_=Uuid()),
)


async def booking_snapshots(
    session: AsyncSession, wanted: Sequence[Wanted]
) -> list[BookingSnapshot | None]:
    """One snapshot per wanted booking, in order; None: unknown school."""
    params = {
        "schools": [w.school_id for w in wanted],
        "types": [w.type_slug for w in wanted],
        "counsellors": [w.counsellor_id for w in wanted],
        "days": [w.day for w in wanted],
        "ignore": None,
    }
    rows = (await session.execute(_SNAPSHOTS_SQL, params)).all()
    return [_snapshot(w, row) for w, row in zip(wanted, rows, strict=True)]


def _snapshot(wanted: Wanted, row: Any) -> BookingSnapshot | None:
    if row[0] is None:
        return None
    kind = None
    if row[2] is not None:
        kind = AppointmentType(
            id=row[2],
            slug=wanted.type_slug,
            name=row[3],
            duration_minutes=row[4],
            buffer_before_minutes=row[5],
            buffer_after_minutes=row[6],
        )
    [calendar] = calendars_from([wanted.counsellor_id], *row[9:])
    closed = frozenset({wanted.day}) if row[8] else frozenset()
    return BookingSnapshot(row[0], row[1], kind, row[7], calendar, closed)


_LOCKS = text(
    "SELECT pg_advisory_xact_lock(hashtextextended(key, 0))"
    " FROM unnest(CAST(:keys AS text[])) AS key"
).bindparams(bindparam("keys", type_=ARRAY(String())))


async def take_locks(session: AsyncSession, keys: Sequence[str]) -> None:
    """Transaction-level advisory locks, always taken in sorted order: two transactions
    that each need several can never wait for each other in a circle."""
    await session.execute(_LOCKS, {"keys": sorted(set(keys))})


async def by_idempotency_hashes(session: AsyncSession, hashes: list[str]) -> list[Appointment]:
    rows = await session.scalars(
        select(Appointment).where(Appointment.idempotency_key_hash.in_(hashes))
    )
    return list(rows)


# The appointments' INSERT, written once from the table's columns: any number of rows as
# one JSON parameter, without the unit of work or a statement compilation per request.
_APPOINTMENT_COLUMNS = tuple(column.key for column in Appointment.__table__.columns)
_COLUMN_LIST = ", ".join(_APPOINTMENT_COLUMNS)
_INSERT_APPOINTMENTS = text(
    f"INSERT INTO appointments ({_COLUMN_LIST}) SELECT {_COLUMN_LIST} "  # noqa: S608 - the model's
    "FROM jsonb_populate_recordset(CAST(NULL AS appointments), CAST(:rows AS jsonb))"
)


async def insert_appointments(session: AsyncSession, appointments: list[Appointment]) -> None:
    rows = [{name: getattr(a, name) for name in _APPOINTMENT_COLUMNS} for a in appointments]
    # default=str: ids read from the database are asyncpg's own UUID type.
    encoded = orjson.dumps(rows, default=str).decode()
    await session.execute(_INSERT_APPOINTMENTS, {"rows": encoded})


async def appointment_by_id(session: AsyncSession, appointment_id: uuid.UUID) -> Appointment | None:
    """A plain read of the row (no lock, and not the session's cached copy)."""
    return await session.scalar(select(Appointment).where(Appointment.id == appointment_id))


async def channels_sent_by_job(session: AsyncSession, job_id: int) -> set[str]:
    """The channels an outbox job already sent its message through (for a retry)."""
    rows = await session.scalars(
        select(AppointmentNotification.channel).where(AppointmentNotification.job_id == job_id)
    )
    return set(rows)


async def is_active_staff_of_centre(
    session: AsyncSession, staff_id: uuid.UUID, centre_id: uuid.UUID
) -> bool:
    found = await session.scalar(
        select(StaffAccount.id).where(
            StaffAccount.id == staff_id,
            StaffAccount.centre_id == centre_id,
            StaffAccount.is_active.is_(True),
        )
    )
    return found is not None
