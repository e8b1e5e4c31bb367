"""notifications for staff, with a setting per person and kind

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 21:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As clb.notifications.kinds.Kind (copied: a migration stays frozen).
KINDS = (
    "'booking_new', 'booking_moved', 'booking_cancelled', 'request_assigned', 'question_overdue'"
)


def upgrade() -> None:
    op.create_table(
        "staff_notifications",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "account_id",
            sa.Uuid(),
            sa.ForeignKey(
                "staff_accounts.id",
                ondelete="CASCADE",
                name="fk_staff_notifications_account_id_staff_accounts",
            ),
            nullable=False,
        ),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("params", postgresql.JSONB(), nullable=False),
        sa.Column("link", sa.String(300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(f"kind IN ({KINDS})", name="ck_staff_notifications_known_kind"),
        sa.CheckConstraint("link LIKE '/console/%'", name="ck_staff_notifications_console_link"),
        sa.PrimaryKeyConstraint("id", name="pk_staff_notifications"),
    )
    op.create_index(
        "ix_staff_notifications_account_created",
        "staff_notifications",
        ["account_id", "created_at"],
    )
    op.create_index(
        "ix_staff_notifications_unread",
        "staff_notifications",
        ["account_id"],
        postgresql_where=sa.text("read_at IS NULL"),
    )
    op.create_table(
        "staff_notification_prefs",
        sa.Column(
            "account_id",
            sa.Uuid(),
            sa.ForeignKey(
                "staff_accounts.id",
                ondelete="CASCADE",
                name="fk_staff_notification_prefs_account_id_staff_accounts",
            ),
            nullable=False,
        ),
        sa.Column("language", sa.String(5), nullable=False, server_default="nl"),
        sa.Column("choices", postgresql.JSONB(), nullable=False, server_default="{}"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "language IN ('nl', 'en')", name="ck_staff_notification_prefs_staff_language"
        ),
        sa.PrimaryKeyConstraint("account_id", name="pk_staff_notification_prefs"),
    )
    # The language a face-to-face request was filed in: its status messages use it.
    op.add_column(
        "meeting_requests",
        sa.Column("language", sa.String(5), nullable=False, server_default="nl"),
    )


def downgrade() -> None:
    op.drop_column("meeting_requests", "language")
    op.drop_table("staff_notification_prefs")
    op.drop_index("ix_staff_notifications_unread", table_name="staff_notifications")
    op.drop_index("ix_staff_notifications_account_created", table_name="staff_notifications")
    op.drop_table("staff_notifications")
