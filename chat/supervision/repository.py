"""Queries behind the coordinators' dashboard, the read-along and the whisper.

Read-only over the chat tables (``chat_staff`` is written by the duty control, not here),
except for the whisper note, which is a ``conversation_notes`` row."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from chat.console.models import ChatStaff
from chat.conversations.models import OPEN_STATUSES, Conversation, Status
from chat.counsellor_tools.models import ConversationNote, NoteKind
from chat.triage.models import ConversationFlag
from clb.audit import AuditEvent
from clb.auth.models import StaffAccount
from clb.org.models import Centre

LIST_LIMIT = 200


@dataclass(frozen=True)
class WaitingSummary:
    count: int
    oldest: datetime | None


@dataclass(frozen=True)
class StaffRow:
    staff_id: uuid.UUID
    name: str
    duty: str
    duty_since: datetime | None
    max_chats: int | None


@dataclass(frozen=True)
class RunningChat:
    conversation: Conversation
    counsellor: str | None
    counsellor_centre: uuid.UUID | None = None


@dataclass(frozen=True)
class OpenFlag:
    conversation: Conversation
    counsellor: str | None
    source: str
    term: str
    at: datetime
    counsellor_centre: uuid.UUID | None = None


@dataclass(frozen=True)
class SettingChange:
    action: str
    at: datetime
    by: str | None


async def waiting_since(session: AsyncSession) -> dict[uuid.UUID, datetime]:
    """Every waiting chat whose visitor connected at least once, and since when it waits."""
    rows = await session.execute(
        select(Conversation.id, Conversation.created_at).where(
            Conversation.status == Status.waiting.value, Conversation.joined_at.is_not(None)
        )
    )
    return {row[0]: row[1] for row in rows.all()}


async def centre_of(session: AsyncSession, staff_id: uuid.UUID) -> uuid.UUID | None:
    """The centre a staff member (e.g. the counsellor holding a chat) belongs to."""
    return await session.scalar(select(StaffAccount.centre_id).where(StaffAccount.id == staff_id))


async def centre_reads_along(session: AsyncSession, centre_id: uuid.UUID) -> bool:
    return bool(await session.scalar(select(Centre.chat_read_along).where(Centre.id == centre_id)))


async def any_centre_reads_along(session: AsyncSession) -> bool:
    return bool(await session.scalar(select(func.bool_or(Centre.chat_read_along))))


async def centre(
    session: AsyncSession, centre_id: uuid.UUID, *, lock: bool = False
) -> Centre | None:
    query = select(Centre).where(Centre.id == centre_id)
    return await session.scalar(query.with_for_update() if lock else query)


async def last_setting_change(
    session: AsyncSession, centre_id: uuid.UUID, actions: Sequence[str]
) -> SettingChange | None:
    """The latest audited change of a centre's setting, with who made it."""
    actor = aliased(StaffAccount)
    row = (
        await session.execute(
            select(AuditEvent.action, AuditEvent.at, actor.full_name)
            .outerjoin(actor, actor.id == AuditEvent.actor_id)
            .where(
                AuditEvent.object_type == "centre",
                AuditEvent.object_id == str(centre_id),
                AuditEvent.action.in_(actions),
            )
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .limit(1)
        )
    ).first()
    return SettingChange(row[0], row[1], row[2]) if row else None


async def running_chats(session: AsyncSession) -> list[RunningChat]:
    counsellor = aliased(StaffAccount)
    rows = await session.execute(
        select(Conversation, counsellor.display_name, counsellor.centre_id)
        .outerjoin(counsellor, counsellor.id == Conversation.counsellor_id)
        .where(Conversation.status == Status.active.value)
        .order_by(Conversation.claimed_at)
        .limit(LIST_LIMIT)
    )
    return [RunningChat(c, name, centre) for c, name, centre in rows.all()]


async def active_chats_per_counsellor(session: AsyncSession) -> dict[uuid.UUID, int]:
    rows = await session.execute(
        select(Conversation.counsellor_id, func.count())
        .where(Conversation.status == Status.active.value, Conversation.counsellor_id.is_not(None))
        .group_by(Conversation.counsellor_id)
    )
    return {staff_id: int(count) for staff_id, count in rows.all() if staff_id is not None}


async def chat_staff_rows(session: AsyncSession, also: set[uuid.UUID]) -> list[StaffRow]:
    """Everyone with a duty state other than off duty, plus ``also`` (consoles heard from
    recently), whatever their duty."""
    interesting = ChatStaff.duty != "off_duty"
    if also:
        interesting = interesting | StaffAccount.id.in_(also)
    rows = await session.execute(
        select(
            StaffAccount.id,
            StaffAccount.display_name,
            ChatStaff.duty,
            ChatStaff.duty_since,
            ChatStaff.max_chats,
        )
        .outerjoin(ChatStaff, ChatStaff.staff_id == StaffAccount.id)
        .where(StaffAccount.is_active, interesting)
        .order_by(StaffAccount.display_name, StaffAccount.id)
        .limit(LIST_LIMIT)
    )
    return [
        StaffRow(staff_id, name, duty or "off_duty", since, max_chats)
        for staff_id, name, duty, since, max_chats in rows.all()
    ]


async def open_flags(session: AsyncSession) -> list[OpenFlag]:
    """Undismissed flags of waiting or running conversations, newest first."""
    counsellor = aliased(StaffAccount)
    rows = await session.execute(
        select(
            Conversation,
            counsellor.display_name,
            ConversationFlag.source,
            ConversationFlag.term,
            ConversationFlag.created_at,
            counsellor.centre_id,
        )
        .join(Conversation, Conversation.id == ConversationFlag.conversation_id)
        .outerjoin(counsellor, counsellor.id == Conversation.counsellor_id)
        .where(ConversationFlag.dismissed_at.is_(None), Conversation.status.in_(OPEN_STATUSES))
        .order_by(ConversationFlag.created_at.desc(), ConversationFlag.id.desc())
        .limit(LIST_LIMIT)
    )
    return [
        OpenFlag(c, name, source, term, at, centre)
        for c, name, source, term, at, centre in rows.all()
    ]


async def flags_of(session: AsyncSession, conversation_id: uuid.UUID) -> Sequence[ConversationFlag]:
    rows = await session.scalars(
        select(ConversationFlag)
        .where(
            ConversationFlag.conversation_id == conversation_id,
            ConversationFlag.dismissed_at.is_(None),
        )
        .order_by(ConversationFlag.created_at)
    )
    return rows.all()


async def add_whisper(
    session: AsyncSession,
    conversation_id: uuid.UUID,
    author_id: uuid.UUID,
    recipient_id: uuid.UUID,
    body: str,
    at: datetime,
) -> ConversationNote:
    note = ConversationNote(
        conversation_id=conversation_id,
        kind=NoteKind.whisper.value,
        author_id=author_id,
        recipient_id=recipient_id,
        body=body,
        created_at=at,
    )
    session.add(note)
    await session.flush()
    return note


async def whispers_for(
    session: AsyncSession, conversation_id: uuid.UUID, recipient_id: uuid.UUID
) -> list[tuple[ConversationNote, str | None]]:
    author = aliased(StaffAccount)
    rows = await session.execute(
        select(ConversationNote, author.display_name)
        .outerjoin(author, author.id == ConversationNote.author_id)
        .where(
            ConversationNote.conversation_id == conversation_id,
            ConversationNote.kind == NoteKind.whisper.value,
            ConversationNote.recipient_id == recipient_id,
        )
        .order_by(ConversationNote.created_at, ConversationNote.id)
        .limit(LIST_LIMIT)
    )
    return [(note, name) for note, name in rows.all()]


async def recent_audit(
    session: AsyncSession,
    actor_id: uuid.UUID,
    action: str,
    object_id: str,
    since: datetime,
) -> bool:
    found = await session.scalar(
        select(AuditEvent.id)
        .where(
            AuditEvent.actor_id == actor_id,
            AuditEvent.action == action,
            AuditEvent.object_id == object_id,
            AuditEvent.at >= since,
        )
        .limit(1)
    )
    return found is not None


async def audit_page(
    session: AsyncSession, offset: int, limit: int, actions: Sequence[str] | None = None
) -> tuple[list[tuple[AuditEvent, str | None, str | None]], int]:
    """One page of the audit log, newest first, with the actor's name and e-mail; and the
    total count."""
    actor = aliased(StaffAccount)
    query = select(AuditEvent, actor.full_name, actor.email).outerjoin(
        actor, actor.id == AuditEvent.actor_id
    )
    counting = select(func.count()).select_from(AuditEvent)
    if actions:
        query = query.where(AuditEvent.action.in_(actions))
        counting = counting.where(AuditEvent.action.in_(actions))
    rows = await session.execute(
        query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).offset(offset).limit(limit)
    )
    total = int(await session.scalar(counting) or 0)
    return [(event, name, email) for event, name, email in rows.all()], total
