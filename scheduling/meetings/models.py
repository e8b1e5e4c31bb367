"""Face-to-face meeting requests ("Ik wil liever iemand van het CLB zien").

Someone asks to meet the CLB in person, for themselves or — as a bridge figure, teacher,
care coordinator or social worker, with the person's consent — for someone else. The
centre follows from the school. Staff move the request through
new → assigned → contacted → scheduled → closed; every step is a row in
``meeting_request_events``. The requester follows it with a status link whose token is
derived from the secret key (see scheduling.tokens); only its hash is stored.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ARRAY, CheckConstraint, ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clb.db import Base, utcnow


class ForWhom(enum.StrEnum):
    self_pupil = "self_pupil"
    self_parent = "self_parent"
    other = "other"


class Relation(enum.StrEnum):
    """How someone filing for another person knows them."""

    brugfiguur = "brugfiguur"
    leerkracht = "leerkracht"
    zorgcoordinator = "zorgcoordinator"
    maatschappelijk_werker = "maatschappelijk_werker"
    andere = "andere"


class DayPart(enum.StrEnum):
    morning = "morning"
    afternoon = "afternoon"
    evening = "evening"


class Place(enum.StrEnum):
    office = "office"  # at a CLB location
    school = "school"
    other = "other"  # agreed on the phone


class RequestStatus(enum.StrEnum):
    new = "new"
    assigned = "assigned"
    contacted = "contacted"
    scheduled = "scheduled"
    closed = "closed"


STATUSES_SQL = "'new','assigned','contacted','scheduled','closed'"


class MeetingRequest(Base):
    __tablename__ = "meeting_requests"
    __table_args__ = (
        CheckConstraint("for_whom IN ('self_pupil','self_parent','other')", name="known_for_whom"),
        CheckConstraint(
            "requester_relation IN ('brugfiguur','leerkracht','zorgcoordinator',"
            "'maatschappelijk_werker','andere')",
            name="known_relation",
        ),
        # Filing for someone else needs who files, how they know the person, and consent.
        CheckConstraint(
            "for_whom <> 'other' OR (requester_relation IS NOT NULL "
            "AND requester_name IS NOT NULL AND consent_of_person)",
            name="other_has_consent",
        ),
        CheckConstraint(
            "phone IS NOT NULL OR email IS NOT NULL OR via_school OR via_bridge",
            name="reachable",
        ),
        CheckConstraint(
            "preferred_days <@ ARRAY[0,1,2,3,4]::smallint[]", name="known_preferred_days"
        ),
        CheckConstraint(
            "preferred_times <@ ARRAY['morning','afternoon','evening']::varchar[]",
            name="known_preferred_times",
        ),
        CheckConstraint("preferred_place IN ('office','school','other')", name="known_place"),
        CheckConstraint(f"status IN ({STATUSES_SQL})", name="known_status"),
        CheckConstraint("consent_contact", name="contact_consented"),
        CheckConstraint("status <> 'scheduled' OR appointment_id IS NOT NULL", name="scheduled"),
        Index("ix_meeting_requests_centre_status", "centre_id", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # Short code people can read out on the phone, e.g. "CLB-7K4Q-2M".
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    centre_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("centres.id"))
    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"))
    for_whom: Mapped[str] = mapped_column(String(12))
    requester_relation: Mapped[str | None] = mapped_column(String(30))
    consent_of_person: Mapped[bool] = mapped_column(default=False)
    first_name: Mapped[str] = mapped_column(String(60))
    requester_name: Mapped[str | None] = mapped_column(String(120))

    # How to reach someone: at least one of these.
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    via_school: Mapped[bool] = mapped_column(default=False)
    via_bridge: Mapped[bool] = mapped_column(default=False)
    # "Via mij": how to reach who filed the request for someone else (at least one of them).
    requester_phone: Mapped[str | None] = mapped_column(String(20))
    requester_email: Mapped[str | None] = mapped_column(String(254))

    preferred_days: Mapped[list[int]] = mapped_column(ARRAY(SmallInteger), default=list)
    preferred_times: Mapped[list[str]] = mapped_column(ARRAY(String(10)), default=list)
    preferred_place: Mapped[str] = mapped_column(String(10))
    interpreter_language: Mapped[str | None] = mapped_column(String(40))
    need: Mapped[str] = mapped_column(Text, default="")
    consent_contact: Mapped[bool]

    status: Mapped[str] = mapped_column(String(12), default=RequestStatus.new.value)
    close_reason: Mapped[str | None] = mapped_column(String(500))
    assigned_to: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_accounts.id"))
    appointment_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="SET NULL")
    )
    # The chat it was handed over from (no FK: chat retention may purge the conversation).
    handover_conversation_id: Mapped[uuid.UUID | None]
    first_contact_due_at: Mapped[datetime]

    # The language of the page it was filed on: its status messages are written in it.
    language: Mapped[str] = mapped_column(String(5), default="nl", server_default="nl")

    status_token_generation: Mapped[int] = mapped_column(default=0)
    status_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def is_open(self) -> bool:
        """Still waiting for a first contact (the SLA runs)."""
        return self.status in (RequestStatus.new.value, RequestStatus.assigned.value)


class MeetingRequestEvent(Base):
    """One step of a request: who (NULL: the requester or the system), when, from → to."""

    __tablename__ = "meeting_request_events"
    __table_args__ = (
        CheckConstraint(f"to_status IN ({STATUSES_SQL})", name="known_to_status"),
        CheckConstraint(f"from_status IN ({STATUSES_SQL})", name="known_from_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("meeting_requests.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="SET NULL")
    )
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12))
    # What staff typed (a close reason), or a fixed system line; never the request's need.
    note: Mapped[str] = mapped_column(String(500), default="")
