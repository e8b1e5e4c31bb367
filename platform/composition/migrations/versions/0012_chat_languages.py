"""Chat in another language: the conversation's language and the languages each chat
staff member speaks besides Dutch

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "conversations",
        sa.Column("language", sa.String(length=5), nullable=False, server_default="nl"),
    )
    op.add_column(
        "chat_staff",
        sa.Column(
            "languages",
            postgresql.ARRAY(sa.String(length=5)),
            nullable=False,
            server_default="{}",
        ),
    )


def downgrade() -> None:
    op.drop_column("chat_staff", "languages")
    op.drop_column("conversations", "language")
