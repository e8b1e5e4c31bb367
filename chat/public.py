"""What other domains may use of the chat, and nothing further in: scheduling reads a chat's
handover summary (the face-to-face follow-up) and opens the chat of an appointment; the
privacy console (composition) finds, exports and erases one person's chats; the toolbox's
page for schools shows when the chat is open (a badge, a poster); staff notifications ask
which questions ("Stel je vraag") wait past their answer target (``take_questions_past_target``:
id, due_at, flagged); the toolbox's search asks whether a query is a crisis
(``is_crisis_text``: the crisis help box)."""

from __future__ import annotations

from chat.conversations.personal_data import CONVERSATION, ChatRecord, erase_chats, records_of
from chat.conversations.service import open_assigned_conversation
from chat.counsellor_tools.handover import (
    HandoverSummary,
    find_handover,
    summary_for_conversation,
)
from chat.opening_hours.opening import ChatOpening, chat_opening, chat_status_text
from chat.opening_hours.schedule import BRUSSELS, ChatClock, Period, chat_clock
from chat.questions.repository import PastTarget
from chat.questions.service import take_questions_past_target
from chat.triage.service import would_flag
from clb.services import Services

__all__ = [
    "BRUSSELS",
    "CONVERSATION",
    "ChatClock",
    "ChatOpening",
    "ChatRecord",
    "HandoverSummary",
    "PastTarget",
    "Period",
    "chat_clock",
    "chat_opening",
    "chat_status_text",
    "is_crisis_text",
    "erase_chats",
    "find_handover",
    "open_assigned_conversation",
    "take_questions_past_target",
    "records_of",
    "summary_for_conversation",
]


async def is_crisis_text(services: Services, text: str) -> bool:
    """Whether the chat's crisis lexicon (coordinators' triage terms, the same matcher and
    cache as the chat's triage) flags this text. Nothing is stored or logged."""
    return await would_flag(services, text)
