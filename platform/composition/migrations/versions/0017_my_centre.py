"""Mijn CLB: what the school and CLB import needs

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 21:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The number of a centre or school in the education department's lists: a re-import
# (clb.org.school_lists) finds the row by it. Nullable: rows added by hand have none.
TABLES = ("centres", "schools")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("institution_number", sa.String(10), nullable=True))
        op.create_unique_constraint(f"uq_{table}_institution_number", table, ["institution_number"])


def downgrade() -> None:
    for table in TABLES:
        op.drop_constraint(f"uq_{table}_institution_number", table, type_="unique")
        op.drop_column(table, "institution_number")
