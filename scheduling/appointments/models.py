"""Appointments with CLB workers: what can be booked, when, and what was booked."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clb.db import Base, utcnow

MODES_SQL = "ARRAY['office','school','phone','video','chat']::varchar[]"


# The same relations as a meeting request's (scheduling.meeting_models.Relation).
RELATIONS_SQL = "'brugfiguur','leerkracht','zorgcoordinator','maatschappelijk_werker','andere'"


class Mode(enum.StrEnum):
    """How the person meets the CLB worker."""

    office = "office"  # at a CLB location
    school = "school"
    phone = "phone"
    video = "video"
    chat = "chat"  # a chat room that opens at the appointment's time


class Status(enum.StrEnum):
    confirmed = "confirmed"
    cancelled = "cancelled"
    no_show = "no_show"


class CancelledBy(enum.StrEnum):
    person = "person"
    staff = "staff"


class Channel(enum.StrEnum):
    email = "email"
    sms = "sms"


class NotificationKind(enum.StrEnum):
    confirmation = "confirmation"
    reminder = "reminder"
    rescheduled = "rescheduled"
    cancelled = "cancelled"


class AppointmentType(Base):
    """What an appointment is for, and how long it takes (kennismaking, gesprek …)."""

    __tablename__ = "appointment_types"
    __table_args__ = (
        CheckConstraint("duration_minutes BETWEEN 5 AND 480", name="duration_range"),
        CheckConstraint(
            "buffer_before_minutes BETWEEN 0 AND 120 AND buffer_after_minutes BETWEEN 0 AND 120",
            name="buffer_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    # Dutch source text, translated through the i18n layer when shown.
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(String(300), default="")
    duration_minutes: Mapped[int] = mapped_column(SmallInteger)
    buffer_before_minutes: Mapped[int] = mapped_column(SmallInteger, default=0)
    buffer_after_minutes: Mapped[int] = mapped_column(SmallInteger, default=0)
    is_active: Mapped[bool] = mapped_column(default=True)
    sort_order: Mapped[int] = mapped_column(SmallInteger, default=0)


class Appointment(Base):
    __tablename__ = "appointments"
    __table_args__ = (
        CheckConstraint("starts_at < ends_at", name="period_order"),
        CheckConstraint(
            "blocked_from <= starts_at AND blocked_until >= ends_at", name="blocked_covers"
        ),
        CheckConstraint("mode IN ('office','school','phone','video','chat')", name="known_mode"),
        CheckConstraint("status IN ('confirmed','cancelled','no_show')", name="known_status"),
        CheckConstraint("email IS NOT NULL OR phone IS NOT NULL", name="reachable"),
        CheckConstraint(
            f"booked_for_relation IN ({RELATIONS_SQL})", name="known_booked_for_relation"
        ),
        # Booked for someone else: who booked it and how to reach them.
        CheckConstraint(
            "booked_for_relation IS NULL OR (booker_name IS NOT NULL "
            "AND (booker_email IS NOT NULL OR booker_phone IS NOT NULL))",
            name="booker_named",
        ),
        # The guarantee against double booking, whatever the application does.
        ExcludeConstraint(
            (text("counsellor_id"), "="),
            (text("tstzrange(blocked_from, blocked_until, '[)')"), "&&"),
            name="ex_appointments_no_overlap",
            using="gist",
            where=text("status <> 'cancelled'"),
        ),
        Index("ix_appointments_counsellor_starts", "counsellor_id", "starts_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    counsellor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_accounts.id"))
    centre_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("centres.id"), index=True)
    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"))
    type_id: Mapped[int] = mapped_column(ForeignKey("appointment_types.id"))
    mode: Mapped[str] = mapped_column(String(10))
    location_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("locations.id"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    blocked_from: Mapped[datetime]
    blocked_until: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(12), default=Status.confirmed.value)

    # The person: as little as possible.
    first_name: Mapped[str] = mapped_column(String(60))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(5), default="nl")
    topic: Mapped[str] = mapped_column(String(500), default="")
    # Booked "voor iemand anders": the booker's relation to the person, name and contact.
    booked_for_relation: Mapped[str | None] = mapped_column(String(30))
    booker_name: Mapped[str | None] = mapped_column(String(120))
    booker_email: Mapped[str | None] = mapped_column(String(254))
    booker_phone: Mapped[str | None] = mapped_column(String(20))
    # The chat this booking was handed over from (no FK: chat retention may purge it).
    handover_conversation_id: Mapped[uuid.UUID | None]

    # Manage link: token derived from the secret key and this generation; hash stored.
    manage_token_generation: Mapped[int] = mapped_column(default=0)
    manage_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # ICS SEQUENCE: bumped on every reschedule and on cancellation.
    sequence: Mapped[int] = mapped_column(default=0)
    idempotency_key_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    request_fingerprint: Mapped[str | None] = mapped_column(String(64))

    # Mode "chat": the conversation the person opened at the agreed time.
    conversation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL")
    )
    # Mode "video": the room's name on the video server (scheduling.appointments.video_room).
    video_room: Mapped[str | None] = mapped_column(String(40), unique=True)
    counsellor_note: Mapped[str] = mapped_column(Text, default="")
    cancel_reason: Mapped[str] = mapped_column(String(500), default="")
    cancelled_by: Mapped[str | None] = mapped_column(String(10))
    cancelled_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=func.now())

    @property
    def uid(self) -> str:
        """Stable across reschedules: calendar apps update the same event."""
        return f"{self.id}@clb-platform"

    @property
    def is_active(self) -> bool:
        return self.status == Status.confirmed.value


class AppointmentNotification(Base):
    """A message that went out about an appointment (never its content)."""

    __tablename__ = "appointment_notifications"
    # One record per job and channel: a retry after a failure on the other channel skips
    # what already went out.
    __table_args__ = (UniqueConstraint("job_id", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int | None]
    appointment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(10))
    # The appointment's start the message was about (a reminder for an old time is a bug).
    about_starts_at: Mapped[datetime]
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
