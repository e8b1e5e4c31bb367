"""What the counsellor console and supervision add to a conversation: duty and capacity,"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ARRAY, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clb.db import Base, utcnow


class NoteKind(enum.StrEnum):
    note = "note"  # a counsellor's private note
    handover = "handover"  # written with a warm transfer, for the colleague
    whisper = "whisper"  # a coordinator's message that only the counsellor sees


class ConversationNote(Base):
    """Staff-only text about a conversation; never sent to the visitor. Purged with the
    transcript."""

    __tablename__ = "conversation_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10))
    author_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="SET NULL")
    )
    # For a whisper or a handover: who it is for.
    recipient_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="SET NULL")
    )
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CannedReply(Base):
    """Shared by a centre (``owner_id`` NULL) or personal (``owner_id`` set)."""

    __tablename__ = "canned_replies"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    centre_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("centres.id", ondelete="CASCADE"), index=True
    )
    owner_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ConversationOutcome(Base):
    """What the counsellor records at close: codes from the taxonomy (statistics keep them
    after the purge), and an optional summary behind a handover code the visitor can give
    to their own CLB (the summary and code go with the transcript purge)."""

    __tablename__ = "conversation_outcomes"

    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    topics: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    referrals: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    summary: Mapped[str | None] = mapped_column(String(1000))
    handover_code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="SET NULL")
    )
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
