"""meeting requests

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 13:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = "'new','assigned','contacted','scheduled','closed'"


def upgrade() -> None:
    op.create_table(
        "meeting_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("centre_id", sa.Uuid(), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("for_whom", sa.String(length=12), nullable=False),
        sa.Column("requester_relation", sa.String(length=30), nullable=True),
        sa.Column("consent_of_person", sa.Boolean(), nullable=False),
        sa.Column("first_name", sa.String(length=60), nullable=False),
        sa.Column("requester_name", sa.String(length=120), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("via_school", sa.Boolean(), nullable=False),
        sa.Column("via_bridge", sa.Boolean(), nullable=False),
        sa.Column("preferred_days", sa.ARRAY(sa.SmallInteger()), nullable=False),
        sa.Column("preferred_times", sa.ARRAY(sa.String(length=10)), nullable=False),
        sa.Column("preferred_place", sa.String(length=10), nullable=False),
        sa.Column("interpreter_language", sa.String(length=40), nullable=True),
        sa.Column("need", sa.Text(), nullable=False),
        sa.Column("consent_contact", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("close_reason", sa.String(length=500), nullable=True),
        sa.Column("assigned_to", sa.Uuid(), nullable=True),
        sa.Column("appointment_id", sa.Uuid(), nullable=True),
        sa.Column("handover_code", sa.String(length=32), nullable=True),
        sa.Column("first_contact_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_token_generation", sa.Integer(), nullable=False),
        sa.Column("status_token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "for_whom IN ('self_pupil','self_parent','other')",
            name=op.f("ck_meeting_requests_known_for_whom"),
        ),
        sa.CheckConstraint(
            "requester_relation IN ('brugfiguur','leerkracht','zorgcoordinator',"
            "'maatschappelijk_werker','andere')",
            name=op.f("ck_meeting_requests_known_relation"),
        ),
        sa.CheckConstraint(
            "for_whom <> 'other' OR (requester_relation IS NOT NULL "
            "AND requester_name IS NOT NULL AND consent_of_person)",
            name=op.f("ck_meeting_requests_other_has_consent"),
        ),
        sa.CheckConstraint(
            "phone IS NOT NULL OR email IS NOT NULL OR via_school OR via_bridge",
            name=op.f("ck_meeting_requests_reachable"),
        ),
        sa.CheckConstraint(
            "preferred_days <@ ARRAY[0,1,2,3,4]::smallint[]",
            name=op.f("ck_meeting_requests_known_preferred_days"),
        ),
        sa.CheckConstraint(
            "preferred_times <@ ARRAY['morning','afternoon','evening']::varchar[]",
            name=op.f("ck_meeting_requests_known_preferred_times"),
        ),
        sa.CheckConstraint(
            "preferred_place IN ('office','school','other')",
            name=op.f("ck_meeting_requests_known_place"),
        ),
        sa.CheckConstraint(
            f"status IN ({STATUSES})", name=op.f("ck_meeting_requests_known_status")
        ),
        sa.CheckConstraint("consent_contact", name=op.f("ck_meeting_requests_contact_consented")),
        sa.CheckConstraint(
            "status <> 'scheduled' OR appointment_id IS NOT NULL",
            name=op.f("ck_meeting_requests_scheduled"),
        ),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["centres.id"], name=op.f("fk_meeting_requests_centre_id_centres")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_meeting_requests_school_id_schools")
        ),
        sa.ForeignKeyConstraint(
            ["assigned_to"],
            ["staff_accounts.id"],
            name=op.f("fk_meeting_requests_assigned_to_staff_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_meeting_requests_appointment_id_appointments"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_requests")),
        sa.UniqueConstraint("reference", name=op.f("uq_meeting_requests_reference")),
        sa.UniqueConstraint(
            "status_token_hash", name=op.f("uq_meeting_requests_status_token_hash")
        ),
    )
    op.create_index(
        "ix_meeting_requests_centre_status",
        "meeting_requests",
        ["centre_id", "status"],
        unique=False,
    )
    op.create_table(
        "meeting_request_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("from_status", sa.String(length=12), nullable=True),
        sa.Column("to_status", sa.String(length=12), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.CheckConstraint(
            f"to_status IN ({STATUSES})", name=op.f("ck_meeting_request_events_known_to_status")
        ),
        sa.CheckConstraint(
            f"from_status IN ({STATUSES})",
            name=op.f("ck_meeting_request_events_known_from_status"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["meeting_requests.id"],
            name=op.f("fk_meeting_request_events_request_id_meeting_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["staff_accounts.id"],
            name=op.f("fk_meeting_request_events_actor_id_staff_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_request_events")),
    )
    op.create_index(
        op.f("ix_meeting_request_events_request_id"),
        "meeting_request_events",
        ["request_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_meeting_request_events_request_id"), table_name="meeting_request_events")
    op.drop_table("meeting_request_events")
    op.drop_index("ix_meeting_requests_centre_status", table_name="meeting_requests")
    op.drop_table("meeting_requests")
