"""Days a centre takes no appointments (school holidays of a school year, a closure).

Coordinators keep their own centre's periods; admins also the ones for every centre
(``centre_id`` NULL). The slot function skips these days; appointments already booked in
a new period stay until someone cancels them, so adding one says how many there are.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from clb.audit import record_audit
from clb.auth.models import Role, StaffAccount
from clb.errors import Forbidden, NotFound
from clb.i18n import gettext as _
from clb.web.forms import parse_day
from scheduling.agenda.view import long_day
from scheduling.availability import repository
from scheduling.availability.models import ClosedPeriod

MAX_NAME = 120
MAX_LENGTH_DAYS = 366
ALL_CENTRES = "alle"


@dataclass(frozen=True)
class PeriodInput:
    name: str
    first_day: str
    last_day: str
    scope: str = ""  # ALL_CENTRES (admins) or empty: the staff member's own centre


@dataclass(frozen=True)
class ValidPeriod:
    name: str
    first_day: date
    last_day: date
    centre_id: uuid.UUID | None


def is_admin(staff: StaffAccount) -> bool:
    return Role.admin.value in staff.roles


def period_view(period: ClosedPeriod) -> dict[str, Any]:
    """What the console pages show of a closed period."""
    return {
        "name": period.name,
        "first": long_day(period.first_day),
        "last": long_day(period.last_day),
        "single": period.first_day == period.last_day,
        "all_centres": period.centre_id is None,
    }


def validate(data: PeriodInput, staff: StaffAccount) -> tuple[ValidPeriod | None, dict[str, str]]:
    errors: dict[str, str] = {}
    name = " ".join(data.name.split())
    if not name:
        errors["name"] = _("Geef de periode een naam, bijvoorbeeld Kerstvakantie.")
    elif len(name) > MAX_NAME:
        errors["name"] = _("De naam mag hoogstens 120 tekens lang zijn.")
    first = parse_day(data.first_day, "first_day", errors)
    last = parse_day(data.last_day, "last_day", errors)
    if first and last:
        if last < first:
            errors["last_day"] = _("De laatste dag mag niet voor de eerste dag liggen.")
        elif (last - first).days >= MAX_LENGTH_DAYS:
            errors["last_day"] = _("Een periode duurt hoogstens een jaar.")
    if data.scope == ALL_CENTRES and not is_admin(staff):
        errors["scope"] = _("Alleen beheerders kunnen sluitingsdagen voor alle CLB's instellen.")
    if errors or first is None or last is None:
        return None, errors
    centre_id = None if data.scope == ALL_CENTRES else staff.centre_id
    return ValidPeriod(name, first, last, centre_id), errors


async def add_period(session: AsyncSession, period: ValidPeriod, actor: StaffAccount) -> int:
    """Store the period; the number of appointments still booked in it."""
    row = ClosedPeriod(
        centre_id=period.centre_id,
        first_day=period.first_day,
        last_day=period.last_day,
        name=period.name,
    )
    session.add(row)
    await session.flush()
    record_audit(
        session,
        "scheduling.closed_period.added",
        actor_id=actor.id,
        object_type="closed_period",
        object_id=str(row.id),
    )
    return await repository.confirmed_between(
        session, period.first_day, period.last_day, period.centre_id
    )


async def remove_period(session: AsyncSession, period_id: int, actor: StaffAccount) -> None:
    row = await session.get(ClosedPeriod, period_id)
    if row is None:
        raise NotFound()
    if row.centre_id is None:
        if not is_admin(actor):
            raise Forbidden()
    elif row.centre_id != actor.centre_id:
        raise NotFound()
    await session.delete(row)
    record_audit(
        session,
        "scheduling.closed_period.removed",
        actor_id=actor.id,
        object_type="closed_period",
        object_id=str(period_id),
    )
