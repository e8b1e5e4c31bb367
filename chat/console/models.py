"""What the counsellor console and supervision add to a conversation: duty and capacity,"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, SmallInteger, String
from sqlalchemy.dialects.postgresql import ARRAY
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
    # The chat languages they speak besides Dutch (codes of clb.i18n.LANGUAGE_NAMES).
    languages: Mapped[list[str]] = mapped_column(
        ARRAY(String(5)), default=list, server_default="{}"
    )


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
