"""For the coordinators' dashboard (chat.supervision): the rota's plan for the slot running
now next to who of the centre is really on duty (chat.console: on duty or on a pause, and
the console heard from recently, chat.realtime.presence)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from chat.console.models import Duty
from chat.opening_hours.schedule import local_date
from chat.realtime import presence
from chat.rota import repository
from chat.rota.service import load_schedule
from chat.rota.slots import current_or_next
from chat.rota.views import when
from clb.auth.models import StaffAccount
from clb.services import Services

PRESENT_DUTIES = {Duty.on_duty.value, Duty.pause.value}


def _names(ids: set[Any], names: dict[Any, str]) -> list[str]:
    return sorted(names.get(i, "") for i in ids)


async def plan_versus_actual(
    session: AsyncSession, services: Services, now: datetime, reader: StaffAccount
) -> dict[str, Any]:
    """The reader's centre: the slot running now (or the next one), and of its counsellors
    who is planned and present, planned but absent, present but not planned."""
    today = local_date(now)
    schedule = await load_schedule(session, today - timedelta(days=1), today + timedelta(days=14))
    slot = current_or_next(schedule, now)
    running = slot is not None and slot.contains(now)
    planned: set[Any] = set()
    if slot is not None:
        shifts = await repository.shifts_between(
            session, reader.centre_id, slot.starts_at, slot.starts_at + timedelta(seconds=1)
        )
        planned = {row.shift.staff_id for row in shifts if row.shift.ends_at == slot.ends_at}
    fresh = await presence.fresh_counsellors(services.redis, services.keys)
    duties = await repository.duty_of_centre(session, reader.centre_id)
    present = {i for i, duty in duties.items() if duty in PRESENT_DUTIES and i in fresh}
    if not running:
        present_now: set[Any] = present
        planned_now: set[Any] = set()
    else:
        present_now, planned_now = present, planned
    names = await repository.names_of(session, planned | present)
    return {
        "running": running,
        "slot": when(slot.starts_at, slot.ends_at) if slot else "",
        "planned_next": _names(planned, names) if not running else [],
        "planned_present": _names(planned_now & present_now, names),
        "planned_absent": _names(planned_now - present_now, names),
        "present_unplanned": _names(present_now - planned_now, names),
    }
