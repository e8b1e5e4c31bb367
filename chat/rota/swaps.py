"""Counsellors swap shifts with a colleague's agreement: one asks (take over my shift, or
swap it for one of yours), the colleague accepts or declines; only an acceptance changes
the rota, and it does so with conditional updates, so two acceptances, or an acceptance
and a coordinator's change, can never both take effect."""

from __future__ import annotations

import enum
import re
import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from chat.rota import repository
from chat.rota.models import RotaShift, RotaSwap, SwapKind, SwapStatus
from chat.rota.models import RotaSwap as Swap
from chat.rota.service import RotaRefused, audit
from clb.auth.models import StaffAccount
from clb.errors import NotFound
from clb.i18n import gettext as _

SHIFT_ID = re.compile(r"[0-9]{1,9}")  # the id column is a 32-bit integer


class Outcome(enum.StrEnum):
    accepted = "accepted"
    void = "void"  # the shifts changed before the answer: nothing moved


async def _own_future_shift(
    session: AsyncSession, staff: StaffAccount, shift_id: int, now: datetime
) -> RotaShift:
    shift = await repository.lock_shift(session, shift_id)
    if shift is None or shift.staff_id != staff.id:
        raise NotFound(_("Deze beurt bestaat niet (meer)."))
    if shift.starts_at <= now:
        raise RotaRefused(_("Deze beurt is al begonnen of voorbij."), field="shift")
    if await repository.pending_for_shift(session, shift.id):
        raise RotaRefused(_("Voor deze beurt loopt al een vraag aan een collega."), field="shift")
    return shift


async def _colleague(session: AsyncSession, staff: StaffAccount, raw_id: str) -> StaffAccount:
    try:
        colleague_id = uuid.UUID(raw_id.strip())
    except ValueError:
        raise RotaRefused(_("Kies een collega."), field="colleague") from None
    if colleague_id == staff.id:
        raise RotaRefused(_("Je kunt een beurt niet met jezelf ruilen."), field="colleague")
    colleague = await repository.staff_account(session, colleague_id)
    if colleague is None:
        raise RotaRefused(_("Deze collega bestaat niet."), field="colleague")
    if colleague.centre_id != staff.centre_id:
        raise RotaRefused(
            _("Je kunt alleen ruilen met iemand van je eigen CLB."), field="colleague"
        )
    if not repository.is_plannable(colleague):
        raise RotaRefused(_("Deze collega is geen actieve chatbegeleider."), field="colleague")
    return colleague


async def ask_take_over(
    session: AsyncSession, staff: StaffAccount, shift_id: int, colleague_id: str, now: datetime
) -> RotaSwap:
    """Ask a colleague of the same centre to take over one of my future shifts."""
    shift = await _own_future_shift(session, staff, shift_id, now)
    colleague = await _colleague(session, staff, colleague_id)
    if await repository.has_shift_at(session, colleague.id, shift.starts_at):
        raise RotaRefused(
            _("%(name)s staat al op deze beurt.") % {"name": colleague.display_name},
            field="colleague",
        )
    return await _ask(session, staff, colleague, shift, None)


def _shift_id(raw: str) -> int | None:
    """A shift id as a form sends it: ASCII digits that fit the column (``"²".isdigit()``
    is true, and a 30-digit number is no id either)."""
    value = raw.strip()
    return int(value) if SHIFT_ID.fullmatch(value) else None


async def ask_swap(
    session: AsyncSession, staff: StaffAccount, shift_id: int, counter_id: str, now: datetime
) -> RotaSwap:
    """Ask a colleague to swap: they take my shift, I take the one of theirs I chose."""
    counter_shift_id = _shift_id(counter_id)
    if counter_shift_id is not None:
        await repository.lock_shifts(session, [shift_id, counter_shift_id])
    shift = await _own_future_shift(session, staff, shift_id, now)
    if counter_shift_id is None:
        raise RotaRefused(_("Kies een beurt van een collega."), field="counter")
    counter = await repository.lock_shift(session, counter_shift_id)
    if counter is None or counter.centre_id != staff.centre_id:
        raise RotaRefused(_("Deze beurt bestaat niet (meer)."), field="counter")
    colleague = await _colleague(session, staff, str(counter.staff_id))
    if counter.starts_at <= now:
        raise RotaRefused(_("Deze beurt is al begonnen of voorbij."), field="counter")
    if await repository.has_shift_at(session, colleague.id, shift.starts_at):
        raise RotaRefused(
            _("%(name)s staat al op deze beurt.") % {"name": colleague.display_name},
            field="counter",
        )
    if await repository.has_shift_at(session, staff.id, counter.starts_at):
        raise RotaRefused(_("Je staat zelf al op die beurt."), field="counter")
    if await repository.pending_for_shift(session, counter.id):
        raise RotaRefused(_("Voor die beurt loopt al een vraag."), field="counter")
    return await _ask(session, staff, colleague, shift, counter)


async def _ask(
    session: AsyncSession,
    staff: StaffAccount,
    colleague: StaffAccount,
    shift: RotaShift,
    counter: RotaShift | None,
) -> RotaSwap:
    swap = Swap(
        kind=(SwapKind.swap if counter else SwapKind.take_over).value,
        status=SwapStatus.pending.value,
        requester_id=staff.id,
        colleague_id=colleague.id,
        shift_id=shift.id,
        starts_at=shift.starts_at,
        ends_at=shift.ends_at,
        counter_shift_id=counter.id if counter else None,
        counter_starts_at=counter.starts_at if counter else None,
        counter_ends_at=counter.ends_at if counter else None,
    )
    session.add(swap)
    await session.flush()
    audit(session, "swap_requested", staff, "chat_rota_swap", swap.id)
    return swap


async def _swap_for(
    session: AsyncSession, swap_id: int, staff_id: uuid.UUID, *, as_colleague: bool
) -> RotaSwap:
    swap = await repository.get_swap(session, swap_id)
    owner = swap.colleague_id if swap and as_colleague else swap.requester_id if swap else None
    if swap is None or owner != staff_id:
        raise NotFound(_("Deze vraag om een beurt te ruilen bestaat niet (meer)."))
    return swap


class _Lapsed(Exception):
    """A shift of the request changed before the answer."""


async def _move_all(session: AsyncSession, swap: RotaSwap, colleague_id: uuid.UUID) -> bool:
    """Both moves of a swap, or the one of a take-over, or none (a savepoint)."""
    try:
        async with session.begin_nested():
            if swap.shift_id is None or not await repository.move_shift(
                session, swap.shift_id, swap.requester_id, colleague_id
            ):
                raise _Lapsed
            if swap.kind == SwapKind.swap.value and (
                swap.counter_shift_id is None
                or not await repository.move_shift(
                    session, swap.counter_shift_id, colleague_id, swap.requester_id
                )
            ):
                raise _Lapsed
    except _Lapsed:
        return False
    return True


def _already_answered() -> RotaRefused:
    return RotaRefused(_("Op deze vraag is al geantwoord."), field="swap")


async def accept(
    session: AsyncSession, staff: StaffAccount, swap_id: int, now: datetime
) -> Outcome:
    """The colleague agrees. The request goes from pending to accepted in one conditional
    statement (a second acceptance finds it no longer pending); then each shift moves
    only while its holder still holds it. When a shift changed meanwhile, nothing moves
    and the request lapses (``Outcome.void``): the caller commits that."""
    swap = await _swap_for(session, swap_id, staff.id, as_colleague=True)
    if swap.status != SwapStatus.pending.value:
        raise _already_answered()
    if swap.starts_at <= now or (swap.counter_starts_at and swap.counter_starts_at <= now):
        raise RotaRefused(_("Deze beurt is al begonnen of voorbij."), field="swap")
    await repository.lock_shifts(session, [swap.shift_id, swap.counter_shift_id])
    if not await repository.decide(
        session, swap_id, Swap.colleague_id == staff.id, SwapStatus.accepted, now
    ):
        raise _already_answered()
    moved = await _move_all(session, swap, staff.id)
    if not moved:
        await repository.set_status(session, swap_id, SwapStatus.void)
        audit(session, "swap_void", staff, "chat_rota_swap", swap_id)
        return Outcome.void
    audit(session, "swap_accepted", staff, "chat_rota_swap", swap_id)
    return Outcome.accepted


async def decline(session: AsyncSession, staff: StaffAccount, swap_id: int, now: datetime) -> None:
    await _swap_for(session, swap_id, staff.id, as_colleague=True)
    if not await repository.decide(
        session, swap_id, Swap.colleague_id == staff.id, SwapStatus.declined, now
    ):
        raise _already_answered()
    audit(session, "swap_declined", staff, "chat_rota_swap", swap_id)


async def cancel(session: AsyncSession, staff: StaffAccount, swap_id: int, now: datetime) -> None:
    await _swap_for(session, swap_id, staff.id, as_colleague=False)
    if not await repository.decide(
        session, swap_id, Swap.requester_id == staff.id, SwapStatus.cancelled, now
    ):
        raise _already_answered()
    audit(session, "swap_cancelled", staff, "chat_rota_swap", swap_id)
