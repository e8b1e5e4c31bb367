"""Planning the chat duty rota: the weeks a coordinator sees (every opening slot, who is
planned, what is not covered) and adding or removing a counsellor of their own centre.

A centre plans its own counsellors; a slot with fewer of them than the wanted number
(settings.chat_rota_wanted_per_slot) is "niet bezet". The request boundary commits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from chat.opening_hours import repository as hours_repository
from chat.opening_hours.schedule import BRUSSELS, OpeningSchedule, build_schedule
from chat.rota import repository
from chat.rota.models import RotaShift
from chat.rota.repository import Person, PlannedShift
from chat.rota.slots import Slot, find_slot, parse_slot_key, planning_weeks, slots_of_week
from clb.audit import record_audit
from clb.auth.models import StaffAccount
from clb.errors import ClbError, NotFound
from clb.i18n import gettext as _


class RotaRefused(ClbError):
    """A rota change that cannot be made; the message (translated when raised) says why."""

    status = 422
    code = "rota_refused"
    message = "Er ging iets mis met je vraag."

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message, details={"field": field} if field else None)
        self.field = field


async def load_schedule(session: AsyncSession, first: date, last: date) -> OpeningSchedule:
    """The opening hours with the exceptions of first..last."""
    weekly = await hours_repository.list_weekly_periods(session)
    exceptions = await hours_repository.list_exceptions(session, since=first, until=last)
    return build_schedule(weekly, exceptions)


def audit(session: AsyncSession, action: str, actor: StaffAccount, kind: str, obj: int) -> None:
    record_audit(
        session, f"chat.rota.{action}", actor_id=actor.id, object_type=kind, object_id=str(obj)
    )


def _instant_of_day(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=BRUSSELS)


# --- The coordinator's weeks ----------------------------------------------------------------


@dataclass
class SlotView:
    slot: Slot
    planned: list[PlannedShift]
    wanted: int
    ended: bool
    candidates: list[Person] = field(default_factory=list)

    @property
    def uncovered(self) -> bool:
        return len(self.planned) < self.wanted


@dataclass
class DayView:
    day: date
    slots: list[SlotView]
    outside: list[PlannedShift]  # shifts whose slot the opening hours no longer have


@dataclass
class WeekView:
    monday: date
    days: list[DayView]

    @property
    def uncovered(self) -> int:
        return sum(1 for d in self.days for s in d.slots if s.uncovered and not s.ended)

    @property
    def outside(self) -> int:
        return sum(len(d.outside) for d in self.days)


async def week_view(
    session: AsyncSession, centre_id: uuid.UUID, monday: date, now: datetime, wanted: int
) -> WeekView:
    schedule = await load_schedule(session, monday, monday + timedelta(days=6))
    slots = slots_of_week(schedule, monday)
    shifts = await repository.shifts_between(
        session, centre_id, _instant_of_day(monday), _instant_of_day(monday + timedelta(days=7))
    )
    people = await repository.counsellors_of_centre(session, centre_id)
    by_slot = {(s.starts_at, s.ends_at): s for s in slots}
    planned: dict[Slot, list[PlannedShift]] = {s: [] for s in slots}
    outside: dict[date, list[PlannedShift]] = {}
    for row in shifts:
        slot = by_slot.get((row.shift.starts_at, row.shift.ends_at))
        if slot is None:
            outside.setdefault(row.shift.starts_at.astimezone(BRUSSELS).date(), []).append(row)
        else:
            planned[slot].append(row)
    days = []
    for offset in range(7):
        day = monday + timedelta(days=offset)
        views = []
        for slot in (s for s in slots if s.day == day):
            names = {p.shift.staff_id for p in planned[slot]}
            views.append(
                SlotView(
                    slot,
                    planned[slot],
                    wanted,
                    slot.has_ended(now),
                    [p for p in people if p.staff_id not in names],
                )
            )
        if views or outside.get(day):
            days.append(DayView(day, views, outside.get(day, [])))
    return WeekView(monday, days)


async def week_summaries(
    session: AsyncSession, centre_id: uuid.UUID, now: datetime, weeks: int, wanted: int
) -> list[WeekView]:
    return [
        await week_view(session, centre_id, monday, now, wanted)
        for monday in planning_weeks(now, weeks)
    ]


# --- Planning -------------------------------------------------------------------------------


async def _plannable_colleague(
    session: AsyncSession, centre_id: uuid.UUID, raw_id: str, field_name: str
) -> StaffAccount:
    if not raw_id.strip():
        raise RotaRefused(_("Kies een chatbegeleider."), field=field_name)
    try:
        staff_id = uuid.UUID(raw_id.strip())
    except ValueError:
        raise RotaRefused(_("Deze medewerker bestaat niet."), field=field_name) from None
    account = await repository.staff_account(session, staff_id)
    if account is None:
        raise RotaRefused(_("Deze medewerker bestaat niet."), field=field_name)
    if account.centre_id != centre_id:
        raise RotaRefused(_("Je kunt alleen mensen van je eigen CLB kiezen."), field=field_name)
    if not repository.is_plannable(account):
        raise RotaRefused(
            _("Alleen actieve chatbegeleiders kunnen op het rooster staan."), field=field_name
        )
    return account


async def slot_for_planning(session: AsyncSession, key: str, now: datetime, weeks: int) -> Slot:
    """The slot a form names: one of the current opening hours, not over, within reach."""
    starts_at = parse_slot_key(key)
    if starts_at is None:
        raise RotaRefused(_("Kies een beurt uit het rooster."), field="slot")
    day = starts_at.astimezone(BRUSSELS).date()
    slot = find_slot(await load_schedule(session, day, day), starts_at)
    if slot is None:
        raise RotaRefused(_("Deze beurt past niet (meer) in de openingsuren."), field="slot")
    if slot.has_ended(now):
        raise RotaRefused(_("Deze beurt ligt in het verleden."), field="slot")
    if day >= planning_weeks(now, weeks)[-1] + timedelta(days=7):
        raise RotaRefused(
            _("Je kunt tot %(n)s weken vooruit plannen.") % {"n": weeks}, field="slot"
        )
    return slot


async def plan(
    session: AsyncSession,
    coordinator: StaffAccount,
    slot_key: str,
    staff_id: str,
    now: datetime,
    weeks: int,
) -> RotaShift:
    """Put a counsellor of the coordinator's centre on a slot."""
    slot = await slot_for_planning(session, slot_key, now, weeks)
    counsellor = await _plannable_colleague(session, coordinator.centre_id, staff_id, "staff_id")
    shift = RotaShift(
        centre_id=coordinator.centre_id,
        staff_id=counsellor.id,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        created_at=now,
        created_by=coordinator.id,
    )
    if not await repository.add_shift(session, shift):
        raise RotaRefused(
            _("%(name)s staat al op deze beurt.") % {"name": counsellor.display_name},
            field="staff_id",
        )
    audit(session, "shift_added", coordinator, "chat_rota_shift", shift.id)
    return shift


async def unplan(
    session: AsyncSession, coordinator: StaffAccount, shift_id: int, now: datetime
) -> None:
    """Take a shift of the coordinator's centre off the rota; open swap requests about it
    lapse. Another centre's shift is not found."""
    shift = await repository.lock_shift(session, shift_id)
    if shift is None or shift.centre_id != coordinator.centre_id:
        raise NotFound(_("Deze beurt bestaat niet (meer)."))
    if shift.ends_at <= now:
        raise RotaRefused(_("Deze beurt ligt in het verleden."), field="slot")
    await repository.void_pending_of_shift(session, shift_id, now)
    await repository.delete_shift(session, shift_id, coordinator.centre_id)
    audit(session, "shift_removed", coordinator, "chat_rota_shift", shift_id)


def slot_label(starts_at: datetime, ends_at: datetime) -> dict[str, Any]:
    """The parts a page shows of a slot (Brussels time)."""
    start, end = starts_at.astimezone(BRUSSELS), ends_at.astimezone(BRUSSELS)
    return {"day": start.date(), "time": f"{start:%H:%M}–{end:%H:%M}"}
