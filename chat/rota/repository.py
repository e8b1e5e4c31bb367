"""Every rota query. Changes that can race (a swap accepted, a shift removed) are single
conditional statements: they say whether they took effect."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, any_, delete, exists, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from chat.console.models import ChatStaff
from chat.rota.models import RotaShift, RotaSwap, SwapStatus
from clb.auth.models import Role, StaffAccount


@dataclass(frozen=True)
class PlannedShift:
    shift: RotaShift
    name: str


@dataclass(frozen=True)
class Person:
    staff_id: uuid.UUID
    name: str


@dataclass(frozen=True)
class SwapRow:
    swap: RotaSwap
    requester: str
    colleague: str


MAX_ID = 2**31 - 1  # an integer key; a larger number typed in a form finds nothing


def _storable(row_id: int | None) -> bool:
    return row_id is not None and 0 < row_id <= MAX_ID


def _is_counsellor() -> ColumnElement[bool]:
    return literal(Role.counsellor.value) == any_(StaffAccount.roles)


async def counsellors_of_centre(session: AsyncSession, centre_id: uuid.UUID) -> list[Person]:
    """The centre's active accounts with the counsellor role, by name."""
    rows = await session.execute(
        select(StaffAccount.id, StaffAccount.display_name)
        .where(
            StaffAccount.centre_id == centre_id,
            StaffAccount.is_active.is_(True),
            _is_counsellor(),
        )
        .order_by(StaffAccount.display_name, StaffAccount.id)
    )
    return [Person(staff_id, name) for staff_id, name in rows.all()]


async def staff_account(session: AsyncSession, staff_id: uuid.UUID) -> StaffAccount | None:
    return await session.get(StaffAccount, staff_id)


def is_plannable(account: StaffAccount) -> bool:
    """Active, with the counsellor role itself (an administrator is not planned by role)."""
    return account.is_active and Role.counsellor.value in account.roles


async def shifts_between(
    session: AsyncSession, centre_id: uuid.UUID, since: datetime, until: datetime
) -> list[PlannedShift]:
    """The centre's shifts starting in [since, until), by start and name."""
    rows = await session.execute(
        select(RotaShift, StaffAccount.display_name)
        .join(StaffAccount, StaffAccount.id == RotaShift.staff_id)
        .where(
            RotaShift.centre_id == centre_id,
            RotaShift.starts_at >= since,
            RotaShift.starts_at < until,
        )
        .order_by(RotaShift.starts_at, StaffAccount.display_name, RotaShift.id)
    )
    return [PlannedShift(shift, name) for shift, name in rows.all()]


async def shifts_of(
    session: AsyncSession, staff_ids: Collection[uuid.UUID], since: datetime
) -> list[PlannedShift]:
    """These people's shifts that end after ``since``, by start."""
    if not staff_ids:
        return []
    rows = await session.execute(
        select(RotaShift, StaffAccount.display_name)
        .join(StaffAccount, StaffAccount.id == RotaShift.staff_id)
        .where(RotaShift.staff_id.in_(list(staff_ids)), RotaShift.ends_at > since)
        .order_by(RotaShift.starts_at, StaffAccount.display_name)
    )
    return [PlannedShift(shift, name) for shift, name in rows.all()]


async def get_shift(session: AsyncSession, shift_id: int) -> RotaShift | None:
    return await session.get(RotaShift, shift_id) if _storable(shift_id) else None


async def has_shift_at(session: AsyncSession, staff_id: uuid.UUID, starts_at: datetime) -> bool:
    found = await session.scalar(
        select(RotaShift.id).where(RotaShift.staff_id == staff_id, RotaShift.starts_at == starts_at)
    )
    return found is not None


async def add_shift(session: AsyncSession, shift: RotaShift) -> bool:
    """False when this person is already on a shift starting then (also when another
    request planned them a moment ago: the unique constraint decides)."""
    try:
        async with session.begin_nested():
            session.add(shift)
            await session.flush()
    except IntegrityError:
        return False
    return True


async def delete_shift(session: AsyncSession, shift_id: int, centre_id: uuid.UUID) -> bool:
    result = await session.execute(
        delete(RotaShift)
        .where(RotaShift.id == shift_id, RotaShift.centre_id == centre_id)
        .returning(RotaShift.id)
    )
    return result.scalar_one_or_none() is not None


async def move_shift(
    session: AsyncSession, shift_id: int, from_id: uuid.UUID, to_id: uuid.UUID
) -> bool:
    """Give the shift to ``to_id`` only while ``from_id`` still holds it and ``to_id`` is
    not on a shift starting then: one conditional statement (the row lock orders rivals)."""
    other = aliased(RotaShift)
    taken = exists().where(other.staff_id == to_id, other.starts_at == RotaShift.starts_at)
    try:
        async with session.begin_nested():
            result = await session.execute(
                update(RotaShift)
                .where(RotaShift.id == shift_id, RotaShift.staff_id == from_id, ~taken)
                .values(staff_id=to_id)
                .returning(RotaShift.id)
            )
            moved = result.scalar_one_or_none() is not None
    except IntegrityError:
        return False
    return moved


# --- Swaps ----------------------------------------------------------------------------------


async def get_swap(session: AsyncSession, swap_id: int) -> RotaSwap | None:
    return await session.get(RotaSwap, swap_id) if _storable(swap_id) else None


async def pending_for_shift(session: AsyncSession, shift_id: int) -> bool:
    found = await session.scalar(
        select(RotaSwap.id).where(
            or_(RotaSwap.shift_id == shift_id, RotaSwap.counter_shift_id == shift_id),
            RotaSwap.status == SwapStatus.pending.value,
        )
    )
    return found is not None


async def lock_shift(session: AsyncSession, shift_id: int) -> RotaShift | None:
    """The shift, its row locked until commit (two requests for it queue)."""
    if not _storable(shift_id):
        return None
    return await session.scalar(
        select(RotaShift)
        .where(RotaShift.id == shift_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def lock_shifts(session: AsyncSession, shift_ids: Collection[int | None]) -> None:
    """Lock these shifts' rows in id order: every change that touches several shifts, or a
    shift and its swap requests, takes the shift locks first, in the same order, so two of
    them queue instead of deadlocking."""
    ids = sorted({i for i in shift_ids if i is not None and _storable(i)})
    if ids:
        await session.execute(
            select(RotaShift.id)
            .where(RotaShift.id.in_(ids))
            .order_by(RotaShift.id)
            .with_for_update()
        )


async def decide(
    session: AsyncSession,
    swap_id: int,
    who: ColumnElement[bool],
    status: SwapStatus,
    now: datetime,
) -> bool:
    """Pending → ``status`` when ``who`` holds; False when it was no longer pending."""
    result = await session.execute(
        update(RotaSwap)
        .where(RotaSwap.id == swap_id, RotaSwap.status == SwapStatus.pending.value, who)
        .values(status=status.value, decided_at=now)
        .returning(RotaSwap.id)
    )
    return result.scalar_one_or_none() is not None


async def set_status(session: AsyncSession, swap_id: int, status: SwapStatus) -> None:
    statement = update(RotaSwap).where(RotaSwap.id == swap_id).values(status=status.value)
    await session.execute(statement)


async def void_pending_of_shift(session: AsyncSession, shift_id: int, now: datetime) -> None:
    await session.execute(
        update(RotaSwap)
        .where(
            or_(RotaSwap.shift_id == shift_id, RotaSwap.counter_shift_id == shift_id),
            RotaSwap.status == SwapStatus.pending.value,
        )
        .values(status=SwapStatus.void.value, decided_at=now)
    )


async def swaps_of(session: AsyncSession, staff_id: uuid.UUID, since: datetime) -> list[SwapRow]:
    """Requests this person made or got, pending or decided after ``since``, newest first."""
    requester, colleague = aliased(StaffAccount), aliased(StaffAccount)
    rows = await session.execute(
        select(RotaSwap, requester.display_name, colleague.display_name)
        .join(requester, requester.id == RotaSwap.requester_id)
        .join(colleague, colleague.id == RotaSwap.colleague_id)
        .where(
            or_(RotaSwap.requester_id == staff_id, RotaSwap.colleague_id == staff_id),
            or_(
                RotaSwap.status == SwapStatus.pending.value,
                and_(RotaSwap.decided_at.is_not(None), RotaSwap.decided_at >= since),
            ),
        )
        .order_by(RotaSwap.created_at.desc(), RotaSwap.id.desc())
        .limit(100)
    )
    return [SwapRow(swap, a, b) for swap, a, b in rows.all()]


# --- Who is on duty (supervision) -----------------------------------------------------------


async def duty_of_centre(session: AsyncSession, centre_id: uuid.UUID) -> dict[uuid.UUID, str]:
    """The duty state of the centre's active staff who have one (``chat_staff``)."""
    rows = await session.execute(
        select(ChatStaff.staff_id, ChatStaff.duty)
        .join(StaffAccount, StaffAccount.id == ChatStaff.staff_id)
        .where(StaffAccount.centre_id == centre_id, StaffAccount.is_active.is_(True))
    )
    return {staff_id: duty for staff_id, duty in rows.all()}


async def names_of(session: AsyncSession, staff_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not staff_ids:
        return {}
    rows = await session.execute(
        select(StaffAccount.id, StaffAccount.display_name).where(
            StaffAccount.id.in_(list(staff_ids))
        )
    )
    return {staff_id: name for staff_id, name in rows.all()}
