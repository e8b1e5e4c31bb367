"""Stel je vraag: an anonymous question that can wait, and its thread.

The person is known only by a pick-up code (chat.questions.codes): only its SHA-256 hash is
stored. They may leave an e-mail address, used for one thing only: a notice that an answer
is there (the notice holds no question or answer text). Messages are numbered by ``seq``
(1, 2, 3 …), taken by bumping ``last_seq`` under the question's row lock, so every instance
shows the same order.

``due_at`` is the answer target shown to the person: set when the person writes and no
answer is pending yet, cleared (``awaiting_answer`` false) when a counsellor answers.
A triage hit sets ``flagged_at`` and the lexicon term (never the text).
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Identity,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from clb.db import Base, utcnow

BODY_MAX = 4000


class Author(enum.StrEnum):
    person = "person"
    counsellor = "counsellor"


class Question(Base):
    __tablename__ = "questions"
    __table_args__ = (
        CheckConstraint("last_seq >= 0", name="seq_not_negative"),
        Index(
            "ix_questions_open_due",
            "due_at",
            postgresql_where=text("closed_at IS NULL"),
        ),
        Index("ix_questions_closed_at", "closed_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The intake, as the chat asks it; all optional (chat.conversations.models).
    who: Mapped[str | None] = mapped_column(String(20))
    age_band: Mapped[str | None] = mapped_column(String(20))
    topic: Mapped[str | None] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(8), default="nl")
    # Only for the notice "there is an answer"; never shown with the question elsewhere.
    email: Mapped[str | None] = mapped_column(String(254))
    last_seq: Mapped[int] = mapped_column(default=0)
    awaiting_answer: Mapped[bool] = mapped_column(default=True)
    due_at: Mapped[datetime]
    # The target counsellors were last told this question waits past (a reply sets a new
    # target, which may be told about again).
    overdue_noticed_for: Mapped[datetime | None]
    flagged_at: Mapped[datetime | None]
    flag_term: Mapped[str | None] = mapped_column(String(100))
    claimed_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="SET NULL")
    )
    claimed_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def short_id(self) -> str:
        """How staff name a question (no secret: the id is not the pick-up code)."""
        return self.id.hex[:6].upper()


class QuestionMessage(Base):
    __tablename__ = "question_messages"
    __table_args__ = (
        UniqueConstraint("question_id", "seq", name="uq_question_messages_seq"),
        CheckConstraint("author IN ('person','counsellor')", name="known_author"),
        CheckConstraint("seq > 0", name="seq_positive"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    question_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int]
    author: Mapped[str] = mapped_column(String(12))
    staff_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="SET NULL")
    )
    # The counsellor's display name as the person saw it (kept with the thread).
    author_name: Mapped[str | None] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
