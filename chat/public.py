"""What other domains may use of the chat, and nothing further in: scheduling reads a chat's
handover summary (the face-to-face follow-up) and opens the chat of an appointment; the
privacy console (composition) finds, exports and erases one person's chats; the toolbox's
page for schools shows when the chat is open (a badge, a poster)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from chat.conversations.personal_data import CONVERSATION, ChatRecord, erase_chats, records_of
from chat.conversations.service import open_assigned_conversation
from chat.counsellor_tools.handover import (
    HandoverSummary,
    find_handover,
    summary_for_conversation,
)
from chat.opening_hours.schedule import BRUSSELS, ChatClock, Period, chat_clock
from chat.opening_hours.service import load_schedule
from clb.config import Settings

__all__ = [
    "BRUSSELS",
    "CONVERSATION",
    "ChatClock",
    "ChatOpening",
    "ChatRecord",
    "HandoverSummary",
    "Period",
    "chat_clock",
    "chat_opening",
    "erase_chats",
    "find_handover",
    "open_assigned_conversation",
    "records_of",
    "summary_for_conversation",
]


@dataclass(frozen=True)
class ChatOpening:
    """The chat's hours as someone outside it tells them. ``can_start``: a new chat may start
    now (open, and not in the last minutes before closing, when only running chats go on).
    Times are Brussels wall-clock times; ``closes_at`` is None when closed, or always open."""

    can_start: bool
    closes_at: datetime | None
    next_opening: datetime | None
    weekly: Mapping[int, tuple[Period, ...]]  # the usual week, 0 = Monday


async def chat_opening(session: AsyncSession, settings: Settings, now: datetime) -> ChatOpening:
    """Now, by the same rule the chat's start applies (``CLB_CHAT_ALWAYS_OPEN`` included)."""
    schedule = await load_schedule(session, now)
    status = schedule.status(now, settings.chat_intake_stop_minutes)
    if settings.chat_always_open:
        return ChatOpening(True, None, status.next_opening, schedule.weekly)
    closes_at = status.closes_at if status.intake_open else None
    return ChatOpening(status.intake_open, closes_at, status.next_opening, schedule.weekly)
