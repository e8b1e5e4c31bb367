"""Loading what the slot function needs, in a few set-based queries."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import orjson
from sqlalchemy import (
    ARRAY,
    Date,
    DateTime,
    String,
    Uuid,
    and_,
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
from scheduling.models import (
    Appointment,
    AppointmentType,
    AvailabilityRule,
    BookingPolicy,
    ClosedPeriod,
    Status,
)
from scheduling.slots import (
    BRUSSELS,
    Busy,
    CounsellorCalendar,
    DayHours,
    WeeklyHours,
    local_instant,
)

ACTIVE = (Status.confirmed.value, Status.no_show.value)
SCHOOL_MATCHES = 25


@dataclass(frozen=True)
class SchoolMatch:
    id: uuid.UUID
    name: str
    municipality: str
    centre_id: uuid.UUID
    centre_name: str


async def search_schools(
    session: AsyncSession, query: str, *, limit: int = SCHOOL_MATCHES
) -> list[SchoolMatch]:
    """Schools whose name or municipality contains ``query`` (the school decides the CLB)."""
    pattern = "%" + query.strip().replace("%", "").replace("_", "") + "%"
    rows = await session.execute(
        select(School, Centre.name)
        .join(Centre, Centre.id == School.centre_id)
        .where(or_(School.name.ilike(pattern), School.municipality.ilike(pattern)))
        .order_by(School.name)
        .limit(limit)
    )
    return [
        SchoolMatch(school.id, school.name, school.municipality, school.centre_id, centre_name)
        for school, centre_name in rows
    ]


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


# One round trip for all four parts (this runs on every booking and every slot listing):
# each part as a JSON array, with the counsellor's id in every element.
_CALENDARS_SQL = text(
    """
    SELECT
      (SELECT json_agg(json_build_object('c', counsellor_id, 'w', weekday, 's', starts_at,
                                         'e', ends_at, 'm', modes, 'l', location_id))
         FROM availability_rules WHERE counsellor_id = ANY(:ids)),
      (SELECT json_agg(json_build_object('c', counsellor_id, 'd', day, 's', starts_at,
                                         'e', ends_at, 'm', modes, 'l', location_id))
         FROM availability_overrides
        WHERE counsellor_id = ANY(:ids) AND day BETWEEN :first AND :last),
      (SELECT json_agg(json_build_object('c', counsellor_id, 'n', min_notice_working_days,
                                         'h', horizon_days, 'x', max_per_day))
         FROM booking_policies WHERE counsellor_id = ANY(:ids)),
      (SELECT json_agg(json_build_object('c', counsellor_id, 'f', blocked_from,
                                         'u', blocked_until, 's', starts_at))
         FROM appointments
        WHERE counsellor_id = ANY(:ids) AND status IN ('confirmed', 'no_show')
          AND blocked_until > :range_start AND blocked_from < :range_end
          AND id IS DISTINCT FROM :ignore)
    """
).bindparams(
    bindparam("ids", type_=ARRAY(Uuid())),
    bindparam("first", type_=Date()),
    bindparam("last", type_=Date()),
    bindparam("range_start", type_=DateTime(timezone=True)),
    bindparam("range_end", type_=DateTime(timezone=True)),
    bindparam("ignore", type_=Uuid()),
)


def _json_rows(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    rows: list[dict[str, Any]] = orjson.loads(value) if isinstance(value, str | bytes) else value
    return rows


def _time(value: str | None) -> time | None:
    return time.fromisoformat(value) if value is not None else None


def _location(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(value) if value else None


async def load_calendars(
    session: AsyncSession,
    counsellor_ids: list[uuid.UUID],
    first: date,
    last: date,
    *,
    ignore_appointment: uuid.UUID | None = None,
) -> list[CounsellorCalendar]:
    """Weekly hours, overrides, policy, busy times and per-day counts for these counsellors
    over local dates ``first``..``last`` (busy times one day wider, for buffers at
    midnight)."""
    if not counsellor_ids:
        return []
    calendars = {cid: CounsellorCalendar(cid, weekly=[]) for cid in counsellor_ids}
    rules, overrides, policies, busy = (
        await session.execute(
            _CALENDARS_SQL,
            {
                "ids": counsellor_ids,
                "first": first,
                "last": last,
                "range_start": local_instant(first - timedelta(days=1), time()),
                "range_end": local_instant(last + timedelta(days=2), time()),
                "ignore": ignore_appointment,
            },
        )
    ).one()
    weekly: dict[uuid.UUID, list[WeeklyHours]] = defaultdict(list)
    for row in _json_rows(rules):
        weekly[uuid.UUID(row["c"])].append(
            WeeklyHours(
                row["w"],
                time.fromisoformat(row["s"]),
                time.fromisoformat(row["e"]),
                frozenset(row["m"]),
                _location(row["l"]),
            )
        )
    days: dict[uuid.UUID, list[DayHours]] = defaultdict(list)
    for row in _json_rows(overrides):
        days[uuid.UUID(row["c"])].append(
            DayHours(
                date.fromisoformat(row["d"]),
                _time(row["s"]),
                _time(row["e"]),
                frozenset(row["m"]),
                _location(row["l"]),
            )
        )
    for row in _json_rows(policies):
        calendar = calendars[uuid.UUID(row["c"])]
        calendar.min_notice_working_days = row["n"]
        calendar.horizon_days = row["h"]
        calendar.max_per_day = row["x"]
    taken: dict[uuid.UUID, list[Busy]] = defaultdict(list)
    for row in _json_rows(busy):
        cid = uuid.UUID(row["c"])
        taken[cid].append(Busy(datetime.fromisoformat(row["f"]), datetime.fromisoformat(row["u"])))
        per_day = calendars[cid].booked_per_day
        day = datetime.fromisoformat(row["s"]).astimezone(BRUSSELS).date()
        per_day[day] = per_day.get(day, 0) + 1
    for cid, calendar in calendars.items():
        calendar.weekly, calendar.overrides, calendar.busy = weekly[cid], days[cid], taken[cid]
    return [calendars[cid] for cid in counsellor_ids]


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
    video_url: str | None


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
            BookingPolicy.video_url,
        )
        .select_from(Appointment)
        .join(Centre, Centre.id == Appointment.centre_id)
        .join(School, School.id == Appointment.school_id)
        .join(AppointmentType, AppointmentType.id == Appointment.type_id)
        .join(StaffAccount, StaffAccount.id == Appointment.counsellor_id)
        .outerjoin(Location, Location.id == Appointment.location_id)
        .outerjoin(BookingPolicy, BookingPolicy.counsellor_id == Appointment.counsellor_id)
        .where(Appointment.id.in_(appointment_ids))
    )
    found: dict[uuid.UUID, Details] = {}
    for row in rows:
        address = f"{row[8]}, {row[9]} {row[10]}" if row[8] else None
        found[row[0]] = Details(
            row[1], row[2], row[3], row[4], row[5], row[6], row[7], address, row[11]
        )
    return found


@dataclass(frozen=True)
class BookingContext:
    school: School
    centre_name: str
    kind: AppointmentType | None  # None: no active type with that slug
    counsellor_name: str | None  # None: not an active staff member of the school's centre


async def booking_context(
    session: AsyncSession, school_id: uuid.UUID, type_slug: str, counsellor_id: uuid.UUID
) -> BookingContext | None:
    """Everything a booking checks before the slot, in one query; None: unknown school."""
    row = (
        await session.execute(
            select(School, Centre.name, AppointmentType, StaffAccount.display_name)
            .join(Centre, Centre.id == School.centre_id)
            .outerjoin(
                AppointmentType,
                and_(AppointmentType.slug == type_slug, AppointmentType.is_active.is_(True)),
            )
            .outerjoin(
                StaffAccount,
                and_(
                    StaffAccount.id == counsellor_id,
                    StaffAccount.centre_id == School.centre_id,
                    StaffAccount.is_active.is_(True),
                ),
            )
            .where(School.id == school_id)
        )
    ).first()
    if row is None:
        return None
    return BookingContext(row[0], row[1], row[2], row[3])
