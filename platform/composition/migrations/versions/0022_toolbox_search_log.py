"""the toolbox's search log: counts of queries without results or clicks

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 21:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Per day and normalised query: counts only, no person (toolbox.search_insights).
    op.create_table(
        "toolbox_search_log",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("query", sa.String(100), nullable=False),
        sa.Column("searches", sa.Integer(), nullable=False),
        sa.Column("zero_results", sa.Integer(), nullable=False),
        sa.Column("clicks", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "query", name=op.f("pk_toolbox_search_log")),
    )


def downgrade() -> None:
    op.drop_table("toolbox_search_log")
