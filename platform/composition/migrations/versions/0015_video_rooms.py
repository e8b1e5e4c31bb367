"""Video rooms: each video appointment gets its own room on the video server; the one
fixed link per counsellor goes

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-14 10:00:00
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _room() -> str:
    # The same as scheduling.appointments.video_room.new_room (a migration stays frozen).
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=").lower()


def upgrade() -> None:
    op.add_column("appointments", sa.Column("video_room", sa.String(40), nullable=True))
    op.create_unique_constraint("uq_appointments_video_room", "appointments", ["video_room"])
    connection = op.get_bind()
    ids = connection.execute(
        sa.text("SELECT id FROM appointments WHERE mode = 'video' AND video_room IS NULL")
    ).scalars()
    for appointment_id in list(ids):
        connection.execute(
            sa.text("UPDATE appointments SET video_room = :room WHERE id = :id"),
            {"room": _room(), "id": appointment_id},
        )
    op.drop_column("booking_policies", "video_url")


def downgrade() -> None:
    op.add_column("booking_policies", sa.Column("video_url", sa.String(300), nullable=True))
    op.drop_constraint("uq_appointments_video_room", "appointments", type_="unique")
    op.drop_column("appointments", "video_room")
