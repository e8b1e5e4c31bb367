"""A counsellor's own rota: their shifts, the colleagues and shifts they could swap with,
and the swap requests they made or got, as plain values for ``/console/rooster/mijn``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from chat.opening_hours.schedule import OpeningSchedule, local_date
from chat.rota import repository
from chat.rota.models import RotaShift, SwapKind, SwapStatus
from chat.rota.repository import PlannedShift, SwapRow
from chat.rota.service import load_schedule
from chat.rota.slots import find_slot
from chat.rota.views import when
from clb.auth.models import StaffAccount
from clb.i18n import gettext as _

HISTORY_DAYS = 30


def status_label(status: str) -> str:
    labels = {
        SwapStatus.pending.value: _("Wacht op antwoord"),
        SwapStatus.accepted.value: _("Aanvaard: het rooster is aangepast"),
        SwapStatus.declined.value: _("Geweigerd"),
        SwapStatus.cancelled.value: _("Ingetrokken"),
        SwapStatus.void.value: _("Vervallen: de beurt was intussen gewijzigd"),
    }
    return labels.get(status, status)


def _swap_text(row: SwapRow, mine: bool) -> str:
    swap = row.swap
    shift = when(swap.starts_at, swap.ends_at)
    counter = (
        when(swap.counter_starts_at, swap.counter_ends_at)
        if swap.counter_starts_at and swap.counter_ends_at
        else ""
    )
    if mine and swap.kind == SwapKind.swap.value:
        return _(
            "Je vroeg %(name)s om te ruilen: jouw beurt van %(when)s tegen die van %(other)s."
        ) % {
            "name": row.colleague,
            "when": shift,
            "other": counter,
        }
    if mine:
        return _("Je vroeg %(name)s om je beurt van %(when)s over te nemen.") % {
            "name": row.colleague,
            "when": shift,
        }
    if swap.kind == SwapKind.swap.value:
        return _(
            "%(name)s vraagt om te ruilen: jij neemt de beurt van %(when)s, "
            "%(name)s neemt jouw beurt van %(other)s."
        ) % {"name": row.requester, "when": shift, "other": counter}
    return _("%(name)s vraagt of jij de beurt van %(when)s overneemt.") % {
        "name": row.requester,
        "when": shift,
    }


async def _swaps(session: AsyncSession, staff: StaffAccount, now: datetime) -> dict[str, Any]:
    rows = await repository.swaps_of(session, staff.id, now - timedelta(days=HISTORY_DAYS))
    incoming, sent, answered = [], [], []
    for row in rows:
        mine = row.swap.requester_id == staff.id
        entry = {
            "id": row.swap.id,
            "text": _swap_text(row, mine),
            "status": row.swap.status,
            "status_label": status_label(row.swap.status),
        }
        if row.swap.status == SwapStatus.pending.value and not mine:
            incoming.append(entry)
        elif mine:
            sent.append(entry)
        else:
            answered.append(entry)
    return {"incoming": incoming, "sent": sent, "answered": answered}


def _options(
    shift: PlannedShift,
    colleagues: list[repository.Person],
    theirs: list[PlannedShift],
    taken: set[tuple[Any, datetime]],
    now: datetime,
) -> dict[str, Any]:
    """Whom this shift could go to, and which colleagues' shifts it could be swapped for."""
    start = shift.shift.starts_at
    return {
        "colleagues": [
            {"id": str(p.staff_id), "name": p.name}
            for p in colleagues
            if (p.staff_id, start) not in taken
        ],
        "counters": [
            {
                "id": other.shift.id,
                "label": f"{other.name}: {when(other.shift.starts_at, other.shift.ends_at)}",
            }
            for other in theirs
            if other.shift.starts_at > now
            and other.shift.starts_at != start
            and (other.shift.staff_id, start) not in taken
            and (shift.shift.staff_id, other.shift.starts_at) not in taken
        ],
    }


def _outside(schedule: OpeningSchedule, shift: RotaShift) -> bool:
    """The opening hours no longer have this shift's slot."""
    slot = find_slot(schedule, shift.starts_at)
    return slot is None or slot.ends_at != shift.ends_at


async def my_rota(session: AsyncSession, staff: StaffAccount, now: datetime) -> dict[str, Any]:
    mine = await repository.shifts_of(session, [staff.id], now)
    people = await repository.counsellors_of_centre(session, staff.centre_id)
    colleagues = [p for p in people if p.staff_id != staff.id]
    theirs = await repository.shifts_of(session, [p.staff_id for p in colleagues], now)
    taken = {(row.shift.staff_id, row.shift.starts_at) for row in [*mine, *theirs]}
    pending = {
        i
        for row in await repository.swaps_of(session, staff.id, now)
        if row.swap.status == SwapStatus.pending.value
        for i in (row.swap.shift_id, row.swap.counter_shift_id)
    }
    today = local_date(now)
    last = max((local_date(r.shift.starts_at) for r in mine), default=today)
    schedule = await load_schedule(session, today, last)
    shifts = [
        {
            "id": row.shift.id,
            "when": when(row.shift.starts_at, row.shift.ends_at),
            "started": row.shift.starts_at <= now,
            "outside": _outside(schedule, row.shift),
            "pending": row.shift.id in pending,
            **_options(row, colleagues, theirs, taken, now),
        }
        for row in mine
    ]
    upcoming = [s for s in shifts if not s["outside"]]
    return {
        "next_shift": upcoming[0]["when"] if upcoming else "",
        "shifts": shifts,
        **await _swaps(session, staff, now),
    }


async def next_shift_line(session: AsyncSession, staff: StaffAccount, now: datetime) -> str:
    """ "Jouw volgende chatbeurt: …" for a page a counsellor looks at ("" without one)."""
    mine = await repository.shifts_of(session, [staff.id], now)
    if not mine:
        return ""
    first = mine[0].shift
    return _("Jouw volgende chatbeurt: %(when)s.") % {"when": when(first.starts_at, first.ends_at)}
