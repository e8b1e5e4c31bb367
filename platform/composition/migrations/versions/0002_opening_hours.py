"""chat opening hours: weekly schedule, dated exceptions, the default schedule

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 12:00:00.000000
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# CLBCh@t's usual hours (Europe/Brussels): Mon, Tue, Thu 17:00–21:00 and Wed 14:00–21:00.
# Written out here rather than imported, so this migration never changes after the fact.
DEFAULT_WEEKLY_SCHEDULE = [
    (0, dt.time(17, 0), dt.time(21, 0)),
    (1, dt.time(17, 0), dt.time(21, 0)),
    (2, dt.time(14, 0), dt.time(21, 0)),
    (3, dt.time(17, 0), dt.time(21, 0)),
]


def upgrade() -> None:
    weekly = op.create_table(
        "chat_weekly_opening_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("opens_at", sa.Time(), nullable=False),
        sa.Column("closes_at", sa.Time(), nullable=False),
        sa.CheckConstraint(
            "weekday BETWEEN 0 AND 6",
            name=op.f("ck_chat_weekly_opening_periods_weekday_range"),
        ),
        sa.CheckConstraint(
            "opens_at < closes_at",
            name=op.f("ck_chat_weekly_opening_periods_opens_before_closes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_weekly_opening_periods")),
    )
    op.create_index(
        op.f("ix_chat_weekly_opening_periods_weekday"),
        "chat_weekly_opening_periods",
        ["weekday"],
        unique=False,
    )
    op.create_table(
        "chat_opening_exceptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("opens_at", sa.Time(), nullable=True),
        sa.Column("closes_at", sa.Time(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(opens_at IS NULL AND closes_at IS NULL) OR "
            "(opens_at IS NOT NULL AND closes_at IS NOT NULL AND opens_at < closes_at)",
            name=op.f("ck_chat_opening_exceptions_closed_or_valid_period"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_opening_exceptions")),
    )
    op.create_index(
        op.f("ix_chat_opening_exceptions_day"), "chat_opening_exceptions", ["day"], unique=False
    )
    op.bulk_insert(
        weekly,
        [
            {"weekday": weekday, "opens_at": opens_at, "closes_at": closes_at}
            for weekday, opens_at, closes_at in DEFAULT_WEEKLY_SCHEDULE
        ],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_chat_opening_exceptions_day"), table_name="chat_opening_exceptions")
    op.drop_table("chat_opening_exceptions")
    op.drop_index(
        op.f("ix_chat_weekly_opening_periods_weekday"), table_name="chat_weekly_opening_periods"
    )
    op.drop_table("chat_weekly_opening_periods")
