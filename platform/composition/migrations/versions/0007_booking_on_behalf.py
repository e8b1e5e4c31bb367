"""booking on someone's behalf; handover from chat

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RELATIONS = "'brugfiguur','leerkracht','zorgcoordinator','maatschappelijk_werker','andere'"


def upgrade() -> None:
    op.add_column("appointments", sa.Column("booked_for_relation", sa.String(30), nullable=True))
    op.add_column("appointments", sa.Column("booker_name", sa.String(120), nullable=True))
    op.add_column("appointments", sa.Column("booker_email", sa.String(254), nullable=True))
    op.add_column("appointments", sa.Column("booker_phone", sa.String(20), nullable=True))
    # No foreign key: the conversation may be purged by chat retention while the
    # appointment (and the fact that it came from a chat) stays.
    op.add_column("appointments", sa.Column("handover_conversation_id", sa.Uuid(), nullable=True))
    op.create_check_constraint(
        op.f("ck_appointments_known_booked_for_relation"),
        "appointments",
        f"booked_for_relation IN ({RELATIONS})",
    )
    op.create_check_constraint(
        op.f("ck_appointments_booker_named"),
        "appointments",
        "booked_for_relation IS NULL OR (booker_name IS NOT NULL "
        "AND (booker_email IS NOT NULL OR booker_phone IS NOT NULL))",
    )
    op.add_column(
        "meeting_requests", sa.Column("handover_conversation_id", sa.Uuid(), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("meeting_requests", "handover_conversation_id")
    op.drop_constraint(op.f("ck_appointments_booker_named"), "appointments", type_="check")
    op.drop_constraint(
        op.f("ck_appointments_known_booked_for_relation"), "appointments", type_="check"
    )
    op.drop_column("appointments", "handover_conversation_id")
    op.drop_column("appointments", "booker_phone")
    op.drop_column("appointments", "booker_email")
    op.drop_column("appointments", "booker_name")
    op.drop_column("appointments", "booked_for_relation")
