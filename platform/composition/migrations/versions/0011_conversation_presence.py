"""Conversations: when the visitor first connected (joined_at) and whether they left on
purpose during the chat (visitor_left_at)

Revision ID: 0011
Revises: 0010_centre_read_along
Create Date: 2026-12-05 04:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010_centre_read_along"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("conversations", sa.Column("joined_at", sa.DateTime(timezone=True)))
    op.add_column("conversations", sa.Column("visitor_left_at", sa.DateTime(timezone=True)))
    # Chats from before presence was known: take them as joined when they were created.
    op.execute("UPDATE conversations SET joined_at = created_at")


def downgrade() -> None:
    op.drop_column("conversations", "visitor_left_at")
    op.drop_column("conversations", "joined_at")
