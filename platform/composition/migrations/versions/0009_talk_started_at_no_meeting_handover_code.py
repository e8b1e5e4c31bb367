"""Conversations: when the current counsellor took it (talk_started_at); meeting requests: no
handover code column

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 16:33:39.504347
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The time limit counts from the latest claim; until now that was the first claim.
    op.add_column("conversations", sa.Column("talk_started_at", sa.DateTime(timezone=True)))
    op.execute("UPDATE conversations SET talk_started_at = claimed_at")
    # Never written since handover codes live (hashed) on the chat's outcome.
    op.drop_column("meeting_requests", "handover_code")


def downgrade() -> None:
    op.add_column("meeting_requests", sa.Column("handover_code", sa.String(length=32)))
    op.drop_column("conversations", "talk_started_at")
