"""What other domains may use of the chat, and nothing further in: scheduling reads a chat's
handover summary (the face-to-face follow-up) and opens the chat of an appointment; the
privacy console (composition) finds, exports and erases one person's chats."""

from __future__ import annotations

from chat.conversations.personal_data import CONVERSATION, ChatRecord, erase_chats, records_of
from chat.conversations.service import open_assigned_conversation
from chat.counsellor_tools.handover import (
    HandoverSummary,
    find_handover,
    summary_for_conversation,
)

__all__ = [
    "CONVERSATION",
    "ChatRecord",
    "HandoverSummary",
    "erase_chats",
    "find_handover",
    "open_assigned_conversation",
    "records_of",
    "summary_for_conversation",
]
