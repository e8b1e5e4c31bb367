"""A counsellor's own availability: weekly hours, date overrides and booking policy.

Everything typed is checked first and every problem is named next to its field; only a
fully valid form is saved, in one go (the weekly hours replace the old ones as a whole).
Changes of one counsellor are serialised by an advisory lock, so two browser tabs saving
at once cannot leave overlapping periods behind.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date, time, timedelta

import holidays
from sqlalchemy.ext.asyncio import AsyncSession

from clb import i18n
from clb.errors import NotFound
from clb.i18n import gettext as _
from clb.web.forms import parse_day
from scheduling.appointments.models import Mode
from scheduling.availability import repository
from scheduling.availability.models import AvailabilityOverride, AvailabilityRule
from scheduling.availability.slots import (
    DayHours,
    WeeklyHours,
    is_public_holiday,
    public_holiday_name,
)

MODES = tuple(mode.value for mode in Mode)
MAX_WEEKLY_ROWS = 40
MAX_NOTE = 200
_TIME = re.compile(r"^([01]?\d|2[0-3])[:.hu]([0-5]\d)(?::[0-5]\d)?$")

Errors = dict[str, str]


@dataclass
class PeriodInput:
    """One period as typed (strings, so a refused form shows exactly what was typed)."""

    starts_at: str = ""
    ends_at: str = ""
    modes: list[str] = field(default_factory=list)
    location: str = ""
    weekday: str = ""  # weekly rows only

    @property
    def blank(self) -> bool:
        return not self.starts_at.strip() and not self.ends_at.strip()


@dataclass(frozen=True)
class Period:
    starts_at: time
    ends_at: time
    modes: frozenset[str]
    location_id: uuid.UUID | None


def parse_time(value: str) -> time | None:
    match = _TIME.match(value.strip().lower())
    return time(int(match.group(1)), int(match.group(2))) if match else None


def hhmm(value: time | None) -> str:
    return value.strftime("%H:%M") if value else ""


def check_period(
    typed: PeriodInput, locations: set[uuid.UUID], errors: Errors, prefix: str
) -> Period | None:
    """The period, or None with its problems added to ``errors`` under ``prefix + field``."""
    found = len(errors)
    starts, ends = parse_time(typed.starts_at), parse_time(typed.ends_at)
    if not typed.starts_at.strip():
        errors[prefix + "starts_at"] = _("Vul een beginuur in.")
    elif starts is None:
        errors[prefix + "starts_at"] = _("Vul een geldig uur in, bijvoorbeeld 09:00.")
    if not typed.ends_at.strip():
        errors[prefix + "ends_at"] = _("Vul een einduur in.")
    elif ends is None:
        errors[prefix + "ends_at"] = _("Vul een geldig uur in, bijvoorbeeld 17:00.")
    if starts is not None and ends is not None and starts >= ends:
        errors[prefix + "ends_at"] = _("Het einduur moet na het beginuur liggen.")
    modes = frozenset(mode for mode in typed.modes if mode in MODES)
    if not modes:
        errors[prefix + "modes"] = _("Kies minstens één manier van afspreken.")
    location_id = None
    if typed.location.strip():
        try:
            location_id = uuid.UUID(typed.location.strip())
        except ValueError:
            location_id = None
        if location_id not in locations:
            errors[prefix + "location"] = _("Kies een vestiging uit de lijst.")
    if Mode.office.value in modes and location_id is None and prefix + "location" not in errors:
        errors[prefix + "location"] = _("Kies een vestiging: je biedt afspraken op het CLB aan.")
    if len(errors) > found or starts is None or ends is None:
        return None
    # A location only matters for meetings at the CLB (and keeps slots of one start time
    # from being offered twice for other modes).
    return Period(starts, ends, modes, location_id if Mode.office.value in modes else None)


def _overlap(a: Period, b: Period) -> bool:
    return a.starts_at < b.ends_at and b.starts_at < a.ends_at


# --- Weekly hours ------------------------------------------------------------------------


def parse_weekly(
    rows: list[PeriodInput], locations: set[uuid.UUID]
) -> tuple[list[WeeklyHours], Errors]:
    """Rows with neither a start nor an end are left out (that is how one deletes one)."""
    errors: Errors = {}
    kept: list[tuple[int, int, Period]] = []
    for index, row in enumerate(rows):
        if row.blank:
            continue
        prefix = f"w{index}-"
        weekday = int(row.weekday) if row.weekday.strip() in {str(d) for d in range(7)} else None
        if weekday is None:
            errors[prefix + "weekday"] = _("Kies een dag.")
        period = check_period(row, locations, errors, prefix)
        if weekday is None or period is None:
            continue
        for _other_index, other_day, other in kept:
            if other_day == weekday and _overlap(period, other):
                errors[prefix + "starts_at"] = _(
                    "Deze periode overlapt met een andere periode op dezelfde dag."
                )
                break
        else:
            kept.append((index, weekday, period))
    if errors:
        return [], errors
    hours = [
        WeeklyHours(day, p.starts_at, p.ends_at, p.modes, p.location_id) for _i, day, p in kept
    ]
    hours.sort(key=lambda h: (h.weekday, h.starts_at))
    return hours, errors


async def replace_weekly(
    session: AsyncSession, counsellor_id: uuid.UUID, hours: list[WeeklyHours]
) -> None:
    await repository.lock_availability(session, counsellor_id)
    await repository.delete_weekly_rules(session, counsellor_id)
    session.add_all(
        AvailabilityRule(
            counsellor_id=counsellor_id,
            weekday=h.weekday,
            starts_at=h.starts_at,
            ends_at=h.ends_at,
            modes=sorted(h.modes, key=MODES.index),
            location_id=h.location_id,
        )
        for h in hours
    )
    await session.flush()


# --- Date overrides ----------------------------------------------------------------------


@dataclass
class OverrideInput:
    day: str = ""
    unavailable: bool = False
    period: PeriodInput = field(default_factory=PeriodInput)
    note: str = ""


def parse_override(
    typed: OverrideInput, locations: set[uuid.UUID], today: date
) -> tuple[DayHours | None, str, Errors]:
    errors: Errors = {}
    day = parse_day(typed.day, "o-day", errors)
    if day is not None and day < today:
        errors["o-day"] = _("Kies een datum vanaf vandaag.")
    note = " ".join(typed.note.split())
    if len(note) > MAX_NOTE:
        errors["o-note"] = _("Schrijf hoogstens 200 tekens.")
    period = None if typed.unavailable else check_period(typed.period, locations, errors, "o-")
    if errors or day is None:
        return None, note, errors
    if period is None:
        return DayHours(day, None, None, frozenset(), None), note, errors
    return (
        DayHours(day, period.starts_at, period.ends_at, period.modes, period.location_id),
        note,
        {},
    )


async def add_override(
    session: AsyncSession, counsellor_id: uuid.UUID, hours: DayHours, note: str
) -> Errors:
    """Store the override unless it clashes with the date's other rows."""
    await repository.lock_availability(session, counsellor_id)
    existing = await repository.overrides_on(session, counsellor_id, hours.day)
    if hours.starts_at is None or hours.ends_at is None:
        if existing:
            return {"o-day": _("Voor deze dag staan al andere uren. Verwijder die eerst.")}
    else:
        if any(row.starts_at is None for row in existing):
            return {"o-day": _("Deze dag staat al op niet beschikbaar. Verwijder dat eerst.")}
        mine = Period(hours.starts_at, hours.ends_at, hours.modes, hours.location_id)
        for row in existing:
            if (
                row.starts_at
                and row.ends_at
                and _overlap(
                    mine, Period(row.starts_at, row.ends_at, frozenset(row.modes), row.location_id)
                )
            ):
                return {"o-starts_at": _("Deze uren overlappen met andere uren op die dag.")}
    session.add(
        AvailabilityOverride(
            counsellor_id=counsellor_id,
            day=hours.day,
            starts_at=hours.starts_at,
            ends_at=hours.ends_at,
            modes=sorted(hours.modes, key=MODES.index),
            location_id=hours.location_id,
            note=note,
        )
    )
    await session.flush()
    return {}


async def delete_override(
    session: AsyncSession, counsellor_id: uuid.UUID, override_id: int
) -> None:
    if not await repository.delete_override(session, counsellor_id, override_id):
        raise NotFound()


# --- Booking policy ----------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyValues:
    min_notice_working_days: int
    horizon_days: int
    max_per_day: int


def _number(value: str, low: int, high: int) -> int | None:
    try:
        number = int(value.strip())
    except ValueError:
        return None
    return number if low <= number <= high else None


def parse_policy(notice: str, horizon: str, max_per_day: str) -> tuple[PolicyValues | None, Errors]:
    errors: Errors = {}
    parsed_notice = _number(notice, 0, 20)
    if parsed_notice is None:
        errors["p-notice"] = _("Vul een aantal werkdagen van 0 tot 20 in.")
    parsed_horizon = _number(horizon, 1, 365)
    if parsed_horizon is None:
        errors["p-horizon"] = _("Vul een aantal dagen van 1 tot 365 in.")
    parsed_max = _number(max_per_day, 1, 40)
    if parsed_max is None:
        errors["p-max"] = _("Vul een aantal van 1 tot 40 in.")
    if errors or parsed_notice is None or parsed_horizon is None or parsed_max is None:
        return None, errors
    return PolicyValues(parsed_notice, parsed_horizon, parsed_max), errors


async def save_policy(
    session: AsyncSession, counsellor_id: uuid.UUID, values: PolicyValues
) -> None:
    policy = await repository.ensure_policy(session, counsellor_id, lock=True)
    policy.min_notice_working_days = values.min_notice_working_days
    policy.horizon_days = values.horizon_days
    policy.max_per_day = values.max_per_day
    await session.flush()


# --- What the page shows besides the forms -----------------------------------------------


def holiday_name(day: date) -> str:
    """The public holiday on ``day`` in the reader's language ("" on other days)."""
    if i18n.current_language() == "en" and is_public_holiday(day):
        english = holidays.country_holidays("BE", years=day.year, language="en_US").get(day)
        if english:
            return str(english)
    return public_holiday_name(day) or ""


def upcoming_holidays(today: date, days: int = 365) -> list[tuple[date, str]]:
    """Belgian public holidays from today on, named in the reader's language."""
    last = today + timedelta(days=days)
    found: list[tuple[date, str]] = []
    for year in range(today.year, last.year + 1):
        for day in sorted(holidays.country_holidays("BE", years=year)):
            if today <= day <= last:
                found.append((day, holiday_name(day)))
    return found
