"""The availability queries: counsellors' calendars for the slot function, their weekly
hours, date overrides and booking policy, closed periods and the centre's locations."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

import orjson
from sqlalchemy import (
    ARRAY,
    Date,
    DateTime,
    Uuid,
    bindparam,
    delete,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from clb.org.models import Location
from scheduling.appointments.models import Appointment, Status
from scheduling.availability.models import (
    AvailabilityOverride,
    AvailabilityRule,
    BookingPolicy,
    ClosedPeriod,
)
from scheduling.availability.slots import (
    BRUSSELS,
    Busy,
    CounsellorCalendar,
    DayHours,
    WeeklyHours,
    local_instant,
)

# The same values scheduling.availability.slots assumes for a counsellor without a policy row.
DEFAULT_MIN_NOTICE_WORKING_DAYS = 1
DEFAULT_HORIZON_DAYS = 42
DEFAULT_MAX_PER_DAY = 6


# --- Calendars for the slot function -----------------------------------------------------


# The four parts of a calendar as JSON arrays, each element carrying its counsellor's id:
# one round trip for all of them (this runs on every booking and every slot listing). Busy
# times are asked in the terms of the no-overlap constraint's GiST index (counsellor,
# blocked range, not cancelled), so only the rows in range are read, not every appointment
# the counsellor ever had. Written once with the counsellor test and the dates as holes:
# bind parameters for a listing, the columns of a booking's row for a batch of bookings.
def calendar_parts(counsellor: str, first: str, last: str, since: str, until: str) -> str:
    return f"""
      (SELECT json_agg(json_build_object('c', counsellor_id, 'w', weekday, 's', starts_at,
                                         'e', ends_at, 'm', modes, 'l', location_id))
         FROM availability_rules WHERE counsellor_id {counsellor}) AS rules,
      (SELECT json_agg(json_build_object('c', counsellor_id, 'd', day, 's', starts_at,
                                         'e', ends_at, 'm', modes, 'l', location_id))
         FROM availability_overrides
        WHERE counsellor_id {counsellor} AND day BETWEEN {first} AND {last}) AS overrides,
      (SELECT json_agg(json_build_object('c', counsellor_id, 'n', min_notice_working_days,
                                         'h', horizon_days, 'x', max_per_day))
         FROM booking_policies WHERE counsellor_id {counsellor}) AS policies,
      (SELECT json_agg(json_build_object('c', counsellor_id, 'f', blocked_from,
                                         'u', blocked_until, 's', starts_at))
         FROM appointments
        WHERE counsellor_id {counsellor} AND status <> 'cancelled'
          AND tstzrange(blocked_from, blocked_until, '[)') && tstzrange({since}, {until}, '[)')
          AND id IS DISTINCT FROM :ignore) AS busy
"""  # noqa: S608 - the holes are filled from constants of this module and its callers only


_CALENDAR_BINDS = (
    bindparam("ids", type_=ARRAY(Uuid())),
    bindparam("first", type_=Date()),
    bindparam("last", type_=Date()),
    bindparam("range_start", type_=DateTime(timezone=True)),
    bindparam("range_end", type_=DateTime(timezone=True)),
    bindparam("ignore", type_=Uuid()),
)
_CALENDARS_SQL = text(
    "SELECT" + calendar_parts("= ANY(:ids)", ":first", ":last", ":range_start", ":range_end")
).bindparams(*_CALENDAR_BINDS)


def _calendar_params(
    counsellor_ids: list[uuid.UUID], first: date, last: date, ignore: uuid.UUID | None
) -> dict[str, Any]:
    # Busy times one day wider than the dates, for buffers at midnight.
    return {
        "ids": counsellor_ids,
        "first": first,
        "last": last,
        "range_start": local_instant(first - timedelta(days=1), time()),
        "range_end": local_instant(last + timedelta(days=2), time()),
        "ignore": ignore,
    }


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
    over local dates ``first``..``last``."""
    if not counsellor_ids:
        return []
    params = _calendar_params(counsellor_ids, first, last, ignore_appointment)
    parts = (await session.execute(_CALENDARS_SQL, params)).one()
    return calendars_from(counsellor_ids, *parts)


def calendars_from(
    counsellor_ids: list[uuid.UUID], rules: Any, overrides: Any, policies: Any, busy: Any
) -> list[CounsellorCalendar]:
    """The calendars of the four JSON parts of ``calendar_parts``, in ``counsellor_ids``' order."""
    calendars = {cid: CounsellorCalendar(cid, weekly=[]) for cid in counsellor_ids}
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


# --- Weekly hours and date overrides -----------------------------------------------------


async def lock_availability(session: AsyncSession, counsellor_id: uuid.UUID) -> None:
    """Serialise changes to one counsellor's hours (two tabs saving at once)."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"availability:{counsellor_id}"},
    )


async def weekly_rules(session: AsyncSession, counsellor_id: uuid.UUID) -> list[AvailabilityRule]:
    rows = await session.scalars(
        select(AvailabilityRule)
        .where(AvailabilityRule.counsellor_id == counsellor_id)
        .order_by(AvailabilityRule.weekday, AvailabilityRule.starts_at, AvailabilityRule.id)
    )
    return list(rows)


async def delete_weekly_rules(session: AsyncSession, counsellor_id: uuid.UUID) -> None:
    await session.execute(
        delete(AvailabilityRule).where(AvailabilityRule.counsellor_id == counsellor_id)
    )


async def upcoming_overrides(
    session: AsyncSession, counsellor_id: uuid.UUID, since: date
) -> list[AvailabilityOverride]:
    rows = await session.scalars(
        select(AvailabilityOverride)
        .where(
            AvailabilityOverride.counsellor_id == counsellor_id, AvailabilityOverride.day >= since
        )
        .order_by(AvailabilityOverride.day, AvailabilityOverride.starts_at.nulls_first())
    )
    return list(rows)


async def overrides_on(
    session: AsyncSession, counsellor_id: uuid.UUID, day: date
) -> list[AvailabilityOverride]:
    rows = await session.scalars(
        select(AvailabilityOverride).where(
            AvailabilityOverride.counsellor_id == counsellor_id,
            AvailabilityOverride.day == day,
        )
    )
    return list(rows)


async def delete_override(
    session: AsyncSession, counsellor_id: uuid.UUID, override_id: int
) -> bool:
    """False: the counsellor has no such override."""
    deleted = await session.execute(
        delete(AvailabilityOverride)
        .where(
            AvailabilityOverride.id == override_id,
            AvailabilityOverride.counsellor_id == counsellor_id,
        )
        .returning(AvailabilityOverride.id)
    )
    return deleted.first() is not None


async def centre_locations(session: AsyncSession, centre_id: uuid.UUID) -> list[Location]:
    rows = await session.scalars(
        select(Location).where(Location.centre_id == centre_id).order_by(Location.name, Location.id)
    )
    return list(rows)


# --- Booking policy ----------------------------------------------------------------------


async def ensure_policy(
    session: AsyncSession, counsellor_id: uuid.UUID, *, lock: bool = False
) -> BookingPolicy:
    """The counsellor's policy, inserted with the defaults if missing (safe when two
    requests do this at once); ``lock`` holds the row until the transaction ends."""
    await session.execute(
        insert(BookingPolicy)
        .values(
            counsellor_id=counsellor_id,
            min_notice_working_days=DEFAULT_MIN_NOTICE_WORKING_DAYS,
            horizon_days=DEFAULT_HORIZON_DAYS,
            max_per_day=DEFAULT_MAX_PER_DAY,
            feed_token_generation=0,
        )
        .on_conflict_do_nothing(index_elements=[BookingPolicy.counsellor_id])
    )
    query = select(BookingPolicy).where(BookingPolicy.counsellor_id == counsellor_id)
    if lock:
        query = query.with_for_update()
    return (await session.scalars(query.execution_options(populate_existing=True))).one()


async def policy_by_feed_hash(session: AsyncSession, token_hash: str) -> BookingPolicy | None:
    return await session.scalar(
        select(BookingPolicy).where(BookingPolicy.feed_token_hash == token_hash)
    )


# --- Closed periods ----------------------------------------------------------------------


async def periods_for_centre(
    session: AsyncSession, centre_id: uuid.UUID, *, since: date
) -> list[ClosedPeriod]:
    """The centre's own periods and those of every centre, ending on or after ``since``."""
    rows = await session.scalars(
        select(ClosedPeriod)
        .where(
            or_(ClosedPeriod.centre_id == centre_id, ClosedPeriod.centre_id.is_(None)),
            ClosedPeriod.last_day >= since,
        )
        .order_by(ClosedPeriod.first_day, ClosedPeriod.last_day, ClosedPeriod.id)
    )
    return list(rows)


async def confirmed_between(
    session: AsyncSession, first_day: date, last_day: date, centre_id: uuid.UUID | None
) -> int:
    """How many confirmed appointments start on these local days (of one centre, or of
    every centre for None)."""
    query = select(func.count()).where(
        Appointment.status == Status.confirmed.value,
        Appointment.starts_at >= local_instant(first_day, time()),
        Appointment.starts_at < local_instant(last_day + timedelta(days=1), time()),
    )
    if centre_id is not None:
        query = query.where(Appointment.centre_id == centre_id)
    return int(await session.scalar(query) or 0)
