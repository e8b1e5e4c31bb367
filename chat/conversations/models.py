"""Conversations and their messages.

A conversation's messages are numbered by ``seq`` (1, 2, 3 … without gaps); the number is
taken under a row lock on the conversation, so the order is the same for everyone and a
client can ask for "everything after N" after any interruption.
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


class Status(enum.StrEnum):
    waiting = "waiting"
    active = "active"
    ended = "ended"
    abandoned = "abandoned"


class Sender(enum.StrEnum):
    visitor = "visitor"
    counsellor = "counsellor"
    system = "system"


class Who(enum.StrEnum):
    leerling = "leerling"
    ouder = "ouder"
    andere = "andere"


class AgeBand(enum.StrEnum):
    basis = "basis"
    secundair_1 = "secundair_1"
    secundair_2 = "secundair_2"
    secundair_3 = "secundair_3"
    hoger = "hoger"
    volwassene = "volwassene"


class Topic(enum.StrEnum):
    school = "school"
    studiekeuze = "studiekeuze"
    thuis = "thuis"
    vrienden = "vrienden"
    gevoelens = "gevoelens"
    pesten = "pesten"
    gezondheid = "gezondheid"
    iets_anders = "iets_anders"


OPEN_STATUSES = (Status.waiting.value, Status.active.value)


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
        # One waiting or running conversation per visitor, enforced by the database.
        Index(
            "uq_conversations_open_per_visitor",
            "visitor_id",
            unique=True,
            postgresql_where=text("status IN ('waiting', 'active')"),
        ),
        # Statistics select conversations by the day they joined the queue.
        Index("ix_conversations_created_at", "created_at"),
        Index(
            "ix_conversations_queue",
            "priority",
            "created_at",
            postgresql_where=text("status = 'waiting'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    visitor_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("visitors.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(20), default=Status.waiting.value)
    # What the pre-chat form asked; nickname and subject are wiped by the retention purge.
    nickname: Mapped[str] = mapped_column(String(40))
    who: Mapped[str] = mapped_column(String(20))
    age_band: Mapped[str | None] = mapped_column(String(20))
    topic: Mapped[str] = mapped_column(String(20))
    # No longer asked by the form (the topic is the one question); older chats and chats by
    # appointment keep theirs.
    subject: Mapped[str | None] = mapped_column(String(120))
    # The language the visitor chats in (a code of clb.i18n.LANGUAGE_NAMES): "Volgende
    # gesprek" offers it first to a counsellor who speaks it.
    language: Mapped[str] = mapped_column(String(5), default="nl", server_default="nl")
    priority: Mapped[int] = mapped_column(default=0)
    # Set by crisis triage while a flag is open (chat.console_models.ConversationFlag).
    flagged_at: Mapped[datetime | None]
    counsellor_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="SET NULL"), index=True
    )
    last_seq: Mapped[int] = mapped_column(default=0)
    time_limit_minutes: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The visitor's first socket: only from then on is the chat in the queue. One that
    # never connected is not offered, waited for or counted.
    joined_at: Mapped[datetime | None]
    # Quick exit during a running chat: gone on purpose (the counsellor decides the end).
    visitor_left_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]  # the first claim (wait statistics)
    # The latest claim from the queue: the time limit counts from here (after a cold
    # transfer the next counsellor gets the whole time).
    talk_started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(String(20))
    visitor_delivered_seq: Mapped[int] = mapped_column(default=0)
    visitor_read_seq: Mapped[int] = mapped_column(default=0)
    counsellor_delivered_seq: Mapped[int] = mapped_column(default=0)
    counsellor_read_seq: Mapped[int] = mapped_column(default=0)
    rating: Mapped[int | None]
    rating_comment: Mapped[str | None] = mapped_column(String(500))
    purged_at: Mapped[datetime | None]


class Message(Base):
    __tablename__ = "chat_messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq"),
        # A resend of the same client_msg_id finds the original instead of a second row.
        UniqueConstraint("conversation_id", "sender", "client_msg_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    seq: Mapped[int]
    sender: Mapped[str] = mapped_column(String(20))
    author_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="SET NULL")
    )
    client_msg_id: Mapped[uuid.UUID | None]
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
