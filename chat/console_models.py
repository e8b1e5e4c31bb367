"""What the counsellor console and supervision add to a conversation: duty and capacity,
transfers, private notes and whispers, canned replies, the outcome at close, and crisis
triage (the lexicon and the flags it raised).

None of these tables holds what a visitor typed, except ``conversation_flags.term``, which
is the lexicon entry that matched (not the message), so statistics and the audit stay
content-free.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ARRAY, CheckConstraint, ForeignKey, Index, SmallInteger, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from clb.db import Base, utcnow


class Duty(enum.StrEnum):
    on_duty = "on_duty"
    pause = "pause"
    off_duty = "off_duty"


class ChatStaff(Base):
    """A counsellor's chat state. Available = on duty AND a fresh console heartbeat (Redis);
    ``duty`` alone never makes anyone available."""

    __tablename__ = "chat_staff"
    __table_args__ = (
        CheckConstraint("duty IN ('on_duty', 'pause', 'off_duty')", name="known_duty"),
        CheckConstraint("max_chats IS NULL OR max_chats BETWEEN 1 AND 10", name="max_chats_range"),
    )

    staff_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    duty: Mapped[str] = mapped_column(String(10), default=Duty.off_duty.value)
    duty_since: Mapped[datetime] = mapped_column(default=utcnow)
    # NULL: the platform default (settings.chat_counsellor_capacity). Set by a coordinator.
    max_chats: Mapped[int | None] = mapped_column(SmallInteger)


class TransferKind(enum.StrEnum):
    warm = "warm"  # to a named colleague, with a handover note
    cold = "cold"  # back to the queue at its original place


class ConversationTransfer(Base):
    __tablename__ = "conversation_transfers"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10))
    from_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="SET NULL")
    )
    to_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


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
