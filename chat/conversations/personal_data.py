"""The chats of one person, for a privacy request (composition's ``/console/privacy``): the
chats their appointment or face-to-face request links to, and the chats held by the
centre's counsellors in which their e-mail address or phone number was written (nickname,
subject, a message, the rating's comment, a staff note or the outcome's summary).

Erasing one is the retention purge, done now: the transcript, what the visitor typed and
the notes, summary and handover code go; the counts and codes the statistics read stay. A
chat still running is shown but not erased (its counsellor ends it first).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, false, func, or_, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from chat.conversations.models import OPEN_STATUSES, Conversation, Message
from chat.conversations.repository import purge_transcript
from chat.counsellor_tools.models import ConversationNote, ConversationOutcome
from chat.counsellor_tools.repository import purge_counsellor_tools
from clb.auth.models import StaffAccount
from clb.db import columns_of

CONVERSATION = "conversation"
_PHONE_CHARS = r"[\s./()-]"


@dataclass(frozen=True)
class ChatRecord:
    """One chat: ``fields`` holds every stored column, ``related`` its messages, notes and
    outcome. The other attributes match scheduling's records, so a page shows both."""

    id: uuid.UUID
    when: datetime
    fields: dict[str, Any]
    related: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    kind: str = CONVERSATION
    reference: str = ""
    as_booker: bool = False
    conversation_ids: tuple[uuid.UUID, ...] = ()


def _mentions(column: Any, email: str | None, phones: Sequence[str]) -> list[ColumnElement[bool]]:
    """The column holds the address (any case) or one of the numbers (spacing ignored)."""
    found: list[ColumnElement[bool]] = []
    if email:
        found.append(column.icontains(email, autoescape=True))
    found += [
        func.regexp_replace(column, _PHONE_CHARS, "", "g").contains(phone, autoescape=True)
        for phone in phones
    ]
    return found


def _written_in(centre_id: uuid.UUID, email: str | None, phones: Sequence[str]) -> Select[Any]:
    held = (
        select(Conversation.id)
        .join(StaffAccount, StaffAccount.id == Conversation.counsellor_id)
        .where(StaffAccount.centre_id == centre_id, Conversation.purged_at.is_(None))
    )
    in_form = held.where(
        or_(
            false(),
            *_mentions(Conversation.nickname, email, phones),
            *_mentions(Conversation.subject, email, phones),
            *_mentions(Conversation.rating_comment, email, phones),
        )
    )
    parts: list[Select[Any]] = [in_form]
    for owner, text in (
        (Message.conversation_id, Message.body),
        (ConversationNote.conversation_id, ConversationNote.body),
        (ConversationOutcome.conversation_id, ConversationOutcome.summary),
    ):
        parts.append(
            select(owner).where(owner.in_(held), or_(false(), *_mentions(text, email, phones)))
        )
    return select(union(*parts).subquery().c[0])


async def records_of(
    session: AsyncSession,
    centre_id: uuid.UUID,
    *,
    conversation_ids: Collection[uuid.UUID] = (),
    email: str | None = None,
    phones: Sequence[str] = (),
) -> list[ChatRecord]:
    """These chats and the centre's chats that mention the address or number, unless
    already purged; the oldest first."""
    wanted: list[ColumnElement[bool]] = []
    if conversation_ids:
        wanted.append(Conversation.id.in_(list(conversation_ids)))
    if email or phones:
        wanted.append(Conversation.id.in_(_written_in(centre_id, email, phones)))
    rows = await session.scalars(
        select(Conversation)
        .where(Conversation.purged_at.is_(None), or_(false(), *wanted))
        .order_by(Conversation.created_at, Conversation.id)
    )
    return [await _record(session, conversation) for conversation in rows.all()]


async def _record(session: AsyncSession, conversation: Conversation) -> ChatRecord:
    messages = await session.scalars(
        select(Message).where(Message.conversation_id == conversation.id).order_by(Message.seq)
    )
    notes = await session.scalars(
        select(ConversationNote)
        .where(ConversationNote.conversation_id == conversation.id)
        .order_by(ConversationNote.created_at, ConversationNote.id)
    )
    outcome = await session.get(ConversationOutcome, conversation.id)
    return ChatRecord(
        id=conversation.id,
        when=conversation.created_at,
        fields=columns_of(conversation),
        related={
            "messages": [columns_of(m) for m in messages],
            "notes": [columns_of(n) for n in notes],
            "outcome": [columns_of(outcome)] if outcome is not None else [],
        },
    )


async def erase_chats(session: AsyncSession, ids: Collection[uuid.UUID], now: datetime) -> int:
    """Purge these chats now, as retention would; a running one is left. Returns how many
    were purged."""
    purged = 0
    for conversation_id in ids:
        conversation = await session.get(Conversation, conversation_id)
        if conversation is None or conversation.status in OPEN_STATUSES:
            continue
        if await purge_transcript(session, conversation_id, now):
            await purge_counsellor_tools(session, conversation_id)
            purged += 1
    return purged
