"""What the counsellor console and supervision add to a conversation: duty and capacity,"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from clb.db import Base, utcnow


class TriageTerm(Base):
    """One entry of the crisis lexicon (a word, phrase, misspelling or emoji), stored as
    typed but lower-cased; duplicates are refused by their normalised form (chat.triage_match).
    Coordinators edit the list."""

    __tablename__ = "triage_terms"

    id: Mapped[int] = mapped_column(primary_key=True)
    term: Mapped[str] = mapped_column(String(100), unique=True)
    added_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConversationFlag(Base):
    """A triage hit. Open while ``dismissed_at`` is NULL; a counsellor dismisses a false
    flag with a reason. Nothing is ever auto-replied or closed because of a flag."""

    __tablename__ = "conversation_flags"
    __table_args__ = (
        Index(
            "ix_conversation_flags_open",
            "conversation_id",
            postgresql_where=text("dismissed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[str] = mapped_column(String(10))  # "subject" or "message"
    seq: Mapped[int | None]
    term: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    dismissed_at: Mapped[datetime | None]
    dismissed_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="SET NULL")
    )
    dismiss_reason: Mapped[str | None] = mapped_column(String(300))
