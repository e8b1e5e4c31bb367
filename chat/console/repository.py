"""Queries on counsellors' chat state (``chat_staff``): duty, capacity and current load.

A counsellor without a row is off duty with the platform's default capacity; the row is
made the first time they change their duty or a coordinator sets their maximum.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Exists, ScalarSelect, any_, case, func, literal, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from chat.console.models import ChatStaff, Duty
from chat.conversations.models import Conversation, Status
from clb.auth.models import Role, StaffAccount
from clb.org.models import Centre


@dataclass(frozen=True)
class StaffLoad:
    staff_id: uuid.UUID
    display_name: str
    centre: str
    duty: str
    max_chats: int  # the counsellor's own maximum, or the platform default
    own_max: int | None  # what a coordinator set (None: the default)
    active: int  # chats held right now
    languages: tuple[str, ...] = ()  # spoken besides Dutch

    @property
    def free(self) -> int:
        return max(0, self.max_chats - self.active)


def held_count(staff_id: object) -> ScalarSelect[int]:
    """Active chats held by a counsellor (``staff_id`` a value or a column)."""
    return (
        select(func.count())
        .where(Conversation.counsellor_id == staff_id, Conversation.status == Status.active.value)
        .correlate_except(Conversation)
        .scalar_subquery()
    )


def max_chats_of(staff_id: uuid.UUID, default: int) -> ScalarSelect[int]:
    """The counsellor's maximum as SQL: their own, else the platform default."""
    own = select(ChatStaff.max_chats).where(ChatStaff.staff_id == staff_id).scalar_subquery()
    return select(func.coalesce(own, literal(default))).scalar_subquery()


def is_on_duty(staff_id: uuid.UUID) -> Exists:
    return (
        select(ChatStaff.staff_id)
        .where(ChatStaff.staff_id == staff_id, ChatStaff.duty == Duty.on_duty.value)
        .exists()
    )


def speaks(
    staff_id: uuid.UUID, language: ColumnElement[str] | InstrumentedAttribute[str]
) -> Exists:
    """The counsellor chats in ``language`` besides Dutch (a column of the enclosing query)."""
    return (
        select(ChatStaff.staff_id)
        .where(ChatStaff.staff_id == staff_id, language == any_(ChatStaff.languages))
        .exists()
    )


def speaker_available(
    language: ColumnElement[str] | InstrumentedAttribute[str],
    fresh: Collection[uuid.UUID],
    default: int,
) -> Exists:
    """Some counsellor of ``fresh`` (console heard from) is on duty, has room for one more
    chat and speaks ``language`` (a column of the enclosing query)."""
    return (
        select(ChatStaff.staff_id)
        .where(
            ChatStaff.staff_id.in_(list(fresh)),
            ChatStaff.duty == Duty.on_duty.value,
            language == any_(ChatStaff.languages),
            held_count(ChatStaff.staff_id) < func.coalesce(ChatStaff.max_chats, default),
        )
        .exists()
    )


def _is_counsellor() -> ColumnElement[bool]:
    return literal(Role.counsellor.value) == any_(StaffAccount.roles)


async def chat_staff(session: AsyncSession, staff_id: uuid.UUID) -> ChatStaff | None:
    return await session.get(ChatStaff, staff_id)


async def staff_account(session: AsyncSession, staff_id: uuid.UUID) -> StaffAccount | None:
    return await session.get(StaffAccount, staff_id)


async def set_duty(
    session: AsyncSession, staff_id: uuid.UUID, duty: Duty, now: datetime
) -> ChatStaff:
    """Upsert; ``duty_since`` only moves when the duty really changes."""
    statement = insert(ChatStaff).values(staff_id=staff_id, duty=duty.value, duty_since=now)
    upsert = statement.on_conflict_do_update(
        index_elements=[ChatStaff.staff_id],
        set_={
            "duty": statement.excluded.duty,
            "duty_since": case(
                (ChatStaff.duty == statement.excluded.duty, ChatStaff.duty_since),
                else_=statement.excluded.duty_since,
            ),
        },
    ).returning(ChatStaff)
    row: ChatStaff | None = await session.scalar(
        upsert, execution_options={"populate_existing": True}
    )
    assert row is not None  # noqa: S101 - an upsert always returns its row
    return row


async def set_max_chats(
    session: AsyncSession, staff_id: uuid.UUID, max_chats: int | None, now: datetime
) -> None:
    await _set_setting(session, staff_id, now, "max_chats", max_chats)


async def set_languages(
    session: AsyncSession, staff_id: uuid.UUID, languages: list[str], now: datetime
) -> None:
    await _set_setting(session, staff_id, now, "languages", languages)


async def _set_setting(
    session: AsyncSession, staff_id: uuid.UUID, now: datetime, name: str, value: object
) -> None:
    """One of a counsellor's chat settings; their row is made (off duty) if they had none."""
    statement = insert(ChatStaff).values(
        staff_id=staff_id, duty=Duty.off_duty.value, duty_since=now, **{name: value}
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[ChatStaff.staff_id], set_={name: statement.excluded[name]}
        )
    )


def _loads(default: int) -> tuple[object, ...]:
    return (
        StaffAccount.id,
        StaffAccount.display_name,
        Centre.name,
        func.coalesce(ChatStaff.duty, Duty.off_duty.value),
        func.coalesce(ChatStaff.max_chats, default),
        ChatStaff.max_chats,
        held_count(StaffAccount.id),
        ChatStaff.languages,
    )


def _as_loads(rows: Sequence[tuple[object, ...]]) -> list[StaffLoad]:
    return [
        StaffLoad(
            staff_id=row[0],  # type: ignore[arg-type]
            display_name=str(row[1]),
            centre=str(row[2]),
            duty=str(row[3]),
            max_chats=int(row[4]),  # type: ignore[call-overload]
            own_max=row[5],  # type: ignore[arg-type]
            active=int(row[6]),  # type: ignore[call-overload]
            languages=tuple(row[7] or ()),  # type: ignore[arg-type]
        )
        for row in rows
    ]


async def on_duty_loads(
    session: AsyncSession, staff_ids: Collection[uuid.UUID], default: int
) -> list[StaffLoad]:
    """Of these counsellors, the active accounts on duty, with their maximum and load."""
    if not staff_ids:
        return []
    result = await session.execute(
        select(*_loads(default))  # type: ignore[call-overload]
        .join(ChatStaff, ChatStaff.staff_id == StaffAccount.id)
        .join(Centre, Centre.id == StaffAccount.centre_id)
        .where(
            StaffAccount.id.in_(list(staff_ids)),
            StaffAccount.is_active.is_(True),
            ChatStaff.duty == Duty.on_duty.value,
        )
        .order_by(StaffAccount.display_name)
    )
    return _as_loads(result.all())


async def team_of_centre(
    session: AsyncSession, centre_id: uuid.UUID | None, default: int
) -> list[StaffLoad]:
    """The centre's active counsellors (every centre's when ``centre_id`` is None)."""
    query = (
        select(*_loads(default))  # type: ignore[call-overload]
        .outerjoin(ChatStaff, ChatStaff.staff_id == StaffAccount.id)
        .join(Centre, Centre.id == StaffAccount.centre_id)
        .where(
            StaffAccount.is_active.is_(True),
            _is_counsellor(),
        )
        .order_by(Centre.name, StaffAccount.display_name)
    )
    if centre_id is not None:
        query = query.where(StaffAccount.centre_id == centre_id)
    return _as_loads((await session.execute(query)).all())


async def counsellor_in_centre(
    session: AsyncSession, staff_id: uuid.UUID, centre_id: uuid.UUID | None
) -> StaffAccount | None:
    query = select(StaffAccount).where(
        StaffAccount.id == staff_id,
        _is_counsellor(),
    )
    if centre_id is not None:
        query = query.where(StaffAccount.centre_id == centre_id)
    return await session.scalar(query)
