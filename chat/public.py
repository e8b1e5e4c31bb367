"""What other domains may use of the chat, and nothing further in: scheduling reads a chat's
handover summary (the face-to-face follow-up) and opens the chat of an appointment."""

from __future__ import annotations

from chat.conversations.service import open_assigned_conversation
from chat.counsellor_tools.handover import (
    HandoverSummary,
    find_handover,
    summary_for_conversation,
)

__all__ = [
    "HandoverSummary",
    "find_handover",
    "open_assigned_conversation",
    "summary_for_conversation",
]
