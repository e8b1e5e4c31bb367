"""Centres: whether coordinators may read along with the chats the centre's counsellors hold
(off for every centre until an administrator turns it on)

Revision ID: 0010_centre_read_along
Revises: 0009
Create Date: 2026-12-05 04:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_centre_read_along"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "centres",
        sa.Column("chat_read_along", sa.Boolean(), server_default="false", nullable=False),
    )


def downgrade() -> None:
    op.drop_column("centres", "chat_read_along")
