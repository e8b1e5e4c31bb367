"""What other domains may use of the chat, and nothing further in: scheduling reads a chat's
handover summary (the face-to-face follow-up) and opens the chat of an appointment."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from chat.conversations import repository, service
from chat.conversations.models import OPEN_STATUSES, Conversation
from chat.counsellor_tools.handover import (
    HandoverSummary,
    find_handover,
    summary_for_conversation,
)
from clb.auth.models import StaffAccount
from clb.services import Services

__all__ = [
    "HandoverSummary",
    "find_handover",
    "open_assigned_conversation",
    "summary_for_conversation",
]


async def open_assigned_conversation(
    session: AsyncSession,
    services: Services,
    conversation_id: uuid.UUID | None,
    visitor_id: uuid.UUID,
    counsellor: StaffAccount,
    *,
    nickname: str,
    subject: str,
    time_limit_minutes: int,
    now: datetime,
) -> Conversation:
    """The conversation ``conversation_id`` handed to ``visitor_id`` while it is still open
    (a second device or a lost tab takes it over), else a new one held by ``counsellor``
    that skips the queue (service.start_assigned_conversation)."""
    existing = (
        await repository.get_conversation(session, conversation_id) if conversation_id else None
    )
    if existing is not None and existing.status in OPEN_STATUSES:
        existing.visitor_id = visitor_id
        return existing
    return await service.start_assigned_conversation(
        session,
        services,
        visitor_id,
        counsellor,
        nickname=nickname,
        subject=subject,
        time_limit_minutes=time_limit_minutes,
        now=now,
    )
